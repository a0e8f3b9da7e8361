"""Vessel maps read from files, the field of view and the scale, the optic disc, zone B and the
central retinal equivalents, and a whole map's measurements."""

import math
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_measure_geometry import y_shape

from edge_runtime.contract.artery_vein_classes import ArteryVein
from edge_runtime.data.vessel_share import (
    check_inside,
    check_share,
    too_much_of_the_field,
)
from edge_runtime.errors import InputError
from edge_runtime.measure.caliber import (
    CAVEATS,
    KNUDTSON,
    LARGEST,
    MAX_UNCERTAIN,
    MIN_DISC_CONFIDENCE,
    MIN_RING_INSIDE,
    MIN_SPAN,
    WHOLE_ZONE_B,
    ZONE_B,
    ZoneVessel,
    calibers,
    caveats,
    central_equivalent,
    zone_b,
    zone_vessels,
)
from edge_runtime.measure.disc import (
    MAX_BLOCKS,
    Disc,
    disc_diameter_px,
    locate_disc,
    search_block,
)
from edge_runtime.measure.field import (
    AUTO_MARGIN,
    disc_mask,
    disc_pixels,
    field_from_mask,
    field_from_vessels,
    whole_frame,
)
from edge_runtime.measure.files import MeasureOptions, measure_file
from edge_runtime.measure.fractal import fractal_dimensions
from edge_runtime.measure.grid import Grid, components, neighbour_pairs
from edge_runtime.measure.maps import VesselMap, check_same_size, read_field_mask, read_map
from edge_runtime.measure.measurements import NotVessels, analyse_map, trace
from edge_runtime.measure.scale import (
    MM_PER_DEGREE,
    CameraScale,
    NoScale,
    scale_from_field,
    scale_from_pixel_size,
)

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)
CENTRE = (150, 150)
ARTERY_WIDTH, VEIN_WIDTH = 5, 9
OBLIQUE = 0.5
"""Widths across oblique vessels are within half a pixel (vessel_widths)."""


def star(size: int = 300) -> np.ndarray:
    """An artery/vein label (RGB): twelve straight vessels radiating from a disc at the centre
    (from 8 to 140 pixels from it: they merge near it, as in the disc), arteries (red, 5
    pixels wide) and veins (blue, 9 wide) in turn, 30 degrees apart."""
    pixels = np.zeros((size, size, 3), dtype=np.uint8)
    for k in range(12):
        pixels[ray(k, size)] = BLUE if k % 2 else RED
    return pixels


def ray(k: int, size: int = 300, near: float = 8, far: float = 140) -> np.ndarray:
    """The pixels (boolean (size, size)) of the star's vessel ``k`` from ``near`` to ``far``
    pixels from its centre."""
    yy, xx = np.mgrid[:size, :size]
    angle = math.radians(15 + 30 * k)
    along = (xx - CENTRE[1]) * math.cos(angle) + (yy - CENTRE[0]) * math.sin(angle)
    across = -(xx - CENTRE[1]) * math.sin(angle) + (yy - CENTRE[0]) * math.cos(angle)
    width = VEIN_WIDTH if k % 2 else ARTERY_WIDTH
    return (np.abs(across) <= width / 2) & (along >= near) & (along <= far)


def save(tmp_path, name: str, image: Image.Image | np.ndarray):
    path = tmp_path / name
    (image if isinstance(image, Image.Image) else Image.fromarray(image)).save(path)
    return path


# reading


def test_a_mask_reads_non_zero_as_vessel(tmp_path):
    pixels = np.zeros((40, 50), dtype=np.uint8)
    pixels[10:12, 5:45] = 255
    pixels[30, 5:45] = 1
    read = read_map(save(tmp_path, "mask.png", pixels))
    np.testing.assert_array_equal(read.vessels, pixels > 0)
    assert read.arteries is None and read.veins is None


def test_an_artery_vein_label_reads_its_colours(tmp_path):
    pixels = np.zeros((10, 10, 3), dtype=np.uint8)
    pixels[1, 1], pixels[2, 2], pixels[3, 3], pixels[4, 4] = RED, BLUE, GREEN, WHITE
    read = read_map(save(tmp_path, "av.png", pixels), artery_vein=True)
    assert list(zip(*np.nonzero(read.arteries), strict=True)) == [(1, 1), (3, 3), (4, 4)]
    assert list(zip(*np.nonzero(read.veins), strict=True)) == [(2, 2), (3, 3), (4, 4)]
    assert read.vessels.sum() == 4


def test_a_photograph_is_not_a_map(tmp_path):
    photo = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    with pytest.raises(InputError, match=r"photo.png: got \d+ distinct values, expected a"):
        read_map(save(tmp_path, "photo.png", photo))
    with pytest.raises(InputError, match=r"photo.png: got \d+ distinct values, expected a field"):
        read_field_mask(tmp_path / "photo.png")  # once read as a field of what was not dark


def test_artery_vein_labels_must_be_rgb_with_classes(tmp_path):
    gray = save(tmp_path, "gray.png", np.zeros((20, 20), dtype=np.uint8))
    with pytest.raises(InputError, match=r"gray\.png: got a single-channel image, expected an RGB"):
        read_map(gray, artery_vein=True)
    green = np.zeros((20, 20, 3), dtype=np.uint8)
    green[5, 5] = GREEN
    with pytest.raises(InputError, match=r"green\.png: got no red or blue pixel"):
        read_map(save(tmp_path, "green.png", green), artery_vein=True)


def test_unreadable_files_are_named(tmp_path):
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not a png at all")
    with pytest.raises(InputError, match=r"junk\.png: cannot read a vessel map image"):
        read_map(junk)
    with pytest.raises(InputError, match=r"missing\.png: no such file"):
        read_map(tmp_path / "missing.png")


def test_field_masks_are_checked(tmp_path):
    with pytest.raises(InputError, match=r"empty\.png: no pixel inside the field of view"):
        read_field_mask(save(tmp_path, "empty.png", np.zeros((20, 20), dtype=np.uint8)))
    with pytest.raises(InputError, match=r"map.png: got 30x20 pixels, expected the 20x20"):
        check_same_size("map.png", np.zeros((20, 30), bool), "fov.png", np.ones((20, 20), bool))


