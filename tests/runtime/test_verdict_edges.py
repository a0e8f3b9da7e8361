"""The sharpness measurement's gradients and per-orientation edge strengths: a block's four
corners' gradients and their orientations; the strengths, sought among candidates for speed,
are exactly each orientation's nearest-rank quantile, ranked among a quarter of the gradients;
a picture moved by whole pixels, turned or mirrored reads the same sharpness, to rounding."""

import numpy as np
import pytest

from edge_runtime.verdict import sharpness as sharpness_module
from edge_runtime.verdict.sharpness import (
    BOX,
    FLAT,
    corner_gradients,
    corners,
    edge_strengths,
    orientations,
    sharpness,
)


def _reference(values, ceiling, scale, width, read, share):
    """Each orientation's nearest-rank ``share`` quantile of a quarter of the gradients around
    the corners read, by sorting them all."""
    squared, bins = corner_gradients(values, ceiling, scale, width, np.flatnonzero(read))
    quarter = np.count_nonzero(read)
    above = quarter - min(quarter - 1, int(share * quarter))
    strengths = np.zeros(4)
    for k in range(4):
        ranked = np.sort(squared[bins == k])
        strengths[k] = ranked[-above] if len(ranked) >= above else 0.0
    return np.sqrt(strengths)


def _picture(height: int = 203, width: int = 170, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Detail in every direction with noise, a dark band cut straight across (an aperture's),
    a clipped reflection, and a disc off centre, a little inside the frame."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[:height, :width]
    picture = 100 + 30 * np.sin(xs / 3.0 + ys / 7.0) * np.cos(ys / 5.0)
    picture += rng.normal(0, 3, picture.shape)
    picture[:35] *= 0.2
    picture[120:130, 40:60] = 400
    field = (ys - 100.3) ** 2 + (xs - 84.6) ** 2 < 75**2
    return picture.astype(np.float32), field


def _smeared(picture: np.ndarray, length: int) -> np.ndarray:
    """``picture`` smeared across by ``length`` pixels: its edges across (gradients at 0
    degrees) far weaker than the others, which are sought apart."""
    kernel = np.ones(length, np.float32) / length
    return np.apply_along_axis(lambda row: np.convolve(row, kernel, "same"), 1, picture)


@pytest.fixture(autouse=True)
def passes(monkeypatch) -> list[int]:
    """Each pass of :func:`edge_strengths` over the corners, in a test: one whose floors never
    fell to 0 would pass forever, and fails here instead (no test needs 200)."""
    reaching, read = sharpness_module._reaching, []

    def counted(*arguments):
        read.append(1)
        assert len(read) <= 200, "edge_strengths does not end"
        return reaching(*arguments)

    monkeypatch.setattr(sharpness_module, "_reaching", counted)
    return read


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("share", [0.5, 0.9, 0.99, 0.999])
@pytest.mark.parametrize("smear", [1, 9])
def test_edge_strengths_are_each_orientations_quantile(seed, share, smear):
    picture, field = _picture(seed=seed)
    pixels, boxes, lit, ceiling = corners(_smeared(picture, smear) if smear > 1 else picture, field)
    width = picture.shape[1]
    for values, scale in ((pixels, 1), (boxes, BOX)):
        expected = _reference(values, ceiling, scale, width, lit, share)
        read = edge_strengths(values, ceiling, scale, width, lit, share)
        assert read == pytest.approx(expected)


@pytest.mark.parametrize("band", [97, 1000])
def test_a_picture_read_a_band_at_a_time_reads_as_at_once(band, monkeypatch):
    """The box means and candidates found in bands (a DRIVE photograph's working image holds
    several of the default size; this picture, one) read the same edge strengths as a sort of
    every gradient, and the same sharpness as read in one band."""
    picture, field = _picture()
    whole = sharpness(picture, field)
    monkeypatch.setattr(sharpness_module, "BAND", band)
    pixels, boxes, lit, ceiling = corners(picture, field)
    width = picture.shape[1]
    for values, scale in ((pixels, 1), (boxes, BOX)):
        expected = _reference(values, ceiling, scale, width, lit, 0.99)
        assert edge_strengths(values, ceiling, scale, width, lit, 0.99) == pytest.approx(expected)
    assert sharpness(picture, field) == whole


def test_an_orientation_short_of_its_floor_is_sought_again_not_among_every_gradient(monkeypatch):
    """This picture's sample sets one orientation's floor too high at the working scale: fewer
    than its strongest 1 % reach it. It is sought again with a lower floor, among a few of the
    corners (searching every corner's gradients took 30 ms more a photograph, and 8 % of the
    labelled photographs' readings did it), and found as a sort of every gradient finds it."""
    picture, field = _picture()
    pixels, _, lit, ceiling = corners(picture, field)
    width, read = picture.shape[1], []
    gradients = sharpness_module.corner_gradients

    def recorded(values, ceiling, scale, width, at):
        read.append(len(at))
        return gradients(values, ceiling, scale, width, at)

    monkeypatch.setattr(sharpness_module, "corner_gradients", recorded)
    strengths = edge_strengths(pixels, ceiling, 1, width, lit, 0.99)
    assert len(read) == 3  # the sample, the candidates, the candidates again
    assert max(read) < np.count_nonzero(lit) / 4
    monkeypatch.setattr(sharpness_module, "corner_gradients", gradients)
    assert strengths == pytest.approx(_reference(pixels, ceiling, 1, width, lit, 0.99))


def test_an_orientation_with_too_few_gradients_has_no_edges():
    """A plane: every gradient the same, at 0 degrees, BOX times as strong between boxes; the
    other orientations have none."""
    ys, xs = np.mgrid[:60, :70].astype(np.float32)
    pixels, boxes, lit, ceiling = corners(50 + 0.75 * xs + 0.25 * ys, np.ones((60, 70), bool))
    fine = edge_strengths(pixels, ceiling, 1, 70, lit, 0.99)
    assert fine == pytest.approx([np.hypot(0.75, 0.25), 0, 0, 0], rel=1e-5)
    coarse = edge_strengths(boxes, ceiling, BOX, 70, lit, 0.99)
    assert coarse == pytest.approx(BOX * fine, rel=1e-5)


def test_no_corner_read_has_no_edges():
    """Called with no corner to read (sharpness never calls it so: nothing lit is sharpness 0),
    each orientation has fewer gradients than its rank, as a sort of none finds: 0 each (a
    ZeroDivisionError before)."""
    picture, field = _picture()
    pixels, boxes, lit, ceiling = corners(picture, field)
    none, width = np.zeros_like(lit), picture.shape[1]
    for values, scale in ((pixels, 1), (boxes, BOX)):
        read = edge_strengths(values, ceiling, scale, width, none, 0.99)
        assert read.tolist() == [0.0] * 4
        assert read.tolist() == _reference(values, ceiling, scale, width, none, 0.99).tolist()


def test_the_corner_gradients_of_a_block_are_those_of_its_four_corners():
    """a b / c d = 0 1 / 3 7 around the first corner: (x, y) steps from a (1, 3) and b (1, 6),
    within 22.5 degrees of the y axis (90 degrees), and from c (4, 3) and d (4, 6), diagonal,
    rising (45 degrees); the values are clipped at the ceiling first."""
    picture = np.zeros((2 * BOX, 2 * BOX), np.float32)
    picture[BOX - 1 : BOX + 1, BOX - 1 : BOX + 1] = [[0, 1], [3, 7]]
    squared, bins = corner_gradients(picture.ravel(), np.float32(10), 1, 2 * BOX, np.array([0]))
    assert squared.tolist() == [10, 37, 25, 52]
    assert bins.tolist() == [2, 2, 1, 1]
    # clipped at 5, d is 5: steps across 1 and 2, down 3 and 4
    squared, _ = corner_gradients(picture.ravel(), np.float32(5), 1, 2 * BOX, np.array([0]))
    assert squared.tolist() == [10, 17, 13, 20]


def test_orientations_are_each_gradient_s_to_within_22_5_degrees():
    angles = np.deg2rad([0, 20, 25, 45, 65, 70, 90, 110, 135, 160, 180, 200, 225, 315])
    across, down = np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)
    assert orientations(across, down).tolist() == [0, 0, 1, 1, 1, 2, 2, 2, 3, 0, 0, 0, 1, 3]
    assert orientations(np.zeros(2, np.float32), np.zeros(2, np.float32)).tolist() == [FLAT] * 2


def test_a_field_too_small_for_two_boxes_has_no_sharpness():
    assert sharpness(np.ones((7, 40), np.float32), np.ones((7, 40), bool)) == 0.0
    field = np.zeros((40, 40), bool)
    field[10:17, 10:30] = True
    assert sharpness(np.ones((40, 40), np.float32), field) == 0.0
    assert sharpness(np.ones((40, 40), np.float32), np.zeros((40, 40), bool)) == 0.0


def test_a_field_turned_or_mirrored_is_as_sharp():
    """Sides that are no multiple of a box (odd, and even but not by eight), a disc off
    centre, a dark band cut straight across it, clipped highlights: the eight ways up of the
    picture and its field read the same sharpness, to rounding."""
    picture, field = _picture()
    read = []
    for mirrored in (False, True):
        for turns in range(4):
            pair = [np.rot90(a[:, ::-1] if mirrored else a, turns) for a in (picture, field)]
            read.append(sharpness(*(np.ascontiguousarray(a) for a in pair)))
    assert read[0] > 1 and read == pytest.approx([read[0]] * 8, rel=1e-6)


@pytest.mark.parametrize("down", range(4))
@pytest.mark.parametrize("across", range(4))
def test_a_field_moved_by_whole_pixels_is_as_sharp(down, across):
    """The picture and its field cut 0-3 pixels further in from the top and left, or from the
    bottom and right: its corners are the same, moved, and read the same sharpness, to
    rounding. Read at sites every 4 pixels from each corner of the frame, it moved by up to
    95 % (this picture: 1.11-2.18)."""
    picture, field = _picture()
    expected = sharpness(picture, field)
    height, width = picture.shape
    for rows, columns in (
        (slice(down, None), slice(across, None)),
        (slice(0, height - down), slice(0, width - across)),
    ):
        pair = (np.ascontiguousarray(a[rows, columns]) for a in (picture, field))
        assert sharpness(*pair) == pytest.approx(expected, rel=1e-6)


def _plain_gradients(grid, ceiling, first, step, rows, columns):
    """(squared magnitude, orientation bin) of the four gradients around each corner (``rows``,
    ``columns``) of a 2-D float32 ``grid`` clipped at ``ceiling``: its 2 x 2 block of values
    ``step`` apart from ``grid[first + row, first + column]``; the bins from the gradient's
    angle, nearest multiple of 45 degrees."""
    clipped = np.minimum(grid, np.float32(ceiling))
    a, b = clipped[rows + first, columns + first], clipped[rows + first, columns + first + step]
    c = clipped[rows + first + step, columns + first]
    d = clipped[rows + first + step, columns + first + step]
    across = np.concatenate([b - a, b - a, d - c, d - c])
    down = np.concatenate([c - a, d - b, c - a, d - b])
    angle = np.degrees(np.arctan2(down.astype(np.float64), across.astype(np.float64)))
    bins = np.floor((angle + 22.5) / 45).astype(int) % 4
    bins[(across == 0) & (down == 0)] = FLAT
    return across * across + down * down, bins


def _plain_strengths(squared, bins, quarter, share):
    """Each orientation's ``above``-th strongest gradient, by sorting its gradients."""
    above = quarter - min(quarter - 1, int(share * quarter))
    ranked = [np.sort(squared[bins == k])[::-1] for k in range(4)]
    return np.sqrt([float(r[above - 1]) if len(r) >= above else 0.0 for r in ranked])


def _plain_box_means(work):
    """The mean of the BOX x BOX box from each pixel that has one, summed plainly."""
    height, width = work.shape
    return np.array(
        [
            [work[y : y + BOX, x : x + BOX].astype(np.float64).mean() for x in range(width - 3)]
            for y in range(height - 3)
        ],
        dtype=np.float32,
    )


def _plain_crop(work, field):
    """The field's rows and a box beyond (the frame's where it cuts them)."""
    rows = np.flatnonzero(field.any(axis=1))
    top, bottom = max(0, rows[0] - BOX), rows[-1] + 1 + BOX
    return work[top:bottom].astype(np.float32), field[top:bottom]


def _plain_lit(work, field):
    """(lit, ceiling, box means) of a picture as :func:`corners` documents them, corner by
    corner with 2-D arrays ([row, column] of corners): four pixels in the field, four boxes at
    least DARK times the median brightness of the four boxes around every MEDIAN_STEP-th corner
    from each side of the rows and of the field's columns and a box beyond, and none darker nor
    beyond the frame within DARK_MARGIN; BRIGHT times that median."""
    boxes = _plain_box_means(work)
    ys, xs = np.mgrid[: work.shape[0] - 2 * BOX + 1, : work.shape[1] - 2 * BOX + 1]
    inside = np.all([field[ys + dy, xs + dx] for dy in (BOX - 1, BOX) for dx in (BOX - 1, BOX)], 0)
    four = np.array([boxes[ys + dy, xs + dx] for dy in (0, BOX) for dx in (0, BOX)])
    columns = np.flatnonzero(field.any(axis=0))
    left = max(0, columns[0] - BOX)
    right = min(work.shape[1], columns[-1] + 1 + BOX) - 2 * BOX + 1

    def each_side(length):
        steps = np.arange(0, max(length, 0), sharpness_module.MEDIAN_STEP)
        return np.union1d(steps, length - 1 - steps).astype(int)

    picked = np.ix_(each_side(ys.shape[0]), left + each_side(right - left))
    brightness = four[(slice(None), *picked)].sum(axis=0)[inside[picked]] / 4
    if not brightness.size:
        return np.zeros(ys.shape, bool), np.float32(0), boxes
    median = float(np.sort(brightness)[len(brightness) // 2])
    lit = inside & np.all(four >= np.float32(sharpness_module.DARK * median), axis=0)
    margin = sharpness_module.DARK_MARGIN
    window = (2 * margin + 1, 2 * margin + 1)
    lit = np.lib.stride_tricks.sliding_window_view(np.pad(lit, margin), window).all(axis=(2, 3))
    return lit, np.float32(sharpness_module.BRIGHT * median), boxes


def _plain_sharpness(work, field):
    """:func:`sharpness` as its documentation reads, corner by corner with 2-D arrays: the
    lit corners of the field's rows and a box beyond (:func:`_plain_lit`), their gradients at
    both scales, clipped, sorted."""
    if not field.any():
        return 0.0
    work, field = _plain_crop(work, field)
    if min(work.shape) < 2 * BOX:
        return 0.0
    lit, ceiling, boxes = _plain_lit(work, field)
    if not lit.any():
        return 0.0
    ys, xs = np.nonzero(lit)
    fine, coarse = (
        _plain_strengths(*_plain_gradients(grid, ceiling, first, step, ys, xs), len(ys), 0.99)
        for grid, first, step in ((work, BOX - 1, 1), (boxes, 0, BOX))
    )
    if not coarse.all():
        return 0.0
    return float(np.min(BOX * fine / coarse))


def _random_picture(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A small picture of whole levels 0-63 (its box means and their squared steps exact in
    float32): waves in three random directions, a little noise (none: many equal gradients), dark
    and bright patches; and a field of view that is a disc, a rectangle touching some of the
    frame's sides, a disc with pinholes, or one row and one column."""
    rng = np.random.default_rng(seed)
    height, width = (int(side) for side in rng.integers(2 * BOX, 80, 2))
    ys, xs = np.mgrid[:height, :width]
    picture = 30 + rng.normal(0, rng.choice([0, 1, 3]), (height, width))
    for angle, period in rng.uniform((0, 1), (np.pi, 6), (3, 2)):
        picture += 5 * np.sin((xs * np.cos(angle) + ys * np.sin(angle)) / period)
    for _ in range(rng.integers(0, 4)):
        y, x = rng.integers(0, height), rng.integers(0, width)
        picture[y : y + rng.integers(1, 20), x : x + rng.integers(1, 20)] = rng.choice([0, 5, 63])
    picture = np.clip(np.round(picture), 0, 63).astype(np.float32)
    centre, radius = rng.uniform(0, 1, 2) * (height, width), rng.uniform(5, 50)
    field = (ys - centre[0]) ** 2 + (xs - centre[1]) ** 2 < radius**2
    if seed % 4 == 1:
        top, left = rng.integers(0, 4, 2)
        bottom, right = height - rng.integers(0, 4), width - rng.integers(0, 4)
        field = (ys >= top) & (ys < bottom) & (xs >= left) & (xs < right)
    elif seed % 4 == 2:
        field &= rng.random((height, width)) > 0.002
    elif seed % 4 == 3 and seed % 8 == 7:
        field[:] = False
        field[rng.integers(0, height)] = True
        field[:, rng.integers(0, width)] = True
    return picture, field


@pytest.mark.parametrize("seed", range(48))
def test_sharpness_is_as_read_corner_by_corner(seed):
    """A plain reading of every corner with 2-D arrays, sorting every gradient, finds the same
    lit corners and ceiling and reads the same sharpness to the bit (pictures of whole levels,
    their boxes' means exact in float32), and so does the picture read in bands of 7 corners,
    with a sample of every corner or of none."""
    picture, field = _random_picture(seed)
    expected = _plain_sharpness(picture, field)
    assert sharpness(picture, field) == expected
    if field.any() and min(_plain_crop(picture, field)[0].shape) >= 2 * BOX:
        work, cropped = _plain_crop(picture, field)
        lit, ceiling, _ = _plain_lit(work, cropped)
        _, _, read, read_ceiling = corners(work, cropped)
        height, width = work.shape
        read = np.pad(read, (0, 2 * BOX - 1)).reshape(height - 2 * BOX + 1, width)
        assert (read[:, : width - 2 * BOX + 1] == lit).all() and not read[:, lit.shape[1] :].any()
        assert read_ceiling == ceiling
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sharpness_module, "BAND", 7)
        for sample in (1, 10**6):
            patch.setattr(sharpness_module, "CANDIDATE_SAMPLE", sample)
            assert sharpness(picture, field) == expected


def test_most_of_the_random_pictures_have_a_sharpness():
    """The pictures of the test above are not all read as 0 (nothing lit)."""
    read = [_plain_sharpness(*_random_picture(seed)) for seed in range(48)]
    assert sum(value > 0 for value in read) >= 12, read


@pytest.mark.parametrize("seed", range(32))
def test_edge_strengths_are_those_of_every_corner_sorted(seed, passes):
    """Any corners read, values of any float or of a few levels (most gradients tied), any
    share, clipped or not, a sample of every corner, of a few or of none, a band of 3 corners
    or of all: each orientation's strength is that of a plain sort of its gradients, to the
    bit, and found in at most 2 + log2 of the gradients' count passes over the corners (each
    pass ranks a short orientation's floor at least twice as far down the sample, 0 past
    it)."""
    rng = np.random.default_rng(seed)
    height, width = (int(side) for side in rng.integers(2 * BOX, 50, 2))
    levels = int(rng.choice([0, 2, 3, 8]))  # 0: floats
    picture = rng.normal(0, 10, (height, width)).astype(np.float32)
    if levels:
        picture = rng.integers(0, levels, (height, width)).astype(np.float32)
    boxes = np.zeros((height, width), np.float32)
    boxes[: height - 3, : width - 3] = _plain_box_means(picture)
    chosen = rng.random((height - 2 * BOX + 1, width - 2 * BOX + 1)) < rng.choice([0.02, 0.5, 1])
    chosen.flat[rng.integers(chosen.size)] = True
    ys, xs = np.nonzero(chosen)
    read = np.zeros((height - 2 * BOX) * width + chosen.shape[1], bool)
    read[ys * width + xs] = True
    share = float(rng.choice([0.5, 0.9, 0.99, 0.999]))
    ceiling = np.float32(rng.choice([np.inf, np.median(picture)]))
    with pytest.MonkeyPatch.context() as patch:
        for values, first, step in ((picture, BOX - 1, 1), (boxes, 0, BOX)):
            squared, bins = _plain_gradients(values, ceiling, first, step, ys, xs)
            expected = _plain_strengths(squared, bins, len(ys), share)
            for sample, band in ((64, 1 << 15), (1, 3), (5, 3), (10**6, 1 << 15)):
                patch.setattr(sharpness_module, "CANDIDATE_SAMPLE", sample)
                patch.setattr(sharpness_module, "BAND", band)
                passes.clear()
                read_ = edge_strengths(values.ravel(), ceiling, step, width, read, share)
                assert read_.tolist() == expected.tolist(), (sample, band)
                assert len(passes) <= 2 + np.log2(4 * len(ys))


def test_a_picture_read_at_every_corner_keeps_only_the_strongest_gradients():
    """Stripes (or a smooth ramp) leave three orientations too few gradients in the sample for
    a floor above 0, so every corner is read: its gradients, all held at once, took 44 MiB on a
    600-pixel square (2 MiB read at sites); a band at a time, those under the floors dropped."""
    import tracemalloc

    ys, xs = np.mgrid[:600, :600].astype(np.float32)
    field = (ys - 300) ** 2 + (xs - 300) ** 2 < 288**2
    for picture in (100 + 50 * np.sin(xs / 3), 50 + xs / 6):
        tracemalloc.start()
        try:
            assert sharpness(picture.astype(np.float32), field) == 0.0
            peak = tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()
        assert peak < 16, peak  # 9.5-9.7 MiB: the picture's own arrays, at most
