import numpy as np
import pytest

from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.pipeline.fov import detect_fov
from edge_runtime.pipeline.grayscale import to_grayscale


@pytest.mark.parametrize(("height", "width"), [(584, 565), (1000, 1400), (300, 300)])
def test_finds_the_disc_of_a_synthetic_photo(height, width):
    gray = to_grayscale(synthetic_fundus(height, width))
    fov = detect_fov(gray)
    radius = 0.46 * min(height, width)
    assert fov.found
    assert fov.radius == pytest.approx(radius, rel=0.03)
    assert fov.center_y == pytest.approx((height - 1) / 2, abs=0.03 * radius)
    assert fov.center_x == pytest.approx((width - 1) / 2, abs=0.03 * radius)
    inside = fov.mask(gray.shape)
    assert inside[height // 2, width // 2] and not inside[0, 0]


def test_a_disc_cut_by_the_frame_is_measured_across_its_full_width():
    gray = to_grayscale(synthetic_fundus(800, 800))[150:650]  # top and bottom cut off
    fov = detect_fov(gray)
    assert fov.found and fov.radius == pytest.approx(0.46 * 800, rel=0.03)
    assert fov.center_y == pytest.approx(399.5 - 150, abs=12)
    top, left, bottom, right = fov.box(gray.shape)
    assert (top, bottom) == (0, 500) and left > 0 and right < 800


def test_dark_lesions_inside_do_not_shrink_the_disc():
    gray = to_grayscale(synthetic_fundus(600, 600))
    gray[250:350, 200:400] = 0  # a large black blotch inside the field of view
    fov = detect_fov(gray)
    assert fov.radius == pytest.approx(0.46 * 600, rel=0.03)


def test_a_photo_without_a_dark_border_is_all_field_of_view():
    gray = np.random.default_rng(0).uniform(100, 200, (300, 400)).astype(np.float32)
    fov = detect_fov(gray)
    assert not fov.found
    assert fov.mask(gray.shape).all() and fov.box(gray.shape) == (0, 0, 300, 400)


def test_a_blank_photo_is_all_field_of_view():
    assert not detect_fov(np.zeros((100, 100), dtype=np.float32)).found


@pytest.mark.parametrize(("height", "width"), [(584, 565), (1000, 1400), (300, 400)])
def test_a_framing_at_half_the_diameter_holds_the_same_disc_in_a_quarter_of_the_pixels(
    height, width
):
    gray = to_grayscale(synthetic_fundus(height, width))
    if width == 400:
        gray = np.random.default_rng(0).uniform(100, 200, (height, width)).astype(np.float32)
    framing = detect_fov(gray).framing(gray.shape, 540, 64)
    assert framing.at_diameter(540) is framing
    half = framing.at_diameter(270)
    assert half.box == framing.box and half.diameter == 270
    assert half.scale == pytest.approx(framing.scale / 2)
    assert all(
        abs(h - w / 2) <= 1 for h, w in zip(half.work_shape, framing.work_shape, strict=True)
    )
    inside, half_inside = (f.work_fov.mask(f.work_shape) for f in (framing, half))
    assert half_inside.sum() == pytest.approx(inside.sum() / 4, rel=0.02)
    # the same disc: the half-scale field, enlarged, lies where the full one is
    enlarged = np.kron(half_inside, np.ones((2, 2), bool))[: inside.shape[0], : inside.shape[1]]
    padded = np.zeros_like(inside)
    padded[: enlarged.shape[0], : enlarged.shape[1]] = enlarged
    assert np.count_nonzero(padded != inside) <= 0.02 * inside.sum()
