"""``edge-seg info``: what a model is, and whether it is ready for the Edge TPU."""

import json

import click

from edge_runtime.model_report import describe_model


def _summary(report: dict) -> str:
    meta = report["metadata"] or {}
    gate = meta.get("gate") or {}
    lines = [
        f"model:        {report['model']}{' (bundled default)' if report['default_model'] else ''}",
        f"size:         {report['size_bytes'] / 1024:.1f} KiB",
        f"backend:      {report['backend']}",
        f"metadata:     {'embedded' if report['metadata'] else 'none (defaults in effect)'}",
    ]
    if meta:
        lines += [
            f"version:      {meta.get('model_version', '?')} ({meta.get('architecture', '?')}, "
            f"{meta.get('parameters', 0):,} parameters, {meta.get('quantization', '?')})",
            f"created:      {meta.get('created', '?')} "
            f"by edge-seg {meta.get('package_version', '?')}",
        ]
    if gate:
        lines.append(
            f"gate:         {'passed' if gate.get('passed') else 'FAILED'}: Dice float "
            f"{gate.get('keras_dice_mean', float('nan')):.4f}, tflite "
            f"{gate.get('tflite_dice_mean', float('nan')):.4f} on {gate.get('n', '?')} patches"
        )
    settings = report["settings"]
    lines.append(
        f"settings:     threshold {settings['threshold']}, {settings['patch_size']}px patches, "
        f"{settings['preprocessing']}"
    )
    for role in ("inputs", "outputs"):
        for t in report[role]:
            lines.append(
                f"{role[:-1]:<13} {t['name']} {t['shape']} {t['dtype']} "
                f"scale {t['scale']:.6g} zero point {t['zero_point']}"
            )
    counts = ", ".join(f"{name} x{n}" for name, n in report["op_counts"].items())
    lines.append(f"ops:          {len(report['ops'])} ({counts})")
    lines.append(f"Edge TPU:     {'ready' if report['edgetpu_ready'] else 'not ready'}")
    lines += [f"  - {issue}" for issue in report["edgetpu_issues"]]
    return "\n".join(lines)


@click.command()
@click.option("--model", type=click.Path(path_type=str), help="A .tflite model [default: bundled].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def info(model: str | None, as_json: bool) -> None:
    """Show a model's metadata, tensors, operators and Edge TPU readiness."""
    report = describe_model(model)
    click.echo(json.dumps(report) if as_json else _summary(report))
