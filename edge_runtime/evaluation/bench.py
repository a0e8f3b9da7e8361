"""Time a segmenter on this device: per patch, per whole photograph, and the peak memory."""

import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edge_runtime.contract.bench_record import BenchRecord
from edge_runtime.contract.segmenter_config import SegmenterConfig
from edge_runtime.errors import InputError
from edge_runtime.inference.interpreter import backend_name
from edge_runtime.inference.patch_model import PatchModel
from edge_runtime.inference.runtime_options import RuntimeOptions
from edge_runtime.memory import keep_freed_memory
from edge_runtime.pipeline.grayscale import NO_COLOUR
from edge_runtime.pipeline.segmenter import Result, Segmenter

PATCHES = 64
"""Patches per run when timing the per-patch cost (run in the model's batches, as a photograph's
tiles are)."""


def median_ms(run: Callable[[], object], repeats: int) -> float:
    """Median wall-clock milliseconds of ``repeats`` calls of ``run``."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def segment(segmenter: Segmenter, photo: "Path | np.ndarray") -> Result:
    """One photograph segmented, its arteries and veins classed when a model is chained."""
    result = segmenter.segment(photo)
    result.artery_vein  # noqa: B018  (made when first asked for)
    return result


def benchmark(
    runtime: RuntimeOptions,
    config: SegmenterConfig,
    photo: "Path | np.ndarray",
    name: str,
    runs: int,
    artery_vein: RuntimeOptions | None = None,
) -> BenchRecord:
    """Median milliseconds of the model of ``runtime`` per patch (random patches in its batches,
    averaged as ``config`` says) and of its segmenter per whole ``photo`` (a file, decoding
    included, or an array; ``name`` in the record), over ``runs`` runs each after a warm-up run;
    with an ``artery_vein`` model chained, each photograph's time includes its arteries and
    veins.

    Raises:
        ModelError: the model cannot be used.
        InputError: the photograph cannot be, or has no colour for a chained artery/vein model
            to class (its time would leave the second model out).
    """
    model = PatchModel(runtime)
    segmenter = Segmenter(model, config, artery_vein)
    result = segment(segmenter, photo)  # warm-up, and the tile count
    if artery_vein is not None and result.artery_vein is None:
        raise InputError(
            f"{name}: {NO_COLOUR}, so the artery/vein model would not "
            "run: time it on a colour photograph"
        )
    patches = np.random.default_rng(0).random((PATCHES, model.side, model.side, 1), np.float32)
    segmenter.patch_probabilities(patches)  # warm-up
    patch_ms = median_ms(lambda: segmenter.patch_probabilities(patches), runs)
    photo_ms = median_ms(lambda: segment(segmenter, photo), runs)
    return BenchRecord(
        model=str(model.path),
        artery_vein_model=str(artery_vein.model) if artery_vein else None,
        backend=backend_name(),
        threads=runtime.threads,
        tta=segmenter.config.tta,
        photo=name,
        height=int(result.mask.shape[0]),
        width=int(result.mask.shape[1]),
        patch_ms=round(patch_ms / PATCHES, 3),
        batch_size=model.batch_size,
        photo_ms=round(photo_ms, 1),
        tiles=result.stats.tiles,
        runs=runs,
        peak_rss_mb=round(peak_rss_mb(), 1),
        memory_kept=keep_freed_memory(),
    )
