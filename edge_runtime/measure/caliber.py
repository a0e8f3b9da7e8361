"""Central retinal artery and vein equivalents (CRAE, CRVE) and their ratio (AVR), by Knudtson
et al.'s revised formulas (Curr. Eye Res. 27(3), 2003), from an artery/vein map and the disc.

The vessels measured are those crossing zone B, the ring from half a disc diameter to one disc
diameter beyond the disc's margin. Each piece of a class's skeleton inside the ring that spans
at least :data:`MIN_SPAN` of its depth is one vessel; its width is the median of the widths
along it (:func:`~edge_runtime.measure.width.vessel_widths`). The six widest of each class are
combined in pairs, widest with narrowest, ``w = k * sqrt(w1^2 + w2^2)`` (k = 0.88 for
arteries, 0.95 for veins), the odd one out carried to the next round, until one width is left.

A piece more than :data:`MAX_UNCERTAIN` of whose skeleton is of uncertain class (green in a
label: the annotator could not tell) is measured in neither class: its class is not known.
Crossings, green too, are short stretches of a piece and keep it in both classes.

Known limits: a vessel that branches inside the ring counts as one piece (its median width is
then mostly its trunk's); two vessels that touch in the map merge into one; a ring that
reaches out of the field of view loses the vessels there (no result when less than
:data:`MIN_RING_INSIDE` of it is inside).

Calibers are given from :data:`MIN_VESSELS` vessels of a class, but Knudtson's equivalent is
one of six: from fewer it is another, smaller, number (from two equal widths 0.71 of six's for
arteries, 0.63 for veins). So each result carries its :data:`CAVEATS`, why a study should not
take it for Knudtson's without looking (:func:`caveats`): fewer than :data:`LARGEST` arteries
(``few-arteries``) or veins (``few-veins``) in zone B, less than :data:`WHOLE_ZONE_B` of zone B
inside the field of view (``zone-b-cut``), a disc found with a confidence below
:data:`MIN_DISC_CONFIDENCE` (``disc-uncertain``). The values are kept (emptied, most of
DRIVE's would be lost); what chose each limit: firmware_notes/MEASUREMENTS.md.
"""

import math
from dataclasses import dataclass

import numpy as np

from edge_runtime.contract.artery_vein_classes import ArteryVein
from edge_runtime.measure.disc import Disc
from edge_runtime.measure.field import disc_mask, disc_pixels
from edge_runtime.measure.grid import Grid, components, neighbour_pairs

ZONE_B = (1.0, 1.5)
"""Zone B's inner and outer radius in disc diameters from the disc's centre (0.5 and 1 disc
diameter from its margin)."""

MIN_SPAN = 0.5
"""A vessel must span this share of the ring's depth, radially: stubs and vessels running
along the ring are not measured."""

LARGEST = 6
"""Vessels of each class combined."""

MIN_VESSELS = 2
"""Fewer vessels of a class in zone B give no equivalent."""

MAX_UNCERTAIN = 0.5
"""Share of a zone-B piece's skeleton of uncertain class above which it counts in neither
class."""

MIN_RING_INSIDE = 0.5
"""Share of zone B that must lie inside the field of view."""

WHOLE_ZONE_B = 0.95
"""Share of zone B inside the field of view below which its calibers are in doubt: zone B cut
to 95 % by a straight edge changed the AVR by more than 10 % in 1 % of 311 cuts of the 39
manual labels with zone B whole and six vessels of each class, cut to 90 % in 18 % of 277."""

MIN_DISC_CONFIDENCE = 0.1
"""Disc confidence below which the calibers are in doubt: 8 of the 88 manual artery/vein labels
fall below it, and 17 of the 49 halves of them without their disc that got calibers (the
confidence tells a disc from none only roughly: theirs is 0.17 at the median, the labels'
0.32)."""

