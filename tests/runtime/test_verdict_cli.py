"""``edge-seg verdict``: a line (or JSON record) per photograph, bad files reported and
skipped, and an exit status that says what was found."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from edge_runtime.cli.main import cli
from edge_runtime.cli.options import SEGMENTER_OPTIONS, segmenter_options
from edge_runtime.cli.verdict import EXIT_NOT_FUNDUS, EXIT_RETAKE
from edge_runtime.evaluation import degradations as d
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.inference.bundled import DEFAULT_MODEL
from edge_runtime.inference.model_file import read_card, read_model_bytes
from edge_runtime.verdict.checks import CHECKS, FUNDUS_CHECKS

SHARP_SEED = 3
"""A synthetic photograph sharp enough to keep (see tests/runtime/test_verdict.py)."""


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    """A good photograph, a blurred one, a picture that is no fundus, a damaged file."""
    folder = tmp_path_factory.mktemp("verdict")
    photo = synthetic_fundus(584, 565, seed=SHARP_SEED)
    for name, pixels in (
        ("good.png", photo),
        ("blurred.png", d.defocus(photo, 6)),
        ("flash.png", np.full((480, 640, 3), 250, np.uint8)),
    ):
        Image.fromarray(pixels).save(folder / name)
    (folder / "damaged.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    return folder


def _run(*args):
    return CliRunner().invoke(cli, ["verdict", *map(str, args)], prog_name="edge-seg")


def test_a_usable_photograph_prints_ok_and_exits_0(pictures):
    result = _run(pictures / "good.png")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{pictures / 'good.png'}: ok (quality ")
    assert result.stderr == ""


def test_a_photograph_to_retake_names_the_reason_and_exits_3(pictures):
    result = _run(pictures / "good.png", pictures / "blurred.png")
    assert result.exit_code == EXIT_RETAKE == 3, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and ": ok (quality" in lines[0]
    assert f"{pictures / 'blurred.png'}: retake: blurred (sharpness " in lines[1]


def test_a_picture_that_is_no_fundus_warns_and_exits_4(pictures):
    result = _run(pictures / "blurred.png", pictures / "flash.png", pictures / "good.png")
    assert result.exit_code == EXIT_NOT_FUNDUS == 4, result.output
    assert ": not a fundus photograph (" in result.stdout.splitlines()[1]
    assert result.stderr.startswith(f"warning: {pictures / 'flash.png'}: not a fundus photograph")
    assert len(result.stderr.splitlines()) == 1


def test_a_damaged_file_is_one_line_the_others_are_judged_and_it_exits_1(pictures):
    result = _run(pictures / "damaged.jpg", pictures / "good.png", pictures / "missing.png")
    assert result.exit_code == 1, result.output
    errors = result.stderr.splitlines()
    assert len(errors) == 3 and errors[-1] == "Error: 2 of 3 inputs failed"
    assert errors[0].startswith(f"error: {pictures / 'damaged.jpg'}: ")
    assert "Traceback" not in result.output
    assert (
        result.stdout.splitlines()
        == [line for line in result.stdout.splitlines() if "good.png: ok" in line]
        and len(result.stdout.splitlines()) == 1
    )


def test_a_folder_is_judged_photograph_by_photograph(pictures):
    result = _run(pictures, "--json")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    by_name = {r["path"].rsplit("/", 1)[-1]: r for r in records}
    assert set(by_name) == {"good.png", "blurred.png", "flash.png", "damaged.jpg"}
    assert result.exit_code == 1  # the damaged file
    assert not by_name["damaged.jpg"]["ok"] and "error" in by_name["damaged.jpg"]
    good = by_name["good.png"]["verdict"]
    assert (good["fundus"], good["usable"], good["reasons"]) == (True, True, [])
    assert good["vessels"] is None and by_name["good.png"]["ms"] > 0
    assert by_name["good.png"]["provenance"] is None  # no model ran
    blurred = by_name["blurred.png"]["verdict"]
    assert blurred["usable"] is False and blurred["reasons"][0]["code"] == "blurred"
    assert by_name["flash.png"]["verdict"]["fundus"] is False


def test_with_vessels_runs_the_model_and_reports_its_map(pictures):
    result = _run(pictures / "good.png", "--with-vessels", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert set(record["verdict"]["vessels"]) == {"vessel_fraction", "indecision"}
    card = read_card(read_model_bytes(DEFAULT_MODEL))
    assert record["provenance"]["model"]["version"] == card.model_version


def test_a_bad_model_or_no_photographs_are_refused(pictures, tmp_path):
    result = _run(pictures / "good.png", "--with-vessels", "--model", tmp_path / "none.tflite")
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
    (tmp_path / "empty").mkdir()
    result = _run(tmp_path / "empty")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"warning: no photographs in {tmp_path / 'empty'}: ")


def test_the_models_options_without_the_model_are_a_usage_error(pictures, tmp_path):
    # a truncated --model once passed unread, and --threshold changed nothing, with status 0
    truncated = tmp_path / "m.tflite"
    truncated.write_bytes(b"TFL3" * 10)
    result = _run(pictures / "good.png", "--model", truncated)
    assert result.exit_code == 2
    expected = "--model: an option of the model, which runs only with --with-vessels"
    assert f"Error: edge-seg verdict: {expected}" in result.stderr
    result = _run(pictures / "good.png", "--threshold", "0.9", "--tta", "flip")
    assert result.exit_code == 2
    assert "Error: edge-seg verdict: --threshold, --tta: options of the model" in result.stderr
    assert _run(pictures / "good.png", "--with-vessels", "--threshold", "0.6").exit_code == 0
    added = {p.name for p in segmenter_options(lambda **_: None).__click_params__}
    assert added == set(SEGMENTER_OPTIONS)  # each refused without the model, none forgotten


def test_the_examples_of_reasons_quote_the_shipped_limits():
    """Each "measure value < limit" the README, the notes, the help and the docstrings show
    names a shipped check's limit, on the side that fails it."""
    root = Path(__file__).resolve().parents[2]
    texts = {
        path: path.read_text(encoding="utf-8")
        for pattern in ("README.md", "firmware_notes/*.md", "edge_runtime/**/*.py")
        for path in root.glob(pattern)
    }
    texts["edge-seg verdict --help"] = CliRunner().invoke(cli, ["verdict", "--help"]).output
    checks = (*FUNDUS_CHECKS, *CHECKS)  # a measure may have two: contrast too low, too high
    measures = {check.measure for check in checks}
    example = re.compile(rf"\b({'|'.join(measures)}) (\d+(?:\.\d+)?) ([<>]) (\d+(?:\.\d+)?)")
    found = 0
    for where, text in texts.items():
        for measure, value, sign, limit in example.findall(text):
            named = (c for c in checks if c.measure == measure)
            check, found = min(named, key=lambda c: abs(c.limit - float(limit))), found + 1
            assert float(limit) == pytest.approx(check.limit, abs=5e-4), (where, measure)
            assert (sign == "<") == check.below, (where, measure)
            assert (float(value) < check.limit) == check.below, (where, measure)
    assert found >= 5  # the README's, the help's, the docstrings' and the notes' examples
