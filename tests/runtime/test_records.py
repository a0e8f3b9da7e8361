"""What the device commands print with --json: typed records encoded by the contract's schema,
their keys and order pinned (scripts on the cameras read them)."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

import edge_runtime.app.files as files_module
from edge_runtime import Segmenter
from edge_runtime.app.files import prepare_outdir, segment_file
from edge_runtime.app.outputs import Extras, output_paths
from edge_runtime.contract.metrics import PhotoScores
from edge_runtime.errors import OutputError
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.file_names import MAX_NAME_BYTES, card_key, fitted_name, unique_name

SEGMENT_KEYS = [
    "path",
    "ok",
    "outputs",
    "width",
    "height",
    "vessel_fraction",
    "tiles",
    "fov_found",
    "ms",
    "segment_ms",
    "write_ms",
    "stages_ms",
    "verdict",
    "measurements",
    "not_measured",  # added in 1.2
    "warnings",  # added in 1.2
    "provenance",  # added in 1.2
    "photograph",  # added in 1.2
]
METRICS = ["f1", "sensitivity", "specificity", "accuracy", "auc"]


def test_segment_json_keeps_its_keys_and_values(tmp_path, run_cli):
    photo = tmp_path / "a.png"
    Image.fromarray(synthetic_fundus(200, 220)).save(photo)
    missing = tmp_path / "missing.png"
    done = run_cli("segment", photo, missing, "-o", tmp_path / "out", "--json", expect=1)
    record, failure = (json.loads(line) for line in done.stdout.splitlines())
    assert list(record) == SEGMENT_KEYS
    assert record["path"] == str(photo) and record["ok"] is True
    assert record["outputs"] == {"mask": str(tmp_path / "out" / "a_mask.png")}
    assert (record["width"], record["height"]) == (220, 200) and record["fov_found"] is True
    assert isinstance(record["tiles"], int) and 0 < record["vessel_fraction"] < 1
    assert record["warnings"] == []
    assert list(failure) == ["path", "ok", "error", "photograph"]  # photograph: added in 1.2
    assert failure["path"] == str(missing) and failure["ok"] is False
    assert failure["error"].startswith(f"{missing}: ")


def test_eval_json_keeps_its_keys(tmp_path, run_cli, make_photo_dataset):
    data = make_photo_dataset(tmp_path / "data", "generic", count=2)
    (data / "labels" / "eye2.png").write_bytes(b"not a picture")
    report = json.loads(run_cli("eval", data, "--json", expect=1).stdout)
    assert list(report) == [
        *("n", "threshold", "model", "mean", "counts", "photos", "failed"),
        *("artery_vein_n", "artery_vein", "artery_vein_counts"),  # added in 1.2: --av
        "provenance",  # added in 1.2
    ]
    assert report["artery_vein_n"] == 0 and report["artery_vein"] is None
    assert report["artery_vein_counts"] is None
    assert report["n"] == 1 and list(report["mean"]) == METRICS
    assert report["counts"] == dict.fromkeys(METRICS, 1)
    (photo,) = report["photos"]
    assert (photo["name"], photo["photograph"]) == ("eye1", "eye1.png")
    assert list(photo) == [
        *METRICS,
        *("name", "artery_vein", "artery_vein_error", "report_error"),
        "photograph",  # added in 1.2
    ]
    assert PhotoScores(*(photo[m] for m in METRICS)) == PhotoScores(**report["mean"])
    (failed,) = report["failed"]
    assert list(failed) == ["name", "image", "error", "photograph"]  # photograph: added in 1.2
    assert (failed["name"], failed["photograph"]) == ("eye2", "eye2.png")


def test_bench_json_keeps_its_keys(run_cli):
    report = json.loads(run_cli("bench", "--size", "128x160", "--runs", "1", "--json").stdout)
    assert " ".join(report) == (
        "model artery_vein_model backend threads tta photo height width patch_ms batch_size "
        "photo_ms tiles runs "
        "peak_rss_mb memory_kept"
    )
    assert report["photo"] == "synthetic 128x160" and report["threads"] == 1


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_eval_stops_after_the_photograph_in_progress_on_a_signal(
    tmp_path, make_photo_dataset, signum
):
    """SIGTERM (systemd's stop) or SIGINT (Ctrl-C) during ``eval``: the photograph in progress
    is scored, the others fail as stopped, one line each, no traceback, exit status 1."""
    data = make_photo_dataset(tmp_path / "data", "generic", count=12)
    process = subprocess.Popen(
        [sys.executable, "-m", "edge_runtime.cli.main", "eval", str(data), "--jobs", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        first = process.stdout.readline()  # the first photograph is scored
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("eval did not stop")
    assert first.startswith("eye1: f1 ") and process.returncode == 1, stderr
    assert "Traceback" not in stderr
    stopped = f"stopped by {signal.Signals(signum).name} before it was started"
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    last = sorted((data / "images").iterdir())[-1]
    assert errors[-1] == f"error: {last}: {stopped}"
    assert all(line.endswith(stopped) for line in errors)
    assert stderr.splitlines()[-1] == f"Error: {len(errors)} of 12 photographs failed"
    assert stdout.splitlines()[-1].startswith(f"mean of {12 - len(errors)} photograph")


@pytest.fixture(scope="module")
def segmenter():
    from edge_runtime.pipeline.segmenter import Segmenter

    return Segmenter()


def test_the_probability_png_is_the_probabilities_rounded_to_255_levels(segmenter, tmp_path):
    from edge_runtime.app.outputs import Extras, output_paths, write_outputs

    result = segmenter.segment(synthetic_fundus(200, 240))
    paths = output_paths(tmp_path, "p")
    write_outputs(paths, result.photo, result, Extras(prob=True))
    saved = np.asarray(Image.open(paths.prob))
    np.testing.assert_array_equal(saved, np.round(result.probability * 255).astype(np.uint8))
    np.testing.assert_array_equal(np.asarray(Image.open(paths.mask)), result.mask * 255)


def test_the_overlay_tints_vessels_at_six_tenths_and_leaves_the_rest():
    from edge_runtime.app.outputs import overlay
    from edge_runtime.pipeline.decode import photo_from_array

    photo = photo_from_array(np.full((70, 80, 3), 100, np.uint8))
    mask = np.zeros((70, 80), np.uint8)
    mask[30, 40] = 1
    picture = np.asarray(overlay(photo, mask), dtype=int)
    # 100 + (colour - 100) * 153 / 255 for colour (0, 255, 64)
    assert np.abs(picture[30, 40] - [40, 193, 78.4]).max() <= 1
    assert (picture[mask == 0] == 100).all()


def test_output_names_leave_room_for_a_numbered_overlay_within_255_bytes():
    """A long stem is cut so that '<name>-9999_overlay.png' still fits 255 bytes."""
    name = fitted_name("e" * 400)
    assert len(name.encode()) == MAX_NAME_BYTES
    assert len(f"{name}-9999_overlay.png".encode()) <= 255
    assert fitted_name("é" * 200).encode().decode() == "é" * (MAX_NAME_BYTES // 2)


def test_a_unique_name_is_the_fitted_stem_or_the_first_numbered_one_free():
    used: set[str] = set()
    long = "p" * 300
    assert unique_name(long, used) == fitted_name(long)
    assert unique_name(long + "q", used) == f"{fitted_name(long)}-2"  # one once cut
    assert unique_name("Eye", used) == "Eye" and unique_name("eye", used) == "eye-2"  # FAT
    assert unique_name("a", used, clashes=lambda name: name in ("a", "a-2")) == "a-3"
    assert used == {card_key(n) for n in (fitted_name(long), f"{fitted_name(long)}-2")} | {
        "EYE",
        "EYE-2",
        "A-3",
    }


def test_an_output_folder_that_is_not_writable_is_refused(tmp_path, monkeypatch):
    """prepare_outdir refuses a folder access() says cannot be written (even when it exists)."""
    target = tmp_path / "out"
    target.mkdir()
    real_access = os.access
    monkeypatch.setattr(
        os,
        "access",
        lambda path, mode, **kw: (
            False if str(path) == str(target) else real_access(path, mode, **kw)
        ),
    )
    with pytest.raises(OutputError, match="the output directory is not writable"):
        prepare_outdir(target)


def test_an_output_folder_whose_file_is_taken_by_a_folder_is_refused_before_the_work(tmp_path):
    """check --report's report.json a folder: refused only once the gate had run, its verdict
    lost (a mutant dropping the files' check survived)."""
    target = tmp_path / "report"
    (target / "report.md").mkdir(parents=True)
    with pytest.raises(OutputError, match=r"report\.md: is a folder, not a file to write"):
        prepare_outdir(target, ("report.json", "report.md"))
    prepare_outdir(target, ("report.json",))


@pytest.fixture(scope="module")
def bundled_segmenter():
    return Segmenter()


def test_segment_file_times_are_milliseconds_to_a_tenth_and_decode_is_the_files(
    tmp_path, monkeypatch, bundled_segmenter
):
    """segment_file's times are rounded to 0.1 ms; stages_ms['decode'] times loading the file,
    which segment_ms includes (segment_photo times from where segment_file began)."""
    photo = tmp_path / "a.png"
    Image.fromarray(synthetic_fundus(120, 140, seed=3)).save(photo)
    real_load = files_module.load_photo

    def slow_load(path):
        loaded = real_load(path)
        time.sleep(0.05)
        return loaded

    monkeypatch.setattr(files_module, "load_photo", slow_load)
    record = segment_file(bundled_segmenter, photo, output_paths(tmp_path, "a"), Extras())
    assert record.stages_ms["decode"] >= 50.0
    segmenting = [v for k, v in record.stages_ms.items() if k not in ("decode", "verdict", "write")]
    assert record.segment_ms >= record.stages_ms["decode"] + sum(segmenting) - 0.5  # (rounding)
    own = [record.ms, record.segment_ms, record.write_ms]
    own += [record.stages_ms[k] for k in ("decode", "verdict", "write")]
    assert all(value == round(value, 1) for value in own), own


def test_segment_file_keeps_the_vessel_fraction_to_six_decimals(tmp_path, bundled_segmenter):
    """The record's vessel_fraction is the segmentation's own, rounded to 6 decimals only."""
    photo = tmp_path / "a.png"
    Image.fromarray(synthetic_fundus(120, 140, seed=4)).save(photo)
    expected = bundled_segmenter.segment(photo).stats.vessel_fraction
    record = segment_file(bundled_segmenter, photo, output_paths(tmp_path, "a"), Extras())
    assert 0 < expected < 1
    assert record.vessel_fraction == pytest.approx(expected, abs=1e-6)


def test_a_segment_record_cannot_be_made_without_its_photograph():
    """The field ends the record, after those with defaults, but has none: a record that does
    not name its photograph is a mistake, not a record of an unnamed one."""
    from edge_runtime.contract.segment_record import SegmentRecord

    given = dict(outputs={}, width=1, height=1, vessel_fraction=0.0, tiles=1, fov_found=True)
    given |= dict(ms=1.0, segment_ms=1.0, write_ms=0.0, stages_ms={})
    with pytest.raises(TypeError, match="photograph"):
        SegmentRecord("a.png", **given)
    assert SegmentRecord("a.png", **given, photograph="a.png").photograph == "a.png"
