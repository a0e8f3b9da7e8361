"""A model's first run in a throwaway child process: a damaged model that crashes the interpreter
natively (a model without a card, which no SHA-256 covers) is refused with one line, exit
status 2, instead of taking the command down with SIGSEGV or SIGABRT."""

import os
import signal
import struct
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from PIL import Image
from test_fuzz import MODEL_WORKER, mutate

from edge_runtime.errors import ModelError
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.inference import trial
from edge_runtime.inference.bundled import DEFAULT_MODEL
from edge_runtime.inference.model_file import _Table

CARDLESS = DEFAULT_MODEL.read_bytes().replace(b"edge_seg_metadata", b"edge_seg_metadatx")
"""The bundled model with its card's entry renamed: a model without a card, which runs."""


def _activation_shapes(content: bytes) -> list[tuple[int, int]]:
    """(position, rank) of the shape of every 4-D activation (batch 1) of a model's graph."""
    model = _Table(content, struct.unpack_from("<I", content, 0)[0])
    shapes = []
    for tensor in model.tables(2)[0].tables(0):
        start, rank = tensor.vector(0)
        if rank == 4 and struct.unpack_from("<i", content, start)[0] == 1:
            shapes.append((start, rank))
    return shapes


def with_shape(content: bytes, at: int, value: int) -> bytes:
    """``content`` with the int32 at ``at`` (a dimension of a tensor's shape) set to ``value``."""
    damaged = bytearray(content)
    struct.pack_into("<i", damaged, at, value)
    return bytes(damaged)


def crashing_model() -> bytes:
    """A card-less model whose first pooled activation claims 2**31 - 1 rows: the interpreter
    reads past its buffers (SIGSEGV on x86-64 with LiteRT 2.x) when it runs."""
    start, _ = _activation_shapes(CARDLESS)[3]
    return with_shape(CARDLESS, start, 2**31 - 1)


def test_a_damaged_model_without_a_card_is_one_line_not_a_crash(tmp_path):
    model = tmp_path / "damaged.tflite"
    model.write_bytes(crashing_model())
    photo = tmp_path / "photo.png"
    Image.fromarray(synthetic_fundus(120, 130)).save(photo)
    command = ["segment", photo, "--model", model, "-o", tmp_path / "out"]
    done = subprocess.run(
        [sys.executable, "-m", "edge_runtime.cli.main", *command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, f"exit status {done.returncode}: {done.stderr}"
    assert done.stderr.startswith(f"Error: {model}: ") and done.stderr.count("\n") == 1, done.stderr
    assert not (tmp_path / "out" / "photo_mask.png").exists()


def test_mutated_models_without_a_card_load_and_run_or_are_refused(tmp_path):
    """Fixed seed: card-less models with a dimension of an activation's shape damaged, or a
    byte of the graph changed; in a separate process, as a crash must fail this test rather
    than end the test run."""
    rng = np.random.default_rng(20261205)
    shapes = _activation_shapes(CARDLESS)
    paths = []
    for i in range(40):
        start, rank = shapes[int(rng.integers(len(shapes)))]
        at = start + 4 * int(rng.integers(rank))
        value = int(rng.choice([0, -1, 3, 100_000, 2**31 - 1]))
        content = with_shape(CARDLESS, at, value) if i % 2 else mutate(CARDLESS, rng)
        path = tmp_path / f"m{i:02d}.tflite"
        path.write_bytes(content)
        paths.append(str(path))
    done = subprocess.run(
        [sys.executable, "-c", MODEL_WORKER, *paths], capture_output=True, text=True, timeout=600
    )
    last = done.stderr.strip().splitlines()[-1:]
    assert done.returncode == 0, f"crashed or failed at {last}: {done.stderr[-3000:]}"


def _unique() -> bytes:
    """Model bytes no trial has seen (the trial's cache is by content)."""
    return os.urandom(32)


def test_a_trial_killed_by_a_signal_refuses_the_model():
    with pytest.raises(ModelError) as raised:
        trial.run_trial(_unique(), 1, "m.tflite", lambda: os.kill(os.getpid(), signal.SIGABRT))
    message = "m.tflite: crashes the interpreter (killed by signal 6 (SIGABRT); a damaged model?)"
    assert str(raised.value) == message


def test_a_trial_that_does_not_finish_refuses_the_model(monkeypatch):
    monkeypatch.setattr(trial, "TRIAL_TIMEOUT_S", 0.5)
    started = time.monotonic()
    with pytest.raises(ModelError, match=r"^m.tflite: its trial run did not finish in 0.5 s"):
        trial.run_trial(_unique(), 1, "m.tflite", lambda: time.sleep(60))
    assert time.monotonic() - started < 30


def _crash() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def test_a_trial_runs_once_per_model_and_settings():
    content = _unique()
    trial.run_trial(content, 1, "m.tflite", lambda: None)
    trial.run_trial(content, 1, "m.tflite", _crash)  # passed already: not run again
    with pytest.raises(ModelError, match="SIGSEGV"):
        trial.run_trial(content, 2, "m.tflite", _crash)  # other settings: tried


def test_a_python_error_in_a_trial_is_left_to_the_real_build():
    """Not a crash: the caller's own build raises it with its message; nothing is cached."""
    content = _unique()
    trial.run_trial(content, 1, "m.tflite", lambda: 1 / 0)
    with pytest.raises(ModelError, match="SIGABRT"):
        trial.run_trial(content, 1, "m.tflite", lambda: os.kill(os.getpid(), signal.SIGABRT))


def test_a_sigterm_as_the_trial_starts_is_the_callers_alone(monkeypatch, capfd):
    """A SIGTERM that reached the child before it ignored SIGTERM ran the caller's handler in
    the child, which printed a traceback (a supervisor ends a process group so)."""
    from edge_runtime.processes import Terminated, ending_cleanly_on_sigterm

    ignoring = trial._in_child

    def signalled_first(key, run):
        os.kill(os.getpid(), signal.SIGTERM)  # before the child ignores it
        time.sleep(0.1)
        ignoring(key, run)

    monkeypatch.setattr(trial, "_in_child", signalled_first)
    content = _unique()
    with ending_cleanly_on_sigterm():
        try:
            trial.run_trial(content, 1, "m.tflite", lambda: None)
        except Terminated:
            pytest.fail("the child's SIGTERM reached the caller")
    assert "Traceback" not in capfd.readouterr().err
    assert (trial.hashlib.sha256(content).hexdigest(), 1) in trial._passed  # it ran, passed


def test_a_sigterm_while_the_child_starts_ends_the_child_too(monkeypatch):
    """A SIGTERM held while the child started was delivered once the mask was put back, before
    the child was guarded: it outlived its trial (it ignores SIGTERM), and the command waited
    for it at exit."""
    import multiprocessing.process

    from edge_runtime.processes import Terminated, ending_cleanly_on_sigterm

    started = []
    real_start = multiprocessing.process.BaseProcess.start

    def signalled_start(process):
        # to this thread, which holds it until the child has started (sent to the process,
        # another thread, numpy's, say, could take it at once)
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
        real_start(process)
        started.append(process)

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", signalled_start)
    with ending_cleanly_on_sigterm(), pytest.raises(Terminated):
        trial.run_trial(_unique(), 1, "m.tflite", lambda: time.sleep(60))
    (child,) = started
    assert child.exitcode is not None  # killed and joined, not left running
