"""The benchmark scripts still run against the library (briefly: what they print is measured by
running them by hand; here only that they work and print their tables)."""

import pytest

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
