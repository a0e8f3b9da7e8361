"""Freed memory kept for the next photograph: glibc's ``malloc`` otherwise maps each large array
on its own and trims the top of its heap, handing a photograph's memory back to the system only
to fault it in again, a page at a time, for the next one (firmware_notes/budgets.md)."""

import ctypes
import functools
import os
import platform
from collections.abc import Mapping

MAP_ALONE_FROM = 32 * 2**20
"""Arrays of at least this many bytes are mapped on their own, and unmapped when freed (a
full-size float map of a photograph above 8.4 megapixels is one); smaller ones come from the
heap. The most that 64-bit glibc accepts."""

KEEP_FREE_UP_TO = 128 * 2**20
"""Bytes of free memory at the top of the heap that it keeps rather than hands back: more than
a photograph's smaller arrays together."""

GLIBC_DEFAULTS = {"GLIBC_TUNABLES": "glibc.malloc.perturb=0"}
"""An environment that leaves glibc's ``malloc`` at its defaults: a setting of it named, at its
default value, so that :func:`keep_freed_memory` keeps its hands off (benchmarks compare)."""

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
"""``mallopt``'s parameter numbers (glibc's ``malloc.h``)."""


def _tunes_allocator(name: str, value: str) -> bool:
    """Whether an environment variable sets glibc's ``malloc`` (a ``MALLOC_..._`` variable, or
    ``glibc.malloc`` in ``GLIBC_TUNABLES``)."""
    if name == "GLIBC_TUNABLES":
        return "glibc.malloc." in value
    return name.startswith("MALLOC_") and name.endswith("_")


def allocator_tuned_by_environment() -> bool:
    """Whether the environment tunes glibc's ``malloc`` itself (a ``MALLOC_..._`` variable, or
    ``glibc.malloc`` in ``GLIBC_TUNABLES``): its settings are then left as they are."""
    return any(_tunes_allocator(name, value) for name, value in os.environ.items())


def without_allocator_settings(environment: Mapping[str, str]) -> dict[str, str]:
    """``environment`` less what tunes glibc's ``malloc`` (:func:`allocator_tuned_by_environment`
    reads): for a child that should start from the runtime's own choice."""
    return {k: v for k, v in environment.items() if not _tunes_allocator(k, v)}


@functools.cache
def keep_freed_memory() -> bool:
    """Have glibc's ``malloc`` keep a photograph's freed memory for the next, once per process
    (:data:`MAP_ALONE_FROM`, :data:`KEEP_FREE_UP_TO`; the
    :class:`~edge_runtime.pipeline.segmenter.Segmenter` asks): whether it took the settings.
    False where the C library is not glibc, or :func:`allocator_tuned_by_environment`."""
    if platform.libc_ver()[0] != "glibc" or allocator_tuned_by_environment():
        return False
    mallopt = ctypes.CDLL(None).mallopt
    return (
        mallopt(_M_MMAP_THRESHOLD, MAP_ALONE_FROM) == 1
        and mallopt(_M_TRIM_THRESHOLD, KEEP_FREE_UP_TO) == 1
    )


GIVE_BACK_FROM = MAP_ALONE_FROM // 4
"""Photographs of at least this many pixels (8.4 megapixels) have their freed memory handed
back after measuring: their photograph-sized planes (a float map, a decoder's 32-bit planes)
are mapped on their own and cannot reuse what the heap keeps. Below, handing it back saves
nothing and costs the next photograph its page faults (3 % of a DRIVE photograph's time with
``--measure``)."""


def give_back_freed_memory(pixels: int) -> bool:
    """After measuring a photograph of ``pixels``, hand the free memory the heap keeps back to
    the system (glibc's ``malloc_trim``) when it is large (:data:`GIVE_BACK_FROM`) and the
    memory is kept by this module's settings (:func:`keep_freed_memory`; an environment that
    tunes the allocator is left alone): the overlay's picture decoded next peaked 10-23 MB
    higher. Whether it did."""
    return pixels >= GIVE_BACK_FROM and give_back_kept_memory()


def give_back_kept_memory() -> bool:
    """Hand the free memory the heap keeps back to the system (glibc's ``malloc_trim``), when
    this module's settings keep it (:func:`keep_freed_memory`): a watcher gone idle after
    photographs of many sizes held 170 MB it did not use. Whether it did."""
    if not keep_freed_memory():
        return False
    ctypes.CDLL(None).malloc_trim(0)
    return True
