"""What ``bench`` reports: a model's speed and memory on this device, the document ``--json``
prints, encoded by :func:`~edge_runtime.contract.schema.encode`."""

from dataclasses import dataclass


@dataclass(frozen=True)
class BenchRecord:
    """Median milliseconds per patch (run in the model's batches of ``batch_size``) and per
    whole photograph (``photo``, ``height`` x ``width``, ``tiles`` tiles; its arteries and veins
    too with an ``artery_vein_model``) over ``runs`` runs, the process's peak resident memory
    (MB), and whether it kept a photograph's freed memory for the next (``memory_kept``:
    :func:`~edge_runtime.memory.keep_freed_memory`; without, each photograph faults its memory
    in again)."""

    model: str
    artery_vein_model: str | None
    backend: str
    threads: int
    tta: str
    photo: str
    height: int
    width: int
    patch_ms: float
    batch_size: int
    photo_ms: float
    tiles: int
    runs: int
    peak_rss_mb: float
    memory_kept: bool
