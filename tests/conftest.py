"""Shared fixtures: the reference data set, read from ../shared/data or $EDGE_SEG_DATA_DIR."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

DATA_DIR_ENV = "EDGE_SEG_DATA_DIR"
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"


def _data_file(name: str) -> Path:
    directory = Path(os.environ.get(DATA_DIR_ENV, DEFAULT_DATA_DIR))
    path = directory / name
    if not path.is_file():
        pytest.fail(
            f"test data {path} not found: put the shared data beside the checkout "
            f"(../shared/data) or set {DATA_DIR_ENV} to its directory",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def dev_npz() -> Path:
    """Path of retinal_vessel_dev.npz (x_train, y_train, x_test; no validation split)."""
    return _data_file("retinal_vessel_dev.npz")


@pytest.fixture(scope="session")
def sample_data() -> dict[str, np.ndarray]:
    """The reference notebook's own checks (sample_raw, sample_enhanced, ...)."""
    with np.load(_data_file("sample_data.npz")) as npz:
        return dict(npz)


BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _run_benchmark(script: str, *args) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *map(str, args)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="session")
def run_benchmark():
    """``run_benchmark(script, *args)``: run a benchmark script briefly, return what it
    printed (its numbers are measured by hand; here only that it runs against the library)."""
    return _run_benchmark
