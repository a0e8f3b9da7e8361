"""Names and settings of a training run, importable without TensorFlow (for the CLI)."""

from dataclasses import dataclass

ARCHITECTURES = ("seed", "seed-edge", "unet", "unet-lite")
"""Model architectures, see :mod:`training.models`."""

WIDTH_ARCHITECTURES = ("unet", "unet-lite")
"""Architectures whose size is set by ``--width``."""

LOSSES = ("bce", "bce-dice")
"""Losses, see :mod:`training.losses`."""

SCHEDULES = ("constant", "cosine")
"""Learning-rate schedules: constant, or cosine decay to 0 over all training steps."""

RECIPES = {
    "v1": {
        "arch": "unet-lite",
        "width": 14,
        "loss": "bce-dice",
        "augment": True,
        "jitter": True,
        "epochs": 300,
        "batch_size": 16,
        "learning_rate": 0.002,
        "schedule": "cosine",
        "seed": 2211,
        "holdout": 0.2,
    },
}
"""Named training settings. ``v1``: the release model bundled with the package (see
firmware_notes/MODEL_CARD.md)."""

RUN_FILES = ("model.keras", "metrics.json", "config.json", "history.png")
"""Files a training run writes into its run directory."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (written to ``config.json``)."""

    data: str
    out: str
    arch: str = "unet"
    width: int = 8
    loss: str = "bce-dice"
    augment: bool = True
    jitter: bool = False
    epochs: int = 100
    batch_size: int = 16
    learning_rate: float = 1e-3
    schedule: str = "constant"
    seed: int = 2211
    holdout: float = 0.2
    recipe: str | None = None
