"""The geometry of vessel measurements on maps whose answers can be worked out by hand:
skeleton, graph (length, end and branch points, segments), distance and width, fractal
dimensions, tortuosity."""

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from edge_runtime.measure import skeleton as skeleton_module
from edge_runtime.measure.distance import MAX_DISTANCE, nearest_background
from edge_runtime.measure.fractal import box_sizes, fractal_dimensions
from edge_runtime.measure.graph import Segments, skeleton_graph
from edge_runtime.measure.grid import Grid, components
from edge_runtime.measure.skeleton import REDUNDANT, skeletonize
from edge_runtime.measure.tortuosity import (
    MIN_ARC,
    MIN_TURN_SPAN,
    Tortuosity,
    tortuosity,
    tortuosity_density,
    turn_sides,
    turn_span,
)
from edge_runtime.measure.width import vessel_widths

CHAIN_BIAS = 0.06
"""Pixel chains measure a curve's length with steps of 1 and sqrt(2): exact along the axes and
diagonals, up to 8 % long in between, about 5 % long around a circle."""


def bar(thickness: int, length: int = 80, shape=(40, 100)) -> np.ndarray:
    """A horizontal bar ``thickness`` pixels thick."""
    mask = np.zeros(shape, dtype=bool)
    top = shape[0] // 2 - thickness // 2
    mask[top : top + thickness, 10 : 10 + length] = True
    return mask


def ring_arc(radius: float, half_width: float = 1.5, shape=(200, 200)) -> np.ndarray:
    """The upper half of a ring centred at (150, 100)."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (np.abs(np.hypot(yy - 150, xx - 100) - radius) <= half_width) & (yy <= 150)


def y_shape() -> np.ndarray:
    """A one-pixel Y: a stem from (5, 20) down to (19, 20), two arms from (20, 20) to
    (34, 6) and (34, 34)."""
    mask = np.zeros((40, 40), dtype=bool)
    for i in range(15):
        mask[5 + i, 20] = mask[20 + i, 20 - i] = mask[20 + i, 20 + i] = True
    return mask


def _pieces(mask: np.ndarray) -> int:
    """8-connected pieces of a mask, by a plain flood fill (independent of the code tested)."""
    seen, count = np.zeros_like(mask), 0
    for start in zip(*np.nonzero(mask), strict=True):
        if seen[start]:
            continue
        count += 1
        stack = [start]
        seen[start] = True
        while stack:
            y, x = stack.pop()
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = y + dy, x + dx
                    inside = 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1]
                    if inside and mask[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
    return count


def blobs(seed: int, shape=(60, 70)) -> np.ndarray:
    """Random thick curves and blobs."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    mask = np.zeros(shape, dtype=bool)
    for _ in range(6):
        cy, cx, r = rng.uniform(0, shape[0]), rng.uniform(0, shape[1]), rng.uniform(2, 12)
        mask |= np.abs(np.hypot(yy - cy, xx - cx) - r) <= rng.uniform(0.5, 3)
    return mask


# skeleton


@pytest.mark.parametrize("seed", range(6))
def test_skeleton_is_thin_minimal_inside_and_keeps_the_pieces(seed):
    mask = blobs(seed)
    skeleton = skeletonize(mask)
    assert not (skeleton & ~mask).any()
    assert _pieces(skeleton) == _pieces(mask)
    blocks = skeleton[:-1, :-1] & skeleton[1:, :-1] & skeleton[:-1, 1:] & skeleton[1:, 1:]
    assert not blocks.any()  # one pixel wide
    grid = Grid.of(skeleton)
    assert not REDUNDANT[grid.codes(grid.set_pixels())].any()  # no removable staircase pixel


def test_a_2x2_square_alone_keeps_a_pixel_of_its_skeleton_anywhere():
    """Zhang and Suen remove all four of its pixels at once: its vessel pixels were counted
    and it had no length, no width and no piece (every other small blob keeps one)."""
    for y, x in [(3, 3), (0, 0), (8, 8), (0, 8)]:
        mask = np.zeros((10, 10), dtype=bool)
        mask[y : y + 2, x : x + 2] = True
        mask[5, 0] = True  # and a pixel alone, untouched
        skeleton = skeletonize(mask)
        assert np.argwhere(skeleton).tolist() == sorted([[y, x], [5, 0]])
    pair = np.zeros((10, 10), dtype=bool)
    pair[3:5, 3:5] = pair[5:7, 5:7] = True  # touching at a corner: thinned as before
    assert _pieces(skeletonize(pair)) == 1


def test_skeleton_of_a_bar_is_its_centre_line():
    skeleton = skeletonize(bar(5))
    rows = np.flatnonzero(skeleton.any(axis=1))
    assert rows.tolist() == [20]
    assert 80 - 5 <= skeleton.sum() <= 80 - 4  # the ends lose up to half the width each


