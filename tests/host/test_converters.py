"""Conversion, embedded metadata, the Dice gate and the Edge TPU audit, on the committed fixture
model (tests/fixtures/host_model: unet width 4) and the synthetic patch set the tests make (the
model scores a Dice of about 0.75 on it): none of this needs the reference data."""

import dataclasses
import errno
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras", reason="host tests need the 'train' extra (TensorFlow)")

from converters.check import GatePatches, GatePhotos, load_gate_data  # noqa: E402
from converters.edgetpu_compile import COMPILER  # noqa: E402
from converters.run_holdout import RunHoldout, refuse_another_holdout  # noqa: E402
from converters.tflite_export import export_tflite  # noqa: E402
from edge_runtime.contract.gate_report import GateData  # noqa: E402
from edge_runtime.contract.model_card import METADATA_NAME, ModelCard  # noqa: E402
from edge_runtime.data.photos import LabelledPhoto  # noqa: E402
from edge_runtime.errors import InputError  # noqa: E402
from edge_runtime.inference.description import describe_model  # noqa: E402
from edge_runtime.inference.model_file import card_text, model_digest, read_card  # noqa: E402
from edge_runtime.pipeline.segmenter import Segmenter  # noqa: E402
from training.models import build_seed  # noqa: E402

CALIBRATION = ["--calibration-size", "128"]
HOLDOUT = ["--images", "x_train", "--labels", "y_train", "--holdout", "0.2"]
"""A holdout of the synthetic patch set (34 of its 172 patches)."""
RELEASE_KEYS = Path(__file__).parents[2] / "firmware_notes" / "keys"
RELEASE_RUN = Path(__file__).parents[2] / "training" / "release"


@pytest.fixture(scope="module")
def converted(host_model, patches_npz, run_cli, tmp_path_factory):
    """int8 (gated), uint8-io and float conversions of the fixture model, on a host that trusts
    the release key (the gate runs on a conversion not yet signed)."""
    out = tmp_path_factory.mktemp("converted")
    model = host_model
    common = ["--calibration", patches_npz, *CALIBRATION, "--check-data", patches_npz]
    common += ["--check-holdout", "0.2"]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("EDGE_SEG_TRUSTED_KEYS", str(RELEASE_KEYS))
        results = {
            name: run_cli("convert", model, *common, *extra, "-o", out / f"{name}.tflite")
            for name, extra in (("int8", []), ("uint8", ["--io", "uint8"]), ("float", ["--float"]))
        }
    return out, results


def test_int8_model_is_small_quantized_and_gated(converted):
    out, results = converted
    assert "gate passed" in results["int8"].output
    gate = read_card((out / "int8.tflite").read_bytes()).gate
    assert gate.tflite.model == "int8.tflite"  # not the name it was written under, no path
    assert gate.keras.model == "model.keras"
    int8, float_ = (out / "int8.tflite").stat().st_size, (out / "float.tflite").stat().st_size
    # weights shrink 4x; the fixed part (graph, quantization parameters, metadata) weighs more
    # in this 31 k-parameter model than in the release model (see the benchmark for that ratio)
    assert int8 < 0.42 * float_
    report = describe_model(out / "int8.tflite").to_json()
    assert report["inputs"][0]["dtype"] == "int8" and report["outputs"][0]["dtype"] == "int8"
    assert report["inputs"][0]["shape"] == [1, 64, 64, 1]
    assert report["edgetpu_ready"], report["edgetpu_issues"]
    # converted pixel-shuffled: no transposed convolution (the U-Net's concatenated skips stay)
    assert "TRANSPOSE_CONV" not in report["ops"] and "RESHAPE" in report["ops"]


def test_metadata_round_trip(converted, host_model):
    out, _ = converted
    metrics = json.loads((host_model.parent / "metrics.json").read_text())
    content = (out / "int8.tflite").read_bytes()
    card = read_card(content)
    assert card.format_version == 2 and card.model_sha256 == model_digest(content, card)
    assert card.architecture == "unet" and card.width == 4
    assert card.parameters == metrics["params"]
    assert card.threshold == metrics["threshold"]
    assert card.training_data_sha256 == metrics["data_sha256"]
    assert card.preprocessing.name == "contrast_stretch_255"
    assert card.patch_size == 64 and card.quantization == "int8"
    assert card.input.dtype == "int8" and card.input.scale > 0
    assert card.training.epochs == metrics["epochs"] and card.training.holdout == 0.2
    gate = card.gate
    assert gate.passed is True and gate.n == 34 and gate.unit == "patches"
    assert gate.data.path == "synthetic_patches.npz" and gate.data.holdout == 0.2
    assert abs(gate.keras.dice_mean - gate.tflite.dice_mean - gate.mean_drop) < 1e-9
    assert gate.tflite.dice_per_image == () and gate.keras.dice_per_image == ()  # a summary
    assert card.package_version and card.created
    assert read_card((out / "uint8.tflite").read_bytes()).input.dtype == "uint8"


def test_metadata_is_read_without_tensorflow(converted):
    out, _ = converted
    code = (
        "import sys; sys.modules['tensorflow'] = None\n"
        "from edge_runtime.inference.model_file import read_card\n"
        "from edge_runtime.inference.description import describe_model\n"
        f"card = read_card(open({str(out / 'int8.tflite')!r}, 'rb').read())\n"
        f"report = describe_model({str(out / 'int8.tflite')!r})\n"
        "assert report.card == card\n"
        "print(card.threshold)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == read_card((out / "int8.tflite").read_bytes()).threshold


def test_stdlib_reader_agrees_with_the_flatbuffer_schema(converted):
    from tensorflow.lite.tools import flatbuffer_utils

    out, _ = converted
    content = (out / "int8.tflite").read_bytes()
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(content))
    entry = next(m for m in model.metadata if m.name.decode() == METADATA_NAME)
    via_schema = bytes(model.buffers[entry.buffer].data)
    assert card_text(content) == via_schema
    assert read_card(content) == ModelCard.from_json(via_schema)


def test_int8_uint8_and_float_models_segment_alike(converted, patches_npz):
    out, _ = converted
    with np.load(patches_npz) as npz:
        raw = npz["x_train"][:64]
    masks = {
        name: Segmenter(out / f"{name}.tflite").patch_masks(raw)
        for name in ("int8", "uint8", "float")
    }
    assert np.mean(masks["int8"] == masks["uint8"]) > 0.995
    assert np.mean(masks["int8"] == masks["float"]) > 0.98


def test_gate_fails_for_a_damaged_model_and_writes_nothing(
    host_model, patches_npz, run_cli, tmp_path
):
    model = keras.models.load_model(host_model, compile=False)
    weights = model.get_weights()
    rng = np.random.default_rng(0)
    damaged = [
        w + rng.normal(0, 0.5 * (np.std(w) + 1e-3), w.shape).astype(w.dtype) for w in weights
    ]
    model.set_weights(damaged)
    damaged_path = tmp_path / "damaged.keras"
    model.save(damaged_path)
    damaged_tflite = tmp_path / "damaged.tflite"
    run_cli(
        "convert",
        damaged_path,
        "--calibration",
        patches_npz,
        *CALIBRATION,
        "--no-check",
        "-o",
        damaged_tflite,
    )
    # its card has no gate, and info says so (a line was left out, as if nothing were amiss)
    said = run_cli("info", "--model", damaged_tflite).stdout
    assert "gate:         none recorded (not checked: converted with --no-check?)" in said
    # the damaged LiteRT model against the faithful Keras model: the gate must fail
    result = run_cli(
        "check",
        "--keras",
        host_model,
        "--tflite",
        damaged_tflite,
        "--data",
        patches_npz,
        *HOLDOUT,
        "--json",
        "--report",
        tmp_path / "report",
        expect=1,
    )
    report = json.loads(result.stdout.splitlines()[0])
    assert report["passed"] is False and report["failures"]
    assert report["mean_drop"] > 0.005 or report["max_image_drop"] > 0.05
    assert {"keras", "tflite", "mean_drop", "pixel_agreement", "worst_drops"} <= set(report)
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == [
        "dice_delta.png",
        "report.json",
        "report.md",
    ]
    assert "FAILED" in (tmp_path / "report" / "report.md").read_text()
    # convert refuses to write a model whose gate fails (its own twin agrees with it: the
    # damaged model fails the floor on Dice)
    target = tmp_path / "refused.tflite"
    result = run_cli(
        "convert",
        damaged_path,
        "--calibration",
        patches_npz,
        *CALIBRATION,
        "--check-data",
        patches_npz,
        "--check-holdout",
        "0.2",
        "--min-dice",
        "0.5",
        "-o",
        target,
        expect=1,
    )
    assert "gate FAILED" in result.output and not target.exists()
    assert result.stderr.splitlines()[-1] == f"not written: {target}"  # none was there before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_check_passes_for_the_faithful_model(converted, host_model, patches_npz, run_cli):
    out, _ = converted
    result = run_cli(
        "check",
        "--keras",
        host_model,
        "--tflite",
        out / "int8.tflite",
        "--data",
        patches_npz,
        *HOLDOUT,
        "--json",
    )
    report = json.loads(result.stdout.splitlines()[0])
    assert report["passed"] is True and report["failures"] == []
    assert report["n"] == 34 and abs(report["mean_drop"]) <= 0.005
    assert report["pixel_agreement"] >= 0.99
    assert report["keras"]["dice_mean"] > 0.7


