"""Our skeleton and box-counting dimensions against scikit-image's (the ``demo`` extra), on
synthetic vessel maps and, when the reference data is present, on manual labels.

Tolerances, measured on the synthetic maps and the labelled maps of the shared data:

- skeleton length: scikit-image's skeleton keeps two-pixel staircases on diagonal runs that
  would measure long, so it is first made minimal the way ours is, then both are measured the
  same way: within :data:`LENGTH_TOLERANCE` (measured: ours 0.4-2.2 % shorter, its thinning
  keeping a little more at line ends);
- centre lines: nearly every pixel of ours (:data:`NEAR_SHARE`) within one pixel of one of
  its;
- D0, D1, D2: box counts from ``skimage.measure.block_reduce``, fitted the same way: equal.
"""

import numpy as np
import pytest

from edge_runtime.evaluation.synthetic import synthetic_fundus, synthetic_label
from edge_runtime.measure.fractal import box_sizes, fractal_dimensions
from edge_runtime.measure.graph import skeleton_graph
from edge_runtime.measure.labelled import labelled_maps
from edge_runtime.measure.maps import read_map
from edge_runtime.measure.measurements import trace
from edge_runtime.measure.skeleton import minimal

skimage_morphology = pytest.importorskip(
    "skimage.morphology", reason="the reference is scikit-image's (pip install '.[demo]')"
)
from skimage.measure import block_reduce  # noqa: E402

LENGTH_TOLERANCE = 0.03
NEAR_SHARE = 0.98


def synthetic_maps() -> list[np.ndarray]:
    return [synthetic_label(synthetic_fundus(584, 565, seed=seed)) for seed in range(3)]


def check_against_skimage(vessels: np.ndarray) -> None:
    traced = trace(vessels)
    reference = skimage_morphology.skeletonize(vessels)
    length = skeleton_graph(minimal(reference)).length
    assert traced.graph.length == pytest.approx(length, rel=LENGTH_TOLERANCE)
    near = skimage_morphology.dilation(reference, np.ones((3, 3), dtype=bool))
    assert near[traced.skeleton].mean() >= NEAR_SHARE
    sizes = box_sizes(vessels.shape)
    masses = [block_reduce(vessels.astype(np.int64), (s, s), np.sum) for s in sizes]
    shares = [m[m > 0] / vessels.sum() for m in masses]
    logs = -np.log(sizes)
    d0 = np.polyfit(logs, [np.log(len(p)) for p in shares], 1)[0]
    d1 = np.polyfit(logs, [-(p * np.log(p)).sum() for p in shares], 1)[0]
    d2 = np.polyfit(logs, [-np.log((p**2).sum()) for p in shares], 1)[0]
    found = fractal_dimensions(vessels)
    assert (found.d0, found.d1, found.d2) == pytest.approx((d0, d1, d2), abs=1e-9)


@pytest.mark.parametrize("index", range(3))
def test_synthetic_maps_agree_with_skimage(index):
    check_against_skimage(synthetic_maps()[index])


def test_manual_labels_agree_with_skimage(dev_npz):
    for item in labelled_maps(dev_npz.parent, ("drive", "stare"))[::8]:
        check_against_skimage(read_map(item.label).vessels)