class _CountedLookups:
    """numpy, but counting the pixels whose ring codes the thinning looks up (``np.take``)."""

    def __init__(self):
        self.looked_up = 0

    def take(self, table, codes, out=None):
        self.looked_up += len(codes)
        return np.take(table, codes, out=out)

    def __getattr__(self, name):
        return getattr(np, name)


def test_thinning_a_thick_blob_looks_at_its_border_not_at_every_pixel_each_round(monkeypatch):
    """Each round looked at every pixel left: a blob T pixels thick took T/2 rounds over its
    whole area (108 s for a 25-megapixel map half covered by a band; 1.5 s now)."""
    band = np.zeros((320, 140), dtype=bool)
    band[10:310, 10:130] = True  # 120 thick: 60 rounds
    counted = _CountedLookups()
    monkeypatch.setattr(skeleton_module, "np", counted)
    skeleton = skeletonize(band)
    area = np.count_nonzero(band)
    assert counted.looked_up < 4 * area  # each pixel about twice; it was 52 times
    rows, columns = np.nonzero(skeleton)
    assert set(columns[(rows > 80) & (rows < 240)].tolist()) <= {69, 70}  # its centre line


@pytest.mark.parametrize("at_once", [1, 7, 64])
def test_thinning_a_few_pixels_at_a_time_gives_the_skeleton_of_all_at_once(monkeypatch, at_once):
    """Thinning works on PIXELS_AT_ONCE pixels at a time (a million): a map's pieces, its
    staircases and 2x2 squares across the chunks' bounds are thinned as in one chunk."""
    rng = np.random.default_rng(3)
    mask = rng.random((60, 70)) < 0.45
    mask[5:45, 20:50] = True  # a blob peeled over many rounds
    mask[50:52, 3:5] = True  # a square alone
    grid = Grid.of(mask)
    whole = skeleton_module.thin(grid), skeleton_module.minimal(mask)
    monkeypatch.setattr(skeleton_module, "PIXELS_AT_ONCE", at_once)
    grid = Grid.of(mask)
    chunked = skeleton_module.thin(grid), skeleton_module.minimal(mask)
    for one, other in zip([*whole[0], whole[1]], [*chunked[0], chunked[1]], strict=True):
        np.testing.assert_array_equal(one, other)


def test_skeleton_of_an_empty_map_is_empty():
    assert not skeletonize(np.zeros((10, 10), dtype=bool)).any()


# graph


def test_straight_line_has_known_length_two_ends_and_tortuosity_one():
    mask = np.zeros((30, 60), dtype=bool)
    mask[10, 5:46] = True
    graph = skeleton_graph(skeletonize(mask))
    assert graph.length == 40
    assert sorted(map(tuple, graph.end_points.tolist())) == [(10, 5), (10, 45)]
    assert len(graph.branch_points) == 0
    measured = tortuosity(graph.segments, MIN_TURN_SPAN)
    assert (measured.median, measured.index, measured.density) == (1.0, 1.0, 0.0)


def test_diagonal_line_length_counts_root_two_per_step():
    mask = np.zeros((40, 40), dtype=bool)
    np.fill_diagonal(mask[5:35, 5:35], True)
    assert skeleton_graph(skeletonize(mask)).length == pytest.approx(29 * math.sqrt(2))


def test_y_has_one_branch_point_and_three_ends():
    graph = skeleton_graph(skeletonize(y_shape()))
    assert len(graph.end_points) == 3
    assert graph.branch_points.tolist() == [[20.0, 20.0]]
    assert sorted(graph.segments.arc.round(6).tolist()) == sorted(
        [14.0, round(13 * math.sqrt(2), 6), round(13 * math.sqrt(2), 6)]
    )
    assert graph.length == pytest.approx(15 + 2 * 14 * math.sqrt(2))  # to the junction pixel


def test_a_cross_is_one_branch_point():
    mask = np.zeros((41, 41), dtype=bool)
    mask[20, 5:36] = mask[5:36, 20] = True
    graph = skeleton_graph(skeletonize(mask))
    assert len(graph.branch_points) == 1 and len(graph.end_points) == 4


def test_half_circle_length_and_tortuosity():
    radius = 70
    graph = skeleton_graph(skeletonize(ring_arc(radius)))
    assert len(graph.end_points) == 2 and len(graph.branch_points) == 0
    assert graph.length == pytest.approx(math.pi * radius, rel=CHAIN_BIAS)
    measured = tortuosity(graph.segments, MIN_TURN_SPAN)
    assert measured.segments == 1
    assert measured.median == pytest.approx(math.pi / 2, rel=CHAIN_BIAS)
    assert measured.median > 1.5
    assert measured.density == 0.0  # it turns one way only: no inflection


