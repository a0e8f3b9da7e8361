"""The drop-folder watcher: slow writers, restarts, bad files, clean stops."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from edge_runtime.app.watch import STATE_FILE, FolderWatcher
from edge_runtime.cli.main import cli
from edge_runtime.evaluation.synthetic import synthetic_fundus


def _png_bytes(tmp_path, seed=0):
    path = tmp_path / f"src{seed}.png"
    Image.fromarray(synthetic_fundus(160, 180, seed=seed)).save(path)
    return path.read_bytes()


def _fake_process(calls):
    def process(path, outputs):
        Image.open(path).load()  # raises on a partial file, like the real decoder
        calls.append(path.name)
        outputs.mask.write_bytes(b"mask")
        return {"path": str(path), "ok": True, "outputs": {"mask": str(outputs.mask)}}

    return process


def test_a_file_written_slowly_in_pieces_is_processed_once_when_complete(tmp_path):
    drop, out = tmp_path / "drop", tmp_path / "out"
    drop.mkdir()
    out.mkdir()
    content = _png_bytes(tmp_path)
    calls, records = [], []
    watcher = FolderWatcher(drop, out, _fake_process(calls), settle=1.0)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop, 0.05, records.append))
    thread.start()
    try:
        with open(drop / "slow.png", "wb") as f:
            for start in range(0, len(content), len(content) // 8 + 1):
                f.write(content[start : start + len(content) // 8 + 1])
                f.flush()
                time.sleep(0.1)  # far shorter than settle: the file stays young while written
        deadline = time.monotonic() + 20
        while not any(r["ok"] for r in records) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # more polls: it must not be taken twice
    finally:
        stop.set()
        thread.join()
    assert calls == ["slow.png"]  # decoded once, complete
    assert records[-1]["ok"] is True
    assert (out / "slow_mask.png").exists()


def test_restart_does_not_repeat_work_and_a_changed_file_is_redone(tmp_path):
    drop, out = tmp_path / "drop", tmp_path / "out"
    drop.mkdir()
    out.mkdir()
    (drop / "a.png").write_bytes(_png_bytes(tmp_path, 1))
    (drop / "bad.png").write_text("not an image")
    old = time.time() - 10
    for p in drop.iterdir():
        os.utime(p, (old, old))
    calls = []

    def process(path, outputs):
        from edge_runtime.errors import InputError

        if path.name == "bad.png":
            raise InputError(f"{path}: not an image file Pillow can read")
        return _fake_process(calls)(path, outputs)

    first = FolderWatcher(drop, out, process, settle=1).poll()
    assert sorted((r["ok"], r["path"].rsplit("/", 1)[1]) for r in first) == [
        (False, "bad.png"),
        (True, "a.png"),
    ]
    state = json.loads((out / STATE_FILE).read_text())
    assert state["a.png"]["ok"] is True and state["bad.png"]["ok"] is False
    assert FolderWatcher(drop, out, process, settle=1).poll() == []  # after a restart: nothing
    (drop / "a.png").write_bytes(_png_bytes(tmp_path, 2))
    os.utime(drop / "a.png", (old + 5, old + 5))
    again = FolderWatcher(drop, out, process, settle=1).poll()
    assert [r["path"].rsplit("/", 1)[1] for r in again] == ["a.png"]
    assert calls == ["a.png", "a.png"]


def test_watching_the_output_directory_is_refused(tmp_path):
    with pytest.raises(ValueError, match="must differ"):
        FolderWatcher(tmp_path, tmp_path, lambda p, o: {}, settle=1)


def test_watch_once_through_the_cli_with_the_bundled_model(tmp_path):
    drop, out = tmp_path / "drop", tmp_path / "out"
    drop.mkdir()
    (drop / "eye.png").write_bytes(_png_bytes(tmp_path, 3))
    old = time.time() - 10
    os.utime(drop / "eye.png", (old, old))
    result = CliRunner().invoke(cli, ["watch", str(drop), "-o", str(out), "--once", "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout.splitlines()[0])
    assert record["ok"] and record["tiles"] > 0
    mask = np.asarray(Image.open(out / "eye_mask.png"))
    assert mask.shape == (160, 180)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_watch_stops_cleanly_on_a_signal(tmp_path, signum):
    drop, out = tmp_path / "drop", tmp_path / "out"
    drop.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge_runtime.cli.main", "watch", str(drop), "-o", str(out)],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        line = proc.stderr.readline()
        while "watching" not in line and time.monotonic() < deadline:
            line = proc.stderr.readline()
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "stopped" in err and "Traceback" not in err


def test_an_unexpected_error_in_one_file_does_not_stop_the_watcher(tmp_path):
    drop, out = tmp_path / "drop", tmp_path / "out"
    drop.mkdir()
    out.mkdir()
    for name in ("a.png", "b.png"):
        (drop / name).write_bytes(_png_bytes(tmp_path))
    old = time.time() - 10
    for p in drop.iterdir():
        os.utime(p, (old, old))

    def process(path, outputs):
        if path.name == "a.png":
            raise MemoryError("simulated")
        return {"path": str(path), "ok": True}

    records = FolderWatcher(drop, out, process, settle=1).poll()
    assert [r["ok"] for r in records] == [False, True]
    assert records[0]["error"].endswith("a.png: unexpected MemoryError: simulated")
