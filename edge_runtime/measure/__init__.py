"""Vascular measurements of a vessel map (and of an artery/vein map): numpy and Pillow only.

:func:`~edge_runtime.measure.measurements.analyse_map` measures a
:class:`~edge_runtime.measure.maps.VesselMap` inside a field of view
(:mod:`~edge_runtime.measure.field`), with a scale or without
(:mod:`~edge_runtime.measure.scale`), into typed records
(:class:`~edge_runtime.measure.measurements.MapMeasurements`);
:func:`~edge_runtime.measure.files.measure_file` does it for a file, as ``edge-seg measure``.
Definitions, units and limits: firmware_notes/MEASUREMENTS.md.
"""