def test_a_holdout_other_than_the_run_s_is_refused(converted, host_model, patches_npz, run_cli):
    """--check-holdout and check --holdout gate on what train --holdout held out. The fixture's
    run held out 0.2; given 0.3, the gate ran, and the card said it passed on a holdout of 0.3:
    of the run's own file, 161 patches, 6 of them trained on (and 48 of its guard bands)."""
    record, tflite = host_model.parent / "metrics.json", converted[0] / "int8.tflite"
    target = converted[0] / "other.tflite"
    args = ["--calibration", patches_npz, *CALIBRATION, "--check-data", patches_npz, "-o", target]
    done = run_cli("convert", host_model, *args, "--check-holdout", "0.3", expect=2)
    assert done.output == (
        f"Error: --check-holdout 0.3: {record} says its run held out 0.2, so the gate would score "
        "patches it may have trained on as held out (a share is taken only if it is the run's "
        "exactly); give --check-holdout 0.2, or gate without it "
        "on data the run never saw\n"
    )
    assert not target.exists()
    check = ["check", "--tflite", tflite, "--data", patches_npz, *HOLDOUT[:-1], "0.3"]
    twin = run_cli(*check, "--keras", host_model, expect=2)  # the Keras model's run record
    assert f"Error: --holdout 0.3: {record} says its run held out 0.2, so " in twin.output
    alone = run_cli(*check, "--min-dice", "0", expect=2)  # the LiteRT model's card
    assert f"Error: --holdout 0.3: {tflite} says its run held out 0.2, so " in alone.output


def test_check_reads_the_run_record_only_for_its_holdout(
    converted, host_model, patches_npz, run_cli, tmp_path
):
    """check read the record beside --keras, which only its --holdout needs, whatever it was
    given: a gate on all of the data (no --holdout, or --holdout 0) of a Keras model beside
    another run's record (a model copied into another run's folder) was refused, where it
    passed before; with --holdout F the record is checked, as convert checks it."""
    moved = tmp_path / "model.keras"
    moved.write_bytes(host_model.read_bytes())
    record = tmp_path / "metrics.json"
    record.write_bytes((RELEASE_RUN / "metrics.json").read_bytes())  # 83,259 parameters
    check = ["check", "--keras", moved, "--tflite", converted[0] / "int8.tflite"]
    check += ["--data", patches_npz, *HOLDOUT[:-2]]
    assert json.loads(run_cli(*check, "--json").stdout)["n"] == 172
    assert json.loads(run_cli(*check, "--holdout", "0", "--json").stdout)["n"] == 172
    refused = run_cli(*check, "--holdout", "0.2", expect=2)
    assert refused.output.startswith(
        f"Error: {record}: records a model of 83,259 parameters, but {moved} has "
    )


def test_a_holdout_of_a_run_that_held_nothing_out_is_refused(
    subset_npz, train_smoke, run_cli, tmp_path
):
    train_smoke(subset_npz, tmp_path / "run", "--width", "4", "--holdout", "0")
    model, target = tmp_path / "run" / "model.keras", tmp_path / "m.tflite"
    args = ["--calibration", subset_npz, "--check-data", subset_npz, "-o", target]
    done = run_cli("convert", model, *args, "--check-holdout", "0.2", expect=2)
    assert done.output == (
        f"Error: --check-holdout 0.2: {tmp_path / 'run' / 'metrics.json'} says its run held "
        "nothing out (train --holdout 0), so the gate would score patches it may have trained on "
        "as held out; gate without it on data the run never saw\n"
    )
    assert not target.exists()


def test_a_holdout_nothing_records_is_taken_with_a_warning(
    host_model, patches_npz, run_cli, tmp_path
):
    """A model out of its run folder: nothing says what it held out, so --check-holdout and
    check --holdout are taken as given, as the warning says."""
    moved = tmp_path / "model.keras"
    moved.write_bytes(host_model.read_bytes())
    out = tmp_path / "m.tflite"
    args = ["--calibration", patches_npz, *CALIBRATION, "--check-data", patches_npz, "-o", out]
    done = run_cli("convert", moved, *args, "--check-holdout", "0.2")
    assert (
        f"warning: --check-holdout 0.2: nothing says what {moved} held out in training (no run "
        "record or card records it), so the gate takes the patches it selects as held out, "
        "unchecked"
    ) in done.output
    assert read_card(out.read_bytes()).gate.data.holdout == 0.2
    check = ["check", "--tflite", out, "--data", patches_npz, *HOLDOUT, "--min-dice", "0"]
    assert f"warning: --holdout 0.2: nothing says what {out} held out" in run_cli(*check).output


def _gate_photos(holdout: float, *names: str):
    """The gate's photographs ``names`` (files not read), as --holdout ``holdout`` selects."""
    photos = [LabelledPhoto(name, Path("eyes") / f"{name}.png", None) for name in names]
    return GatePhotos(photos, [f"eyes/{name}" for name in names], GateData("eyes", holdout=holdout))


def _gate_patches(holdout: float):
    """The gate's patches (none in fact), as --holdout ``holdout`` of a file selects."""
    empty = np.zeros((0, 64, 64))
    return GatePatches(empty, empty, np.zeros(0, int), GateData("p.npz", holdout=holdout))


def test_what_the_run_s_holdout_refuses_and_takes():
    """A run held out eye2 and eye7 of ten photographs (0.2). A smaller share is another share
    too: 0.1 selects eye5, trained on, which only the share refuses where a card names no
    photographs; every photograph gated on is looked at, not the first alone (eye11 after
    eye2); a card, which counts no patches, takes its own share of patches; and --holdout 0
    gates on all of the data, which it calls held out by no run, so no run is asked."""
    record, card = Path("run/metrics.json"), Path("m.tflite")
    run = RunHoldout(record, 0.2, frozenset({"eye2", "eye7"}), 0)
    carded = RunHoldout(card, 0.2)
    with pytest.raises(InputError, match=r"^--holdout 0\.1: m\.tflite says its run held out 0\.2,"):
        refuse_another_holdout(_gate_photos(0.1, "eye5"), carded, "--holdout", card)
    with pytest.raises(InputError, match=r"^eyes/eye11\.png: --holdout 0\.2 selects it, but "):
        refuse_another_holdout(_gate_photos(0.2, "eye2", "eye11"), run, "--holdout", card)
    refuse_another_holdout(_gate_photos(0.2, "eye2", "eye7"), run, "--holdout", card)
    refuse_another_holdout(_gate_patches(0.2), carded, "--holdout", card)
    # a share that selects the same photographs is another share all the same, both shown
    nearly = r"^--holdout 0\.20000001: run/metrics\.json says its run held out 0\.2, .* \(a share "
    with pytest.raises(InputError, match=nearly + r"is taken only if it is the run's exactly\); "):
        refuse_another_holdout(_gate_photos(0.20000001, "eye2", "eye7"), run, "--holdout", card)
    with warnings.catch_warnings():  # nor a warning that nothing says what was held out
        warnings.simplefilter("error")
        for given in (run, carded, None):
            refuse_another_holdout(_gate_photos(0, "eye5"), given, "--check-holdout", card)
            refuse_another_holdout(_gate_patches(0), given, "--check-holdout", card)


def test_floor_only_check(converted, subset_npz, run_cli):
    out, _ = converted
    args = ["check", "--tflite", out / "int8.tflite", "--data", subset_npz]
    args += ["--images", "x_train", "--labels", "y_train"]
    run_cli(*args, "--min-dice", "0.0")
    assert "below the floor 0.99" in run_cli(*args, "--min-dice", "0.99", expect=1).output
    assert "give --min-dice" in run_cli(*args, expect=2).output
    # limits of the comparison, without --keras to compare with, passed unread and unchecked
    drift = run_cli(*args, "--min-dice", "0.0", "--max-mean-drop", "0.0001", expect=2)
    assert "--max-mean-drop: an option of the comparison with the Keras twin" in drift.output
    none = run_cli(*args, "--min-dice", "0.0", "--holdout", "0.001", expect=2)  # once a traceback
    assert (
        "--holdout 0.001 of " in none.output and "patches holds none out to gate on" in none.output
    )


@pytest.mark.parametrize("option", ["--out", "-o"])
def test_host_commands_refuse_an_empty_output_path(subset_npz, tmp_path, run_cli, option):
    """An empty --out once trained into the current folder; -o '' failed after the conversion."""
    command = ["train", subset_npz] if option == "--out" else ["convert", tmp_path / "m.keras"]
    done = run_cli(*command, option, "", expect=2)
    assert "got '', expected a path" in done.output