def test_a_closed_ring_has_no_ends_and_no_segment_to_measure():
    yy, xx = np.mgrid[:60, :60]
    graph = skeleton_graph(skeletonize(np.abs(np.hypot(yy - 30, xx - 30) - 20) <= 1.5))
    assert len(graph.end_points) == 0 and len(graph.branch_points) == 0
    assert tortuosity(graph.segments, MIN_TURN_SPAN) == Tortuosity(None, None, None, 0)


def test_a_ring_hung_from_a_vessel_is_a_loop_left_out_of_tortuosity():
    """A ring with a straight vessel ending on it: the ring is one segment from the junction
    back to it, its ends two pixels apart, and read a tortuosity of about 190 (median 96.7
    with the vessel's 1, index 3.24). Two vessels meeting at one junction are no loop."""
    yy, xx = np.mgrid[:120, :200]
    lasso = np.abs(np.hypot(yy - 60, xx - 130) - 40) <= 1.5
    lasso[59:62, 10:92] = True
    graph = skeleton_graph(skeletonize(lasso))
    assert len(graph.branch_points) == 1 and graph.segments.looped.tolist().count(True) == 1
    assert graph.segments.arc[graph.segments.looped][0] > 200  # the ring
    measured = tortuosity(graph.segments, MIN_TURN_SPAN)
    assert (measured.segments, measured.median, measured.index) == (1, 1.0, 1.0)
    y = skeleton_graph(skeletonize(y_shape())).segments
    assert len(y.arc) == 3 and not y.looped.any()


def test_a_ring_along_a_vessel_is_left_out_of_tortuosity():
    """A straight vessel 17 pixels thick with a hole 3 by 30 inside it: its centre line splits
    in two around the hole and joins again, two segments between the same two junctions that
    bow around it (arcs 46.9 and 47.3 over chords 44). They read a tortuosity index of 1.031
    (median 1.033, 4 segments) for a straight vessel; left out, the two straight pieces at
    either end read 1."""
    vessel = np.zeros((60, 200), dtype=bool)
    vessel[22:39, 10:190] = True
    vessel[29:32, 80:110] = False
    graph = skeleton_graph(skeletonize(vessel))
    assert len(graph.branch_points) == 2 and len(graph.segments.arc) == 4
    halves = graph.segments.looped
    assert halves.tolist().count(True) == 2
    assert (graph.segments.arc[halves] > graph.segments.chord[halves] + 2).all()  # they bow
    assert tortuosity(graph.segments, MIN_TURN_SPAN) == Tortuosity(1.0, 1.0, 0.0, 2)


def test_segments_joining_the_same_two_junctions_are_loops_and_no_others():
    """A hand-built skeleton: a straight line from x 5 to 95 on row 20, and two paths from
    the junction at x 30 to the one at x 70, one up to row 14 and one down to row 26: three
    segments between the same two junctions, all loops (the two bowed ones read 1.09); the
    line's pieces from a free end to a junction are none, and they alone are measured
    (straight: 1)."""
    skeleton = np.zeros((40, 100), dtype=bool)
    skeleton[20, 5:96] = True
    for side in (-1, 1):
        for i in range(1, 7):
            skeleton[20 + side * i, 30 + i] = skeleton[20 + side * i, 70 - i] = True
        skeleton[20 + side * 6, 36:65] = True
    graph = skeleton_graph(skeleton)
    segments = graph.segments
    assert len(graph.branch_points) == 2 and len(segments.arc) == 5
    free = segments.chord == 24.0  # x 5 to 29 and x 71 to 95
    assert free.sum() == 2 and (segments.looped == ~free).all()
    assert tortuosity(segments, MIN_TURN_SPAN) == Tortuosity(1.0, 1.0, 0.0, 2)


def test_rings_through_three_or_more_junctions_are_measured():
    """A ladder: two lines joined by three rungs, six junctions, each ring through four. No two
    segments join the same two junctions, so none is a loop, and all eleven are measured
    (straight: 1); junction pairs taken as one number that two pairs could share would make
    loops of some."""
    skeleton = np.zeros((40, 160), dtype=bool)
    skeleton[10, 5:156] = skeleton[30, 5:156] = True
    for x in (40, 80, 120):
        skeleton[10:31, x] = True
    graph = skeleton_graph(skeleton)
    assert len(graph.branch_points) == 6 and len(graph.segments.arc) == 11
    assert not graph.segments.looped.any()
    assert tortuosity(graph.segments, MIN_TURN_SPAN) == Tortuosity(1.0, 1.0, 0.0, 11)


