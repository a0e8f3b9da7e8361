"""Label, mask and vessel-map images as booleans: non-zero is set, in an image of a few values;
in one of several colours and no zero, its darkest colour when near black (:data:`NEAR_BLACK`)
is the background."""

from pathlib import Path

import numpy as np

from edge_runtime.errors import InputError
from edge_runtime.ordered import distinct

MAX_LEVELS = 16
"""A map holds a few values (a mask two, an artery/vein label four); an image with more
distinct values than this is a photograph, a probability map or a JPEG copy of a map (whose
compression noise would be read as set pixels), not a map."""


def levels(pixels: np.ndarray) -> int:
    """Distinct values (colours) of an (H, W) or (H, W, 3) image."""
    if pixels.ndim == 3:
        packed = pixels[..., 0].astype(np.uint32) << 16 | pixels[..., 1].astype(np.uint32) << 8
        return len(distinct(packed | pixels[..., 2]))
    return len(distinct(pixels))


NEAR_BLACK = 8 / 255
"""Share of an integer image's full scale up to which each channel of its darkest colour may
reach for that colour to be its background when it holds no zero: DRIVE's second observer's
labels are palette GIFs whose black is (4, 2, 4), and were read as vessels everywhere."""


def _off_near_black(pixels: np.ndarray) -> np.ndarray | None:
    """The pixels of an 8- or 16-bit image not of its darkest colour, boolean (H, W), when that
    colour is near black (:data:`NEAR_BLACK`) and no other is as dark; else ``None``."""
    if pixels.dtype not in (np.uint8, np.uint16):
        return None
    brightest = pixels.max(axis=2) if pixels.ndim == 3 else pixels
    darkest = np.unravel_index(np.argmin(brightest), brightest.shape)
    if brightest[darkest] > NEAR_BLACK * np.iinfo(pixels.dtype).max:
        return None
    off = pixels != pixels[darkest]
    off = off.any(axis=2) if pixels.ndim == 3 else off
    if (off & (brightest == brightest[darkest])).any():
        return None  # (3, 0, 0) and (0, 0, 3): which lay first was the background
    return off


def as_binary(pixels: np.ndarray, path: Path, what: str) -> np.ndarray:
    """The set pixels of a ``what`` image, boolean (H, W): any non-zero colour, or in an
    image of several colours and no zero any colour but its darkest when that is near black
    (:func:`_off_near_black`; an image of one colour has nothing to tell it from).

    Raises:
        InputError: it holds more than :data:`MAX_LEVELS` values, or (in floats) one that is
            not a number.
    """
    if pixels.dtype.kind == "f" and not np.isfinite(pixels).all():
        raise InputError(f"{path}: holds values that are not numbers (NaN or infinite)")
    values = levels(pixels)
    if values > MAX_LEVELS:
        raise InputError(
            f"{path}: got {values} distinct values, expected a {what} of a few (0 = background, "
            "non-zero = set; a photograph, a probability map or a JPEG copy is not one: save "
            "it losslessly, as PNG)"
        )
    found = pixels.any(axis=2) if pixels.ndim == 3 else pixels != 0
    off_black = _off_near_black(pixels) if values > 1 and found.all() else None
    return found if off_black is None else off_black


def as_field_mask(pixels: np.ndarray, path: Path) -> np.ndarray:
    """The inside (any non-zero colour) of a field-of-view mask image, boolean (H, W).

    Raises:
        InputError: not a mask (:func:`as_binary`), no pixel inside, or none outside: a mask
            whose outside is neither 0 nor near black (9 and 255, say) or of the whole frame
            would have the black beyond the field scored or measured as retina.
    """
    mask = as_binary(pixels, path, "field-of-view mask")
    if not mask.any():
        raise InputError(f"{path}: no pixel inside the field of view, expected a disc")
    if mask.all():
        raise InputError(
            f"{path}: no pixel outside the field of view (0), expected a disc: its outside "
            "is another value, not black (grey?), or it covers the whole frame (then give no mask)"
        )
    return mask