def test_bicubic_seed_model_is_refused_naming_the_layer(tmp_path, subset_npz, run_cli):
    path = tmp_path / "seed.keras"
    build_seed().save(path)
    result = run_cli(
        "convert",
        path,
        "--calibration",
        subset_npz,
        "--no-check",
        "-o",
        tmp_path / "s.tflite",
        expect=2,
    )
    warning, error = result.output.splitlines()  # a seed model has no run record beside it
    assert warning.startswith(f"warning: {tmp_path / 'metrics.json'}: missing")
    assert error.startswith("Error: ")
    assert "layer 'upsample_bicubic' (UpSampling2D, interpolation='bicubic')" in result.output
    assert "--arch seed-edge" in result.output
    assert not (tmp_path / "s.tflite").exists()


def _tile_model():
    inputs = keras.Input((64, 64, 1), batch_size=1)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.UpSampling2D(2, interpolation="nearest")(x)
    outputs = keras.layers.Conv2D(1, 1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


def _bare_model(path):
    """A small int8 model without our metadata."""
    calibration = np.random.default_rng(0).random((4, 64, 64, 1), dtype=np.float32)
    path.write_bytes(export_tflite(_tile_model(), calibration))
    return path


STAND_IN_BUILD = """
import sys
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

model = flatbuffer_utils.read_model_with_mutable_tensors(sys.argv[1])
model.metadata = None  # the compiler drops the card
code = model.operatorCodes[0]  # the ops become the compiler's op, the weights its blob
code.builtinCode, code.customCode = schema.BuiltinOperator.CUSTOM, b"edgetpu-custom-op"
for tensor in model.subgraphs[0].tensors:
    if tensor.buffer and model.buffers[tensor.buffer].data is not None:
        model.buffers[tensor.buffer].data = model.buffers[tensor.buffer].data[::-1]
flatbuffer_utils.write_model(model, sys.argv[2])
"""
"""What edgetpu_compiler makes of a model, as far as embed-metadata can tell: the same inputs
and outputs, other ops and weights, no card (``python -c STAND_IN_BUILD SOURCE BUILT``)."""


def _stand_in_build(source, built):
    subprocess.run([sys.executable, "-c", STAND_IN_BUILD, source, built], check=True)
    return built


def _convert_for_edgetpu(run_cli, host_model, patches_npz, target):
    return run_cli(
        "convert",
        host_model,
        "--calibration",
        patches_npz,
        *CALIBRATION,
        "--no-check",
        "--edgetpu",
        "-o",
        target,
    )


def test_info_says_not_ready_for_tile_and_float_models(tmp_path, run_cli):
    calibration = np.random.default_rng(0).random((8, 64, 64, 1), dtype=np.float32)
    model = _tile_model()
    for name, quantization in (("tile", "int8"), ("float", "float")):
        (tmp_path / f"{name}.tflite").write_bytes(export_tflite(model, calibration, quantization))
    tile = json.loads(run_cli("info", "--model", tmp_path / "tile.tflite", "--json").stdout)
    assert "TILE" in tile["ops"] and tile["edgetpu_ready"] is False
    assert any(
        i.startswith("TILE is not supported; it and every op after it")
        for i in tile["edgetpu_issues"]
    )
    assert tile["metadata"] is None and tile["settings"]["threshold"] == 0.5
    float_ = json.loads(run_cli("info", "--model", tmp_path / "float.tflite", "--json").stdout)
    assert float_["edgetpu_ready"] is False
    assert any("float32" in issue for issue in float_["edgetpu_issues"])


def test_embed_metadata_copies_the_document(converted, tmp_path, run_cli):
    out, _ = converted
    built = _stand_in_build(out / "int8.tflite", tmp_path / "int8_edgetpu.tflite")
    assert read_card(built.read_bytes()) is None
    done = run_cli("embed-metadata", "--from", out / "int8.tflite", built)
    assert f"warning: {built}: an Edge TPU build, whose weights are the compiler's" in done.output
    copied, source = read_card(built.read_bytes()), read_card((out / "int8.tflite").read_bytes())
    assert dataclasses.replace(copied, model_sha256=None) == dataclasses.replace(
        source, model_sha256=None
    )
    assert copied.model_sha256 == model_digest(built.read_bytes(), copied)  # its own bytes


def test_embed_metadata_again_changes_nothing_and_a_stale_signature_is_named(
    converted, tmp_path, run_cli
):
    """Each run added 8 bytes, and a signature beside the target went stale without a word."""
    out, _ = converted
    built = _stand_in_build(out / "int8.tflite", tmp_path / "int8_edgetpu.tflite")
    run_cli("keygen", "--private", tmp_path / "k.key", "--public", tmp_path / "k.pub")
    run_cli("sign", "--key", tmp_path / "k.key", built)
    done = run_cli("embed-metadata", "--from", out / "int8.tflite", built)
    assert f"warning: {built}.sig: signed {built}'s bytes before the card was copied in" in (
        done.output
    )
    once = built.read_bytes()
    again = run_cli("embed-metadata", "--from", out / "int8.tflite", built)
    assert built.read_bytes() == once
    assert again.stdout == (
        f"{built} already carries the metadata of {out / 'int8.tflite'}: left as it is\n"
    )


def _other_weights(source, path):
    """``source`` with one weight changed: same inputs and outputs, another model."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_with_mutable_tensors(str(source))
    tensor = next(
        t
        for t in model.subgraphs[0].tensors
        if t.buffer and model.buffers[t.buffer].data is not None
    )
    model.buffers[tensor.buffer].data[0] ^= 1
    flatbuffer_utils.write_model(model, str(path))
    return path


def _other_activation_ranges(source, path):
    """``source`` with its inner activations' quantization scales tripled: the same ops,
    weights, inputs and outputs, and another model (its int8 results are not the gated ones)."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_with_mutable_tensors(str(source))
    graph = model.subgraphs[0]
    ports = {*graph.inputs, *graph.outputs}
    for index, tensor in enumerate(graph.tensors):
        weight = tensor.buffer and model.buffers[tensor.buffer].data is not None
        quantized = tensor.quantization is not None and tensor.quantization.scale is not None
        if index not in ports and not weight and quantized:
            tensor.quantization.scale = 3 * np.asarray(tensor.quantization.scale)
    flatbuffer_utils.write_model(model, str(path))
    return path


@pytest.mark.parametrize(
    ("target", "said"),
    [
        (lambda src, tmp: _bare_model(tmp / "t.tflite"), "its inputs or outputs"),
        (lambda src, tmp: _other_weights(src, tmp / "t.tflite"), "its ops, tensors or weights"),
        (
            lambda src, tmp: _other_activation_ranges(src, tmp / "t.tflite"),
            "its ops, tensors or weights",
        ),
        (
            lambda src, tmp: (
                (tmp / "t.tflite").write_bytes(src.read_bytes()[:5000]) and tmp / "t.tflite"
            ),
            "not a whole TFLite model (truncated or damaged)",
        ),
    ],
    ids=["another model", "other weights", "other activation ranges", "truncated"],
)
def test_embed_metadata_refuses_a_model_that_is_not_the_sources(
    converted, tmp_path, run_cli, target, said
):
    # the card carries a passed gate: copied onto another model, it would certify it unmeasured
    source = converted[0] / "int8.tflite"
    path = target(source, tmp_path)
    before = path.read_bytes()
    result = run_cli("embed-metadata", "--from", source, path, expect=2)
    assert f"{path}: {said}" in result.output and "Traceback" not in result.output
    assert path.read_bytes() == before


def test_convert_without_a_gate_set_is_a_usage_error(host_model, patches_npz, run_cli, tmp_path):
    result = run_cli(
        "convert", host_model, "--calibration", patches_npz, "-o", tmp_path / "m.tflite", expect=2
    )
    assert "--check-data" in result.output


def _run_with_record(host_model: Path, tmp_path: Path, **edits) -> Path:
    """A copy of the fixture model's run folder as tmp_path/run, its record edited by edits."""
    run = tmp_path / "run"
    shutil.copytree(host_model.parent, run)
    if edits:
        _edit_record(run, **edits)
    return run


def _edit_record(run: Path, **edits) -> None:
    """Write run's metrics.json again with edits over what it holds."""
    record = run / "metrics.json"
    record.write_text(json.dumps({**json.loads(record.read_text()), **edits}))


def test_convert_refuses_an_output_that_is_one_of_its_inputs(
    host_model, subset_npz, tmp_path, run_cli, make_photo_dataset
):
    """A labelled .npz, the run record the card is made from, or a photograph of a data folder
    was overwritten with the model (exit 0)."""
    run = _run_with_record(host_model, tmp_path)
    data = tmp_path / "data.npz"
    shutil.copy(subset_npz, data)
    for output in (data, run / "metrics.json", tmp_path / "run" / ".." / "data.npz"):
        args = ["convert", run / "model.keras", "--calibration", data, "--check-data", data]
        done = run_cli(*args, "-o", output, expect=2)
        assert f"{output}: the output would overwrite the input " in done.output
    assert data.read_bytes() == subset_npz.read_bytes()
    assert json.loads((run / "metrics.json").read_text())  # still the record
    folder = make_photo_dataset(tmp_path / "drive", "drive", count=1)
    photograph = next((folder / "images").iterdir())
    before = photograph.read_bytes()
    args = ["convert", run / "model.keras", "--calibration", folder, "--no-check"]
    done = run_cli(*args, "-o", photograph, expect=2)
    assert f"{photograph}: the output would overwrite a file of the data folder {folder}" in (
        done.output
    )
    assert photograph.read_bytes() == before


def test_calibration_reads_the_photographs_not_their_labels(
    host_model, tmp_path, run_cli, make_photo_dataset
):
    """README and --help say a calibration folder's labels are not read, but each was checked
    as for scoring: a blank label (eye2) refused the folder ('no vessel pixel', exit 2). A
    missing label, or a STARE folder without its labels folder, calibrates as well."""
    from PIL import Image

    generic = make_photo_dataset(tmp_path / "generic", "generic", count=5)
    blank = generic / "labels" / "eye2.png"
    Image.fromarray(np.zeros_like(np.asarray(Image.open(blank)))).save(blank)
    (generic / "labels" / "eye4.png").unlink()
    stare = make_photo_dataset(tmp_path / "stare", "stare", count=2)
    for label in (stare / "labels-ah").iterdir():
        label.unlink()
    (stare / "labels-ah").rmdir()
    for folder in (generic, stare):
        out = tmp_path / f"{folder.name}.tflite"
        args = ["--calibration", folder, "--calibration-size", "32", "--no-check", "-o", out]
        run_cli("convert", host_model, *args)
        assert read_card(out.read_bytes()).quantization == "int8"


def test_gate_data_that_cannot_be_used_is_refused_before_converting(
    host_model, subset_npz, tmp_path, run_cli, monkeypatch
):
    """--check-data was read once the model was converted: minutes of calibration lost to a
    one-line error."""

    def converted(*_):
        raise AssertionError("converted before the gate's data was read")

    monkeypatch.setattr("converters.pipeline.export_tflite", converted)
    args = ["convert", host_model, "--calibration", subset_npz, "--check-data", subset_npz]
    done = run_cli(*args, "--check-labels", "y_nothing", "-o", tmp_path / "m.tflite", expect=2)
    assert f"Error: {subset_npz}: " in done.output and "y_nothing" in done.output
    assert not (tmp_path / "m.tflite").exists()


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--no-check", "--min-dice", "0.99"], "--min-dice: an option of the gate, which --no"),
        (["--no-check", "--check-data", "x.npz"], "--check-data: an option of the gate"),
        (["--float", "--io", "uint8", "--no-check"], "--io: an option of an int8 model"),
        (["--float", "--edgetpu", "--no-check"], "--edgetpu: an option of an int8 model"),
    ],
)
def test_convert_options_that_would_change_nothing_are_usage_errors(
    host_model, subset_npz, tmp_path, run_cli, options, says
):
    args = ["convert", host_model, "--calibration", subset_npz, "-o", tmp_path / "m.tflite"]
    assert says in run_cli(*args, *options, expect=2).output
    assert not (tmp_path / "m.tflite").exists()


