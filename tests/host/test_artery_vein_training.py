"""Training an artery/vein model, converting it to int8 behind its gate, and running what was
written on the device: on a small synthetic folder with artery/vein labels (the commands'
mechanics; the real candidates' accuracies are benchmarks/artery_vein_screen.py's)."""

import dataclasses
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from converters.artery_vein import artery_vein_gate
from edge_runtime import ArteryVein, ArteryVeinModel, Segmenter
from edge_runtime.contract.artery_vein_input import ARTERY_VEIN_PREPROCESSING
from edge_runtime.contract.bound_settings import edited_settings
from edge_runtime.contract.gate_report import ArteryVeinGates
from edge_runtime.contract.model_card import ModelCard, Preprocessing, TrainingStart
from edge_runtime.data.artery_vein import decode_artery_vein
from edge_runtime.inference.model_file import read_card, read_model_bytes
from training.artery_vein import (
    ArteryVeinExample,
    ArteryVeinRecord,
    draw_crops,
    drawn_groups,
    load_examples,
)
from training.config import ARTERY_VEIN_RECORD, ArteryVeinTraining

A, V, U = ArteryVein.ARTERY, ArteryVein.VEIN, ArteryVein.UNCERTAIN


@pytest.fixture(scope="module")
def labelled(tmp_path_factory, make_photo_dataset):
    """Two synthetic photographs whose vessels left of the middle are arteries, the others
    veins."""
    root = make_photo_dataset(tmp_path_factory.mktemp("av") / "eyes", "generic", count=2)
    (root / "labels-av").mkdir()
    for label in sorted((root / "labels").glob("*.png")):
        vessels = np.asarray(Image.open(label)) > 0
        colours = np.zeros((*vessels.shape, 3), np.uint8)
        left = np.arange(vessels.shape[1]) < vessels.shape[1] // 2
        colours[vessels & left] = (255, 0, 0)
        colours[vessels & ~left] = (0, 0, 255)
        Image.fromarray(colours).save(root / "labels-av" / label.name)
    return root


@pytest.fixture(scope="module")
def converted(labelled, tmp_path_factory, run_cli):
    """A run of train-artery-vein and its conversion: (run folder, int8 model, outputs)."""
    run = tmp_path_factory.mktemp("run")
    left_out = tmp_path_factory.mktemp("left-out") / "eyes"  # the same photographs, another camera
    shutil.copytree(labelled, left_out)
    trained = run_cli(
        "train-artery-vein",
        labelled,
        "--out",
        run,
        "--epochs",
        "1",
        "--crops",
        "16",
        "--width",
        "4",
        "--draw-by",
        "camera",
        "--score",
        left_out,
    )
    model = run / "av.tflite"
    # one epoch leaves every probability near 0.5, where int8 rounding flips classes: the
    # gate's limits are opened here (its verdicts are tested below). Given as "." from within
    # it, the folder is named by its own name on the card, as the vessel gate names it
    # (Path(".").name is "").
    here = os.getcwd()
    os.chdir(labelled)
    try:
        convert = run_cli(
            "convert-artery-vein",
            run / "model.keras",
            "--data",
            ".",
            "-o",
            model,
            "--max-mean-drop",
            "1",
            "--min-agreement",
            "0",
        )
    finally:
        os.chdir(here)
    return run, model, trained.stdout + convert.stdout


def test_training_writes_the_model_and_a_record_of_what_it_scored(converted):
    run, _, printed = converted
    record = ArteryVeinRecord.read(run / ARTERY_VEIN_RECORD)
    assert record.photographs == 2 and record.data == ("eyes",) and record.parameters > 0
    assert record.training.epochs == 1 and record.training.width == 4
    assert record.training.draw_by == "camera"  # as given
    assert list(record.settings_sha256) == ["training.fov_diameter"]
    assert edited_settings(record) == ()  # bound to its model file, and converted so
    assert [p.name for p in record.scored] == ["eyes/eye1", "eyes/eye2"]
    assert f"accuracy on found vessels {record.accuracy:.4f}" in printed


