"""Our measurements against PVBM's (Fhima et al., a published implementation) on labelled maps
of the reference data: issue 23's reference check.

PVBM brings PyTorch and OpenCV, so it is looked for here first and else in the Python that
``$EDGE_SEG_PVBM_PYTHON`` names (``python3 -m venv /tmp/pvbm && /tmp/pvbm/bin/pip install
pvbm``); without either, the test is skipped with that reason. It runs
``benchmarks/measure_reference.py`` on one photograph of each camera and checks, for every
measurement the two define alike, the largest relative difference over those maps against the
tolerance below (measured on all 108 labelled photographs: firmware_notes/MEASUREMENTS.md).
"""

import importlib.util
import os
import sys

import pytest

pytestmark = pytest.mark.slow

PVBM_PYTHON_ENV = "EDGE_SEG_PVBM_PYTHON"

TOLERANCE = {
    "area": 0.0,
    "length": 0.02,
    "end_points": 0.4,
    "branch_points": 0.3,
    "tortuosity_median": 0.01,
    "tortuosity_index": 0.04,
    "d0": 1e-6,
    "d1": 1e-6,
    "d2": 1e-6,
}
"""Largest relative difference allowed per map; on all 108 photographs the largest were:
length 1.3 % (each side's own thinning: ours leaves no staircase pixel, PVBM measures
scikit-image's skeleton along a breadth-first tree), end points 38 % and branch points 25 %
(short spurs and junctions that one thinning makes and the other does not weigh heavily on the
small counts of a few photographs; 6-8 % on average), tortuosity median 0.4 % and index
3.5 %. Fractal dimensions with PVBM's box sizes: the same definition, so equal. CRAE, CRVE and
the fractal dimension with each side's own settings are defined differently (MEASUREMENTS.md)
and are compared there, not here."""


def _pvbm_python() -> str:
    if importlib.util.find_spec("PVBM") is not None:
        return sys.executable
    named = os.environ.get(PVBM_PYTHON_ENV)
    if not named:
        pytest.skip(
            "PVBM is not installed here: pip install pvbm (best in an environment of its own) "
            f"and set {PVBM_PYTHON_ENV} to its python"
        )
    return named


def _table(output: str) -> dict[str, list[str]]:
    rows = [line.strip("|").split("|") for line in output.splitlines() if line.startswith("| ")]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows[1:]}


def test_measurements_agree_with_pvbm(dev_npz, run_benchmark):
    out = run_benchmark(
        "measure_reference.py", dev_npz.parent, "--python", _pvbm_python(), "--limit", "1"
    )
    table = _table(out)
    for name, tolerance in TOLERANCE.items():
        maps, _, _, _, largest = table[name]
        assert int(maps) == 4, name
        assert float(largest.rstrip("%")) / 100 <= tolerance, (name, table[name])
