"""Segmenting, the verdict and the measurements stay out of numpy's C++ hash ``np.unique``,
where a daemon thread stopped at exit aborted the process; what they call instead
(:mod:`edge_runtime.ordered`) gives numpy's values."""

import numpy as np
import numpy.lib._arraysetops_impl as arraysetops
import pytest
from PIL import Image

from edge_runtime import ArteryVeinModel, CameraScale, Segmenter
from edge_runtime.data.binary_image import as_binary
from edge_runtime.ordered import distinct, percentiles
from edge_runtime.pipeline.grayscale import to_grayscale


@pytest.fixture(scope="module")
def photo():
    data = pytest.importorskip(
        "skimage.data", reason="the real photograph ships with scikit-image (the 'demo' extra)"
    )
    return np.asarray(Image.fromarray(data.retina()).resize((480, 480), Image.Resampling.BOX))


def test_the_runtime_never_enters_numpys_hash_unique(monkeypatch, photo, tmp_path):
    """Python before 3.14 stops a daemon thread still running at exit wherever it stands
    (python/cpython#87135); one inside numpy's C++ hash unique (numpy 2.3 on) aborted the
    process ("terminate called without an active exception": 6 exits in 2,400 while a daemon
    thread segmented). The field of view's detection (np.union1d, np.percentile), the
    sharpness (np.union1d) and the reading of a map to measure (np.unique) entered it."""
    if not hasattr(arraysetops, "_unique_hash"):
        pytest.skip("numpy before 2.3 has no C++ hash unique")
    entered = []

    def refused(values, **kwargs):
        entered.append(values.dtype)
        raise AssertionError("numpy's C++ hash unique entered")

    monkeypatch.setattr(arraysetops, "_unique_hash", refused)
    with pytest.raises(AssertionError, match="hash unique entered"):
        np.union1d([2], [1])  # the entry point is numpy's, and refused
    entered.clear()
    result = Segmenter(artery_vein=ArteryVeinModel()).segment(photo)
    assert result.stats.fov_found and result.verdict.summary()
    assert result.measurements.vessels.d0 > 1
    assert result.measure(CameraScale(field_degrees=45)).vessels.length_mm > 0
    colours = np.zeros((*result.mask.shape, 3), np.uint8)
    colours[result.artery_vein == 1, 0] = colours[result.artery_vein == 2, 2] = 255
    assert as_binary(colours, tmp_path / "map.png", "vessel map").any()
    assert as_binary(result.mask * 255, tmp_path / "map.png", "vessel map").any()
    assert not entered


def test_distinct_values_and_percentiles_are_numpys(photo):
    """The same values, exactly, as np.unique and np.percentile: on the photograph's grayscale
    (what the field of view's detection reads) and on arrays of other sizes and dtypes."""
    rng = np.random.default_rng(0)
    arrays = [to_grayscale(photo), photo, photo[:1, :1]]
    arrays += [(rng.random(n) * 300).astype(t) for n in (2, 3, 77) for t in (np.float32, np.uint8)]
    # half way between two ranks, numpy reaches the value from above: low + half the step is
    # another float32 here (0.50973696 against 0.5097369)
    arrays += [np.array([0.07889238, 0.94058144], np.float32)]
    for values in arrays:
        for percents in [(1, 99), (0, 50, 100), (37.3,)]:
            expected = np.percentile(values, percents)
            found = percentiles(values, percents)
            assert found.dtype == expected.dtype and np.array_equal(found, expected)
        assert np.array_equal(distinct(values), np.unique(values))
        assert distinct(values).dtype == values.dtype


def test_a_maps_colours_are_counted_by_all_three_channels():
    """A map's colours that differ in blue alone are as many colours (a photograph of 17 such
    shades is no map), read without numpy's hash unique."""
    from edge_runtime.data.binary_image import MAX_LEVELS, levels

    shades = np.zeros((1, MAX_LEVELS + 1, 3), np.uint8)
    shades[..., 2] = np.arange(MAX_LEVELS + 1)
    assert levels(shades) == MAX_LEVELS + 1 == levels(shades[..., ::-1])
