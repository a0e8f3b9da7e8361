"""What ``segment`` (and ``watch``) report of each input: the JSON line ``--json`` prints,
encoded by :func:`~edge_runtime.contract.schema.encode`."""

from dataclasses import dataclass, field

from edge_runtime.contract.measurement_record import MapMeasurements
from edge_runtime.contract.provenance import Provenance
from edge_runtime.contract.verdict_record import VerdictRecord


@dataclass(frozen=True)
class SegmentRecord:
    """One photograph segmented and its outputs written.

    ``photograph`` is the file name of ``path``
    (:func:`~edge_runtime.contract.provenance.photograph_name`), as its maps carry it and
    ``measure`` and ``verdict`` report it: what a study joins their records by.
    ``outputs`` maps each kind written (``mask``, ``overlay``, ``prob``) to its file; ``ms`` is
    the whole, ``segment_ms`` the segmentation with decoding, ``write_ms`` the writing, and
    ``stages_ms`` each stage (``decode`` ... ``write``), all in milliseconds. ``verdict`` is
    the verdict on the photograph (``None`` when turned off), ``measurements`` those of its
    vessel map (``None`` unless asked for, or when ``not_measured`` says why it is no vessel map
    to measure), ``warnings`` what was printed on stderr of it (each line naming the file: not
    a fundus photograph, no artery/vein map of one without colour, no millimetres, not
    measured).
    """

    path: str
    ok: bool = field(default=True, init=False)
    outputs: dict[str, str]
    width: int
    height: int
    vessel_fraction: float
    tiles: int
    fov_found: bool
    ms: float
    segment_ms: float
    write_ms: float
    stages_ms: dict[str, float]
    verdict: VerdictRecord | None = None
    measurements: MapMeasurements | None = None
    not_measured: str | None = None
    warnings: tuple[str, ...] = ()
    provenance: Provenance | None = None
    photograph: str = field(kw_only=True)  # required, and last in the record as added in 1.2


@dataclass(frozen=True)
class SegmentFailure:
    """An input that was not segmented, the one line that says why and the ``photograph``'s
    name, as :class:`SegmentRecord` gives it (``None`` for an input that is no photograph: a
    folder that cannot be listed); ``watch`` and ``verdict`` report their failures with it."""

    path: str
    ok: bool = field(default=False, init=False)
    error: str
    photograph: str | None
