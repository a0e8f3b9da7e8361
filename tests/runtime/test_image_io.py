import errno
import io
import os
import re
import struct
import threading
import time
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from edge_runtime.data.binary_image import MAX_LEVELS, as_binary, as_field_mask, levels
from edge_runtime.data.label_image import read_label_image
from edge_runtime.errors import InputError, UnreadableError
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.measure.maps import read_map
from edge_runtime.pipeline import decode
from edge_runtime.pipeline.decode import (
    load_image,
    load_photo,
    photo_from_array,
    photo_from_picture,
)

PHOTO = synthetic_fundus(120, 160)


def _save(tmp_path, name, array, **options):
    path = tmp_path / name
    Image.fromarray(array).save(path, **options)
    return path


def _png_claiming(width, height):
    """A PNG whose header claims the given dimensions (IHDR with a correct CRC)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + struct.pack(">I", 0)
        + b"IEND"
        + struct.pack(">I", zlib.crc32(b"IEND"))
    )


def test_rgb_jpeg_and_png(tmp_path):
    for name in ("a.png", "a.jpg"):
        out = load_image(_save(tmp_path, name, PHOTO))
        assert out.shape == (120, 160, 3) and out.dtype == np.uint8


def test_16_bit_grayscale(tmp_path):
    gray16 = (PHOTO[..., 0].astype(np.uint16) * 257).astype(np.uint16)
    path = tmp_path / "g16.png"
    Image.fromarray(gray16).save(path)
    out = load_image(path)
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, gray16)


def test_rgba_palette_and_cmyk_become_rgb(tmp_path):
    rgba = np.dstack([PHOTO, np.full(PHOTO.shape[:2], 128, np.uint8)])
    assert load_image(_save(tmp_path, "rgba.png", rgba)).shape == (120, 160, 3)
    palette = Image.fromarray(PHOTO).convert("P")
    palette.save(tmp_path / "p.png")
    assert load_image(tmp_path / "p.png").shape == (120, 160, 3)
    Image.fromarray(PHOTO).convert("CMYK").save(tmp_path / "c.jpg")
    assert load_image(tmp_path / "c.jpg").shape == (120, 160, 3)


def test_exif_orientation_is_honoured(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.fromarray(PHOTO).save(tmp_path / "rot.jpg", exif=exif.tobytes())
    out = load_image(tmp_path / "rot.jpg")
    assert out.shape == (160, 120, 3)


UPRIGHT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
    8: lambda a: np.rot90(a, 1),
}
"""What shows each EXIF orientation's stored pixels upright (its definition), by hand."""


