"""Shared fixtures: the reference data (read from ../shared/data or $EDGE_SEG_DATA_DIR), synthetic
labelled photograph folders, and a runner for the benchmark scripts."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edge_runtime.evaluation.synthetic import synthetic_fundus

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


def _pair(seed: int, size=(120, 130)) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic photograph and a label of its dark curves."""
    photo = synthetic_fundus(*size, seed=seed)
    gray = photo.mean(axis=2)
    label = ((gray < 0.8 * np.percentile(gray[gray > 20], 60)) & (gray > 20)).astype(np.uint8)
    return photo, label * 255


def _write(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _fov(size=(120, 130)) -> np.ndarray:
    return (synthetic_fundus(*size).sum(axis=2) > 0).astype(np.uint8) * 255


LAYOUT_FILES = {
    "drive": lambda root, i: {
        root / "images" / f"{i:02d}_test.tif": "photo",
        root / "1st_manual" / f"{i:02d}_manual1.gif": "label",
        root / "mask" / f"{i:02d}_test_mask.gif": "mask",
    },
    "stare": lambda root, i: {
        root / "stare-images" / f"im{i:04d}.png": "photo",
        root / "labels-ah" / f"im{i:04d}.ah.png": "label",
    },
    "hrf": lambda root, i: {
        root / "images" / f"{i:02d}_h.jpg": "photo",
        root / "manual1" / f"{i:02d}_h.tif": "label",
        root / "mask" / f"{i:02d}_h_mask.tif": "mask",
    },
    "chase": lambda root, i: {
        root / "photos" / f"Image_{i:02d}L.jpg": "photo",
        root / "labels" / f"Image_{i:02d}L_1stHO.png": "label",
    },
    "generic": lambda root, i: {
        root / "images" / f"eye{i}.png": "photo",
        root / "labels" / f"eye{i}.png": "label",
        root / "masks" / f"eye{i}.bmp": "mask",
    },
}


def _photo_dataset(root: Path, layout: str, count: int = 3) -> Path:
    """Small synthetic labelled photographs (their dark curves as labels) in a layout."""
    for i in range(1, count + 1):
        photo, label = _pair(i)
        arrays = {"photo": photo, "label": label, "mask": _fov()}
        for path, kind in LAYOUT_FILES[layout](root, i).items():
            _write(path, arrays[kind])
    return root


@pytest.fixture(scope="session")
def make_photo_dataset():
    """``make_photo_dataset(root, layout, count=3)``: a folder of synthetic labelled photographs
    in one of the dataset layouts (``edge_runtime.data.photos.LAYOUTS``)."""
    return _photo_dataset
