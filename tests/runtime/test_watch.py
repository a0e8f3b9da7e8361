"""The drop-folder watcher: slow writers, restarts, bad files, clean stops."""

import concurrent.futures
import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import edge_runtime.app.watcher as watcher_module
from edge_runtime.app.watcher import LOCK_FILE, RETRY_FIRST, RETRY_MAX, STATE_FILE, FolderWatcher
from edge_runtime.atomic import STALE_PARTIAL_AGE
from edge_runtime.cli.main import cli
from edge_runtime.contract.schema import MAX_TEXT
from edge_runtime.errors import (
    InputError,
    ModelError,
    NetworkError,
    OutputError,
    UnreadableError,
)
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.processes import ENDING_SIGNALS
from edge_runtime.safe_open import open_regular


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


def _failing_while(disk_full: list[bool], then):
    """A process that fails as a full disk does while ``disk_full[0]``, and is ``then`` after."""

    def process(path, outputs):
        if disk_full[0]:
            raise OutputError(f"{outputs.mask}: cannot write (No space left on device)")
        return then(path, outputs)

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
    assert (out / "a_mask.png").read_bytes() == b"mask"  # its outputs stay
    (drop / "a.png").write_bytes(_png_bytes(tmp_path, 1))  # back again: a new photograph
    os.utime(drop / "a.png", (old, old))
    (record,) = watcher.poll()
    assert record["path"].rsplit("/", 1)[1] == "a.png"
    assert record["outputs"]["mask"] == str(out / "a-2_mask.png")  # the first one's are kept
    assert calls == ["a.png", "b.png", "a.png"]
    (out / "a_mask.png").write_bytes(b"the first a.png's")
    (drop / "a.png").write_bytes(_png_bytes(tmp_path, 3))  # changed: redone under its name
    os.utime(drop / "a.png", (old + 5, old + 5))
    (record,) = watcher.poll()
    assert record["outputs"]["mask"] == str(out / "a-2_mask.png")
    assert (out / "a_mask.png").read_bytes() == b"the first a.png's"


def test_watching_the_output_directory_is_refused(tmp_path):
    with pytest.raises(OutputError, match="must differ"):
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


def _looks(watcher: FolderWatcher) -> list[dict]:
    """The records of tens of looks of ``watcher`` running as the daemon does, 0.3 s."""
    records = []
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop, 0.01, records.append))
    thread.start()
    time.sleep(0.3)
    stop.set()
    thread.join()
    return records


def _daemon(drop, out, *options: str, ignored: tuple[int, ...] = ()) -> subprocess.Popen:
    """``edge-seg watch DROP -o OUT [OPTIONS]`` running, its output read through pipes, its
    fault handler on (:func:`_ended` shows where it hung), started with the ``ignored`` signals
    ignored and SIGHUP otherwise at its default (even when the tests run under nohup)."""
    command = ["-m", "edge_runtime.cli.main", "watch", str(drop), "-o", str(out), *options]

    def started() -> None:
        for signum in ENDING_SIGNALS:
            signal.signal(signum, signal.SIG_IGN if signum in ignored else signal.SIG_DFL)

    return subprocess.Popen(
        [sys.executable, "-X", "faulthandler", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=started,
    )


def _ended(proc: subprocess.Popen, timeout: float = 30) -> tuple[str, str]:
    """The rest of a :func:`_daemon`'s standard output (with what ``readline`` already
    buffered, which ``communicate`` would miss) and its standard error once it has ended; one
    that runs past ``timeout`` fails the test with its threads' stacks (SIGABRT makes its
    fault handler print them)."""
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        out, err = pool.submit(proc.stdout.read), pool.submit(proc.stderr.read)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            proc.wait(30)
            pytest.fail(f"edge-seg watch ran past {timeout:g} s:\n{err.result()}")
        return out.result(), err.result()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_watch_stops_cleanly_on_a_signal(tmp_path, signum):
    drop, out = tmp_path / "drop", tmp_path / "out"
    drop.mkdir()
    proc = _daemon(drop, out)
    try:
        assert "watching" in proc.stdout.readline()
        proc.send_signal(signum)
        out_text, err = _ended(proc)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "stopped" in out_text and err == ""


@pytest.mark.parametrize(
    ("ignored", "said"),
    [
        ((), "SIGINT, SIGTERM or SIGHUP"),
        ((signal.SIGHUP,), "SIGINT or SIGTERM"),
        ((signal.SIGINT, signal.SIGHUP), "SIGTERM"),
    ],
    ids=["terminal", "nohup", "nohup-in-the-background"],
)
def test_watch_says_which_signals_stop_it(tmp_path, ignored, said):
    """Under ``nohup`` a hangup does not stop it, and its first line does not say it would;
    in a script's background neither does Ctrl-C."""
    drop, out = tmp_path / "drop", tmp_path / "out"
    drop.mkdir()
    proc = _daemon(drop, out, ignored=ignored)
    try:
        assert proc.stdout.readline() == f"watching {drop} -> {out} ({said} to stop)\n"
        proc.send_signal(signal.SIGTERM)
        _ended(proc)
    finally:
        proc.kill()


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


def _settled_photo(tmp_path):
    """The drop and output folders, and a photograph in the drop folder settled long ago."""
    drop, out = _folders(tmp_path)
    photo = drop / "a.png"
    photo.write_bytes(b"A" * 100)
    _old(photo)
    return drop, out, photo


def test_a_failure_that_is_not_the_files_is_retried_never_recorded(tmp_path):
    from edge_runtime.app.watcher import RETRY_FIRST

    drop, out = _folders(tmp_path)
    (drop / "a.png").write_bytes(_png_bytes(tmp_path))
    _old(drop / "a.png")
    disk_full, calls, clock = [True], [], _Clock()

    process = _failing_while(disk_full, _fake_process(calls))
    watcher = FolderWatcher(drop, out, process, settle=1, clock=clock)
    (record,) = list(watcher.poll())
    assert not record["ok"] and record["retry_in_s"] == RETRY_FIRST
    assert "a.png" not in watcher.state and json.loads((out / STATE_FILE).read_text()) == {}
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


@pytest.mark.parametrize(
    ("failure", "the_files"),
    [
        (InputError("a.png: not an image file Pillow can read"), True),
        (ValueError("a bug met on this file"), True),
        (ModelError("m.tflite: the interpreter failed to run it"), False),
        (OutputError("out/a_mask.png: cannot write (No space left on device)"), False),
        (NetworkError("the server did not answer"), False),
        (MemoryError(), False),
    ],
)
def test_only_the_files_own_failures_are_recorded(tmp_path, failure, the_files):
    """A bad file is recorded and left until it changes; a failure of the model, the disk or
    memory says nothing about the file, which is tried again (whatever the errors' classes
    inherit: a model error is not an input error)."""
    drop, out = _folders(tmp_path)
    (drop / "a.png").write_bytes(_png_bytes(tmp_path))
    _old(drop / "a.png")

    def process(path, outputs):
        raise failure

    watcher = FolderWatcher(drop, out, process, settle=1)
    (record,) = list(watcher.poll())
    assert not record["ok"]
    assert ("a.png" in watcher.state) is the_files
    assert ("retry_in_s" in record) is not the_files


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


def _long_batch(tmp_path):
    """A drop folder of 60 settled photographs, and an output folder not yet made."""
    drop, out = tmp_path / "drop", tmp_path / "out"
    drop.mkdir()
    content = _png_bytes(tmp_path, 5)
    for i in range(60):
        (drop / f"p{i:02d}.png").write_bytes(content)
        _old(drop / f"p{i:02d}.png")
    return drop, out


def test_sigterm_stops_a_long_batch_after_the_photograph_in_progress(tmp_path):
    drop, out = _long_batch(tmp_path)
    proc = _daemon(drop, out, "--json")
    try:
        first = proc.stdout.readline()  # the first photograph is done: the batch is under way
        assert json.loads(first)["ok"]
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        rest, err = _ended(proc)
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


@pytest.fixture
def unsaveable_state(monkeypatch):
    """The watcher's files cannot be written: a full disk."""
    import edge_runtime.app.watcher as watch_module

    @contextlib.contextmanager
    def full_disk(path, durable=False):
        raise OSError(errno.ENOSPC, "No space left on device")
        yield

    monkeypatch.setattr(watch_module, "atomic_path", full_disk)


def test_a_state_that_cannot_be_saved_is_named_and_kept_in_memory(tmp_path, unsaveable_state):
    drop, out = _folders(tmp_path)
    (drop / "a.png").write_bytes(_png_bytes(tmp_path))
    _old(drop / "a.png")
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
    with pytest.raises(OutputError, match="must differ"):
        FolderWatcher(tmp_path / "drop", tmp_path / "alias", lambda p, o: {}, settle=1)


# -- the output folder is the watcher's own ----------------------------------------------------


def _copying_process(calls):
    """Like the real one: the mask is a PNG (here the photograph itself), so that a mask taken
    for a photograph would be segmented in its turn."""

    def process(path, outputs):
        Image.open(path).load()
        calls.append(path.name)
        outputs.mask.write_bytes(path.read_bytes())
        return {"path": str(path), "ok": True, "outputs": {"mask": str(outputs.mask)}}

    return process


def _dropped(drop, tmp_path, name, seed=1):
    (drop / name).write_bytes(_png_bytes(tmp_path, seed))
    _old(drop / name)


def test_a_removed_output_folder_is_made_again_and_nothing_is_redone(tmp_path):
    import shutil

    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png")
    calls, warnings = [], []
    watcher = FolderWatcher(drop, out, _copying_process(calls), settle=1, warn=warnings.append)
    assert [r["ok"] for r in watcher.poll()] == [True]
    shutil.rmtree(out)  # someone cleared the output folder
    _dropped(drop, tmp_path, "b.png", seed=2)
    assert [r["ok"] for r in watcher.poll()] == [True]
    assert calls == ["a.png", "b.png"] and (out / "b_mask.png").exists()
    assert set(json.loads((out / STATE_FILE).read_text())) == {"a.png", "b.png"}
    assert warnings == [f"{out}: the output directory was removed; made it again"]


def test_an_output_folder_that_cannot_be_made_again_stops_the_watcher(tmp_path):
    drop, out = _folders(tmp_path)
    (tmp_path / "file").write_text("not a folder")
    link = tmp_path / "masks"
    link.symlink_to(out)
    proc = _daemon(drop, link, "--interval", "0.05")
    try:
        assert "watching" in proc.stdout.readline()
        (tmp_path / "new").symlink_to(tmp_path / "file")
        os.replace(tmp_path / "new", link)  # at once: the output folder is gone, a file there
        _, err = _ended(proc)
    finally:
        proc.kill()
    assert proc.returncode == 2  # the unit's RestartPreventExitStatus: it fails, and says so
    assert err == f"Error: {link}: cannot create the output directory (File exists)\n"


def test_folders_swapped_while_watching_stop_the_watcher(tmp_path):
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png")
    calls = []
    watcher = FolderWatcher(drop, out, _copying_process(calls), settle=1)
    assert [r["ok"] for r in watcher.poll()] == [True]
    os.rename(drop, tmp_path / "swap")
    os.rename(out, drop)
    os.rename(tmp_path / "swap", out)
    _old(drop / "a_mask.png")
    with pytest.raises(OutputError, match=f"^{drop}: holds a watch state"):
        list(watcher.poll())
    assert calls == ["a.png"]  # its own mask was never segmented


def test_an_output_link_turned_to_the_watched_folder_stops_the_watcher(tmp_path):
    drop, out = _folders(tmp_path)
    (tmp_path / "link").symlink_to(out)
    watcher = FolderWatcher(drop, tmp_path / "link", _copying_process([]), settle=1)
    assert list(watcher.poll()) == []
    (tmp_path / "link").unlink()
    (tmp_path / "link").symlink_to(drop)
    with pytest.raises(OutputError, match="must differ from the watched one"):
        list(watcher.poll())


def test_an_output_moved_into_the_watched_folder_is_not_segmented(tmp_path):
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png")
    calls = []
    watcher = FolderWatcher(drop, out, _copying_process(calls), settle=0)
    assert [r["ok"] for r in watcher.poll()] == [True]
    os.rename(out / "a_mask.png", drop / "a_mask.png")  # the same file, now in the folder
    (record,) = watcher.poll()
    assert not record["ok"] and calls == ["a.png"]
    assert record["error"] == (
        f"{drop / 'a_mask.png'}: is an output of a.png (written as {out / 'a_mask.png'}), "
        "not a photograph to segment"
    )


def test_stale_temporary_files_of_a_killed_writer_are_removed_at_start(tmp_path):
    drop, out = _folders(tmp_path)
    code = (
        "import os, signal, sys\n"
        "from edge_runtime.atomic import atomic_path\n"
        "with atomic_path(sys.argv[1]) as tmp:\n"
        "    tmp.write_bytes(b'half a mask')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    for name in ("old_mask.png", "new_mask.png"):
        subprocess.run([sys.executable, "-c", code, str(out / name)], check=False)
    stale, fresh = sorted(out.iterdir(), key=lambda p: p.stat().st_mtime)
    _old(stale, 3600)
    mine = out / ".edge-seg-notes.partial.png"  # not a name atomic_path gives
    mine.write_text("keep")
    _old(mine, 3600)
    warnings = []
    FolderWatcher(drop, out, _copying_process([]), settle=1, warn=warnings.append)
    assert sorted(out.iterdir()) == sorted([fresh, mine, out / LOCK_FILE])
    assert warnings == [f"{out}: removed 1 temporary file of writes cut short ({stale.name})"]


def test_stale_temporary_files_left_while_it_runs_are_removed_in_time(tmp_path):
    """A watcher restarted by its service manager after a kill kept the last run's temporary
    files for as long as it ran: they were cleared only at start, once ten minutes old."""
    drop, out = _folders(tmp_path)
    clock, said = _Clock(), []
    watcher = FolderWatcher(
        drop, out, _copying_process([]), settle=1, clock=clock, warn=said.append
    )
    left = out / f".edge-seg-{os.getpid() + 1}-1.partial.png"  # atomic_path's naming
    left.write_bytes(b"half a mask")
    _old(left, 3600)
    list(watcher.poll())
    assert left.exists()  # not yet another clearing
    clock.now += STALE_PARTIAL_AGE
    list(watcher.poll())
    assert not left.exists()
    assert said == [f"{out}: removed 1 temporary file of writes cut short ({left.name})"]


# -- --once says what it left ------------------------------------------------------------------


def test_watch_once_names_every_photograph_it_left_and_fails(tmp_path):
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "done.png")
    (drop / "fresh.png").write_bytes(_png_bytes(tmp_path, 2))  # just written
    (drop / "ahead.png").write_bytes(_png_bytes(tmp_path, 3))
    future = time.time() + 24 * 3600  # a camera whose clock runs a day ahead
    os.utime(drop / "ahead.png", (future, future))
    (drop / "loop.png").symlink_to("loop.png")  # cannot be examined
    result = CliRunner().invoke(cli, ["watch", str(drop), "-o", str(out), "--once", "--json"])
    assert result.exit_code == 1
    assert [json.loads(line)["ok"] for line in result.stdout.splitlines()] == [True]
    lines = result.stderr.splitlines()
    assert lines[-1] == "Error: 0 photographs failed, 3 left unprocessed"
    left = sorted(lines[:-1])
    assert len(left) == 3 and all(line.startswith(f"warning: {drop}/") for line in left)
    assert left[0].startswith(f"warning: {drop / 'ahead.png'}: left unprocessed, not settled: ")
    assert "s in the future (a clock running ahead?)" in left[0]
    assert left[1] == (
        f"warning: {drop / 'fresh.png'}: left unprocessed, not settled: unchanged for less than 1 s"
    )
    assert left[2].startswith(f"warning: {drop / 'loop.png'}: left unprocessed, cannot be examined")


def test_watch_once_says_again_what_failed_before_and_is_unchanged(tmp_path):
    # a second run used to pass over a damaged photograph in silence, with status 0
    drop, out = _folders(tmp_path)
    (drop / "bad.png").write_bytes(b"not a picture")
    _old(drop / "bad.png")
    args = ["watch", str(drop), "-o", str(out), "--once"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 1 and "error: " + str(drop / "bad.png") in first.stderr
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 1
    assert again.stderr.splitlines() == [
        f"warning: {drop / 'bad.png'}: left unprocessed, failed before and unchanged since: "
        "not an image file Pillow can read",
        "Error: 0 photographs failed, 1 left unprocessed",
    ]


def test_the_daemon_says_a_failure_once_and_a_restarted_one_once_more(tmp_path):
    drop, out = _folders(tmp_path)
    (drop / "bad.png").write_bytes(b"not a picture")
    _old(drop / "bad.png")

    def process(path, outputs):
        raise InputError(f"{path}: not an image file Pillow can read")

    def run_a_while():
        warnings = []
        watcher = FolderWatcher(drop, out, process, settle=1, warn=warnings.append)
        return warnings, _looks(watcher)

    warnings, records = run_a_while()
    assert [r["ok"] for r in records] == [False] and warnings == []  # the record said it
    warnings, records = run_a_while()
    assert records == [] and warnings == [
        f"{drop / 'bad.png'}: failed before and unchanged since: not an image file Pillow can read"
    ]


def test_the_daemon_warns_once_about_a_file_it_cannot_examine(tmp_path):
    drop, out = _folders(tmp_path)
    (drop / "loop.png").symlink_to("loop.png")
    warnings = []
    watcher = FolderWatcher(drop, out, _copying_process([]), settle=1, warn=warnings.append)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop, 0.01, print))
    thread.start()
    time.sleep(0.3)  # tens of looks
    stop.set()
    thread.join()
    assert warnings == [f"{drop / 'loop.png'}: cannot be examined ({os.strerror(errno.ELOOP)})"]


