"""``measure --picture``'s circles around end and branch points."""

import dataclasses

import numpy as np
import pytest
from PIL import Image, ImageDraw
from test_measure_maps import star_off_the_diagonal

from edge_runtime.measure.caliber import ZONE_B
from edge_runtime.measure.field import whole_frame
from edge_runtime.measure.maps import VesselMap
from edge_runtime.measure.measurements import analyse_map
from edge_runtime.measure.picture import INK, MARGIN, _circle, _lines, draw_picture, fitted
from edge_runtime.measure.scale import scale_from_pixel_size


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


@pytest.fixture(scope="module")
def star_analysis():
    label = star_off_the_diagonal()
    return analyse_map(label, whole_frame(label.vessels.shape), scale_from_pixel_size(0.02))


def test_the_picture_s_text_gives_each_number_under_its_own_name(star_analysis):
    """The numbers written on the picture: density as a percentage, ends and branches, CRAE
    and CRVE, each beside its own name (the star has 12 ends and more branch points)."""
    m = star_analysis.measurements
    vessels, *_, disc, calibers = _lines(star_analysis)
    assert vessels.startswith(f"vessels: density {100 * m.vessels.density:.1f}%, ")
    assert vessels.endswith(f", {m.vessels.end_points} ends, {m.vessels.branch_points} branches")
    assert m.vessels.end_points != m.vessels.branch_points
    assert disc == f"disc: confidence {m.disc.confidence:.2f} (not validated)"
    assert calibers == (
        f"CRAE {m.calibers.crae_px:.1f} px, CRVE {m.calibers.crve_px:.1f} px, "
        f"AVR {m.calibers.avr:.2f}"
    )
    assert f"{m.calibers.crae_px:.1f}" != f"{m.calibers.crve_px:.1f}"
    doubted = dataclasses.replace(m.calibers, caveats=("few-veins", "zone-b-cut"))
    analysis = dataclasses.replace(
        star_analysis, measurements=dataclasses.replace(m, calibers=doubted)
    )
    assert _lines(analysis)[-1] == calibers + " (in doubt: few-veins, zone-b-cut)"


def _distances(picture, ink: int, points: np.ndarray) -> np.ndarray:
    """Distance of each pixel of ``ink`` to the nearest of ``points``."""
    inked = np.argwhere(np.asarray(picture) == ink)
    return np.hypot(*(inked[:, None, :] - points[None, :, :]).transpose(2, 0, 1)).min(axis=1)


def test_the_picture_circles_ends_and_branches_in_their_own_colours(star_analysis):
    """End points are ringed in the end colour, branch points in the branch colour."""
    graph = star_analysis.traced.graph
    picture = draw_picture(star_analysis)
    dot = max(2.0, min(star_analysis.vessels.shape) / 200)
    ends = _distances(picture, INK["end"], graph.end_points)
    branches = _distances(picture, INK["branch"], graph.branch_points)
    assert len(ends) and len(branches)
    assert (ends <= dot + 1).all() and (branches <= dot + 1).all()


def test_the_picture_draws_the_disc_margin_at_half_its_diameter_and_zone_b(star_analysis):
    """The disc's margin (half a diameter from its centre) and zone B's two edges (1 and 1.5
    diameters) are drawn in the disc colour, and nothing else is."""
    disc = star_analysis.disc
    inked = np.argwhere(np.asarray(draw_picture(star_analysis)) == INK["disc"])
    radius = np.hypot(inked[:, 0] - disc.center_y, inked[:, 1] - disc.center_x)
    radius /= disc.diameter_px
    for ring in (0.5, *ZONE_B):
        assert (np.abs(radius - ring) < 0.03).sum() > 100
    rings = np.array([0.5, *ZONE_B])
    assert (np.abs(radius[:, None] - rings).min(axis=1) < 0.03).all()


def test_a_narrow_maps_picture_shows_every_word_of_its_text(star_analysis):
    """The text was drawn in lines as long as they came: a map under about 490 pixels wide
    showed only their start, its calibers' caveats cut off. Rows now break at spaces to fit."""
    doubted = dataclasses.replace(
        star_analysis.measurements.calibers, caveats=("few-arteries", "few-veins", "zone-b-cut")
    )
    analysis = dataclasses.replace(
        star_analysis,
        measurements=dataclasses.replace(star_analysis.measurements, calibers=doubted),
    )
    lines = _lines(analysis)
    draw = ImageDraw.Draw(Image.new("P", (1, 1)))
    assert max(draw.textlength(line) for line in lines) > 250  # some would not fit
    rows = fitted(lines, 250, draw.textlength)
    assert all(draw.textlength(row) <= 250 for row in rows)
    assert " ".join(rows).split() == " ".join(lines).split()  # every word, in order
    assert rows[-1].endswith("(in doubt: few-arteries, few-veins, zone-b-cut)"[-25:])
    assert fitted(["a-word-longer-than-the-row c", "b c"], 5, len) == [
        "a-word-longer-than-the-row",
        "c",
        "b c",
    ]
    assert fitted(["b c"], 2, len) == ["b", "c"]
    assert fitted(["ab cd", "ef"], 5, len) == ["ab cd", "ef"]  # a line starts a row


@pytest.mark.parametrize("width", [120, 150, 200])
def test_a_narrow_maps_text_keeps_its_margin_on_both_sides(width):
    """Its rows are fitted to the picture less a margin on each side, not to its full width."""
    vessels = np.zeros((200, width), dtype=bool)
    vessels[100, 10 : width - 10] = True
    vessels[20:180, width // 2] = True
    analysis = analyse_map(VesselMap(vessels), whole_frame(vessels.shape), None)
    text = np.asarray(draw_picture(analysis)) == INK["text"]
    columns = np.flatnonzero(text.any(axis=0))
    assert columns.min() >= MARGIN and columns.max() < width - MARGIN