def test_tortuosity_leaves_out_short_segments():
    short = [(0, x) for x in range(int(MIN_ARC))]  # 9 steps along
    straight = [(10, x) for x in range(13)]  # 12 along, 12 across
    bent = [(20 + y, 0) for y in range(11)] + [(30, x) for x in range(1, 11)]  # 20 along
    points = np.array(short + straight + bent)
    segments = Segments(points, np.cumsum([0, len(short), len(straight), len(bent)]))
    measured = tortuosity(segments, MIN_TURN_SPAN)
    assert measured.segments == 2
    assert measured.median == pytest.approx((1.0 + 20 / math.hypot(10, 10)) / 2)
    assert measured.index == pytest.approx(32 / (12 + math.hypot(10, 10)))
    assert measured.density == 0.0  # neither changes the side it turns to


def wave(periods: float, amplitude: float, length: int = 360, shape=(120, 400)) -> np.ndarray:
    """A vessel 3 pixels wide along a sine of ``periods`` periods over ``length`` pixels."""
    xs = np.arange(20, 20 + length + 1)
    ys = 60 + amplitude * np.sin(2 * np.pi * periods * (xs - 20) / length)
    image = Image.new("1", shape[::-1])
    ImageDraw.Draw(image).line(list(zip(xs, ys, strict=True)), fill=1, width=3)
    return np.asarray(image)


def _inflections(segments: Segments) -> int:
    side = turn_sides(segments, MIN_TURN_SPAN)
    turning = side[side != 0]
    return int(np.count_nonzero(turning[1:] != turning[:-1]))


@pytest.mark.parametrize("periods", [2, 3, 4])
def test_a_wave_turns_sides_at_each_inflection(periods):
    graph = skeleton_graph(skeletonize(wave(periods, 20)))
    assert len(graph.segments.arc) == 1
    assert _inflections(graph.segments) == 2 * periods - 1  # between its crests and troughs


def test_tortuosity_density_grows_with_turns_and_their_depth():
    def density(periods, amplitude):
        graph = skeleton_graph(skeletonize(wave(periods, amplitude)))
        return tortuosity(graph.segments, MIN_TURN_SPAN).density

    assert 0 < density(3, 10) < density(3, 25)  # deeper turns
    assert density(2, 20) < density(3, 20) < density(4, 20)  # more turns
    assert density(1, 20) == 0.0  # turns under 10 degrees over the span are straight
    arch = skeleton_graph(skeletonize(wave(0.5, 40, length=120))).segments
    assert turn_sides(arch, MIN_TURN_SPAN).any()
    assert tortuosity(arch, MIN_TURN_SPAN).density == 0.0  # it turns one way: no inflection


@pytest.mark.parametrize("width", [3, 4, 6, 8])
def test_a_straight_vessel_at_any_angle_has_no_tortuosity_density(width):
    """A bar drawn straight, thinned: its centre line jogs a pixel here and there, each jog
    two turns of up to 19 degrees over 6 pixels, one way and then the other. Unsmoothed,
    bars 4 pixels wide read 0.024 at 26 degrees, DRIVE's manual labels 0.0004 on average."""
    ys, xs = np.mgrid[:565, :565] - 282.0
    for degrees in np.arange(0, 46, 1.0):
        angle = math.radians(degrees)
        along = ys * math.sin(angle) + xs * math.cos(angle)
        across = ys * math.cos(angle) - xs * math.sin(angle)
        bar = (np.abs(along) <= 200) & (np.abs(across) <= width / 2)
        segments = skeleton_graph(skeletonize(bar)).segments
        assert tortuosity_density(segments, turn_span(565)).tolist() == pytest.approx(
            [0.0], abs=2e-5
        ), degrees


@pytest.mark.parametrize(("amplitude", "period"), [(20, 100), (40, 200), (8, 60)])
def test_the_tortuosity_density_of_a_thick_sine_against_its_own(amplitude, period):
    """A vessel 5 pixels wide along a sine over 4 periods: cut at its inflections into 8
    half-waves of one arc over one half-period each (integrated finely here): 2-3 % high
    (unsmoothed, 15-39 %)."""
    x = np.linspace(0, period / 2, 20001)
    half_wave = np.hypot(np.diff(x), np.diff(amplitude * np.sin(2 * np.pi * x / period))).sum()
    expected = 7 / 8 * 8 * (half_wave / (period / 2) - 1) / (8 * half_wave)
    ys, xs = np.mgrid[:300, : 4 * period + 40].astype(float)
    phase = 2 * np.pi * (xs - 20) / period
    slope = amplitude * 2 * np.pi / period * np.cos(phase)
    centre = 150 + amplitude * np.sin(phase)
    vessel = (
        (np.abs(ys - centre) <= 2.5 * np.hypot(1, slope)) & (xs >= 20) & (xs <= 20 + 4 * period)
    )
    segments = skeleton_graph(skeletonize(vessel)).segments
    assert len(segments.arc) == 1
    density = tortuosity_density(segments, MIN_TURN_SPAN)[0]
    assert density == pytest.approx(expected, rel=0.05)