def test_an_earlier_run_is_not_overwritten(converted, labelled, run_cli):
    run = converted[0]
    before = (run / "model.keras").read_bytes()
    result = run_cli("train-artery-vein", labelled, "--out", run, "--epochs", "1", expect=2)
    assert f"{run}: already holds model.keras, artery_vein.json; pass --overwrite" in result.output
    assert (run / "model.keras").read_bytes() == before


def test_scoring_a_folder_it_trains_on_is_a_usage_error(labelled, run_cli, tmp_path):
    alias = tmp_path / "alias"
    alias.symlink_to(labelled)
    result = run_cli(
        "train-artery-vein", labelled, "--score", alias, "--out", tmp_path / "r", expect=2
    )
    assert f"--score {alias}: is a folder the model trains on" in result.output
    assert not (tmp_path / "r").exists()


def test_a_score_folder_that_cannot_be_scored_is_refused_before_training(
    labelled, run_cli, tmp_path, monkeypatch
):
    """--score of a folder without artery/vein labels was read once trained: the training was
    lost (12 minutes of the release's)."""
    unlabelled = tmp_path / "camera"
    shutil.copytree(labelled, unlabelled)
    shutil.rmtree(unlabelled / "labels-av")

    def trained(*_):
        raise AssertionError("trained before the --score folder was read")

    monkeypatch.setattr("training.artery_vein.train_artery_vein", trained)
    args = ["train-artery-vein", labelled, "--score", unlabelled, "--out", tmp_path / "r"]
    result = run_cli(*args, "--epochs", "1", "--crops", "4", expect=2)
    assert f"Error: {unlabelled}: no photographs with an artery/vein label\n" in result.output
    assert not (tmp_path / "r").exists()


def test_the_int8_model_carries_its_card_and_gate_and_runs_on_the_device(converted, labelled):
    _, model, printed = converted
    card = read_card(read_model_bytes(model))
    # the whole field at once, at half the vessel model's scale (trained on 128-pixel crops:
    # fully convolutional)
    assert card.preprocessing.name == ARTERY_VEIN_PREPROCESSING
    assert (card.patch_size, card.fov_diameter) == (272, 270)
    assert card.quantization == "int8" and card.input.dtype == "int8"
    # no recipe, random weights (not "not recorded", as on a card older than its start), and
    # nothing held out: the last epoch kept
    assert card.training.start == TrainingStart() and card.training.holdout == 0
    assert card.training.best_epoch is None
    gate = card.artery_vein_gate
    assert gate.passed and gate.photographs == 2 and gate.data == ("eyes",)
    assert f"int8 accuracy {gate.int8_accuracy:.4f}" in printed and "passed" in printed
    photo = next((labelled / "images").glob("*.png"))
    result = Segmenter(artery_vein=model).segment(photo)
    assert np.array_equal(result.artery_vein != ArteryVein.BACKGROUND, result.mask.astype(bool))
    work, artery = result.prepared.work.shape, result.work_artery_probability.shape
    assert all(abs(a - w / 2) <= 1 for a, w in zip(artery, work, strict=True))


def test_segment_av_writes_the_map_at_the_photographs_size(converted, labelled, tmp_path, run_cli):
    _, model, _ = converted
    photos = sorted((labelled / "images").glob("*.png"))
    printed = run_cli(
        "segment", *photos, "--av-model", model, "-o", tmp_path, "--json", "--jobs", "2"
    )
    records = [json.loads(line) for line in printed.stdout.splitlines()]
    for photo, record in zip(photos, records, strict=True):
        written = Image.open(record["outputs"]["artery_vein"])
        assert written.mode == "RGB" and written.size == Image.open(photo).size
        classes = decode_artery_vein(np.asarray(written), "av")
        mask = np.asarray(Image.open(record["outputs"]["mask"])) > 0
        assert np.array_equal(classes != ArteryVein.BACKGROUND, mask)
        assert record["stages_ms"]["artery_vein"] > 0


