"""The drop-folder watcher: slow writers, restarts, bad files, clean stops."""

import contextlib
import errno
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


def _folders(tmp_path):
    """A drop folder and an output folder, both made."""
    drop, out = tmp_path / "drop", tmp_path / "out"
    drop.mkdir()
    out.mkdir()
    return drop, out


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
    drop, out = _folders(tmp_path)
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
    drop, out = _folders(tmp_path)
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

    first = list(FolderWatcher(drop, out, process, settle=1).poll())
    assert sorted((r["ok"], r["path"].rsplit("/", 1)[1]) for r in first) == [
        (False, "bad.png"),
        (True, "a.png"),
    ]
    state = json.loads((out / STATE_FILE).read_text())
    assert state["a.png"]["ok"] is True and state["bad.png"]["ok"] is False
    assert list(FolderWatcher(drop, out, process, settle=1).poll()) == []  # after a restart
    (drop / "a.png").write_bytes(_png_bytes(tmp_path, 2))
    os.utime(drop / "a.png", (old + 5, old + 5))
    again = list(FolderWatcher(drop, out, process, settle=1).poll())
    assert [r["path"].rsplit("/", 1)[1] for r in again] == ["a.png"]
    assert calls == ["a.png", "a.png"]


def test_photographs_removed_from_the_folder_are_forgotten(tmp_path):
    drop, out = _folders(tmp_path)
    old = time.time() - 10
    for name, seed in (("a.png", 1), ("b.png", 2)):
        (drop / name).write_bytes(_png_bytes(tmp_path, seed))
        os.utime(drop / name, (old, old))
    calls = []
    watcher = FolderWatcher(drop, out, _fake_process(calls), settle=1)
    assert len(list(watcher.poll())) == 2
    (drop / "a.png").unlink()
    assert list(watcher.poll()) == []
    assert set(json.loads((out / STATE_FILE).read_text())) == {"b.png"}
    assert (out / "a_mask.png").exists()  # its outputs stay
    (drop / "a.png").write_bytes(_png_bytes(tmp_path, 1))  # back again: a new photograph
    os.utime(drop / "a.png", (old, old))
    assert [r["path"].rsplit("/", 1)[1] for r in watcher.poll()] == ["a.png"]
    assert calls == ["a.png", "b.png", "a.png"]


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
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        line = proc.stdout.readline()
        while "watching" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
        proc.send_signal(signum)
        out_text, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "stopped" in out_text and err == ""


def test_an_unexpected_error_in_one_file_does_not_stop_the_watcher(tmp_path):
    drop, out = _folders(tmp_path)
    for name in ("a.png", "b.png"):
        (drop / name).write_bytes(_png_bytes(tmp_path))
    old = time.time() - 10
    for p in drop.iterdir():
        os.utime(p, (old, old))

    def process(path, outputs):
        if path.name == "a.png":
            raise MemoryError("simulated")
        return {"path": str(path), "ok": True}

    records = list(FolderWatcher(drop, out, process, settle=1).poll())
    assert [r["ok"] for r in records] == [False, True]
    assert records[0]["error"].endswith("a.png: unexpected MemoryError: simulated")


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _old(path, seconds=10):
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_failure_that_is_not_the_files_is_retried_never_recorded(tmp_path):
    from edge_runtime.app.watch import RETRY_FIRST
    from edge_runtime.errors import OutputError

    drop, out = _folders(tmp_path)
    (drop / "a.png").write_bytes(_png_bytes(tmp_path))
    _old(drop / "a.png")
    disk_full, calls, clock = [True], [], _Clock()

    def process(path, outputs):
        if disk_full[0]:
            raise OutputError(f"{outputs.mask}: cannot write (No space left on device)")
        return _fake_process(calls)(path, outputs)

    watcher = FolderWatcher(drop, out, process, settle=1, clock=clock)
    (record,) = list(watcher.poll())
    assert not record["ok"] and record["retry_in_s"] == RETRY_FIRST
    assert "a.png" not in watcher.state and not (out / STATE_FILE).exists()
    assert list(watcher.poll()) == []  # not before the pause is over
    clock.now += RETRY_FIRST
    (record,) = list(watcher.poll())
    assert record["retry_in_s"] == 2 * RETRY_FIRST  # the pause doubles
    disk_full[0] = False
    clock.now += 2 * RETRY_FIRST
    (record,) = list(watcher.poll())
    assert record["ok"] and calls == ["a.png"]
    assert json.loads((out / STATE_FILE).read_text())["a.png"]["ok"] is True
    # a restart after space was freed finds nothing left to do, and nothing was lost
    assert list(FolderWatcher(drop, out, process, settle=1).poll()) == []


def test_a_full_disk_through_the_cli_is_retried_after_space_is_freed(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; the retry logic is tested above")
    drop, out = _folders(tmp_path)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(out)]).returncode:
        pytest.skip("mounting a tmpfs is not permitted here")
    try:
        (drop / "eye.png").write_bytes(_png_bytes(tmp_path, 4))
        _old(drop / "eye.png")
        filler = out / "filler"
        with open(filler, "wb") as f, contextlib.suppress(OSError):
            f.write(b"\0" * 300_000)  # the disk is full
        args = ["watch", str(drop), "-o", str(out), "--once", "--json"]
        full = CliRunner().invoke(cli, args)
        assert full.exit_code == 1 and "No space left on device" in full.output
        assert not (out / "eye_mask.png").exists()
        filler.unlink()  # space is freed; the service restarts
        again = CliRunner().invoke(cli, args)
        assert again.exit_code == 0, again.output
        assert (out / "eye_mask.png").exists()
    finally:
        subprocess.run(["umount", str(out)], check=True)


