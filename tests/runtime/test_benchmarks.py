"""The benchmark scripts still run against the library (briefly: what they print is measured by
running them by hand; here only that they work and print their tables)."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def small_npz(dev_npz, tmp_path_factory):
    with np.load(dev_npz) as npz:
        x, y = npz["x_train"][:120], npz["y_train"][:120]
    path = tmp_path_factory.mktemp("bench") / "small.npz"
    np.savez(path, x_train=x, y_train=y)
    return path


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


def test_high_resolution(dev_npz, tmp_path, run_benchmark):
    import shutil

    for folder, pattern in (("images", "17_test.tif"), ("1st_manual", "17_manual1.gif"),
                            ("mask", "17_test_mask.gif")):  # fmt: skip
        (tmp_path / folder).mkdir()
        shutil.copy(dev_npz.parent / "drive" / folder / pattern, tmp_path / folder)
    out = run_benchmark("high_resolution.py", tmp_path, "--factor", "2")
    assert "native (565x584)" in out and "enlarged (1130x1168)" in out
