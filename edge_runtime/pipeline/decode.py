"""Decode photographs with Pillow (stage 1 of the pipeline), at no more resolution than needed.

Decoding honours EXIF orientation and accepts 8- and 16-bit grayscale, RGB, RGBA, palette and
CMYK files. A large photograph is decoded reduced by a power of two (a JPEG by its decoder's own
DCT scaling, cheaply; other files by averaging blocks of pixels, 16-bit ones a band of rows at a
time), keeping its long side at least :data:`REDUCED_LONG_SIDE`: the model works on a field of
view about 540 pixels across, and the memory and time of a photograph then stay bounded whatever
its size. Every problem is raised as :class:`InputError` naming the file.
"""

import contextlib
import functools
import io
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import numpy as np
from PIL import Image, UnidentifiedImageError

from edge_runtime.cached import cached_property
from edge_runtime.errors import InputError, UnreadableError, described, first_line
from edge_runtime.pipeline.blocks import row_blocks
from edge_runtime.pipeline.grayscale import has_colour
from edge_runtime.safe_open import open_regular

MAX_PIXELS = 25_000_000
"""Largest photograph accepted (25 megapixels: 6000x4000 and every fundus camera we know of).
Larger dimensions are refused before decoding. With every output asked for, the largest of any
format peaks under three quarters of the systemd unit's memory cap (firmware_notes/budgets.md
lists each format)."""

WHOLE_IMAGE_FORMATS = ("WEBP", "JPEG2000", "AVIF")
"""Formats (Pillow's names) whose decoders cannot decode reduced and hold the whole photograph
several times over while decoding (15-19 bytes per pixel for WebP and JPEG 2000)."""

MAX_WHOLE_IMAGE_PIXELS = 12_000_000
"""Largest photograph accepted in one of :data:`WHOLE_IMAGE_FORMATS` (12 megapixels, 4000x3000),
so that it peaks no higher than the largest photograph of other formats."""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".ppm", ".pgm", ".webp")
IMAGE_SUFFIXES += (".jp2", ".j2k", ".j2c", ".jpc", ".jpf", ".jpx", ".avif", ".avifs")
"""File name endings taken as photographs when a folder is given (any case)."""

MIN_SIDE = 64
"""Smallest accepted side in pixels."""

REDUCED_LONG_SIDE = 1600
"""A photograph is decoded reduced by the largest power of two (up to 8) that keeps its long side
at least this long: a field of view spanning a third of that is still wider than the model's
working disc (540 pixels)."""

MAX_REDUCTION = 8
"""JPEG decoders scale by 1/2, 1/4 or 1/8."""

REDUCTIONS = tuple(2**k for k in range(MAX_REDUCTION.bit_length()))
"""What a photograph may be reduced by: 1, 2, 4 or 8."""

SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N")
"""Pillow's modes of 16-bit grayscale, in each byte order."""

_T = TypeVar("_T")
_TOO_LARGE = f"exceed the {MAX_PIXELS // 1_000_000}-megapixel limit"
_GRAY_MODES = {"L": np.uint8, **dict.fromkeys(SIXTEEN_BIT_MODES, np.uint16)}
_WIDE_GRAY_MODES = (*SIXTEEN_BIT_MODES, "I")
"""16-bit grayscale as Pillow opens it (a 16-bit PGM opens as 32-bit "I"; see
:func:`opened_image`)."""