def test_a_link_in_a_loop_named_as_no_photograph_leaves_the_folder_listed(tmp_path):
    """A link in a loop not named as a photograph (``loop``, asked whether it is a folder)
    raised from the look's listing: the whole folder was left unprocessed, "cannot list (Too
    many levels of symbolic links)", at every look, and nothing in it was ever done. It is no
    folder, nor a file not taken (no file at all), and said nothing of."""
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "p.png")
    (drop / "loop").symlink_to("loop")
    said = []
    watcher = FolderWatcher(drop, out, _copying_process([]), settle=0, warn=said.append)
    assert [record["ok"] for record in watcher.poll()] == [True]
    assert watcher.unprocessed == [] and said == []
    watcher.close()


def test_a_file_growing_while_others_are_segmented_is_not_taken_half_written(tmp_path):
    """Each file's stat was taken at the look's start: a file still being written, reached
    after photographs that took longer than the settle time, counted as settled and failed as
    truncated."""
    drop, out = _folders(tmp_path)
    content = _png_bytes(tmp_path)
    (drop / "a.png").write_bytes(_png_bytes(tmp_path, 1))
    (drop / "z.png").write_bytes(content[:100])
    calls, clock = [], _Clock()
    fake = _fake_process(calls)

    def process(path, outputs):
        if path.name == "a.png":
            clock.now += 5  # a long photograph, while the camera goes on writing z.png
            with open(drop / "z.png", "ab") as f:
                f.write(content[100:200])
        return fake(path, outputs)

    watcher = FolderWatcher(drop, out, process, settle=1, clock=clock)
    assert list(watcher.poll()) == []  # both first seen
    clock.now += 1
    assert [r["path"] for r in watcher.poll()] == [str(drop / "a.png")]  # z.png grew meanwhile
    with open(drop / "z.png", "ab") as f:
        f.write(content[200:])
    clock.now += 1
    assert list(watcher.poll()) == []  # first seen complete
    clock.now += 1
    assert [r["ok"] for r in watcher.poll()] == [True] and calls == ["a.png", "z.png"]


def test_a_changed_photograph_loses_its_earlier_outputs_and_one_removed_while_read_is_gone(
    tmp_path,
):
    """A photograph replaced under its name kept the overlay of the one before beside its new
    mask; one removed by the camera while it was read was recorded as failed."""
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png", seed=1)
    calls = []
    fake = _fake_process(calls)

    def with_overlay(path, outputs):
        outputs.overlay.write_bytes(b"overlay")
        return fake(path, outputs)

    assert len(list(FolderWatcher(drop, out, with_overlay, settle=1).poll())) == 1
    assert (out / "a_overlay.png").exists()
    _dropped(drop, tmp_path, "a.png", seed=2)
    assert [r["ok"] for r in FolderWatcher(drop, out, fake, settle=1).poll()] == [True]
    assert (out / "a_mask.png").exists() and not (out / "a_overlay.png").exists()

    # a photograph of the same stem, done and removed, keeps its outputs while another fails
    (drop / "a.png").unlink()
    list(FolderWatcher(drop, out, fake, settle=1).poll())  # a.png forgotten; a_mask.png stays
    (drop / "a.tif").write_bytes(b"not a photograph")
    _old(drop / "a.tif")
    assert [r["ok"] for r in FolderWatcher(drop, out, fake, settle=1).poll()] == [False]
    (drop / "a.tif").write_bytes(b"still not a photograph")
    _old(drop / "a.tif")
    assert [r["ok"] for r in FolderWatcher(drop, out, fake, settle=1).poll()] == [False]
    assert (out / "a_mask.png").exists()
    (drop / "a.tif").unlink()

    def removed_while_read(path, outputs):
        path.unlink()
        raise InputError(f"{path}: no such file")

    _dropped(drop, tmp_path, "b.png", seed=3)
    watcher = FolderWatcher(drop, out, removed_while_read, settle=1)
    assert list(watcher.poll()) == [] and "b.png" not in watcher.state


def test_an_error_too_long_for_the_state_file_is_kept_shortened(tmp_path):
    """Escaped bytes made an error longer than the state file reads back: every restart set
    the state aside and did the work again."""
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png")

    def long_failure(path, outputs):
        raise InputError(f"{path}: " + "\\udcff" * 1000)

    assert [r["ok"] for r in FolderWatcher(drop, out, long_failure, settle=1).poll()] == [False]
    warned = []
    again = FolderWatcher(drop, out, long_failure, settle=1, warn=warned.append)
    assert warned == [] and not again.state["a.png"].ok
    assert len(again.state["a.png"].error) == 4096 and list(again.poll()) == []


