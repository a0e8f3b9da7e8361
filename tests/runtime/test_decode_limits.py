"""What decoding a photograph may cost: formats whose decoders hold the whole photograph have a
lower pixel limit, and 16-bit photographs are never widened whole."""

import io
import struct

import numpy as np
import pytest
from PIL import Image

from edge_runtime.data.label_image import read_label_image
from edge_runtime.errors import InputError
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.pipeline.blocks import ROWS_PER_BLOCK
from edge_runtime.pipeline.decode import (
    MAX_WHOLE_IMAGE_PIXELS,
    load_image,
    load_photo,
    to_uint8,
)


def _claiming(fmt: str, marker: bytes, offset: int, size: bytes, **save) -> bytes:
    """A small file of ``fmt`` whose header, after ``marker``, claims another size."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buffer, format=fmt, **save)
    data = bytearray(buffer.getvalue())
    at = data.index(marker) + offset
    data[at : at + len(size)] = size
    return bytes(data)


WIDTH, HEIGHT = 4001, 3000  # just over 12 megapixels
assert WIDTH * HEIGHT > MAX_WHOLE_IMAGE_PIXELS


def _big_webp() -> bytes:
    """An animated WebP whose canvas (width - 1 and height - 1, 24 bits each) is large."""
    canvas = (WIDTH - 1).to_bytes(3, "little") + (HEIGHT - 1).to_bytes(3, "little")
    frames = [Image.new("RGB", (64, 64), "red")]
    return _claiming("WEBP", b"VP8X", 12, canvas, save_all=True, append_images=frames)


def _big_jp2() -> bytes:
    return _claiming("JPEG2000", b"ihdr", 4, struct.pack(">II", HEIGHT, WIDTH))


def _big_avif() -> bytes:
    return _claiming("AVIF", b"ispe", 8, struct.pack(">II", WIDTH, HEIGHT))


@pytest.mark.parametrize(
    ("name", "content"), [("big.webp", _big_webp), ("big.jp2", _big_jp2), ("big.avif", _big_avif)]
)
def test_formats_decoded_whole_are_refused_above_their_lower_limit(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content())
    for read in (load_photo, lambda p: read_label_image(p, "the label")):
        with pytest.raises(InputError) as refused:
            read(path)
        assert str(refused.value).startswith(
            f"{path}: {WIDTH}x{HEIGHT} pixels exceed the 12-megapixel limit of "
        )
        assert str(refused.value).endswith("save it as PNG or TIFF (a photograph also as JPEG)")


def test_a_16_bit_pgm_is_a_16_bit_photograph(tmp_path):
    gray16 = np.random.default_rng(2).integers(0, 65536, (66, 3203), dtype=np.uint16)
    Image.fromarray(gray16).save(tmp_path / "g16.pgm")
    Image.fromarray(gray16).save(tmp_path / "g16.png")
    np.testing.assert_array_equal(load_image(tmp_path / "g16.pgm"), gray16)
    pgm, png = load_photo(tmp_path / "g16.pgm"), load_photo(tmp_path / "g16.png")
    assert pgm.reduction == 2 and pgm.pixels.dtype == np.uint16
    np.testing.assert_array_equal(pgm.pixels, png.pixels)
    np.testing.assert_array_equal(np.asarray(pgm.picture()), np.asarray(png.picture()))


def test_16_bit_photographs_are_widened_a_band_at_a_time(tmp_path, monkeypatch):
    """Pillow averages 32-bit pixels: a 16-bit photograph is widened a band of rows at a time
    to be reduced or drawn, never whole (which would double its memory)."""
    gray16 = np.random.default_rng(3).integers(0, 65536, (600, 3203), dtype=np.uint16)
    Image.fromarray(gray16).save(tmp_path / "g16.png")
    widened = []
    convert = Image.Image.convert

    def recording(image, mode=None, *args, **kwargs):
        if mode == "I":
            widened.append(image.height)
        return convert(image, mode, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "convert", recording)
    photo = load_photo(tmp_path / "g16.png")
    picture = np.asarray(photo.picture())
    assert photo.reduction == 2 and max(widened) <= 2 * ROWS_PER_BLOCK < len(gray16)
    np.testing.assert_array_equal(picture, to_uint8(gray16))  # drawn as arrays are


@pytest.mark.parametrize("width", [3200, 3203])
def test_a_large_jpeg_is_decoded_reduced_by_its_decoder_whatever_its_sides(
    tmp_path, monkeypatch, width
):
    """The decoder's own scaling (a fraction of the memory and time), also when a side is not a
    multiple of the reduction."""
    from PIL import JpegImagePlugin

    Image.fromarray(synthetic_fundus(66, width)).save(tmp_path / "p.jpg")
    decoded = []
    load = JpegImagePlugin.JpegImageFile.load

    def recording(image):
        decoded.append(image.size)
        return load(image)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", recording)
    photo = load_photo(tmp_path / "p.jpg")
    assert photo.reduction == 2 and set(decoded) == {(-(-width // 2), 33)}
