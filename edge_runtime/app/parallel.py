"""Run one job per photograph on several processes, each with its own interpreter, and hand
the results back in the order of the photographs.

Every worker builds its own :class:`~edge_runtime.pipeline.segmenter.Segmenter` (an interpreter
is not shared between processes) from the same settings, so its results are those one process
gives, photograph for photograph. A failure in one photograph is that photograph's record, as
in one process. Workers are forked where the system can (Linux: a script without a
``__main__`` guard, or Python read from a pipe, can still use them), else spawned.
"""

import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from edge_runtime.pipeline.segmenter import Segmenter, SegmenterSettings


def job_count(requested: int | None, items: int, settings: SegmenterSettings) -> int:
    """Processes for ``items`` photographs: one with a delegate (there is one accelerator),
    else ``requested``, else as many as the cores hold at ``settings.threads`` interpreter
    threads each, and no more than there are photographs. Each process holds its own
    photograph, so the peak memory grows with the count (firmware_notes/budgets.md)."""
    if settings.delegate:
        return 1
    if requested:
        return requested
    return max(1, min((os.cpu_count() or 1) // settings.threads, items))


_worker: dict[str, Any] = {}


def _start(settings: SegmenterSettings, task: Callable) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _worker["task"] = task
    try:
        _worker["segmenter"] = settings.build()
    except Exception as exc:  # raised with the first job: a pool would restart a failed worker
        _worker["failure"] = exc


def _run(item: Any) -> Any:
    if "failure" in _worker:
        raise _worker["failure"]
    return _worker["task"](_worker["segmenter"], item)


def run_jobs(
    task: Callable[[Segmenter, Any], Any],
    items: Iterable[Any],
    segmenter: Segmenter,
    jobs: int = 1,
    settings: SegmenterSettings | None = None,
) -> Iterator[Any]:
    """``task(segmenter, item)`` for every item, in order: in this process with ``segmenter``
    when ``jobs`` is 1, else on ``jobs`` processes, each with a segmenter of ``settings``.
    ``task`` must be a module-level function; what it raises ends the run, so a per-item failure
    should be its record."""
    items = list(items)
    if jobs <= 1 or len(items) <= 1 or settings is None:
        yield from (task(segmenter, item) for item in items)
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    with context.Pool(min(jobs, len(items)), _start, (settings, task)) as pool:
        yield from pool.imap(_run, items)
