#!/usr/bin/env bash
# Rebuild the bundled artery/vein model from the data, as it was made (about 12 minutes of
# training and 2 of conversion on 2 CPU cores): train on the photographs of the three cameras
# with artery/vein labels (DRIVE's RITE labels, GAVE, LES-AV), each segmented by the bundled
# vessel model, then convert to int8 behind the artery/vein gate (int8 against its float twin,
# both run as on the device, on those photographs). The same machine and seed give the same
# weights. With EDGE_SEG_SIGNING_KEY (the release private key: firmware_notes/model-updates.md),
# the model is signed too. How well it does on cameras it never saw is measured by training
# without each camera in turn (firmware_notes/ARTERY_VEIN.md).
# Usage: training/release/build_artery_vein.sh [DATA_DIR] [RUN_DIR]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$repo/../shared/data}
run=${2:-$repo/runs/release-artery-vein}
version=1.2.0-dev

# the previous build's model and signature go first: a gate that fails (convert writes
# nothing then) must not leave them, signed and passed, beside the new run as if its own
rm -rf "$run/artery_vein_int8.tflite" "$run/artery_vein_int8.tflite.sig"
edge-seg train-artery-vein "$data/drive" "$data/gave" "$data/les-av" --out "$run" --overwrite
edge-seg convert-artery-vein "$run/model.keras" \
  --data "$data/drive" --data "$data/gave" --data "$data/les-av" \
  --model-version "$version" -o "$run/artery_vein_int8.tflite" --overwrite
if [[ -n "${EDGE_SEG_SIGNING_KEY:-}" ]]; then
  edge-seg sign "$run/artery_vein_int8.tflite" --key "$EDGE_SEG_SIGNING_KEY"
else
  echo "not signed: set EDGE_SEG_SIGNING_KEY to the release private key" >&2
fi
echo "to ship: cp $run/{model.keras,artery_vein.json} $repo/training/release/artery_vein/"
echo "         cp $run/artery_vein_int8.tflite* $repo/edge_runtime/models/"
