"""Training data: labelled patch files and folders of labelled photographs, mixed by weight.

A folder of photographs becomes training data through the device's own pipeline (field of view,
scale to the model's working disc, grayscale: ``edge_runtime.pipeline.segmenter.prepare``):
random crops at random positions inside the field of view, drawn afresh every epoch, each
contrast-stretched as the device stretches its tiles; the prepared photographs wait on disk
(:class:`PhotoCache`), so memory does not grow with their number. Its holdout is whole
photographs, never crops of one photograph on both sides, and only those that can be scored. A
patch file keeps its contiguous-block holdout.
"""

import hashlib
import os
import tempfile
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_runtime.contract.holdout import Split, holdout_split
from edge_runtime.contract.model_card import ModelCard
from edge_runtime.contract.preprocessing import PATCH_SIZE, preprocess_patches
from edge_runtime.data.patches import check_npz_file, file_sha256, load_dataset
from edge_runtime.data.photos import (
    LabelledPhoto,
    LoadedPhoto,
    PhotoDataset,
    find_dataset,
    load_labelled,
    photo_holdout,
)
from edge_runtime.errors import InputError
from edge_runtime.pipeline.decode import Photo, load_photo
from edge_runtime.pipeline.resize import resize
from edge_runtime.pipeline.segmenter import Prepared, prepare
from training.config import RECIPES, TrainConfig


def parse_data_argument(argument: str) -> tuple[Path, float]:
    """Split ``PATH`` or ``PATH:WEIGHT`` into a data source and its share of the samples.

    The weight, a positive number, is relative to the other sources' weights (1 by default).
    """
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


def source_path(argument: str) -> Path:
    """The path a ``PATH[:WEIGHT]`` argument names (a bad weight is refused in its turn)."""
    try:
        return parse_data_argument(argument)[0]
    except InputError:
        return Path(argument)


def refuse_a_channel_for_patches(config: TrainConfig) -> None:
    """Refuse a channel other than luma when a source is an .npz file, before anything is read.

    Its patches are grayscale already, taken as luma: alone or beside photographs read in the
    channel, the card would have the device read it for a model trained on luma patches. A file
    among the sources that does not begin as an .npz file (a photograph given where its folder
    is meant) is said to be none instead; a source that is no file is no .npz file (one missing
    is said so when it is read).

    Raises:
        InputError: naming the channel, the recipe that set it, and the .npz files.
    """
    if config.channel == "luma":
        return
    paths = [source_path(d) for d in config.data]
    files = [path for path in paths if path.is_file()]
    if not files:
        return
    for path in files:
        check_npz_file(path)
    recipe = RECIPES.get(config.recipe, {})
    source = f" (from --recipe {config.recipe})" if recipe.get("channel") == config.channel else ""
    photographs = f" and {config.channel} photographs" if len(files) < len(paths) else ""
    raise InputError(
        f"--channel {config.channel}{source}: a channel of photographs, but "
        f"{', '.join(map(str, files))} {'holds' if len(files) == 1 else 'hold'} .npz patches, "
        "grayscale already and taken as luma (as the reference patches are): the model card "
        f"would have the device read {config.channel} from photographs for a model trained on "
        f"luma patches{photographs}; pass --channel luma"
    )


@dataclass
class WorkingPhoto:
    """A training photograph as the model sees it.

    ``work`` is float32 grayscale at the working scale, ``label`` its boolean label, and
    ``inside`` the field of view there (boolean), where crops are centred; all of one shape.
    """

    name: str
    work: np.ndarray
    label: np.ndarray
    inside: np.ndarray


def training_prepared(photo: Photo, channel: str) -> Prepared:
    """The device's first stage with the model card's default disc and the training patch size."""
    return prepare(photo, ModelCard().fov_diameter, PATCH_SIZE, channel)


def working_photo(loaded: LoadedPhoto, channel: str = "luma") -> WorkingPhoto:
    """A labelled photograph through the device's first stage, its label cut and resized alike.

    The label is resized antialiased, then halved at 0.5.
    """
    prepared = training_prepared(loaded.photo, channel)
    return WorkingPhoto(
        loaded.name, prepared.work, working_label(loaded.label, prepared), prepared.inside
    )


def working_label(label: np.ndarray, prepared: Prepared) -> np.ndarray:
    """A photograph-size boolean label at the working scale.

    Cut and resized as the device's first stage cut and resized the photograph: antialiased,
    then halved at 0.5.
    """
    top, left, bottom, right = prepared.box
    return resize(label[top:bottom, left:right].astype(np.float32), prepared.work.shape) >= 0.5


