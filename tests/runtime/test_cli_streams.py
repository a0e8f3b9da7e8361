"""Results on stdout, nothing on stderr but warnings and errors (progress only on a terminal),
run as a user runs them: in a subprocess, without a terminal. And --jobs gives the same masks."""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest
from PIL import Image

from edge_runtime.evaluation.synthetic import synthetic_fundus

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


def test_demo_is_quiet(tmp_path):
    pytest.importorskip("skimage", reason="the demo photograph ships with scikit-image")
    done = edge_seg("demo", "-o", tmp_path)
    assert done.stderr == "" and "wrote" in done.stdout
