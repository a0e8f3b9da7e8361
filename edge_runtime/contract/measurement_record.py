"""What ``measure`` (and ``segment --measure``) report of a vessel map: the typed records of
its measurements, encoded by :func:`~edge_runtime.contract.schema.encode`.

Lengths are in pixels (``_px``) and, when the map's scale is known, in millimetres (``_mm``);
densities are per field-of-view area. Definitions, units and limits:
firmware_notes/MEASUREMENTS.md.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class VesselMeasurements:
    """The measurements of one class of vessels (all, arteries or veins) in a field of view:
    ``density`` (share of its pixels that are vessel), skeleton ``length`` and ``length_density``
    (length per field area), ``mean_width`` along the skeleton, fractal dimensions ``d0``,
    ``d1``, ``d2``, tortuosity (``tortuosity_median``, ``tortuosity_index`` and
    ``tortuosity_density`` over ``segments``), ``end_points`` and ``branch_points``. ``None``
    where undefined (no vessel, no segment long enough) or, for ``_mm``, without a scale."""

    vessel_pixels: int
    density: float
    length_px: float
    length_mm: float | None
    length_density_per_px: float
    length_density_per_mm: float | None
    mean_width_px: float | None
    mean_width_mm: float | None
    d0: float | None
    d1: float | None
    d2: float | None
    tortuosity_median: float | None
    tortuosity_index: float | None
    tortuosity_density: float | None
    segments: int
    end_points: int
    branch_points: int


@dataclass(frozen=True)
class DiscMeasurements:
    """The optic disc found (:mod:`~edge_runtime.measure.disc`): centre and diameter in
    pixels, diameter in millimetres with a scale, what that diameter rests on
    (``diameter_source``: it is assumed, never measured, and without a scale so is the
    camera's field of view), and the confidence (0-1)."""

    center_x: float
    center_y: float
    diameter_px: float
    diameter_mm: float | None
    diameter_source: str
    confidence: float


@dataclass(frozen=True)
class CaliberMeasurements:
    """CRAE and CRVE (pixels, and millimetres with a scale), AVR, how many arteries and veins
    of zone B entered them, and why they are in doubt (``caveats``, codes of
    :data:`~edge_runtime.measure.caliber.CAVEATS`; none: Knudtson's six of each, zone B
    in view, the disc found clearly)."""

    crae_px: float
    crve_px: float
    crae_mm: float | None
    crve_mm: float | None
    avr: float
    arteries: int
    veins: int
    caveats: tuple[str, ...]

    def doubts(self) -> str:
        """Its caveats as a line's words say them: `` (in doubt: few-veins, zone-b-cut)``,
        nothing without."""
        return f" (in doubt: {', '.join(self.caveats)})" if self.caveats else ""


@dataclass(frozen=True)
class MapMeasurements:
    """Everything measured on one map: the field of view (``field``: frame, mask or auto; its
    area and diameter in pixels), the scale (``mm_per_px``, ``None`` without one), all
    ``vessels``, ``arteries`` and ``veins`` (an artery/vein map only), the ``disc`` and the
    ``calibers`` (an artery/vein map with a disc and zone B in view only)."""

    width: int
    height: int
    field: str
    field_area_px: int
    field_diameter_px: float
    mm_per_px: float | None
    vessels: VesselMeasurements
    arteries: VesselMeasurements | None
    veins: VesselMeasurements | None
    disc: DiscMeasurements | None
    calibers: CaliberMeasurements | None
