"""Shared fixtures: the reference data set, read from ../shared/data or $EDGE_SEG_DATA_DIR."""

import os
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