@pytest.mark.parametrize("degrees", range(0, 91, 5))
def test_a_straight_line_at_any_angle_has_no_inflection(degrees):
    angle = math.radians(degrees)
    end = np.array([math.sin(angle), math.cos(angle)]) * 110
    image = Image.new("1", (260, 260))
    ImageDraw.Draw(image).line([tuple((130 - end)[::-1]), tuple((130 + end)[::-1])], fill=1)
    segments = skeleton_graph(skeletonize(np.asarray(image))).segments
    assert not turn_sides(segments, MIN_TURN_SPAN).any()
    assert tortuosity_density(segments, MIN_TURN_SPAN).tolist() == [0.0]


def test_segments_run_in_order_from_end_to_end():
    graph = skeleton_graph(skeletonize(y_shape()))
    segments = graph.segments
    steps = np.abs(np.diff(segments.points, axis=0)).max(axis=1)
    steps[segments.bounds[1:-1] - 1] = 1
    assert (steps == 1).all()  # each pixel next to the one before
    ends = {tuple(p) for p in graph.end_points.tolist()}
    firsts = {tuple(segments.points[i].tolist()) for i in segments.bounds[:-1]}
    assert firsts <= ends | {(19, 20), (21, 19), (21, 21)}


def test_components_labels_chains_and_isolated_nodes():
    labels = components(6, np.array([0, 1, 4]), np.array([1, 2, 5]))
    assert labels.tolist() == [0, 0, 0, 1, 2, 2]
    assert components(3, np.array([], dtype=int), np.array([], dtype=int)).tolist() == [0, 1, 2]


# distance and width


@pytest.mark.parametrize("seed", range(4))
def test_distance_to_background_is_exact(seed):
    mask = blobs(seed, shape=(30, 40))
    ys, xs = np.nonzero(mask)
    padded = np.pad(mask, 1)  # beyond the frame counts as background
    by, bx = np.nonzero(~padded)
    brute = np.sqrt(((ys[:, None] + 1 - by) ** 2 + (xs[:, None] + 1 - bx) ** 2).min(axis=1))
    near = nearest_background(mask, ys, xs)
    np.testing.assert_array_equal(near.distance, brute)
    outside = ~np.pad(mask, 1)[ys + 1 + near.dy, xs + 1 + near.dx]
    assert outside.all()  # the offset leads to a background pixel at that distance
    np.testing.assert_array_equal(np.hypot(near.dy, near.dx), brute)


@pytest.mark.parametrize("shape", [(1, 50), (2, 9), (7, 40), (30, 40), (129, 131)])
def test_distance_is_exact_in_a_map_filled_edge_to_edge_however_narrow(shape):
    """The padding is bounded by the shorter side (a 1x25,000,000 map padded by 64 pixels on
    every side took 3 GiB): the farthest search, from the middle of a full map, still finds
    the frame."""
    mask = np.ones(shape, dtype=bool)
    ys, xs = np.nonzero(mask)
    to_frame = np.minimum.reduce([ys + 1, shape[0] - ys, xs + 1, shape[1] - xs])
    expected = np.minimum(to_frame, MAX_DISTANCE).astype(float)
    np.testing.assert_array_equal(nearest_background(mask, ys, xs).distance, expected)


def test_distance_is_capped_inside_a_huge_blob():
    mask = np.ones((300, 300), dtype=bool)
    assert nearest_background(mask, np.array([150]), np.array([150])).distance[0] == MAX_DISTANCE


@pytest.mark.parametrize("radius", [70, 79, 100])
def test_distance_past_the_search_radius_is_the_cap_not_a_far_corner(radius):
    """The search reached a square's corners, past its radius: the centres of round blobs of
    radius 70 and 79 read 70.0 and 79.0 pixels from the background, wider than the cap allows
    (a blob of radius 100, beyond the corners too, read the cap)."""
    ys, xs = np.mgrid[:260, :260] - 130
    blob = ys**2 + xs**2 <= radius**2
    assert nearest_background(blob, np.array([130]), np.array([130])).distance[0] == MAX_DISTANCE


@pytest.mark.parametrize("thickness", [1, 2, 3, 5, 6, 7, 10])
def test_width_of_a_bar_of_known_thickness(thickness):
    mask = bar(thickness)
    ys, xs = np.nonzero(skeletonize(mask))
    assert set(vessel_widths(mask, ys, xs).tolist()) == {float(thickness)}


