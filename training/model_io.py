"""Load saved Keras models (a run's ``model.keras``) and run them on preprocessed patches.

They run alone, or through the device's pipeline (:class:`KerasPatches`).
"""

import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePath

import keras
import numpy as np

import training.layers  # (registers the layers a device form holds)
import training.losses  # noqa: F401  (registers the custom losses saved with a model)
from edge_runtime.contract.model_card import FOV_DIAMETER, ModelCard, ModelFile, Preprocessing
from edge_runtime.contract.preprocessing import MODEL_INPUTS, ModelInput
from edge_runtime.data.patches import file_sha256
from edge_runtime.errors import InputError, first_line
from edge_runtime.file_names import utf8_text
from edge_runtime.safe_open import size_and_limit

PREDICT_BATCH = 64
"""Patches per Keras predict step (memory, not results: predictions do not depend on it)."""


def model_file(path: str | Path) -> ModelFile:
    """A model file (``--init``, ``--teacher``) as a run's record names it.

    Its file name, bytes that are not UTF-8 as messages show them (the card carries it to
    devices), and the SHA-256 of its bytes.
    """
    return ModelFile(utf8_text(PurePath(path).name), file_sha256(path))


def load_keras_model(path: str | Path, takes: str) -> keras.Model:
    """Load a ``.keras`` file for inference, checked to be a patch model of the right kind.

    It must take the input named ``takes``
    (:data:`~edge_runtime.contract.preprocessing.MODEL_INPUTS`).

    Raises:
        InputError: one line naming the file: missing, not a Keras model, or a model of
            another kind (an artery/vein model where a vessel model is needed, say).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such Keras model file")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not a .keras model file (not a zip archive)")
    _refuse_large_members(path)
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for a bad file
        raise InputError(f"{path}: cannot be loaded as a Keras model ({first_line(exc)})") from None
    _check_kind(model, path, MODEL_INPUTS[takes])
    return model


MAX_KERAS_MEMBER_BYTES = {".h5": 512 * 2**20, "": 16 * 2**20}
"""Largest member of a .keras archive, unpacked: the weights (``.h5``), the rest (its config
and metadata; our models' configs are tens of kilobytes)."""


def _refuse_large_members(path: Path) -> None:
    """Refuse a .keras archive a member of which unpacks larger than it may (a zip bomb)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path}: not a .keras model file ({first_line(exc)})") from None
    for member in members:
        limit = MAX_KERAS_MEMBER_BYTES[".h5" if member.filename.endswith(".h5") else ""]
        if member.file_size > limit:
            size, most = size_and_limit(member.file_size, limit)
            raise InputError(f"{path}: its {member.filename} unpacks to {size}, more than {most}")


def _check_kind(model: keras.Model, path: Path, expected: ModelInput) -> None:
    """Refuse a model that is not a functional patch model of ``expected``'s channels.

    It must map square patches of those channels to one map, and be functional as this
    package's are (a Sequential one cannot be rebuilt with a batch of one for conversion).
    """
    if isinstance(model, keras.Sequential):
        raise InputError(
            f"{path}: not a patch model of this package (a Sequential model; this package's "
            "are functional, as its train command writes them)"
        )
    inputs = [tuple(t.shape) for t in model.inputs]
    outputs = [tuple(t.shape) for t in model.outputs]
    shapes = inputs + outputs
    patch = len(shapes) == 2 and len(shapes[0]) == 4 and shapes[0][1] == shapes[0][2]
    if not patch or shapes[0][1] is None or shapes[1][1:] != (*shapes[0][1:3], 1):
        raise InputError(
            f"{path}: not a patch model of this package (inputs {inputs}, outputs {outputs}; "
            f"expected square patches of {expected.channels} channel(s) to one probability map)"
        )
    channels = shapes[0][3]
    if channels != expected.channels:
        kinds = [k.kind for k in MODEL_INPUTS.values() if k.channels == channels]
        raise InputError(
            f"{path}: takes {channels}-channel patches, as {kinds[0] if kinds else 'no'} models "
            f"do; this takes {expected.kind} models ({expected.channels}-channel patches)"
        )


def predict_probabilities(model: keras.Model, patches: np.ndarray) -> np.ndarray:
    """Vessel probabilities (N, H, W, 1) float32 of preprocessed patches (N, H, W, 1)."""
    return np.asarray(model.predict(patches, batch_size=PREDICT_BATCH, verbose=0), np.float32)


@dataclass(frozen=True)
class KerasPatches:
    """A Keras patch model as the runtime's patch predictor.

    It has the :class:`~edge_runtime.inference.patch_model.PatchPredictor` interface, so that
    training and the gate run it through the device's own pipeline (tiles, stitching, field of
    view). ``fov_diameter`` is the disc's diameter at the model's working scale (a card's).
    """

    model: keras.Model
    fov_diameter: float = FOV_DIAMETER

    @property
    def side(self) -> int:
        """Side of the square patches the model takes."""
        return int(self.model.input.shape[1])

    @property
    def channels(self) -> int:
        """Channels of the patches the model takes (1 for a vessel model, 4 for artery/vein)."""
        return int(self.model.input.shape[-1])

    @property
    def card(self) -> ModelCard:
        """The card a model without one runs by: its patch size, input and working scale."""
        name = next(n for n, known in MODEL_INPUTS.items() if known.channels == self.channels)
        return ModelCard(
            patch_size=self.side, fov_diameter=self.fov_diameter, preprocessing=Preprocessing(name)
        )

    def predict(self, patches: np.ndarray) -> np.ndarray:
        """Probabilities (N, P, P) float32 of preprocessed patches (N, P, P[, C])."""
        x = np.asarray(patches, dtype=np.float32).reshape(-1, self.side, self.side, self.channels)
        return predict_probabilities(model=self.model, patches=x)[..., 0]
