"""The labelled maps of folders of labelled photographs, for checking the measurements: each
photograph's manual vessel label, its artery/vein label where the set has them (DRIVE's
``AV/NN_test.png`` (RITE), the generic layout's ``labels-av/NAME.png``), its field-of-view
mask, and its camera's field of view in degrees where the catalog states it."""

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.data.catalog import DATASETS
from edge_runtime.data.photos import list_dataset
from edge_runtime.measure.scale import CameraScale

CAMERAS = ("drive", "stare", "gave", "les-av")
"""The folders of the shared reference data, one camera each, named as the catalog names the
sets (:data:`~edge_runtime.data.catalog.DATASETS`)."""

ARTERY_VEIN_CAMERAS = ("drive", "gave", "les-av")
"""Those with artery/vein labels."""


@dataclass(frozen=True)
class LabelledMap:
    """One labelled photograph: its ``camera`` (folder), ``name``, files (``artery_vein`` and
    ``mask`` are ``None`` where the set has none)."""

    camera: str
    name: str
    image: Path
    label: Path
    artery_vein: Path | None
    mask: Path | None

    def camera_scale(self, shape: tuple[int, int]) -> CameraScale:
        """What gives its maps, ``shape`` (H, W), their millimetres: its set's field of view in
        degrees for photographs of that size (the catalog's ``fields``), or pixels only where
        the catalog states none (GAVE's)."""
        dataset = DATASETS.get(self.camera)
        degrees = None if dataset is None else dataset.field_degrees((shape[1], shape[0]))
        return CameraScale(field_degrees=degrees)


def labelled_maps(data_dir: str | Path, cameras: tuple[str, ...] = CAMERAS) -> list[LabelledMap]:
    """The usable labelled photographs of each camera's folder under ``data_dir`` (a folder
    that is missing is skipped; a photograph with a problem is left out).

    Raises:
        InputError: a camera's folder is in no known layout.
    """
    found = []
    for camera in cameras:
        root = Path(data_dir) / camera
        if not root.is_dir():
            continue
        for photo in list_dataset(root).photos:
            if photo.problem or photo.label is None:
                continue
            found.append(
                LabelledMap(
                    camera, photo.name, photo.image, photo.label, photo.artery_vein, photo.mask
                )
            )
    return found


def artery_vein_maps(
    data_dir: str | Path, cameras: tuple[str, ...] = ARTERY_VEIN_CAMERAS, limit: int | None = None
) -> list[LabelledMap]:
    """The usable labelled photographs with an artery/vein label (:func:`labelled_maps`), at
    most ``limit`` of each camera.

    Raises:
        InputError: a camera's folder is in no known layout.
    """
    taken: Counter[str] = Counter()
    found = []
    for item in labelled_maps(data_dir, cameras):
        if item.artery_vein is not None and (limit is None or taken[item.camera] < limit):
            taken[item.camera] += 1
            found.append(item)
    return found
