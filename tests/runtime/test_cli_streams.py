"""Results on stdout, nothing on stderr but warnings and errors (progress only on a terminal),
run as a user runs them: in a subprocess, without a terminal. And --jobs gives the same masks."""

import csv
import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
from PIL import Image

from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.native_logs import VERBOSE_ENV, quiet_libtiff

EDGE_SEG = [sys.executable, "-m", "edge_runtime.cli.main"]


def edge_seg(*args, cwd=None) -> subprocess.CompletedProcess:
    done = subprocess.run([*EDGE_SEG, *map(str, args)], capture_output=True, text=True, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for i in range(4):
        Image.fromarray(synthetic_fundus(200 + 10 * i, 220, seed=i)).save(folder / f"p{i}.png")
    return folder


def test_segment_prints_a_line_per_photograph_and_a_summary(photos, tmp_path):
    done = edge_seg("segment", photos, "-o", tmp_path)
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert [line.split(" -> ")[0] for line in lines[:4]] == [
        str(photos / f"p{i}.png") for i in range(4)
    ]
    assert lines[4].startswith("segmented 4 of 4 photographs in ")


def test_segment_json_has_the_times_apart(photos, tmp_path):
    done = edge_seg("segment", photos / "p0.png", "-o", tmp_path, "--json", "--overlay")
    record = json.loads(done.stdout)
    assert done.stderr == "" and record["ms"] >= record["segment_ms"]
    assert set(record["stages_ms"]) == {
        "decode",
        "fov_and_resize",
        "tiles_and_inference",
        "stitch_and_threshold",
        "verdict",
        "write",
    }


def test_jobs_give_the_same_masks_in_the_same_order(photos, tmp_path):
    one = edge_seg("segment", photos, "-o", tmp_path / "one", "--jobs", "1", "--prob", "--json")
    two = edge_seg("segment", photos, "-o", tmp_path / "two", "--jobs", "2", "--prob", "--json")
    names = [[json.loads(line)["path"] for line in d.stdout.splitlines()] for d in (one, two)]
    assert names[0] == names[1] == [str(photos / f"p{i}.png") for i in range(4)]
    for produced in sorted((tmp_path / "one").iterdir()):
        assert produced.read_bytes() == (tmp_path / "two" / produced.name).read_bytes()


def test_a_failure_under_jobs_is_still_one_line_for_that_file(photos, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("no image")
    done = subprocess.run(
        [
            *EDGE_SEG,
            "segment",
            photos / "p0.png",
            bad,
            photos / "p1.png",
            "-o",
            tmp_path / "o",
            "--jobs",
            "2",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"error: {bad}: not an image file Pillow can read",
        "Error: 1 of 3 inputs failed",
    ]
    assert "segmented 2 of 3 photographs" in done.stdout


def test_eval_bench_info_and_watch_are_quiet(photos, tmp_path, dev_npz):
    for args in (
        ["eval", dev_npz, "--images", "x_train", "--labels", "y_train", "--holdout", "0.2"],
        ["eval", dev_npz.parent / "drive", "--jobs", "2"],
        ["bench", "--size", "120x130", "--runs", "1"],
        ["info"],
    ):
        done = edge_seg(*args)
        assert done.stderr == "" and done.stdout, args
    drop = tmp_path / "drop"
    shutil.copytree(photos, drop)
    old = time.time() - 10
    for path in drop.iterdir():
        os.utime(path, (old, old))
    done = edge_seg("watch", drop, "-o", tmp_path / "masks", "--once")
    assert done.stderr == "" and len(done.stdout.splitlines()) == 4


def test_verbose_lets_the_native_log_lines_through():
    done = edge_seg("--verbose", "bench", "--size", "120x130", "--runs", "1")
    assert "XNNPACK" in done.stderr


def _damaged_tiff(path: Path) -> Path:
    """An LZW-compressed TIFF whose compressed pixels were overwritten: libtiff decodes it."""
    Image.fromarray(synthetic_fundus(300, 300)).save(path, compression="tiff_lzw")
    content = bytearray(path.read_bytes())
    for i in range(200, 2000, 7):
        content[i] ^= 0xFF
    path.write_bytes(bytes(content))
    return path


def _decoding_says(photo: Path, capfd) -> str:
    """What decoding a damaged TIFF printed on standard error (its failure raised)."""
    with pytest.raises(OSError), Image.open(photo) as image:
        image.load()
    return capfd.readouterr().err


def test_a_damaged_tiff_is_said_on_one_line_without_libtiffs_own(tmp_path):
    """libtiff printed "tempfile.tif: Using code not yet in table." (no such file) before the
    command's own line; with --verbose it still does."""
    photo = _damaged_tiff(tmp_path / "damaged.tif")
    runs = [
        subprocess.run(
            [*EDGE_SEG, *flags, "segment", str(photo), "-o", str(tmp_path / "masks")],
            capture_output=True,
            text=True,
        )
        for flags in ([], ["--verbose"])
    ]
    assert [run.returncode for run in runs] == [1, 1]
    quiet, verbose = (run.stderr.splitlines() for run in runs)
    assert quiet[0].startswith(f"error: {photo}: cannot decode image (")
    assert quiet[1:] == ["Error: 1 of 1 inputs failed"]
    assert any(line.startswith("tempfile.tif: ") for line in verbose)  # libtiff's own


def test_libtiff_is_quiet_inside_the_block_only(tmp_path, capfd, monkeypatch):
    """Its handlers are the process's: the ones before come back after the block (an API user's
    program keeps libtiff's lines)."""
    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    photo = _damaged_tiff(tmp_path / "damaged.tif")
    with quiet_libtiff():
        assert _decoding_says(photo, capfd) == ""
    assert _decoding_says(photo, capfd).startswith("tempfile.tif: ")


def test_demo_is_quiet(tmp_path):
    pytest.importorskip("skimage", reason="the demo photograph ships with scikit-image")
    done = edge_seg("demo", "-o", tmp_path)
    assert done.stderr == "" and "wrote" in done.stdout


def _with_stdout_closed(*args) -> subprocess.CompletedProcess:
    """``edge-seg ARGS`` whose standard output is a pipe nobody reads (``| head`` done)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [*EDGE_SEG, *map(str, args)], stdout=write_end, stderr=subprocess.PIPE, text=True
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _files(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_segment_stops_when_stdout_closes_and_writes_what_it_did(photos, tmp_path, jobs):
    """A closed standard output stops segment as a signal does: the photographs in hand are
    finished with all their files (none half written), the others fail as stopped, the
    measurements of all are written, and the exit status is 1, said on one line."""
    out = tmp_path / "out"
    done = _with_stdout_closed(
        "segment", photos, "-o", out, "--overlay", "--measure", "--jobs", jobs
    )
    said = re.fullmatch(
        r"Error: standard output closed \(Broken pipe\): stopped after (\d) of 4 photographs",
        done.stderr.splitlines()[-1],
    )
    assert done.returncode == 1 and said, done.stderr
    finished = int(said[1])  # the first; with 2 processes, those in hand when it was printed
    assert finished == 1 if jobs == "1" else finished >= 2
    masks = [f"p{i}_mask.png" for i in range(finished)]
    overlays = [f"p{i}_overlay.png" for i in range(finished)]
    assert _files(out) == sorted(["measurements.csv", *masks, *overlays])
    rows = (out / "measurements.csv").read_text().splitlines()
    assert len(rows) == 5
    stopped = "stopped as standard output closed before it was started"
    assert all(stopped in row for row in rows[1 + finished :])


def test_measure_eval_and_verdict_stop_when_stdout_closes(photos, tmp_path, dev_npz):
    """measure writes its CSV row of every map (those after the closing as stopped), eval its
    report's summary of what it scored (and of the others, stopped), and verdict stops: each
    says so and exits 1."""
    masks = tmp_path / "masks"
    edge_seg("segment", photos, "-o", masks)
    done = _with_stdout_closed("measure", masks, "--csv", tmp_path / "m.csv")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].endswith("stopped after 1 of 4 maps")
    rows = (tmp_path / "m.csv").read_text().splitlines()
    assert len(rows) == 5 and "stopped as standard output closed before it was started" in rows[-1]
    done = _with_stdout_closed("verdict", photos)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].endswith("stopped after 1 of 4 photographs")
    report = tmp_path / "report"
    done = _with_stdout_closed("eval", dev_npz.parent / "drive", "--report", report, "--jobs", "1")
    assert done.returncode == 1
    assert re.search(r"stopped after 1 of \d+ photographs$", done.stderr.splitlines()[-1])
    with open(report / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["error"] == "" and rows[0]["f1"] and rows[-2]["name"] == "(mean of 1)"
    stopped = rows[1:-2]  # the others, each a row that says why it was not scored
    assert len(stopped) == 15 and all(
        row["error"].endswith("stopped as standard output closed before it was started")
        and row["f1"] == ""
        for row in stopped
    )


def test_a_closed_stderr_loses_only_the_messages(photos, tmp_path):
    """Started with standard error closed (``2>&-``, a supervisor's daemon), segment and watch
    still do their work and say it on stdout; its messages go nowhere and the exit status
    still tells of a failure."""
    bad = tmp_path / "bad.png"
    bad.write_text("no image")
    closed = ["bash", "-c", 'exec "$@" 2>&-', "_", *EDGE_SEG]
    done = subprocess.run(
        [*closed, "segment", photos / "p0.png", bad, "-o", tmp_path / "o"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "segmented 1 of 2 photographs" in done.stdout
    assert _files(tmp_path / "o") == ["p0_mask.png"]
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(photos / "p1.png", drop)
    os.utime(drop / "p1.png", (time.time() - 10,) * 2)
    done = subprocess.run(
        [*closed, "watch", drop, "-o", tmp_path / "w", "--once"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "p1_mask.png" in done.stdout
    assert (tmp_path / "w" / "p1_mask.png").is_file()


def test_a_stderr_that_cannot_be_written_loses_only_its_lines(photos, tmp_path):
    """Standard error on a full disk (or a terminal gone): the error line about a bad file could
    not be written, which ended the run on an OSError with the other photographs undone; now
    that line is lost and the run goes on, its exit status honest."""
    bad = tmp_path / "bad.png"
    bad.write_text("no image")
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [*EDGE_SEG, "segment", bad, photos / "p0.png", "-o", tmp_path / "o"],
            stdout=subprocess.PIPE,
            stderr=full,
            text=True,
        )
    assert done.returncode == 1 and "segmented 1 of 2 photographs" in done.stdout
    assert _files(tmp_path / "o") == ["p0_mask.png"]


def test_watch_stops_when_stdout_closes_and_saves_what_it_did(photos, tmp_path):
    """Its standard output gone (a journal restarted under a service), watch ended with exit
    status 2, which a service manager takes as not to be restarted: it now stops after the
    photograph in hand, saves its state, and exits 1. The photograph whose record could not be
    printed is forgotten, its outputs removed, so that the next run, which does the rest,
    delivers its record too: none repeated, none missed."""
    drop = tmp_path / "drop"
    shutil.copytree(photos, drop)
    for path in drop.iterdir():
        os.utime(path, (time.time() - 10,) * 2)
    out = tmp_path / "out"
    done = _with_stdout_closed("watch", drop, "-o", out, "--once")
    assert done.returncode == 1
    assert (
        "stopped as standard output closed: those not looked at are left for the next run"
        in (done.stderr.splitlines()[-1])
    )
    assert not list(out.glob("*_mask.png"))
    again = edge_seg("watch", drop, "-o", out, "--once", "--json")
    records = [json.loads(line) for line in again.stdout.splitlines()]
    assert [Path(r["path"]).name for r in records] == [f"p{i}.png" for i in range(4)]
    assert sorted(p.name for p in out.glob("*_mask.png")) == [f"p{i}_mask.png" for i in range(4)]


def test_libtiff_is_quiet_unless_verbose_is_exactly_one(tmp_path, capfd, monkeypatch):
    """EDGE_SEG_VERBOSE=0 (or empty) is not verbose, as for the other native libraries."""
    photo = _damaged_tiff(tmp_path / "damaged.tif")
    for value in ("0", ""):
        monkeypatch.setenv(VERBOSE_ENV, value)
        with quiet_libtiff():
            assert _decoding_says(photo, capfd) == "", value


def test_a_pillow_without_libtiffs_handlers_changes_nothing(monkeypatch):
    """A Pillow whose imaging library lacks libtiff (or names its functions otherwise): the
    block changes nothing and raises nothing."""
    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    monkeypatch.setattr(ctypes, "CDLL", lambda *args, **kwargs: types.SimpleNamespace())
    with quiet_libtiff():
        pass
