"""``edge-seg info``: what a model is, and whether it is ready for the Edge TPU."""

import click

from edge_runtime.cli.options import json_option, model_option, trusted_keys_option
from edge_runtime.contract.gate_report import GateReport
from edge_runtime.contract.model_card import ModelFile, TrainingSummary
from edge_runtime.contract.preprocessing import MODEL_INPUTS
from edge_runtime.contract.schema import json_text
from edge_runtime.errors import ModelError, counted, one_line
from edge_runtime.inference.description import ModelReport, describe_model


def _gate_line(gate: GateReport) -> str:
    scores = f"tflite {gate.tflite.dice_mean:.4f}"
    if gate.keras is not None:
        scores = f"float {gate.keras.dice_mean:.4f}, {scores}"
    verdict = "passed" if gate.passed else "FAILED"
    data = gate.data
    held = f" (held out {data.holdout:g})" if data is not None and data.holdout else ""
    of = f" of {one_line(data.path)}{held}" if data is not None else ""
    return f"{verdict}: Dice {scores} on {gate.counted()}{of}"


def _model_file(model: ModelFile) -> str:
    """A model a card names, by its file name (where recorded) and the start of its SHA-256."""
    digest = f"SHA-256 {model.sha256[:12]}..."
    return f"{model.name} ({digest})" if model.name else f"a model of {digest} (name not recorded)"


def _training_line(training: TrainingSummary | None) -> str:
    """How the model was made: what its training started from, and the epoch kept."""
    if training is None:
        return "not recorded (converted without its run's metrics.json?)"
    start = training.start
    if start is None:  # a card older than 1.2.0-dev: not "no recipe"
        began = "recipe and starting model not recorded"
    else:
        recipe = f"recipe {start.recipe}" if start.recipe else "no recipe"
        began = f"{recipe}, from {_model_file(start.init) if start.init else 'random weights'}"
        if start.teacher:
            began += f", distilled from {_model_file(start.teacher)}"
    epochs = "?" if training.epochs is None else training.epochs
    trained = "? epochs" if training.epochs is None else counted(training.epochs, "epoch")
    if training.best_epoch is not None:
        kept = f"epoch {training.best_epoch} of {epochs} kept (best held-out score)"
    elif training.holdout == 0:
        kept = f"the last of {trained} kept (nothing held out)"
    elif training.holdout:
        kept = f"{trained} (the one kept not recorded)"
    else:
        kept = trained
    return f"{began}; {kept}"


def _signature_line(report: ModelReport) -> str:
    if report.signature_issue:
        return f"damaged signature ({report.signature_issue})"
    if report.signed_by:
        return f"by key {report.signed_by} (verified against the trusted keys)"
    if report.signature_key_id:
        return (
            "signature present, not verified (no trusted keys given); it names key "
            f"{report.signature_key_id}"
        )
    return "no"


def _summary(report: ModelReport) -> str:
    card, settings = report.card, report.settings
    default = " (bundled default)" if report.default_model else ""
    lines = [
        f"model:        {report.model}{default}",
        f"size:         {report.size_bytes / 1024:.1f} KiB",
        f"backend:      {report.backend}",
        f"metadata:     {'embedded' if card else 'none (defaults in effect)'}",
    ]
    if card:
        parameters = f"{card.parameters:,}" if card.parameters is not None else "?"
        lines += [
            f"version:      {card.model_version} ({card.architecture}, {parameters} parameters, "
            f"{card.quantization})",
            f"created:      {card.created or '?'} by edge-seg {card.package_version or '?'}",
            f"trained:      {_training_line(card.training)}",
        ]
        if card.gate:
            lines.append(f"gate:         {_gate_line(card.gate)}")
        if card.artery_vein_gate:
            lines.append(f"gate:         {card.artery_vein_gate.line()}")
        if not (card.gate or card.artery_vein_gate):  # said, not left out as if nothing amiss
            lines.append("gate:         none recorded (not checked: converted with --no-check?)")
    known = MODEL_INPUTS.get(settings.preprocessing.name)
    lines.append(f"kind:         {known.kind if known else 'unknown'} model")
    lines.append(
        f"settings:     threshold {settings.threshold}, {settings.channel} channel, "
        f"{settings.patch_size}px patches, {settings.preprocessing.name}"
    )
    for role, tensors in (("input", report.inputs), ("output", report.outputs)):
        for t in tensors:
            lines.append(
                f"{role:<13} {t.name} {list(t.shape)} {t.dtype} "
                f"scale {t.scale:.6g} zero point {t.zero_point}"
            )
    counts = ", ".join(f"{name} x{n}" for name, n in report.to_json()["op_counts"].items())
    lines.append(f"ops:          {len(report.ops)} ({counts})")
    lines.append(f"signed:       {_signature_line(report)}")
    lines.append(f"Edge TPU:     {'ready' if not report.edgetpu_issues else 'not ready'}")
    lines += [f"  - {issue}" for issue in report.edgetpu_issues]
    if report.problem:
        lines.append(f"runs:         no, the runtime refuses it: {report.problem}")
    # what the card and the model say is anyone's text: a newline in it forged a line
    # ("signed: by key ... (verified ...)") above the true one
    return "\n".join(one_line(line) for line in lines)


@click.command()
@model_option
@trusted_keys_option
@json_option
def info(model: str | None, trusted_keys: str | None, as_json: bool) -> None:
    """Show a model's metadata, tensors, operators, Edge TPU readiness and signature.

    Exit status 2 when the runtime would refuse to run the model (its tensors are not those
    of its kind): it is described, and the last line says why.
    """
    report = describe_model(model, trusted_keys)
    click.echo(json_text(report.to_json()) if as_json else _summary(report))
    if report.problem:
        raise ModelError(report.problem)
