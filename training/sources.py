"""Training data: labelled patch files and folders of labelled photographs, mixed by weight.

A folder of photographs becomes training data through the device's own pipeline (field of view,
scale to the model's working disc, grayscale: ``edge_runtime.pipeline.segmenter.prepare``):
random crops at random positions inside the field of view, drawn afresh every epoch, each
contrast-stretched as the device stretches its tiles. Its holdout is whole photographs, never
crops of one photograph on both sides. A patch file keeps its contiguous-block holdout.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_runtime.contract.holdout import Split, holdout_split
from edge_runtime.contract.model_card import ModelCard
from edge_runtime.contract.preprocessing import PATCH_SIZE, preprocess_patches
from edge_runtime.data.patches import file_sha256, load_dataset
from edge_runtime.data.photos import (
    LoadedPhoto,
    PhotoDataset,
    find_dataset,
    load_labelled,
    photo_holdout,
)
from edge_runtime.errors import InputError
from edge_runtime.pipeline.resize import resize
from edge_runtime.pipeline.segmenter import prepare


def parse_data_argument(argument: str) -> tuple[Path, float]:
    """``PATH`` or ``PATH:WEIGHT`` (a positive number): a data source and its share of the
    training samples, relative to the other sources' weights (1 by default)."""
    path, _, weight = argument.rpartition(":")
    if path:
        try:
            value = float(weight)
        except ValueError:
            return Path(argument), 1.0
        if not 0 < value < float("inf"):
            raise InputError(f"{argument}: the weight after ':' must be a positive number")
        return Path(path), value
    return Path(argument), 1.0


@dataclass
class WorkingPhoto:
    """A training photograph as the model sees it: ``work`` (float32 grayscale at the working
    scale), ``label`` (float32 {0, 1}, same shape) and the field of view's pixel positions
    (``inside``, (N, 2)) where crops are centred."""

    name: str
    work: np.ndarray
    label: np.ndarray
    inside: np.ndarray


def working_photo(loaded: LoadedPhoto, channel: str = "luma") -> WorkingPhoto:
    """A labelled photograph through the device's first stage (with the model card's default
    disc and the training patch size); its label cut and resized the same way (antialiased,
    then halved at 0.5)."""
    prepared = prepare(loaded.photo, ModelCard().fov_diameter, PATCH_SIZE, channel)
    top, left, bottom, right = prepared.box
    label = resize(loaded.label[top:bottom, left:right].astype(np.float32), prepared.work.shape)
    inside = np.argwhere(prepared.inside)
    return WorkingPhoto(loaded.name, prepared.work, (label >= 0.5).astype(np.float32), inside)


@dataclass
class PhotoSource:
    """A folder of labelled photographs: the training ones prepared for cropping, the holdout
    ones kept whole (:class:`LoadedPhoto`) to be scored as the device would."""

    dataset: PhotoDataset
    weight: float
    train: list[WorkingPhoto]
    holdout: list[LoadedPhoto]

    def crops(self, rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
        """``count`` random crops: preprocessed inputs (N, P, P, 1) and labels (N, P, P, 1)."""
        images = np.empty((count, PATCH_SIZE, PATCH_SIZE), dtype=np.float32)
        labels = np.empty_like(images)
        for i in range(count):
            photo = self.train[rng.integers(len(self.train))]
            cy, cx = photo.inside[rng.integers(len(photo.inside))]
            height, width = photo.work.shape
            y = int(np.clip(cy - PATCH_SIZE // 2, 0, height - PATCH_SIZE))
            x = int(np.clip(cx - PATCH_SIZE // 2, 0, width - PATCH_SIZE))
            images[i] = photo.work[y : y + PATCH_SIZE, x : x + PATCH_SIZE]
            labels[i] = photo.label[y : y + PATCH_SIZE, x : x + PATCH_SIZE]
        return preprocess_patches(images), labels[..., np.newaxis]


@dataclass
class PatchSource:
    """An .npz patch file, preprocessed: all its patches ``x``/``y`` and its contiguous-block
    ``split`` into training and holdout."""

    path: Path
    weight: float
    x: np.ndarray
    y: np.ndarray
    split: Split

    @property
    def x_train(self) -> np.ndarray:
        return self.x[self.split.train]

    @property
    def y_train(self) -> np.ndarray:
        return self.y[self.split.train]

    @property
    def x_holdout(self) -> np.ndarray:
        return self.x[self.split.holdout]

    @property
    def y_holdout(self) -> np.ndarray:
        return self.y[self.split.holdout]

    def crops(self, rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
        """``count`` training patches drawn at random (with replacement)."""
        picked = self.split.train[rng.integers(0, len(self.split.train), count)]
        return self.x[picked], self.y[picked]


def load_patch_source(path: Path, weight: float, holdout: float) -> PatchSource:
    """An .npz file's ``x_train``/``y_train`` split into training patches and holdout blocks.

    Raises:
        InputError: the file cannot be used, or the holdout leaves nothing to train on.
    """
    data = load_dataset(path)
    try:
        split = holdout_split(len(data.x_train), holdout)
    except ValueError as exc:
        raise InputError(f"{path}: {exc}") from None
    x = preprocess_patches(data.x_train)
    return PatchSource(path, weight, x, data.y_train[..., np.newaxis].astype(np.float32), split)


def load_photo_source(
    path: Path, weight: float, holdout: float, channel: str = "luma", layout: str | None = None
) -> PhotoSource:
    """A folder of labelled photographs, split by whole photographs (:func:`photo_holdout`).

    Raises:
        InputError: the folder or one of its files cannot be used.
    """
    dataset = find_dataset(path, layout)
    held = set(photo_holdout(len(dataset.photos), holdout).tolist())
    train, kept = [], []
    for i, photo in enumerate(dataset.photos):
        loaded = load_labelled(photo)
        if i in held:
            kept.append(loaded)
        else:
            train.append(working_photo(loaded, channel))
    return PhotoSource(dataset, weight, train, kept)


def dataset_sha256(dataset: PhotoDataset) -> str:
    """SHA-256 over a dataset's files (photographs, labels, masks) in order, by name and
    content: the same photographs always give the same fingerprint."""
    digest = hashlib.sha256()
    for photo in dataset.photos:
        for path in (photo.image, photo.label, photo.mask):
            if path is not None:
                digest.update(f"{path.relative_to(dataset.root)}:{file_sha256(path)}\n".encode())
    return digest.hexdigest()


def sources_sha256(sources: list[PatchSource | PhotoSource]) -> str:
    """The training data's fingerprint: a single patch file's own SHA-256 (as before there were
    folders), else SHA-256 over every source's fingerprint and weight."""
    if len(sources) == 1 and isinstance(sources[0], PatchSource):
        return file_sha256(sources[0].path)
    digest = hashlib.sha256()
    for source in sources:
        fingerprint = (
            file_sha256(source.path)
            if isinstance(source, PatchSource)
            else dataset_sha256(source.dataset)
        )
        digest.update(f"{fingerprint}:{source.weight}\n".encode())
    return digest.hexdigest()
