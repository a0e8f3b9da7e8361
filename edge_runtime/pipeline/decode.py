"""Decode photographs with Pillow (stage 1 of the pipeline).

Decoding honours EXIF orientation and accepts 8- and 16-bit grayscale, RGB, RGBA, palette and
CMYK files. Every problem is raised as :class:`InputError` naming the file.
"""

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from edge_runtime.errors import InputError

MAX_PIXELS = 64_000_000
"""Largest photograph accepted (64 megapixels); larger dimensions are treated as a
decompression bomb and refused before decoding."""

MIN_SIDE = 64
"""Smallest accepted side in pixels."""

_TOO_LARGE = f"exceed the {MAX_PIXELS // 1_000_000}-megapixel limit"
_GRAY_MODES = {"L": np.uint8, "I;16": np.uint16, "I;16B": np.uint16, "I;16L": np.uint16}


def _array(image: Image.Image) -> np.ndarray:
    if image.mode in _GRAY_MODES:
        return np.asarray(image, dtype=_GRAY_MODES[image.mode])
    if image.mode in ("1", "LA", "La"):
        return np.asarray(image.convert("L"))
    if image.mode == "RGB":
        return np.asarray(image)
    return np.asarray(image.convert("RGB"))  # RGBA, palette, CMYK, YCbCr, ...


def load_image(path: str | Path) -> np.ndarray:
    """Decode a photograph into (H, W) grayscale or (H, W, 3) RGB, uint8 or uint16.

    Alpha is dropped, palette and CMYK images become RGB; 32-bit integer and float images are
    refused. The image is rotated upright by its EXIF orientation.

    Raises:
        InputError: missing path, a directory, an empty, unreadable or truncated file, an image
            larger than :data:`MAX_PIXELS` or with a side below :data:`MIN_SIDE`.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected an image file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise InputError(f"{path}: {width}x{height} pixels {_TOO_LARGE}")
                if image.mode in ("I", "F"):
                    raise InputError(
                        f"{path}: 32-bit {'float' if image.mode == 'F' else 'integer'} pixels "
                        "are not supported; save the photograph with 8 or 16 bits per channel"
                    )
                image.load()
                ImageOps.exif_transpose(image, in_place=True)
                array = _array(image)
    except UnidentifiedImageError:
        raise InputError(f"{path}: not an image file Pillow can read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(f"{path}: image dimensions {_TOO_LARGE} (decompression bomb?)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"{path}: cannot decode image ({exc})") from None
    if min(array.shape[:2]) < MIN_SIDE:
        raise InputError(
            f"{path}: {array.shape[1]}x{array.shape[0]} pixels is too small to segment "
            f"(each side needs at least {MIN_SIDE})"
        )
    return array
