"""One segmenter configuration: filled from the model card where it leaves a value to the model,
checked when made, and followed by any predictor (a Keras twin in training and the gate as much
as the device's LiteRT model), test-time averaging included."""

import dataclasses
import json
import math
import re

import numpy as np
import pytest

from edge_runtime.contract.model_card import ModelCard
from edge_runtime.contract.schema import encode
from edge_runtime.contract.segmenter_config import STRIDE_SHARE, SegmenterConfig
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.pipeline.segmenter import Segmenter

CARD = ModelCard(threshold=0.42, channel="green", fov_diameter=500.0, patch_size=64)


def test_resolved_takes_what_it_leaves_to_the_model_from_the_card():
    assert SegmenterConfig().resolved(CARD) == SegmenterConfig(
        threshold=0.42, channel="green", fov_diameter=500.0, stride=round(64 * STRIDE_SHARE)
    )
    given = SegmenterConfig(threshold=0.3, channel="luma", fov_diameter=300, stride=20, tta="flip")
    assert given.resolved(CARD) == given
    assert given.resolved(CARD).resolved(ModelCard()) == given  # resolved once, for good


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"threshold": 0.0}, "got threshold 0.0, expected 0.01..0.99"),
        ({"threshold": math.nan}, "got threshold nan, expected"),
        ({"channel": "red"}, "got channel 'red', expected one of luma, green"),
        ({"fov_diameter": 10}, "got fov_diameter 10, expected 64..4096"),
        ({"stride": 0}, "got stride 0, expected at least 1"),
        ({"tta": "twice"}, "got tta 'twice', expected one of off, flip, dihedral"),
        # of the wrong type: once a TypeError at the first photograph, or stride True taken as 1
        ({"stride": 2.5}, "got stride 2.5, expected an integer"),
        ({"stride": True}, "got stride True, expected an integer"),
        ({"stride": math.nan}, "got stride nan, expected an integer"),
        ({"threshold": "0.5"}, "got threshold '0.5', expected a number"),
        ({"fov_diameter": "540"}, "got fov_diameter '540', expected a number"),
        ({"tta": ["flip"]}, "got tta ['flip'], expected a name"),
    ],
)
def test_a_value_out_of_its_range_is_refused_when_the_config_is_made(values, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        SegmenterConfig(**values)


def test_a_stride_beyond_the_tile_is_refused_against_the_card():
    with pytest.raises(ValueError, match=r"got stride 65, expected 1\.\.64"):
        SegmenterConfig(stride=65).resolved(CARD)


@dataclasses.dataclass(frozen=True)
class Ramp:
    """A predictor that is not a model file: every patch gets the same left-to-right ramp of
    probabilities, from 0 to ``top``."""

    top: float = 0.8
    card: ModelCard = dataclasses.field(default_factory=ModelCard)

    @property
    def side(self) -> int:
        return self.card.patch_size

    def predict(self, patches: np.ndarray) -> np.ndarray:
        ramp = np.linspace(0, self.top, self.side, dtype=np.float32)
        return np.broadcast_to(ramp, (len(patches), self.side, self.side)).copy()


def test_any_predictor_decides_by_the_config_it_is_given():
    """The threshold given with a predictor that is not a model file is the one its masks are
    made at (it was silently replaced by the predictor's own)."""
    photo = synthetic_fundus(200, 220)
    low = Segmenter(Ramp(top=0.4), SegmenterConfig(threshold=0.3)).segment(photo)
    high = Segmenter(Ramp(top=0.4), SegmenterConfig(threshold=0.6)).segment(photo)
    assert low.threshold == 0.3 and high.threshold == 0.6
    assert low.mask.any() and not high.mask.any()
    segmenter = Segmenter(Ramp())
    assert segmenter.threshold == ModelCard().threshold and segmenter.runtime is None
    assert segmenter.model_name == "Ramp"


def test_test_time_averaging_is_the_segmenters_for_any_predictor():
    """``tta`` averages any predictor's probabilities over the flipped tiles (a Keras twin's
    too: its own ``tta`` field was never read)."""
    patches = np.zeros((3, 64, 64, 1), np.float32)
    plain = Segmenter(Ramp()).patch_probabilities(patches)
    flipped = Segmenter(Ramp(), SegmenterConfig(tta="flip")).patch_probabilities(patches)
    np.testing.assert_allclose(flipped, (plain + plain[..., ::-1]) / 2, atol=1e-6)
    assert not np.allclose(flipped, plain)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"model": 123}, "got model 123, expected a .tflite path, RuntimeOptions or a predictor"),
        ({"config": {"threshold": 0.5}}, "got config {'threshold': 0.5}, expected a SegmenterC"),
    ],
)
def test_a_segmenter_of_the_wrong_things_says_which(arguments, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        Segmenter(**arguments)


def test_the_default_stride_and_the_bounds_by_their_values():
    """The tests above derive the stride from STRIDE_SHARE, which they could not catch
    changing; abutting tiles are allowed, a threshold of 0.995 or more is not."""
    card = ModelCard(patch_size=64)
    assert SegmenterConfig().resolved(card).stride == 52
    assert SegmenterConfig(stride=64).resolved(card).stride == 64
    for values in ({"threshold": 0.995}, {"threshold": 1.0}, {"fov_diameter": 4097}):
        with pytest.raises(ValueError, match="expected"):
            SegmenterConfig(**values)
    assert SegmenterConfig(threshold=0.99).threshold == 0.99
    assert SegmenterConfig(fov_diameter=4096).fov_diameter == 4096


def test_a_numpy_threshold_is_resolved_to_a_python_float():
    """resolved() turns any real threshold (a numpy float32) into a float that JSON can write."""
    resolved = SegmenterConfig(threshold=np.float32(0.25)).resolved(ModelCard())
    assert type(resolved.threshold) is float and resolved.threshold == 0.25
    assert json.loads(json.dumps(encode(resolved)))["threshold"] == 0.25


def test_the_default_stride_is_the_share_of_the_tile_rounded_to_nearest():
    """The default stride is round(side * 52/64), to the nearest pixel, not truncated."""
    assert SegmenterConfig().resolved(ModelCard(patch_size=22)).stride == 18  # 17.875
    assert SegmenterConfig().resolved(ModelCard(patch_size=64)).stride == 52