CAVEATS = ("few-arteries", "few-veins", "zone-b-cut", "disc-uncertain")
"""Why a result's CRAE, CRVE and AVR are in doubt, in this order (:func:`caveats`)."""

KNUDTSON = {"artery": 0.88, "vein": 0.95}
"""Knudtson's branching coefficients."""


@dataclass(frozen=True)
class ZoneVessel:
    """One vessel crossing zone B: its skeleton pixels there (``ys``, ``xs``) and its width in
    pixels."""

    ys: np.ndarray
    xs: np.ndarray
    width_px: float


@dataclass(frozen=True)
class Calibers:
    """CRAE and CRVE in pixels, their ratio ``avr``, the vessels that entered each (the
    widest :data:`LARGEST`), and why they are in doubt (``caveats``, :func:`caveats`)."""

    crae_px: float
    crve_px: float
    avr: float
    arteries: tuple[ZoneVessel, ...]
    veins: tuple[ZoneVessel, ...]
    caveats: tuple[str, ...]


def central_equivalent(widths: list[float], coefficient: float) -> float:
    """Knudtson's iterative pairing of vessel ``widths`` with a branching ``coefficient``."""
    widths = sorted(widths)
    while len(widths) > 1:
        half = len(widths) // 2
        paired = [coefficient * np.hypot(widths[i], widths[-1 - i]) for i in range(half)]
        middle = [widths[half]] if len(widths) % 2 else []
        widths = sorted(paired + middle)
    return float(widths[0])