def test_watch_once_stops_on_sigterm_after_the_photograph_in_progress(tmp_path):
    """--once ended at once on SIGTERM (status 143, a temporary file and a mask without its
    overlay left behind)."""
    drop, out = _long_batch(tmp_path)
    proc = _daemon(drop, out, "--once", "--overlay", "--json")
    try:
        assert json.loads(proc.stdout.readline())["ok"]  # the batch is under way
        proc.send_signal(signal.SIGTERM)
        rest, err = _ended(proc)
    finally:
        proc.kill()
    done = 1 + len(rest.splitlines())
    assert proc.returncode == 1 and done < 60
    assert err.endswith("stopped by SIGTERM: those not looked at are left for the next run\n")
    masks = sorted(p.name for p in out.glob("*_mask.png"))
    overlays = sorted(p.name for p in out.glob("*_overlay.png"))
    assert len(masks) == done and [m.replace("mask", "overlay") for m in masks] == overlays
    assert not list(out.glob(".edge-seg-*.partial*"))


# -- a run cut short, a damaged state, links ------------------------------------------------------


class _Killed(BaseException):
    """What a SIGKILL leaves: the process ends where it is (no ``except Exception`` runs)."""


def _killed_after_the_mask(path, outputs):
    outputs.mask.write_bytes(b"half a result")
    raise _Killed


def test_a_folder_in_the_watched_one_is_warned_of_once(tmp_path):
    """A camera writing into DCIM/100CANON/ had nothing done, and nothing said."""
    drop, out = _folders(tmp_path)
    (drop / "DCIM").mkdir()
    _dropped(drop / "DCIM", tmp_path, "a.png")
    _dropped(drop, tmp_path, "b.png", seed=2)
    said = []
    calls = []
    watcher = FolderWatcher(drop, out, _copying_process(calls), settle=1, warn=said.append)
    assert [r["ok"] for r in watcher.poll()] == [True] and calls == ["b.png"]
    list(watcher.poll())
    assert said == [
        f"{drop / 'DCIM'}: a folder: the photographs in it are not looked at, only those in "
        "the watched folder itself"
    ]
    inside = drop / "masks"  # the output folder may be there: no folder of photographs
    inside.mkdir()
    said.clear()
    list(FolderWatcher(drop, inside, _copying_process([]), settle=1, warn=said.append).poll())
    assert said == [said[0]] and "DCIM" in said[0]


def _not_taken(path, others: str) -> str:
    return (
        f"{path}: not taken, nor {others}: edge-seg takes only photographs named .png, .jpg, "
        ".jpeg, .tif, .tiff, .bmp, .ppm, .pgm, .webp, .jp2, .j2k, .j2c, .jpc, .jpf, .jpx, .avif, "
        ".avifs (in any case)"
    )


def test_a_file_not_named_as_a_photograph_is_warned_of_once_a_kind_once_settled(tmp_path):
    """A camera writing .dcm files into the folder had nothing done, and nothing said; one
    writing a sidecar beside each photograph gets one line, not one a photograph."""
    drop, out = _folders(tmp_path)
    (drop / "a.dcm").write_bytes(b"DICM")  # just written: it may yet be renamed
    (drop / ".b.dcm").write_bytes(b"DICM")  # hidden: a writer's own temporary, say
    _old(drop / ".b.dcm")
    (drop / "x.png.part").write_bytes(_png_bytes(tmp_path))  # a camera's temporary name
    clock, said = _Clock(), []
    watcher = FolderWatcher(
        drop, out, _copying_process([]), settle=1, clock=clock, warn=said.append
    )
    assert list(watcher.poll()) == [] and said == []  # not settled yet
    os.rename(drop / "x.png.part", drop / "x.png")  # renamed within the settle time
    clock.now += 1
    list(watcher.poll())
    assert said == [_not_taken(drop / "a.dcm", "any other .dcm file")]
    clock.now += 1
    assert [r["ok"] for r in watcher.poll()] == [True]  # x.png, never warned of
    (drop / "a.dcm").write_bytes(b"DICM again")  # changed, and more of its kind
    for name in ("c.DCM", "c.json", "d.json", "README"):
        (drop / name).write_text("a sidecar")
        _old(drop / name)
    clock.now += 1
    list(watcher.poll())
    clock.now += 1
    list(watcher.poll())
    assert said == [
        _not_taken(drop / "a.dcm", "any other .dcm file"),
        _not_taken(drop / "README", "any other file without a suffix"),
        _not_taken(drop / "c.json", "any other .json file"),
    ]


def test_watch_once_warns_of_files_not_named_as_photographs_and_exits_0(tmp_path):
    """They are no photographs, so none was left: warned of as a folder in it is."""
    drop, out = _folders(tmp_path)
    for name in ("a.dcm", "b.HEIC"):
        (drop / name).write_bytes(b"not read")
        _old(drop / name)
    (drop / "fresh.txt").write_text("just written")
    _dropped(drop, tmp_path, "c.PNG")
    args = ["watch", str(drop), "-o", str(out), "--once", "--json"]
    for _ in range(2):  # each run says it again
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert result.stderr.splitlines() == [
            f"warning: {_not_taken(drop / 'a.dcm', 'any other .dcm file')}",
            f"warning: {_not_taken(drop / 'b.HEIC', 'any other .heic file')}",
        ]
    assert (out / "c_mask.png").exists()


def test_a_photograph_cut_short_is_done_again_under_its_name_and_its_part_removed(tmp_path):
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png")
    _dropped(drop, tmp_path, "b.png", seed=2)
    with pytest.raises(_Killed):
        list(FolderWatcher(drop, out, _killed_after_the_mask, settle=1).poll())
    assert json.loads((out / STATE_FILE).read_text())["a.png"]["pending"] is True
    calls = []
    records = list(FolderWatcher(drop, out, _copying_process(calls), settle=1).poll())
    assert [r["outputs"]["mask"] for r in records] == [
        str(out / "a_mask.png"),
        str(out / "b_mask.png"),
    ]
    assert (out / "a_mask.png").read_bytes() == (drop / "a.png").read_bytes()  # not "-2"
    assert not json.loads((out / STATE_FILE).read_text())["a.png"]["pending"]
    with pytest.raises(_Killed):  # cut short again, then the photograph is taken away
        (drop / "a.png").write_bytes(_png_bytes(tmp_path, 3))
        list(FolderWatcher(drop, out, _killed_after_the_mask, settle=0).poll())
    (drop / "a.png").unlink()
    assert list(FolderWatcher(drop, out, _copying_process(calls), settle=1).poll()) == []
    assert not (out / "a_mask.png").exists()  # half a result is no result
    assert (out / "b_mask.png").exists()


def test_a_photograph_that_cuts_two_runs_short_is_left_failed_and_the_next_are_done(tmp_path):
    """One that killed the watcher (its memory cap) was taken at every restart, for ever, and
    the photographs after it never."""
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png")
    _dropped(drop, tmp_path, "b.png", seed=2)
    for _ in range(2):
        with pytest.raises(_Killed):
            list(FolderWatcher(drop, out, _killed_after_the_mask, settle=1).poll())
    calls = []
    watcher = FolderWatcher(drop, out, _copying_process(calls), settle=1)
    records = list(watcher.poll())
    assert [r["ok"] for r in records] == [False, True] and calls == ["b.png"]
    assert list(watcher.poll()) == [] and watcher.unprocessed == []  # said once, by its record
    assert records[0]["error"] == (
        f"{drop / 'a.png'}: the watcher was cut short 2 times while segmenting it (killed: out "
        "of memory?), so it is left alone"
    )
    assert not (out / "a_mask.png").exists()  # half a result is no result
    state = json.loads((out / STATE_FILE).read_text())["a.png"]
    assert not state["pending"] and not state["ok"]
    (drop / "a.png").write_bytes(_png_bytes(tmp_path, 3))  # a new photograph of the name
    assert [
        r["ok"] for r in FolderWatcher(drop, out, _copying_process(calls), settle=0).poll()
    ] == [True]


def test_a_failure_of_the_system_after_a_run_cut_short_is_not_counted_as_one(tmp_path):
    from edge_runtime.app.watcher import RETRY_FIRST

    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png")
    with pytest.raises(_Killed):
        list(FolderWatcher(drop, out, _killed_after_the_mask, settle=1).poll())
    calls, clock, disk_full = [], _Clock(), [True]

    def process(path, outputs):
        calls.append(path.name)
        if disk_full[0]:
            raise OutputError(f"{outputs.mask}: cannot write (No space left on device)")
        return _killed_after_the_mask(path, outputs)

    watcher = FolderWatcher(drop, out, process, settle=1, clock=clock)
    assert [r["ok"] for r in watcher.poll()] == [False]  # the disk: tried again later
    disk_full[0] = False
    clock.now += RETRY_FIRST
    with pytest.raises(_Killed):  # taken again, and cut short a second time
        list(watcher.poll())
    assert calls == ["a.png", "a.png"]
    (record,) = FolderWatcher(drop, out, process, settle=1).poll()
    assert "cut short 2 times" in record["error"] and len(calls) == 2


def test_a_state_naming_outputs_elsewhere_is_set_aside_and_nothing_there_removed(tmp_path):
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "x.png")
    (tmp_path / "victim").mkdir()
    (tmp_path / "victim" / "v_mask.png").write_text("keep")
    entry = {"size": 1, "mtime_ns": 1, "name": "../victim/v", "ok": True}
    (out / STATE_FILE).write_text(json.dumps({"x.png": entry}))
    warnings, calls = [], []
    watcher = FolderWatcher(drop, out, _copying_process(calls), settle=1, warn=warnings.append)
    assert [r["ok"] for r in watcher.poll()] == [True]
    assert (tmp_path / "victim" / "v_mask.png").read_text() == "keep"
    assert "expected a file name" in warnings[0] and (out / f"{STATE_FILE}.bad").exists()


def test_states_set_aside_are_kept_each_and_a_directory_in_the_way_does_not_stop_it(tmp_path):
    drop, out = _folders(tmp_path)
    (out / f"{STATE_FILE}.bad").mkdir()  # in the way of the first name
    (out / f"{STATE_FILE}.bad.2").write_text("an older one")
    (out / STATE_FILE).write_text("[1, 2")
    FolderWatcher(drop, out, _copying_process([]), settle=1, warn=lambda m: None)
    assert (out / f"{STATE_FILE}.bad.3").read_text() == "[1, 2"
    assert (out / f"{STATE_FILE}.bad.2").read_text() == "an older one"


def test_a_link_to_nothing_is_left_unprocessed_and_said(tmp_path):
    drop, out = _folders(tmp_path)
    (drop / "p.png").symlink_to(tmp_path / "card" / "p.png")
    watcher = FolderWatcher(drop, out, _copying_process([]), settle=1)
    assert list(watcher.poll()) == []
    (left,) = watcher.unprocessed
    assert left.path == drop / "p.png" and "which is not there" in left.reason
    assert not left.settling


def test_an_entry_named_as_a_photograph_that_is_no_file_is_left_unprocessed_and_said(tmp_path):
    """A folder or a FIFO named so was skipped without a word, and --once exited 0."""
    drop, out = _folders(tmp_path)
    (drop / "f.jpg").mkdir()
    os.mkfifo(drop / "q.png")
    _dropped(drop, tmp_path, "a.png")
    watcher = FolderWatcher(drop, out, _copying_process([]), settle=1)
    assert [r["ok"] for r in watcher.poll()] == [True]
    left = {i.path.name: i.reason for i in watcher.unprocessed if not i.settling}
    assert set(left) == {"f.jpg", "q.png"}
    assert all(reason.startswith("is not a regular file") for reason in left.values())


