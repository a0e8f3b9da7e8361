"""Measure map files as ``edge-seg measure`` does: read, choose the field of view and the
scale, measure; and the flat records (JSON, CSV) of the measurements."""

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_runtime.data.vessel_share import check_inside, check_share
from edge_runtime.errors import InputError
from edge_runtime.measure.field import Field, field_from_mask, field_from_vessels, whole_frame
from edge_runtime.measure.maps import check_same_size, read_map
from edge_runtime.measure.measurements import (
    CaliberMeasurements,
    DiscMeasurements,
    MapAnalysis,
    MapMeasurements,
    NotVessels,
    VesselMeasurements,
    analyse_map,
)
from edge_runtime.measure.scale import PIXELS_ONLY, CameraScale, NoScale


@dataclass(frozen=True)
class MeasureOptions:
    """How every map of a run is measured: read as an artery/vein label or not
    (``artery_vein``); its field of view, a mask (``field_mask``, read from ``field_path``),
    estimated from its vessels (``field_auto``) or the whole frame; and how millimetres are
    known (``camera``)."""

    artery_vein: bool = False
    field_path: Path | None = None
    field_mask: np.ndarray | None = None
    field_auto: bool = False
    camera: CameraScale = PIXELS_ONLY


def _field(path: Path, vessels: np.ndarray, options: MeasureOptions) -> Field:
    if options.field_mask is not None:
        check_same_size(path, vessels, options.field_path, options.field_mask)
        check_inside(options.field_path, vessels, options.field_mask, path)
        return field_from_mask(options.field_mask)
    return field_from_vessels(vessels) if options.field_auto else whole_frame(vessels.shape)


def measure_file(path: str | Path, options: MeasureOptions) -> MapAnalysis:
    """Read and measure one map file.

    Raises:
        InputError: the file is not a usable map (see
            :func:`~edge_runtime.measure.maps.read_map`), not its field mask's size, its
            vessels mostly outside that mask, or covering too much of the field to be a vessel
            map (:mod:`~edge_runtime.data.vessel_share`), or with centre lines too dense to be
            one (:class:`~edge_runtime.measure.measurements.NotVessels`), or its field of view
            too small for the field in degrees to give a pixel size
            (:meth:`~edge_runtime.measure.scale.CameraScale.scale`).
    """
    path = Path(path)
    vessel_map = read_map(path, options.artery_vein)
    field = _field(path, vessel_map.vessels, options)
    check_share(path, vessel_map.vessels, field.mask)  # with a hint for a file: inverted?
    try:
        return analyse_map(vessel_map, field, options.camera.scale(field.spanned_px))
    except (NotVessels, NoScale) as exc:
        raise InputError(f"{path}: {exc}") from None


_NESTED = {
    "vessels": VesselMeasurements,
    "arteries": VesselMeasurements,
    "veins": VesselMeasurements,
    "disc": DiscMeasurements,
    "calibers": CaliberMeasurements,
}
"""The fields of :class:`MapMeasurements` that hold records of their own."""

COLUMNS = [f.name for f in dataclasses.fields(MapMeasurements) if f.name not in _NESTED] + [
    f"{name}_{field.name}" for name, kind in _NESTED.items() for field in dataclasses.fields(kind)
]
"""The columns of a flat record, in order (nested records' fields as ``<record>_<field>``)."""


def flat_record(measurements: MapMeasurements) -> dict[str, object]:
    """The measurements as one flat row of :data:`COLUMNS` (``None`` where a nested record is
    missing or a value undefined; codes, the calibers' caveats, in one cell, joined by
    ``", "``: empty for none)."""
    nested = dataclasses.asdict(measurements)
    row = {}
    for column in COLUMNS:
        name, _, inner = column.partition("_")
        value = (nested[name] or {}).get(inner) if name in _NESTED else nested[column]
        row[column] = ", ".join(value) if isinstance(value, tuple) else value
    return row
