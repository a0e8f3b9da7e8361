"""The Edge TPU compiler is run with a time limit: one that hangs is ended, with one line."""

import shutil
import time

import pytest

pytest.importorskip("keras", reason="host tests need the 'train' extra (TensorFlow)")

from converters import edgetpu_compile
from edge_runtime.errors import EdgeSegError


def test_a_compiler_that_hangs_is_ended_with_one_line(tmp_path, monkeypatch):
    hanging = tmp_path / "edgetpu_compiler"
    hanging.write_text("#!/bin/sh\nexec sleep 60\n")
    hanging.chmod(0o755)
    monkeypatch.setattr(edgetpu_compile, "find_edgetpu_compiler", lambda: str(hanging))
    monkeypatch.setattr(edgetpu_compile, "COMPILE_TIMEOUT_S", 0.5)
    model = tmp_path / "m.tflite"
    model.write_bytes(b"")
    started = time.monotonic()
    with pytest.raises(EdgeSegError) as raised:
        edgetpu_compile.compile_for_edgetpu(model)
    assert time.monotonic() - started < 30
    said = f"edgetpu_compiler did not finish on {model} in 0.5 s (it was ended)"
    assert str(raised.value) == said
    assert not (tmp_path / "m_edgetpu.tflite").exists()


def test_a_compiler_that_fails_leaves_no_build(tmp_path, monkeypatch):
    """A half-written build stayed beside the model after 'edgetpu_compiler failed'."""
    failing = tmp_path / "edgetpu_compiler"
    script = '#!/bin/sh\necho half > "$3/m_edgetpu.tflite"\necho "no TPU ops" >&2\nexit 1\n'
    failing.write_text(script)
    failing.chmod(0o755)
    monkeypatch.setattr(edgetpu_compile, "find_edgetpu_compiler", lambda: str(failing))
    model = tmp_path / "m.tflite"
    model.write_bytes(b"")
    with pytest.raises(EdgeSegError, match=r"edgetpu_compiler failed on .*: no TPU ops"):
        edgetpu_compile.compile_for_edgetpu(model)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edgetpu_compiler", "m.tflite"]


def test_a_build_that_is_not_the_models_is_removed(tmp_path, monkeypatch):
    """The compiler exits 0 but its build is no model of ours: refused, and not left beside it."""
    from converters import edgetpu_compile
    from edge_runtime.errors import ModelError
    from edge_runtime.inference.bundled import DEFAULT_MODEL

    compiler = tmp_path / "edgetpu_compiler"
    compiler.write_text('#!/bin/sh\necho garbage > "$3/m_edgetpu.tflite"\n')
    compiler.chmod(0o755)
    monkeypatch.setattr(edgetpu_compile, "find_edgetpu_compiler", lambda: str(compiler))
    model = tmp_path / "m.tflite"
    shutil.copy(DEFAULT_MODEL, model)
    with pytest.raises(ModelError):
        edgetpu_compile.compile_for_edgetpu(model)
    assert not (tmp_path / "m_edgetpu.tflite").exists()
