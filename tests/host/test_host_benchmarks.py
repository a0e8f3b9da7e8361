"""The host benchmark scripts still run against the library (briefly; their numbers come from
running them by hand)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

pytest.importorskip("keras", reason="these benchmarks convert and run Keras models")

from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.inference.bundled import DEFAULT_MODEL

pytestmark = pytest.mark.slow

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"


def test_int8_vs_float(host_model, patches_npz, run_benchmark):
    out = run_benchmark(
        "int8_vs_float.py", host_model, patches_npz, "--patches", "16", "--repeats", "1"
    )
    assert "int8" in out and "float32" in out


def test_runtime_vs_keras(tmp_path, run_benchmark):
    photo = tmp_path / "photo.png"
    Image.fromarray(synthetic_fundus(300, 320)).save(photo)
    twin = Path(__file__).parents[2] / "training" / "release" / "model.keras"
    out = run_benchmark(
        "runtime_vs_keras.py", twin, DEFAULT_MODEL, photo, "--repeats", "1", "--runs", "1"
    )
    assert "warm:" in out and "cold:" in out


def test_artery_vein_screen(dev_npz, run_benchmark):
    out = run_benchmark(
        "artery_vein_screen.py",
        dev_npz.parent,
        "--cameras",
        "drive,les-av",
        "--limit",
        "2",
        "--epochs",
        "1",
        "--crops",
        "32",
        "--width",
        "4",
    )
    rows = [line.split(" | ") for line in out.splitlines() if line.startswith("| drive | 2 |")]
    assert [row[2] for row in rows] == ["brighter", "unet-lite w4 d3"]
    assert all(0 <= float(row[3]) <= 1 for row in rows)  # accuracy on the vessels found


def test_whole_field_screen(dev_npz, run_benchmark, tmp_path):
    release = Path(__file__).parents[2] / "training" / "release"
    for camera in ("drive", "les-av"):  # the release's tile model stands in for each fold's
        (tmp_path / f"tiles-{camera}").mkdir()
        for name in ("model.keras", "metrics.json"):
            (tmp_path / f"tiles-{camera}" / name).symlink_to(release / name)
    out = run_benchmark(
        "whole_field_screen.py",
        dev_npz.parent,
        *f"--tile-runs {tmp_path} --cameras drive,les-av --limit 2 --epochs 1".split(),
        *f"--crops 32 --width 4 --inputs rgb+local-green --out {tmp_path / 'screen.json'}".split(),
    )
    rows = [line.split(" | ") for line in out.splitlines() if line.startswith("| drive | ")]
    assert [row[1] for row in rows] == ["whole field rgb+local-green w4 d3", "tiles v2"]
    assert all(0 <= float(row[n]) <= 1 for row in rows for n in (3, 4))  # F1, AUC
    assert 0 <= float(rows[0][6]) <= 1 and rows[1][6] == "-"  # A/V accuracy: the candidate's
    assert json.loads((tmp_path / "screen.json").read_text())[1]["model"] == "tiles v2"


def test_whole_field_screen_refuses_an_edited_tile_record(dev_npz, tmp_path):
    release = Path(__file__).parents[2] / "training" / "release"
    run = tmp_path / "tiles-drive"
    run.mkdir()
    (run / "model.keras").symlink_to(release / "model.keras")
    record = json.loads((release / "metrics.json").read_text())
    record["threshold"] = 0.9  # edited by hand: scored at it, the screen would believe it
    (run / "metrics.json").write_text(json.dumps(record))
    done = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "whole_field_screen.py"),
            str(dev_npz.parent),
            *f"--tile-runs {tmp_path} --cameras drive --no-candidate".split(),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"{run / 'metrics.json'}: its threshold 0.9 is not what its run wrote" in done.stderr


def test_pixel_shuffle(make_photo_dataset, tmp_path, run_benchmark):
    dataset = make_photo_dataset(tmp_path / "drive", "drive", count=2)
    out = run_benchmark("pixel_shuffle.py", dataset, "--crops", "16", "--repeats", "1")
    (gap,) = [line.split()[-1] for line in out.splitlines() if line.startswith("Keras outputs")]
    assert float(gap) < 1e-5  # the same map (float rounding may differ between CPUs)
    assert [line.split(":")[0] for line in out.splitlines()[-4:]] == [
        "batch of 16",
        "batch of 1",
        "photograph 565x584, vessels",
        "photograph 565x584, both outputs",
    ]
