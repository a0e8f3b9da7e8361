import os
import signal
import tempfile
import threading
import time
from pathlib import Path

import pytest

from edge_runtime.atomic import atomic_path, check_writable, files_together, signals_held
from edge_runtime.errors import OutputError


def test_file_appears_only_when_complete(tmp_path):
    target = tmp_path / "mask.png"
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"data")
        assert tmp.suffix == ".png" and tmp.parent == tmp_path
        assert not target.exists()
    assert target.read_bytes() == b"data"
    assert [p.name for p in tmp_path.iterdir()] == ["mask.png"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_failure_keeps_the_old_file_and_leaves_no_partial(tmp_path, error):
    target = tmp_path / "model.keras"
    target.write_bytes(b"old")
    with pytest.raises(error), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise error
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]


def test_check_writable_names_what_stands_in_the_way(tmp_path):
    check_writable(tmp_path / "m.tflite")  # a folder that exists: fine
    with pytest.raises(OutputError, match=f"^{tmp_path}: is a folder, not a file to write$"):
        check_writable(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match=f"^{blocker}: not a folder, so m.tflite cannot"):
        check_writable(blocker / "m.tflite")
    missing = tmp_path / "missing" / "m.tflite"
    with pytest.raises(OutputError, match=f"^{missing.parent}: no such folder to write m.tflite"):
        check_writable(missing)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):  # root may write in any folder, and this one is no exception
        check_writable(locked / "m.tflite")
    else:
        with pytest.raises(OutputError, match=f"^{locked}: not writable, so m.tflite cannot"):
            check_writable(locked / "m.tflite")


def test_check_writable_refuses_a_folder_the_system_says_it_may_not_write(tmp_path, monkeypatch):
    """Whoever runs the tests: a folder access() refuses, and one it allows but where no file
    can be made (root on /sys or a read-only mount)."""
    with monkeypatch.context() as patched:
        patched.setattr(os, "access", lambda path, mode: False)
        with pytest.raises(OutputError, match=f"^{tmp_path}: not writable, so m.tflite cannot"):
            check_writable(tmp_path / "m.tflite")

    def refused(**_):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "access", lambda path, mode: True)
    monkeypatch.setattr(tempfile, "mkstemp", refused)
    said = f"^{tmp_path}: not writable \\(Permission denied\\), so m.tflite cannot be written"
    with pytest.raises(OutputError, match=said):
        check_writable(tmp_path / "m.tflite")


def test_an_error_names_the_file_asked_for_not_its_temporary(tmp_path, monkeypatch):
    """'Error: out/.edge-seg-8196-1.partial.png: Is a directory' named a hidden file."""
    (tmp_path / "history.png").mkdir()
    with pytest.raises(OSError) as raised, atomic_path(tmp_path / "history.png") as tmp:
        tmp.write_bytes(b"picture")
    assert str(raised.value) == (
        f"[Errno 17] is a folder, not a file to write: '{tmp_path / 'history.png'}'"
    )

    def full(source, target):
        raise OSError(28, "No space left on device", str(source))

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OSError) as raised, atomic_path(tmp_path / "m.png") as tmp:
        tmp.write_bytes(b"picture")
    assert str(raised.value) == f"[Errno 28] No space left on device: '{tmp_path / 'm.png'}'"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.png"]


def test_a_link_a_device_or_a_pipe_is_never_written_over(tmp_path):
    """As root, ``measure --csv /dev/full`` replaced the device with a regular file, exit 0; a
    link was replaced by a file and the file it pointed to left as it was."""
    real = tmp_path / "real.csv"
    real.write_text("kept")
    (tmp_path / "link.csv").symlink_to(real)
    os.mkfifo(tmp_path / "pipe.csv")
    said = {
        "link.csv": "is a symbolic link, not written over: name the file it points to",
        "pipe.csv": "is a device, a pipe or a socket, not a regular file: not written over",
    }
    for name, words in said.items():
        target = tmp_path / name
        with pytest.raises(OutputError, match=f"^{target}: {words}$"):
            check_writable(target)
        with pytest.raises(OSError, match=f"{words}: '{target}'$"), atomic_path(target) as tmp:
            tmp.write_text("new")
    assert real.read_text() == "kept" and (tmp_path / "link.csv").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "pipe.csv", "real.csv"]