def test_its_outputs_linked_into_the_folder_are_refused_after_a_restart_too(tmp_path):
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "x.png")
    calls = []
    assert [
        r["ok"] for r in FolderWatcher(drop, out, _copying_process(calls), settle=1).poll()
    ] == [True]
    (drop / "x.png").rename(tmp_path / "x.png")  # the source leaves the folder
    os.link(out / "x_mask.png", drop / "y.png")
    (drop / "z.png").symlink_to(out / "x_mask.png")
    records = list(FolderWatcher(drop, out, _copying_process(calls), settle=0).poll())
    assert [r["ok"] for r in records] == [False, False] and calls == ["x.png"]
    assert all(f"is {out / 'x_mask.png'}, an output" in r["error"] for r in records)


def test_watch_once_fails_when_its_state_cannot_be_saved(tmp_path, unsaveable_state):
    drop, out = _folders(tmp_path)
    Image.fromarray(synthetic_fundus(160, 180)).save(drop / "a.png")
    _old(drop / "a.png")
    result = CliRunner().invoke(cli, ["watch", str(drop), "-o", str(out), "--once"])
    assert result.exit_code == 1 and (out / "a_mask.png").exists()
    assert "the watch state could not be saved" in result.output


def test_the_pause_between_retries_doubles_up_to_retry_max_and_stays_there(tmp_path):
    """Guards against ``pause = min(RETRY_MAX, 2 * pause)`` -> ``pause = 2 * pause``."""
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png")
    clock = _Clock()

    watcher = FolderWatcher(drop, out, _failing_while([True], None), settle=1, clock=clock)
    pauses = []
    for _ in range(10):
        (record,) = watcher.poll()
        pauses.append(record["retry_in_s"])
        clock.now += record["retry_in_s"]
    assert pauses == [RETRY_FIRST * 2**n for n in range(8)] + [RETRY_MAX, RETRY_MAX]


def test_a_success_starts_the_pause_of_a_later_failure_afresh(tmp_path):
    """Guards against ``self._retry.pop(path.name, None)`` removed after a success."""
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png")
    disk_full, calls, clock = [True], [], _Clock()

    process = _failing_while(disk_full, _fake_process(calls))
    watcher = FolderWatcher(drop, out, process, settle=1, clock=clock)
    assert [r["retry_in_s"] for r in watcher.poll()] == [RETRY_FIRST]
    disk_full[0] = False
    clock.now += RETRY_FIRST
    assert [r["ok"] for r in watcher.poll()] == [True]
    (drop / "a.png").write_bytes(_png_bytes(tmp_path, 2))  # a new photograph of the name
    _old(drop / "a.png", 5)
    disk_full[0] = True
    assert [r["retry_in_s"] for r in watcher.poll()] == [RETRY_FIRST]  # not 2 * RETRY_FIRST


def test_an_os_error_of_the_system_is_retried_never_recorded(tmp_path):
    """Guards against ``OSError`` dropped from is_permanent's tuple; the parametrized
    test has library errors and MemoryError, no plain OSError."""
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png")

    def process(path, outputs):
        raise OSError(errno.EIO, "Input/output error", str(outputs.mask))

    watcher = FolderWatcher(drop, out, process, settle=1)
    (record,) = watcher.poll()
    assert not record["ok"] and record["retry_in_s"] == RETRY_FIRST
    assert "a.png" not in watcher.state
    assert json.loads((out / STATE_FILE).read_text()) == {}


def test_a_hidden_file_named_as_a_photograph_is_never_taken(tmp_path):
    """A writer's temporary (``.eye.png``) or macOS's ``._eye.png``. Guards against the
    ``not e.name.startswith(".")`` filter dropped from _listing."""
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, ".eye.png")
    _dropped(drop, tmp_path, "._eye.png", seed=2)
    calls = []
    watcher = FolderWatcher(drop, out, _fake_process(calls), settle=1)
    assert list(watcher.poll()) == [] and calls == [] and watcher.unprocessed == []


def test_a_file_with_an_outputs_inode_but_not_its_size_and_time_is_taken(tmp_path):
    """What a new file reusing a removed output's inode number looks like: it is a photograph.
     Guards against the size and modification-time comparison dropped from _refuse_own_output
    , which refuses every file of an output's inode."""
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png")
    calls = []
    watcher = FolderWatcher(drop, out, _copying_process(calls), settle=0)
    assert [r["ok"] for r in watcher.poll()] == [True]
    os.rename(out / "a_mask.png", drop / "b.png")
    inode = os.stat(drop / "b.png").st_ino
    with open(drop / "b.png", "r+b") as f:  # rewritten in place: the same inode
        f.truncate(0)
        f.write(_png_bytes(tmp_path, 7))
    _old(drop / "b.png", 20)
    assert os.stat(drop / "b.png").st_ino == inode
    assert [r["ok"] for r in watcher.poll()] == [True]
    assert calls == ["a.png", "b.png"]


def test_an_output_written_by_another_run_after_a_look_is_refused_at_the_next(tmp_path):
    """Guards against ``self._written = None`` dropped from poll: the output folder's
    listing of the first look was kept, and an output made since, linked into the folder, was
    segmented."""
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png")
    calls = []
    watcher = FolderWatcher(drop, out, _copying_process(calls), settle=0)
    assert [r["ok"] for r in watcher.poll()] == [True]
    Image.fromarray(synthetic_fundus(160, 180, seed=9)).save(out / "z_mask.png")  # segment's
    os.link(out / "z_mask.png", drop / "q.png")
    (record,) = watcher.poll()
    assert not record["ok"] and f"is {out / 'z_mask.png'}, an output" in record["error"]
    assert calls == ["a.png"]


def test_a_second_watcher_on_the_same_output_folder_is_refused(tmp_path):
    """Two watchers writing in one output folder each did every photograph (``p_mask.png``
    and ``p-2_mask.png``) and overwrote each other's state: while one runs, another is refused
    on one line (exit status 2); once it has stopped, the next may start."""
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "p.png")
    daemon = _daemon(drop, out)
    try:
        assert daemon.stdout.readline().startswith("watching ")
        second = CliRunner().invoke(cli, ["watch", str(drop), "-o", str(out), "--once"])
        assert second.exit_code == 2
        assert second.output == (
            f"Error: {out}: another edge-seg watch writes here (it holds {LOCK_FILE}): "
            "one watcher per output folder\n"
        )
    finally:
        daemon.send_signal(signal.SIGTERM)
        _ended(daemon, 60)
    assert daemon.returncode == 0
    again = CliRunner().invoke(cli, ["watch", str(drop), "-o", str(out), "--once"])
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in out.glob("*_mask.png")) == ["p_mask.png"]


def test_outputs_and_state_reach_the_storage_before_the_state_says_done(tmp_path, monkeypatch):
    """The power going (a camera's battery) after a photograph is recorded done must not leave
    its mask empty, never to be redone: its outputs and their folder are flushed to the
    storage before the state that says so, and the state's temporary before its rename."""
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png")
    flushed = []
    real_fsync = os.fsync

    def logging_fsync(descriptor):
        flushed.append(Path(os.readlink(f"/proc/self/fd/{descriptor}")))
        real_fsync(descriptor)

    watcher = FolderWatcher(drop, out, _copying_process([]), settle=1)
    monkeypatch.setattr(os, "fsync", logging_fsync)
    assert [r["ok"] for r in watcher.poll()] == [True]
    mask = flushed.index(out / "a_mask.png")
    assert flushed[mask + 1] == out  # the folder that names it
    temporaries = [p for p in flushed[mask:] if p.name.endswith(".partial.json")]
    assert temporaries and flushed[-1] == out  # the state's rename too


def test_a_state_file_that_is_a_link_is_refused_at_the_start(tmp_path):
    """It was read through and never saved (a link is not replaced), so each run did every
    photograph again under a new name (a_mask, a-2_mask, ...): it is refused, exit status 2."""
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png")
    elsewhere = tmp_path / "state.json"
    elsewhere.write_text("{}")
    (out / STATE_FILE).symlink_to(elsewhere)
    result = CliRunner().invoke(cli, ["watch", str(drop), "-o", str(out), "--once"])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {out / STATE_FILE}: a symbolic link, where the watch state is a file of the "
        "output folder: remove it\n"
    )
    assert not list(out.glob("*_mask.png"))


def test_an_error_exactly_as_long_as_the_state_allows_is_kept_whole(tmp_path):
    """A failure's error of exactly MAX_TEXT characters is remembered as it is, not shortened."""
    drop, out = _folders(tmp_path)
    (drop / "a.png").write_bytes(b"not a picture")
    _old(drop / "a.png")

    def failure_of_max_length(path, outputs):
        prefix = f"{path}: "
        raise InputError(prefix + "x" * (MAX_TEXT - len(prefix)))

    watcher = FolderWatcher(drop, out, failure_of_max_length, settle=1)
    (record,) = list(watcher.poll())
    assert len(record["error"]) == MAX_TEXT
    assert watcher.state["a.png"].error == record["error"]
    again = FolderWatcher(drop, out, failure_of_max_length, settle=1)
    assert again.state["a.png"].error == record["error"]


def test_the_daemon_does_not_warn_about_a_file_that_is_only_settling(tmp_path):
    """A file still settling is left for a later look without any warning (it is no problem)."""
    drop, out = _folders(tmp_path)
    (drop / "fresh.png").write_bytes(b"being written")
    warned = []
    watcher = FolderWatcher(drop, out, lambda path, outputs: {}, settle=60, warn=warned.append)
    assert _looks(watcher) == [] and warned == []
    assert list(watcher.poll()) == []  # a look of its own: the file is left, settling
    assert [(u.path.name, u.settling) for u in watcher.unprocessed] == [("fresh.png", True)]


def test_an_error_too_long_for_the_state_ends_with_an_ellipsis(tmp_path):
    """An error longer than MAX_TEXT is kept cut to MAX_TEXT characters, the last an ellipsis."""
    drop, out = _folders(tmp_path)
    (drop / "a.png").write_bytes(b"not a picture")
    _old(drop / "a.png")

    def long_failure(path, outputs):
        raise InputError(f"{path}: " + "y" * (2 * MAX_TEXT))

    watcher = FolderWatcher(drop, out, long_failure, settle=1)
    (record,) = list(watcher.poll())
    kept = watcher.state["a.png"].error
    assert len(kept) == MAX_TEXT and kept.endswith("y\u2026")
    assert kept[:-1] == record["error"][: MAX_TEXT - 1]


def test_a_photograph_rewritten_in_place_with_its_size_and_time_is_done_again(tmp_path):
    """A file overwritten in place (same inode, size and mtime) is redone: its ctime changed."""
    drop, out = _folders(tmp_path)
    photo = drop / "a.png"
    photo.write_bytes(b"A" * 100)
    then = time.time() - 10
    os.utime(photo, (then, then))
    stamp, inode = os.stat(photo).st_mtime_ns, os.stat(photo).st_ino
    calls = []

    def process(path, outputs):
        calls.append(path.read_bytes()[:1])
        return {"path": str(path), "ok": True}

    assert len(list(FolderWatcher(drop, out, process, settle=1).poll())) == 1
    time.sleep(0.02)
    with open(photo, "r+b") as f:  # the same file: another photograph of the same size
        f.write(b"B" * 100)
    os.utime(photo, ns=(stamp, stamp))
    assert (os.stat(photo).st_ino, os.stat(photo).st_mtime_ns) == (inode, stamp)
    assert len(list(FolderWatcher(drop, out, process, settle=1).poll())) == 1
    assert calls == [b"A", b"B"]


def _access_time_set_back(photo, tmp_path):
    info = os.stat(photo)
    os.utime(photo, ns=(info.st_atime_ns - 10**9, info.st_mtime_ns))