def oblique(width: float, degrees: float, shape=(300, 300)) -> np.ndarray:
    """A straight vessel ``width`` pixels across at an angle, 130 pixels long."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    angle = math.radians(degrees)
    along = (xx - 150) * math.cos(angle) + (yy - 150) * math.sin(angle)
    across = -(xx - 150) * math.sin(angle) + (yy - 150) * math.cos(angle)
    return (np.abs(across) <= width / 2) & (along >= 10) & (along <= 140)


@pytest.mark.parametrize("width", [2, 3, 5, 9])
@pytest.mark.parametrize("degrees", [10, 22.5, 30, 60, 75])
def test_width_across_oblique_vessels_within_half_a_pixel(width, degrees):
    mask = oblique(width, degrees)
    ys, xs = np.nonzero(skeletonize(mask))
    assert np.median(vessel_widths(mask, ys, xs)) == pytest.approx(width, abs=0.5)


# fractal dimensions


def test_filled_square_has_dimension_two():
    mask = np.zeros((256, 256), dtype=bool)
    mask[:128, :128] = True
    found = fractal_dimensions(mask)
    assert (found.d0, found.d1, found.d2) == pytest.approx((2, 2, 2))


def test_square_off_the_grid_is_still_about_two():
    mask = np.zeros((300, 300), dtype=bool)
    mask[37:250, 20:280] = True
    assert fractal_dimensions(mask).d0 == pytest.approx(2, abs=0.1)


@pytest.mark.parametrize("diagonal", [False, True])
def test_line_has_dimension_one(diagonal):
    mask = np.zeros((256, 256), dtype=bool)
    if diagonal:
        np.fill_diagonal(mask, True)
    else:
        mask[100] = True
    found = fractal_dimensions(mask)
    assert (found.d0, found.d1, found.d2) == pytest.approx((1, 1, 1))


def test_a_sparse_dust_has_dimension_below_one():
    mask = np.zeros((256, 256), dtype=bool)
    mask[::64, ::64] = True  # 16 isolated points: at small boxes their count stays 16
    assert fractal_dimensions(mask, [2, 4, 8, 16]).d0 == pytest.approx(0)


def test_fractal_dimension_is_undefined_without_vessels_or_room():
    assert fractal_dimensions(np.zeros((64, 64), dtype=bool)) is None
    assert box_sizes((20, 200)) == [2, 4]
    assert fractal_dimensions(np.ones((20, 200), dtype=bool)) is None


def test_fractal_accepts_box_sizes_that_are_not_powers_of_two():
    mask = np.zeros((90, 90), dtype=bool)
    mask[:60, :60] = True
    assert fractal_dimensions(mask, [3, 5, 6, 10]).d0 == pytest.approx(2)


def test_pillow_one_bit_images_are_measured_as_their_pixels():
    """Pillow's 1-bit images give boolean arrays whose true bytes are 255, not 1."""
    image = Image.new("1", (100, 60))
    ImageDraw.Draw(image).line([(10, 30), (90, 30)], fill=1, width=5)
    raw, clean = np.asarray(image), np.asarray(image) != 0
    np.testing.assert_array_equal(skeletonize(raw), skeletonize(clean))
    ys, xs = np.nonzero(skeletonize(clean))
    np.testing.assert_array_equal(vessel_widths(raw, ys, xs), vessel_widths(clean, ys, xs))
    assert fractal_dimensions(raw) == fractal_dimensions(clean)


def test_neighbour_pairs_are_the_same_searched_as_looked_up(monkeypatch):
    # large maps search for positions instead of holding a table the map's size
    import edge_runtime.measure.grid as grid_module

    mask = np.random.default_rng(0).random((60, 70)) > 0.6
    grid = Grid.of(mask)
    index = grid.set_pixels()
    table = grid_module.neighbour_pairs(grid, index)
    monkeypatch.setattr(grid_module, "POSITION_TABLE_UP_TO", 0)
    searched = grid_module.neighbour_pairs(grid, index)
    assert len(table[0]) > 1000
    assert all(np.array_equal(a, b) for a, b in zip(table, searched, strict=True))


def test_the_nearest_background_is_the_same_however_few_pixels_are_looked_up_at_once(
    monkeypatch,
):
    """The pixels are taken a chunk at a time (a 25-megapixel map took 1.9 GB at once)."""
    from edge_runtime.measure import distance

    rng = np.random.default_rng(4)
    mask = rng.random((80, 90)) < 0.7
    ys, xs = np.nonzero(mask)
    whole = nearest_background(mask, ys, xs)
    monkeypatch.setattr(distance, "LOOKUPS_AT_ONCE", 7)
    chunked = nearest_background(mask, ys, xs)
    for name in ("distance", "dy", "dx"):
        np.testing.assert_array_equal(getattr(chunked, name), getattr(whole, name))
    assert whole.distance.max() > 1  # some pixels need more than the first band


