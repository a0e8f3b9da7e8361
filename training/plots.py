"""The training history figure: loss and the holdout score per epoch."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

HOLDOUT_CURVES = {
    "holdout_f1": ("mean photograph F1 at 0.5", "Holdout photographs"),
    "holdout_dice": ("mean patch Dice at 0.5", "Holdout patches"),
}
"""The holdout scores a run can log, and how the figure names them."""


def plot_history(history: dict[str, list[float]], best_epoch: int, path: Path) -> None:
    """Write a PNG with the training loss and, when present, the holdout score per epoch."""
    epochs = range(1, len(history["loss"]) + 1)
    logged = next((key for key in HOLDOUT_CURVES if key in history), None)
    panels = 2 if logged else 1
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 3.5), squeeze=False)
    axes[0, 0].plot(epochs, history["loss"])
    axes[0, 0].set(xlabel="epoch", ylabel="training loss", title="Loss")
    if logged:
        ylabel, title = HOLDOUT_CURVES[logged]
        axes[0, 1].plot(epochs, history[logged])
        axes[0, 1].axvline(
            best_epoch, color="grey", linestyle="--", label=f"best: epoch {best_epoch}"
        )
        axes[0, 1].set(xlabel="epoch", ylabel=ylabel, title=title)
        axes[0, 1].legend()
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)