def test_a_failing_gate_writes_nothing_and_says_why(converted, labelled, tmp_path, run_cli):
    """Over an earlier file (--overwrite), which stands, as the last line says."""
    run, _, _ = converted
    target = tmp_path / "av.tflite"
    target.write_bytes(b"an earlier model")
    failed = run_cli(
        "convert-artery-vein",
        run / "model.keras",
        "--data",
        labelled,
        "-o",
        target,
        "--overwrite",
        "--min-agreement",
        "1",
        expect=1,
    )
    assert "FAILED: " in failed.stdout and "int8 and float agree on" in failed.stdout
    assert "of the found vessel pixels, required 1.0" in failed.stdout
    said = failed.stderr.splitlines()[-1]
    assert said == f"not written: {target} (the earlier file stands, as it was)"
    assert target.read_bytes() == b"an earlier model"


def test_a_model_without_its_run_record_is_refused_on_one_line(converted, tmp_path, run_cli):
    run, _, _ = converted
    alone = tmp_path / "model.keras"
    alone.write_bytes((run / "model.keras").read_bytes())
    failed = run_cli(
        "convert-artery-vein", alone, "--data", tmp_path, "-o", tmp_path / "x", expect=2
    )
    assert f"{tmp_path / ARTERY_VEIN_RECORD}: missing" in failed.stderr
    assert failed.stderr.count("\n") == 1 and not (tmp_path / "x").exists()


class Constant:
    side = 128
    card = ModelCard(patch_size=128, preprocessing=Preprocessing(ARTERY_VEIN_PREPROCESSING))

    def __init__(self, value: float):
        self.value = value

    def predict(self, patches):
        return np.full(patches.shape[:3], self.value, np.float32)


class SureVessels(Constant):
    """Artery where the vessel probability (the fourth input channel) is above ``value``: some
    of the found vessels of each class."""

    def predict(self, patches):
        return (patches[..., 3] > self.value).astype(np.float32)


def test_the_gate_fails_a_model_that_classes_otherwise_than_its_twin(labelled):
    examples = load_examples([labelled], Segmenter(), ArteryVeinTraining())
    model = ArteryVeinModel(SureVessels(0.9))
    same = artery_vein_gate(model, model, examples, ArteryVeinGates(), ("eyes",))
    assert same.passed and same.agreement == 1.0 and same.failures == ()
    other = ArteryVeinModel(Constant(0.0))
    report = artery_vein_gate(model, other, examples, ArteryVeinGates(), ("eyes",))
    assert not report.passed and report.agreement < 0.97
    assert any("of the found vessel pixels, required 0.97" in f for f in report.failures)


def test_the_gate_fails_models_that_call_every_vessel_one_class_though_they_agree(labelled):
    """A constant model agreed with itself on every pixel, and passed."""
    examples = load_examples([labelled], Segmenter(), ArteryVeinTraining())
    for value, share in ((1.0, "100%"), (0.0, "0%")):
        constant = ArteryVeinModel(Constant(value))
        report = artery_vein_gate(constant, constant, examples, ArteryVeinGates(), ("eyes",))
        assert not report.passed and report.agreement == 1.0
        for model, failure in zip(("float", "int8"), report.failures, strict=True):
            assert failure.startswith(f"the {model} model calls {share} of the found vessel")


def test_training_refuses_an_artery_vein_label_with_a_white_background(labelled, tmp_path):
    """As eval does: white is RITE's mark for an uncertain vessel, so a white background would
    be taught as vessels everywhere."""
    import shutil

    from edge_runtime.errors import InputError

    root = tmp_path / "eyes"
    shutil.copytree(labelled, root)
    label = root / "labels-av" / "eye2.png"
    colours = np.asarray(Image.open(label)).copy()
    colours[(colours == 0).all(axis=2)] = 255
    Image.fromarray(colours).save(label)
    with pytest.raises(InputError, match=r"eye2\.png: vessels cover 100% of the field of view"):
        load_examples([root], Segmenter(), ArteryVeinTraining())


def test_training_refuses_another_photograph_s_artery_vein_label(labelled, tmp_path):
    """As eval does: a label swapped with another photograph's would teach classes off its
    vessels."""
    from edge_runtime.errors import InputError

    root = tmp_path / "eyes"
    shutil.copytree(labelled, root)
    first, second = root / "labels-av" / "eye1.png", root / "labels-av" / "eye2.png"
    swapped = first.read_bytes()
    first.write_bytes(second.read_bytes())
    second.write_bytes(swapped)
    with pytest.raises(
        InputError, match=r"eye1\.png: \d+% of its centre lines lie on the photograph's vessel"
    ):
        load_examples([root], Segmenter(), ArteryVeinTraining())


