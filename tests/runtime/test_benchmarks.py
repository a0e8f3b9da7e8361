"""The benchmark scripts still run against the library (briefly: what they print is measured by
running them by hand; here only that they work and print their tables)."""

from pathlib import Path

import pytest
from PIL import Image

from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.inference.bundled import DEFAULT_MODEL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_npz(patches_npz):
    return patches_npz


def test_stride(small_npz, run_benchmark):
    out = run_benchmark("stride.py", small_npz, "--holdout", "0")
    assert "stitched Dice" in out and len(out.splitlines()) == 8


def test_tta(small_npz, run_benchmark):
    out = run_benchmark("tta.py", small_npz, "--holdout", "0", "--repeats", "1")
    assert [line.split()[0] for line in out.splitlines()[2:]] == ["off", "flip", "dihedral"]


def test_robustness(run_benchmark):
    pytest.importorskip("skimage", reason="the benchmark photograph ships with scikit-image")
    out = run_benchmark("robustness.py")
    assert "JPEG" in out or "jpeg" in out


def test_jobs(run_benchmark):
    out = run_benchmark("jobs.py", "--photos", "4", "--repeats", "1")
    assert "speed-up:" in out


def test_high_resolution(make_photo_dataset, tmp_path, run_benchmark):
    dataset = make_photo_dataset(tmp_path / "drive", "drive", count=1)  # 130x120 photographs
    out = run_benchmark("high_resolution.py", dataset, "--factor", "2")
    assert "native (130x120)" in out and "enlarged (260x240)" in out


def test_against_release(run_benchmark, tmp_path):
    repo = Path(__file__).resolve().parents[2]  # this checkout as its own baseline
    Image.fromarray(synthetic_fundus(300, 320)).save(tmp_path / "large.png")
    brief = ("--size", "200x210", "--rounds", "1", "--runs", "1")
    large = ("--large-image", tmp_path / "large.png")
    out = run_benchmark("against_release.py", "--baseline", repo, *brief, *large, "--allocators")
    lines = out.splitlines()
    assert lines[0].startswith("round 1: baseline, vessels") and "both outputs / baseline" in out
    assert lines[-6].startswith("baseline, vessels:") and lines[-6].endswith("1.000x baseline")
    assert lines[-4].startswith("now, both outputs:")
    assert lines[-3].startswith("now, both outputs, large photograph:")
    assert lines[-2].startswith("now, both outputs, glibc's malloc defaults:")
    assert lines[-1].startswith("baseline, vessels, memory kept:")


def test_png_level(run_benchmark):
    out = run_benchmark("png_level.py", "--repeats", "1")
    for output in ("mask", "overlay", "prob", "artery/vein"):
        assert f"\n{output}: " in out and "faster" in out and "size" in out


def test_against_release_written_on_a_candidate_model(run_benchmark, tmp_path):
    repo = Path(__file__).resolve().parents[2]
    Image.fromarray(synthetic_fundus(200, 210)).save(tmp_path / "photo.png")
    candidate = tmp_path / "candidate.tflite"
    candidate.write_bytes(DEFAULT_MODEL.read_bytes())
    brief = ("--image", tmp_path / "photo.png", "--rounds", "1", "--runs", "2")
    out = run_benchmark(
        "against_release.py", "--baseline", repo, *brief, "--written", "--model", candidate
    )
    assert "segment, outputs written" in out and "now, both outputs: " in out
    assert f"this checkout's vessel model: {candidate}" in out
    bench = ("--size", "200x210", "--rounds", "1", "--runs", "1", "--model", candidate)
    assert "now, vessels: " in run_benchmark("against_release.py", "--baseline", repo, *bench)
