"""Freed memory kept for the next photograph (:mod:`edge_runtime.memory`)."""

import json
import os
import platform
import subprocess
import sys

import pytest
from PIL import Image

from edge_runtime.memory import (
    GLIBC_DEFAULTS,
    allocator_tuned_by_environment,
    without_allocator_settings,
)

GLIBC = platform.libc_ver()[0] == "glibc"

SEGMENT_AGAIN = """
import resource, sys
from edge_runtime import ArteryVeinModel, Segmenter
from edge_runtime.memory import keep_freed_memory
segmenter = Segmenter(artery_vein=ArteryVeinModel())
for _ in range(2):
    segmenter.segment(sys.argv[1]).artery_vein
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    segmenter.segment(sys.argv[1]).artery_vein
faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5
print(keep_freed_memory(), faults)
"""
"""Segments a photograph with both outputs again and again in a fresh process; prints whether
the allocator took the settings, and the page faults of each photograph after the first two."""


def _segmented_again(photo, **environment) -> tuple[bool, float]:
    done = subprocess.run(
        [sys.executable, "-c", SEGMENT_AGAIN, str(photo)],
        env={**without_allocator_settings(os.environ), **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    kept, faults = done.stdout.split()
    return kept == "True", float(faults)


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    data = pytest.importorskip(
        "skimage.data", reason="the real photograph ships with scikit-image (the 'demo' extra)"
    )
    path = tmp_path_factory.mktemp("memory") / "retina.jpg"
    Image.fromarray(data.retina()).save(path, quality=95)
    return path


def test_the_environment_tunes_the_allocator_when_it_names_a_malloc_setting(monkeypatch):
    for name in set(os.environ) - set(without_allocator_settings(os.environ)):
        monkeypatch.delenv(name)
    assert not allocator_tuned_by_environment()
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.rtld.optional_static_tls=2048")
    assert not allocator_tuned_by_environment()
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=0")
    assert allocator_tuned_by_environment()
    monkeypatch.delenv("GLIBC_TUNABLES")
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")  # how many heaps: not what the settings touch
    assert not allocator_tuned_by_environment()
    monkeypatch.setenv("MALLOC_TOP_PAD_", "0")
    assert allocator_tuned_by_environment()


@pytest.mark.skipif(not GLIBC, reason="the settings are glibc's malloc's; another C library's stay")
def test_a_segmenter_reuses_the_memory_of_the_photograph_before(photo):
    # glibc's defaults fault in about 5,000 pages a photograph here (3,300 of DRIVE's 05_test),
    # handed back to the system after the one before
    kept, faults = _segmented_again(photo)
    assert kept and faults < 100, faults


@pytest.mark.skipif(not GLIBC, reason="the settings are glibc's malloc's; another C library's stay")
def test_an_allocator_tuned_by_the_environment_is_left_as_it_is(photo):
    kept, _ = _segmented_again(photo, **GLIBC_DEFAULTS)
    assert not kept


@pytest.mark.skipif(not GLIBC, reason="the settings are glibc's malloc's; another C library's stay")
@pytest.mark.parametrize("environment, kept", [({}, True), (GLIBC_DEFAULTS, False)])
def test_bench_says_whether_the_memory_was_kept(environment, kept):
    bench = [sys.executable, "-m", "edge_runtime.cli.main", "bench", "--size", "128x160"]
    done = subprocess.run(
        [*bench, "--runs", "1", "--json"],
        env={**without_allocator_settings(os.environ), **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["memory_kept"] is kept


GIVE_BACK = """
import sys
import numpy as np
from edge_runtime.memory import GIVE_BACK_FROM, give_back_freed_memory, keep_freed_memory
def resident_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20
kept_by_us = keep_freed_memory()
chunks = [np.ones(2**20, dtype=np.uint8) for _ in range(100)]  # 100 MB from the heap
held = resident_mb()
del chunks
kept = resident_mb()
small = give_back_freed_memory(GIVE_BACK_FROM - 1)  # a small photograph: nothing to gain
after_small = resident_mb()
large = give_back_freed_memory(GIVE_BACK_FROM)
print(kept_by_us, small, large, held - kept, kept - after_small, after_small - resident_mb())
"""
"""Frees 100 MB of heap arrays in a fresh process, then gives the memory back after a small and
a large photograph; prints whether the settings took, whether each gave back, and the
megabytes handed back by the freeing, by the small one's and by the large one's."""


def _given_back(**environment) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", GIVE_BACK],
        env={**without_allocator_settings(os.environ), **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's; another C library's heap stays")
def test_the_memory_kept_is_given_back_after_a_large_photograph_only():
    """Measuring a large photograph frees tens of megabytes of photograph-sized maps, kept by
    the heap, where the overlay's picture decoded next (mapped on its own) could not reuse
    them; after a small one, handing them back only costs the next its page faults."""
    kept, small, large, freed, by_small, by_large = _given_back()
    assert (kept, small, large) == ("True", "False", "True")
    assert float(freed) < 10 and float(by_small) < 10 and float(by_large) > 90


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's; another C library's heap stays")
def test_an_allocator_tuned_by_the_environment_is_not_trimmed_either():
    kept, small, large, *_ = _given_back(**GLIBC_DEFAULTS)
    assert (kept, small, large) == ("False", "False", "False")


def _has_mallinfo2() -> bool:
    import ctypes

    return platform.libc_ver()[0] == "glibc" and hasattr(ctypes.CDLL(None), "mallinfo2")


MALLINFO2 = _has_mallinfo2()


ALLOCATOR = """
import ctypes
from edge_runtime.memory import MAP_ALONE_FROM, give_back_freed_memory, keep_freed_memory
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in "arena ordblks smblks hblks hblkhd usmblks "
                "fsmblks uordblks fordblks keepcost".split()]
libc = ctypes.CDLL(None)
libc.mallinfo2.restype, libc.malloc.restype = Info, ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
kept = keep_freed_memory()
mapped = []
for size in (MAP_ALONE_FROM - 2**20, MAP_ALONE_FROM + 2**20):
    before = libc.mallinfo2().hblkhd
    block = libc.malloc(size)
    mapped.append(libc.mallinfo2().hblkhd - before >= size)
    libc.free(block)
print(kept, mapped, give_back_freed_memory(8 * 2**20 - 1), give_back_freed_memory(8 * 2**20))
"""


@pytest.mark.skipif(not MALLINFO2, reason="reads glibc's mallinfo2 (glibc 2.33 and later)")
def test_arrays_are_mapped_alone_from_32_mib_and_memory_given_back_from_8_megapixels():
    """With the runtime's settings, a block just under 32 MiB comes from the heap and one just
    over is mapped on its own; freed memory is handed back after photographs of 8.4 megapixels
    (2**23 pixels) and up, not below."""
    done = subprocess.run(
        [sys.executable, "-c", ALLOCATOR],
        env=without_allocator_settings(os.environ),
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split("\n")[0] == "True [False, True] False True"
