"""How a segmenter turns a photograph into a mask, defined once for the device, training, the
gate and ``--jobs`` workers: the decision threshold, the grayscale channel, the working size, the
tile stride and test-time averaging.

A field left ``None`` is the model's to decide: :meth:`SegmenterConfig.resolved` fills it from
the model card, so that the configuration a segmenter holds is the one in effect, and a copy of
it (in a worker process, or for a Keras twin in the gate) decides alike.
"""

import dataclasses
from dataclasses import dataclass
from numbers import Integral, Real

from edge_runtime.contract.metrics import THRESHOLD_RANGE
from edge_runtime.contract.model_card import FOV_DIAMETER_RANGE, ModelCard
from edge_runtime.contract.preprocessing import CHANNELS
from edge_runtime.contract.schema import check_type
from edge_runtime.contract.symmetry import TTA_MODES

STRIDE_SHARE = 52 / 64
"""Tile stride as a share of the tile side: 52 pixels for 64-pixel tiles, which then overlap by
12 (1.5x tile redundancy). Chosen by measurement (benchmarks/stride.py, on holdout strips the
model never saw): overlap lifts the stitched Dice by about 0.005 over abutting tiles, and denser
strides add nothing more."""


TYPES = {"threshold": Real, "channel": str, "fov_diameter": Real, "stride": Integral, "tta": str}
"""The type of each setting (``None`` aside: left to the model)."""


@dataclass(frozen=True)
class SegmenterConfig:
    """What a segmenter decides with; ``None`` for the model card's value.

    Attributes:
        threshold: decision threshold, in
            :data:`~edge_runtime.contract.metrics.THRESHOLD_RANGE`.
        channel: grayscale conversion, one of
            :data:`~edge_runtime.contract.preprocessing.CHANNELS`.
        fov_diameter: field-of-view diameter in pixels of the photographs the model was trained
            on; photographs are resized to match.
        stride: tile stride in pixels of the resized photograph (at most the tile side);
            ``None`` for :data:`STRIDE_SHARE` of the tile side.
        tta: test-time averaging, a key of :data:`~edge_runtime.contract.symmetry.TTA_MODES`:
            the probabilities are averaged over flipped/rotated copies of each tile (``flip``
            costs two model runs per tile, ``dihedral`` eight; benchmarks/tta.py measures what
            they buy).

    Raises:
        ValueError: a value is out of its range or not of its type (the message names it).
    """

    threshold: float | None = None
    channel: str | None = None
    fov_diameter: float | None = None
    stride: int | None = None
    tta: str = "off"

    def __post_init__(self):
        for name, kind in TYPES.items():
            value = getattr(self, name)
            check_type(name, value, kind)
            if isinstance(value, Real) and type(value) not in (int, float):
                # numpy's numbers as Python's: what the provenance writes as JSON
                object.__setattr__(self, name, int(value) if kind is Integral else float(value))
        low, high = THRESHOLD_RANGE
        if self.threshold is not None and not low <= self.threshold <= high:  # False for NaN
            raise ValueError(f"got threshold {self.threshold}, expected {low}..{high}")
        if self.channel is not None and self.channel not in CHANNELS:
            raise ValueError(f"got channel {self.channel!r}, expected one of {', '.join(CHANNELS)}")
        low, high = FOV_DIAMETER_RANGE
        if self.fov_diameter is not None and not low <= self.fov_diameter <= high:
            raise ValueError(f"got fov_diameter {self.fov_diameter}, expected {low:g}..{high:g}")
        if self.stride is not None and self.stride < 1:
            raise ValueError(f"got stride {self.stride}, expected at least 1")
        if self.tta not in TTA_MODES:
            raise ValueError(f"got tta {self.tta!r}, expected one of {', '.join(TTA_MODES)}")

    def resolved(self, card: ModelCard) -> "SegmenterConfig":
        """This configuration with every value it leaves to the model taken from ``card``.

        Raises:
            ValueError: the stride is larger than the card's tile side.
        """
        side = card.patch_size
        stride = round(side * STRIDE_SHARE) if self.stride is None else self.stride
        if stride > side:
            raise ValueError(f"got stride {stride}, expected 1..{side}")
        return dataclasses.replace(
            self,
            threshold=card.threshold if self.threshold is None else float(self.threshold),
            channel=card.channel if self.channel is None else self.channel,
            fov_diameter=card.fov_diameter if self.fov_diameter is None else self.fov_diameter,
            stride=stride,
        )


DEFAULT_CONFIG = SegmenterConfig()
"""Every decision the model card's, no test-time averaging."""