def test_the_median_tortuosity_is_a_median_not_a_mean():
    """Two straight segments and a bent one: the median is 1 (with two, it was their mean)."""
    straight = [(0, x) for x in range(13)] + [(10, x) for x in range(13)]
    bent = [(20 + y, 0) for y in range(11)] + [(30, x) for x in range(1, 11)]
    segments = Segments(np.array(straight + bent), np.cumsum([0, 13, 13, len(bent)]))
    assert tortuosity(segments, MIN_TURN_SPAN).median == 1.0


def test_the_tortuosity_density_of_a_zigzag_by_hand():
    """Three diagonal legs of 20 steps: two turns, cut halfway along the middle leg into two
    pieces, each over a chord of hypot(30, 10). The centre line is smoothed 3 pixels each way
    (half the span): each corner's x over the 8 steps around it is the mean of |d + j| for j
    from -3 to 3 (its rows are unchanged), and the rest is diagonal steps of sqrt(2)."""
    legs = [(i, i) for i in range(21)]
    legs += [(20 + i, 20 - i) for i in range(1, 21)] + [(40 + i, i) for i in range(1, 21)]
    segments = Segments(np.array(legs), np.array([0, len(legs)]))
    tent = [np.mean([abs(d + j) for j in range(-3, 4)]) for d in range(-4, 5)]
    corner = np.hypot(1, np.diff(tent)).sum()
    assert corner < 8 * math.sqrt(2)  # rounded
    arc, chord = 22 * math.sqrt(2) + corner, math.hypot(30, 10)
    expected = 0.5 * 2 * (arc / chord - 1) / (2 * arc)
    assert tortuosity(segments, MIN_TURN_SPAN).density == pytest.approx(expected, rel=1e-6)


def test_the_turn_span_is_a_ninetieth_of_the_field_and_at_least_its_floor():
    assert (turn_span(540), turn_span(1800), turn_span(100)) == (6, 20, MIN_TURN_SPAN)