def _copied_with_its_times(photo, tmp_path, content=None):
    """``rsync -t``: a new file of ``content`` (its own by default) given its times, moved in."""
    info = os.stat(photo)
    (tmp_path / "copy").write_bytes(photo.read_bytes() if content is None else content)
    os.utime(tmp_path / "copy", ns=(info.st_atime_ns, info.st_mtime_ns))
    os.replace(tmp_path / "copy", photo)


def _rewritten_in_place(photo, tmp_path):
    info = os.stat(photo)
    content = bytearray(photo.read_bytes())
    content[-20] ^= 1  # the same size, another content
    photo.write_bytes(content)
    os.utime(photo, ns=(info.st_atime_ns, info.st_mtime_ns))


@pytest.mark.parametrize(
    ("change", "redone"),
    [
        (lambda photo, tmp_path: photo.chmod(0o600), False),
        (lambda photo, tmp_path: os.link(photo, tmp_path / "backup.png"), False),
        (_access_time_set_back, False),
        (_copied_with_its_times, False),
        (_rewritten_in_place, True),
        (lambda photo, tmp_path: _copied_with_its_times(photo, tmp_path, b"B" * 100), True),
    ],
    ids=["chmod", "hard-link", "atime-set-back", "same-copy", "rewritten", "other-copy"],
)
def test_a_photograph_whose_status_alone_changed_is_not_done_again(
    tmp_path, monkeypatch, change, redone
):
    """A chmod, a hard link, a backup setting the access time back, a copy of the same content
    (rsync -t) change the ctime or inode: each was segmented again, rewriting the outputs. The
    digest of the content tells them from a content of the same size and time."""
    monkeypatch.setattr(watcher_module, "DIGEST_CHUNK", 16)  # in pieces: the last one counts
    drop, out, photo = _settled_photo(tmp_path)
    calls = []

    def process(path, outputs):
        calls.append(path.read_bytes())
        outputs.mask.write_bytes(b"mask")
        return {"path": str(path), "ok": True}

    assert len(list(FolderWatcher(drop, out, process, settle=1).poll())) == 1
    time.sleep(0.02)  # a later change time
    before = os.stat(photo)
    change(photo, tmp_path)
    after = os.stat(photo)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert (after.st_ctime_ns, after.st_ino) != (before.st_ctime_ns, before.st_ino)
    watcher = FolderWatcher(drop, out, process, settle=1)
    assert len(list(watcher.poll())) == redone
    assert len(calls) == 1 + redone and (out / "a_mask.png").exists()
    kept = json.loads((out / STATE_FILE).read_text())["a.png"]
    assert (kept["ctime_ns"], kept["inode"]) == (after.st_ctime_ns, after.st_ino)
    monkeypatch.setattr(watcher_module, "_digest", None)  # not read again
    assert list(watcher.poll()) == []
    assert len(calls) == 1 + redone


def _refused_without_read_permission(monkeypatch):
    """os.open refuses a file without read permission, as it does to any user but root (who
    may run the tests, and reads anything)."""
    real_open = os.open

    def refusing(path, flags, *args, **kwargs):
        if not flags & os.O_CREAT and os.path.isfile(path) and not os.stat(path).st_mode & 0o444:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing)


@pytest.mark.parametrize("rewritten", [False, True], ids=["unchanged", "rewritten"])
def test_a_photograph_done_that_cannot_be_read_now_keeps_its_outputs(
    tmp_path, monkeypatch, rewritten
):
    """A photograph done, made unreadable (chmod 000), could not be compared with the content
    segmented, so it was taken as changed: its outputs removed, it was recorded failed. Now it
    stays done, outputs and all, said once, and is compared when it can be read again: done
    again only if its content changed meanwhile. One never done that cannot be read fails, said
    once, and is tried again after pauses (each look here ends one) until it is done."""
    _refused_without_read_permission(monkeypatch)
    drop, out, photo = _settled_photo(tmp_path)
    other = drop / "b.png"
    other.write_bytes(b"B" * 100)
    _old(other)
    other.chmod(0)
    calls, records, warnings = [], [], []

    def process(path, outputs):
        with open_regular(path, "a photograph") as f:  # refused as the decoder's open is
            calls.append(f.read())
        outputs.mask.write_bytes(b"mask")
        return {"path": str(path), "ok": True}

    def unreadable():
        time.sleep(0.02)  # a later change time
        photo.chmod(0)
        if rewritten:
            _rewritten_in_place(photo, tmp_path)

    def kept():
        assert (out / "a_mask.png").exists()
        assert json.loads((out / STATE_FILE).read_text())["a.png"]["ok"]

    def readable():
        photo.chmod(0o644)
        other.chmod(0o644)

    steps, clock = iter([unreadable, kept, readable]), _Clock()

    class Looks(threading.Event):
        def wait(self, timeout=None):
            clock.now += RETRY_MAX
            try:
                next(steps)()
            except StopIteration:
                self.set()

    watcher = FolderWatcher(drop, out, process, settle=1, warn=warnings.append, clock=clock)
    watcher.run(Looks(), 0.0, records.append)
    assert [(Path(r["path"]).name, r["ok"]) for r in records] == [
        ("a.png", True),
        ("b.png", False),
        *[("a.png", True)] * rewritten,
        ("b.png", True),
    ]
    assert "cannot be read (Permission denied)" in records[1]["error"]
    assert len(calls) == 2 + rewritten and (out / "a_mask.png").exists()
    assert len(warnings) == 1  # at the first look that could not read it, not at the next
    assert warnings[0].startswith(f"{photo}: cannot be read (Permission denied) to compare it ")
    assert json.loads((out / STATE_FILE).read_text())["a.png"]["ok"]


class _FailingPartWay:
    """A file whose reading fails part way, as a network share's may (EIO)."""

    def __init__(self, f):
        self.f = f

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()

    def read(self, size=-1):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    def fileno(self):
        return self.f.fileno()


def test_a_photograph_done_whose_reading_fails_part_way_keeps_its_outputs(tmp_path, monkeypatch):
    """Its status changed (a chmod), and its content opened but not read to the end (an I/O
    error of a network share): as one that cannot be opened, it is kept as done, outputs and
    all, and left unprocessed with the error, not taken as changed and done again."""
    drop, out, photo = _settled_photo(tmp_path)
    calls = []
    watcher = FolderWatcher(drop, out, _fake_process(calls), settle=1)
    photo.write_bytes(_png_bytes(tmp_path))
    _old(photo)
    assert [r["ok"] for r in watcher.poll()] == [True]
    time.sleep(0.02)  # a later change time
    photo.chmod(0o600)
    real = watcher_module.open_regular
    monkeypatch.setattr(watcher_module, "open_regular", lambda *a: _FailingPartWay(real(*a)))
    assert list(watcher.poll()) == []
    assert [(u.path, u.reason.split(" to compare")[0]) for u in watcher.unprocessed] == [
        (photo, "cannot be read (Input/output error)")
    ]
    assert calls == ["a.png"] and (out / "a_mask.png").exists()


def test_a_photograph_made_unreadable_as_it_is_segmented_is_done(tmp_path, monkeypatch):
    """Segmented, then unreadable before the digest of its content was read (a sync tool's
    lock, chmod 000): its record is made, as done, and the watcher goes on; no
    UnreadableError out of the look."""
    _refused_without_read_permission(monkeypatch)
    drop, out, photo = _settled_photo(tmp_path)
    made = _fake_process([])

    def process(path, outputs):
        record = made(path, outputs)
        path.chmod(0)
        return record

    photo.write_bytes(_png_bytes(tmp_path))
    _old(photo)
    watcher = FolderWatcher(drop, out, process, settle=1)
    assert [r["ok"] for r in watcher.poll()] == [True]
    assert json.loads((out / STATE_FILE).read_text())["a.png"]["ok"]
    assert (out / "a_mask.png").exists()


def test_a_restart_with_other_settings_counts_a_photograph_done_that_cannot_be_read(
    tmp_path, monkeypatch
):
    """After a model update, a photograph done whose status changed and that cannot be read
    now is counted among those done otherwise (it is kept as done), not an UnreadableError out
    of the first look."""
    _refused_without_read_permission(monkeypatch)
    drop, out, photo = _settled_photo(tmp_path)
    watcher = FolderWatcher(drop, out, _fake_process([]), settle=1, settings="1.0")
    photo.write_bytes(_png_bytes(tmp_path))
    _old(photo)
    assert [r["ok"] for r in watcher.poll()] == [True]
    watcher.close()
    time.sleep(0.02)  # a later change time
    photo.chmod(0)
    warnings = []
    watcher = FolderWatcher(drop, out, _fake_process([]), 1, warnings.append, settings="2.0")
    assert list(watcher.poll()) == []
    assert len(warnings) == 1 and ": 1 photograph in the folder done with another" in warnings[0]
    assert [u.reason.split(" to compare")[0] for u in watcher.unprocessed] == [
        "cannot be read (Permission denied)"
    ]
    watcher.close()


def _refused_while(monkeypatch, path, refusing, clock=time.monotonic):
    """os.open refuses ``path`` while ``refusing(n)``, ``n`` the opens refused so far, as a
    sync tool's lock or a share's transient error does (chmod 000 does not stop root, who may
    run the tests); the times of ``clock`` of the opens refused."""
    real_open = os.open
    refused = []

    def opening(file, flags, *args, **kwargs):
        if os.fspath(file) == os.fspath(path) and refusing(len(refused)):
            refused.append(clock())
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(file))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", opening)
    return refused


def _reading_process(calls, clock):
    """:func:`_fake_process`, after opening the photograph as the decoder does (open_regular);
    ``calls`` gets the time of ``clock`` of each try."""
    made = _fake_process([])

    def process(path, outputs):
        calls.append(clock())
        with open_regular(path, "a photograph"):
            pass
        return made(path, outputs)

    return process


def _timed_looks(watcher, clock, seconds):
    """The records of each look of ``watcher`` running as the daemon does, a look a second of
    ``clock``, for ``seconds``."""
    looks = [[]]

    class Looks(threading.Event):
        def wait(self, timeout=None):
            clock.now += 1
            if len(looks) == seconds:
                self.set()
            else:
                looks.append([])

    watcher.run(Looks(), 1.0, lambda record: looks[-1].append(record))
    return looks


def test_a_photograph_refused_when_first_taken_is_tried_again_until_it_is_done(
    tmp_path, monkeypatch
):
    """A photograph refused at its first opens (a lock a sync tool held, then let go: its
    size and times unchanged) was recorded failed and never tried again: lost. Now it is said
    once, tried again after pauses that double, and done; the looks between do not read it,
    and it is processed once, when it can be read."""
    drop, out, photo = _settled_photo(tmp_path)
    photo.write_bytes(_png_bytes(tmp_path))
    _old(photo)
    tries, warnings, clock = [], [], _Clock()
    refused = _refused_while(monkeypatch, photo, lambda n: n < 3, clock)
    watcher = FolderWatcher(drop, out, _reading_process(tries, clock), 1, warnings.append, clock)
    looks = _timed_looks(watcher, clock, 20)
    assert [t - refused[0] for t in refused + tries] == [0, 2, 6, 14]
    said = {n: [(r["ok"], r.get("retry_in_s")) for r in look] for n, look in enumerate(looks)}
    assert {n: records for n, records in said.items() if records} == {
        0: [(False, RETRY_FIRST)],  # said once when refused
        7 * RETRY_FIRST: [(True, None)],  # and when done at last
    }
    assert looks[0][0]["error"] == f"{photo}: cannot be read (Permission denied)"
    assert warnings == [] and (out / "a_mask.png").exists()
    assert json.loads((out / STATE_FILE).read_text())["a.png"]["ok"]