def test_a_photograph_without_an_artery_vein_label_is_left_out_with_a_warning(labelled, tmp_path):
    """It was left out without a word ("trained on 2 photographs")."""
    import shutil

    root = tmp_path / "eyes"
    shutil.copytree(labelled, root)
    (root / "labels-av" / "eye2.png").unlink()
    with pytest.warns(UserWarning, match=r"eye2\.png: no artery/vein label, left out"):
        examples = load_examples([root], Segmenter(), ArteryVeinTraining())
    assert [example.name for example in examples] == ["eyes/eye1"]


def test_the_int8_model_is_gated_whatever_keys_the_device_trusts(
    converted, labelled, tmp_path, run_cli, monkeypatch
):
    """With $EDGE_SEG_TRUSTED_KEYS set, the gate refused its own unsigned temporary file."""
    run, _, _ = converted
    release_keys = Path(__file__).parents[2] / "firmware_notes" / "keys"  # the vessel model's
    monkeypatch.setenv("EDGE_SEG_TRUSTED_KEYS", str(release_keys))
    args = ["convert-artery-vein", run / "model.keras", "--data", labelled, "-o", tmp_path / "m"]
    run_cli(*args, "--max-mean-drop", "1", "--min-agreement", "0")
    assert (tmp_path / "m").is_file()


def test_training_refuses_a_grayscale_photograph(labelled, tmp_path):
    """The device makes no artery/vein map of one; training on it, or scoring it, would count
    what never runs."""
    import shutil

    from edge_runtime.errors import InputError

    root = tmp_path / "eyes"
    shutil.copytree(labelled, root)
    image = next((root / "images").glob("eye2.*"))
    Image.open(image).convert("L").save(image)
    with pytest.raises(
        InputError, match=r"eye2\.png: no colour found \(a grayscale or tinted photograph"
    ):
        load_examples([root], Segmenter(), ArteryVeinTraining())


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        ({"parameters": 999}, "records a model of 999 parameters"),
        ({"training": {"width": 16}}, "do not build"),  # once a set_weights traceback
        ({"training": {"fov_diameter": 20000}}, "fov_diameter"),  # once killed for memory
        # believed once: the gate ran both models at it and passed
        ({"training": {"fov_diameter": 300}}, "its training.fov_diameter 300.0 is not what its"),
        ({"training": {"epochs": 0}}, "epochs"),
    ],
)
def test_convert_refuses_a_run_record_that_is_not_the_models(
    converted, labelled, tmp_path, run_cli, edit, says
):
    import shutil

    run, _, _ = converted
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    record = json.loads((copy / ARTERY_VEIN_RECORD).read_text())
    record.update({k: v for k, v in edit.items() if k != "training"})
    record["training"].update(edit.get("training", {}))
    (copy / ARTERY_VEIN_RECORD).write_text(json.dumps(record))
    args = ["convert-artery-vein", copy / "model.keras", "--data", labelled]
    args += ["--max-mean-drop", "1", "--min-agreement", "0"]  # opened as for the run's own
    done = run_cli(*args, "-o", tmp_path / "m.tflite", expect=2)
    assert says in done.output and ARTERY_VEIN_RECORD in done.output
    assert not (tmp_path / "m.tflite").exists()


@pytest.mark.parametrize("command", ["train", "train-artery-vein"])
def test_both_trainings_refuse_more_epochs_than_the_most_a_run_may_make(command, run_cli, tmp_path):
    """train-artery-vein took any number: 10**26 epochs ran until killed."""
    from training.config import MAX_EPOCHS

    args = [command, tmp_path, "--epochs", str(MAX_EPOCHS + 1), "--out", tmp_path / "run"]
    done = run_cli(*args, expect=2)
    assert f"{MAX_EPOCHS + 1} is not in the range 1<=x<={MAX_EPOCHS}" in done.output
    assert done.output.count("\n") == 1 and not (tmp_path / "run").exists()