@pytest.mark.parametrize("orientation", list(UPRIGHT))
@pytest.mark.parametrize("suffix", [".png", ".tif", ".webp"])
def test_each_exif_orientation_turns_a_photograph_and_its_label_once(tmp_path, suffix, orientation):
    """Every format that carries it, every orientation, against its definition: a TIFF was
    turned twice (Pillow 10 and later turn TIFFs themselves), upside down or its sides swapped
    back, mask and overlay with it."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    options = {"lossless": True} if suffix == ".webp" else {}
    path = _save(tmp_path, f"p{suffix}", PHOTO, exif=exif.tobytes(), **options)
    expected = UPRIGHT[orientation](PHOTO)
    np.testing.assert_array_equal(load_image(path), expected)
    np.testing.assert_array_equal(load_photo(path).pixels, expected)
    with Image.open(path) as opened:
        np.testing.assert_array_equal(photo_from_picture(opened).pixels, expected)
    label = _save(tmp_path, f"l{suffix}", PHOTO[..., 1], exif=exif.tobytes(), **options)
    read = read_label_image(label, "the label", shape=expected.shape[:2])
    np.testing.assert_array_equal(np.atleast_3d(read)[..., 0], expected[..., 1])  # WebP: RGB


def _wide_colour_png(path, values: np.ndarray) -> None:
    """A 16-bit RGB or RGBA PNG (Pillow writes none): its rows filtered by none, compressed."""
    height, width, channels = values.shape
    rows = b"".join(b"\0" + row.astype(">u2").tobytes() for row in values)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 16, {3: 2, 4: 6}[channels], 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )  # fmt: skip


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16_bit_colour_of_a_12_bit_sensor_is_refused_and_of_16_bits_read(tmp_path, suffix):
    """Pillow reads 16-bit colour at 8 bits, the high byte: a 12-bit sensor's values, not
    scaled up, kept 4 bits (F1 0.67 for 0.79 on DRIVE's 05_test), and the photograph was
    called grayscale, with exit 0."""
    twelve = PHOTO.astype(np.uint16) * 16  # under 4,096
    full = PHOTO.astype(np.uint16) * 257
    paths = []
    for name, values in (("twelve", twelve), ("full", full)):
        path = tmp_path / f"{name}{suffix}"
        if suffix == ".png":
            _wide_colour_png(path, values)
        else:
            tifffile = pytest.importorskip("tifffile", reason="writes 16-bit RGB TIFFs")
            tifffile.imwrite(path, values)
        paths.append(path)
    with Image.open(paths[0]) as opened:
        assert opened.mode == "RGB"  # read at 8 bits: what the check is for
    said = r": 16-bit colour whose values stay under [\d,]+ \(a 10- or 12-bit sensor's"
    with pytest.raises(InputError, match=re.escape(str(paths[0])) + said):
        load_photo(paths[0])
    with Image.open(paths[0]) as opened, pytest.raises(InputError, match=said):
        photo_from_picture(opened)
    with Image.open(paths[0]) as opened:  # loaded: told by its file, opened again
        opened.load()
        with pytest.raises(InputError, match=said):
            photo_from_picture(opened)
    np.testing.assert_array_equal(load_image(paths[1]), PHOTO)  # the high byte: the 8 bits


def _block_mean(image: np.ndarray, r: int) -> np.ndarray:
    """Means of r x r blocks (partial blocks at the right and bottom mean what they hold)."""
    starts = [np.arange(0, n, r) for n in image.shape[:2]]
    sums = np.add.reduceat(np.add.reduceat(image.astype(float), starts[0], 0), starts[1], 1)
    ones = np.ones(image.shape[:2])
    counts = np.add.reduceat(np.add.reduceat(ones, starts[0], 0), starts[1], 1)
    return sums / (counts if image.ndim == 2 else counts[..., np.newaxis])


def _wide(width: int, height: int, gray16: bool = False) -> np.ndarray:
    rng = np.random.default_rng(width)
    if gray16:
        return rng.integers(0, 65536, (height, width), dtype=np.uint16)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    ("name", "width", "orientation", "gray16", "tolerance"),
    [
        ("rgb.png", 3203, 6, False, 0.5),  # partial blocks, turned a quarter: reduced when upright
        ("rgb.tif", 3203, 6, False, 0.5),  # turned by Pillow itself (10 and later)
        ("rgb16.tif", 3203, 3, True, 0.5),
        ("gray16.png", 3203, 3, True, 0.5),
        ("odd.jpg", 3203, 8, False, 0.5),  # turned, partial blocks: decoded whole, then reduced
        ("even.jpg", 3200, 6, False, 24),  # the JPEG decoder's own scaling, not an exact mean
    ],
)
def test_large_photographs_are_decoded_reduced_by_block_means_of_the_upright_photograph(
    tmp_path, name, width, orientation, gray16, tolerance
):
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = _save(tmp_path, name, _wide(width, 66, gray16), exif=exif.tobytes())
    upright = load_image(path)
    photo = load_photo(path)
    assert photo.reduction == 2 and photo.shape == upright.shape[:2]
    assert photo.pixels.dtype == upright.dtype and photo.pixels.ndim == upright.ndim
    expected = _block_mean(upright, 2)
    assert photo.pixels.shape == expected.shape
    assert np.abs(photo.pixels - expected).mean() <= tolerance


@pytest.mark.parametrize("channels", [(), (3,)])
def test_large_16_bit_arrays_are_reduced_in_16_bits(channels):
    array = np.random.default_rng(1).integers(0, 65536, (3203, 66, *channels), dtype=np.uint16)
    photo = photo_from_array(array)
    assert photo.reduction == 2 and photo.pixels.dtype == np.uint16
    assert np.abs(photo.pixels - _block_mean(array, 2)).max() <= 0.5


def test_a_photograph_changed_before_its_picture_is_drawn_is_named(tmp_path):
    path = _save(tmp_path, "p.png", _wide(3203, 66))
    photo = load_photo(path)
    _save(tmp_path, "p.png", _wide(3300, 66))
    with pytest.raises(InputError, match=r"p\.png: changed while being segmented"):
        photo.picture()
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(InputError, match=r"p\.png: cannot decode image"):
        photo.picture()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: p.write_text("not an image at all\n"), "not an image file Pillow can read"),
        (lambda p: p.write_bytes(_png_claiming(10_000, 8_000)), "10000x8000 pixels exceed the 25-"),
        (lambda p: p.write_bytes(_png_claiming(100_000, 100_000)), "exceed the 25-megapixel limit"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(tmp_path, make, message):
    path = tmp_path / "photo.png"
    make(path)
    with pytest.raises(InputError, match=message) as excinfo:
        load_image(path)
    assert str(excinfo.value).startswith(f"{path}: ") and "\n" not in str(excinfo.value)


class _FailingPartWay(io.FileIO):
    """A file whose reads past its first 2,000 bytes fail with EIO (a damaged SD card, a
    network share dropping)."""

    def readinto(self, buffer):
        if self.tell() >= 2000:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return super().readinto(buffer)


@pytest.mark.parametrize("name", ["eio.png", "eio.jpg"])
def test_an_io_error_part_way_through_decoding_is_unreadable_not_undecodable(
    tmp_path, monkeypatch, name
):
    """EIO raised as Pillow decodes (an OSError with an errno) was "cannot decode image", a
    failure of the file's, which the watcher never tries again until the file changes; it is
    the file system's, the file not known to be damaged: an UnreadableError, tried again."""
    path = _save(tmp_path, name, synthetic_fundus(400, 400))
    real_open = decode.open_regular

    def failing_part_way(file, what, max_bytes=None):
        with real_open(file, what, max_bytes) as f:
            return io.BufferedReader(_FailingPartWay(os.dup(f.fileno())))

    monkeypatch.setattr(decode, "open_regular", failing_part_way)
    with pytest.raises(UnreadableError) as excinfo:
        load_photo(path)
    assert str(excinfo.value) == f"{path}: cannot be read (Input/output error)"


@pytest.mark.parametrize("name", ["cut.png", "cut.jpg"])
def test_truncated_files(tmp_path, name):
    whole = _save(tmp_path, "whole" + name[-4:], synthetic_fundus(400, 400)).read_bytes()
    path = tmp_path / name
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError, match="cannot decode image"):
        load_image(path)


