"""Names and settings of a training run, importable without TensorFlow (for the CLI)."""

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from edge_runtime.contract.model_card import FOV_DIAMETER_RANGE
from edge_runtime.contract.preprocessing import CHANNELS
from edge_runtime.contract.schema import bounded, check_choice, choice
from training.models import ARCHITECTURES, MAX_WIDTH

LOSSES = ("bce", "bce-dice")
"""Losses, see :mod:`training.losses`."""

SCHEDULES = ("constant", "cosine")
"""Learning-rate schedules: constant, or cosine decay to 0 over all training steps."""

_RELEASE_COMMON = {
    "arch": "unet-lite",
    "loss": "bce-dice",
    "augment": True,
    "jitter": True,
    "epochs": 150,
    "batch_size": 16,
    "schedule": "cosine",
    "seed": 2211,
    "holdout": 0.2,
}

RELEASE_TWIN = Path(__file__).parent / "release" / "model.keras"
"""The Keras twin of the model bundled with the package."""

_V2 = {
    **_RELEASE_COMMON,
    "width": 14,
    "learning_rate": 0.006,
    "epochs": 40,
    "crops": 4800,
    "channel": "green",
}

RECIPES = {
    "v1-teacher": {**_RELEASE_COMMON, "width": 40, "learning_rate": 0.004},
    "v1": {**_RELEASE_COMMON, "width": 14, "learning_rate": 0.006, "teacher_weight": 0.8},
    "v2": _V2,
    "finetune": {
        **_V2,
        "init": str(RELEASE_TWIN),
        "learning_rate": 0.001,
        "epochs": 30,
        "crops": 2400,
    },
}
"""Named training settings. ``v1``: release candidate 1.0.0-rc2, distilled from a ``v1-teacher``
model (672,601 parameters) trained on the same patches. ``v2``: the 1.1 release, trained on
photographs of two cameras (DRIVE and STARE; ``training/release/build.sh``) in the green channel
(steadier across cameras than luma in leave-photographs-out cross-validation). ``finetune``: the
release model adapted to a camera from a few of its labelled photographs, in the release's
channel (firmware_notes/own-camera.md)."""

TEACHER_RECIPES = {"v1": "v1-teacher"}
"""Recipes that distil, and the recipe of the teacher each one needs (``teacher``)."""

RUN_FILES = ("model.keras", "metrics.json", "config.json", "history.png")
"""Files a training run writes into its run directory."""


MAX_EPOCHS = 100_000
"""Most passes a run may make (more would run until stopped: days for either model)."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (written to ``config.json``).

    The defaults here are the command line's.

    ``data`` lists the sources: .npz patch files and folders of labelled photographs, each
    optionally ``PATH:WEIGHT``. ``crops`` is the number of training samples drawn per epoch when
    the data is more than one patch file (photographs are cropped afresh every epoch); ``init``
    a model whose weights training starts from (fine-tuning).

    ``recipe`` names the recipe the settings started from; only :meth:`from_recipe` sets it, so
    a record never names a recipe whose settings were not applied.
    """

    data: tuple[str, ...]
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
    teacher: str | None = None
    teacher_weight: float = 0.8
    crops: int = 4800
    init: str | None = None
    channel: str = "luma"
    recipe: str | None = field(default=None, init=False)

    def __post_init__(self):
        if isinstance(self.data, str):  # one source, as before there could be several
            object.__setattr__(self, "data", (self.data,))
        choices = {
            "arch": ARCHITECTURES,
            "loss": LOSSES,
            "schedule": SCHEDULES,
            "channel": CHANNELS,
        }
        for name, options in choices.items():
            check_choice(name, getattr(self, name), options)
        if not 1 <= self.epochs <= MAX_EPOCHS:  # as the artery/vein run's are
            raise ValueError(f"got epochs {self.epochs}, expected 1 to {MAX_EPOCHS}")
        if not 1 <= self.width <= MAX_WIDTH:  # convert tells no wider model's architecture
            raise ValueError(f"got width {self.width}, expected 1 to {MAX_WIDTH}")

    @classmethod
    def from_recipe(cls, recipe: str, **settings) -> "TrainConfig":
        """The settings of a named recipe (:data:`RECIPES`), ``settings`` overriding them.

        Raises:
            ValueError: an unknown recipe, or a distilling recipe without its ``teacher``.
        """
        if recipe not in RECIPES:
            raise ValueError(f"got recipe {recipe!r}, expected one of {', '.join(RECIPES)}")
        config = cls(**{**RECIPES[recipe], **settings})
        if recipe in TEACHER_RECIPES and config.teacher is None:
            raise ValueError(
                f"recipe {recipe} distils from a teacher: train one with --recipe "
                f"{TEACHER_RECIPES[recipe]} and pass its model.keras with --teacher"
            )
        object.__setattr__(config, "recipe", recipe)  # frozen: set once, here
        return config

    def record(self) -> dict:
        """What ``config.json`` records: these settings, with file names instead of paths.

        Each data source, teacher and initial model is named by its file or folder name (and
        weight), and the run directory is left out. A record travels with a release; the paths
        of the machine that trained do not (the files' SHA-256 digests are in ``metrics.json``).
        """
        settings = dataclasses.asdict(self)
        del settings["out"]
        settings["data"] = [PurePath(source).name for source in self.data]
        for name in ("teacher", "init"):
            settings[name] = settings[name] and PurePath(settings[name]).name
        return settings