def test_a_vessel_run_of_no_or_too_many_epochs_is_refused_as_an_artery_vein_run_is():
    """Its record's epochs were unbounded (only the command's option was bounded)."""
    from training.config import MAX_EPOCHS, TrainConfig

    assert TrainConfig(data=("x.npz",), out="run", epochs=MAX_EPOCHS).epochs == MAX_EPOCHS
    for epochs in (0, MAX_EPOCHS + 1):
        with pytest.raises(ValueError, match=f"got epochs {epochs}, expected 1 to {MAX_EPOCHS}"):
            TrainConfig(data=("x.npz",), out="run", epochs=epochs)


def test_a_vessel_run_wider_than_convert_tells_is_refused():
    """TrainConfig took any width (only train --width was bounded): a run of width 65 trained,
    and convert then refused its record as not its model's, which is of no architecture here."""
    from training.config import TrainConfig
    from training.models import MAX_WIDTH

    assert TrainConfig(data=("x.npz",), out="run", width=MAX_WIDTH).width == MAX_WIDTH
    for width in (0, MAX_WIDTH + 1):
        with pytest.raises(ValueError, match=f"got width {width}, expected 1 to {MAX_WIDTH}"):
            TrainConfig(data=("x.npz",), out="run", width=width)


def _example(camera: int, value: float) -> ArteryVeinExample:
    """A 32-pixel example whose inputs are all ``value``, every pixel a labelled artery."""
    side = 32
    codes = np.full((side, side), ArteryVein.ARTERY, np.int8)
    inside = np.ones((side, side), bool)
    inputs = np.full((side, side, 4), value, np.float32)
    return ArteryVeinExample(
        f"c{camera}/{value:g}", inputs, inside, codes, codes, inside, inside, camera
    )


@pytest.mark.parametrize("draw_by, first_camera_share", [("photograph", 0.25), ("camera", 0.5)])
def test_crops_are_drawn_evenly_over_photographs_or_over_cameras(draw_by, first_camera_share):
    """One camera of one photograph, another of three: drawn by camera, each camera gives half
    the crops, whatever its number of photographs."""
    examples = [_example(0, 0.0), _example(1, 1.0), _example(1, 2.0), _example(1, 3.0)]
    groups = drawn_groups(examples, draw_by)
    x, y, w = draw_crops(examples, np.random.default_rng(0), 4000, 16, groups)
    values = x[:, 0, 0, 0]
    assert abs(np.mean(values == 0.0) - first_camera_share) < 0.03
    for value in (1.0, 2.0, 3.0):  # the second camera's photographs alike
        assert abs(np.mean(values == value) - (1 - first_camera_share) / 3) < 0.03
    assert y.min() == 1 and w.min() == 1


def test_each_training_folder_is_a_camera_of_its_own(labelled, tmp_path):
    """Its photographs are drawn as one camera's when crops are drawn by camera."""
    other = tmp_path / "eyes"
    shutil.copytree(labelled, other)
    examples = load_examples([labelled, other], Segmenter(), ArteryVeinTraining())
    assert [e.camera for e in examples] == [0, 0, 1, 1]
    assert drawn_groups(examples, "camera") == [[0, 1], [2, 3]]
    assert drawn_groups(examples, "photograph") == [[0, 1, 2, 3]]


def test_training_names_an_artery_vein_label_that_matches_no_photograph(labelled, tmp_path):
    root = tmp_path / "eyes"
    shutil.copytree(labelled, root)
    misnamed = root / "labels-av" / "eye2_av.png"
    (root / "labels-av" / "eye2.png").rename(misnamed)
    with pytest.warns(UserWarning) as warned:
        examples = load_examples([root], Segmenter(), ArteryVeinTraining())
    assert [str(w.message) for w in warned] == [
        f"{misnamed}: matches no photograph's name, so nothing reads it",
        f"{root / 'images' / 'eye2.png'}: no artery/vein label, left out",
    ]
    assert [example.name for example in examples] == ["eyes/eye1"]


