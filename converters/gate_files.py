"""Write a gate report directory: report.json, report.md and dice_delta.png."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from edge_runtime.atomic import atomic_path, write_text
from edge_runtime.contract.gate_report import UNITS, GateReport
from edge_runtime.contract.schema import encode, json_text
from edge_runtime.errors import counted

REPORT_FILES = ("report.json", "report.md", "dice_delta.png")
"""What :func:`write_report` writes, in order."""


def write_report(directory: Path, report: GateReport) -> None:
    """Write the report files into ``directory`` (created if needed), each atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    json_file, markdown, plot = (directory / name for name in REPORT_FILES)
    write_text(json_file, json_text(encode(report), indent=2) + "\n")
    write_text(markdown, gate_markdown(report))
    with atomic_path(plot) as tmp:
        _plot_delta(report, tmp)


def gate_markdown(report: GateReport) -> str:
    """A Markdown summary of a gate report, for a pull-request review."""
    verdict = "PASSED" if report.passed else "FAILED"
    lines = [
        f"## Quantization gate: {verdict}",
        "",
        f"{counted(report.n, f'labelled {UNITS[report.unit]}', f'labelled {report.unit}')}, "
        f"threshold {report.threshold}.",
        "",
        "| model | mean Dice |",
        "|---|---|",
    ]
    if report.keras:
        lines.append(f"| Keras (float) | {report.keras.dice_mean:.4f} |")
    lines.append(f"| LiteRT | {report.tflite.dice_mean:.4f} |")
    lines.append("")
    if report.keras:
        one = UNITS[report.unit]
        lines += [
            f"Mean drop {report.mean_drop:+.4f}; largest per-{one} drop "
            f"{report.max_image_drop:+.4f}; mask pixel agreement {report.pixel_agreement:.4%}.",
            "",
            f"| {one} | Keras | LiteRT | drop |",
            "|---|---|---|---|",
            *(
                f"| {w.shown} | {w.keras:.4f} | {w.tflite:.4f} | {w.drop:+.4f} |"
                for w in report.worst_drops
            ),
            "",
        ]
    limits = ", ".join(f"{k} = {v}" for k, v in encode(report.gates).items() if v is not None)
    lines.append(f"Gates: {limits}.")
    lines += [f"- FAILED: {failure}" for failure in report.failures]
    return "\n".join(lines) + "\n"


def _plot_delta(report: GateReport, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    tflite = np.asarray(report.tflite.dice_per_image)
    one = UNITS[report.unit]
    if report.keras:
        delta = tflite - np.asarray(report.keras.dice_per_image)
        ax.hist(delta, bins=40)
        ax.set(xlabel=f"per-{one} Dice change (LiteRT - Keras)", ylabel=report.unit)
    else:
        ax.hist(tflite, bins=40)
        ax.set(xlabel=f"per-{one} Dice (LiteRT)", ylabel=report.unit)
    ax.set_title(f"{'passed' if report.passed else 'FAILED'}: {report.counted()}")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)