def test_edgetpu_without_the_compiler_prints_the_commands(
    host_model, patches_npz, run_cli, tmp_path, monkeypatch
):
    monkeypatch.setattr("converters.edgetpu_compile.find_edgetpu_compiler", lambda: None)
    target = tmp_path / "m.tflite"
    result = _convert_for_edgetpu(run_cli, host_model, patches_npz, target)
    assert target.exists()
    assert f"edgetpu_compiler -s -o {tmp_path} {target}" in result.output
    assert (
        f"edge-seg embed-metadata --from {target} {tmp_path / 'm_edgetpu.tflite'}" in result.output
    )


def test_an_existing_edge_tpu_build_is_refused_without_overwrite(
    host_model, subset_npz, run_cli, tmp_path, monkeypatch
):
    """convert --edgetpu replaced an earlier build beside OUTPUT, and a compiler that failed
    removed it (a signed build, OUTPUT itself new)."""
    failing = tmp_path / "edgetpu_compiler"
    failing.write_text('#!/bin/sh\necho "Model not quantized" >&2\nexit 1\n')
    failing.chmod(0o755)
    monkeypatch.setattr("converters.edgetpu_compile.find_edgetpu_compiler", lambda: str(failing))
    target, build = tmp_path / "m.tflite", tmp_path / "m_edgetpu.tflite"
    build.write_bytes(b"a signed build")
    args = ["convert", host_model, "--calibration", subset_npz, "--no-check", "--edgetpu"]
    done = run_cli(*args, "-o", target, expect=2)
    assert done.output == f"Error: {build}: exists already; pass --overwrite to replace it\n"
    assert build.read_bytes() == b"a signed build" and not target.exists()


@pytest.mark.parametrize(
    "gate, said",
    [
        (["--no-check"], "not gated: --no-check"),
        (["--check-data", "{npz}", "--check-holdout", "0.2"], "its gate passed"),
    ],
)
def test_a_failed_edge_tpu_compile_says_the_model_is_written(
    host_model, patches_npz, run_cli, tmp_path, monkeypatch, gate, said
):
    """convert --edgetpu whose compiler failed printed 'wrote OUT' on stdout and, on stderr with
    exit status 2, only 'edgetpu_compiler failed on OUT': a script reading the error took OUT
    for failed too. The exit status stays 2 (no Edge TPU model was made); the error says OUT is
    written and whole, and whether gated."""
    failing = tmp_path / "edgetpu_compiler"
    failing.write_text('#!/bin/sh\necho "Model not quantized" >&2\nexit 1\n')
    failing.chmod(0o755)
    monkeypatch.setattr("converters.edgetpu_compile.find_edgetpu_compiler", lambda: str(failing))
    target = tmp_path / "m.tflite"
    args = ["convert", host_model, "--calibration", patches_npz, *CALIBRATION, "--edgetpu"]
    gate = [a.format(npz=patches_npz) for a in gate]
    done = run_cli(*args, *gate, "-o", target, expect=2)
    assert done.stderr == (
        f"Error: {COMPILER} failed on {target}: Model not quantized; so no Edge TPU build, but "
        f"{target} is written and whole ({said})\n"
    )
    card = read_card(target.read_bytes())  # whole: its digest checked
    assert (card.gate is None) == ("--no-check" in gate)
    assert not (tmp_path / "m_edgetpu.tflite").exists()


def test_a_full_disk_under_the_edge_tpu_build_is_named_not_none(
    host_model, patches_npz, run_cli, tmp_path, monkeypatch
):
    """A write that failed as the build's card was copied in (an OSError naming no file: a full
    disk) was said as 'None: No space left on device; so no Edge TPU build, ...'."""
    fine = tmp_path / "edgetpu_compiler"
    fine.write_text("#!/bin/sh\nexit 0\n")
    fine.chmod(0o755)
    monkeypatch.setattr("converters.edgetpu_compile.find_edgetpu_compiler", lambda: str(fine))

    def disk_full(source, target):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("converters.edgetpu_compile.copy_card", disk_full)
    target = tmp_path / "m.tflite"
    args = ["convert", host_model, "--calibration", patches_npz, *CALIBRATION, "--edgetpu"]
    done = run_cli(*args, "--no-check", "-o", target, expect=2)
    assert done.stderr == (
        f"Error: {tmp_path / 'm_edgetpu.tflite'}: {os.strerror(errno.ENOSPC)}; so no Edge TPU "
        f"build, but {target} is written and whole (not gated: --no-check)\n"
    )


def test_edgetpu_compiles_and_re_embeds_the_metadata(
    host_model, patches_npz, run_cli, tmp_path, monkeypatch
):
    # a stand-in compiler: writes <stem>_edgetpu.tflite without our metadata, as the real one does
    fake, build = tmp_path / "edgetpu_compiler", tmp_path / "build.py"
    build.write_text(STAND_IN_BUILD)
    fake.write_text(
        "#!/bin/sh\n# called as: edgetpu_compiler -s -o DIR MODEL\n"
        f'{sys.executable} {build} "$4" "$3/$(basename "$4" .tflite)_edgetpu.tflite"\n'
    )
    fake.chmod(0o755)
    monkeypatch.setattr("converters.edgetpu_compile.find_edgetpu_compiler", lambda: str(fake))
    target = tmp_path / "out" / "m.tflite"
    target.parent.mkdir()
    result = _convert_for_edgetpu(run_cli, host_model, patches_npz, target)
    compiled = tmp_path / "out" / "m_edgetpu.tflite"
    assert "metadata re-embedded" in result.output
    copied, source = read_card(compiled.read_bytes()), read_card(target.read_bytes())
    assert dataclasses.replace(copied, model_sha256=None) == dataclasses.replace(
        source, model_sha256=None
    )


def test_a_check_report_in_a_folder_of_the_data_is_refused(
    converted, run_cli, tmp_path, make_photo_dataset
):
    """check --report DATA/images wrote dice_delta.png among the photographs, which the next
    run refused (no label for it)."""
    data = make_photo_dataset(tmp_path / "eyes", "generic", count=2)
    before = sorted(p.name for p in (data / "labels").iterdir())
    args = ["check", "--tflite", converted[0] / "int8.tflite", "--data", data, "--min-dice", "0"]
    done = run_cli(*args, "--report", data / "labels", expect=2)
    assert done.output == (
        f"Error: {data / 'labels'}: holds the dataset's photographs, labels or masks, which the "
        "output would add to or overwrite; give --report another folder\n"
    )
    assert sorted(p.name for p in (data / "labels").iterdir()) == before


