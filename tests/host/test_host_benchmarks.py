"""The host benchmark scripts still run against the library (briefly; their numbers come from
running them by hand)."""

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

pytest.importorskip("keras", reason="these benchmarks convert and run Keras models")

from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.inference.bundled import DEFAULT_MODEL

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"


def _run(script: str, *args) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *map(str, args)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_int8_vs_float(host_model, dev_npz):
    out = _run("int8_vs_float.py", host_model, dev_npz, "--patches", "16", "--repeats", "1")
    assert "int8" in out and "float32" in out


def test_runtime_vs_keras(tmp_path):
    photo = tmp_path / "photo.png"
    Image.fromarray(synthetic_fundus(300, 320)).save(photo)
    twin = Path(__file__).parents[2] / "training" / "release" / "model.keras"
    out = _run("runtime_vs_keras.py", twin, DEFAULT_MODEL, photo, "--repeats", "1", "--runs", "1")
    assert "warm:" in out and "cold:" in out
