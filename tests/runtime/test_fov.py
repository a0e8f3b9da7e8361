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
