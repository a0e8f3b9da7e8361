"""Label, mask and map image files, read as stored: upright, one picture, bounded in size."""

from pathlib import Path

import numpy as np
from PIL import ImageOps, UnidentifiedImageError

from edge_runtime.errors import InputError, first_line
from edge_runtime.pipeline.decode import NOT_AN_IMAGE, ORIENTATION, opened_image

KEPT_MODES = ("1", "L", "RGB", "I;16", "I;16B", "I;16L", "I", "F")
"""Pillow modes read as they are; any other (palette, alpha, CMYK) is read as RGB."""

LOSSY_FORMATS = ("JPEG", "MPO")
"""Pillow formats that are always lossy: a label, mask or map saved so has compression noise
around every edge, which would be read as set pixels (a JPEG of quality 98 has few enough
distinct values to pass as a map)."""


def read_label_image(path: Path, what: str, shape: tuple[int, int] | None = None) -> np.ndarray:
    """The pixels of a label, mask or map image, (H, W) or (H, W, 3), turned upright by its
    EXIF orientation (like a photograph); ``what`` names it in messages ("the label").

    With ``shape``, it must be that photograph's size, checked before its pixels are decoded.

    Raises:
        InputError: unreadable, refused by :func:`~edge_runtime.pipeline.decode.opened_image`
            (too large, several pictures; 32-bit integer and float values are read as they are),
            saved in a lossy format (:data:`LOSSY_FORMATS`), or not ``shape``.
    """
    try:
        with opened_image(path, what, any_depth=True) as image:
            if image.format in LOSSY_FORMATS:
                raise InputError(
                    f"{path}: {what} saved as {image.format}, whose compression changes the "
                    "pixels around every edge: save it losslessly, as PNG"
                )
            width, height = image.size
            if image.getexif().get(ORIENTATION, 1) in (5, 6, 7, 8):
                width, height = height, width
            if shape is not None and (height, width) != tuple(shape):
                raise InputError(
                    f"{path}: {width}x{height} pixels, but the photograph is {shape[1]}x{shape[0]}"
                )
            upright = ImageOps.exif_transpose(image)
            if upright.mode not in KEPT_MODES:
                upright = upright.convert("RGB")
            return np.asarray(upright)
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError(f"{path}: cannot read {what} ({NOT_AN_IMAGE})") from None
    except Exception as exc:  # malformed bytes make Pillow raise almost anything
        raise InputError(f"{path}: cannot read {what} ({first_line(exc)})") from None