class _ByChannel:
    """Artery probability = one input channel (what the example's inputs say)."""

    side = 32
    card = ModelCard(patch_size=32, preprocessing=Preprocessing(ARTERY_VEIN_PREPROCESSING))

    def __init__(self, channel: int):
        self.channel = channel

    def predict(self, patches):
        return patches[..., self.channel].astype(np.float32)


def _gate_example(float_wrong: int, int8_wrong: int, int8_arteries: int | None = None):
    """A 32-pixel example: left half arteries, right half veins; 200 found pixels (rows 0-9,
    columns 6-25), 100 of each class; channel 0 the float model's probability, channel 1 the
    int8 model's, each wrong on its first ``*_wrong`` found pixels (or, with
    ``int8_arteries``, calling that many of the found pixels arteries, all in float too)."""
    from training.artery_vein import ArteryVeinExample

    side = 32
    codes = np.where(np.arange(side) < 16, A, V).astype(np.int8)[np.newaxis].repeat(side, 0)
    found = np.zeros((side, side), bool)
    found[0:10, 6:26] = True
    inside = np.ones((side, side), bool)
    right = (codes == A).astype(np.float32)
    inputs = np.zeros((side, side, 4), np.float32)
    where = np.argwhere(found)
    for channel, wrong in ((0, float_wrong), (1, int8_wrong)):
        plane = right.copy()
        for y, x in where[:wrong]:
            plane[y, x] = 1 - plane[y, x]
        inputs[..., channel] = plane
    if int8_arteries is not None:
        plane = np.zeros((side, side), np.float32)
        for y, x in where[:int8_arteries]:
            plane[y, x] = 1
        inputs[..., 0] = inputs[..., 1] = plane
    return ArteryVeinExample("x/eye", inputs, inside, codes, codes, found, inside)


def _gate(example, gates):
    from converters.artery_vein import artery_vein_gate

    models = ArteryVeinModel(_ByChannel(0)), ArteryVeinModel(_ByChannel(1))
    return artery_vein_gate(*models, [example], gates, ("x",))


def test_the_gate_fails_an_int8_model_less_accurate_than_its_float_twin_not_a_better_one():
    """Guards against max_mean_drop unchecked or its difference reversed: no test ever failed on it
    (the converted fixture opens it to 1)."""
    from edge_runtime.contract.gate_report import ArteryVeinGates

    gates = ArteryVeinGates(max_mean_drop=0.01, min_agreement=0.0)
    worse = _gate(_gate_example(0, 4), gates)  # int8 right on 196 of 200: drop 0.02
    assert (worse.float_accuracy, worse.int8_accuracy) == (1.0, 0.98) and not worse.passed
    assert worse.failures == (
        "mean accuracy fell by 0.0200 (float 1.0000, int8 0.9800), allowed 0.01",
    )
    better = _gate(_gate_example(4, 0), gates)  # int8 the better one
    assert better.passed and better.failures == ()
    assert _gate(_gate_example(0, 1), gates).passed  # drop 0.005: allowed


def test_the_gate_s_agreement_is_over_the_found_vessel_pixels_and_its_limit_is_inclusive():
    """Guards against agreement over every pixel (the background always agrees) and '<' made
    '<='."""
    from edge_runtime.contract.gate_report import ArteryVeinGates

    gates = ArteryVeinGates(max_mean_drop=1.0, min_agreement=0.97)
    at_limit = _gate(_gate_example(0, 6), gates)  # 194 of 200 found pixels agree
    assert at_limit.agreement == 0.97 and at_limit.passed
    below = _gate(_gate_example(0, 7), gates)  # 193 of 200; 1017 of 1024 pixels
    assert below.agreement == pytest.approx(193 / 200) and not below.passed
    assert below.failures == (
        "int8 and float agree on 0.9650 of the found vessel pixels, required 0.97",
    )


@pytest.mark.parametrize(
    "arteries, passed", [(190, False), (181, False), (180, True), (20, True), (19, False)]
)
def test_the_gate_fails_a_model_calling_more_than_90_percent_of_the_found_vessels_one_class(
    arteries, passed
):
    """Guards against MAX_ONE_CLASS loosened (only 0 % and 100 % were tested)."""
    from edge_runtime.contract.gate_report import ArteryVeinGates

    report = _gate(_gate_example(0, 0, int8_arteries=arteries), ArteryVeinGates())
    assert report.agreement == 1.0 and report.passed is passed
    if not passed:
        share = f"{arteries / 200:.0%}"
        assert report.failures[0].startswith(f"the float model calls {share} of the found")


