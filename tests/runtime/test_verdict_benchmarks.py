"""The verdict's benchmark scripts still run against the library (briefly: what they print is
measured by running them by hand, firmware_notes/VERDICT.md)."""

import re

import pytest

pytestmark = pytest.mark.slow


def test_verdict_cost(run_benchmark):
    out = run_benchmark("verdict_cost.py", "--repeats", "1")
    assert out.count("ratio") == 2 and "capture verdict" in out


def test_verdict_calibration(dev_npz, run_benchmark, tmp_path):
    pytest.importorskip("skimage", reason="the not-fundus pictures ship with scikit-image")
    cache = tmp_path / "measurements.jsonl"
    out = run_benchmark("verdict_calibration.py", dev_npz.parent, "--photos", "1", "--cache", cache)
    assert "## Leave one camera out" in out and "| les-av |" in out and cache.is_file()
    assert run_benchmark("verdict_calibration.py", dev_npz.parent, "--cache", cache) == out


def test_verdict_cost_ratio_is_with_the_verdict_over_without(run_benchmark, ratio_agrees):
    """Each ratio is the milliseconds of segment + verdict over those of segment alone."""
    out = run_benchmark("verdict_cost.py", "--repeats", "1")
    rows = re.findall(r"segment +([\d.]+) ms, segment \+ verdict +([\d.]+) ms: ratio ([\d.]+)", out)
    assert len(rows) == 2
    for alone, judged, ratio in rows:
        assert ratio_agrees(ratio, judged, alone)
