"""All the measurements of one vessel map (what ``edge-seg measure`` prints), into the typed
records of :mod:`~edge_runtime.contract.measurement_record`.

Lengths are in pixels (``_px``) and, when the map's scale is known, in millimetres (``_mm``);
densities are per field-of-view area. Each measurement's definition, unit and limits:
firmware_notes/MEASUREMENTS.md.
"""

import math
from dataclasses import dataclass

import numpy as np

from edge_runtime.contract.artery_vein_classes import ArteryVein
from edge_runtime.contract.measurement_record import (
    CaliberMeasurements,
    DiscMeasurements,
    MapMeasurements,
    VesselMeasurements,
)
from edge_runtime.data.vessel_share import share_problem, too_much_of_the_field
from edge_runtime.errors import InputError
from edge_runtime.measure.caliber import Calibers, calibers, zone_b, zone_vessels
from edge_runtime.measure.disc import Disc, disc_diameter_px, disc_diameter_source, locate_disc
from edge_runtime.measure.field import Field
from edge_runtime.measure.fractal import fractal_dimensions
from edge_runtime.measure.graph import SkeletonGraph, graph_of
from edge_runtime.measure.grid import Grid
from edge_runtime.measure.maps import VesselMap
from edge_runtime.measure.scale import Scale
from edge_runtime.measure.skeleton import thin
from edge_runtime.measure.tortuosity import tortuosity, turn_span
from edge_runtime.measure.width import vessel_widths


@dataclass(frozen=True)
class Traced:
    """What measuring one class of vessels traced: the graph of its skeleton and the widths
    at the skeleton's pixels (``graph.points``); kept for the disc, zone B and the picture."""

    shape: tuple[int, int]
    graph: SkeletonGraph
    widths: np.ndarray

    @property
    def skeleton(self) -> np.ndarray:
        """The skeleton, a boolean (H, W) image."""
        image = np.zeros(self.shape, dtype=bool)
        image[tuple(self.graph.points.T)] = True
        return image


@dataclass(frozen=True)
class MapAnalysis:
    """The measurements of a map with what they were made from (for its picture)."""

    measurements: MapMeasurements
    vessels: np.ndarray
    field: Field
    traced: Traced
    disc: Disc | None
    calibers: Calibers | None


def _mm(value: float | None, scale: Scale | None, power: int = 1) -> float | None:
    return None if value is None or scale is None else value * scale.mm_per_px**power


MAX_CENTRE_LINE_SIDES = 150
"""Longest that a map's centre lines may be, in sides of a square of the map's area (its
shorter side would refuse a mosaic of fields side by side). A vessel map's are at most 29
times (on the 148 manual labels of DRIVE, STARE, GAVE and LES-AV; 19 on the bundled model's
maps of their 108 photographs, under 10 on its maps of noise), whatever its size; a grid of
lines or noise is hundreds of times (a 24-megapixel grid of lines 14 pixels apart: 675), and
its graph takes about 250 bytes a centre-line pixel (968 MB for that grid). At this limit a
graph of the largest accepted map takes under 200 MB."""

CENTRE_LINES_CHECKED_FROM = 100_000
"""Centre-line pixels from which :data:`MAX_CENTRE_LINE_SIDES` applies: below, any map's graph
is small (tens of megabytes), so a small map is never refused for it."""


class NotVessels(InputError):
    """A map that is no vessel map: its vessels cover too much of its field, or its centre
    lines are longer than :data:`MAX_CENTRE_LINE_SIDES` times the side of a square of its
    area."""


def trace(vessels: np.ndarray) -> Traced:
    """Skeleton, graph and widths of a boolean vessel map.

    Raises:
        NotVessels: its centre lines are too long and too many for a vessel map
            (:data:`MAX_CENTRE_LINE_SIDES`, :data:`CENTRE_LINES_CHECKED_FROM`).
    """
    graph = _centre_lines(vessels)  # its thinned copy of the map gone before the widths
    return Traced(vessels.shape, graph, vessel_widths(vessels, *graph.points.T))


def _centre_lines(vessels: np.ndarray) -> SkeletonGraph:
    """The graph of a boolean vessel map's centre lines (:func:`trace`)."""
    grid = Grid.of(vessels)
    skeleton, codes = thin(grid)
    sides = len(skeleton) / max(1.0, math.sqrt(vessels.size))
    if sides > MAX_CENTRE_LINE_SIDES and len(skeleton) >= CENTRE_LINES_CHECKED_FROM:
        raise NotVessels(
            f"its centre lines are {sides:.0f} times as long as a square of its area is wide, "
            f"expected a vessel map's few dozen (at most {MAX_CENTRE_LINE_SIDES}: a grid, noise "
            "or a texture is not one)"
        )
    return graph_of(grid, skeleton, codes)