def test_sigterm_stops_a_long_batch_after_the_photograph_in_progress(tmp_path):
    drop, out = tmp_path / "drop", tmp_path / "out"
    drop.mkdir()
    content = _png_bytes(tmp_path, 5)
    for i in range(60):
        (drop / f"p{i:02d}.png").write_bytes(content)
        _old(drop / f"p{i:02d}.png")
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge_runtime.cli.main", "watch", str(drop), "-o", str(out),
         "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = proc.stdout.readline()  # the first photograph is done: the batch is under way
        assert json.loads(first)["ok"]
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        rest, err = proc.communicate(timeout=30)
        stopped_in = time.monotonic() - started
    finally:
        proc.kill()
    assert proc.returncode == 0 and err == ""
    assert stopped_in < 5 and 1 + len(rest.splitlines()) < 60


def test_a_file_with_a_modification_time_in_the_future_is_still_taken(tmp_path):
    drop, out = _folders(tmp_path)
    (drop / "a.png").write_bytes(_png_bytes(tmp_path))
    future = time.time() + 7 * 24 * 3600  # a Pi whose clock ran ahead
    os.utime(drop / "a.png", (future, future))
    calls, clock = [], _Clock()
    watcher = FolderWatcher(drop, out, _fake_process(calls), settle=1, clock=clock)
    assert list(watcher.poll()) == []  # first seen now
    clock.now += 1.0  # unchanged for the settle time, by our own clock
    assert [r["ok"] for r in watcher.poll()] == [True] and calls == ["a.png"]


def test_a_photograph_replaced_by_one_of_the_same_size_and_time_is_done_again(tmp_path):
    drop, out = _folders(tmp_path)
    first, second = _png_bytes(tmp_path, 6), _png_bytes(tmp_path, 7)
    second = second[: len(first)].ljust(len(first), b"\0")  # the same size
    (drop / "a.png").write_bytes(first)
    _old(drop / "a.png")
    stamp = os.stat(drop / "a.png").st_mtime_ns
    calls = []
    process = _fake_process(calls)
    assert len(list(FolderWatcher(drop, out, process, settle=1).poll())) == 1
    (tmp_path / "new.png").write_bytes(second)  # cp -p: same size and time, another file
    os.utime(tmp_path / "new.png", ns=(stamp, stamp))
    os.replace(tmp_path / "new.png", drop / "a.png")
    assert os.stat(drop / "a.png").st_mtime_ns == stamp
    assert len(list(FolderWatcher(drop, out, process, settle=1).poll())) == 1


@pytest.mark.parametrize("content", ["[]", "null", '{"a.png": 5}', '{"a.png": {"size": -1}}', "{"])
def test_a_state_file_of_the_wrong_shape_is_set_aside_and_work_redone(tmp_path, content):
    drop, out = _folders(tmp_path)
    (drop / "a.png").write_bytes(_png_bytes(tmp_path))
    _old(drop / "a.png")
    (out / STATE_FILE).write_text(content)
    warnings, calls = [], []
    watcher = FolderWatcher(drop, out, _fake_process(calls), settle=1, warn=warnings.append)
    assert watcher.state == {}
    assert warnings[0].startswith(f"{out / STATE_FILE}: ") and "starting afresh" in warnings[0]
    assert (out / f"{STATE_FILE}.bad").read_text() == content
    assert [r["ok"] for r in watcher.poll()] == [True]


def test_a_fifo_as_the_state_file_does_not_hang(tmp_path):
    drop, out = _folders(tmp_path)
    os.mkfifo(out / STATE_FILE)
    warnings = []
    watcher = FolderWatcher(drop, out, _fake_process([]), settle=1, warn=warnings.append)
    assert watcher.state == {} and "not a regular file" in warnings[0]


def test_a_state_that_cannot_be_saved_is_named_and_kept_in_memory(tmp_path, monkeypatch):
    import edge_runtime.app.watch as watch_module

    drop, out = _folders(tmp_path)
    (drop / "a.png").write_bytes(_png_bytes(tmp_path))
    _old(drop / "a.png")

    @contextlib.contextmanager
    def full_disk(path):
        raise OSError(errno.ENOSPC, "No space left on device")
        yield

    monkeypatch.setattr(watch_module, "atomic_path", full_disk)
    warnings, calls = [], []
    watcher = FolderWatcher(drop, out, _fake_process(calls), settle=1, warn=warnings.append)
    assert [r["ok"] for r in watcher.poll()] == [True]
    assert warnings == [
        f"{out / STATE_FILE}: cannot save the watch state (No space left on device)"
    ]
    assert list(watcher.poll()) == [] and calls == ["a.png"]  # remembered in memory


def test_the_watched_folder_under_another_path_is_refused_as_output(tmp_path):
    (tmp_path / "alias").symlink_to(tmp_path / "drop")
    (tmp_path / "drop").mkdir()
    with pytest.raises(ValueError, match="must differ"):
        FolderWatcher(tmp_path / "drop", tmp_path / "alias", lambda p, o: {}, settle=1)