def test_crops_hold_a_labelled_pixel_and_weigh_and_target_only_arteries_and_veins_flipped_alike():
    """Guards against crops centred anywhere, crossings/uncertain pixels weighted (or every pixel),
    uncertain taught as artery, and a target not flipped with its inputs: the existing crop test
    uses examples that are all artery and uniform, where none of these shows."""
    from training.artery_vein import ArteryVeinExample, draw_crops

    rng = np.random.default_rng(1)
    side = 64
    codes = np.zeros((side, side), np.int8)
    codes[50:60, 44:60] = rng.choice([0, A, V, U], size=(10, 16))  # one corner, asymmetric
    codes[50, 44], codes[51, 44], codes[52, 44] = A, V, U
    inside = np.ones((side, side), bool)
    inputs = np.zeros((side, side, 4), np.float32)
    inputs[..., 0] = codes  # the crop's inputs say where its target should be
    inputs[..., 1] = np.arange(side)[:, np.newaxis]  # and which way up
    example = ArteryVeinExample("x/eye", inputs, inside, codes, codes, inside, inside)
    x, y, w = draw_crops([example], np.random.default_rng(0), 300, 16, [[0]])
    seen = x[..., 0].round().astype(np.int8)
    assert np.array_equal(y[..., 0], (seen == A).astype(np.float32))
    assert np.array_equal(w, np.isin(seen, (A, V)).astype(np.float32))
    assert w.reshape(len(w), -1).any(axis=1).all()  # each crop near a labelled pixel
    assert (x[:, 0, 0, 1] > x[:, -1, 0, 1]).any() and (x[:, 0, 0, 1] < x[:, -1, 0, 1]).any()
    assert (seen == U).any()  # uncertain pixels were in the crops, weighing nothing


def test_training_scores_on_the_vessels_the_device_finds(tmp_path, make_photo_dataset):
    """Guards against ``found`` cut at another threshold than the segmenter's: found should be the
    device's mask, at the working scale."""
    from training.artery_vein import load_examples
    from training.config import ArteryVeinTraining

    root = make_photo_dataset(tmp_path / "eyes", "generic", count=2)
    (root / "labels-av").mkdir()
    for label in sorted((root / "labels").glob("*.png")):
        vessels = np.asarray(Image.open(label)) > 0
        colours = np.zeros((*vessels.shape, 3), np.uint8)
        left = np.arange(vessels.shape[1]) < vessels.shape[1] // 2
        colours[vessels & left], colours[vessels & ~left] = (255, 0, 0), (0, 0, 255)
        Image.fromarray(colours).save(root / "labels-av" / label.name)
    segmenter = Segmenter()
    examples = load_examples([root], segmenter, ArteryVeinTraining())
    images = sorted((root / "images").glob("*.png"))
    for example, image in zip(examples, images, strict=True):
        result = segmenter.segment(image)
        share = np.count_nonzero(example.found) / np.count_nonzero(example.inside)
        assert share == pytest.approx(result.vessel_fraction, rel=0.25)


def test_a_setting_given_as_an_integer_is_bound_as_the_record_reads_it(tmp_path):
    """A run whose fov_diameter was given as 300 (an int, in Python) bound "300", and its record
    reads back 300.0: convert refused the run's own record as edited by hand."""
    from edge_runtime.contract.bound_settings import bind

    training = ArteryVeinTraining(fov_diameter=300)
    bind(ArteryVeinRecord(training, ("eyes",)), "ab" * 32).write(tmp_path / ARTERY_VEIN_RECORD)
    read = ArteryVeinRecord.read(tmp_path / ARTERY_VEIN_RECORD)
    assert read.training.fov_diameter == 300.0
    assert edited_settings(read) == ()
    edited = dataclasses.replace(read, training=dataclasses.replace(training, fov_diameter=301))
    assert edited_settings(edited) == ("training.fov_diameter",)