def measure_vessels(
    vessels: np.ndarray, field: Field, scale: Scale | None, traced: Traced | None = None
) -> VesselMeasurements:
    """The measurements of a boolean vessel map (already inside ``field``); ``traced`` is its
    :func:`trace` when already made."""
    traced = traced or trace(vessels)
    graph, widths = traced.graph, traced.widths
    area = field.area_px
    count = int(np.count_nonzero(vessels))
    mean_width = float(widths.mean()) if len(widths) else None
    fractal = fractal_dimensions(vessels)
    tortuous = tortuosity(graph.segments, turn_span(field.diameter_px))
    return VesselMeasurements(
        vessel_pixels=count,
        density=count / area,
        length_px=graph.length,
        length_mm=_mm(graph.length, scale),
        length_density_per_px=graph.length / area,
        length_density_per_mm=_mm(graph.length / area, scale, -1),
        mean_width_px=mean_width,
        mean_width_mm=_mm(mean_width, scale),
        d0=None if fractal is None else fractal.d0,
        d1=None if fractal is None else fractal.d1,
        d2=None if fractal is None else fractal.d2,
        tortuosity_median=tortuous.median,
        tortuosity_index=tortuous.index,
        tortuosity_density=tortuous.density,
        segments=tortuous.segments,
        end_points=len(graph.end_points),
        branch_points=len(graph.branch_points),
    )


@dataclass(frozen=True)
class _Classes:
    """Arteries and veins measured, and the calibers of zone B (``None`` without a disc or
    with too few vessels there)."""

    arteries: VesselMeasurements
    veins: VesselMeasurements
    calibers: Calibers | None


def _classes(
    vessel_map: VesselMap, field: Field, scale: Scale | None, disc: Disc | None
) -> _Classes:
    ring = None if disc is None else zone_b(field.mask.shape, disc)
    measured, crossing = {}, {}
    for name, code in (("arteries", ArteryVein.ARTERY), ("veins", ArteryVein.VEIN)):
        vessels = vessel_map.of_class(code)
        vessels &= field.mask
        traced = trace(vessels)
        measured[name] = measure_vessels(vessels, field, scale, traced)
        if ring is not None:
            points, widths = traced.graph.points, traced.widths
            crossing[name] = zone_vessels(points, widths, disc, ring, vessel_map.classes)
    found = None
    if ring is not None:
        found = calibers(crossing["arteries"], crossing["veins"], ring, field.mask, disc.confidence)
    return _Classes(measured["arteries"], measured["veins"], found)


def _disc_record(disc: Disc | None, scale: Scale | None) -> DiscMeasurements | None:
    if disc is None:
        return None
    diameter = disc.diameter_px
    source = disc_diameter_source(None if scale is None else scale.mm_per_px)
    return DiscMeasurements(
        disc.center_x, disc.center_y, diameter, _mm(diameter, scale), source, disc.confidence
    )


def _caliber_record(found: Calibers | None, scale: Scale | None) -> CaliberMeasurements | None:
    if found is None:
        return None
    return CaliberMeasurements(
        found.crae_px,
        found.crve_px,
        _mm(found.crae_px, scale),
        _mm(found.crve_px, scale),
        found.avr,
        len(found.arteries),
        len(found.veins),
        found.caveats,
    )


def refuse_too_much_of_the_field(vessels: np.ndarray, field: Field) -> None:
    """Refuse a boolean map whose vessels cover too much of ``field``
    (:func:`~edge_runtime.data.vessel_share.too_much_of_the_field`: inverted?).

    Raises:
        NotVessels: they do.
    """
    problem = too_much_of_the_field(vessels, field.mask)
    if problem:
        raise NotVessels(problem)


def analyse_map(vessel_map: VesselMap, field: Field, scale: Scale | None) -> MapAnalysis:
    """Measure a map inside a field of view (``field.mask`` the map's size), with a scale or
    without (``None``): all its vessels, the disc, and for an artery/vein map each class and
    the calibers of zone B.

    Raises:
        InputError: the map is empty (no pixel), or the field is not its size.
        NotVessels: the map is no vessel map: its vessels cover too much of the field
            (:func:`~edge_runtime.data.vessel_share.too_much_of_the_field`: inverted?), or
            their centre lines are too dense (:func:`trace`).
    """
    if not vessel_map.vessels.size:
        raise InputError(f"a map of {vessel_map.vessels.shape} pixels: nothing to measure")
    if field.mask.shape != vessel_map.vessels.shape:
        raise InputError(
            f"field of view of shape {field.mask.shape}, expected the map's "
            f"{vessel_map.vessels.shape}"
        )
    vessels = field.inside(vessel_map.vessels)
    problem = share_problem(np.count_nonzero(vessels), field.area_px)  # no second pass
    if problem:
        raise NotVessels(problem)
    traced = trace(vessels)
    mm_per_px = None if scale is None else scale.mm_per_px
    diameter = disc_diameter_px(field.diameter_px, mm_per_px)
    disc = locate_disc(vessels.shape, *traced.graph.points.T, traced.widths, field.mask, diameter)
    classes = None
    if vessel_map.classes is not None:
        classes = _classes(vessel_map, field, scale, disc)
    found = None if classes is None else classes.calibers
    measurements = MapMeasurements(
        width=vessels.shape[1],
        height=vessels.shape[0],
        field=field.source,
        field_area_px=field.area_px,
        field_diameter_px=field.diameter_px,
        mm_per_px=mm_per_px,
        vessels=measure_vessels(vessels, field, scale, traced),
        arteries=None if classes is None else classes.arteries,
        veins=None if classes is None else classes.veins,
        disc=_disc_record(disc, scale),
        calibers=_caliber_record(found, scale),
    )
    return MapAnalysis(measurements, vessels, field, traced, disc, found)