def test_too_small(tmp_path):
    path = _save(tmp_path, "tiny.png", PHOTO[:40, :100])
    with pytest.raises(InputError, match="100x40 pixels is too small"):
        load_image(path)


def _pages(path, *pages):
    first, *rest = (Image.fromarray(page) for page in pages)
    first.save(path, save_all=True, append_images=rest)
    return path


def test_a_file_of_several_pictures_is_refused_and_a_thumbnail_page_is_not(tmp_path):
    # only the first picture was read: a blank first page made a photograph "not fundus"
    photo = synthetic_fundus(300, 320)
    blank = np.zeros_like(photo)
    for name in ("pages.tif", "animated.gif"):
        with pytest.raises(InputError, match=f"{name}: holds 2 pictures of 320x300, expected one"):
            load_photo(_pages(tmp_path / name, blank, photo))
    with pytest.raises(InputError, match=r"label\.tif: holds 2 pictures"):
        read_map(_pages(tmp_path / "label.tif", blank[..., 0], photo[..., 0] > 99))
    thumbnailed = _pages(tmp_path / "thumbnailed.tif", photo, photo[:40, :60].copy())
    assert np.array_equal(load_photo(thumbnailed).pixels, photo)  # a camera's TIFF thumbnail
    first = _pages(tmp_path / "thumbnail_first.tif", photo[:40, :60].copy(), photo)
    with pytest.raises(InputError, match="its first picture, 60x40, is smaller than a later"):
        load_photo(first)  # the thumbnail was read as the photograph


