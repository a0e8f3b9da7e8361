"""The quantization gate: compare a LiteRT model with its Keras source on labelled images.

Pure numpy: both models' masks are made elsewhere, from the same preprocessing and with the same
threshold. The limits and the verdict are the shared contract's
(:mod:`edge_runtime.contract.gate_report`).
"""

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge_runtime.contract.gate_report import (
    UNITS,
    GateData,
    GateReport,
    Gates,
    ImageDrop,
    ModelScores,
)
from edge_runtime.contract.metrics import dice_per_patch, dice_score
from edge_runtime.data.vessel_share import MAX_VESSEL_SHARE
from edge_runtime.errors import counted

WORST = 5
"""How many of the largest per-image drops a report lists."""


class GateFailure(Exception):
    """A converted model failed the gate; ``report`` says how."""

    def __init__(self, report: GateReport):
        super().__init__("; ".join(report.failures))
        self.report = report


Images = np.ndarray | Sequence[np.ndarray]
"""Per-image arrays: an (N, H, W) array of patches, or a list of each photograph's pixels
inside its field of view (any shapes)."""


def _dice(labels: Images, masks: Images) -> np.ndarray:
    if isinstance(labels, np.ndarray):
        return dice_per_patch(labels, masks)
    return np.array([dice_score(t, m) for t, m in zip(labels, masks, strict=True)])


@dataclass(frozen=True)
class MaskComparison:
    """What the gate reads of both models' masks: Dice per image, agreement, vessel pixels.

    Each model's masks mark ``tflite_vessels`` and ``keras_vessels`` of their ``pixels`` as
    vessel, the labels ``label_vessels``; ``keras_dice`` is ``None`` without a Keras model;
    ``agreeing`` of the ``pixels`` are the same in both models' masks. A few numbers per image,
    so that a gate over many photographs keeps none of their masks.
    """

    tflite_dice: np.ndarray
    keras_dice: np.ndarray | None = None
    agreeing: int = 0
    pixels: int = 0
    tflite_vessels: int = 0
    keras_vessels: int = 0
    label_vessels: int = 0

    @classmethod
    def of(cls, labels: Images, tflite_mask: Images, keras_mask: Images | None) -> "MaskComparison":
        """The comparison of both models' binary masks with the binary ``labels``, per image."""
        pixels = sum(np.size(m) for m in tflite_mask)
        tflite_vessels = sum(int(np.count_nonzero(m)) for m in tflite_mask)
        label_vessels = sum(int(np.count_nonzero(t)) for t in labels)
        if keras_mask is None:
            return cls(
                _dice(labels, tflite_mask),
                pixels=pixels,
                tflite_vessels=tflite_vessels,
                label_vessels=label_vessels,
            )
        pairs = list(zip(keras_mask, tflite_mask, strict=True))
        return cls(
            _dice(labels, tflite_mask),
            _dice(labels, keras_mask),
            sum(int(np.count_nonzero(a == b)) for a, b in pairs),
            pixels,
            tflite_vessels,
            sum(int(np.count_nonzero(a)) for a, _ in pairs),
            label_vessels,
        )

    @classmethod
    def joined(cls, parts: Sequence["MaskComparison"]) -> "MaskComparison":
        """The comparison of all ``parts``' images, in their order."""
        keras = [p.keras_dice for p in parts]
        return cls(
            np.concatenate([p.tflite_dice for p in parts]),
            None if any(k is None for k in keras) else np.concatenate(keras),
            *(sum(getattr(p, name) for p in parts) for name in _COUNTS),
        )


_COUNTS = ("agreeing", "pixels", "tflite_vessels", "keras_vessels", "label_vessels")
"""The counts of a :class:`MaskComparison`, which its parts' add up to."""


def _blank_failures(compared: MaskComparison) -> list[str]:
    """Why the masks compared tell nothing, if they do not.

    A model's masks that mark no pixel as vessel, or more than :data:`MAX_VESSEL_SHARE` of
    them, agree with any other such masks: a threshold of 0.99 once passed the gate on empty
    masks, Dice 0 against 0.
    """
    if not compared.label_vessels:  # then empty masks are right, and prove nothing either
        return [
            "the data's labels mark no pixel as vessel: the gate compared nothing (a holdout of "
            "background patches?)"
        ]
    counts = {"LiteRT model": compared.tflite_vessels}
    if compared.keras_dice is not None:
        counts["Keras model"] = compared.keras_vessels
    failures = []
    for model, vessels in counts.items():
        share = vessels / max(1, compared.pixels)
        if not vessels or share > MAX_VESSEL_SHARE:
            marked = "no pixel" if not vessels else f"{share:.0%} of the pixels"
            failures.append(
                f"the {model}'s masks mark {marked} as vessel (a vessel map marks some, at most "
                f"{MAX_VESSEL_SHARE:.0%}): the gate compared nothing (a threshold out of its "
                "range, an untrained model?)"
            )
    return failures