def test_a_photograph_that_stays_unreadable_is_tried_at_most_once_a_pause(tmp_path, monkeypatch):
    """One that can never be read (a lock never let go) does not spin: tried at pauses that
    double up to RETRY_MAX, said once in an hour of looks, the looks between not reading it.
    Each try wrote the state twice (taken, then as it was: two synced writes of all of it, 250
    KB with 1,000 photographs, 1,800 an hour with 100 refused, a wearing SD card); refused
    before it is taken, it writes none."""
    drop, out, photo = _settled_photo(tmp_path)
    tries, warnings, clock = [], [], _Clock()
    refused = _refused_while(monkeypatch, photo, lambda n: True, clock)
    watcher = FolderWatcher(drop, out, _reading_process(tries, clock), 1, warnings.append, clock)
    looks = _timed_looks(watcher, clock, 3600)
    pauses = np.diff(refused).tolist()
    doubling = [RETRY_FIRST * 2**n for n in range(int(np.log2(RETRY_MAX / RETRY_FIRST)) + 1)]
    assert pauses[: len(doubling)] == doubling and set(pauses[len(doubling) :]) == {RETRY_MAX}
    records = [record for look in looks for record in look]
    assert len(records) == 1 and not records[0]["ok"] and warnings == [] and tries == []
    assert not (out / STATE_FILE).exists()


def test_an_unreadable_photographs_error_is_said_again_when_it_changes(tmp_path, monkeypatch):
    """Said once, not at every try, while its error stays the same: refused (EACCES), then
    failing another way (EIO), each is said once, and then it is done."""
    drop, out, photo = _settled_photo(tmp_path)
    photo.write_bytes(_png_bytes(tmp_path))
    _old(photo)
    real_open, refused = os.open, []

    def opening(file, flags, *args, **kwargs):
        if os.fspath(file) == os.fspath(photo) and len(refused) < 4:
            refused.append(errno.EACCES if len(refused) < 2 else errno.EIO)
            raise OSError(refused[-1], os.strerror(refused[-1]), os.fspath(file))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", opening)
    clock = _Clock()
    watcher = FolderWatcher(drop, out, _fake_process([]), 1, clock=clock)
    records = [record for look in _timed_looks(watcher, clock, 40) for record in look]
    assert [(r["ok"], r.get("error", "").removeprefix(f"{photo}: ")) for r in records] == [
        (False, "cannot be read (Permission denied)"),
        (False, "cannot be read (Input/output error)"),
        (True, ""),
    ]


def test_a_failed_photograph_that_changed_and_cannot_be_read_is_tried_again(tmp_path, monkeypatch):
    """Recorded failed (not a photograph), then rewritten and refused (a lock): it has no
    outputs to keep, and is not said to be "kept as done": it fails, and is tried again after a
    pause, as any photograph that cannot be read."""
    drop, out, photo = _settled_photo(tmp_path)

    def process(path, outputs):
        raise InputError(f"{path}: not an image file Pillow can read")

    clock = _Clock()
    watcher = FolderWatcher(drop, out, process, 1, clock=clock)
    assert [r["ok"] for r in watcher.poll()] == [False]
    photo.write_bytes(b"B" * 200)
    _old(photo)
    _refused_while(monkeypatch, photo, lambda n: True)
    records = list(watcher.poll())
    assert [(r["error"], r["retry_in_s"]) for r in records] == [
        (f"{photo}: cannot be read (Permission denied)", RETRY_FIRST)
    ]
    assert watcher.unprocessed == []
    assert json.loads((out / STATE_FILE).read_text())["a.png"]["size"] == 100  # as it was


def test_a_new_photograph_of_the_name_of_one_paused_and_gone_is_taken_at_once(
    tmp_path, monkeypatch
):
    """One refused (paused) and then removed from the folder is forgotten, its pause too: a
    new photograph of its name is taken at the next look, not after the old one's pause."""
    drop, out, photo = _settled_photo(tmp_path)
    refusing = [True]
    _refused_while(monkeypatch, photo, lambda n: refusing[0])
    calls, clock = [], _Clock()
    watcher = FolderWatcher(drop, out, _fake_process(calls), 1, clock=clock)
    assert [r["retry_in_s"] for r in watcher.poll()] == [RETRY_FIRST]
    photo.unlink()
    assert list(watcher.poll()) == []
    refusing[0] = False
    _dropped(drop, tmp_path, "a.png")
    assert [r["ok"] for r in watcher.poll()] == [True] and calls == ["a.png"]


def test_a_paused_unreadable_photograph_rewritten_is_taken_at_the_next_look(tmp_path, monkeypatch):
    """Refused, and paused; the camera then rewrites it (another size and time): it is taken
    at the next look once settled, not after the pause (up to RETRY_MAX). Unchanged, it waits
    out its pause; a failure not the file's (a full disk) does, changed or not."""
    drop, out, photo = _settled_photo(tmp_path)
    refusing, disk_full = [True], [False]
    _refused_while(monkeypatch, photo, lambda n: refusing[0])
    calls, clock = [], _Clock()
    process = _failing_while(disk_full, _fake_process(calls))
    watcher = FolderWatcher(drop, out, process, 1, clock=clock)
    assert [r["retry_in_s"] for r in watcher.poll()] == [RETRY_FIRST]
    refusing[0] = False
    assert list(watcher.poll()) == []  # unchanged: its pause holds
    _dropped(drop, tmp_path, "b.png")
    (drop / "b.png").rename(photo)
    disk_full[0] = True
    assert [r["retry_in_s"] for r in watcher.poll()] == [2 * RETRY_FIRST]
    _dropped(drop, tmp_path, "b.png", seed=2)
    (drop / "b.png").rename(photo)
    assert list(watcher.poll()) == []  # a full disk's pause holds, changed or not
    disk_full[0] = False
    clock.now += 2 * RETRY_FIRST
    assert [r["ok"] for r in watcher.poll()] == [True] and calls == ["a.png"]