@pytest.mark.skipif(not os.path.isdir("/sys"), reason="no /sys on this system (Linux's sysfs)")
def test_a_folder_the_file_system_refuses_is_not_writable_even_to_root():
    """access() told root /sys was writable: the conversion ran, then failed on its temporary."""
    with pytest.raises(OutputError, match=r"^/sys: not writable"):
        check_writable(Path("/sys/m.tflite"))


def test_files_together_replace_an_earlier_set_whole(tmp_path):
    for name in ("model.keras", "metrics.json", "history.png"):
        (tmp_path / name).write_text("old")
    with files_together(tmp_path, ("model.keras", "metrics.json", "history.png")) as files:
        files["model.keras"].write_text("new")
        files["metrics.json"].write_text("new")
        assert (tmp_path / "model.keras").read_text() == "old"  # nothing moves before the end
    assert (tmp_path / "model.keras").read_text() == (tmp_path / "metrics.json").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json", "model.keras"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_files_together_stopped_leave_the_earlier_set_as_it_was(tmp_path, error):
    """A run stopped while writing once left its model alone, or (--overwrite) no run at all."""
    for name in ("model.keras", "metrics.json"):
        (tmp_path / name).write_text("old")
    with pytest.raises(error), files_together(tmp_path, ("model.keras", "metrics.json")) as files:
        files["model.keras"].write_text("new")
        raise error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json", "model.keras"]
    assert {p.read_text() for p in tmp_path.iterdir()} == {"old"}


def test_a_signal_inside_held_signals_is_acted_on_after_the_block():
    # Python's own Ctrl-C handler, whatever this run started with (a background job of a
    # script ignores SIGINT)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    done = []
    try:
        with pytest.raises(KeyboardInterrupt), signals_held():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)  # where the handler would have run
            done.append("renamed")
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)
    assert done == ["renamed"]


def test_held_signals_give_back_an_ignoring_handler_and_stay_ignored():
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with signals_held():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.01)
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN  # and this process lives on
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_files_together_are_renamed_whole_when_a_signal_arrives_between_renames(
    tmp_path, monkeypatch
):
    """Guards against ``with signals_held():`` dropped from files_together: Ctrl-C
    between two renames left the new model beside the old record."""
    for name in ("model.keras", "metrics.json"):
        (tmp_path / name).write_text("old")
    real_replace = os.replace

    def interrupted_replace(source, target):
        real_replace(source, target)
        signal.raise_signal(signal.SIGINT)  # Ctrl-C right after the first rename

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with (
            pytest.raises(KeyboardInterrupt),
            files_together(tmp_path, ("model.keras", "metrics.json")) as files,
        ):
            files["model.keras"].write_text("new")
            files["metrics.json"].write_text("new")
            monkeypatch.setattr(os, "replace", interrupted_replace)
    finally:
        signal.signal(signal.SIGINT, previous)
        monkeypatch.undo()
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {
        "model.keras": "new",
        "metrics.json": "new",
    }


def test_files_together_never_writes_over_a_link(tmp_path):
    """Guards against the refuse_in_the_way loop dropped from files_together."""
    real = tmp_path / "elsewhere.json"
    real.write_text("kept")
    (tmp_path / "metrics.json").symlink_to(real)
    with (
        pytest.raises(OSError, match="is a symbolic link, not written over"),
        files_together(tmp_path, ("model.keras", "metrics.json")) as files,
    ):
        files["model.keras"].write_text("new")
        files["metrics.json"].write_text("new")
    assert (tmp_path / "metrics.json").is_symlink() and real.read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.json", "metrics.json"]


def test_files_together_work_outside_the_main_thread(tmp_path):
    """Guards against the main-thread test dropped from signals_held: signal.signal
    raises ValueError in any other thread."""
    failures = []

    def write():
        try:
            with files_together(tmp_path, ("a.txt",)) as files:
                files["a.txt"].write_text("new")
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    thread.join()
    assert failures == [] and (tmp_path / "a.txt").read_text() == "new"