def default(name: str):
    """The default of a :class:`TrainConfig` setting (for the command line's options)."""
    return next(f.default for f in dataclasses.fields(TrainConfig) if f.name == name)


MAX_SEED = 2**32 - 1
"""Largest seed numpy's generators take."""

CROP_DRAWS = ("photograph", "camera")
"""How an artery/vein run draws its crops' photographs: each photograph as likely as another, or
each camera (a data folder) as likely as another, then each of its photographs alike."""

MAX_ARTERY_VEIN_CROPS = 20_000
"""Most crops an artery/vein epoch may draw: held at once, they take 5 GB."""

ARTERY_VEIN_RECORD = "artery_vein.json"
"""The record of an artery/vein run (``edge-seg train-artery-vein``), beside its ``model.keras``."""

ARTERY_VEIN_RUN_FILES = ("model.keras", ARTERY_VEIN_RECORD)
"""What an artery/vein run writes in its folder."""


@dataclass(frozen=True)
class ArteryVeinTraining:
    """Everything that determines an artery/vein training run."""

    width: int = bounded(12, 2, 64)
    depth: int = bounded(3, 1, 5)
    tile: int = bounded(128, 16, 1024)
    """Side of the training crops (pixels of the model's working scale)."""
    fov_diameter: float = bounded(270.0, *FOV_DIAMETER_RANGE)
    """The disc's diameter at the model's working scale: half the vessel model's (540), a
    quarter of its pixels. On each camera left out, this half scale classed better than the
    vessel model's own scale (firmware_notes/ARTERY_VEIN.md): a crop holds twice the context."""
    epochs: int = bounded(16, 1, MAX_EPOCHS)
    crops: int = bounded(3000, 1, MAX_ARTERY_VEIN_CROPS)
    """Random crops drawn afresh for each epoch (all held at once: 256 KiB each)."""
    draw_by: str = choice("photograph", CROP_DRAWS)
    """Whether a crop's photograph is drawn evenly over photographs or over cameras."""
    batch_size: int = bounded(16, 1, 4096)
    learning_rate: float = bounded(2e-3, 0, 1)
    seed: int = bounded(2211, 0, MAX_SEED)

    def __post_init__(self):
        check_choice("draw_by", self.draw_by, CROP_DRAWS)  # the command line and records too

    @property
    def device_side(self) -> int:
        """Side of the converted model's square input: the whole field of view at once.

        The disc and its margin of a pixel each side: every photograph of the four reference
        cameras fits, padded; a larger working image runs in overlapping tiles of this side.
        The model is fully convolutional: the trained weights serve any side that is a
        multiple of 2 ** (depth + 1), and this is the least such side that holds the disc."""
        unit = 2 ** (self.depth + 1)
        return unit * math.ceil((math.ceil(self.fov_diameter) + 2) / unit)