def test_the_fractal_dimensions_of_an_uneven_map_against_their_definitions():
    """An uneven map (D0, D1 and D2 differ; on the even maps above they are one) against a
    box count written here: the mass in each box, its share, and the slopes over the sizes."""
    xx = np.mgrid[:128, :128][1]
    mask = np.random.default_rng(0).random((128, 128)) < (xx / 128) ** 3
    sizes = [2, 4, 8, 16, 32]
    shares = []
    for s in sizes:
        masses = mask.reshape(128 // s, s, 128 // s, s).sum(axis=(1, 3)).ravel()
        shares.append(masses[masses > 0] / mask.sum())
    logs = -np.log(sizes)
    d0 = np.polyfit(logs, [np.log(len(p)) for p in shares], 1)[0]
    d1 = np.polyfit(logs, [-(p * np.log(p)).sum() for p in shares], 1)[0]
    d2 = np.polyfit(logs, [-np.log((p**2).sum()) for p in shares], 1)[0]
    assert len({round(d, 3) for d in (d0, d1, d2)}) == 3
    found = fractal_dimensions(mask, sizes)
    assert (found.d0, found.d1, found.d2) == pytest.approx((d0, d1, d2), abs=1e-9)


def test_an_isolated_pixel_has_no_link_and_is_no_end_point():
    """An end point is a pixel with exactly one link: a lone pixel (a speck of the map) has
    none, and must not add to the end points users read."""
    mask = np.zeros((30, 60), dtype=bool)
    mask[10, 5:46] = True
    mask[25, 50] = True  # a speck
    graph = skeleton_graph(skeletonize(mask))
    assert sorted(map(tuple, graph.end_points.tolist())) == [(10, 5), (10, 45)]
    assert skeleton_graph(mask[20:, 45:]).end_points.shape == (0, 2)  # the speck alone


def test_a_branch_point_is_the_centre_of_its_junction_pixels_off_the_diagonal():
    """A cross whose centre is not on y == x: its five junction pixels make one branch point,
    at their centre (row, column), not at a pixel's or with row and column mixed up."""
    mask = np.zeros((40, 60), dtype=bool)
    mask[15, 5:50] = True
    mask[2:30, 37] = True
    graph = skeleton_graph(skeletonize(mask))
    assert graph.branch_points.tolist() == [[15.0, 37.0]]


@pytest.mark.parametrize("thickness", [1, 2, 3, 5, 6, 7, 10])
def test_width_of_a_vertical_bar_is_its_thickness_up_to_its_ends(thickness):
    """At the ends of a vertical vessel the nearest background lies along it, so no far edge
    is met and the vessel is taken as centred (2 d - 1): the width stays the thickness there
    too (horizontal bars never reach that branch)."""
    mask = np.zeros((100, 40), dtype=bool)
    left = 20 - thickness // 2
    mask[10:90, left : left + thickness] = True
    ys, xs = np.nonzero(skeletonize(mask))
    assert set(vessel_widths(mask, ys, xs).tolist()) == {float(thickness)}


def _gasket(level: int) -> np.ndarray:
    """A Sierpinski gasket on the pixel grid, 2**level pixels a side: three of each square's
    four quarters kept, down to single pixels. Boxes of 2**j pixels find exactly 3**(level-j)
    of its squares: its box-counting dimension is log 3 / log 2 at every box size up to its
    side, and a larger box finds it whole (one box)."""
    mask = np.ones((1, 1), dtype=bool)
    for _ in range(level):
        empty = np.zeros_like(mask)
        mask = np.block([[mask, mask], [mask, empty]])
    return mask


def test_the_largest_box_is_a_quarter_of_the_short_side():
    """A gasket a quarter of the frame's short side measures exactly log 3 / log 2: no box
    larger than it (which would find it whole) is fitted, and every size up to it is."""
    expected = math.log(3) / math.log(2)
    for frame, side in (((256, 256), 64), ((256, 1000), 64), ((192, 192), 32)):
        mask = np.zeros(frame, dtype=bool)
        mask[:side, :side] = _gasket(side.bit_length() - 1)
        found = fractal_dimensions(mask)
        assert (found.d0, found.d1, found.d2) == pytest.approx((expected,) * 3)
    assert box_sizes((256, 256)) == [2, 4, 8, 16, 32, 64]
    assert box_sizes((255, 600)) == [2, 4, 8, 16, 32]


def test_a_map_32_pixels_across_is_the_smallest_with_a_dimension():
    """Three box sizes (2, 4 and 8 pixels, 8 a quarter of the side) are needed for a slope:
    a 32-pixel gasket has its dimension, a map a pixel narrower none."""
    assert fractal_dimensions(_gasket(5)).d0 == pytest.approx(math.log(3) / math.log(2))
    assert fractal_dimensions(np.ones((31, 400), dtype=bool)) is None


def test_distance_just_past_the_search_radius_is_the_cap():
    """Kills M25: a blob of radius 64.5: its centre's nearest background pixels lie between
    64.5 and 65 pixels away, past the 64-pixel search; the cap, never more."""
    ys, xs = np.mgrid[:200, :200] - 100
    blob = ys**2 + xs**2 <= 64.5**2
    found = nearest_background(blob, np.array([100]), np.array([100]))
    assert found.distance[0] == MAX_DISTANCE and (found.dy[0], found.dx[0]) == (0, 0)


def test_a_vessel_between_two_junctions_is_no_loop():
    """Kills M27: an H: the bar between the two junctions has its ends at two different
    junctions, no ring; the four legs have one end free."""
    h = np.zeros((120, 120), bool)
    h[10:110, 20:23] = h[10:110, 90:93] = True
    h[59:62, 20:93] = True
    graph = skeleton_graph(skeletonize(h))
    assert len(graph.branch_points) == 2 and len(graph.segments.arc) == 5
    assert not graph.segments.looped.any()


def test_each_segment_s_tortuosity_density_is_its_own():
    """Kills M29: the smoothing window of a segment's last points reached into the next
    segment's first ones; measured together or alone, a segment reads the same."""
    x = np.arange(0, 200)
    wave = np.column_stack([np.round(100 + 15 * np.sin(2 * np.pi * x / 60)), x]).astype(int)
    other = np.column_stack([np.full(120, 300), np.arange(400, 520)])  # far away, straight
    # a path of pixels: keep only 8-connected steps by filling in each jump in y
    steps = [wave[0]]
    for p in wave[1:]:
        while abs(p[0] - steps[-1][0]) > 1:
            steps.append(np.array([steps[-1][0] + np.sign(p[0] - steps[-1][0]), steps[-1][1]]))
        steps.append(p)
    wave = np.array(steps)
    alone = [
        tortuosity_density(Segments(s, np.array([0, len(s)])), MIN_TURN_SPAN)[0]
        for s in (wave, other)
    ]
    together = Segments(np.concatenate([wave, other]), np.array([0, len(wave), len(wave) + 120]))
    assert alone[0] > 0
    assert tortuosity_density(together, MIN_TURN_SPAN).tolist() == pytest.approx(alone, abs=1e-12)
    swapped = Segments(np.concatenate([other, wave]), np.array([0, 120, len(wave) + 120]))
    assert tortuosity_density(swapped, MIN_TURN_SPAN).tolist() == pytest.approx(
        alone[::-1], abs=1e-12
    )


def test_a_2x2_square_with_a_pixel_at_its_corner_is_thinned_as_before():
    """Kills M23 (the bottom right pixel not checked): a square with a pixel beyond its
    bottom right corner is no square alone; Zhang and Suen leave a diagonal of two."""
    mask = np.zeros((10, 10), dtype=bool)
    mask[2:4, 2:4] = True
    mask[4, 4] = True
    assert np.argwhere(skeletonize(mask)).tolist() == [[3, 3], [4, 4]]