@dataclass(frozen=True)
class Photo:
    """A decoded photograph, upright.

    ``pixels`` is (h, w) grayscale or (h, w, 3) RGB, uint8 or uint16, reduced by ``reduction``
    (1, 2, 4 or 8) from the photograph's own ``shape`` (H, W): pixel (y, x) of ``pixels`` covers
    the photograph's pixels [y*r, (y+1)*r) x [x*r, (x+1)*r). ``source`` is the file it came from,
    or ``original`` the array: what :meth:`picture` shows at full size.
    """

    pixels: np.ndarray
    shape: tuple[int, int]
    reduction: int = 1
    source: Path | None = None
    original: np.ndarray | None = None

    def __post_init__(self):
        """Refuse pixels that cannot be this photograph's (a made-up one given to a segmenter
        was segmented at the size it claimed).

        Raises:
            InputError: the pixels are not (h, w) or (h, w, 3) uint8 or uint16, the reduction
                not 1, 2, 4 or 8, or the pixels not ``shape`` reduced (:func:`check_sides`
                says whether it is large enough to segment).
        """
        pixels, reduction = self.pixels, self.reduction
        if not (
            isinstance(pixels, np.ndarray)
            and (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] == 3))
            and pixels.dtype in (np.uint8, np.uint16)
        ):
            raise InputError(
                f"photo: got pixels {described(pixels)}, expected (h, w) or (h, w, 3) uint8 "
                "or uint16"
            )
        if reduction not in REDUCTIONS or len(self.shape) != 2:
            raise InputError(
                f"photo: got shape {self.shape} reduced by {reduction}, expected (H, W) and a "
                "reduction of 1, 2, 4 or 8"
            )
        sides = zip(pixels.shape[:2], self.shape, strict=True)
        if not all(s // reduction <= n <= -(-s // reduction) for n, s in sides):
            raise InputError(
                f"photo: got pixels of {pixels.shape[:2]}, which are not its shape {self.shape} "
                f"reduced by {reduction}"
            )

    @cached_property
    def coloured(self) -> bool:
        """Whether its pixels have colour (:func:`~edge_runtime.pipeline.grayscale.has_colour`),
        read once for its verdict and its arteries and veins alike."""
        return has_colour(self.pixels)

    def picture(self) -> Image.Image:
        """The photograph at its own size as an 8-bit RGB Pillow image, for display (16-bit
        photographs are scaled by their maximum); a reduced file is decoded again.

        Raises:
            ValueError: it is reduced, and neither its file nor its ``original`` is kept
                (:meth:`without_original`).
        """
        if self.reduction > 1 and self.source is not None:
            return _decoding(self.source, self._full_picture)
        pixels = self.original if self.original is not None else self.pixels
        if pixels.shape[:2] != self.shape:
            raise ValueError(
                f"photo: got pixels reduced by {self.reduction} from {self.shape[1]}x"
                f"{self.shape[0]} and neither their file nor the array of that size, expected "
                "a photograph to show at its own size (a result keeps an array's reduced "
                "pixels alone: show the Photo of photo_from_array)"
            )
        return Image.fromarray(to_uint8(pixels))

    def without_original(self) -> "Photo":
        """This photograph without ``original``: what the pipeline reads of it, its pixels as
        decoded, and no copy of an array at its own size (the pixels themselves where they are
        not reduced: :meth:`picture` shows them as before)."""
        return self if self.original is None else replace(self, original=None)

    def _full_picture(self) -> Image.Image:
        stored, orientation = _stored_rgb8(self.source)
        picture = upright(stored, orientation)  # turned after the file's own pixels are freed
        if picture.size[::-1] != self.shape:
            raise InputError(
                f"{self.source}: changed while being segmented (now {picture.size[0]}x"
                f"{picture.size[1]} pixels, was {self.shape[1]}x{self.shape[0]})"
            )
        return picture


def to_uint8(image: np.ndarray, top: float | None = None) -> np.ndarray:
    """An 8-bit RGB (H, W, 3) version of an (H, W) or (H, W, 3|4) image of any range, wider
    pixels scaled so that ``top`` (by default their maximum) is 255 (uint8 RGB is returned as it
    is; others are made a block of rows at a time)."""
    array = np.asarray(image)
    if array.dtype == np.uint8 and array.ndim == 3 and array.shape[2] == 3:
        return array
    out = np.empty((*array.shape[:2], 3), dtype=np.uint8)
    if top is None:
        top = 255.0 if array.dtype == np.uint8 else float(array.max()) or 1.0
    for rows in row_blocks(*array.shape[:2]):
        block = array[rows] if array.ndim == 3 else array[rows, :, np.newaxis]
        if array.dtype != np.uint8:
            block = np.clip(block.astype(np.float32) * (255.0 / top), 0, 255).astype(np.uint8)
        out[rows] = block[..., :3]
    return out


def reduction_for(height: int, width: int) -> int:
    """The power of two (at most :data:`MAX_REDUCTION`) to decode a photograph reduced by."""
    reduction = 1
    while reduction < MAX_REDUCTION and max(height, width) / (2 * reduction) >= REDUCED_LONG_SIDE:
        reduction *= 2
    return reduction


def _array(image: Image.Image) -> np.ndarray:
    if image.mode in _GRAY_MODES:
        return np.asarray(image, dtype=_GRAY_MODES[image.mode])
    if image.mode == "I":  # 16-bit grayscale widened to average it (see _reduced)
        return np.asarray(image).astype(np.uint16)
    if image.mode == "La":  # premultiplied: Pillow converts it to "LA" alone
        image = image.convert("LA")
    if image.mode in ("1", "LA"):
        return np.asarray(image.convert("L"))
    if image.mode == "RGB":
        return np.asarray(image)
    return np.asarray(image.convert("RGB"))  # RGBA, palette, CMYK, YCbCr, ...


def _reduced(
    image: Image.Image, reduction: int, box: tuple[int, int, int, int] | None = None
) -> Image.Image:
    """Average ``reduction`` x ``reduction`` blocks of ``box`` (all of the image by default) in
    Pillow; partial blocks at the right and bottom edges average what they hold, rounding to the
    pixel type."""
    if reduction == 1:
        return image if box is None else image.crop(box)
    if image.mode in _WIDE_GRAY_MODES:
        return _reduced_wide(image, reduction, box)
    if image.mode in ("L", "RGB", "RGBA", "RGBX", "CMYK", "LA"):
        return image.reduce(reduction, box)  # reduced first: converting the small image is cheap
    return image.convert("RGB").reduce(reduction, box)  # palette: its indices cannot be averaged


def _reduced_wide(
    image: Image.Image, reduction: int, box: tuple[int, int, int, int] | None
) -> Image.Image:
    """:func:`_reduced` of 16-bit grayscale: Pillow averages 32-bit ("I"), not 16-bit, pixels,
    so each band of rows is widened and reduced in turn (the whole photograph widened at once
    would double its memory)."""
    left, top, right, bottom = box or (0, 0, *image.size)
    reduced = Image.new("I", (-(-(right - left) // reduction), -(-(bottom - top) // reduction)))
    for rows in row_blocks(bottom - top, right - left, reduction):
        band = image.crop((left, top + rows.start, right, top + rows.stop)).convert("I")
        reduced.paste(band.reduce(reduction), (0, rows.start // reduction))
    return reduced


def _spans(length: int, reduction: int, reversed_: bool) -> list[tuple[int, int, int]]:
    """(start, end, reduced offset) of the spans of an axis to reduce separately: all of it,
    or, when the axis is reversed on turning upright, its partial block first."""
    partial = length % reduction
    if not reversed_ or partial == 0:
        return [(0, length, 0)]
    return [(0, partial, 0), (partial, length, 1)]


def _reduced_upright(image: Image.Image, reduction: int, orientation: int) -> Image.Image:
    """``image`` reduced and turned upright, its blocks aligned to the upright photograph's top
    left corner: an axis that turning reverses is reduced with its partial block at its start
    (so that it ends at the bottom or right), without turning the large image."""
    reversed_ = _REVERSED.get(orientation, "")
    xs = _spans(image.width, reduction, "x" in reversed_)
    ys = _spans(image.height, reduction, "y" in reversed_)
    if len(xs) == len(ys) == 1:
        return upright(_reduced(image, reduction), orientation)
    pieces = [
        (_reduced(image, reduction, (x0, y0, x1, y1)), (dx, dy))
        for x0, x1, dx in xs
        for y0, y1, dy in ys
    ]
    size = (-(-image.width // reduction), -(-image.height // reduction))
    reduced = Image.new(pieces[0][0].mode, size)
    for piece, at in pieces:
        reduced.paste(piece, at)
    return upright(reduced, orientation)


def reduce_pixels(pixels: np.ndarray, reduction: int) -> np.ndarray:
    """:func:`_reduced` for an (H, W[, 3]) uint8/uint16 array, a band of rows at a time: Pillow
    holds 8-bit colour at 4 bytes a pixel, and averages 16-bit pixels widened to 32 bits. The
    reduced pixels are in this machine's byte order (a big-endian frame buffer's too)."""
    if reduction == 1:
        return pixels
    height, width = pixels.shape[:2]
    shape = (-(-height // reduction), -(-width // reduction), *pixels.shape[2:])
    reduced = np.empty(shape, dtype=pixels.dtype.newbyteorder("="))
    for rows in row_blocks(height, width, reduction):
        into = reduced[rows.start // reduction : -(-rows.stop // reduction)]
        if pixels.dtype == np.uint8:
            into[...] = np.asarray(Image.fromarray(pixels[rows]).reduce(reduction))
            continue
        band, planes = np.atleast_3d(pixels[rows]), np.atleast_3d(into)
        for c in range(band.shape[2]):
            wide = Image.fromarray(band[..., c].astype(np.int32))
            planes[..., c] = np.asarray(wide.reduce(reduction))
    return reduced


ORIENTATION = 0x0112
"""EXIF orientation tag; values 5-8 turn the photograph a quarter, swapping its sides."""


def turned_a_quarter(orientation: int) -> bool:
    """Whether an EXIF orientation turns a picture a quarter, swapping its sides (5 to 8)."""
    return orientation in (5, 6, 7, 8)


_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
"""What turns a photograph of each EXIF orientation upright."""

_REVERSED = {2: "x", 3: "xy", 4: "y", 6: "y", 7: "xy", 8: "x"}
"""The stored axes each EXIF orientation's turn reverses."""


@functools.cache
def _pillow_on_tiffs() -> tuple[bool, bool]:
    """How this Pillow treats a TIFF's orientation: whether loading turns its pixels upright
    (and drops the tag: Pillow 10 and later), and whether the size it reads from the header
    is upright already (11 and later)."""
    stored = io.BytesIO()
    Image.new("L", (2, 1)).save(stored, "TIFF", tiffinfo={ORIENTATION: 6})
    with Image.open(stored) as image:
        size_upright = image.size == (1, 2)
        image.load()
        return image.size == (1, 2), size_upright


def _tagged_orientation(image: Image.Image) -> int:
    """An opened image's EXIF orientation tag; 1 where it has none, or one of no meaning."""
    orientation = image.getexif().get(ORIENTATION, 1)
    return orientation if orientation in _TRANSPOSE else 1


def orientation_left(image: Image.Image) -> int:
    """The EXIF orientation that an image Pillow opened is still to be turned by: its tag, or
    1 for a TIFF this Pillow turns upright itself when it loads it (turned by its tag as well,
    it was turned twice)."""
    if image.format == "TIFF" and _pillow_on_tiffs()[0]:
        return 1
    return _tagged_orientation(image)


def upright_size(image: Image.Image) -> tuple[int, int]:
    """The upright size (width, height) of an image Pillow opened, from its header and its
    orientation (Pillow 11 and later read a TIFF's size upright already)."""
    width, height = image.size
    if image.format == "TIFF" and _pillow_on_tiffs()[1]:
        return width, height
    return (height, width) if turned_a_quarter(_tagged_orientation(image)) else (width, height)


def upright(image: Image.Image, orientation: int) -> Image.Image:
    """``image`` turned upright from an EXIF ``orientation`` (:func:`orientation_left`)."""
    method = _TRANSPOSE.get(orientation)
    return image if method is None else image.transpose(method)


def _rgb8(image: Image.Image) -> Image.Image:
    """``image`` as 8-bit RGB; 16-bit grayscale is scaled by its maximum as :func:`to_uint8`
    scales arrays, a band of rows at a time."""
    if image.mode not in _WIDE_GRAY_MODES:
        return image if image.mode == "RGB" else image.convert("RGB")
    top = max(1, image.getextrema()[1])
    rgb = Image.new("RGB", image.size)
    for rows in row_blocks(image.height, image.width):
        band = np.asarray(image.crop((0, rows.start, image.width, rows.stop)))
        rgb.paste(Image.fromarray(to_uint8(band, top)), (0, rows.start))
    return rgb


ANIMATED_FORMATS = ("GIF", "PNG", "WEBP")
"""Formats whose several frames are an animation, each the whole picture: which one is meant
is not known. (A JPEG's further pictures, MPO, are previews or a stereo twin: its first is the
photograph.)"""


def check_single_picture(
    image: Image.Image, path: Path, remedy: str = "save the one meant alone"
) -> None:
    """Refuse a file that holds several full-size pictures: a multi-page TIFF (a thumbnail, a
    smaller page after the first, is left) or an animation; only the first would have been
    read (``remedy`` says what to do instead). A TIFF whose first page is smaller than a later
    one (a thumbnail first) is refused too.

    Raises:
        InputError: it holds two or more, or its first is not its largest.
    """
    frames = getattr(image, "n_frames", 1)
    if frames < 2 or image.format not in (*ANIMATED_FORMATS, "TIFF"):
        return
    full = frames
    if image.format == "TIFF":  # its pages' headers are read, not their pixels
        size, sizes = image.size, []
        try:
            for page in range(frames):
                image.seek(page)
                sizes.append(image.size)
        finally:
            image.seek(0)
        full = sizes.count(size)
        largest = max(sizes, key=lambda s: s[0] * s[1])
        if largest[0] * largest[1] > size[0] * size[1]:
            raise InputError(
                f"{path}: its first picture, {size[0]}x{size[1]}, is smaller than a later one, "
                f"{largest[0]}x{largest[1]} (a thumbnail first?): save the photograph alone"
            )
    if full > 1:
        raise InputError(
            f"{path}: holds {full} pictures of {image.size[0]}x{image.size[1]}, expected one "
            f"(a multi-page or animated file: {remedy})"
        )


MAX_PNG_EXIF_BYTES = 1 << 20
"""Largest PNG ``eXIf`` chunk whose orientation is read (a camera's EXIF is under 64 KiB)."""


def _png_exif_after_pixels(image: Image.Image) -> Image.Exif:
    """A PNG's EXIF where it follows the pixels, found by stepping over the chunks' data
    rather than decoding it (Pillow's ``getexif`` decodes the whole picture to reach it); empty
    where there is none, or it is larger than :data:`MAX_PNG_EXIF_BYTES`."""
    exif, f = Image.Exif(), image.fp
    f.seek(8)  # past the PNG signature
    while len(head := f.read(8)) == 8:
        length, kind = struct.unpack(">I4s", head)
        if kind == b"eXIf" and length <= MAX_PNG_EXIF_BYTES:
            exif.load(f.read(length))
            break
        if kind == b"IEND":
            break
        f.seek(length + 4, os.SEEK_CUR)  # the data and its CRC
    return exif


def stored_orientation(path: Path) -> tuple[int, tuple[int, int] | None]:
    """A file's EXIF orientation and its size as stored (width, height), from its header (a
    PNG's EXIF also after its pixels): 1 where it is stored upright, has no orientation or one
    of no meaning (0, 9: read upright), or cannot be read (its size then ``None``: its reader
    says what is wrong)."""
    try:
        with opened_image(path, any_depth=True) as image:
            if image.format == "PNG":  # not PNG's own getexif, which decodes the pixels
                exif = Image.Image.getexif(image)  # its header's EXIF, XMP or text chunk
                if ORIENTATION not in exif:
                    exif = _png_exif_after_pixels(image)
            else:
                exif = image.getexif()
            orientation = exif.get(ORIENTATION, 1)
            return (orientation if orientation in _TRANSPOSE else 1), image.size
    except Exception:
        return 1, None


def stored_pixels(path: Path) -> int | None:
    """A photograph's pixel count from its file's header; ``None`` where it cannot be read or is
    refused (:func:`opened_image`)."""
    try:
        with opened_image(path) as image:
            return image.width * image.height
    except Exception:  # Pillow raises many kinds on a damaged header; its reader says which
        return None


def _stored_rgb8(path: Path) -> tuple[Image.Image, int]:
    """A file's pixels as stored, in 8-bit RGB, and its EXIF orientation."""
    with opened_image(path) as image:
        image.load()
        return _rgb8(image), orientation_left(image)


def _deeper_than_16_bits(image: Image.Image) -> bool:
    """Whether an image's pixels are 32-bit float or integer values (a PGM's "I" pixels hold
    at most 16 bits: its maximum value is at most 65535)."""
    return image.mode == "F" or (image.mode == "I" and image.format != "PPM")


@contextlib.contextmanager
def opened_image(
    path: Path, what: str = "an image file", any_depth: bool = False
) -> Iterator[Image.Image]:
    """The file opened by Pillow (header read, pixels not yet), its size and mode checked:
    at most :data:`MAX_PIXELS` (:data:`MAX_WHOLE_IMAGE_PIXELS` in one of
    :data:`WHOLE_IMAGE_FORMATS`), one picture (:func:`check_single_picture`), and no 32-bit
    pixels but a 16-bit PGM's, unless ``any_depth`` (a label's, mask's or map's 32-bit integer
    or float values, which are judged by their count instead); ``what`` names it in messages.

    Raises:
        InputError: missing, not a regular file, or any of these checks failed.
    """
    with open_regular(path, what) as f, Image.open(f) as image:
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise InputError(f"{path}: {width}x{height} pixels {_TOO_LARGE}")
        if image.format in WHOLE_IMAGE_FORMATS and width * height > MAX_WHOLE_IMAGE_PIXELS:
            raise InputError(
                f"{path}: {width}x{height} pixels exceed the "
                f"{MAX_WHOLE_IMAGE_PIXELS // 1_000_000}-megapixel limit of {image.format} "
                "files (their decoder holds the whole picture several times over); save "
                "it as PNG or TIFF (a photograph also as JPEG)"
            )
        if _deeper_than_16_bits(image) and not any_depth:
            raise InputError(
                f"{path}: 32-bit {'float' if image.mode == 'F' else 'integer'} pixels "
                "are not supported; save it with 8 or 16 bits per channel"
            )
        check_single_picture(image, path)
        yield image


WIDE_COLOUR_LOWEST = 17
"""A file of 16-bit colour is read at 8 bits (Pillow keeps the high byte of each value, or
scales a PPM by its largest value, rounding: 4,095 of 65,535 reads 16); one whose brightest
8-bit value is below this holds a 10- or 12-bit sensor's values not scaled to 16 bits (under
4,096), which that leaves at 4 bits or fewer (DRIVE's 05_test so: F1 0.67 against 0.79, and
called grayscale), and is refused. (A photograph using its whole range this little would be
under 7 % of full brightness.)"""


def _wide_colour(image: Image.Image) -> bool:
    """Whether an image Pillow read from a file holds 16-bit colour, which it reads at 8: by
    its tile before its pixels are loaded, and once they are, by its file opened again (if it
    is still there, the same size); an image made in memory holds none."""
    tiles = getattr(image, "tile", None)  # none on an image made in memory (Pillow 11)
    filename = getattr(image, "filename", "")
    if not tiles and filename and Path(filename).is_file():
        with contextlib.suppress(Exception), Image.open(filename) as twin:
            if sorted(twin.size) == sorted(image.size):
                tiles = twin.tile
    if not tiles or image.mode not in ("RGB", "RGBA"):
        return False
    codec, args = tiles[0][0], tiles[0][3]  # a tuple before Pillow 11, a named one since
    raw = args[0] if isinstance(args, tuple) else args
    if codec == "ppm":  # (mode, the largest value): scaled to 8 bits by the largest value
        return isinstance(args, tuple) and len(args) > 1 and args[1] > 255
    return isinstance(raw, str) and raw.startswith(("RGB;16", "RGBA;16", "RGBX;16"))


def _check_wide_colour(image: Image.Image, path: Path, wide: bool) -> None:
    """Refuse a loaded file of 16-bit colour (``wide``) whose values are a 10- or 12-bit
    sensor's, not scaled to 16 bits (:data:`WIDE_COLOUR_LOWEST`).

    Raises:
        InputError: its values are so.
    """
    if not wide:
        return
    highest = max(high for _, high in image.getextrema()[:3])
    if highest < WIDE_COLOUR_LOWEST:
        raise InputError(
            f"{path}: 16-bit colour whose values stay under {(highest + 1) * 256:,} (a 10- or "
            "12-bit sensor's, not scaled to 16 bits): they are read at 8 bits, the high byte, "
            "which leaves too little; scale them to 16 bits (shift them left) or save 8 bits"
        )


def _decode(path: Path, reduce: bool = True) -> Photo:
    with opened_image(path) as image:
        wide = _wide_colour(image)  # before a PNG's EXIF is read, which loads its pixels
        width, height = upright_size(image)
        orientation = orientation_left(image)  # before loading, which drops a TIFF's tag
        reduction = reduction_for(height, width) if reduce else 1
        # the JPEG decoder's own scaling leaves partial blocks at the stored right and bottom
        aligned = orientation == 1 or (width % reduction == 0 and height % reduction == 0)
        done = 1
        if reduction > 1 and image.format == "JPEG" and aligned:
            # asked for the sides rounded down: Pillow scales by the whole ratio of the two
            stored_width, stored_height = image.size
            image.draft(image.mode, (stored_width // reduction, stored_height // reduction))
            done = round(stored_width / image.size[0])  # the JPEG decoder may do some
        image.load()
        _check_wide_colour(image, path, wide)
        pixels = _array(_reduced_upright(image, reduction // done, orientation))
    return Photo(pixels, (height, width), reduction, path)


def load_photo(path: str | Path) -> Photo:
    """Decode a photograph for the pipeline, reduced when large (see :class:`Photo`).

    Alpha is dropped, palette and CMYK images become RGB; 32-bit integer and float images are
    refused, and so is 16-bit colour holding values not scaled to 16 bits
    (:data:`WIDE_COLOUR_LOWEST`). The image is rotated upright by its EXIF orientation.

    Raises:
        InputError: a blank or missing path, not a regular file, an empty, unreadable, truncated or
            malformed file, an image larger than :data:`MAX_PIXELS` or with a side below
            :data:`MIN_SIDE`, a file of several pictures (:func:`check_single_picture`), or
            16-bit colour of a 10- or 12-bit sensor's values.
        UnreadableError: it cannot be opened or read, even part way through (an I/O error):
            an :class:`InputError` too, of the file system, not of the file.
    """
    path = _given_path(path)
    return _load(path, lambda: _decode(path))


def _given_path(path: str | Path) -> Path:
    """``path`` as a Path, a blank one refused (``Path("")`` is the current folder).

    Raises:
        InputError: it is blank.
    """
    if not str(path).strip():
        raise InputError(f"got image path {str(path)!r}, expected a file")
    return Path(path)


NOT_AN_IMAGE = "not an image file Pillow can read"
"""What a file Pillow does not recognise is (Pillow's own message names the file object, not the
file)."""


def _decoding(path: Path, decode: Callable[[], _T]) -> _T:
    """``decode()``, whatever Pillow raises turned into an :class:`InputError` naming ``path``;
    an error of the file system (an ``OSError`` with an errno: EIO part way through, EACCES of
    a share), which Pillow's own decode errors lack, into an :class:`UnreadableError`."""
    try:
        return decode()
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError(f"{path}: {NOT_AN_IMAGE}") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(f"{path}: image dimensions {_TOO_LARGE} (decompression bomb?)") from None
    except MemoryError:
        raise
    except Exception as exc:  # malformed bytes make Pillow's decoders raise almost anything
        if isinstance(exc, OSError) and exc.errno is not None:  # the file system's, not Pillow's
            raise UnreadableError(f"{path}: cannot be read ({exc.strerror or exc})") from None
        raise InputError(f"{path}: cannot decode image ({first_line(exc)})") from None


def _load(path: Path, decode: Callable[[], Photo]) -> Photo:
    return check_sides(_decoding(path, decode), path)


def check_sides(photo: Photo, name: str | Path = "photo") -> Photo:
    """``photo``, if each side is at least :data:`MIN_SIDE` (``name`` says which in errors).

    Raises:
        InputError: it is smaller.
    """
    if min(photo.shape) < MIN_SIDE:
        raise InputError(
            f"{name}: {photo.shape[1]}x{photo.shape[0]} pixels is too small to segment "
            f"(each side needs at least {MIN_SIDE})"
        )
    return photo


def load_image(path: str | Path) -> np.ndarray:
    """The pixels of a photograph at its own size: (H, W) grayscale or (H, W, 3) RGB, uint8 or
    uint16 (see :func:`load_photo` for what is accepted).

    Raises:
        InputError: as :func:`load_photo`.
    """
    path = _given_path(path)
    return _load(path, lambda: _decode(path, reduce=False)).pixels


def photo_from_picture(image: Image.Image, keep_original: bool = True) -> Photo:
    """A :class:`Photo` of a Pillow image in memory, its mode read as a file's is (palette,
    CMYK, YCbCr and alpha become RGB; 8- and 16-bit grayscale stay, a 16-bit PGM's too),
    turned upright by its EXIF orientation as a file is (an image from ``Image.open`` still
    has it). Pillow's own ``transpose`` and ``rotate`` keep the tag: an image turned that way
    is turned again; ``ImageOps.exif_transpose`` removes it from the image it turns, and an
    array has none. ``keep_original`` as :func:`photo_from_array`'s.

    Raises:
        InputError: 32-bit or float pixels, a size :func:`photo_from_array` refuses, several
            pictures (as :func:`check_single_picture`), 16-bit colour of a 10- or 12-bit
            sensor's values (:data:`WIDE_COLOUR_LOWEST`; told from the image, or once loaded
            from its file: one loaded from memory cannot be told), or pixels that cannot be
            decoded (a damaged file, or one closed before they were read), named by the image's
            file.
    """
    name = Path(getattr(image, "filename", "") or "image")
    if getattr(image, "tile", None) and getattr(image, "fp", None) is None:
        raise InputError(
            f"{name}: its file was closed before its pixels were read (read them while it is "
            "open: image.load())"
        )
    if _deeper_than_16_bits(image):
        kind = "float" if image.mode == "F" else "integer"
        raise InputError(
            f"{name}: 32-bit {kind} pixels ({image.mode!r} mode) are not supported, expected 8 "
            "or 16 bits per channel"
        )
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise InputError(f"{name}: {width}x{height} pixels {_TOO_LARGE}")
    _decoding(name, lambda: _check_opened_pictures(image, name))
    wide = _wide_colour(image)
    turned = _decoding(name, lambda: _array(upright(image, orientation_left(image))))
    _check_wide_colour(image, name, wide)
    return photo_from_array(turned, name, keep_original)


def _check_opened_pictures(image: Image.Image, name: Path) -> None:
    """Refuse an image opened from a file that holds several pictures
    (:func:`check_single_picture`), counted on the file opened again, so that the caller's
    image, its frame and any pixels changed in it, stays as it is (one opened from memory, a
    ``BytesIO``, is counted on itself: only one of several pictures is turned back to its
    first, and refused). An image whose file is closed or gone is taken as it was read."""
    filename = getattr(image, "filename", "")
    remedy = "pass the one meant alone, image.copy() after image.seek"
    if getattr(image, "fp", None) is None:
        return
    if not filename:  # opened from memory (BytesIO): counted on itself, back at its first
        check_single_picture(image, name, remedy)
        return
    if not Path(filename).is_file():
        return
    with Image.open(filename) as twin:
        check_single_picture(twin, name, remedy)


def photo_from_array(
    image: np.ndarray, name: str | Path = "image array", keep_original: bool = True
) -> Photo:
    """A :class:`Photo` of an (H, W[, 3|4]) uint8/uint16 array (alpha dropped), reduced as a file
    of that size would be. It holds a copy of the array's pixels: what is read of them later (a
    result's verdict, arteries and veins, picture) is the photograph given, even where the
    caller's buffer has since taken the next frame. ``name`` says what the array is in errors
    (a Pillow image's file). Without ``keep_original``, an array that is reduced is reduced
    from the caller's pixels, never copied whole, and the photograph holds only its reduced
    pixels (:meth:`Photo.without_original`: what a segmenter reads of an array it is given).

    Raises:
        InputError: the array has the wrong shape or dtype, is too small or too large.
    """
    array = np.asarray(image)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise InputError(f"{name}: shape {array.shape}, expected (H, W) or (H, W, 3|4)")
    native = array.dtype.newbyteorder("=")  # a big-endian frame buffer's uint16 too
    if native not in (np.uint8, np.uint16):
        raise InputError(f"{name}: dtype {array.dtype}, expected uint8 or uint16")
    height, width = array.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise InputError(f"{name}: shape {array.shape} is too small, each side needs {MIN_SIDE}")
    if height * width > MAX_PIXELS:
        raise InputError(f"{name}: {width}x{height} pixels {_TOO_LARGE}")
    colour = array[..., :3] if array.ndim == 3 else array
    reduction = reduction_for(height, width)
    if reduction > 1 and not keep_original:  # reducing makes new pixels
        return Photo(reduce_pixels(colour, reduction), (height, width), reduction)
    # a copy, in this machine's byte order: the caller's buffer is no longer read
    pixels = np.array(colour, dtype=native)
    return Photo(reduce_pixels(pixels, reduction), (height, width), reduction, original=pixels)
