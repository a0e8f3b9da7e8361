import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from edge_runtime.errors import InputError
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.pipeline.decode import load_image

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
        + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
        + struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    )  # fmt: skip


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
