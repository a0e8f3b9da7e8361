"""Vessel maps read from image files: binary vessel masks and artery/vein label images.

A vessel mask is any image whose non-zero pixels are vessel (what ``edge-seg segment`` writes,
and the manual labels of the public sets). An artery/vein label is an RGB image in the colours
of the RITE, GAVE and LES-AV labels, decoded by :mod:`edge_runtime.data.artery_vein`: red
artery, blue vein, green (or white) where they cross or the class is uncertain, black
background. A crossing belongs to both classes, so that neither vessel is cut where they cross.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_runtime.contract.artery_vein_classes import ArteryVein
from edge_runtime.data.artery_vein import decode_artery_vein
from edge_runtime.data.binary_image import as_binary, as_field_mask
from edge_runtime.data.label_image import read_label_image
from edge_runtime.errors import InputError, described


@dataclass(frozen=True)
class VesselMap:
    """A map's ``vessels`` (boolean (H, W)), and for an artery/vein map its ``classes``
    (int8 (H, W) :class:`~edge_runtime.contract.artery_vein_classes.ArteryVein` codes), from
    which each class's vessels are made when asked for, one at a time."""

    vessels: np.ndarray
    classes: np.ndarray | None = None

    def __post_init__(self):
        vessels = self.vessels
        if not isinstance(vessels, np.ndarray) or vessels.dtype != bool or vessels.ndim != 2:
            raise InputError(
                f"vessel map: got {described(vessels)}, expected a boolean (H, W) array"
            )
        classes = self.classes
        if classes is not None and (
            not isinstance(classes, np.ndarray)
            or classes.dtype != np.int8
            or classes.shape != vessels.shape
        ):
            raise InputError(
                f"artery/vein map: got {described(classes)}, expected int8 ArteryVein codes "
                f"of the vessel map's shape {vessels.shape}"
            )
        if classes is not None and classes.size:
            low, high = int(classes.min()), int(classes.max())
            if low < min(ArteryVein) or high > max(ArteryVein):
                raise InputError(
                    f"artery/vein map: holds codes {low} to {high}, expected ArteryVein codes "
                    f"{min(ArteryVein):d} to {max(ArteryVein):d} (a code of no class would "
                    "leave its pixels out of both)"
                )

    def of_class(self, code: ArteryVein) -> np.ndarray | None:
        """The vessels of the class ``code`` (ARTERY or VEIN), boolean (H, W): its own and the
        uncertain ones and crossings, which belong to both (zone B's calibers then leave out the
        vessels mostly uncertain: :mod:`~edge_runtime.measure.caliber`); ``None`` for a vessel
        map alone."""
        if self.classes is None:
            return None
        found = self.classes == code
        found |= self.classes == ArteryVein.UNCERTAIN
        return found

    @property
    def arteries(self) -> np.ndarray | None:
        """The arteries (:meth:`of_class`)."""
        return self.of_class(ArteryVein.ARTERY)

    @property
    def veins(self) -> np.ndarray | None:
        """The veins (:meth:`of_class`)."""
        return self.of_class(ArteryVein.VEIN)


def read_map(path: str | Path, artery_vein: bool = False) -> VesselMap:
    """Read a vessel mask, or with ``artery_vein`` an artery/vein label (module docstring).

    Raises:
        InputError: unreadable, not a map of a few values
            (:func:`~edge_runtime.data.binary_image.as_binary`), or not an artery/vein label
            (:func:`~edge_runtime.data.artery_vein.decode_artery_vein`; an all-black one is a
            map without vessels, as ``segment --av`` writes it when it finds none).
    """
    path = Path(path)
    if artery_vein:
        pixels = read_label_image(path, "an artery/vein label image")
        classes = decode_artery_vein(pixels, path, blank_ok=True)
        return VesselMap(classes != ArteryVein.BACKGROUND, classes)
    return VesselMap(as_binary(read_label_image(path, "a vessel map image"), path, "vessel map"))


def read_field_mask(path: str | Path) -> np.ndarray:
    """A field-of-view mask (non-zero = inside), boolean (H, W).

    Raises:
        InputError: unreadable, or not a mask with an inside and an outside
            (:func:`~edge_runtime.data.binary_image.as_field_mask`).
    """
    path = Path(path)
    return as_field_mask(read_label_image(path, "a field-of-view mask image"), path)


def check_same_size(path: str | Path, vessels: np.ndarray, mask_path: str | Path, mask: np.ndarray):
    """Refuse a map whose size is not its field-of-view mask's.

    Raises:
        InputError: the sizes differ.
    """
    if vessels.shape != mask.shape:
        raise InputError(
            f"{path}: got {vessels.shape[1]}x{vessels.shape[0]} pixels, expected the "
            f"{mask.shape[1]}x{mask.shape[0]} of the field-of-view mask {mask_path}"
        )