def test_watch_once_fails_a_photograph_refused_and_a_later_run_does_it(tmp_path, monkeypatch):
    """--once fails a photograph it cannot read (exit 1, as before); the next run, the lock let
    go, does it (it was left failed until it changed)."""
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png")
    _refused_while(monkeypatch, drop / "a.png", lambda n: n < 1)
    args = ["watch", str(drop), "-o", str(out), "--once"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 1 and first.stderr.splitlines() == [
        f"error: {drop / 'a.png'}: cannot be read (Permission denied)",
        "Error: 1 photograph failed, 0 left unprocessed",
    ]
    again = CliRunner().invoke(cli, args)
    assert (again.exit_code, again.stderr) == (0, "")
    assert again.stdout.startswith(f"{drop / 'a.png'} -> {out / 'a_mask.png'}")


def test_a_photograph_done_without_its_digest_and_unreadable_keeps_its_outputs(
    tmp_path, monkeypatch
):
    """Made unreadable while it was segmented (done, no digest of its content kept), its
    change time then differs: it was taken as changed, its outputs removed, and recorded
    failed when it could not be read. Now it is kept as done, outputs and all, said once, and
    done again once it can be read."""
    drop, out, photo = _settled_photo(tmp_path)
    photo.write_bytes(_png_bytes(tmp_path))
    _old(photo)
    calls, warnings, clock, locked = [], [], _Clock(), []
    _refused_while(monkeypatch, photo, lambda n: locked)
    made = _reading_process(calls, clock)

    def process(path, outputs):
        record = made(path, outputs)
        time.sleep(0.02)  # a later change time
        path.chmod(0o600)  # its status changed,
        locked.append(True)  # and it cannot be read before the digest of its content is
        return record

    watcher = FolderWatcher(drop, out, process, 1, warnings.append, clock)
    records = [record for look in _timed_looks(watcher, clock, 10) for record in look]
    assert [r["ok"] for r in records] == [True] and len(calls) == 1
    assert json.loads((out / STATE_FILE).read_text())["a.png"]["digest"] is None
    assert (out / "a_mask.png").exists() and len(warnings) == 1
    assert warnings[0].startswith(f"{photo}: cannot be read (Permission denied) to do it again")
    locked.clear()
    records += watcher.poll()
    assert [r["ok"] for r in records] == [True, True] and len(calls) == 2
    assert (out / "a_mask.png").exists()


@pytest.mark.parametrize("refused_at", ["open", "decode"])
def test_a_photograph_done_that_becomes_unreadable_as_it_is_taken_keeps_its_outputs(
    tmp_path, monkeypatch, refused_at
):
    """Changed, readable when read to be done again, then refused when opened or decoded (a
    lock taken meanwhile: the decoder's I/O error): its outputs were removed and it was
    restored as done without them. Now it is left as one that cannot be read to be done
    again: kept as done, outputs and all, said once, and done again once it can be read."""
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png")
    calls, warnings, refusing = [], [], [False]
    made = _fake_process(calls)

    def process(path, outputs):
        if refusing[0]:
            raise UnreadableError(f"{path}: cannot be read (Input/output error)")
        return made(path, outputs)

    watcher = FolderWatcher(drop, out, process, 1, warnings.append, _Clock())
    assert [r["ok"] for r in watcher.poll()] == [True]
    done = json.loads((out / STATE_FILE).read_text())
    _dropped(drop, tmp_path, "a.png", seed=2)
    os.utime(drop / "a.png", ns=(0, os.stat(drop / "a.png").st_mtime_ns - 10**9))
    real_digest, real_open = watcher_module._digest, watcher_module.open_regular

    def digest(path, info):  # _readable reads it, and then it is refused
        read = real_digest(path, info)
        refusing[0] = True
        return read

    def opening(path, *args):
        if refusing[0] and refused_at == "open" and args == ("a photograph",):
            raise UnreadableError(f"{path}: cannot be read (Input/output error)")
        return real_open(path, *args)

    monkeypatch.setattr(watcher_module, "_digest", digest)
    monkeypatch.setattr(watcher_module, "open_regular", opening)
    for _ in range(2):
        refusing[0] = False
        watcher.run(_StopAfterOneLook(), 0.0, lambda record: pytest.fail(str(record)))
        assert (out / "a_mask.png").read_bytes() == b"mask"
        assert json.loads((out / STATE_FILE).read_text()) == done
    assert len(warnings) == 1 and warnings[0].startswith(
        f"{drop / 'a.png'}: cannot be read (Input/output error) to do it again: kept as done"
    )
    monkeypatch.setattr(watcher_module, "_digest", real_digest)
    monkeypatch.setattr(watcher_module, "open_regular", real_open)
    refusing[0] = False
    assert [r["ok"] for r in watcher.poll()] == [True] and calls == ["a.png", "a.png"]
    assert json.loads((out / STATE_FILE).read_text())["a.png"]["digest"] != done["a.png"]["digest"]


def _done_with_an_overlay_then_changed(tmp_path):
    """(drop, out, made): a.png done with a mask and an overlay, then rewritten (another
    content); ``made`` makes a mask alone."""
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png")
    made = _fake_process([])

    def with_overlay(path, outputs):
        outputs.overlay.write_bytes(b"overlay")
        return made(path, outputs)

    assert [r["ok"] for r in FolderWatcher(drop, out, with_overlay, settle=1).poll()] == [True]
    _dropped(drop, tmp_path, "a.png", seed=2)
    return drop, out, made


def test_a_photograph_done_again_keeps_no_output_of_its_earlier_maps_not_written_again(tmp_path):
    """Its outputs are written over once it is decoded, not removed before: an output its
    earlier maps had and the new ones lack (an overlay, before a restart without --overlay) is
    removed once it is done again, not left as the new photograph's."""
    drop, out, made = _done_with_an_overlay_then_changed(tmp_path)
    os.utime(drop / "a.png", ns=(0, os.stat(drop / "a.png").st_mtime_ns - 10**9))
    assert [r["ok"] for r in FolderWatcher(drop, out, made, settle=1).poll()] == [True]
    assert sorted(p.name for p in out.glob("*.png")) == ["a_mask.png"]


@pytest.mark.parametrize("failure", ["undecodable", "full-disk", "refused-after-its-mask"])
def test_a_photograph_done_again_that_fails_keeps_none_of_its_earlier_outputs(tmp_path, failure):
    """A photograph done, changed and done again keeps its earlier outputs only until it is
    decoded; failing then (its new content undecodable, the disk full once its mask is
    written, refused once its mask is written: no longer the decode's refusal) leaves none of
    them beside it, its earlier overlay too: they describe another photograph, or are a part
    of the new one's. Refused after its mask, it is paused as any photograph that cannot be
    read, not kept as done."""
    drop, out, _ = _done_with_an_overlay_then_changed(tmp_path)

    def failing(path, outputs):
        if failure == "undecodable":
            raise InputError(f"{path}: cannot decode image (broken data stream)")
        outputs.mask.write_bytes(b"new mask")
        if failure == "full-disk":
            raise OutputError(f"{outputs.overlay}: cannot write (No space left on device)")
        raise UnreadableError(f"{path}: cannot be read (Input/output error)")

    records = list(FolderWatcher(drop, out, failing, settle=1).poll())
    assert [(r["ok"], "retry_in_s" in r) for r in records] == [(False, failure != "undecodable")]
    assert list(out.glob("*.png")) == []


class _StopAfterOneLook(threading.Event):
    def wait(self, timeout=None):
        self.set()


def test_a_photograph_given_another_modification_time_is_done_again_once(tmp_path, monkeypatch):
    """Its content the same, its time set back (touch -d): done again, as any change of size or
    time is; the state then keeps the new time, so the next look neither reads nor redoes it."""
    drop, out = _folders(tmp_path)
    photo = drop / "a.png"
    photo.write_bytes(_png_bytes(tmp_path))
    _old(photo)
    calls = []
    watcher = FolderWatcher(drop, out, _fake_process(calls), settle=1)
    assert len(list(watcher.poll())) == 1
    _old(photo, seconds=20)
    assert len(list(watcher.poll())) == 1
    monkeypatch.setattr(watcher_module, "_digest", None)  # not read again
    assert list(watcher.poll()) == []
    assert calls == ["a.png", "a.png"]


def test_photographs_named_in_capitals_are_watched(tmp_path):
    """IMG_0001.JPG, as cameras name them: a name's ending is matched in any case."""
    drop, out = _folders(tmp_path)
    for name in ("IMG_0001.PNG", "b.Png"):
        (drop / name).write_bytes(_png_bytes(tmp_path))
        _old(drop / name)
    calls = []
    assert len(list(FolderWatcher(drop, out, _fake_process(calls), settle=1).poll())) == 2
    assert calls == ["IMG_0001.PNG", "b.Png"]


def test_a_state_without_digests_does_its_photographs_again_on_a_change_of_status(tmp_path):
    """A state file of an earlier version keeps no digest: it loads, and a photograph whose
    status changed is done again, as that version did."""
    drop, out = _folders(tmp_path)
    photo = drop / "a.png"
    photo.write_bytes(_png_bytes(tmp_path))
    _old(photo)
    calls = []
    process = _fake_process(calls)
    assert len(list(FolderWatcher(drop, out, process, settle=1).poll())) == 1
    state = json.loads((out / STATE_FILE).read_text())
    state["a.png"].pop("digest", None)
    (out / STATE_FILE).write_text(json.dumps(state))
    assert list(FolderWatcher(drop, out, process, settle=1).poll()) == []
    time.sleep(0.02)
    photo.chmod(0o600)
    assert len(list(FolderWatcher(drop, out, process, settle=1).poll())) == 1
    assert calls == ["a.png", "a.png"]


def test_the_digest_is_of_the_content_segmented_not_of_a_rewrite_while_it_was(tmp_path):
    """A photograph rewritten while it is segmented, into another of the same size and time,
    keeps no digest of the new content: the outputs are of the old one, and it is done again."""
    drop, out, _ = _settled_photo(tmp_path)
    calls = []

    def process(path, outputs):
        calls.append(path.read_bytes()[:1])
        if len(calls) == 1:
            _rewritten_in_place(path, tmp_path)
        return {"path": str(path), "ok": True}

    watcher = FolderWatcher(drop, out, process, settle=1)
    assert len(list(watcher.poll())) == 1
    assert len(list(watcher.poll())) == 1
    assert list(watcher.poll()) == []
    assert calls == [b"A", b"A"]  # the first byte unchanged: the rewrite was near the end


def test_a_file_system_without_locks_or_flushes_still_watches(tmp_path, monkeypatch):
    """NFS without its lock daemon (ENOLCK) or a file system that flushes no folder (EINVAL):
    the watcher was refused as a second watcher, or failed every photograph; it now warns of
    the missing lock once and goes on."""
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png")

    def no_locks(descriptor, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    real_fsync = os.fsync

    def no_folder_flush(descriptor):
        if os.path.isdir(f"/proc/self/fd/{descriptor}"):
            raise OSError(errno.EINVAL, "Invalid argument")
        real_fsync(descriptor)

    monkeypatch.setattr(watcher_module.fcntl, "flock", no_locks)
    monkeypatch.setattr(os, "fsync", no_folder_flush)
    warned = []
    watcher = FolderWatcher(drop, out, _copying_process([]), settle=1, warn=warned.append)
    assert [r["ok"] for r in watcher.poll()] == [True]
    assert warned == [
        f"{out / LOCK_FILE}: cannot be locked here (No locks available), so a second watcher "
        "writing in this folder would not be refused"
    ]
    assert json.loads((out / STATE_FILE).read_text())["a.png"]["ok"]


def test_outputs_that_cannot_be_flushed_are_not_kept_to_pile_up(tmp_path, monkeypatch):
    """A failing card (EIO on flushing): the photograph fails and is tried again, and what it
    wrote is removed, where each try left another set (a_mask, a-2_mask, a-3_mask, ...)."""
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png")
    failing = [True]
    real_fsync = os.fsync

    def flaky(descriptor):
        if failing[0]:
            raise OSError(errno.EIO, "Input/output error")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", flaky)
    clock = [0.0]
    warned = []  # the state cannot be saved either, said once
    watcher = FolderWatcher(
        drop, out, _copying_process([]), settle=1, warn=warned.append, clock=lambda: clock[0]
    )
    for _ in range(3):
        (record,) = watcher.poll()
        assert not record["ok"] and "retry_in_s" in record
        clock[0] += 1000
    assert not list(out.glob("*_mask.png"))
    failing[0] = False
    assert [r["ok"] for r in watcher.poll()] == [True]
    assert sorted(p.name for p in out.glob("*_mask.png")) == ["a_mask.png"]


def test_saving_the_state_encodes_only_what_changed(tmp_path, monkeypatch):
    """The state is saved twice a photograph: it was encoded whole each time, 60 ms a
    photograph with 2,000 photographs in the folder (a camera that never clears it). Only the
    photograph's own entry is encoded now, and the file still reads back whole."""
    drop, out = _folders(tmp_path)
    for i in range(30):
        _dropped(drop, tmp_path, f"p{i:02d}.png", seed=i % 3)
    watcher = FolderWatcher(drop, out, _copying_process([]), settle=1)
    assert len(list(watcher.poll())) == 30
    encoded = []
    real_encode = watcher_module.encode
    monkeypatch.setattr(watcher_module, "encode", lambda v: encoded.append(v) or real_encode(v))
    _dropped(drop, tmp_path, "q.png")
    assert [r["ok"] for r in watcher.poll()] == [True]
    assert len(encoded) == 2  # pending, then done
    state = json.loads((out / STATE_FILE).read_text())
    assert len(state) == 31 and state["q.png"]["ok"] and not state["q.png"]["pending"]
    assert FolderWatcher(drop, out, _copying_process([]), settle=1).state == watcher.state


def test_the_memory_kept_for_photographs_is_given_back_when_the_folder_goes_quiet(
    tmp_path, monkeypatch
):
    """A watcher idle after photographs of many sizes held about 170 MB it did not use (the
    heap's freed memory, kept for the next photograph): a look that finds nothing after one
    that took photographs gives it back, once; while photographs keep coming, it is kept."""
    drop, out = _folders(tmp_path)
    given_back = []
    monkeypatch.setattr(watcher_module, "give_back_kept_memory", lambda: given_back.append(1))
    looks = iter([["a.png"], ["b.png"], [], [], ["c.png"], []])

    class Timed(threading.Event):
        def wait(self, timeout=None):  # the next look's photographs, or the end
            try:
                for name in next(looks):
                    _dropped(drop, tmp_path, name)
            except StopIteration:
                self.set()

    _dropped(drop, tmp_path, "first.png")
    done = []
    watcher = FolderWatcher(drop, out, _copying_process([]), settle=1)
    watcher.run(Timed(), 0.0, done.append)
    assert len(done) == 4  # first, a, b, c
    assert len(given_back) == 2  # after b (quiet), and after c


@pytest.mark.parametrize(
    ("signals", "said"),
    [
        ((), "no signal"),
        ((signal.SIGTERM,), "SIGTERM"),
        ((signal.SIGINT, signal.SIGTERM), "SIGINT or SIGTERM"),
        (ENDING_SIGNALS, "SIGINT, SIGTERM or SIGHUP"),
    ],
    ids=["none", "one", "two", "three"],
)
def test_which_signals_stop_the_watcher_are_said_in_words(signals, said):
    """One signal is named alone (no dangling "or"), and none at all (every one ignored when it
    started) is said so rather than failing the start."""
    from edge_runtime.cli.watch import _either

    assert _either(tuple(signals)) == said


def test_a_link_to_a_folder_is_warned_of_as_a_folder(tmp_path):
    """A link to a folder (a card's DCIM, say) is not looked into either: said so."""
    drop, out = _folders(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (drop / "DCIM").symlink_to(tmp_path / "elsewhere")
    said = []
    watcher = FolderWatcher(drop, out, _copying_process([]), settle=1, warn=said.append)
    list(watcher.poll())
    assert said == [
        f"{drop / 'DCIM'}: a folder: the photographs in it are not looked at, only those in "
        "the watched folder itself"
    ]


def test_a_photograph_in_its_pause_after_a_failure_is_not_read_until_the_pause_ends(
    tmp_path, monkeypatch
):
    """Its content changed at the same size and time, then a full disk: each look in the pause
    read the whole photograph again to take its digest, only to skip it."""
    drop, out, photo = _settled_photo(tmp_path)
    disk_full, calls, clock = [False], [], _Clock()

    def segmented(path, outputs):
        calls.append(path.read_bytes()[-20])
        return {"path": str(path), "ok": True}

    watcher = FolderWatcher(drop, out, _failing_while(disk_full, segmented), settle=1, clock=clock)
    assert [r["ok"] for r in watcher.poll()] == [True]
    time.sleep(0.02)  # a later change time
    _rewritten_in_place(photo, tmp_path)
    disk_full[0] = True
    assert [r["retry_in_s"] for r in watcher.poll()] == [RETRY_FIRST]
    digest = watcher_module._digest
    monkeypatch.setattr(watcher_module, "_digest", None)  # not read in the pause
    clock.now += RETRY_FIRST / 2
    assert list(watcher.poll()) == []
    monkeypatch.setattr(watcher_module, "_digest", digest)
    disk_full[0] = False
    clock.now += RETRY_FIRST / 2
    assert [r["ok"] for r in watcher.poll()] == [True]
    assert calls == [ord("A"), ord("A") ^ 1]


OTHER_SETTINGS = "done with another model or other settings"


def test_a_restart_with_other_settings_keeps_what_was_done_and_says_so_once(tmp_path):
    """Restarted with another threshold and --av, the photographs done are not done again, and
    one warning says how many were done otherwise and what to do; the same settings say
    nothing."""
    drop, out = _folders(tmp_path)
    for seed in (1, 2):
        Image.fromarray(synthetic_fundus(160, 180, seed=seed)).save(drop / f"p{seed}.png")
        _old(drop / f"p{seed}.png")
    args = ["watch", str(drop), "-o", str(out), "--once", "--settle", "0"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    masks = {p.name: p.read_bytes() for p in out.glob("*_mask.png")}
    assert CliRunner().invoke(cli, args).stderr == ""  # the same settings
    other_settings = (
        ["--threshold", "0.3", "--av"],
        ["--json", "--overlay"],
        ["--no-verdict"],  # the maps carry no verdict
        ["--json", "--measure"],  # the records would carry measurements
    )
    for more in other_settings:
        again = CliRunner().invoke(cli, [*args, *more])
        assert again.exit_code == 0 and again.stdout == ""  # nothing done again
        (line,) = again.stderr.splitlines()
        assert line.startswith(
            f"warning: {out / STATE_FILE}: 2 photographs in the folder {OTHER_SETTINGS}"
        )
        assert "remove this file" in line
    assert {p.name: p.read_bytes() for p in out.glob("*.png")} == masks


def _warned_of_other_settings(drop, out, process, settings: str | None) -> list[str]:
    """The warnings of photographs done with other settings, from one look at ``drop`` by a
    watcher of ``settings``."""
    said = []
    watcher = FolderWatcher(drop, out, process, settle=0, warn=said.append, settings=settings)
    list(watcher.poll())
    watcher.close()
    return [line for line in said if OTHER_SETTINGS in line]


def test_a_photograph_done_again_gets_these_settings_and_old_entries_count_as_others(tmp_path):
    """An entry of an older state (no settings kept) counts as done otherwise; a photograph
    that changed is done again with the new settings, and is not counted as not done again
    (it was, said before it was done)."""
    drop, out = _folders(tmp_path)
    for name in ("a.png", "b.png"):
        (drop / name).write_bytes(_png_bytes(tmp_path))
        _old(drop / name)
    process = _copying_process([])

    def warnings_of(settings: str) -> list[str]:
        return _warned_of_other_settings(drop, out, process, settings)

    assert warnings_of("old") == []
    state = json.loads((out / STATE_FILE).read_text())
    assert [entry["settings"] for entry in state.values()] == ["old", "old"]
    del state["a.png"]["settings"]  # as an older version kept it
    (out / STATE_FILE).write_text(json.dumps(state))
    (said,) = warnings_of("old")
    assert said.startswith(f"{out / STATE_FILE}: 1 photograph in the folder {OTHER_SETTINGS}")
    (drop / "b.png").write_bytes(_png_bytes(tmp_path, seed=3))  # changed: done with "new"
    _old(drop / "b.png")
    (drop / "a.png").chmod(0o600)  # its status alone: not done again
    (said,) = warnings_of("new")  # said before b.png is done again: a.png alone
    assert said.startswith(f"{out / STATE_FILE}: 1 photograph in the folder {OTHER_SETTINGS}")
    state = json.loads((out / STATE_FILE).read_text())
    assert (state["a.png"].get("settings"), state["b.png"]["settings"]) == (None, "new")
    (said,) = warnings_of("newer")
    assert said.startswith(
        f"{out / STATE_FILE}: 2 photographs in the folder {OTHER_SETTINGS}"
    )  # a.png, and b.png done with "new"


def test_the_warning_of_other_settings_is_said_once_a_change_of_settings(tmp_path):
    """After an upgrade (the settings digest holds the package's version) the warning came at
    every start, for as long as the photographs stayed in the folder: it is said at the first
    start with the new settings, not at the next with the same, and again at each change."""
    drop, out = _folders(tmp_path)
    for seed in (1, 2):
        _dropped(drop, tmp_path, f"p{seed}.png", seed)
    process = _copying_process([])
    assert _warned_of_other_settings(drop, out, process, "1.0") == []
    for settings, lines in (("1.1", 1), ("1.1", 0), ("1.2", 1), ("1.2", 0), ("1.1", 1)):
        said = _warned_of_other_settings(drop, out, process, settings)
        assert len(said) == lines, (settings, said)
        assert all(f": 2 photographs in the folder {OTHER_SETTINGS}" in line for line in said)
    state = json.loads((out / STATE_FILE).read_text())
    assert {entry["settings"] for entry in state.values()} == {"1.0"}  # what drew the maps


def test_the_warning_of_other_settings_is_said_again_after_a_roll_back(tmp_path):
    """An update, a roll-back and the update again: the photographs done before the first are
    told of at the second (a change of settings), not taken as told already; those done
    during the roll-back too, and a start with the settings that drew them says nothing."""
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "p1.png", 1)
    process = _copying_process([])
    assert _warned_of_other_settings(drop, out, process, "1.0") == []
    for settings, lines in (("2.0", 1), ("1.0", 0), ("2.0", 1), ("2.0", 0)):  # p1 (1.0)
        said = _warned_of_other_settings(drop, out, process, settings)
        assert len(said) == lines, (settings, said)
    _dropped(drop, tmp_path, "p2.png", 2)  # done with 2.0
    assert _warned_of_other_settings(drop, out, process, "2.0") == []
    for settings in ("1.0", "2.0", "1.0"):  # p2, p1, p2
        (said,) = _warned_of_other_settings(drop, out, process, settings)
        assert f": 1 photograph in the folder {OTHER_SETTINGS}" in said, (settings, said)


def test_a_status_change_seen_by_a_start_with_other_settings_is_kept(tmp_path, monkeypatch):
    """A start with other settings compares a photograph done, whose status alone changed (a
    chmod), by its digest: its new change time and inode are kept with the settings it was
    counted under, not dropped, so that it is not read again in that look or the next."""
    drop, out = _folders(tmp_path)
    _dropped(drop, tmp_path, "a.png")
    process = _copying_process([])
    assert _warned_of_other_settings(drop, out, process, "old") == []
    time.sleep(0.02)  # a later change time
    (drop / "a.png").chmod(0o600)
    after = os.stat(drop / "a.png")
    reads = []
    real_digest = watcher_module._digest
    monkeypatch.setattr(watcher_module, "_digest", lambda *a: reads.append(a) or real_digest(*a))
    said = []
    watcher = FolderWatcher(drop, out, process, settle=0, warn=said.append, settings="new")
    assert list(watcher.poll()) == [] and len(said) == 1
    assert len(reads) == 1  # read once, to compare it: not again in the same look
    kept = watcher.state["a.png"]
    assert (kept.ctime_ns, kept.inode, kept.warned) == (after.st_ctime_ns, after.st_ino, "new")
    assert list(watcher.poll()) == [] and len(reads) == 1  # nor at the next
    watcher.close()


def test_photographs_gone_from_the_folder_are_not_counted_as_done_otherwise(tmp_path):
    """Three done, two removed while the watcher was stopped: a restart with other settings
    counted 3 not done again, where the one left is all that is not redone (the others are
    forgotten at the first look); all three gone, nothing is said."""
    drop, out = _folders(tmp_path)
    for seed in range(3):
        (drop / f"p{seed}.png").write_bytes(_png_bytes(tmp_path, seed=seed))
        _old(drop / f"p{seed}.png")
    process = _copying_process([])
    assert _warned_of_other_settings(drop, out, process, "old") == []
    for seed in (1, 2):
        (drop / f"p{seed}.png").unlink()
    (said,) = _warned_of_other_settings(drop, out, process, "new")
    assert said.startswith(f"{out / STATE_FILE}: 1 photograph in the folder {OTHER_SETTINGS}")
    (drop / "p0.png").unlink()
    assert _warned_of_other_settings(drop, out, process, "newest") == []


def test_the_warning_of_other_settings_waits_for_a_look_that_lists_the_folder(tmp_path):
    """A first look that cannot list the folder (a card not mounted yet) compares nothing: the
    warning is said at the first look that lists it, and at no look after."""
    drop, out = _folders(tmp_path)
    for seed in (1, 2):
        _dropped(drop, tmp_path, f"p{seed}.png", seed)
    process = _copying_process([])
    assert _warned_of_other_settings(drop, out, process, "old") == []
    drop.rename(tmp_path / "unmounted")
    said = []
    watcher = FolderWatcher(drop, out, process, settle=0, warn=said.append, settings="new")
    assert list(watcher.poll()) == [] and said == []
    assert [left.reason for left in watcher.unprocessed] == [
        f"cannot list ({os.strerror(errno.ENOENT)})"
    ]
    (tmp_path / "unmounted").rename(drop)
    for _ in range(3):
        assert list(watcher.poll()) == []
    watcher.close()
    (line,) = said
    assert line.startswith(f"{out / STATE_FILE}: 2 photographs in the folder {OTHER_SETTINGS}")


def test_photographs_that_failed_are_not_counted_as_done_otherwise_nor_any_without_settings(
    tmp_path,
):
    """A photograph that failed is tried again when it changes, whatever the settings: it is
    no map drawn otherwise; and a watcher given no settings (``None``) compares none."""
    drop, out = _folders(tmp_path)
    (drop / "bad.png").write_bytes(b"not a picture")
    (drop / "good.png").write_bytes(_png_bytes(tmp_path))
    for name in ("bad.png", "good.png"):
        _old(drop / name)

    def process(path, outputs):
        if path.name == "bad.png":
            raise InputError(f"{path}: not an image file Pillow can read")
        return _copying_process([])(path, outputs)

    def warnings_of(settings: str | None) -> list[str]:
        return _warned_of_other_settings(drop, out, process, settings)

    assert warnings_of("old") == []
    assert not json.loads((out / STATE_FILE).read_text())["bad.png"]["ok"]
    (said,) = warnings_of("new")
    assert said.startswith(f"{out / STATE_FILE}: 1 photograph in the folder {OTHER_SETTINGS}")
    assert warnings_of(None) == []


def test_the_output_folder_in_the_watched_one_and_a_fifo_are_no_files_not_taken(tmp_path):
    """Neither is a camera's file: no warning that it is not taken, once settled either."""
    drop, _ = _folders(tmp_path)
    inside = drop / "masks"
    inside.mkdir()
    os.mkfifo(drop / "camera.fifo")
    for name in ("masks", "camera.fifo"):
        _old(drop / name)
    clock, said = _Clock(), []
    watcher = FolderWatcher(
        drop, inside, _copying_process([]), settle=1, clock=clock, warn=said.append
    )
    for _ in range(2):
        list(watcher.poll())
        clock.now += 2
    assert said == []
