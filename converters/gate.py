"""The Dice regression gate: compare a LiteRT model with its Keras source on labeled patches.

Pure numpy: both models' probabilities are computed elsewhere with the same preprocessing, and
thresholded here with the same threshold.
"""

from dataclasses import asdict, dataclass

import numpy as np

from edge_runtime.metrics import binarize, dice_per_patch

WORST = 5
"""How many of the largest per-patch drops a report lists."""


class GateFailure(Exception):
    """A converted model failed the Dice gate; ``report`` says how."""

    def __init__(self, report: dict):
        super().__init__("; ".join(report["failures"]))
        self.report = report


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

    max_mean_drop: float | None = 0.005
    max_image_drop: float | None = 0.05
    min_pixel_agreement: float | None = 0.99
    max_mean_gain: float | None = 0.01
    min_dice: float | None = None


def _scores(
    prob: np.ndarray, labels: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    mask = binarize(prob, threshold)
    return mask, dice_per_patch(labels, mask)


def evaluate_gate(
    labels: np.ndarray,
    tflite_prob: np.ndarray,
    keras_prob: np.ndarray | None,
    threshold: float,
    gates: Gates,
    indices: np.ndarray | None = None,
) -> dict:
    """Score both models and decide every gate.

    Args:
        labels: binary masks (N, H, W).
        tflite_prob: probabilities of the converted model (N, H, W).
        keras_prob: probabilities of the Keras model, or ``None`` to check only ``min_dice``.
        threshold: decision threshold applied to both.
        gates: the limits.
        indices: each patch's index in its data file, used to name the worst patches
            (default 0..N-1).

    Returns:
        A JSON-ready dict: ``passed``, ``failures`` (one sentence per failed gate), ``threshold``,
        ``n``, ``gates``, ``tflite`` and ``keras`` (``dice_mean``, ``dice_per_patch``), and with a
        Keras model ``mean_drop``, ``worst_drops`` and ``pixel_agreement``.
    """
    indices = np.arange(len(labels)) if indices is None else np.asarray(indices)
    tflite_mask, tflite_dice = _scores(tflite_prob, labels, threshold)
    report = {
        "passed": True,
        "failures": [],
        "threshold": threshold,
        "n": len(labels),
        "gates": asdict(gates),
        "tflite": {
            "dice_mean": float(tflite_dice.mean()),
            "dice_per_patch": tflite_dice.round(6).tolist(),
        },
        "keras": None,
    }
    failures = report["failures"]
    if gates.min_dice is not None and tflite_dice.mean() < gates.min_dice:
        failures.append(f"mean Dice {tflite_dice.mean():.4f} is below the floor {gates.min_dice}")
    if keras_prob is not None:
        keras_mask, keras_dice = _scores(keras_prob, labels, threshold)
        drop = keras_dice - tflite_dice
        worst = np.argsort(-drop, kind="stable")[:WORST]
        report["keras"] = {
            "dice_mean": float(keras_dice.mean()),
            "dice_per_patch": keras_dice.round(6).tolist(),
        }
        report["mean_drop"] = float(keras_dice.mean() - tflite_dice.mean())
        report["max_image_drop"] = float(drop.max())
        report["worst_drops"] = [
            {
                "index": int(indices[i]),
                "keras": float(keras_dice[i]),
                "tflite": float(tflite_dice[i]),
                "drop": float(drop[i]),
            }
            for i in worst
        ]
        report["pixel_agreement"] = float(np.mean(keras_mask == tflite_mask))
        failures += _fidelity_failures(report, gates)
        names = ", ".join(str(w["index"]) for w in report["worst_drops"][:3])
        if gates.max_mean_drop is not None and report["mean_drop"] > gates.max_mean_drop:
            failures.append(
                f"mean Dice drop {report['mean_drop']:.4f} exceeds {gates.max_mean_drop} "
                f"(worst patches: {names})"
            )
        if gates.max_image_drop is not None and drop.max() > gates.max_image_drop:
            count = int(np.count_nonzero(drop > gates.max_image_drop))
            failures.append(
                f"{count} patches drop more than {gates.max_image_drop} Dice "
                f"(worst: patch {indices[worst[0]]}, {drop.max():.4f})"
            )
    report["passed"] = not failures
    return report


def _fidelity_failures(report: dict, gates: Gates) -> list[str]:
    """Why the LiteRT model is not a faithful conversion of the Keras model, if it is not."""
    failures = []
    agreement, gain = report["pixel_agreement"], -report["mean_drop"]
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


def gate_markdown(report: dict) -> str:
    """A Markdown summary of a gate report, for a pull-request review."""
    verdict = "PASSED" if report["passed"] else "FAILED"
    lines = [
        f"## Dice regression gate: {verdict}",
        "",
        f"{report['n']} labeled patches, threshold {report['threshold']}.",
        "",
        "| model | mean Dice |",
        "|---|---|",
    ]
    if report["keras"]:
        lines.append(f"| Keras (float) | {report['keras']['dice_mean']:.4f} |")
    lines.append(f"| LiteRT | {report['tflite']['dice_mean']:.4f} |")
    lines.append("")
    if report["keras"]:
        lines += [
            f"Mean drop {report['mean_drop']:+.4f}; largest per-patch drop "
            f"{report['max_image_drop']:+.4f}; "
            f"mask pixel agreement {report['pixel_agreement']:.4%}.",
            "",
            "| patch | Keras | LiteRT | drop |",
            "|---|---|---|---|",
            *(
                f"| {w['index']} | {w['keras']:.4f} | {w['tflite']:.4f} | {w['drop']:+.4f} |"
                for w in report["worst_drops"]
            ),
            "",
        ]
    gates = ", ".join(f"{k} = {v}" for k, v in report["gates"].items() if v is not None)
    lines.append(f"Gates: {gates}.")
    lines += [f"- FAILED: {failure}" for failure in report["failures"]]
    return "\n".join(lines) + "\n"