@pytest.mark.parametrize(
    "array, problem",
    [
        (np.zeros((70, 80, 2), np.uint8), "shape (70, 80, 2), expected"),
        (np.zeros((70, 80), np.float32), "dtype float32, expected"),
        (np.zeros((70, 40), np.uint8), "shape (70, 40) is too small"),
        (np.broadcast_to(np.uint8(0), (5001, 5001)), "5001x5001 pixels exceed"),
    ],
    ids=["shape", "dtype", "small", "large"],
)
def test_every_error_of_an_array_names_what_the_caller_called_it(array, problem):
    """photo_from_array takes the name of what it reads (a Pillow image's file); an array
    given alone is an 'image array'."""
    from edge_runtime.pipeline.decode import photo_from_array

    for given, name in ((("cam.png",), "cam.png"), ((), "image array")):
        with pytest.raises(InputError) as refused:
            photo_from_array(array, *given)
        assert str(refused.value).startswith(f"{name}: {problem}")


def test_an_array_over_the_pixel_limit_is_refused_as_a_file_is():
    from edge_runtime.pipeline.decode import MAX_PIXELS, photo_from_array

    with pytest.raises(InputError, match="exceed the 25-megapixel limit"):
        photo_from_array(np.zeros((MAX_PIXELS // 5000 + 1, 5000), np.uint8))


def _label(tmp_path, image: Image.Image, name="label.png", **options):
    path = tmp_path / name
    image.save(path, **options)
    return path


def test_a_palette_label_is_read_by_its_colours_not_its_indices(tmp_path):
    """Palette index 0 painted white is a set pixel; index 1 painted black is background."""
    image = Image.fromarray(np.array([[0, 1], [1, 0]], np.uint8), mode="P")
    image.putpalette([255, 255, 255, 0, 0, 0])
    pixels = read_label_image(_label(tmp_path, image), "the label")
    assert pixels.shape == (2, 2, 3)
    np.testing.assert_array_equal(
        as_binary(pixels, tmp_path, "label"), [[True, False], [False, True]]
    )


def test_a_16_bit_label_keeps_its_values(tmp_path):
    """A 16-bit label is read as stored, not squeezed to 8 bits (which clips every value above
    255 to one: 20 levels above 255 must still count as 20)."""
    values = np.arange(300, 320, dtype=np.uint16).reshape(4, 5)
    path = _label(tmp_path, Image.fromarray(values))
    pixels = read_label_image(path, "the label")
    np.testing.assert_array_equal(pixels, values)
    with pytest.raises(InputError, match="got 20 distinct values"):
        as_binary(pixels, path, "label")


def test_a_label_turned_by_its_exif_matches_the_upright_photograph(tmp_path):
    """A label stored 30 wide and 20 high with orientation 6 is 20 wide and 30 high upright,
    the size of its photograph."""
    exif = Image.Exif()
    exif[0x0112] = 6
    stored = np.zeros((20, 30), np.uint8)
    stored[0, :] = 255
    path = _label(tmp_path, Image.fromarray(stored), exif=exif.tobytes())
    pixels = read_label_image(path, "the label", shape=(30, 20))
    assert pixels.shape == (30, 20)
    assert pixels[:, -1].all() and not pixels[:, 0].any()


def test_a_transposed_label_is_refused(tmp_path):
    """A label of the photograph's pixel count but the other way round is not its label."""
    path = _label(tmp_path, Image.fromarray(np.zeros((20, 30), np.uint8)))
    with pytest.raises(InputError, match="30x20 pixels, but the photograph is 20x30"):
        read_label_image(path, "the label", shape=(30, 20))


def test_colours_are_told_apart_by_every_channel():
    """Colours that share their red channel are still distinct levels; a colour image of more
    than MAX_LEVELS of them is refused."""
    pixels = np.zeros((1, MAX_LEVELS + 1, 3), np.uint8)
    pixels[0, :, 1] = np.arange(MAX_LEVELS + 1)
    pixels[0, :, 2] = np.arange(MAX_LEVELS + 1)[::-1]
    assert levels(pixels) == MAX_LEVELS + 1
    with pytest.raises(InputError, match=f"got {MAX_LEVELS + 1} distinct values"):
        as_binary(pixels, "m.png", "map")


@pytest.mark.parametrize(
    "pixels",
    [
        np.ones((6, 6), np.uint8),
        np.full((6, 6), 1028, np.uint16),
        np.tile(np.array([4, 2, 4], np.uint8), (6, 6, 1)),
    ],
    ids=["1", "1028 of 16 bits", "(4, 2, 4)"],
)
def test_an_image_of_one_near_black_colour_is_all_set_as_any_other_colour(pixels):
    """With no other colour, nothing tells its near-black from a vessel's or an inside's: a
    map of 1s (vessels everywhere, saved 0/1) was measured as no vessel at all, exit 0, where
    it was refused as covering the whole field, and a mask of the whole frame saved 0/1 was
    refused as having no pixel inside."""
    assert as_binary(pixels, "m.png", "map").all()
    with pytest.raises(InputError, match="no pixel outside the field of view"):
        as_field_mask(pixels, "m.png")


def test_two_near_black_colours_equally_dark_leave_no_background_by_where_they_lie():
    """(3, 0, 0) and (0, 0, 3) are equally dark: whichever came first in the image was read as
    its background, the other as set."""
    pixels = np.zeros((4, 4, 3), np.uint8)
    pixels[:] = (3, 0, 0)
    pixels[2:] = (0, 0, 3)
    pixels[0, 0] = (255, 255, 255)
    read = [as_binary(p, "m.png", "map") for p in (pixels, pixels[::-1].copy())]
    assert read[0].all() and read[1].all()


def test_near_black_reaches_8_of_255_in_each_channel_and_no_further():
    """The darkest colour is the background up to 8 in its brightest channel (2056 of 16
    bits); one of 9 is a colour like any other, and the image is all set."""
    for dark, background in ((8, True), (9, False)):
        pixels = np.full((3, 3, 3), (0, dark, 1), np.uint8)
        pixels[1, 1] = 255
        assert as_binary(pixels, "m.png", "map").sum() == (1 if background else 9)
    sixteen = np.array([[2056, 65535]], np.uint16)
    assert as_binary(sixteen, "m.png", "map").tolist() == [[False, True]]
    sixteen[0, 0] += 1
    assert as_binary(sixteen, "m.png", "map").tolist() == [[True, True]]


@pytest.mark.parametrize(
    "pixels",
    [np.array([[1.0, 255.0]], np.float32), np.array([[1, 255]], np.int32)],
    ids=["float", "32-bit integers"],
)
def test_an_image_of_floats_or_wide_integers_with_no_zero_is_set_where_non_zero(pixels):
    """Near black is a share of an 8- or 16-bit image's full scale; a float or 32-bit image
    (Pillow's F and I modes) has none, and is read as non-zero = set."""
    assert as_binary(pixels, "m.png", "map").all()


def test_reading_files_in_one_thread_loses_no_warning_of_another(tmp_path):
    """Each read set the process's warning filters to "ignore" while it lasted (Pillow's
    complaints name no file): a camera program's other threads lost their warnings meanwhile,
    none of 2,000 shown while one thread read photographs. The filters are left alone now."""
    path = tmp_path / "p.png"
    Image.fromarray(synthetic_fundus(120, 130)).save(path)
    stop = threading.Event()

    def read_on():
        while not stop.is_set():
            load_photo(path)

    reader = threading.Thread(target=read_on)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reader.start()
        try:
            for i in range(300):
                warnings.warn(f"the camera's own warning {i}", stacklevel=1)
                time.sleep(0.001)
        finally:
            stop.set()
            reader.join()
    assert len([w for w in caught if "the camera's own warning" in str(w.message)]) == 300


def _drafted(path, reduction):
    """What Pillow's JPEG decoder gives at 1/reduction scale (the stored pixels, not turned)."""
    with Image.open(path) as image:
        image.draft("RGB", (image.width // reduction, image.height // reduction))
        return np.asarray(image.convert("RGB"))


def test_a_turned_jpeg_whose_sides_allow_it_is_scaled_by_the_jpeg_decoder(tmp_path):
    """Kills M05: the draft asked with the upright sides (1600 x 33 of a 3200 x 66 stored
    picture) got no scaling at all, and the whole photograph was decoded at full size."""
    rng = np.random.default_rng(3200)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "even.jpg"
    Image.fromarray(rng.integers(0, 256, (66, 3200, 3), dtype=np.uint8)).save(
        path, exif=exif.tobytes()
    )
    photo = load_photo(path)
    assert photo.reduction == 2
    np.testing.assert_array_equal(photo.pixels, np.rot90(_drafted(path, 2), -1))


@pytest.mark.parametrize("tag", [0, 9])
def test_a_jpeg_with_an_orientation_tag_of_no_meaning_is_read_as_upright(tmp_path, tag):
    """Kills M03: a tag of no meaning (0, 9) counts as 1, so the photograph is scaled by the
    JPEG decoder as an upright one is, odd sides and all."""
    rng = np.random.default_rng(3203)
    exif = Image.Exif()
    exif[0x0112] = tag
    path = tmp_path / "odd.jpg"
    Image.fromarray(rng.integers(0, 256, (66, 3203, 3), dtype=np.uint8)).save(
        path, exif=exif.tobytes()
    )
    photo = load_photo(path)
    assert photo.shape == (66, 3203) and photo.reduction == 2
    np.testing.assert_array_equal(photo.pixels, _drafted(path, 2))


def test_a_16_bit_colour_array_is_read_as_its_file_is_to_the_bits_the_file_keeps(tmp_path):
    """Pillow reads a 16-bit colour file at 8 bits (the high byte); an array keeps all 16. An
    array of the values the file keeps (the low byte zero) gives the file's mask, arteries and
    veins and verdict, and so does a Pillow image of the file; the verdict's measurements read
    the array against 65,535 and the file's high byte against 255 (brightness within one 8-bit
    level), and blockiness, JPEG's, only of 8-bit pixels."""
    from edge_runtime import ArteryVeinModel, Segmenter

    values = synthetic_fundus(300, 280).astype(np.uint16) * 256
    path = tmp_path / "wide.png"
    _wide_colour_png(path, values)
    segmenter = Segmenter(artery_vein=ArteryVeinModel())
    from_file = segmenter.segment(path)
    with Image.open(path) as picture:
        for given in (values, picture):
            result = segmenter.segment(given)
            np.testing.assert_array_equal(result.mask, from_file.mask)
            np.testing.assert_array_equal(result.artery_vein, from_file.artery_vein)
            verdict, expected = result.verdict, from_file.verdict
            assert (verdict.reasons, verdict.quality) == (expected.reasons, expected.quality)
            brightness = verdict.measurements.brightness, expected.measurements.brightness
            assert abs(brightness[0] - brightness[1]) <= 1 / 255


def _twelve_bit(values: np.ndarray) -> np.ndarray:
    return values.astype(np.uint16) * 16  # a 12-bit sensor's values, under 4,096


def test_16_bit_colour_is_refused_up_to_a_brightest_byte_of_16_and_read_from_17(tmp_path):
    """The limit's edge: a brightest value of 4,351 (high byte 16) is refused, one of 4,352
    (17) is enough to read the photograph. A PPM's 4,095 of 65,535 reads 16 (Pillow rounds
    as it scales): with the limit at 16, a 12-bit PPM with a pixel from 3,984 up was read."""
    under, at = _twelve_bit(PHOTO), _twelve_bit(PHOTO)
    under[..., :3].flat[0], at[..., :3].flat[0] = 4351, 4352
    for name, values in (("under", under), ("at", at)):
        _wide_colour_png(tmp_path / f"{name}.png", values)
    with pytest.raises(InputError, match="16-bit colour whose values stay under 4,352"):
        load_photo(tmp_path / "under.png")
    assert load_photo(tmp_path / "at.png").pixels.max() == 17
    height, width, _ = PHOTO.shape
    ppm = tmp_path / "saturated.ppm"  # a 12-bit sensor's, one pixel saturated
    values = _twelve_bit(PHOTO)
    values.flat[0] = 4095
    ppm.write_bytes(f"P6 {width} {height} 65535\n".encode() + values.astype(">u2").tobytes())
    with pytest.raises(InputError, match="16-bit colour whose values stay under"):
        load_photo(ppm)


def test_16_bit_colour_is_judged_by_its_brightest_colour_channel(tmp_path):
    """Kills M03 (red alone): a photograph whose red is under 4,096 but whose green and blue
    use the whole 16 bits is read."""
    values = PHOTO.astype(np.uint16) * 257
    values[..., 0] //= 32  # red under 2,048
    _wide_colour_png(tmp_path / "dim_red.png", values)
    assert load_photo(tmp_path / "dim_red.png").pixels.shape == PHOTO.shape


def test_16_bit_colour_with_alpha_of_a_12_bit_sensor_is_refused(tmp_path):
    """Kills M04 (RGBA;16 dropped): alpha does not hide a 12-bit sensor's colour."""
    alpha = np.full((*PHOTO.shape[:2], 1), 65535, np.uint16)
    path = tmp_path / "rgba.png"
    _wide_colour_png(path, np.concatenate([_twelve_bit(PHOTO), alpha], axis=2))
    with Image.open(path) as opened:
        assert opened.mode == "RGBA"
    with pytest.raises(InputError, match="16-bit colour whose values stay under"):
        load_photo(path)


def test_16_bit_colour_opened_from_memory_is_refused_as_its_file_is(tmp_path):
    """Kills M08 (the tile read after the pixels are loaded): an image opened from a BytesIO
    has no file to open again, only its tile says it was 16 bits."""
    path = tmp_path / "twelve.png"
    _wide_colour_png(path, _twelve_bit(PHOTO))
    said = "image: 16-bit colour whose values stay under"
    with Image.open(io.BytesIO(path.read_bytes())) as opened, pytest.raises(InputError, match=said):
        photo_from_picture(opened)


def test_a_loaded_image_is_not_judged_by_another_file_now_at_its_path(tmp_path):
    """Kills M05 (size not compared): a dark 8-bit frame, loaded, whose path now holds a
    16-bit colour file of another size, is taken as it was read."""
    path = tmp_path / "frame.png"
    dark = (PHOTO // 32).astype(np.uint8)  # under 8 everywhere
    Image.fromarray(dark).save(path)
    with Image.open(path) as opened:
        opened.load()
        _wide_colour_png(path, _twelve_bit(synthetic_fundus(100, 140)))
        np.testing.assert_array_equal(photo_from_picture(opened).pixels, dark)


def test_a_tile_of_plain_tuples_as_pillow_10_makes_is_read(tmp_path):
    """Before Pillow 11 a tile is a plain tuple: reading it by name failed every photograph
    (pyproject allows 10.1)."""
    path = tmp_path / "twelve.png"
    _wide_colour_png(path, _twelve_bit(PHOTO))
    from edge_runtime.pipeline.decode import _wide_colour

    with Image.open(path) as opened:
        opened.tile = [tuple(tile) for tile in opened.tile]  # what Pillow 10 holds
        assert _wide_colour(opened)


def test_a_16_bit_ppm_of_a_12_bit_sensor_is_refused(tmp_path):
    """Pillow scales a PPM by its largest value (65535 here): 12-bit values kept 4 bits."""
    path = tmp_path / "twelve.ppm"
    height, width, _ = PHOTO.shape
    path.write_bytes(
        f"P6 {width} {height} 65535\n".encode() + _twelve_bit(PHOTO).astype(">u2").tobytes()
    )
    with pytest.raises(InputError, match="16-bit colour whose values stay under"):
        load_photo(path)