def test_check_json_names_a_folder_not_utf_8_as_messages_show_it(
    run_cli, tmp_path, make_photo_dataset
):
    """check --json wrote a folder's name whose bytes are not UTF-8 as a lone surrogate
    (eyes\\udcff), which strict readers refuse and jq reads as U+FFFD."""
    from edge_runtime.inference.bundled import DEFAULT_MODEL

    folder = Path(os.fsdecode(bytes(tmp_path / "eyes") + b"\xff"))
    data = make_photo_dataset(folder, "generic", count=2)
    args = ["check", "--data", data, "--tflite", DEFAULT_MODEL, "--min-dice", "0", "--json"]
    report = json.loads(run_cli(*args).stdout)
    assert report["data"]["path"] == "eyes\\udcff"


def test_a_check_refused_before_its_report_leaves_no_report_folder(
    converted, subset_npz, run_cli, tmp_path
):
    """The folder was made first, and left empty by a run whose data were refused."""
    out, _ = converted
    report = tmp_path / "new" / "report"
    args = ["check", "--tflite", out / "int8.tflite", "--data", subset_npz, "--images", "x_nope"]
    result = run_cli(*args, "--labels", "y_train", "--min-dice", "0", "--report", report, expect=2)
    assert "x_nope" in result.output and result.output.count("\n") == 1
    assert not (tmp_path / "new").exists()
    (tmp_path / "mine").mkdir()  # a folder the user made stays
    run_cli(*args, "--labels", "y_train", "--report", tmp_path / "mine", expect=2)
    assert (tmp_path / "mine").is_dir()


def test_a_check_refused_leaves_the_earlier_report_and_one_that_fails_after_none(
    run_cli, tmp_path, make_photo_dataset
):
    """check --report into a folder of an earlier report: a run refused before the gate ran (a
    mistyped model, a folder without photographs) removed that report, leaving the user none; a
    run that fails once the gate runs (exit status 2) leaves none to be taken for its own. What
    the user keeps there stays."""
    from converters.gate_files import REPORT_FILES
    from edge_runtime.inference.bundled import DEFAULT_MODEL

    data = make_photo_dataset(tmp_path / "eyes", "generic", count=2)
    report = tmp_path / "report"
    args = ["check", "--min-dice", "0", "--report", report]
    run_cli(*args, "--data", data, "--tflite", DEFAULT_MODEL)
    (report / "notes.txt").write_text("mine")
    before = {p.name: p.read_bytes() for p in report.iterdir()}
    assert sorted(before) == sorted([*REPORT_FILES, "notes.txt"])
    done = run_cli(*args, "--data", data, "--tflite", tmp_path / "none.tflite", expect=2)
    assert done.output == f"Error: {tmp_path / 'none.tflite'}: no such model file\n"
    assert {p.name: p.read_bytes() for p in report.iterdir()} == before
    (tmp_path / "empty" / "images").mkdir(parents=True)
    done = run_cli(*args, "--data", tmp_path / "empty", "--tflite", DEFAULT_MODEL, expect=2)
    assert done.output.startswith(f"Error: {tmp_path / 'empty'}: no labelled photographs found")
    assert {p.name: p.read_bytes() for p in report.iterdir()} == before
    truncated = data / "images" / "eye2.png"
    truncated.write_bytes(truncated.read_bytes()[:100])
    done = run_cli(*args, "--data", data, "--tflite", DEFAULT_MODEL, expect=2)
    assert f"{truncated}: cannot decode image" in done.output
    assert [p.name for p in report.iterdir()] == ["notes.txt"]


def test_unwritable_outputs_are_one_line_errors(
    converted, host_model, subset_npz, run_cli, tmp_path
):
    out, _ = converted
    blocker = tmp_path / "file"
    blocker.write_text("x")
    args = ["check", "--tflite", out / "int8.tflite", "--data", subset_npz, "--images", "x_train"]
    result = run_cli(
        *args, "--labels", "y_train", "--min-dice", "0", "--report", blocker / "r", expect=2
    )
    assert result.output.startswith(f"Error: {blocker / 'r'}") and result.output.count("\n") == 1
    assert "gate" not in result.output  # refused before the gate ran
    result = run_cli(
        "convert",
        host_model,
        "--calibration",
        subset_npz,
        "--no-check",
        "-o",
        blocker / "m.tflite",
        expect=2,
    )
    assert result.output == f"Error: {blocker}: not a folder, so m.tflite cannot be written in it\n"


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        ({"params": 999}, "records a model of 999 parameters, but "),  # another run's record
        ({"channel": "bogus"}, "channel"),  # once a traceback, or a card no runtime reads
        # these three, edited by hand, were believed: the card said them of a unet of width 4
        ({"arch": "unet-lite"}, "records a unet-lite (width 4) model, but "),
        ({"width": 40}, "records a unet (width 40) model, but "),
        ({"macs_per_patch": 1}, "records 1 multiply-accumulates a patch, but "),
        # these were believed too: the gate ran both models at them and passed
        ({"threshold": 0.9}, "its threshold 0.9 is not what its run wrote for "),
        ({"channel": "green"}, 'its channel "green" is not what its run wrote for '),
        ({"threshold": 0.9, "channel": "green"}, 'threshold 0.9 and channel "green" are not'),
    ],
)
def test_convert_refuses_a_run_record_that_is_not_the_models(
    host_model, patches_npz, tmp_path, run_cli, edit, says
):
    run = _run_with_record(host_model, tmp_path, **edit)
    args = ["convert", run / "model.keras", "--calibration", patches_npz, *CALIBRATION]
    done = run_cli(*args, "--no-check", "-o", tmp_path / "m.tflite", expect=2)
    assert says in done.output and "metrics.json" in done.output
    assert done.output.count("\n") == 1 and not (tmp_path / "m.tflite").exists()


@pytest.mark.parametrize(
    ("field", "value", "bounds"),
    [("best_epoch", 0, "[1, 1e+07]"), ("best_epoch", 10**7 + 1, "[1, 1e+07]"),
     ("epochs", 10**7 + 1, "[0, 1e+07]")],
)  # fmt: skip
def test_convert_refuses_a_record_whose_epochs_no_card_holds(
    host_model, patches_npz, tmp_path, run_cli, field, value, bounds
):
    """The card takes the record's epochs and the epoch it kept, and bounds them: a record
    that kept epoch 0 (its bound was 0) converted into a model whose card the runtime refused
    on every load ('field training.best_epoch: got 0, expected a number in [1, 1e+07]')."""
    run = _run_with_record(host_model, tmp_path, **{field: value})
    args = ["convert", run / "model.keras", "--calibration", patches_npz, *CALIBRATION]
    done = run_cli(*args, "--no-check", "-o", tmp_path / "m.tflite", expect=2)
    assert done.output == (
        f"Error: {run / 'metrics.json'}: field '{field}': got {value}, expected a number in "
        f"{bounds}\n"
    )
    assert not (tmp_path / "m.tflite").exists()


def test_a_threshold_is_changed_by_convert_threshold_not_by_editing_the_record(
    host_model, patches_npz, tmp_path, run_cli
):
    """--threshold records another threshold over a record left as its run wrote it; a record
    edited by hand is refused even so (it is no longer its run's), with the way to do it."""
    run = _run_with_record(host_model, tmp_path)
    args = ["convert", run / "model.keras", "--calibration", patches_npz, *CALIBRATION]
    args += ["--no-check", "--threshold", "0.6", "-o", tmp_path / "m.tflite"]
    assert "warning" not in run_cli(*args).output
    assert read_card((tmp_path / "m.tflite").read_bytes()).threshold == 0.6
    _edit_record(run, threshold=0.6)
    done = run_cli(*args, "--overwrite", expect=2)
    assert done.output == (
        f"Error: {run / 'metrics.json'}: its threshold 0.6 is not what its run wrote for "
        f"{run / 'model.keras'} (edited by hand?); to record another threshold, leave the "
        "record as written and pass --threshold\n"
    )


@pytest.mark.parametrize(
    "field, value, said",
    [
        ("holdout", 0.3, "holdout 0.3"),
        ("holdout_patches", 0, "holdout_patches 0"),
        ("start", {"recipe": "finetune", "init": None}, "start"),
    ],
)
def test_a_record_s_holdout_or_start_edited_by_hand_is_refused(
    host_model, patches_npz, tmp_path, run_cli, field, value, said
):
    """The share a run held out, what it held out and what it started from are bound to its
    model file as its threshold is: a share edited by hand was taken by the gate (which would
    then score what the model may have trained on) and written into the card, as was a start
    edited."""
    run = _run_with_record(host_model, tmp_path, **{field: value})
    args = ["convert", run / "model.keras", "--calibration", patches_npz, *CALIBRATION]
    done = run_cli(*args, "--no-check", "-o", tmp_path / "m.tflite", expect=2)
    keeps = "what it held out" if field.startswith("holdout") else "what it started from"
    assert done.output.startswith(
        f"Error: {run / 'metrics.json'}: its {said} is not what its run wrote for "
        f"{run / 'model.keras'} (edited by hand?); a run keeps {keeps}: train again for "
    )
    assert len(done.output.splitlines()) == 1 and not (tmp_path / "m.tflite").exists()