def test_an_inverted_mask_is_refused():
    vessels = np.ones((50, 50), dtype=bool)
    vessels[20:22] = False
    with pytest.raises(InputError, match=r"inv.png: vessels cover 96% of the field of view"):
        check_share("inv.png", vessels, np.ones_like(vessels))


def test_an_inverted_field_mask_is_refused():
    vessels = np.zeros((50, 50), dtype=bool)
    vessels[20:22, 10:40] = True
    disc = np.zeros_like(vessels)
    disc[5:45, 5:45] = True
    check_inside("fov.png", vessels, disc, "eye.png")  # holds them all
    check_inside("fov.png", np.zeros_like(vessels), ~disc, "eye.png")  # no vessel: nothing to hold
    with pytest.raises(InputError, match=r"^fov.png: holds 0% of the vessel pixels of eye.png, "):
        check_inside("fov.png", vessels, ~disc, "eye.png")


# field of view and scale


def test_the_whole_frame_holds_no_all_true_copy_of_its_size():
    """The whole frame's mask was an all-true array of the map's size (25 MB for a
    25-megapixel map, kept for the whole measurement): now a read-only view of one True,
    every pixel inside, which nothing can write into."""
    tracemalloc.start()
    try:
        field = whole_frame((5000, 5000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20
    assert field.mask.shape == (5000, 5000) and field.area_px == 25_000_000
    with pytest.raises(ValueError, match="read-only"):
        field.mask[0, 0] = False


def test_field_diameters():
    assert whole_frame((584, 565)).diameter_px == 565
    mask = np.zeros((100, 120), dtype=bool)
    mask[5:95, 10:110] = True  # a field cut at the top and bottom keeps its width
    assert field_from_mask(mask).diameter_px == 100
    vessels = np.zeros((100, 100), dtype=bool)
    vessels[50, 20:81] = vessels[20:81, 50] = True
    auto = field_from_vessels(vessels)
    assert auto.source == "auto" and auto.mask[vessels].all()
    assert auto.diameter_px == pytest.approx(60 + 2 * 2.0)


def test_a_field_from_the_vessels_reaches_their_farthest_pixel():
    """Found from each row's first and last vessel pixels, it is the disc every vessel pixel
    gives, to the last digit (the farthest of a row is at one of its ends)."""
    rng = np.random.default_rng(0)
    for shape, share in (((300, 400), 0.02), ((57, 31), 0.2), ((1, 50), 0.1), ((40, 1), 0.1)):
        vessels = rng.random(shape) < share
        ys, xs = np.nonzero(vessels)
        cy, cx = (ys.min() + ys.max()) / 2, (xs.min() + xs.max()) / 2
        radius = float(np.sqrt(((ys - cy) ** 2 + (xs - cx) ** 2).max())) + AUTO_MARGIN
        auto = field_from_vessels(vessels)
        assert auto.diameter_px == 2 * radius
        assert np.array_equal(auto.mask, disc_mask(shape, cy, cx, radius))


def test_scale_from_the_field_of_view():
    assert scale_from_field(45, 540).mm_per_px == pytest.approx(45 * MM_PER_DEGREE / 540)
    assert scale_from_pixel_size(0.01).mm_per_px == 0.01
    # the disc is 1.8 mm: 1.8 / (45 * 0.288 / 540) = 75 pixels on a DRIVE photograph
    assert disc_diameter_px(540, None) == pytest.approx(75)
    assert disc_diameter_px(540, 0.012) == pytest.approx(150)


def test_a_field_in_degrees_over_a_few_pixels_gives_no_millimetres(tmp_path):
    """A one-pixel map with --fov-auto --fov-degrees 45 reported 3.24 mm a pixel and a vessel
    3.24 mm wide, where a pixel size given so is refused as a unit mistake."""
    camera = CameraScale(field_degrees=45)
    assert camera.scale(540).mm_per_px == pytest.approx(45 * MM_PER_DEGREE / 540)
    with pytest.raises(NoScale, match=r"^a field of view 4 pixels across makes 45 degrees "):
        camera.scale(4)
    for none in (0, -3.0, float("nan")):  # once a ZeroDivisionError, or a made-up scale
        with pytest.raises(NoScale, match=r"pixels across: no millimetres$"):
            camera.scale(none)
    pixel = np.zeros((50, 50), np.uint8)
    pixel[20, 20] = 255
    path = save(tmp_path, "px.png", pixel)
    options = MeasureOptions(camera=camera, field_auto=True)
    with pytest.raises(InputError, match=r"px\.png: a field of view 4 pixels across makes 45 "):
        measure_file(path, options)


# central retinal equivalents


def test_knudtson_pairs_widest_with_narrowest_until_one_is_left():
    k = KNUDTSON["artery"]
    # 10 & 60, 20 & 50, 30 & 40; then the middle one is carried; then the last pair
    first = [k * math.hypot(10, 60), k * math.hypot(20, 50), k * math.hypot(30, 40)]
    low, middle, high = sorted(first)
    expected = k * math.hypot(middle, k * math.hypot(low, high))
    assert central_equivalent([30, 10, 60, 40, 20, 50], k) == pytest.approx(expected)
    assert central_equivalent([7.0], k) == 7.0
    equal = central_equivalent([1.0] * 6, KNUDTSON["vein"])
    assert equal == pytest.approx(
        0.95 * math.hypot(0.95 * math.sqrt(2) * 0.95 * math.sqrt(2), 0.95 * math.sqrt(2))
    )


def _star_vessels():
    label = read_map_from(star())
    disc = Disc(*CENTRE, diameter_px=40, confidence=1.0)
    ring = zone_b(label.vessels.shape, disc)
    found = {}
    for name in ("arteries", "veins"):
        traced = trace(getattr(label, name))
        found[name] = zone_vessels(traced.graph.points, traced.widths, disc, ring)
    return label, disc, ring, found


def read_map_from(pixels: np.ndarray) -> VesselMap:
    pixels = pixels >= 128
    red, blue = pixels[..., 0], pixels[..., 2]
    return VesselMap(red | blue, red + 2 * blue.astype(np.int8))  # both: UNCERTAIN


def test_zone_b_finds_each_vessel_with_its_width():
    _, _, _, found = _star_vessels()
    assert len(found["arteries"]) == len(found["veins"]) == 6
    for name, width in (("arteries", ARTERY_WIDTH), ("veins", VEIN_WIDTH)):
        for vessel in found[name]:
            assert vessel.width_px == pytest.approx(width, abs=OBLIQUE)


@pytest.mark.parametrize(
    "centre, diameter",
    [((150.0, 150.0), 40.0), ((3.7, 290.2), 61.3), ((-50.5, 120.0), 40.0), ((900.0, 9.9), 80.0)],
)
def test_zone_b_holds_the_ring_of_the_whole_map_in_its_box(centre, diameter):
    """The ring is kept in the box that holds it (a map-sized one took 24 MB on the largest
    photograph), with the same pixels as the map-sized ring, also for a disc by or off the
    frame's edge; its share inside a field is of the whole ring."""
    shape = (300, 320)
    disc = Disc(*centre, diameter_px=diameter, confidence=1.0)
    whole = [disc_mask(shape, disc.center_y, disc.center_x, diameter * r) for r in ZONE_B]
    expected = whole[1] & ~whole[0]
    ring = zone_b(shape, disc)
    placed = np.zeros(shape, dtype=bool)
    height, width = ring.mask.shape
    placed[ring.top : ring.top + height, ring.left : ring.left + width] = ring.mask
    assert np.array_equal(placed, expected)
    assert ring.mask.size <= (3 * diameter + 4) ** 2
    ys, xs = np.indices(shape).reshape(2, -1)
    assert np.array_equal(ring.holds(ys, xs), expected.ravel())
    assert not ring.holds(np.array([-1, 0, 400]), np.array([0, -5, 10])).any()  # off the map
    left_half = np.zeros(shape, dtype=bool)
    left_half[:, :160] = True
    beyond = [
        disc_mask((2400, 2400), disc.center_y, disc.center_x, diameter * r, (-1200, -1200))
        for r in ZONE_B
    ]
    whole_ring = np.count_nonzero(beyond[1] & ~beyond[0])  # its parts off the map outside
    assert ring.share_inside(left_half) == np.count_nonzero(expected & left_half) / whole_ring


def _zone_vessels_piece_by_piece(points, widths, disc, ring, classes):
    """What :func:`zone_vessels` finds, worked out a piece at a time (its definition)."""
    inside = ring.holds(points[:, 0], points[:, 1])
    ys, xs, width = points[inside, 0], points[inside, 1], widths[inside]
    skeleton = np.zeros(ring.mask.shape, dtype=bool)
    skeleton[ys - ring.top, xs - ring.left] = True
    grid = Grid.of(skeleton)
    index = grid.set_pixels()
    label = components(len(index), *neighbour_pairs(grid, index))
    radius = np.hypot(ys - disc.center_y, xs - disc.center_x)
    found = []
    for piece in range(label.max() + 1 if len(label) else 0):
        mine = label == piece
        uncertain = np.mean(classes[ys[mine], xs[mine]] == ArteryVein.UNCERTAIN)
        span = np.ptp(radius[mine]) / ((ZONE_B[1] - ZONE_B[0]) * disc.diameter_px)
        if uncertain <= MAX_UNCERTAIN and span >= MIN_SPAN:
            found.append((ys[mine].tolist(), xs[mine].tolist(), float(np.median(width[mine]))))
    return sorted(found, key=lambda v: -v[2])


@pytest.mark.parametrize("seed", range(3))
def test_zone_b_takes_all_its_pieces_at_once_as_it_would_one_by_one(seed):
    """Many pieces at once (a loop over them took 101 s for 485,000 dots in zone B): dots,
    spokes and arcs of each class and uncertain, some crossing the ring's edges."""
    rng = np.random.default_rng(seed)
    shape = (240, 260)
    classes = np.zeros(shape, dtype=np.int8)
    dots = rng.random(shape) < 0.05
    classes[dots] = rng.choice([ArteryVein.ARTERY, ArteryVein.UNCERTAIN], np.count_nonzero(dots))
    y, x = np.indices(shape)
    angle = np.arctan2(y - 120, x - 130)
    spokes = (np.abs(np.sin(12 * angle)) < 0.3) & (rng.random(shape) < 0.99)
    spoke = np.round(12 * angle / np.pi).astype(int) % 24
    spoke_class = rng.choice([ArteryVein.ARTERY, ArteryVein.UNCERTAIN], 24, p=[0.7, 0.3])
    classes[spokes] = spoke_class[spoke[spokes]]
    disc = Disc(120.0, 130.0, diameter_px=60.0, confidence=1.0)
    ring = zone_b(shape, disc)
    traced = trace(classes != ArteryVein.BACKGROUND)
    points, widths = traced.graph.points, traced.widths
    expected = _zone_vessels_piece_by_piece(points, widths, disc, ring, classes)
    found = zone_vessels(points, widths, disc, ring, classes)
    assert [(v.ys.tolist(), v.xs.tolist(), v.width_px) for v in found] == expected
    assert len(expected) >= 5  # spokes crossing the ring, beside dots that do not count
    certain = np.where(classes == ArteryVein.UNCERTAIN, ArteryVein.ARTERY, classes)
    everything = _zone_vessels_piece_by_piece(points, widths, disc, ring, certain)
    found = zone_vessels(points, widths, disc, ring)  # a vessel map alone: no class to weigh
    assert [(v.ys.tolist(), v.xs.tolist(), v.width_px) for v in found] == everything
    assert len(everything) > len(expected)  # the uncertain spokes count then


def test_calibers_combine_the_six_widest_of_each_class():
    label, _, ring, found = _star_vessels()
    everywhere = np.ones(label.vessels.shape, dtype=bool)
    result = calibers(found["arteries"], found["veins"], ring, everywhere, 1.0)
    widths = {kind: [v.width_px for v in found[kind]] for kind in ("arteries", "veins")}
    assert result.crae_px == pytest.approx(
        central_equivalent(widths["arteries"], KNUDTSON["artery"])
    )
    assert result.crve_px == pytest.approx(central_equivalent(widths["veins"], KNUDTSON["vein"]))
    assert result.avr == pytest.approx(result.crae_px / result.crve_px)
    assert result.avr < 1  # thinner arteries
    # more than six of a class (widest first, as zone_vessels gives them): the six widest count
    widest = {kind: ZoneVessel(np.zeros(1, int), np.zeros(1, int), 30.0) for kind in widths}
    thinnest = {kind: ZoneVessel(np.zeros(1, int), np.zeros(1, int), 0.5) for kind in widths}
    more = {kind: [widest[kind], *found[kind], thinnest[kind]] for kind in widths}
    result = calibers(more["arteries"], more["veins"], ring, everywhere, 1.0)
    assert result.arteries == (widest["arteries"], *found["arteries"][:5])
    assert result.veins == (widest["veins"], *found["veins"][:5])
    kept = {kind: [30.0, *widths[kind][:5]] for kind in widths}
    assert result.crae_px == pytest.approx(central_equivalent(kept["arteries"], KNUDTSON["artery"]))
    assert result.crve_px == pytest.approx(central_equivalent(kept["veins"], KNUDTSON["vein"]))
    half = np.zeros_like(everywhere)
    half[:, :140] = True  # most of zone B out of the field of view
    assert calibers(found["arteries"], found["veins"], ring, half, 1.0) is None
    assert calibers(found["arteries"][:1], found["veins"], ring, everywhere, 1.0) is None


def test_a_map_is_measured_whole():
    label = read_map_from(star())
    field = whole_frame(label.vessels.shape)
    analysis = analyse_map(label, field, scale_from_pixel_size(0.02))
    m = analysis.measurements
    assert m.disc is not None
    assert (
        math.hypot(m.disc.center_y - CENTRE[0], m.disc.center_x - CENTRE[1])
        < m.disc.diameter_px / 4
    )
    assert m.disc.confidence > 0.5  # nothing else converges
    assert m.calibers is not None and (m.calibers.arteries, m.calibers.veins) == (6, 6)
    assert m.calibers.caveats == ()  # six of each, zone B whole, the disc clear
    assert m.calibers.crae_mm == pytest.approx(m.calibers.crae_px * 0.02)
    assert m.arteries.vessel_pixels + m.veins.vessel_pixels == m.vessels.vessel_pixels
    assert m.vessels.density == m.vessels.vessel_pixels / (300 * 300)
    assert m.vessels.length_mm == pytest.approx(m.vessels.length_px * 0.02)
    assert m.vessels.length_density_per_mm == pytest.approx(
        m.vessels.length_px * 0.02 / (300 * 300 * 0.02**2)
    )
    assert m.vessels.end_points == 12  # their outer ends: they meet at the centre
    # straight, but their pixel chains are up to 8 % long at oblique angles
    assert 1 <= m.vessels.tortuosity_median <= 1.08
    assert m.arteries.mean_width_px == pytest.approx(ARTERY_WIDTH, abs=OBLIQUE)


def test_a_vessel_of_uncertain_class_enters_neither_caliber_and_a_crossing_keeps_its_vessel(
    tmp_path,
):
    """Green in a label is a crossing or a vessel the annotator could not class: a zone-B
    vessel mostly green counts as neither an artery nor a vein (it counted as both, pulling
    the AVR towards 1), and a short green stretch, a crossing, leaves its vessel in its class."""
    pixels = star()
    for k in (1, 3):  # two veins of uncertain class
        pixels[ray(k)] = GREEN
    pixels[ray(0, near=48, far=54)] = GREEN  # a crossing on an artery, inside zone B
    label = read_map(save(tmp_path, "av.png", pixels), artery_vein=True)
    m = analyse_map(label, whole_frame(label.vessels.shape), None).measurements
    assert (m.calibers.arteries, m.calibers.veins) == (6, 4)
    assert m.calibers.caveats == ("few-veins",)
    assert m.veins.vessel_pixels == np.count_nonzero(pixels[..., 1:].any(axis=2))  # still veins
    for k in (1, 3, 5, 7, 9, 11):
        pixels[ray(k)] = GREEN  # no vein of its own: no CRVE
    label = read_map(save(tmp_path, "av.png", pixels), artery_vein=True)
    assert analyse_map(label, whole_frame(label.vessels.shape), None).measurements.calibers is None


def test_the_disc_is_found_in_the_same_place_in_a_mirror_image():
    """The centre of the best block, a sixteenth of a disc across, fell on the blocks' grid,
    which lies differently on a map and its mirror image: on the 88 artery/vein labels the AVR
    of a mirrored label differed by more than 10 % on 29 of 176 flips, now on 7."""
    yy, xx = np.mgrid[:200, :203]
    crowd = (yy - 90.0) ** 2 + (xx - 100.0) ** 2 <= 20**2  # vessels converging on (90, 100)
    ys, xs = np.nonzero(crowd)
    widths = 8.0 - np.hypot(ys - 90.0, xs - 100.0) / 4  # the widest at the centre
    field = np.ones((200, 203), dtype=bool)
    found = locate_disc(field.shape, ys, xs, widths, field, 64.0)
    mirrored = locate_disc(field.shape, ys, 202 - xs, widths, field, 64.0)
    assert found.center_y == pytest.approx(90, abs=0.1) == mirrored.center_y
    assert found.center_x == pytest.approx(100, abs=0.1)
    assert 202 - mirrored.center_x == pytest.approx(found.center_x, abs=0.1)


@pytest.mark.parametrize(
    ("shape", "diameter", "block"),
    [((584, 565), 75.0, 4), ((5000, 5000), 1.8, 5), ((1, 25_000_000), 2.0, 24)],
)
def test_the_disc_search_is_bounded_on_any_map(shape, diameter, block):
    """A 5000x5000 map at a millimetre a pixel was searched pixel by pixel (838 MB); blocks
    sized by the map's area gave a 1x25,000,000 map five million of them."""
    found = search_block(shape, diameter)
    assert found == block and -(-shape[0] // found) * -(-shape[1] // found) <= MAX_BLOCKS


def test_a_disc_with_nothing_to_compare_has_no_confidence(tmp_path):
    """A crop away from the disc, too small for a place two disc diameters away, reported its
    best guess with confidence 1.00; so did a map far smaller than the disc."""
    label = read_map_from(star())
    field = whole_frame(label.vessels.shape)
    assert analyse_map(label, field, None).measurements.disc.confidence > 0.5
    crop = VesselMap(label.vessels[90:210, 90:210].copy())  # the disc 60 pixels across
    measured = analyse_map(crop, whole_frame((120, 120)), scale_from_pixel_size(0.03))
    assert measured.measurements.disc.confidence == 0
    tiny = scale_from_pixel_size(1e-4)  # a disc 18,000 pixels across
    assert analyse_map(label, field, tiny).measurements.disc.confidence == 0


def test_a_map_of_no_pixels_is_refused_on_one_line():
    """It was a ZeroDivisionError."""
    with pytest.raises(InputError, match=r"^a map of \(0, 0\) pixels: nothing to measure$"):
        analyse_map(VesselMap(np.zeros((0, 0), bool)), whole_frame((0, 0)), None)


def test_an_empty_map_measures_zero_and_undefined():
    m = analyse_map(VesselMap(np.zeros((64, 64), bool)), whole_frame((64, 64)), None).measurements
    assert (m.vessels.density, m.vessels.length_px, m.vessels.end_points) == (0, 0, 0)
    assert m.vessels.mean_width_px is None and m.vessels.d0 is None and m.disc is None
    assert m.vessels.length_mm is None and m.mm_per_px is None


def test_a_map_larger_than_any_photograph_is_refused_before_decoding(tmp_path):
    huge = tmp_path / "huge.png"
    Image.new("1", (6000, 4200)).save(huge)  # 25.2 megapixels, a few kilobytes
    with pytest.raises(InputError, match=r"huge\.png: 6000x4200 pixels exceed the 25-megapixel"):
        read_map(huge)


def test_float_and_32_bit_integer_maps_are_read_and_a_probability_map_refused(tmp_path):
    """A float 0/1 map (ImageJ's, MATLAB's) is a map; a probability map in floats is not (read
    as 8 bits, it kept only p = 1)."""
    probabilities = np.zeros((64, 64), np.float32)
    probabilities[20:40, 10:50] = np.linspace(0.5, 0.9, 40)
    Image.fromarray(probabilities).save(tmp_path / "p.tif")
    with pytest.raises(InputError, match=r"p\.tif: got 41 distinct values, expected a vessel map"):
        read_map(tmp_path / "p.tif")
    vessels = probabilities > 0
    for name, values in (
        ("f.tif", vessels.astype(np.float32)),
        ("i.tif", vessels.astype(np.int32)),
    ):
        Image.fromarray(values).save(tmp_path / name)
        np.testing.assert_array_equal(read_map(tmp_path / name).vessels, vessels)
    probabilities[0, 0] = np.nan
    Image.fromarray(probabilities).save(tmp_path / "nan.tif")
    with pytest.raises(InputError, match=r"nan\.tif: holds values that are not numbers"):
        read_map(tmp_path / "nan.tif")


def test_the_measurement_api_names_what_it_was_given_wrong():
    """A float map, a field of another size and an empty field failed deep inside numpy."""
    vessels = np.zeros((64, 64), bool)
    vessels[30:33, 5:60] = True
    with pytest.raises(InputError, match=r"got a float64 array of shape \(64, 64\), expected"):
        VesselMap(vessels.astype(float))
    with pytest.raises(InputError, match="artery/vein map: got a int64 array"):
        VesselMap(vessels, vessels.astype(np.int64))
    with pytest.raises(InputError, match=r"field of view of shape \(60, 64\), expected the map's"):
        analyse_map(VesselMap(vessels), whole_frame((60, 64)), None)
    with pytest.raises(InputError, match="field-of-view mask: no pixel inside"):
        field_from_mask(np.zeros((64, 64), bool))


def test_a_few_stray_pixels_are_no_disc():
    """A single pixel once gave a disc, with confidence 1.0, beside it."""
    field = np.ones((220, 200), dtype=bool)
    one = locate_disc(field.shape, np.array([50]), np.array([50]), np.array([3.0]), field, 20.0)
    assert one is None
    ys = np.arange(40, 80)  # two disc diameters of a vessel: a disc may lie on it
    disc = locate_disc(field.shape, ys, np.full(40, 100), np.full(40, 3.0), field, 20.0)
    assert disc is not None and abs(disc.center_x - 100) < 10


def test_knudtson_s_coefficients_are_the_published_ones():
    assert KNUDTSON == {"artery": 0.88, "vein": 0.95}
    assert central_equivalent([1.0, 1.0], 0.88) == pytest.approx(0.88 * math.sqrt(2))


def test_zone_b_lies_one_to_one_and_a_half_disc_diameters_from_the_disc_s_centre():
    """By distances, not by ZONE_B (the ring test above builds its ring from it)."""
    ring = zone_b((300, 300), Disc(150.0, 150.0, diameter_px=40.0, confidence=1.0))
    distances = np.array([35, 39, 41, 50, 59, 61, 65])
    inside = ring.holds(np.full(7, 150), 150 + distances)
    assert inside.tolist() == [False, False, True, True, True, False, False]


def _radial(start: int, end: int, angle: float = 0.0) -> np.ndarray:
    """(y, x) of a one-pixel line from ``start`` to ``end`` pixels from (150, 150)."""
    r = np.arange(start, end + 1)
    points = np.stack([150 + r * math.sin(angle), 150 + r * math.cos(angle)], axis=1)
    return np.round(points).astype(int)


def test_zone_b_takes_vessels_across_half_its_depth_and_mostly_of_a_known_class():
    """A stub of 6 pixels in a ring 20 deep is left out, a vessel across 14 kept; the same
    vessel 70 % uncertain is left out (the reference above shares MIN_SPAN and MAX_UNCERTAIN
    with the code, and could not catch them changing)."""
    disc = Disc(150.0, 150.0, diameter_px=40.0, confidence=1.0)  # ring 40 to 60 pixels out
    ring = zone_b((300, 300), disc)
    stub, across = _radial(42, 48), _radial(42, 56, angle=math.pi / 2)
    points = np.concatenate([stub, across])
    points = points[np.lexsort((points[:, 1], points[:, 0]))]
    widths = np.full(len(points), 3.0)
    found = zone_vessels(points, widths, disc, ring)
    assert len(found) == 1 and found[0].xs.tolist() == [150] * len(across)
    classes = np.zeros((300, 300), np.int8)
    classes[tuple(across.T)] = ArteryVein.ARTERY
    classes[tuple(across[: int(0.7 * len(across))].T)] = ArteryVein.UNCERTAIN
    assert zone_vessels(points, widths, disc, ring, classes) == []


@pytest.mark.parametrize(
    ("center", "radius"), [((150.0, 150.0), 60.0), ((3.3, 7.6), 41.5), ((-20.5, 299.2), 0.4)]
)
def test_a_disc_s_pixels_are_counted_as_its_mask_holds_them_beyond_the_map_too(center, radius):
    whole = disc_mask((400, 400), *center, radius, origin=(-100, -100))
    assert disc_pixels(*center, radius) == np.count_nonzero(whole)


def test_zone_b_beyond_the_map_s_edges_counts_as_outside_its_field():
    """A disc in a map's corner: a quarter of its ring lies on the map. The ring was cut to
    the map before its share inside was taken, which read 1, and calibers were given from a
    third of zone B (their limit is half)."""
    field = np.ones((300, 300), bool)
    centred = zone_b((300, 300), Disc(150.0, 150.0, diameter_px=40.0, confidence=1.0))
    assert centred.share_inside(field) == 1.0
    cornered = zone_b((300, 300), Disc(0.0, 0.0, diameter_px=40.0, confidence=1.0))
    assert cornered.share_inside(field) == pytest.approx(0.25, abs=0.01)
    two = [ZoneVessel(np.zeros(1, int), np.zeros(1, int), width) for width in (6.0, 5.0)]
    assert calibers(two, two, cornered, field, 1.0) is None


def test_two_vessels_of_each_class_are_enough_for_the_calibers():
    ring = zone_b((300, 300), Disc(150.0, 150.0, diameter_px=40.0, confidence=1.0))
    two = [ZoneVessel(np.zeros(1, int), np.zeros(1, int), width) for width in (6.0, 5.0)]
    assert calibers(two, two, ring, np.ones((300, 300), bool), 1.0) is not None


def test_each_caveat_holds_below_its_limit_and_not_at_it():
    """A CRAE from two arteries was given as Knudtson's, of six, and nothing in its record said
    otherwise; each caveat now says why the calibers are in doubt, in CAVEATS' order."""
    assert caveats(LARGEST, LARGEST, WHOLE_ZONE_B, MIN_DISC_CONFIDENCE) == ()
    assert caveats(LARGEST - 1, LARGEST, 1.0, 1.0) == ("few-arteries",)
    assert caveats(LARGEST, LARGEST - 1, 1.0, 1.0) == ("few-veins",)
    assert caveats(LARGEST, LARGEST, np.nextafter(WHOLE_ZONE_B, 0), 1.0) == ("zone-b-cut",)
    low = np.nextafter(MIN_DISC_CONFIDENCE, 0)
    assert caveats(LARGEST, LARGEST, 1.0, low) == ("disc-uncertain",)
    assert caveats(2, 2, 0.6, 0.0) == CAVEATS


def test_the_notes_and_the_readme_name_each_caveat_at_its_limit():
    """A study reads what a caveat means from the docs: each code, and the limits as the code
    holds them."""
    root = Path(__file__).parents[2]
    notes = " ".join((root / "firmware_notes" / "MEASUREMENTS.md").read_text().split())
    readme = " ".join((root / "README.md").read_text().split())
    for text in (notes, readme):
        assert all(f"`{code}`" in text for code in CAVEATS)
    assert f"fewer than {LARGEST} of the class in zone B" in notes
    assert f"less than {WHOLE_ZONE_B * 100:g} % of zone B inside the field of view" in notes
    assert f"the disc's confidence below {MIN_DISC_CONFIDENCE:g}" in notes


def test_calibers_carry_the_caveats_of_the_vessels_found_not_of_the_six_kept():
    ring = zone_b((300, 300), Disc(150.0, 150.0, diameter_px=40.0, confidence=1.0))
    field = np.ones((300, 300), bool)

    def vessels(*widths):
        return [ZoneVessel(np.zeros(1, int), np.zeros(1, int), w) for w in widths]

    two, six = vessels(6.0, 5.0), vessels(9.0, 8.0, 7.0, 6.0, 5.0, 4.0)
    assert calibers(two, six, ring, field, 1.0).caveats == ("few-arteries",)
    assert calibers(six, two, ring, field, 1.0).caveats == ("few-veins",)
    assert calibers(six + six, six, ring, field, 1.0).caveats == ()  # the six widest of 12
    assert calibers(six, six, ring, field, 0.05).caveats == ("disc-uncertain",)
    cut = field.copy()
    cut[:, 190:] = False  # zone B (radius 40 to 60 around x 150) cut by a straight edge
    assert MIN_RING_INSIDE < ring.share_inside(cut) < WHOLE_ZONE_B
    assert calibers(six, six, ring, cut, 1.0).caveats == ("zone-b-cut",)


def test_a_map_whose_disc_is_not_told_from_another_place_says_disc_uncertain():
    """Two equal stars side by side: wherever the disc is put, the other star weighs as much
    (confidence 0), and the map's calibers say the disc is in doubt, its own confidence."""
    label = read_map_from(np.concatenate([star(), star()], axis=1))
    m = analyse_map(label, whole_frame(label.vessels.shape), scale_from_pixel_size(0.02))
    assert m.measurements.disc.confidence < MIN_DISC_CONFIDENCE
    assert m.measurements.calibers.caveats == ("disc-uncertain",)


def test_a_map_s_densities_widths_and_points_by_their_definitions():
    label = read_map_from(star())
    measured = analyse_map(label, whole_frame((300, 300)), scale_from_pixel_size(0.02))
    vessels = measured.measurements.vessels
    assert vessels.length_density_per_px == pytest.approx(vessels.length_px / (300 * 300))
    assert vessels.mean_width_mm == pytest.approx(vessels.mean_width_px * 0.02)
    assert vessels.d0 == fractal_dimensions(label.vessels).d0
    y = analyse_map(VesselMap(y_shape()), whole_frame((40, 40)), None).measurements.vessels
    assert (y.end_points, y.branch_points) == (3, 1)


def star_off_the_diagonal():
    """The star of test_measure_maps moved 80 pixels right: its centre at (150, 230), so that
    a disc's x and y differ."""
    return read_map_from(np.pad(star(), ((0, 0), (80, 0), (0, 0))))


def test_the_disc_record_keeps_x_and_y_apart_and_its_sizes_in_millimetres():
    """The disc's record (centre x and y, diameter in pixels and millimetres) and the CRVE in
    millimetres, on a star whose centre is off the diagonal, at 0.02 mm a pixel: the disc is
    1.8 mm, 90 pixels, across."""
    label = star_off_the_diagonal()
    m = analyse_map(label, whole_frame(label.vessels.shape), scale_from_pixel_size(0.02))
    m = m.measurements
    assert m.disc.center_x == pytest.approx(230, abs=5)
    assert m.disc.center_y == pytest.approx(150, abs=5)
    assert m.disc.diameter_px == pytest.approx(90)
    assert m.disc.diameter_mm == pytest.approx(1.8)
    assert m.calibers.crve_mm == pytest.approx(m.calibers.crve_px * 0.02)
    assert m.calibers.crae_mm == pytest.approx(m.calibers.crae_px * 0.02)


def _cross(cy: int, cx: int, arm: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """(ys, xs) of a plus sign of arms ``arm`` long centred on (cy, cx): 4 arm + 1 pixels."""
    r = np.arange(-arm, arm + 1)
    ys = np.concatenate([np.full(len(r), cy), cy + r[r != 0]])
    xs = np.concatenate([cx + r, np.full(len(r) - 1, cx)])
    return ys, xs


def test_the_disc_confidence_is_one_less_the_best_rival_s_share():
    """A rival place two disc diameters away or more holding half the best place's weight
    gives confidence 0.5 (against the best rival, not an average of the places)."""
    field = np.ones((100, 200), dtype=bool)
    (ay, ax), (by, bx) = _cross(50, 50), _cross(50, 150)
    ys, xs = np.concatenate([ay, by]), np.concatenate([ax, bx])
    widths = np.concatenate([np.full(len(ay), 4.0), np.full(len(by), 4.0 / math.sqrt(2))])
    disc = locate_disc(field.shape, ys, xs, widths, field, 20.0)
    assert (disc.center_y, disc.center_x) == pytest.approx((50, 50))
    assert disc.diameter_px == 20.0
    assert disc.confidence == pytest.approx(0.5)


def test_the_disc_weighs_each_centre_line_pixel_by_its_vessel_s_width_squared():
    """81 pixels of vessels 2 wide (weight 324; 162 by width) against 41 of vessels 3 wide
    (369; 123 by width): by the width squared, the disc is where the wider vessels are."""
    field = np.ones((100, 200), dtype=bool)
    thin_y, thin_x = np.mgrid[46:55, 46:55].reshape(2, -1)
    wide_y, wide_x = _cross(50, 150)
    ys, xs = np.concatenate([thin_y, wide_y]), np.concatenate([thin_x, wide_x])
    widths = np.concatenate([np.full(len(thin_y), 2.0), np.full(len(wide_y), 3.0)])
    disc = locate_disc(field.shape, ys, xs, widths, field, 20.0)
    assert (disc.center_y, disc.center_x) == pytest.approx((50, 150))


def test_the_disc_settles_on_the_vessels_within_half_a_disc_diameter():
    """A few heavy pixels 14 to 18 pixels from a crowd's centre, beyond half a disc diameter
    (10) but within one: they do not pull the centre off the crowd."""
    field = np.ones((100, 120), dtype=bool)
    cy, cx = _cross(50, 50)
    ys = np.concatenate([cy, np.full(5, 50)])
    xs = np.concatenate([cx, np.arange(64, 69)])
    widths = np.concatenate([np.full(len(cy), 4.0), np.full(5, 3.0)])
    disc = locate_disc(field.shape, ys, xs, widths, field, 20.0)
    assert (disc.center_y, disc.center_x) == pytest.approx((50, 50), abs=0.05)


def test_under_a_disc_diameter_of_centre_line_is_no_disc():
    """A vessel of 15 centre-line pixels, under the 20 of a disc diameter: no disc (the
    suite's test has 1 and 40 pixels only)."""
    field = np.ones((220, 200), dtype=bool)
    ys = np.arange(40, 55)
    assert locate_disc(field.shape, ys, np.full(15, 100), np.full(15, 3.0), field, 20.0) is None


def test_a_map_is_measured_inside_its_field_of_view_only():
    """With a field of view of the left half of the frame: vessels (and each class's) outside
    it are not counted, and the densities are per field area, not per frame."""
    label = read_map_from(star())
    mask = np.zeros((300, 300), dtype=bool)
    mask[:, :150] = True
    m = analyse_map(label, field_from_mask(mask), None).measurements
    area = 300 * 150
    assert m.field_area_px == area
    assert m.vessels.vessel_pixels == np.count_nonzero(label.vessels & mask)
    assert m.arteries.vessel_pixels == np.count_nonzero(label.arteries & mask)
    assert m.veins.vessel_pixels == np.count_nonzero(label.veins & mask)
    assert m.vessels.density == pytest.approx(m.vessels.vessel_pixels / area)
    assert m.vessels.length_density_per_px == pytest.approx(m.vessels.length_px / area)
    whole = analyse_map(label, whole_frame((300, 300)), None).measurements
    assert m.vessels.length_px < 0.6 * whole.vessels.length_px


def test_the_fractal_dimensions_are_those_of_the_vessels_inside_the_field_of_view():
    """With a field of view of the left half of the frame, D0, D1 and D2 (of all vessels and
    of each class) are those of the map cut to the field: vessels outside it do not count."""
    label = read_map_from(star())
    mask = np.zeros((300, 300), dtype=bool)
    mask[:, :150] = True
    m = analyse_map(label, field_from_mask(mask), None).measurements
    for measured, vessels in (
        (m.vessels, label.vessels),
        (m.arteries, label.arteries),
        (m.veins, label.veins),
    ):
        inside = fractal_dimensions(vessels & mask)
        whole = fractal_dimensions(vessels)
        assert (measured.d0, measured.d1, measured.d2) == (inside.d0, inside.d1, inside.d2)
        assert abs(whole.d0 - inside.d0) > 0.01  # the half outside would change it


def test_an_inverted_map_is_no_vessel_map_in_python_too():
    """`edge-seg measure` refused it, but analyse_map measured it: vessels 86 % of the field,
    522 segments 14 pixels wide (DRIVE's 05, inverted)."""
    inverted = VesselMap(~read_map_from(star()).vessels)
    share = f"{inverted.vessels.mean():.0%}"  # the background's: 88 %
    with pytest.raises(NotVessels, match=rf"^vessels cover {share} of the field of view, expec"):
        analyse_map(inverted, whole_frame(inverted.vessels.shape), None)


@pytest.mark.parametrize(
    "make",
    [
        lambda: scale_from_pixel_size(-0.01),
        lambda: scale_from_pixel_size(0.0),
        lambda: scale_from_pixel_size(math.nan),
        lambda: scale_from_field(45, 0),
        lambda: scale_from_field(45, math.nan),
        lambda: scale_from_field(-45, 1000),
    ],
    ids=["negative", "zero", "nan", "no field", "nan field", "negative degrees"],
)
def test_a_scale_that_is_no_size_is_refused(make):
    """Negative millimetres came out of a negative pixel size, and 0 or NaN raised from deep
    inside the disc search (ZeroDivisionError, "cannot convert float NaN to integer")."""
    with pytest.raises(ValueError, match=r"^got .*(mm per pixel, expected a size|pixels across)"):
        make()


@pytest.mark.parametrize("code", [-1, 4, 5])
def test_an_artery_vein_code_of_no_class_is_refused(code):
    """A code outside ArteryVein's left its pixels out of both classes without a word."""
    vessels = np.ones((20, 30), dtype=bool)
    classes = np.full((20, 30), ArteryVein.ARTERY, dtype=np.int8)
    classes[5, 5] = code
    with pytest.raises(InputError, match=r"artery/vein map: holds codes -?\d to \d, expected Ar"):
        VesselMap(vessels, classes)
    classes[5, 5] = ArteryVein.UNCERTAIN
    assert VesselMap(vessels, classes).veins.sum() == 1


def test_vessels_outside_the_field_of_view_do_not_count_towards_its_share():
    """A map white outside its field (a camera's border) is measured as the map inside it."""
    label = read_map_from(star())
    mask = np.zeros((300, 300), dtype=bool)
    mask[:, :150] = True
    bordered = label.vessels.copy()
    bordered[:, 150:] = True
    field = field_from_mask(mask)
    measured = analyse_map(VesselMap(bordered), field, None).measurements
    assert measured == analyse_map(VesselMap(label.vessels), field, None).measurements


def test_a_map_in_the_whole_frame_is_measured_as_it_is_not_copied_inside_it():
    """analyse_map copied the map inside the field, the whole frame too (25 MB more of a
    25-megapixel map while it was thinned); a map in a smaller field is still cut to it."""
    label = read_map_from(star())
    assert analyse_map(label, whole_frame((300, 300)), None).vessels is label.vessels
    mask = np.zeros((300, 300), dtype=bool)
    mask[:, :150] = True
    inside = analyse_map(label, field_from_mask(mask), None).vessels
    assert np.array_equal(inside, label.vessels & mask) and label.vessels[:, 150:].any()


def test_vessels_covering_exactly_the_largest_share_are_let_through():
    """The share refused is more than half of the field: half is still a map."""
    half = np.zeros((20, 20), dtype=bool)
    half[:10] = True
    assert too_much_of_the_field(half, None) is None
    assert too_much_of_the_field(half, np.ones_like(half)) is None
    half[10, 0] = True
    assert too_much_of_the_field(half, None).startswith("vessels cover 50% of the field of view")


def test_the_share_refused_is_of_the_field_not_of_the_frame():
    """Vessels over more than half a field that is a quarter of the frame (an eighth of the
    frame) are refused whoever measures them: analyse_map counts them against the field's
    area, as measure_file does, not against the frame's; vessels outside a field never count,
    and an empty field has none."""
    vessels = np.zeros((40, 40), dtype=bool)
    vessels[:20, :20] = np.arange(20)[:, None] % 3 != 2  # 2/3 of the field below
    vessels[30:, 30:] = True  # outside it
    inside = np.zeros_like(vessels)
    inside[:20, :20] = True
    problem = too_much_of_the_field(vessels, inside)
    assert problem.startswith("vessels cover 70% of the field of view"), problem
    with pytest.raises(NotVessels, match="vessels cover 70% of the field of view"):
        analyse_map(VesselMap(vessels), field_from_mask(inside), None)
    assert too_much_of_the_field(vessels, np.zeros_like(vessels)) is None


def test_an_empty_artery_vein_map_is_refused_as_nothing_to_measure():
    """The codes of a map of no pixels have no range to check: it is an empty map."""
    empty = VesselMap(np.zeros((0, 0), bool), np.zeros((0, 0), np.int8))
    with pytest.raises(InputError, match=r"^a map of \(0, 0\) pixels: nothing to measure$"):
        analyse_map(empty, whole_frame((0, 0)), None)


@pytest.mark.parametrize("mm_per_px", [math.inf, True], ids=["infinite", "bool"])
def test_a_pixel_size_that_is_infinite_or_a_bool_is_refused(mm_per_px):
    """An infinite size makes infinite millimetres; True is no number (it would be 1 mm)."""
    with pytest.raises(ValueError, match=r"^got (inf|True) mm per pixel"):
        scale_from_pixel_size(mm_per_px)


@pytest.mark.parametrize(("center", "radius"), [((0.5, 0.0), 1.0), ((10.5, 20.0), 3.0)])
def test_a_disc_s_pixel_count_leaves_out_rows_beyond_its_radius(center, radius):
    """Kills M21: a centre on a whole column and halfway between rows: the rows just past
    the radius at the top and bottom hold no pixel (counted, each added one)."""
    whole = disc_mask((100, 100), *center, radius, origin=(-50, -50))
    assert disc_pixels(*center, radius) == np.count_nonzero(whole)


def test_the_disc_s_diameter_says_it_is_assumed_and_on_what():
    """disc_diameter_mm read 1.8 in every row, as if measured: its source says it is assumed,
    and, without a scale, that so is the camera's field of view (a 30 degree camera's disc is
    1.5 times as many pixels)."""
    label = star_off_the_diagonal()
    m = analyse_map(label, whole_frame(label.vessels.shape), scale_from_pixel_size(0.02))
    assert m.measurements.disc.diameter_source == "assumed: 1.8 mm"
    m = analyse_map(label, whole_frame(label.vessels.shape), None)
    assert m.measurements.disc.diameter_source == "assumed: 1.8 mm, 45 degree field of view"
