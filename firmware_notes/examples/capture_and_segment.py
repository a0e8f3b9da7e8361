"""Capture a frame and segment its vessels on the device; run with the device's Python.

    python capture_and_segment.py [OUTDIR]

On a Raspberry Pi with a camera module, the frame comes from picamera2 (Raspberry Pi OS ships
it: `sudo apt install python3-picamera2`, and create the venv with --system-site-packages).
Anywhere else, any (H, W, 3) uint8 array will do: here, a synthetic fundus-like frame.
"""

import sys
from pathlib import Path

import numpy as np

from edge_runtime import RuntimeOptions, Segmenter
from edge_runtime.app.outputs import Extras, output_paths, write_outputs
from edge_runtime.pipeline.decode import photo_from_array


def capture_frame() -> np.ndarray:
    """One RGB frame: from the Pi camera when picamera2 is there, else a synthetic one."""
    try:
        from picamera2 import Picamera2
    except ImportError:
        from edge_runtime.evaluation.synthetic import synthetic_fundus

        return synthetic_fundus(584, 565)
    camera = Picamera2()
    # picamera2's "BGR888" arrays are [R, G, B] (its "RGB888" is [B, G, R]): the runtime reads RGB
    camera.configure(camera.create_still_configuration(main={"format": "BGR888"}))
    camera.start()
    try:
        return camera.capture_array()
    finally:
        camera.stop()


def main(outdir: Path) -> None:
    segmenter = Segmenter(RuntimeOptions(threads=2))  # the bundled model; or RuntimeOptions(FILE)
    frame = photo_from_array(capture_frame())
    result = segmenter.segment(frame)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = output_paths(outdir, "frame")
    # as segment's maps: which models and settings drew them, and the frame's verdict (measure
    # reads both back, so a map stays told after a model update, and a frame to retake is known)
    verdict = result.verdict.record()
    write_outputs(paths, frame, result, Extras(overlay=True), segmenter.provenance, verdict)
    stats = result.stats
    print(
        f"vessels cover {stats.vessel_fraction:.1%} of the field of view "
        f"({stats.tiles} tiles, {stats.ms['total']:.0f} ms), {verdict.summary()}; "
        f"mask: {paths.mask}"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "segmented"))