def _scores(model: str, dice: np.ndarray) -> ModelScores:
    return ModelScores(model, float(dice.mean()), tuple(dice.round(6).tolist()))


def evaluate_gate(
    compared: MaskComparison,
    threshold: float,
    gates: Gates,
    models: tuple[str, str] = ("", ""),
    indices: np.ndarray | None = None,
    data: GateData | None = None,
    unit: str = "patches",
    names: Sequence[str] | None = None,
) -> GateReport:
    """Score both models' masks and decide every limit.

    Args:
        compared: both models' masks against the labels (without a Keras model, only
            ``min_dice`` is checked).
        threshold: the decision threshold both masks were made at (for the report).
        gates: the limits.
        models: the (LiteRT, Keras) model files, as the report names them.
        indices: each image's index in its data (default 0..N-1).
        data: what the images are, for the report.
        unit: ``"patches"`` or ``"photographs"``.
        names: each photograph's name, for the report.
    """
    n = len(compared.tflite_dice)
    indices = np.arange(n) if indices is None else np.asarray(indices)
    tflite = _scores(models[0], compared.tflite_dice)
    failures = _blank_failures(compared)
    if gates.min_dice is not None and tflite.dice_mean < gates.min_dice:
        failures.append(f"mean Dice {tflite.dice_mean:.4f} is below the floor {gates.min_dice}")
    if compared.keras_dice is None:
        return GateReport(
            passed=not failures,
            threshold=threshold,
            n=n,
            tflite=tflite,
            gates=gates,
            failures=tuple(failures),
            data=data,
            unit=unit,
        )
    keras = _scores(models[1], compared.keras_dice)
    drop = np.asarray(keras.dice_per_image) - np.asarray(tflite.dice_per_image)
    worst = np.argsort(-drop, kind="stable")[:WORST]
    report = GateReport(
        passed=False,
        threshold=threshold,
        n=n,
        tflite=tflite,
        gates=gates,
        unit=unit,
        data=data,
        keras=keras,
        mean_drop=keras.dice_mean - tflite.dice_mean,
        max_image_drop=float(drop.max()),
        pixel_agreement=compared.agreeing / compared.pixels,
        worst_drops=tuple(
            ImageDrop(
                index=int(indices[i]),
                keras=keras.dice_per_image[i],
                tflite=tflite.dice_per_image[i],
                drop=float(drop[i]),
                name=names[i] if names else None,
            )
            for i in worst
        ),
    )
    failures += _fidelity_failures(report, gates)
    failures += _regression_failures(report, gates, drop)
    return dataclasses.replace(report, passed=not failures, failures=tuple(failures))


def _fidelity_failures(report: GateReport, gates: Gates) -> list[str]:
    """Why the LiteRT model is not a faithful conversion of the Keras model, if it is not."""
    failures = []
    agreement, gain = report.pixel_agreement, -report.mean_drop
    if gates.min_pixel_agreement is not None and agreement < gates.min_pixel_agreement:
        failures.append(
            f"the masks of the LiteRT model and its Keras twin agree on only {agreement:.2%} of "
            f"the pixels (at least {gates.min_pixel_agreement:.2%} required): the LiteRT file is "
            "not a faithful conversion of this Keras model (a mixed-up file, or a broken "
            "conversion)"
        )
    if gates.max_mean_gain is not None and gain > gates.max_mean_gain:
        failures.append(
            f"the LiteRT model scores {gain:.4f} mean Dice above its Keras twin (at most "
            f"{gates.max_mean_gain} allowed): a conversion does not improve a model that much; "
            "is the Keras file the one it was converted from?"
        )
    return failures


def _regression_failures(report: GateReport, gates: Gates, drop: np.ndarray) -> list[str]:
    """Where the LiteRT model scores worse than its Keras twin by more than allowed."""
    failures = []
    unit = report.unit
    names = ", ".join(w.shown for w in report.worst_drops[:3])
    if gates.max_mean_drop is not None and report.mean_drop > gates.max_mean_drop:
        failures.append(
            f"mean Dice drop {report.mean_drop:.4f} exceeds {gates.max_mean_drop} "
            f"(worst {unit}: {names})"
        )
    if gates.max_image_drop is not None and report.max_image_drop > gates.max_image_drop:
        count = int(np.count_nonzero(drop > gates.max_image_drop))
        worst = report.worst_drops[0]
        failures.append(
            f"{counted(count, UNITS[unit], unit)} {'drops' if count == 1 else 'drop'} more "
            f"than {gates.max_image_drop} Dice "
            f"(worst: {UNITS[unit]} {worst.shown}, {report.max_image_drop:.4f})"
        )
    return failures
