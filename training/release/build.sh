#!/usr/bin/env bash
# Rebuild the release model from the data, as it was made (about 12 minutes on 2 CPU cores):
# train the teacher (recipe v1-teacher), distil the release model from it (recipe v1), convert
# to int8 behind the Dice gate, and write the gate's report. The same machine and seed give the
# same weights. With EDGE_SEG_SIGNING_KEY (the release private key, kept off the repository and
# the cameras: firmware_notes/model-updates.md), the model is signed too.
# Usage: training/release/build.sh [DATA.npz] [RUN_DIR]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$repo/../shared/data/retinal_vessel_dev.npz}
run=${2:-$repo/runs/release-v1}

edge-seg train "$data" --recipe v1-teacher --out "$run/teacher" --overwrite
edge-seg train "$data" --recipe v1 --teacher "$run/teacher/model.keras" --out "$run" --overwrite
edge-seg convert "$run/model.keras" --calibration "$data" --check-data "$data" --check-holdout 0.2 \
  --model-version 1.0.0-rc2 -o "$run/vessels_int8.tflite"
edge-seg check --keras "$run/model.keras" --tflite "$run/vessels_int8.tflite" --data "$data" \
  --images x_train --labels y_train --holdout 0.2 --report "$run/gate-report"
if [[ -n "${EDGE_SEG_SIGNING_KEY:-}" ]]; then
  edge-seg sign "$run/vessels_int8.tflite" --key "$EDGE_SEG_SIGNING_KEY"
else
  echo "not signed: set EDGE_SEG_SIGNING_KEY to the release private key" >&2
fi
echo "to ship: cp $run/{model.keras,metrics.json,config.json,history.png} $repo/training/release/"
echo "         cp $run/vessels_int8.tflite* $repo/edge_runtime/models/"
