"""Label, mask and map image files, read as stored: upright, one picture, bounded in size."""

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from edge_runtime.errors import InputError, first_line
from edge_runtime.pipeline.decode import (
    MAX_PIXELS,
    NOT_AN_IMAGE,
    ORIENTATION,
    check_single_picture,
)
from edge_runtime.safe_open import open_regular

KEPT_MODES = ("1", "L", "RGB", "I;16", "I")
"""Pillow modes read as they are; any other (palette, alpha, CMYK) is read as RGB."""


def read_label_image(path: Path, what: str, shape: tuple[int, int] | None = None) -> np.ndarray:
    """The pixels of a label, mask or map image, (H, W) or (H, W, 3), turned upright by its
    EXIF orientation (like a photograph); ``what`` names it in messages ("the label").

    With ``shape``, it must be that photograph's size, checked before its pixels are decoded.

    Raises:
        InputError: missing, not a regular file, unreadable, larger than
            :data:`~edge_runtime.pipeline.decode.MAX_PIXELS`, of several pictures
            (:func:`~edge_runtime.pipeline.decode.check_single_picture`), or not ``shape``.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's complaints about damaged tags name no file
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with open_regular(path, what) as f, Image.open(f) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise InputError(
                        f"{path}: {width}x{height} pixels, expected at most {MAX_PIXELS:,}"
                    )
                if image.getexif().get(ORIENTATION, 1) in (5, 6, 7, 8):
                    width, height = height, width
                if shape is not None and (height, width) != tuple(shape):
                    raise InputError(
                        f"{path}: {width}x{height} pixels, but the photograph is "
                        f"{shape[1]}x{shape[0]}"
                    )
                check_single_picture(image, path)
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
