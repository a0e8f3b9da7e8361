"""``measure --picture``'s circles around end and branch points."""

import numpy as np
from PIL import Image, ImageDraw

from edge_runtime.measure.picture import _circle


def test_a_point_is_circled_as_pillow_draws_the_circle():
    radius = 2.92  # a DRIVE-size map's dot
    drawn = Image.new("L", (40, 40))
    ImageDraw.Draw(drawn).ellipse((20 - radius, 17 - radius, 20 + radius, 17 + radius), outline=7)
    pixels = np.zeros((40, 40), np.uint8)
    _circle(pixels, np.array([[17, 20]]), 7, radius)
    assert (pixels == np.asarray(drawn)).all()
    assert pixels[17, 20] == 0 and not pixels[17, 18:22].any() and pixels.any()  # a ring


def test_circles_at_the_edges_are_cut_not_wrapped_round():
    pixels = np.zeros((30, 30), np.uint8)
    _circle(pixels, np.array([[0, 0], [29, 29]]), 5, 3.0)
    inked = np.argwhere(pixels == 5)
    # each corner's quarter ring, nothing on the far side of the picture
    assert len(inked) > 4 and ((inked <= 3) | (inked >= 26)).all()
    assert not pixels[:4, 26:].any() and not pixels[26:, :4].any()


def test_a_branch_point_between_pixels_is_circled_at_the_nearest_pixel():
    between, nearest = np.zeros((20, 20), np.uint8), np.zeros((20, 20), np.uint8)
    _circle(between, np.array([[9.6, 10.4]]), 2, 3.0)  # a group's centre
    _circle(nearest, np.array([[10, 10]]), 2, 3.0)
    assert (between == nearest).all() and between.any()
    _circle(between, np.zeros((0, 2)), 2, 3.0)  # no point: nothing drawn, no error
    assert (between == nearest).all()


def test_many_points_each_get_their_circle_and_none_is_lost():
    rng = np.random.default_rng(3)
    points = np.stack([rng.integers(5, 295, 2000), rng.integers(5, 295, 2000)], axis=1)
    pixels = np.zeros((300, 300), np.uint8)
    _circle(pixels, points, 1, 2.0)
    for y, x in points[:50]:
        alone = np.zeros_like(pixels)
        _circle(alone, np.array([[y, x]]), 1, 2.0)
        assert pixels[alone == 1].all()
