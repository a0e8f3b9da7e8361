"""The quantization gate's limits and verdict: what ``check`` prints, ``convert`` enforces and a
model card embeds (as :meth:`GateReport.summary`)."""

import dataclasses
from dataclasses import dataclass, field
from pathlib import PurePath

from edge_runtime.contract.schema import bounded, choice
from edge_runtime.errors import counted, one_line

UNITS = {"patches": "patch", "photographs": "photograph"}
"""What a gate's images are (labelled patches of an .npz file, or whole photographs), and one
of them."""


@dataclass(frozen=True)
class Gates:
    """Limits a converted model must hold; ``None`` disables a limit.

    Two kinds: regression limits (the LiteRT model may not score worse than its Keras twin by
    more than ``max_mean_drop`` on average or ``max_image_drop`` on any image, nor below
    ``min_dice``), and fidelity limits, which certify that the LiteRT file reproduces the twin it
    is checked against: its masks agree on at least ``min_pixel_agreement`` of the pixels, and
    it does not score better by more than ``max_mean_gain`` (a conversion does not improve a
    model by that much; a different model does).
    """

    max_mean_drop: float | None = bounded(0.005, 0, 1)
    max_image_drop: float | None = bounded(0.05, 0, 1)
    min_pixel_agreement: float | None = bounded(0.99, 0, 1)
    max_mean_gain: float | None = bounded(0.01, 0, 1)
    min_dice: float | None = bounded(None, 0, 1)

    def floor_only(self) -> "Gates":
        """Only ``min_dice``: what can be checked without a Keras twin."""
        return Gates(None, None, None, None, self.min_dice)


@dataclass(frozen=True)
class GateData:
    """The labelled data a gate ran on (a file name, the arrays, the holdout share)."""

    path: str
    images: str | None = None
    labels: str | None = None
    holdout: float | None = bounded(None, 0, 1)


@dataclass(frozen=True)
class ModelScores:
    """One model's Dice on the gate's images (the F1 of each photograph, for photographs)."""

    model: str
    dice_mean: float = bounded(low=0, high=1)
    dice_per_image: tuple[float, ...] = bounded((), 0, 1)

    def summary(self) -> "ModelScores":
        """The mean only, and the model by its file name."""
        return ModelScores(PurePath(self.model).name, self.dice_mean)


@dataclass(frozen=True)
class ImageDrop:
    """One image's Dice under both models; ``index`` is its place in the gate's data, ``name``
    a photograph's ``folder/name`` (``None`` for a patch)."""

    index: int = bounded(low=0)
    keras: float = bounded(low=0, high=1)
    tflite: float = bounded(low=0, high=1)
    drop: float = bounded(low=-1, high=1)
    name: str | None = None

    @property
    def shown(self) -> str:
        """How reports name the image: the photograph's name, else the patch's index."""
        return self.name if self.name is not None else str(self.index)


@dataclass(frozen=True)
class GateReport:
    """A gate's verdict: ``failures`` holds one sentence per limit that failed.

    ``keras`` and the comparisons (``mean_drop`` = Keras minus LiteRT mean Dice, the largest
    per-image drop, the worst images, mask pixel agreement) are ``None`` when only the floor was
    checked.
    """

    passed: bool
    threshold: float = bounded(low=0, high=1)
    n: int = bounded(low=0)
    tflite: ModelScores
    gates: Gates = field(default_factory=Gates)
    failures: tuple[str, ...] = ()
    unit: str = choice("patches", tuple(UNITS))
    data: GateData | None = None
    keras: ModelScores | None = None
    mean_drop: float | None = bounded(None, -1, 1)
    max_image_drop: float | None = bounded(None, -1, 1)
    pixel_agreement: float | None = bounded(None, 0, 1)
    worst_drops: tuple[ImageDrop, ...] = ()

    def counted(self) -> str:
        """How many images the gate ran on, with their noun: "1 photograph", "34 patches"."""
        return counted(self.n, UNITS[self.unit], self.unit)

    def summary(self) -> "GateReport":
        """What a model card carries: the report without its per-image scores, each model named
        by its file name (a card travels; the paths of the machine that built it do not)."""
        keras = self.keras and self.keras.summary()
        return dataclasses.replace(self, tflite=self.tflite.summary(), keras=keras)


@dataclass(frozen=True)
class ArteryVeinGates:
    """Limits a converted artery/vein model must hold against its float twin, both run as on
    the device on labelled photographs: its mean accuracy on the found vessel pixels may not
    fall by more than ``max_mean_drop``, and the two must give the same class to at least
    ``min_agreement`` of the found vessel pixels."""

    max_mean_drop: float = bounded(0.01, 0, 1)
    min_agreement: float = bounded(0.97, 0, 1)


@dataclass(frozen=True)
class ArteryVeinGateReport:
    """What the artery/vein gate measured (mean accuracies on the found vessel pixels, the
    share of them on which int8 and float agree), on which photographs, and its verdict."""

    passed: bool
    photographs: int = bounded(0, 0)
    data: tuple[str, ...] = ()
    float_accuracy: float | None = bounded(None, 0, 1)
    int8_accuracy: float | None = bounded(None, 0, 1)
    agreement: float | None = bounded(None, 0, 1)
    gates: ArteryVeinGates = field(default_factory=ArteryVeinGates)
    failures: tuple[str, ...] = ()

    def line(self) -> str:
        """What it measured and its verdict, on one line (``convert-artery-vein`` and ``info``
        print it)."""
        numbers = ", ".join(
            f"{name} {value:.4f}"
            for name, value in (
                ("float accuracy", self.float_accuracy),
                ("int8 accuracy", self.int8_accuracy),
                ("agreement", self.agreement),
            )
            if value is not None
        )
        verdict = "passed" if self.passed else "FAILED: " + "; ".join(self.failures)
        of = f" of {one_line(', '.join(self.data))}" if self.data else ""
        on = counted(self.photographs, "photograph")
        return f"artery/vein gate on {on}{of}: {numbers}; {verdict}"