@pytest.mark.parametrize(
    "kept, unbound",
    [
        ((), "threshold, channel, holdout, holdout_patches, holdout_photos and start"),
        (("threshold", "channel"), "holdout, holdout_patches, holdout_photos and start"),
    ],
)
def test_a_record_from_before_bound_settings_is_converted_with_a_warning(
    host_model, tmp_path, kept, unbound
):
    """A run's record written before records bound their settings to the model file is its
    model's, as one without a width is; that its settings go unchecked is said. One that bound
    its threshold and channel alone (the release record) is checked for those, and that its
    holdout and start go unchecked is said."""
    from converters.metadata_writer import run_record
    from edge_runtime.contract.preprocessing import PREPROCESSING_NAME
    from training.model_io import load_keras_model

    run = _run_with_record(host_model, tmp_path)
    digests = json.loads((run / "metrics.json").read_text())["settings_sha256"]
    _edit_record(run, settings_sha256={name: digests[name] for name in kept} or None, holdout=0.3)
    model = load_keras_model(run / "model.keras", PREPROCESSING_NAME)
    with pytest.warns(UserWarning) as caught:
        assert run_record(run / "model.keras", model).holdout == 0.3
    assert [str(w.message) for w in caught] == [
        f"{run / 'metrics.json'}: a record of an earlier version, which does not bind its "
        f"{unbound} to {run / 'model.keras'}: taken as written, unchecked (a value "
        "edited by hand would go unnoticed; train again for a bound record)"
    ]
    if kept:  # what it binds is still checked
        _edit_record(run, threshold=0.9)
        with pytest.warns(UserWarning), pytest.raises(InputError, match=r"its threshold 0\.9 is"):
            run_record(run / "model.keras", model)


def test_a_record_from_before_widths_is_checked_for_its_architecture_alone(host_model, tmp_path):
    """A run's record written before records held a width is its model's (a mutant refused it
    as of width none); its architecture is still checked."""
    from converters.metadata_writer import run_record
    from edge_runtime.contract.preprocessing import PREPROCESSING_NAME
    from training.model_io import load_keras_model

    run = _run_with_record(host_model, tmp_path)
    record = json.loads((run / "metrics.json").read_text())
    del record["width"]
    (run / "metrics.json").write_text(json.dumps(record))
    model = load_keras_model(run / "model.keras", PREPROCESSING_NAME)
    assert run_record(run / "model.keras", model).width is None
    _edit_record(run, arch="unet-lite")
    with pytest.raises(InputError, match=r"records a unet-lite model, but .* a unet \(width 4\)"):
        run_record(run / "model.keras", model)


@pytest.mark.parametrize("version", ["1.0\nFAKE: gate passed", "", "x" * 65, "-rc1", "1.0 beta"])
def test_a_model_version_that_could_forge_a_line_is_refused(tmp_path, run_cli, version):
    for command in ("convert", "convert-artery-vein"):
        args = [command, tmp_path / "m.keras", "--model-version", version, "-o", tmp_path / "o"]
        assert "--model-version" in run_cli(*args, expect=2).output


