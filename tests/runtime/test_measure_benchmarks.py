"""The measurement benchmarks still run against the library (briefly: their numbers are
measured by hand, firmware_notes/MEASUREMENTS.md)."""

import pytest

pytestmark = pytest.mark.slow


def test_measure_cost(run_benchmark):
    out = run_benchmark("measure_cost.py", "--repeats", "1")
    assert "ratio" in out and "goal <= 1.2" in out


def test_measure_agreement(dev_npz, run_benchmark):
    out = run_benchmark(
        "measure_agreement.py", dev_npz.parent, "--cameras", "drive", "--limit", "3"
    )
    rows = [line for line in out.splitlines() if line.startswith("| drive | 3 |")]
    assert len(rows) == 12  # eleven measurements and the disc
