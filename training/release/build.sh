#!/usr/bin/env bash
# Rebuild the release vessel model from the data, trained as it was made (about 7 minutes on 2
# CPU cores): train recipe v2 on the photographs of both cameras (DRIVE and STARE; a fifth of each
# held out to choose the epoch and threshold), convert to int8 behind the gate on those held-out
# photographs (through the device's pipeline), and write the gate's report. The same machine
# and seed give the same weights (training/release/model.keras). This checkout converts them
# pixel-shuffled (the same map, faster on an AMX Xeon): the next release's candidate, 1.2.0-dev; the
# bundled 1.1.0 file, converted with transposed convolutions, is rebuilt by release 1.1.0's
# own checkout (git worktree add ../release-1.1.0 3a0ef90). With EDGE_SEG_SIGNING_KEY (the
# release private key, kept off the repository and the cameras: firmware_notes/model-updates.md),
# the model is signed too.
# Usage: training/release/build.sh [DATA_DIR] [RUN_DIR]   (DATA_DIR holds drive/ and stare/)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$repo/../shared/data}
run=${2:-$repo/runs/release-v2}
version=1.2.0-dev
floor=0.78 # the held-out photographs' mean F1 the model must reach (1.1.0: 0.826)

# the previous build's model, signature and report go first: a gate that fails (convert writes
# nothing then) must not leave them, signed and passed, beside the new run as if its own
rm -rf "$run/vessels_int8.tflite" "$run/vessels_int8.tflite.sig" "$run/gate-report"
edge-seg train "$data/drive" "$data/stare" --recipe v2 --out "$run" --overwrite
edge-seg convert "$run/model.keras" --calibration "$data/drive" \
  --check-data "$data/drive" --check-data "$data/stare" --check-holdout 0.2 --min-dice "$floor" \
  --model-version "$version" -o "$run/vessels_int8.tflite" --overwrite
edge-seg check --keras "$run/model.keras" --tflite "$run/vessels_int8.tflite" \
  --data "$data/drive" --data "$data/stare" --holdout 0.2 --min-dice "$floor" \
  --report "$run/gate-report"
if [[ -n "${EDGE_SEG_SIGNING_KEY:-}" ]]; then
  edge-seg sign "$run/vessels_int8.tflite" --key "$EDGE_SEG_SIGNING_KEY"
else
  echo "not signed: set EDGE_SEG_SIGNING_KEY to the release private key" >&2
fi
echo "to ship: cp $run/{model.keras,metrics.json,config.json,history.png} $repo/training/release/"
echo "         cp $run/vessels_int8.tflite* $repo/edge_runtime/models/   (a release: set version first)"
