"""PatchModel with the bundled model: batching; and the segmenter's test-time averaging around
it."""

import dataclasses
import re
import types
from pathlib import Path

import numpy as np
import pytest

from edge_runtime.contract.segmenter_config import SegmenterConfig
from edge_runtime.contract.symmetry import dihedral, undo_dihedral
from edge_runtime.errors import ModelError
from edge_runtime.inference import interpreter, patch_model
from edge_runtime.inference.bundled import DEFAULT_MODEL
from edge_runtime.inference.patch_model import PatchModel
from edge_runtime.inference.runtime_options import RuntimeOptions
from edge_runtime.inference.signatures import UNCHECKED
from edge_runtime.pipeline.segmenter import Segmenter


@pytest.fixture(scope="module")
def patches():
    rng = np.random.default_rng(5)
    return rng.random((21, 64, 64, 1), dtype=np.float32)  # not a multiple of the batch


def test_batches_give_the_same_probabilities_as_one_patch_per_invoke(patches):
    batched = PatchModel(RuntimeOptions(DEFAULT_MODEL))
    single = PatchModel(RuntimeOptions(DEFAULT_MODEL), batch_size=1)
    assert batched.batch_size > 1 and single.batch_size == 1
    np.testing.assert_array_equal(batched.predict(patches), single.predict(patches))


@pytest.mark.parametrize("tta", ["flip", "dihedral"])
def test_tta_averages_the_undone_predictions_of_transformed_patches(patches, tta):
    plain = PatchModel()
    transforms = (0, 1) if tta == "flip" else range(8)
    expected = np.mean(
        [
            undo_dihedral(plain.predict(dihedral(patches, t, axes=(1, 2))), t, axes=(1, 2))
            for t in transforms
        ],
        axis=0,
    )
    averaged = Segmenter(plain, SegmenterConfig(tta=tta)).patch_probabilities(patches)
    np.testing.assert_allclose(averaged, expected, atol=1e-6)
    assert not np.allclose(averaged, plain.predict(patches), atol=1e-3)


def test_dihedral_tta_makes_the_model_equivariant(patches):
    segmenter = Segmenter(config=SegmenterConfig(tta="dihedral"))
    turned = np.rot90(patches, 1, axes=(1, 2))
    np.testing.assert_allclose(
        segmenter.patch_probabilities(turned),
        np.rot90(segmenter.patch_probabilities(patches), 1, axes=(1, 2)),
        atol=1e-5,
    )


def test_unknown_tta_mode():
    with pytest.raises(ValueError, match="got tta 'twice'"):
        SegmenterConfig(tta="twice")


QUANTIZED_INPUT = {"dtype": np.int8, "quantization": (1 / 255, -128)}  # the bundled model's tensors
QUANTIZED_OUTPUT = {"dtype": np.int8, "quantization": (1 / 256, -128)}


def test_quantize_rounds_adds_the_zero_point_and_saturates():
    from edge_runtime.inference.quantization import quantize

    detail = {"dtype": np.int8, "quantization": (0.1, 3)}
    got = quantize(np.array([0.26, -0.26, 100.0, -100.0], np.float32), detail)
    assert got.dtype == np.int8 and got.tolist() == [6, 0, 127, -128]
    # every model input k/255 goes in as k - 128, exactly
    levels = np.arange(256, dtype=np.float32) / np.float32(255)
    np.testing.assert_array_equal(quantize(levels, QUANTIZED_INPUT), np.arange(256) - 128)
    floats = {"dtype": np.float32, "quantization": (0.0, 0)}
    np.testing.assert_array_equal(quantize(levels, floats), levels)


def test_dequantize_subtracts_the_zero_point_and_scales():
    from edge_runtime.inference.quantization import dequantize

    got = dequantize(np.array([-128, 0, 127], np.int8), QUANTIZED_OUTPUT)
    np.testing.assert_array_equal(got, np.array([0.0, 0.5, 255 / 256], np.float32))


class _RecordingBackend(types.SimpleNamespace):
    """A LiteRT backend that records the options each interpreter is made with."""

    def __init__(self):
        super().__init__(
            OpResolverType=types.SimpleNamespace(BUILTIN_WITHOUT_DEFAULT_DELEGATES="no-defaults"),
            made=[],
        )

    def Interpreter(self, **options):
        self.made.append(options)
        return object()


@pytest.fixture
def backend(monkeypatch):
    recording = _RecordingBackend()
    monkeypatch.setattr(interpreter, "load_backend", lambda: recording)
    return recording


