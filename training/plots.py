"""The training history figure: loss and holdout Dice per epoch."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def plot_history(history: dict[str, list[float]], best_epoch: int, path: Path) -> None:
    """Write a PNG with the training loss and, when present, the holdout Dice per epoch."""
    epochs = range(1, len(history["loss"]) + 1)
    panels = 2 if "holdout_dice" in history else 1
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 3.5), squeeze=False)
    axes[0, 0].plot(epochs, history["loss"])
    axes[0, 0].set(xlabel="epoch", ylabel="training loss", title="Loss")
    if panels == 2:
        axes[0, 1].plot(epochs, history["holdout_dice"])
        axes[0, 1].axvline(
            best_epoch, color="grey", linestyle="--", label=f"best: epoch {best_epoch}"
        )
        axes[0, 1].set(xlabel="epoch", ylabel="mean Dice at 0.5", title="Holdout Dice")
        axes[0, 1].legend()
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)
