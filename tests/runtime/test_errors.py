"""Who is at fault: the library's error classes and what they tell the caller."""

from itertools import permutations
from pathlib import Path

import pytest

from edge_runtime.errors import EdgeSegError, InputError, ModelError, NetworkError, OutputError
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
