"""PVBM's measurements of vessel maps: the reference side of ``measure_reference.py``.

Runs in a Python that has PVBM (``pip install pvbm``, which brings scikit-image, SciPy, OpenCV
and PyTorch; keep it in a virtual environment of its own) and reads nothing of this project.
Input: a JSON file holding a list of jobs, each ``{"name", "vessels": "x.npy"}`` with, for an
artery/vein map, ``"arteries"``, ``"veins"`` (.npy boolean maps) and ``"disc"``:
``[center_x, center_y, diameter_px]``. Output: one JSON line per job.

    /path/to/pvbm-python benchmarks/pvbm_reference.py jobs.json

What is computed, with PVBM 3's own functions on scikit-image's skeleton of each map:
``area`` (vessel pixels), ``length`` (the skeleton's length, compute_perimeter_), ``end_points``
and ``branch_points`` (compute_particular_points: pixels with one neighbour; pixels with three
or more, grouped here into touching clusters, one per branch point), ``tortuosity_median`` and
``tortuosity_index`` (compute_tortuosity: arc over chord of the pieces between those points
longer than 10 pixels; their median, and total arc over total chord), ``d0``, ``d1``, ``d2``
(MultifractalVBMs without rotations nor box filtering, PVBM's box sizes: ``box_sizes``) and
``d0_default`` (its recommended settings: 25 rotations, boxes 0.01 % to 99.99 % full), and for
an artery/vein map ``crae``, ``crve`` (CREVBMs, Knudtson's formula; -1 when it finds none) on
the ring from the disc's margin to 1 disc diameter beyond it.
"""

import contextlib
import json
import sys
import warnings

import numpy as np
from scipy import ndimage
from skimage.morphology import skeletonize

warnings.simplefilter("ignore")  # PVBM's deprecation warnings
sys.setrecursionlimit(100_000)  # its CRE tracing recurses along vessels

from PVBM.CentralRetinalAnalysis import CREVBMs  # noqa: E402
from PVBM.FractalAnalysis import MultifractalVBMs  # noqa: E402
from PVBM.GeometricalAnalysis import GeometricalVBMs  # noqa: E402
from PVBM.helpers.perimeter import compute_perimeter_  # noqa: E402


def box_sizes(shape) -> list[int]:
    """The box sides PVBM fits: 20 from 5 pixels to 0.6 of the short side."""
    return [int(s) for s in np.linspace(5, int(0.6 * min(shape)), 20).astype(np.int64)]


def _vessel_measures(vessels: np.ndarray) -> dict:
    skeleton = skeletonize(vessels).astype(np.uint8)
    geometry = GeometricalVBMs()
    ends, _, _, crossings = geometry.compute_particular_points(skeleton)
    _, branch_points = ndimage.label(crossings, structure=np.ones((3, 3)))
    median, _, chord, arc, _ = geometry.compute_tortuosity_length(skeleton.copy())
    length, _ = compute_perimeter_(skeleton.copy())
    plain = MultifractalVBMs(n_rotations=1, optimize=False, min_proba=0.0, maxproba=1.0)
    d0, d1, d2, _ = plain.compute_multifractals(vessels.astype(float))
    default = MultifractalVBMs(n_rotations=25, optimize=True, min_proba=0.0001, maxproba=0.9999)
    return {
        "area": int(vessels.sum()),
        "length": float(length),
        "end_points": int(ends),
        "branch_points": int(branch_points),
        "tortuosity_median": float(median),
        "tortuosity_index": float(np.sum(arc) / np.sum(chord)),
        "d0": float(d0),
        "d1": float(d1),
        "d2": float(d2),
        "d0_default": float(default.compute_multifractals(vessels.astype(float))[0]),
    }


def _equivalent(vessels: np.ndarray, disc: list[float], artery: bool) -> float:
    center_x, center_y, diameter = disc
    height, width = vessels.shape
    ys, xs = np.ogrid[:height, :width]
    radius = np.hypot(ys - center_y, xs - center_x)
    zones = np.zeros((height, width, 3), dtype=np.uint8)
    zones[..., 0] = (radius <= diameter / 2) * 255  # inside the disc: left out
    zones[..., 2] = (radius <= 1.5 * diameter) * 255  # out to zone B's outer edge
    cre = CREVBMs()
    skeleton = skeletonize(vessels).astype(float)
    segmentation, skeleton = cre.apply_roi(vessels.astype(float), skeleton, zones)
    found, _ = cre.compute_central_retinal_equivalents(
        segmentation, skeleton, int(center_x), int(center_y), int(diameter / 2), artery=artery
    )
    return float(found["craek" if artery else "crvek"])


def main(jobs_file: str) -> None:
    with open(jobs_file, encoding="utf-8") as f:
        jobs = json.load(f)
    out = sys.stdout
    for job in jobs:
        with contextlib.redirect_stdout(sys.stderr):  # PVBM prints as it goes
            record = {"name": job["name"], **_vessel_measures(np.load(job["vessels"]))}
            if job.get("disc"):
                record["crae"] = _equivalent(np.load(job["arteries"]), job["disc"], True)
                record["crve"] = _equivalent(np.load(job["veins"]), job["disc"], False)
        print(json.dumps(record), file=out, flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
