import io

import numpy as np
import pytest
from PIL import Image

from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.pipeline.grayscale import (
    COLOUR_LEVELS,
    LUMA_WEIGHTS,
    has_colour,
    off_tint,
    to_grayscale,
)


def test_luma_matches_pillow_l_conversion():
    rgb = np.random.default_rng(0).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    pillow = np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.float32)
    assert np.abs(to_grayscale(rgb) - pillow).max() <= 1.0


def test_green_channel_and_alpha_and_gray_passthrough():
    rgba = np.random.default_rng(1).integers(0, 65536, (8, 8, 4), dtype=np.uint16)
    np.testing.assert_array_equal(to_grayscale(rgba, "green"), rgba[..., 1].astype(np.float32))
    np.testing.assert_allclose(to_grayscale(rgba), to_grayscale(rgba[..., :3]))
    gray = rgba[..., 0]
    assert to_grayscale(gray).dtype == np.float32
    np.testing.assert_array_equal(to_grayscale(gray), gray)


def test_bad_arguments():
    with pytest.raises(ValueError, match="channel 'red'"):
        to_grayscale(np.zeros((4, 4)), "red")
    with pytest.raises(ValueError, match=r"shape \(4, 4, 2\)"):
        to_grayscale(np.zeros((4, 4, 2)))


def test_a_photograph_has_colour_unless_its_channels_are_one_or_equal():
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (300, 200), dtype=np.uint8)
    assert not has_colour(grey) and not has_colour(np.dstack([grey] * 3))
    assert not has_colour(np.dstack([grey] * 3 + [np.zeros_like(grey)]))  # alpha is no colour
    coloured = np.dstack([grey] * 3)
    red = coloured[::4, ::4, 0]  # on the pixels the sample reads
    red[...] = rng.integers(0, 256, red.shape)  # not 255 - grey: that is one colour's shades
    assert has_colour(coloured)
    assert has_colour(rng.integers(0, 2**16, (50, 60, 3), dtype=np.uint16))


def test_a_green_channel_alone_or_a_coloured_stamp_on_grey_is_no_colour():
    """Each once had colour: the artery/vein model classed a red-free photograph, and the
    verdict judged a stamped one's redness."""
    rng = np.random.default_rng(1)
    grey = rng.integers(0, 256, (400, 500), dtype=np.uint8)
    green = np.dstack([np.zeros_like(grey), grey, np.zeros_like(grey)])
    stamped = np.dstack([grey] * 3)
    stamped[5:15, 5:60] = (255, 200, 0)
    noisy = np.clip(np.dstack([grey] * 3) + rng.normal(0, 0.5, (400, 500, 3)), 0, 255)
    for picture in (green, stamped, noisy.astype(np.uint8)):
        assert not has_colour(picture)
    colour = rng.integers(0, 256, (400, 500, 3), dtype=np.uint8)
    assert has_colour(colour) and has_colour(colour // 8)  # dim
    twelve_bits = colour.astype(np.uint16) << 4  # 12 bits in a 16-bit file
    assert has_colour(twelve_bits)
    twelve_bits[:4] = 65535  # a burned-in white label at full scale
    assert has_colour(twelve_bits)


def test_a_small_colour_field_in_a_large_black_frame_has_colour():
    """The black around it once outvoted it (a handheld camera's frame, say)."""
    rng = np.random.default_rng(2)
    frame = np.zeros((1080, 1920, 3), np.uint8)
    field = np.dstack([rng.integers(150, 256, (150, 160)), rng.integers(40, 120, (150, 160))] * 2)
    frame[465:615, 880:1040] = field[..., :3]
    assert has_colour(frame)
    assert not has_colour(np.zeros((64, 64, 3), np.uint8))  # nothing lit: nothing to judge


def _jpeg(pixels: np.ndarray, quality: int) -> np.ndarray:
    saved = io.BytesIO()
    Image.fromarray(pixels).save(saved, "JPEG", quality=quality)
    return np.asarray(Image.open(saved))


def test_one_colour_at_different_brightness_is_no_colour():
    """A tinted photograph: a sepia print (a brighter one's red clipped on much of its field:
    shades that lie on no one straight line), a grey one coloured from dark brown to cream, a
    red-free camera's green picture, 8 or 16 bits, saved as JPEG too (quality 90; a strong
    tint's, as the green, reads as colour there). An artery/vein model, which standardises each
    channel, sees the same three times, and once classed the vessels of DRIVE's photographs
    tinted so 0.73-0.78 right, against 0.96 in colour. The synthetic photograph's patches of
    colour at the same brightness are colour, saved at quality 50 too, and at 0.15 of its
    brightness (judged as if brighter)."""
    photo = synthetic_fundus(584, 565)
    grey = photo.astype(np.float32) @ LUMA_WEIGHTS
    sepia, duotone, green = (
        np.clip(shades, 0, 255).round().astype(np.uint8)
        for shades in (
            grey[..., None] * np.array([1.35, 1.2, 0.94]),
            40 + grey[..., None] * np.array([0.85, 0.8, 0.65]),
            grey[..., None] * np.array([0.3, 1.0, 0.4]),
        )
    )
    bright = np.clip(grey[..., None] * np.array([2.5, 2.2, 1.75]), 0, 255).round()
    assert np.mean(bright[..., 0] == 255) > 0.4  # its red clipped on much of the field
    for tinted in (sepia, duotone, green, bright.astype(np.uint8), _jpeg(sepia, 90)):
        assert not has_colour(tinted)
    assert not has_colour(_jpeg(duotone, 90)) and not has_colour(sepia.astype(np.uint16) * 257)
    assert has_colour(photo) and has_colour(_jpeg(photo, 50))
    assert has_colour((photo * 0.15).astype(np.uint8))  # dim: read as if brighter


def test_a_12_bit_photograph_with_a_white_label_at_full_scale_keeps_its_colour():
    """A label burned in at 65535 across the top of a 12-bit camera's 16-bit file set the
    scale (the sample's 99th percentile) at 16 times the photograph's own: its colour then lay
    a sixteenth as far off its tint, and was lost (10 of 10 DRIVE and STARE photographs with 4
    rows of it, 7 of 10 before the tint rule; no artery/vein map, judged by its round field)."""
    twelve_bits = synthetic_fundus(584, 565).astype(np.uint16) << 4
    assert has_colour(twelve_bits)
    twelve_bits[:8] = 65535
    assert has_colour(twelve_bits)
    assert not has_colour(np.full((40, 40, 3), 65535, np.uint16))  # all of it white: no colour


def test_a_few_shades_of_one_colour_lie_on_their_tint():
    """A small photograph's sample has few pixels, far apart in brightness: each one's tint is
    read on a line through its neighbours, not their mean colour (which put 40 shades of sepia
    from 20 to 180 up to 6.9 levels off their tint: colour)."""
    grey = np.linspace(20, 180, 40)
    sepia = (grey[:, None] * np.array([1.35, 1.2, 0.94])).round().T
    assert off_tint(sepia).max() < COLOUR_LEVELS / 2