def test_sigterm_during_the_gate_leaves_no_output(
    host_model, patches_npz, tmp_path, run_cli, monkeypatch
):
    """A complete, ungated .tflite was once left under a hidden name."""
    import os
    import signal

    from converters import pipeline

    monkeypatch.setattr(
        pipeline, "run_gate", lambda *_a, **_k: os.kill(os.getpid(), signal.SIGTERM)
    )
    out = tmp_path / "out"
    out.mkdir()
    args = ["convert", host_model, "--calibration", patches_npz, *CALIBRATION]
    run_cli(*args, "--check-data", patches_npz, "-o", out / "m.tflite", expect=128 + signal.SIGTERM)
    assert list(out.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


ARTERY_VEIN_KERAS = (
    Path(__file__).parents[2] / "training" / "release" / "artery_vein" / "model.keras"
)


@pytest.mark.parametrize(
    "command",
    [
        ["check", "--keras", "{av}", "--tflite", "{tflite}", "--data", "{npz}", *HOLDOUT],
        ["convert", "{av}", "--calibration", "{npz}", "--no-check", "-o", "{out}"],
        ["train", "{npz}", "--teacher", "{av}", "--epochs", "1", "--out", "{run}"],
    ],
    ids=["check", "convert", "train --teacher"],
)
def test_an_artery_vein_model_where_a_vessel_model_goes_is_one_line(
    converted, patches_npz, run_cli, tmp_path, command
):
    values = {
        "av": ARTERY_VEIN_KERAS,
        "tflite": converted[0] / "int8.tflite",
        "npz": patches_npz,
        "out": tmp_path / "m.tflite",
        "run": tmp_path / "run",
    }
    result = run_cli(*(a.format(**values) for a in command), expect=2)
    assert (
        f"{ARTERY_VEIN_KERAS}: takes 4-channel patches, as artery/vein models do; this takes "
        "vessel models (1-channel patches)" in result.output
    )
    assert not (tmp_path / "m.tflite").exists() and not (tmp_path / "run").exists()


def test_convert_artery_vein_refuses_a_vessel_model(host_model, run_cli, tmp_path):
    result = run_cli(
        "convert-artery-vein", host_model, "--data", tmp_path, "-o", tmp_path / "m.tflite", expect=2
    )
    assert f"{host_model}: takes 1-channel patches, as vessel models do" in result.output


def _three_maps(path):
    inputs = keras.Input((64, 64, 1))
    keras.Model(inputs, keras.layers.Conv2D(3, 1)(inputs)).save(path)


def _sequential(path):
    layers = [keras.Input((64, 64, 1)), keras.layers.Conv2D(1, 3, padding="same")]
    keras.Sequential(layers).save(path)  # the right shapes: convert and check gave tracebacks


@pytest.mark.parametrize(
    ("write", "said"),
    [
        (
            lambda path: path.write_text("not a model"),
            "not a .keras model file (not a zip archive)",
        ),
        (_three_maps, "not a patch model of this package"),
        (_sequential, "not a patch model of this package (a Sequential model; "),
    ],
    ids=["text", "three output maps", "sequential"],
)
def test_a_file_that_is_no_patch_model_is_named(
    converted, patches_npz, run_cli, tmp_path, write, said
):
    path = tmp_path / "model.keras"
    write(path)
    tflite = converted[0] / "int8.tflite"
    result = run_cli(
        "check", "--keras", path, "--tflite", tflite, "--data", patches_npz, *HOLDOUT, expect=2
    )
    assert f"{path}: {said}" in result.output


def test_convert_without_the_run_record_warns_what_the_card_records(
    host_model, patches_npz, run_cli, tmp_path
):
    moved = tmp_path / "model.keras"  # out of its run folder: no metrics.json beside it
    moved.write_bytes(host_model.read_bytes())
    out = tmp_path / "m.tflite"
    args = ["--calibration", patches_npz, *CALIBRATION, "--no-check", "-o", out]
    result = run_cli("convert", moved, *args)
    assert (
        f"warning: {tmp_path / 'metrics.json'}: missing, so the card says nothing of the model's "
        "training, and records the luma channel and threshold 0.5" in result.output
    )
    card = read_card(out.read_bytes())
    assert (card.channel, card.threshold, card.training) == ("luma", 0.5, None)
    assert "warning" not in run_cli("convert", host_model, *args, "--overwrite").output


def test_a_record_that_is_no_file_is_refused_not_taken_for_missing(
    host_model, subset_npz, tmp_path, run_cli
):
    """A directory (or a FIFO, a link to a device) named metrics.json was "missing": the card
    got the defaults (luma, threshold 0.5) with exit 0."""
    run = _run_with_record(host_model, tmp_path)
    (run / "metrics.json").unlink()
    (run / "metrics.json").mkdir()
    args = ["convert", run / "model.keras", "--calibration", subset_npz, "--no-check"]
    done = run_cli(*args, "-o", tmp_path / "m.tflite", expect=2)
    assert f"{run / 'metrics.json'}: is a directory, expected a training record" in done.output
    assert not (tmp_path / "m.tflite").exists()


def test_a_keras_file_whose_config_unpacks_too_large_is_refused(tmp_path, run_cli, subset_npz):
    """An 850 KB archive whose config.json unpacked to 800 MiB took 2.2 GB to load."""
    import zipfile

    bomb = tmp_path / "bomb.keras"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", b" " * (17 * 2**20))
    done = run_cli(
        "convert",
        bomb,
        "--calibration",
        subset_npz,
        "--no-check",
        "-o",
        tmp_path / "m.tflite",
        expect=2,
    )
    assert f"{bomb}: its config.json unpacks to 17.0 MiB, more than 16 MiB" in done.output


def test_converting_over_a_signed_model_names_its_stale_signature(
    host_model, subset_npz, tmp_path, run_cli
):
    target = tmp_path / "m.tflite"
    args = ["convert", host_model, "--calibration", subset_npz, "--no-check", "-o", target]
    run_cli(*args)
    run_cli("keygen", "--private", tmp_path / "k.key", "--public", tmp_path / "k.pub")
    run_cli("sign", target, "--key", tmp_path / "k.key")
    done = run_cli(*args, "--overwrite")
    assert f"{target}.sig: signed {target}'s bytes before it was converted again" in done.output


@pytest.mark.parametrize(
    ("edgetpu", "stand"),
    [
        ([], "the earlier file and its signature m.tflite.sig stand, as they were"),
        (
            ["--edgetpu"],
            "the earlier file, its signature m.tflite.sig and the Edge TPU build "
            "m_edgetpu.tflite stand, as they were",
        ),
    ],
)
def test_an_overwrite_whose_gate_fails_says_the_earlier_model_stands(
    host_model, patches_npz, tmp_path, run_cli, edgetpu, stand
):
    """It said only 'not written: OUTPUT', as if no model were there any more: the earlier one
    and its signature stand, as they were, and with --edgetpu the build beside it too, which
    --overwrite was to replace as well (the line named the model and its signature alone)."""
    target, signature = tmp_path / "m.tflite", tmp_path / "m.tflite.sig"
    build = tmp_path / "m_edgetpu.tflite"
    for path in (target, signature, build):
        path.write_bytes(path.name.encode())
    args = ["--calibration", patches_npz, *CALIBRATION, "--check-data", patches_npz, *edgetpu]
    args += ["--check-holdout", "0.2", "--min-dice", "0.99", "-o", target, "--overwrite"]
    done = run_cli("convert", host_model, *args, expect=1)
    assert "gate FAILED" in done.stdout
    assert done.stderr.splitlines()[-1] == f"not written: {target} ({stand})"
    assert [path.read_bytes() for path in (target, signature, build)] == [
        b"m.tflite",
        b"m.tflite.sig",
        b"m_edgetpu.tflite",
    ]


@pytest.mark.parametrize("command", ["convert", "convert-artery-vein"])
def test_an_existing_output_is_refused_without_overwrite(
    command, host_model, subset_npz, tmp_path, run_cli
):
    """A signed model given as -o was replaced by a new conversion (exit 0), its card and
    signature lost."""
    target, signature = tmp_path / "m.tflite", tmp_path / "m.tflite.sig"
    target.write_bytes(b"a signed model")
    signature.write_bytes(b"its signature")
    (tmp_path / "photos").mkdir()
    data = ["--calibration", subset_npz, "--no-check"] if command == "convert" else []
    data = data or ["--data", tmp_path / "photos"]
    done = run_cli(command, host_model, *data, "-o", target, expect=2)
    assert done.output == f"Error: {target}: exists already; pass --overwrite to replace it\n"
    assert target.read_bytes() == b"a signed model"
    assert signature.read_bytes() == b"its signature"


def test_a_link_as_output_is_refused_as_a_link_overwrite_or_not(
    host_model, subset_npz, tmp_path, run_cli
):
    """--overwrite replaces a file; a link in the way is named as one, not 'exists already'
    (which --overwrite would not have answered), and the file it points to is left."""
    target, signed = tmp_path / "m.tflite", tmp_path / "signed.tflite"
    signed.write_bytes(b"a signed model")
    target.symlink_to(signed)
    args = ["convert", host_model, "--calibration", subset_npz, "--no-check", "-o", target]
    for overwrite in ([], ["--overwrite"]):
        done = run_cli(*args, *overwrite, expect=2)
        assert done.output == (
            f"Error: {target}: is a symbolic link, not written over: name the file it points to\n"
        )
    assert signed.read_bytes() == b"a signed model"


@pytest.mark.parametrize(
    "command",
    [
        ["train", "{a}", "{b}", "--out", "{tmp}/run"],
        ["train", "{a}:1", "{b}:3", "--out", "{tmp}/run"],  # weights set aside
        ["train-artery-vein", "{a}", "{b}", "--out", "{tmp}/run"],
        ["train-artery-vein", "{a}", "--score", "{a}", "--score", "{b}", "--out", "{tmp}/run"],
        ["check", "--tflite", "{tmp}/m.tflite", "--data", "{a}", "--data", "{b}"],
        ["convert", "{tmp}/m.keras", "--check-data", "{a}", "--check-data", "{b}"],
        ["convert-artery-vein", "{tmp}/m.keras", "--data", "{a}", "--data", "{b}"],
    ],
)
def test_data_given_twice_is_refused_not_counted_twice(command, run_cli, tmp_path):
    """train's holdout of one photograph given twice was "2 photographs", and the gate of
    three given twice "on 6 photographs"."""
    folder = tmp_path / "photos"
    folder.mkdir()
    (tmp_path / "m.keras").write_text("x")
    (tmp_path / "m.tflite").write_text("x")
    other = tmp_path / "photos" / ".." / "photos"  # the same folder by another path
    args = [a.format(a=folder, b=other, tmp=tmp_path) for a in command]
    done = run_cli(*args, expect=2)
    first, repeated = [a for a in args if a.startswith(str(folder))][-2:]
    assert f"{repeated} is given twice (also as {first}): its data would count twice" in done.output
    assert done.output.count("\n") == 1 and not (tmp_path / "run").exists()


def test_check_reads_a_patch_file_s_training_arrays_by_default(converted, patches_npz, run_cli):
    """It required --images and --labels where convert's gate defaults to x_train/y_train."""
    out, _ = converted
    args = ["check", "--tflite", out / "int8.tflite", "--data", patches_npz, "--min-dice", "0"]
    args += ["--json"]
    named = run_cli(*args, *HOLDOUT)
    default = run_cli(*args, "--holdout", "0.2")
    assert json.loads(default.stdout) == json.loads(named.stdout)


class _Interpreter:
    """The two calls build_card makes of an interpreter."""

    def get_input_details(self):
        return [{"dtype": np.int8, "quantization": (1 / 255, -128), "shape": [1, 96, 96, 1]}]

    def get_output_details(self):
        return [{"dtype": np.int8, "quantization": (1 / 256, -128)}]


def test_the_card_takes_each_field_from_its_own_record_field():
    from converters.metadata_writer import build_card
    from edge_runtime.contract.model_card import ModelFile, TrainingStart, TrainingSummary
    from edge_runtime.contract.training_record import TrainingRecord

    older = TrainingRecord.read(
        Path(__file__).parents[1] / "fixtures" / "host_model" / "metrics.json"
    )
    start = TrainingStart("v2", ModelFile("release.keras", "ab" * 32))
    record = dataclasses.replace(
        older, channel="green", seed=123, loss="bce", threshold=0.37, start=start
    )
    card = build_card(record, _Interpreter(), "int8", None, "1.0.0", record.params)
    assert (card.channel, card.threshold, card.width) == ("green", 0.37, record.width)
    assert card.macs_per_patch == record.macs_per_patch
    assert card.training == TrainingSummary("bce", record.epochs, 123, record.holdout, start, 50)
    # an older record names no start (not known, not "none"); its holdout chose epoch 50
    assert (older.start, older.best_epoch, older.holdout_patches) == (None, 50, 107)
    summary = build_card(older, _Interpreter(), "int8", None, "1.0.0", older.params).training
    assert (summary.start, summary.best_epoch) == (None, 50)
    # a teacher goes to the card by name; an older record's (teacher_sha256) by its digest alone
    distilled = dataclasses.replace(start, teacher=ModelFile("teacher.keras", "cd" * 32))
    summary = build_card(
        dataclasses.replace(record, start=distilled), _Interpreter(), "int8", None, "1.0.0", 1
    ).training
    assert summary.start == distilled
    given = dataclasses.replace(record, teacher_sha256="cd" * 32)
    summary = build_card(given, _Interpreter(), "int8", None, "1.0.0", 1).training
    assert summary.start == dataclasses.replace(start, teacher=ModelFile(None, "cd" * 32))
    # nothing held out: the last epoch was kept, no best one
    everything = dataclasses.replace(record, holdout=0.0, holdout_patches=0, best_epoch=80)
    summary = build_card(everything, _Interpreter(), "int8", None, "1.0.0", record.params).training
    assert (summary.start, summary.best_epoch, summary.holdout) == (start, None, 0.0)
    assert card.training_data_sha256 == record.data_sha256
    assert card.patch_size == 96  # the converted model's, not the default 64
    given = build_card(record, _Interpreter(), "int8", 0.61, "1.0.0", record.params)
    assert given.threshold == 0.61  # convert --threshold wins over the tuned one


def _calibrated_model():
    keras.utils.set_random_seed(5)
    inputs = keras.Input((16, 16, 1), batch_size=1)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Conv2D(1, 1, activation="sigmoid")(x))