@dataclass(frozen=True)
class ZoneB:
    """Zone B of a map: its pixels (``mask``, boolean) in the box of the map that holds them,
    whose first pixel is the map's (``top``, ``left``; a map-sized ring would take as much
    memory as the map for a ring a few per cent of it), and how many pixels the whole ring has
    (``pixels``), also those beyond the map's edges."""

    mask: np.ndarray
    top: int
    left: int
    pixels: int

    def _box(self, image: np.ndarray) -> np.ndarray:
        """The part of a map-sized ``image`` under the box."""
        height, width = self.mask.shape
        return image[self.top : self.top + height, self.left : self.left + width]

    def holds(self, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """Whether each pixel (``ys``, ``xs``) of the map lies in the ring."""
        ys, xs = np.asarray(ys) - self.top, np.asarray(xs) - self.left
        height, width = self.mask.shape
        boxed = (ys >= 0) & (ys < height) & (xs >= 0) & (xs < width)
        held = np.zeros(len(ys), dtype=bool)
        held[boxed] = self.mask[ys[boxed], xs[boxed]]
        return held

    def share_inside(self, field: np.ndarray) -> float:
        """Share of the whole ring inside a map-sized boolean ``field``, the part beyond the
        map's edges outside it (1 for an empty ring)."""
        inside = np.count_nonzero(self.mask & self._box(field))
        return inside / self.pixels if self.pixels else 1.0


def zone_b(shape: tuple[int, int], disc: Disc) -> ZoneB:
    """Zone B around ``disc`` on a map of ``shape`` (H, W)."""
    radii = [disc.diameter_px * r for r in ZONE_B]
    # a pixel more each way than the outer circle's extent: never one of its pixels left out
    top, left = (max(0, math.floor(c - radii[1]) - 1) for c in (disc.center_y, disc.center_x))
    bottom, right = (
        min(side, max(start, math.ceil(c + radii[1]) + 2))
        for side, start, c in zip(shape, (top, left), (disc.center_y, disc.center_x), strict=True)
    )
    box = (max(0, bottom - top), max(0, right - left))
    inner, outer = (disc_mask(box, disc.center_y, disc.center_x, r, (top, left)) for r in radii)
    pixels = [disc_pixels(disc.center_y, disc.center_x, r) for r in radii]
    return ZoneB(outer & ~inner, top, left, pixels[1] - pixels[0])


def zone_vessels(
    points: np.ndarray,
    widths: np.ndarray,
    disc: Disc,
    ring: ZoneB,
    classes: np.ndarray | None = None,
) -> list[ZoneVessel]:
    """The vessels of one class crossing zone B (``ring``): ``points`` are its
    skeleton's pixels ((n, 2) y, x, row after row) and ``widths`` its vessel widths there;
    pieces mostly of uncertain class in the map's ``classes`` (int8 (H, W) artery/vein codes,
    :data:`MAX_UNCERTAIN`) left out."""
    inside = ring.holds(points[:, 0], points[:, 1])
    ys, xs, width = points[inside, 0], points[inside, 1], widths[inside]
    skeleton = np.zeros(ring.mask.shape, dtype=bool)  # in the ring's box
    skeleton[ys - ring.top, xs - ring.left] = True
    grid = Grid.of(skeleton)
    index = grid.set_pixels()  # the same pixels in the same (row-major) order as ys, xs
    label = components(len(index), *neighbour_pairs(grid, index))
    if not len(label):
        return []
    # each piece's pixels together, still row after row: one pass over all pieces at once (a
    # loop over the pieces was quadratic: 101 s for 485,000 dots in zone B)
    order = np.argsort(label, kind="stable")
    count = np.bincount(label)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    radius = np.hypot(ys - disc.center_y, xs - disc.center_x)[order]
    span = np.maximum.reduceat(radius, start) - np.minimum.reduceat(radius, start)
    kept = span >= MIN_SPAN * (ZONE_B[1] - ZONE_B[0]) * disc.diameter_px
    if classes is not None:
        uncertain = classes[ys, xs] == ArteryVein.UNCERTAIN
        kept &= np.bincount(label, weights=uncertain) / count <= MAX_UNCERTAIN
    ys, xs, width = ys[order], xs[order], width[order]
    vessels = [
        ZoneVessel(ys[piece], xs[piece], float(np.median(width[piece])))
        for piece in (slice(start[k], start[k] + count[k]) for k in np.flatnonzero(kept))
    ]
    return sorted(vessels, key=lambda v: -v.width_px)


def caveats(arteries: int, veins: int, inside: float, confidence: float) -> tuple[str, ...]:
    """Why calibers from ``arteries`` and ``veins`` vessels of zone B, ``inside`` of which
    (a share) lies in the field of view, around a disc found with ``confidence``, are in
    doubt: the :data:`CAVEATS` that hold, in their order (fewer than :data:`LARGEST` of a
    class, less than :data:`WHOLE_ZONE_B` of zone B, a confidence below
    :data:`MIN_DISC_CONFIDENCE`)."""
    doubts = (
        arteries < LARGEST,
        veins < LARGEST,
        inside < WHOLE_ZONE_B,
        confidence < MIN_DISC_CONFIDENCE,
    )
    return tuple(code for code, doubt in zip(CAVEATS, doubts, strict=True) if doubt)


def calibers(
    arteries: list[ZoneVessel],
    veins: list[ZoneVessel],
    ring: ZoneB,
    field: np.ndarray,
    confidence: float,
) -> Calibers | None:
    """CRAE, CRVE and AVR from the vessels of each class in zone B (``ring``), with their
    :func:`caveats` (``confidence``: the disc's); ``None`` when a class has fewer than
    :data:`MIN_VESSELS` or the ring lies mostly outside the ``field`` (boolean, the map's
    size)."""
    inside = ring.share_inside(field)
    if inside < MIN_RING_INSIDE or min(len(arteries), len(veins)) < MIN_VESSELS:
        return None
    doubts = caveats(len(arteries), len(veins), inside, confidence)
    arteries, veins = arteries[:LARGEST], veins[:LARGEST]
    crae = central_equivalent([v.width_px for v in arteries], KNUDTSON["artery"])
    crve = central_equivalent([v.width_px for v in veins], KNUDTSON["vein"])
    return Calibers(crae, crve, crae / crve, tuple(arteries), tuple(veins), doubts)
