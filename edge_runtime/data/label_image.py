"""Label, mask and map image files, read as stored: upright, one picture, bounded in size."""

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from edge_runtime.errors import InputError, first_line
from edge_runtime.pipeline.decode import (
    NOT_AN_IMAGE,
    SIXTEEN_BIT_MODES,
    opened_image,
    orientation_left,
    upright,
    upright_size,
)

KEPT_MODES = ("1", "L", "RGB", *SIXTEEN_BIT_MODES, "I", "F")
"""Pillow modes read as they are; any other (palette, alpha, CMYK) is read as RGB."""

LOSSY_FORMATS = ("JPEG", "MPO")
"""Pillow formats that are always lossy: a label, mask or map saved so has compression noise
around every edge, which would be read as set pixels (a JPEG of quality 98 has few enough
distinct values to pass as a map). A TIFF compressed as JPEG and a lossy WebP are refused too
(:func:`lossy`)."""

WEBP_LOSSY, WEBP_LOSSLESS = b"VP8 ", b"VP8L"
"""The chunks that hold a WebP's picture, lossy or lossless."""


def lossy(image, path: Path) -> str | None:
    """How an image opened from ``path`` was saved with loss ("JPEG", "TIFF compressed as
    JPEG", "lossy WebP"), or ``None``."""
    if image.format in LOSSY_FORMATS:
        return image.format
    if image.format == "TIFF" and "jpeg" in str(image.info.get("compression", "")):
        return "TIFF compressed as JPEG"
    if image.format == "WEBP" and _webp_picture_chunk(path) == WEBP_LOSSY:
        return "lossy WebP"
    return None


def _webp_picture_chunk(path: Path) -> bytes | None:
    """The first picture chunk of a WebP file (its RIFF chunks walked from the header)."""
    with open(path, "rb") as f:
        f.seek(12)  # RIFF, the size, WEBP
        while len(header := f.read(8)) == 8:
            kind, size = header[:4], int.from_bytes(header[4:], "little")
            if kind in (WEBP_LOSSY, WEBP_LOSSLESS):
                return kind
            f.seek(size + size % 2, 1)
    return None


def _refuse_transparency(image: Image.Image, path: Path, what: str) -> None:
    """Refuse an image with pixels that are not opaque: what they show depends on what lies
    behind them (a map painted on a transparent layer, or held in its transparency alone, would
    be read as its colours without it).

    Raises:
        InputError: it has such pixels.
    """
    if image.has_transparency_data and image.convert("RGBA").getchannel("A").getextrema()[0] < 255:
        raise InputError(
            f"{path}: {what} has transparent pixels, whose value depends on the background: "
            "save it without transparency"
        )


def read_label_image(path: Path, what: str, shape: tuple[int, int] | None = None) -> np.ndarray:
    """The pixels of a label, mask or map image, (H, W) or (H, W, 3), turned upright by its
    EXIF orientation (like a photograph); ``what`` names it in messages ("the label").

    With ``shape``, it must be that photograph's size, checked before its pixels are decoded.

    Raises:
        InputError: unreadable, refused by :func:`~edge_runtime.pipeline.decode.opened_image`
            (too large, several pictures; 32-bit integer and float values are read as they are),
            saved with loss (:func:`lossy`), not ``shape``, or with transparent pixels.
    """
    try:
        with opened_image(path, what, any_depth=True) as image:
            saved = lossy(image, path)
            if saved:
                raise InputError(
                    f"{path}: {what} saved as {saved}, whose compression changes the "
                    "pixels around every edge: save it losslessly, as PNG"
                )
            width, height = upright_size(image)
            if shape is not None and (height, width) != tuple(shape):
                raise InputError(
                    f"{path}: {width}x{height} pixels, but the photograph is {shape[1]}x{shape[0]}"
                )
            turned = upright(image, orientation_left(image))
            _refuse_transparency(turned, path, what)
            if turned.mode not in KEPT_MODES:
                turned = turned.convert("RGB")
            return np.asarray(turned)
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError(f"{path}: cannot read {what} ({NOT_AN_IMAGE})") from None
    except Exception as exc:  # malformed bytes make Pillow raise almost anything
        raise InputError(f"{path}: cannot read {what} ({first_line(exc)})") from None