def _run_int8(content: bytes, x: np.ndarray) -> np.ndarray:
    from edge_runtime.inference.interpreter import make_interpreter
    from edge_runtime.inference.quantization import quantize

    interpreter = make_interpreter(content, name="m")
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    results = []
    for patch in x:
        interpreter.set_tensor(inp["index"], quantize(patch[None], inp))
        interpreter.invoke()
        scale, zero = out["quantization"]
        results.append((interpreter.get_tensor(out["index"]).astype(np.float32) - zero) * scale)
    return np.concatenate(results)


def test_uint8_io_gives_uint8_at_both_ends():
    from converters.tflite_export import export_tflite
    from edge_runtime.inference.interpreter import make_interpreter

    calibration = np.random.default_rng(0).random((8, 16, 16, 1), dtype=np.float32)
    content = export_tflite(_calibrated_model(), calibration, "int8", "uint8")
    interpreter = make_interpreter(content, name="m")
    assert interpreter.get_input_details()[0]["dtype"] == np.uint8
    assert interpreter.get_output_details()[0]["dtype"] == np.uint8


def test_every_calibration_patch_sets_the_ranges():
    """A blank first patch: calibrated on it alone, every other input would saturate."""
    from converters.tflite_export import export_tflite

    rng = np.random.default_rng(0)
    calibration = rng.random((16, 16, 16, 1), dtype=np.float32)
    calibration[0] = 0
    model = _calibrated_model()
    content = export_tflite(model, calibration)
    x = rng.random((4, 16, 16, 1), dtype=np.float32)
    assert np.abs(_run_int8(content, x) - np.asarray(model(x))).max() < 0.03


def _edgetpu_stand_in(content: bytes) -> bytes:
    """What edgetpu_compiler makes of a model, in process (test_converters' STAND_IN_BUILD)."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(content))
    model.metadata = None
    code = model.operatorCodes[0]
    code.builtinCode, code.customCode = schema.BuiltinOperator.CUSTOM, b"edgetpu-custom-op"
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def test_an_edge_tpu_build_of_another_kind_of_model_is_refused():
    from converters.model_identity import check_same_model
    from edge_runtime.errors import ModelError
    from edge_runtime.inference.bundled import ARTERY_VEIN_MODEL, DEFAULT_MODEL

    source = DEFAULT_MODEL.read_bytes()
    assert check_same_model(source, Path("m"), _edgetpu_stand_in(source), Path("b")) is True
    other = _edgetpu_stand_in(ARTERY_VEIN_MODEL.read_bytes())
    with pytest.raises(ModelError, match="its inputs or outputs"):
        check_same_model(source, Path("m"), other, Path("b"))


def test_a_model_whose_ops_are_set_otherwise_is_another_model():
    """Same ops, tensors and weights, one op's fused activation changed: another model."""
    from tensorflow.lite.tools import flatbuffer_utils

    from converters.model_identity import check_same_model
    from edge_runtime.errors import ModelError
    from edge_runtime.inference.bundled import DEFAULT_MODEL

    source = DEFAULT_MODEL.read_bytes()
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(source))
    op = next(
        op
        for op in model.subgraphs[0].operators
        if hasattr(op.builtinOptions, "fusedActivationFunction")
    )
    activation = op.builtinOptions.fusedActivationFunction
    op.builtinOptions.fusedActivationFunction = 1 - min(activation, 1)
    other = bytes(flatbuffer_utils.convert_object_to_bytearray(model))
    with pytest.raises(ModelError, match="its ops, tensors or weights"):
        check_same_model(source, Path("m"), other, Path("t"))


def test_check_decides_at_the_threshold_given(monkeypatch):
    """check --threshold: the gate decides (and reports) at it, not at the card's."""
    from converters.check import GatePatches, load_gate_models, run_gate
    from edge_runtime.contract.gate_report import GateData, Gates
    from edge_runtime.evaluation.synthetic import synthetic_patches
    from edge_runtime.inference.bundled import DEFAULT_MODEL

    monkeypatch.delenv("EDGE_SEG_TRUSTED_KEYS", raising=False)
    x, y = synthetic_patches(1)
    patches = GatePatches(x[:8], y[:8], np.arange(8), GateData("s.npz", "x_train", "y_train"))
    gates = Gates(None, None, None, None, 0.0)
    low, high = (
        run_gate(load_gate_models(DEFAULT_MODEL, threshold=t), patches, gates) for t in (0.1, 0.9)
    )
    assert (low.threshold, high.threshold) == (0.1, 0.9)
    assert low.tflite.dice_mean != high.tflite.dice_mean


def test_a_model_with_a_fixed_batch_of_two_is_refused_naming_the_file(tmp_path, run_cli):
    """The runtime runs one patch or a resizable batch: a model converted with a fixed batch
    of 2 is refused on one line that names it, not resized and run."""
    import tensorflow as tf
    from PIL import Image

    from edge_runtime.evaluation.synthetic import synthetic_fundus

    inputs = keras.Input((64, 64, 1), batch_size=2)
    outputs = keras.layers.Conv2D(1, 1, activation="sigmoid")(inputs)
    content = tf.lite.TFLiteConverter.from_keras_model(keras.Model(inputs, outputs)).convert()
    model = tmp_path / "batch2.tflite"
    model.write_bytes(content)
    photo = tmp_path / "p.png"
    Image.fromarray(synthetic_fundus(584, 565, seed=0)).save(photo)
    result = run_cli("segment", photo, "--model", model, "-o", tmp_path / "o", expect=2)
    assert result.output.startswith(
        f"Error: {model}: input shape [2, 64, 64, 1], expected [1, 64, 64, 1]"
    ), result.output
    assert result.output.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_the_gate_leaves_out_what_the_run_could_not_score_and_refuses_to_gate_on_none():
    """The run held out eye2, eye5 and eye7 and could not score eye5 or eye7: the gate leaves
    each out with a warning and keeps the others in order. A gate whose holdout selects only
    photographs the run could not score (a folder of those two alone, of which --holdout 0.6
    selects eye7) gated on none: a traceback ('need at least one array to concatenate')."""
    from converters.run_holdout import scored_by_the_run

    record = Path("run/metrics.json")
    unscored = frozenset({"eyes/eye5", "eyes/eye7"})
    run = RunHoldout(record, 0.6, frozenset({"eyes/eye2"}) | unscored, None, unscored)
    with pytest.warns(UserWarning) as caught:
        kept = scored_by_the_run(_gate_photos(0.6, "eye2", "eye5", "eye7"), run)
    assert kept.names == ["eyes/eye2"] and [p.name for p in kept.photos] == ["eye2"]
    assert [str(w.message) for w in caught] == [
        f"eyes/{name}.png: run/metrics.json says its run held it out but could not score it, "
        "so the gate leaves it out too"
        for name in ("eye5", "eye7")
    ]
    with pytest.warns(UserWarning), pytest.raises(InputError) as refused:
        scored_by_the_run(_gate_photos(0.6, "eye7"), run)
    assert str(refused.value) == (
        "eyes: run/metrics.json says its run could not score any photograph the gate's holdout "
        "selects, so the gate has none to gate on; gate on the folders the run held them out "
        "of, or without the holdout on photographs the run never saw"
    )
    patches = _gate_patches(0.6)  # patches are never left out
    assert scored_by_the_run(patches, run) is patches


def test_a_run_s_record_names_as_unscored_only_its_photographs_without_metrics(tmp_path):
    """A photograph scored without an AUC (one class in its field of view) is scored all the
    same: only one with no F1 was not, and only that one is left out of the gate."""
    from edge_runtime.contract.training_record import PhotoRecord, TrainingRecord

    photos = (
        PhotoRecord("eye2", 0.8, 0.7, 0.9, 0.9, None, folder="eyes"),
        PhotoRecord("eye5", folder="eyes"),
    )
    record = TrainingRecord.read(Path(__file__).parents[1] / "fixtures/host_model/metrics.json")
    record = dataclasses.replace(record, holdout=0.6, holdout_photos=photos)
    run = RunHoldout.of_record(Path("run/metrics.json"), record)
    assert run.photos == {"eyes/eye2", "eyes/eye5"} and run.unscored == {"eyes/eye5"}


def test_the_gate_s_patch_counts_of_one_are_said_singular(tmp_path):
    """'of 1 patches holds none out' and 'the 1 patches gated on hold no vessel pixel'."""
    x, y = np.zeros((3, 64, 64), np.float32), np.zeros((3, 64, 64), np.uint8)
    y[[0, 2], 10:20, 10:20] = 1  # the one patch that --holdout 0.2 keeps, the middle, is empty
    np.savez(tmp_path / "three.npz", x=x, y=y)
    np.savez(tmp_path / "one.npz", x=x[:1], y=y[:1])
    with pytest.raises(InputError, match=r"--holdout 0\.5 of 1 patch holds none out to gate on"):
        load_gate_data(tmp_path / "one.npz", "x", "y", 0.5)
    with pytest.raises(InputError, match="the 1 patch gated on holds no vessel pixel, expected"):
        load_gate_data(tmp_path / "three.npz", "x", "y", 0.2)