@dataclass(frozen=True)
class CachedPhoto:
    """Where a :class:`PhotoCache` keeps one working photograph.

    From ``offset``: the running count of field-of-view pixels before each row (int64,
    ``height + 1``), ``work`` (float32), then ``label`` and ``inside`` (bits, each row packed to
    whole bytes).
    """

    name: str
    offset: int
    height: int
    width: int
    fov_pixels: int

    @property
    def row_bytes(self) -> int:
        """Bytes of one packed row of ``label`` or ``inside``."""
        return -(-self.width // 8)

    @property
    def work_offset(self) -> int:
        """Where ``work`` starts."""
        return self.offset + 8 * (self.height + 1)

    @property
    def label_offset(self) -> int:
        """Where ``label`` starts."""
        return self.work_offset + 4 * self.height * self.width

    @property
    def inside_offset(self) -> int:
        """Where ``inside`` starts."""
        return self.label_offset + self.height * self.row_bytes


class PhotoCache:
    """Working photographs in one temporary file, read back a crop at a time.

    Memory holds only where each lies, however many there are. The file has no name (it goes
    when the cache is closed or the process ends, however it ends); it lies in the temporary
    folder (``$TMPDIR``), about 1.3 MB per photograph at the default working scale.
    """

    def __init__(self):
        self._file = tempfile.TemporaryFile(prefix="edge-seg-photos-")  # noqa: SIM115 (close())
        self._lock = threading.Lock()  # a seek and a read belong together
        self.photos: list[CachedPhoto] = []

    def __len__(self) -> int:
        return len(self.photos)

    def __enter__(self) -> "PhotoCache":
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def close(self) -> None:
        """Close (and so remove) the file."""
        self._file.close()

    def add(self, photo: WorkingPhoto) -> None:
        """Append a working photograph."""
        height, width = photo.work.shape
        rows = np.zeros(height + 1, dtype=np.int64)
        np.cumsum(np.count_nonzero(photo.inside, axis=1), out=rows[1:])
        offset = self._file.seek(0, os.SEEK_END)
        label, inside = np.packbits(photo.label, axis=1), np.packbits(photo.inside, axis=1)
        for part in (rows, photo.work.astype(np.float32), label, inside):
            self._file.write(np.ascontiguousarray(part).data)
        self._file.flush()
        self.photos.append(CachedPhoto(photo.name, offset, height, width, int(rows[-1])))

    def _read(self, offset: int, dtype: type, count: int) -> np.ndarray:
        out = np.empty(count, dtype=dtype)
        with self._lock:
            self._file.seek(offset)
            got = self._file.readinto(memoryview(out).cast("B"))
        if got != out.nbytes:
            raise OSError(f"training photograph cache: read {got} of {out.nbytes} bytes")
        return out

    def _bit_rows(self, photo: CachedPhoto, offset: int, first: int, count: int) -> np.ndarray:
        packed = self._read(offset + first * photo.row_bytes, np.uint8, count * photo.row_bytes)
        return np.unpackbits(packed.reshape(count, -1), axis=1, count=photo.width)

    def position(self, photo: CachedPhoto, index: int) -> tuple[int, int]:
        """(row, column) of the ``index``-th field-of-view pixel, in row-major order."""
        rows = self._read(photo.offset, np.int64, photo.height + 1)
        row = int(np.searchsorted(rows, index, "right")) - 1
        inside = self._bit_rows(photo, photo.inside_offset, row, 1)[0]
        return row, int(np.flatnonzero(inside)[index - rows[row]])

    def crop(self, photo: CachedPhoto, y: int, x: int, size: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``size``-square of ``work`` (float32) and of ``label`` (uint8 {0, 1}) at (y, x)."""
        work = self._read(photo.work_offset + 4 * y * photo.width, np.float32, size * photo.width)
        label = self._bit_rows(photo, photo.label_offset, y, size)
        return work.reshape(size, -1)[:, x : x + size], label[:, x : x + size]


@dataclass
class PhotoSource:
    """A folder of labelled photographs: the training ones ready to crop, the holdout ones.

    The training photographs are kept on disk (:class:`PhotoCache`); the holdout is the ones
    that can be scored, read again whenever they are, to be segmented as the device would;
    ``unscorable`` the held-out ones that cannot (:func:`unscorable`), held out all the same.
    """

    dataset: PhotoDataset
    weight: float
    train: PhotoCache
    holdout: list[LabelledPhoto]
    unscorable: list[LabelledPhoto]

    def __enter__(self) -> "PhotoSource":
        return self

    def __exit__(self, *_) -> None:
        self.train.close()

    def crops(self, rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
        """``count`` random crops centred inside the field of view, clipped to the photograph.

        Returns preprocessed inputs (N, P, P, 1) and labels (N, P, P, 1).
        """
        images = np.empty((count, PATCH_SIZE, PATCH_SIZE), dtype=np.float32)
        labels = np.empty_like(images)
        cache = self.train
        for i in range(count):
            photo = cache.photos[rng.integers(len(cache))]
            cy, cx = cache.position(photo, int(rng.integers(photo.fov_pixels)))
            y = int(np.clip(cy - PATCH_SIZE // 2, 0, photo.height - PATCH_SIZE))
            x = int(np.clip(cx - PATCH_SIZE // 2, 0, photo.width - PATCH_SIZE))
            images[i], labels[i] = cache.crop(photo, y, x, PATCH_SIZE)
        return preprocess_patches(images), labels[..., np.newaxis]


@dataclass
class PatchSource:
    """An .npz patch file, preprocessed, and its split into training and holdout.

    ``x``/``y`` are all its patches, ``split`` its contiguous blocks.
    """

    path: Path
    weight: float
    x: np.ndarray
    y: np.ndarray
    split: Split

    @property
    def x_train(self) -> np.ndarray:
        """The training patches."""
        return self.x[self.split.train]

    @property
    def y_train(self) -> np.ndarray:
        """The training patches' labels."""
        return self.y[self.split.train]

    @property
    def x_holdout(self) -> np.ndarray:
        """The held-out patches."""
        return self.x[self.split.holdout]

    @property
    def y_holdout(self) -> np.ndarray:
        """The held-out patches' labels."""
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

    The training ones are prepared into a :class:`PhotoCache`; of the held-out ones, those that
    can be scored are kept to be scored (:func:`unscorable`; the others apart, with a warning
    each).

    Raises:
        InputError: the folder or one of its training photographs cannot be used, or none of
            its held-out photographs can be scored.
    """
    dataset = find_dataset(path, layout)
    dataset.warn_of_unmatched()
    held = photo_holdout(len(dataset.photos), holdout)
    scorable, unscored = [], []
    for i in held:
        problem = unscorable(dataset.photos[i], channel)
        if problem:
            warnings.warn(
                f"{problem}; this held-out photograph does not take part in choosing the "
                "checkpoint and threshold",
                stacklevel=2,
            )
            unscored.append(dataset.photos[i])
        else:
            scorable.append(dataset.photos[i])
    if len(held) and not scorable:
        raise InputError(
            f"{path}: none of its {len(held)} held-out photographs can be scored, expected at "
            "least one to choose the checkpoint and threshold"
        )
    training = np.delete(np.arange(len(dataset.photos)), held)
    photos = (working_photo(load_labelled(dataset.photos[i]), channel) for i in training)
    return PhotoSource(dataset, weight, _cached(photos), scorable, unscored)


def unlabelled_source(path: Path, channel: str = "luma") -> PhotoSource:
    """The photographs of a folder of labelled photographs alone, ready to crop, none held out.

    Only the photographs are read (what calibrating int8 ranges needs): not their labels, which
    may be missing or blank (a crop's label is empty), nor their masks (crops are centred in
    the field of view the runtime detects, as a training photograph's are).

    Raises:
        InputError: the folder cannot be used, or one of its photographs cannot be read.
    """
    dataset = find_dataset(path)
    photos = (
        _unlabelled(photo.name, training_prepared(load_photo(photo.image), channel))
        for photo in dataset.photos
    )
    return PhotoSource(dataset, 1.0, _cached(photos), [], [])


def _unlabelled(name: str, prepared: Prepared) -> WorkingPhoto:
    return WorkingPhoto(name, prepared.work, np.zeros_like(prepared.inside), prepared.inside)


def _cached(photos: Iterable[WorkingPhoto]) -> PhotoCache:
    """A :class:`PhotoCache` of ``photos`` (closed if one of them fails)."""
    cache = PhotoCache()
    try:
        for photo in photos:
            cache.add(photo)
    except BaseException:
        cache.close()
        raise
    return cache


def unscorable(photo: LabelledPhoto, channel: str) -> str | None:
    """Why a held-out photograph cannot choose a checkpoint or threshold (``None`` if it can).

    It cannot be read, or no vessel pixel of its label lies inside the field of view it is
    scored in (its mask, else the one the runtime detects), so that its F1 would be undefined or
    its field of view empty.
    """
    try:
        loaded = load_labelled(photo)
    except InputError as exc:
        return str(exc)
    fov = loaded.fov
    if fov is None:
        prepared = training_prepared(loaded.photo, channel)
        fov = prepared.fov.mask(prepared.shape)
    if not fov.any():
        return f"{photo.mask or photo.image}: no pixel inside the field of view"
    if not (loaded.label & fov).any():
        return f"{photo.label}: no vessel pixel inside the field of view"
    return None


def dataset_sha256(dataset: PhotoDataset) -> str:
    """SHA-256 over a dataset's files (photographs, labels, masks) in order, by name and content.

    The same photographs always give the same fingerprint.
    """
    digest = hashlib.sha256()
    for photo in dataset.photos:
        for path in (photo.image, photo.label, photo.mask):
            if path is not None:
                digest.update(f"{path.relative_to(dataset.root)}:{file_sha256(path)}\n".encode())
    return digest.hexdigest()


def sources_sha256(sources: list[PatchSource | PhotoSource]) -> str:
    """The training data's fingerprint.

    It is a single patch file's own SHA-256 (as before there were folders), else SHA-256 over
    every source's fingerprint and weight.
    """
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
