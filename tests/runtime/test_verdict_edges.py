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
