"""Who is at fault: the library's error classes and what they tell the caller."""

from itertools import permutations
from pathlib import Path

import pytest

from edge_runtime.errors import (
    EdgeSegError,
    InputError,
    ModelError,
    NetworkError,
    OutputError,
    os_error_line,
)
from edge_runtime.inference.model_file import read_model_bytes

FAULTS = (InputError, ModelError, OutputError, NetworkError)


@pytest.mark.parametrize(("fault", "other"), list(permutations(FAULTS, 2)))
def test_each_fault_is_its_own_kind_of_library_error(fault, other):
    assert issubclass(fault, EdgeSegError)
    assert not issubclass(fault, other)


def test_a_bad_model_file_is_not_taken_for_a_bad_input(tmp_path: Path):
    """``except InputError`` (skip this file, go on with the next) must not swallow a model that
    cannot run, which would fail every file."""
    model = tmp_path / "m.tflite"
    model.write_text("not a model")
    with pytest.raises(ModelError, match=r"m\.tflite: .*not a TFLite model") as raised:
        read_model_bytes(model)
    assert not isinstance(raised.value, InputError)


def test_an_os_error_is_one_line_naming_its_file_else_the_place_given():
    """A failed write names no file (a full disk): the line names the place given, or none,
    never 'None'."""
    named = PermissionError(13, "Permission denied", "/data/a\nb.png")
    assert os_error_line(named, "elsewhere") == "/data/a\\nb.png: Permission denied"
    full = OSError(28, "No space left on device")
    assert os_error_line(full) == "No space left on device"
    assert os_error_line(full, Path("out.tflite")) == "out.tflite: No space left on device"