@pytest.mark.parametrize("threads", [1, 3, interpreter.MAX_THREADS])
def test_the_interpreter_runs_on_the_threads_asked_for(backend, threads):
    """--threads reaches the interpreter: the count asked for is the count it is made with."""
    interpreter.make_interpreter(DEFAULT_MODEL, threads=threads)
    assert [made["num_threads"] for made in backend.made] == [threads]


@pytest.mark.parametrize("threads", [0, -1, interpreter.MAX_THREADS + 1, True, 2.0])
def test_a_thread_count_out_of_range_is_refused(backend, threads):
    """Zero, negative, too many, or not an integer: refused before any interpreter is made."""
    expected = f"got threads {threads!r}, expected a whole number 1..64"
    with pytest.raises(ValueError, match=re.escape(expected)):
        interpreter.make_interpreter(DEFAULT_MODEL, threads=threads)
    assert backend.made == []


def test_a_numpy_thread_count_is_a_thread_count(backend):
    """np.int64(2) was refused as "expected 1..64", and SegmenterConfig took numpy strides."""
    interpreter.make_interpreter(DEFAULT_MODEL, threads=np.int64(2))
    assert backend.made[0]["num_threads"] == 2 and type(backend.made[0]["num_threads"]) is int


def test_the_edge_tpu_delegate_refuses_a_model_not_compiled_for_it(backend):
    """--delegate edgetpu on a CPU model says to compile it, instead of loading the delegate."""
    with pytest.raises(ModelError, match="not compiled for the Edge TPU"):
        interpreter.make_interpreter(DEFAULT_MODEL, delegate="edgetpu")
    assert backend.made == []


def test_the_backend_is_named_by_the_package_it_comes_from():
    """Info's backend line names the distribution of the interpreter module actually used."""
    module = interpreter.load_backend().__name__.split(".")[0]
    package = {"ai_edge_litert": "ai-edge-litert", "tflite_runtime": "tflite-runtime"}[module]
    assert interpreter.backend_name().split()[0] == package


def test_on_the_edge_tpu_patches_run_one_per_invoke_on_the_threads_asked(monkeypatch):
    """A compiled Edge TPU graph takes one patch per invoke: the model is not resized to a
    batch with the delegate, and the runtime options' threads reach the interpreter."""
    made = []

    def on_the_cpu(content, threads, delegate, name):
        made.append((threads, delegate))
        return interpreter.make_interpreter(content, threads=threads, name=name)

    monkeypatch.setattr(patch_model, "make_interpreter", on_the_cpu)
    model = PatchModel(RuntimeOptions(DEFAULT_MODEL, threads=2, delegate="edgetpu"))
    assert made == [(2, "edgetpu")]
    assert model.batch_size == 1


def test_after_a_fork_a_model_makes_its_interpreter_again_once(patches):
    """The fork hook has the next invoke make the interpreter again, and only that one."""
    model = PatchModel(RuntimeOptions(DEFAULT_MODEL))
    expected = model.predict(patches)
    parents = model.interpreter
    patch_model._after_fork()  # what os.register_at_fork runs in the child
    np.testing.assert_array_equal(model.predict(patches), expected)
    remade = model.interpreter
    assert remade is not parents
    np.testing.assert_array_equal(model.predict(patches), expected)
    assert model.interpreter is remade


def test_after_a_fork_a_model_on_the_edge_tpu_refuses_to_run(patches):
    """The parent holds the accelerator: the child would open it again under the parent's
    interpreter; it says to make its own Segmenter instead."""
    model = PatchModel(RuntimeOptions(DEFAULT_MODEL))
    model.options = dataclasses.replace(model.options, delegate="edgetpu")
    patch_model._after_fork()
    with pytest.raises(ModelError, match=r"runs on the accelerator of the process this one was"):
        model.predict(patches)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"model": 5}, "got model 5, expected a path or None (the bundled model)"),
        ({"model": UNCHECKED}, "got model <_Unchecked.UNCHECKED: 'unchecked'>, expected a path"),
        (
            {"trusted_keys": False},  # meant as "no check": fails closed, saying why
            "got trusted_keys False, expected a path, None ($EDGE_SEG_TRUSTED_KEYS) or UNCHECKED",
        ),
    ],
)
def test_a_model_or_key_folder_that_is_no_path_is_refused_naming_the_option(options, expected):
    """It was a TypeError from deep inside ``os`` that named neither ("expected str, bytes or
    os.PathLike object, not bool")."""
    with pytest.raises(TypeError) as refused:
        RuntimeOptions(**options)
    assert str(refused.value).startswith(expected)
    assert RuntimeOptions(model=Path("m.tflite"), trusted_keys=UNCHECKED).trusted_keys is UNCHECKED
