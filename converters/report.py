"""Write a gate report directory: report.json, report.md and dice_delta.png."""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from converters.gate import gate_markdown
from edge_runtime.atomic import atomic_path


def write_report(directory: Path, report: dict) -> None:
    """Write the three report files into ``directory`` (created if needed), each atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    with atomic_path(directory / "report.json") as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    with atomic_path(directory / "report.md") as tmp:
        tmp.write_text(gate_markdown(report))
    with atomic_path(directory / "dice_delta.png") as tmp:
        _plot_delta(report, tmp)


def _plot_delta(report: dict, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    tflite = np.asarray(report["tflite"]["dice_per_patch"])
    if report["keras"]:
        delta = tflite - np.asarray(report["keras"]["dice_per_patch"])
        ax.hist(delta, bins=40)
        ax.set(xlabel="per-patch Dice change (LiteRT - Keras)", ylabel="patches")
    else:
        ax.hist(tflite, bins=40)
        ax.set(xlabel="per-patch Dice (LiteRT)", ylabel="patches")
    ax.set_title(f"{'passed' if report['passed'] else 'FAILED'}: {report['n']} patches")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)
