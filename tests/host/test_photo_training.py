"""Training, fine-tuning and the gate on folders of labelled photographs (mechanics on small
synthetic photographs; quality is the business of the benchmarks, as it depends on the CPU)."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

pytest.importorskip("keras", reason="host tests need the 'train' extra (TensorFlow)")

from edge_runtime.cli.main import cli
from edge_runtime.contract.training_record import TrainingRecord
from edge_runtime.data.photos import photo_holdout
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.pipeline.fov import detect_fov
from training.sources import parse_data_argument

TINY = ["--epochs", "2", "--crops", "64", "--batch-size", "16", "--seed", "7"]
LITE = ["--arch", "unet-lite", "--width", "4"]


def _photos(root: Path, count: int = 5, layout: str = "generic") -> Path:
    """Synthetic photographs whose labels are their dark curves, in the generic or STARE
    layout."""
    folders = {"generic": ("images", "labels"), "stare": ("stare-images", "labels-ah")}[layout]
    for folder in folders:
        (root / folder).mkdir(parents=True)
    for i in range(count):
        photo = synthetic_fundus(180, 200, seed=i)
        gray = photo.mean(axis=2)
        label = ((gray > 20) & (gray < 0.8 * np.percentile(gray[gray > 20], 60))) * 255
        stem = f"im{i:04d}" if layout == "stare" else f"eye{i}"
        Image.fromarray(photo).save(root / folders[0] / f"{stem}.png")
        suffix = ".ah.png" if layout == "stare" else ".png"
        Image.fromarray(label.astype(np.uint8)).save(root / folders[1] / f"{stem}{suffix}")
    return root


def test_data_arguments_and_photo_holdouts():
    assert parse_data_argument("photos") == (Path("photos"), 1.0)
    assert parse_data_argument("photos:2.5") == (Path("photos"), 2.5)
    assert parse_data_argument("a:b") == (Path("a:b"), 1.0)
    assert photo_holdout(12, 0.2).tolist() == [3, 9]
    assert photo_holdout(5, 0.2).tolist() == [2] and photo_holdout(1, 0.5).tolist() == []
    assert photo_holdout(3, 0.9).tolist() == [0, 2]  # never every photograph


def test_training_on_photographs_and_patches_together(tmp_path, subset_npz, train_smoke):
    photos = _photos(tmp_path / "photos")
    result = train_smoke(
        f"{photos}:3",
        tmp_path / "run",
        subset_npz,
        "--arch",
        "unet-lite",
        "--width",
        "4",
        "--crops",
        "64",
    )
    record = TrainingRecord.read(tmp_path / "run" / "metrics.json")
    assert record.train_photos == 4 and len(record.holdout_photos) == 1
    assert record.holdout_photos[0].name == "eye2"
    assert record.holdout_f1 == record.holdout_photos[0].f1 and record.holdout_auc is not None
    assert record.holdout_patches == 24 and len(record.holdout_dice_per_patch) == 24
    assert record.train_patches == 48 and record.width == 4
    assert len(record.data_sha256) == 64
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["data"] == [f"{photos.name}:3", subset_npz.name] and config["crops"] == 64
    assert "out" not in config  # no path of this machine
    assert "holdout photographs: F1" in result.stdout


def test_fine_tuning_starts_from_the_given_weights(tmp_path, host_model, run_cli):
    """The record names the model started from by its file name, one whose bytes are not
    UTF-8 as messages show it (it was written as JSON's escape of a lone surrogate, which
    strict readers of the record and of the card it goes into refuse)."""
    import os

    photos = _photos(tmp_path / "photos", layout="stare")
    out = tmp_path / "tuned"
    init = shutil.copy(host_model, os.fsdecode(bytes(tmp_path) + b"/caf\xe9.keras"))
    run_cli("train", photos, "--out", out, "--arch", "unet", "--width", "4", "--init", init, *TINY)
    record = TrainingRecord.read(out / "metrics.json")
    from edge_runtime.contract.model_card import ModelFile, TrainingStart
    from edge_runtime.data.patches import file_sha256

    named = ModelFile("caf\\udce9.keras", file_sha256(host_model))
    assert record.start == TrainingStart(None, named)
    result = run_cli(
        "train",
        photos,
        "--out",
        tmp_path / "bad",
        "--arch",
        "unet-lite",
        "--init",
        host_model,
        *TINY,
        expect=2,
    )
    assert result.output == (
        f"Error: {host_model}: its weights do not fit --arch unet-lite --width 8\n"
    )


def test_the_card_says_what_training_started_from_and_the_epoch_it_kept(tmp_path, run_cli):
    """A study reading a card could not tell how the model was made: the card named no recipe,
    no model whose weights training started from (the record gave its SHA-256 alone, and no
    name), and not the epoch kept for its best held-out score (the record alone had it)."""
    from edge_runtime.contract.model_card import ModelFile, TrainingStart
    from edge_runtime.data.patches import file_sha256
    from training.config import RELEASE_TWIN

    photos = _photos(tmp_path / "photos")
    out = tmp_path / "tuned"
    run_cli("train", photos, "--out", out, "--recipe", "finetune", *TINY)
    record = TrainingRecord.read(out / "metrics.json")
    init = ModelFile("model.keras", file_sha256(RELEASE_TWIN))
    assert record.start == TrainingStart("finetune", init)
    model = tmp_path / "m.tflite"
    convert = ["convert", out / "model.keras", "--calibration", photos, "--no-check", "-o", model]
    run_cli(*convert, "--calibration-size", "16")
    training = json.loads(run_cli("info", "--model", model, "--json").stdout)["metadata"][
        "training"
    ]
    assert training["start"] == {
        "recipe": "finetune",
        "init": {"name": "model.keras", "sha256": init.sha256},
        "teacher": None,
    }
    assert training["best_epoch"] == record.best_epoch  # a fifth held out: the best kept
    said = run_cli("info", "--model", model).stdout
    assert (
        f"trained:      recipe finetune, from model.keras (SHA-256 {init.sha256[:12]}...); "
        f"epoch {record.best_epoch} of 2 kept (best held-out score)\n"
    ) in said


def test_distillation_needs_a_single_patch_file(tmp_path, host_model, run_cli, subset_npz):
    photos = _photos(tmp_path / "photos")
    result = run_cli(
        "train",
        photos,
        subset_npz,
        "--out",
        tmp_path / "run",
        "--teacher",
        host_model,
        *TINY,
        expect=2,
    )
    assert "distillation takes a single .npz file as data" in result.output


def test_the_gate_on_photographs(tmp_path, host_model, dev_npz, run_cli):
    """The fixture model converted to int8, gated on two DRIVE photographs through the
    device's pipeline: its own twin passes, another model's does not."""
    drive = tmp_path / "drive"
    for folder, pattern in (
        ("images", "1[78]_test.tif"),
        ("1st_manual", "1[78]_manual1.gif"),
        ("mask", "1[78]_test_mask.gif"),
    ):
        (drive / folder).mkdir(parents=True)
        for path in (dev_npz.parent / "drive" / folder).glob(pattern):
            shutil.copy(path, drive / folder)
    model = tmp_path / "m.tflite"
    result = run_cli(
        "convert",
        host_model,
        "--calibration",
        drive,
        "--calibration-size",
        "128",
        "--check-data",
        drive,
        "-o",
        model,
    )
    assert "gate passed" in result.output and "(2 photographs)" in result.output
    from edge_runtime.inference.model_file import read_card

    gate = read_card(model.read_bytes()).gate
    assert gate.unit == "photographs" and gate.n == 2 and gate.data.path == "drive"
    assert gate.pixel_agreement > 0.99
    report = json.loads(
        run_cli(
            "check", "--keras", host_model, "--tflite", model, "--data", drive, "--json"
        ).stdout.splitlines()[0]
    )
    assert report["passed"] and report["unit"] == "photographs"
    assert len(report["tflite"]["dice_per_image"]) == 2
    assert sorted(w["name"] for w in report["worst_drops"]) == ["drive/17_test", "drive/18_test"]
    from edge_runtime.inference.bundled import DEFAULT_MODEL

    shutil.copytree(drive, tmp_path / "again")  # several folders: one gate over all of them
    both = json.loads(
        run_cli(
            "check",
            "--keras",
            host_model,
            "--tflite",
            model,
            "--data",
            drive,
            "--data",
            tmp_path / "again",
            "--json",
        ).stdout
    )
    assert both["n"] == 4 and both["data"]["path"] == "drive+again" and both["passed"]
    mixed_up = run_cli(
        "check",
        "--keras",
        host_model,
        "--tflite",
        DEFAULT_MODEL,
        "--data",
        drive,
        "--json",
        expect=1,
    )
    assert any("not a faithful conversion" in f for f in json.loads(mixed_up.stdout)["failures"])


def test_the_gate_s_holdout_must_be_the_photographs_the_run_held_out(
    tmp_path, host_model, subset_npz, run_cli
):
    """A run held out eye2 and eye7 of ten photographs (0.2). convert --check-holdout 0.3 gated
    on eye1, eye5 and eye8, all trained on, and its card said it passed on a holdout of 0.3;
    check --holdout 0.4 passed on four it trained on; 0.2 of the folder with two photographs
    added since takes eye11 (trained on none of it, but not held out), and a run's holdout of
    the kind of data it did not hold out (photographs of a run on patches, patches of a run on
    photographs) selects what it may have trained on."""
    photos, more = _photos(tmp_path / "photos", count=10), _photos(tmp_path / "more", count=12)
    run = tmp_path / "run"
    run_cli(
        "train", photos, "--out", run, "--arch", "unet", "--width", "4", "--init", host_model, *TINY
    )
    record, model, target = run / "metrics.json", run / "model.keras", tmp_path / "m.tflite"
    convert = ["convert", model, "--calibration", photos, "--calibration-size", "32", "-o", target]

    def refused(*args, model=model) -> str:
        done = run_cli(*convert[:1], model, *convert[2:], *args, expect=2)
        assert not target.exists()
        return done.stderr.splitlines()[-1]

    assert refused("--check-data", photos, "--check-holdout", "0.3") == (
        f"Error: --check-holdout 0.3: {record} says its run held out 0.2, so the gate would "
        "score photographs it may have trained on as held out (a share is taken only if it is "
        "the run's exactly); give --check-holdout 0.2, or gate "
        "without it on data the run never saw"
    )
    assert refused("--check-data", more, "--check-holdout", "0.2") == (
        f"Error: {more / 'images' / 'eye11.png'}: --check-holdout 0.2 selects it, but {record} "
        "does not name it among the 2 photographs its run held out, so the gate may "
        "score a photograph it trained on as held out (other photographs than the run's, or some "
        "added or removed since?); gate without --check-holdout on photographs the run never saw"
    )
    assert refused("--check-data", subset_npz, "--check-holdout", "0.2") == (
        f"Error: --check-holdout 0.2: {record} says its run held out no patches (only "
        "photographs), so the gate would score patches it may have trained on as held "
        "out; gate without --check-holdout on patches the run never saw"
    )
    on_patches = refused("--check-data", photos, "--check-holdout", "0.2", model=host_model)
    assert on_patches.startswith(
        f"Error: --check-holdout 0.2: {host_model.parent / 'metrics.json'} says its run held out "
        "no photographs (only patches), so the gate would score photographs"
    )
    run_cli(*convert, "--no-check")
    check = ["check", "--keras", model, "--tflite", target, "--data", photos, "--json"]
    assert run_cli(*check, "--holdout", "0.4", expect=2).output.startswith(
        f"Error: --holdout 0.4: {record} says its run held out 0.2, so the gate would score "
        "photographs it may have trained on"
    )
    loose = ["--max-mean-drop", "1", "--max-image-drop", "1", "--min-pixel-agreement", "0"]
    report = json.loads(run_cli(*check, "--holdout", "0.2", *loose, "--max-mean-gain", "1").stdout)
    assert sorted(w["name"] for w in report["worst_drops"]) == ["photos/eye2", "photos/eye7"]


def test_the_gate_s_holdout_photographs_are_the_run_s_of_the_same_folder(tmp_path, run_cli):
    """Two cameras' folders name their photographs alike: the run held out eye2 and eye7 of
    clinic-a's ten, eye3 and eye7 of clinic-b's nine (eye1 to eye9). Its record named the
    photographs alone, so clinic-a less eye0, whose 0.2 takes eye3 and eye7, passed the gate's
    holdout check with eye3, trained on in clinic-a and held out of clinic-b alone. The record
    names each photograph's folder, and the gate's photographs must be the run's of theirs."""
    clinic_a, clinic_b = _photos(tmp_path / "clinic-a", 10), _photos(tmp_path / "clinic-b", 10)
    later = tmp_path / "later" / "clinic-a"
    shutil.copytree(clinic_a, later)
    for path in (clinic_b / "images" / "eye0.png", clinic_b / "labels" / "eye0.png"):
        path.unlink()
    for path in (later / "images" / "eye0.png", later / "labels" / "eye0.png"):
        path.unlink()
    run = tmp_path / "run"
    run_cli("train", clinic_a, clinic_b, "--out", run, "--arch", "unet", "--width", "4", *TINY)
    held = TrainingRecord.read(run / "metrics.json").holdout_photos
    assert [(photo.folder, photo.name) for photo in held] == [
        ("clinic-a", "eye2"),
        ("clinic-a", "eye7"),
        ("clinic-b", "eye3"),
        ("clinic-b", "eye7"),
    ]
    target = tmp_path / "m.tflite"
    args = ["--calibration", clinic_a, "--check-data", later, "--check-holdout", "0.2"]
    done = run_cli("convert", run / "model.keras", *args, "-o", target, expect=2)
    assert done.stderr.splitlines()[-1].startswith(
        f"Error: {later / 'images' / 'eye3.png'}: --check-holdout 0.2 selects it, but "
        f"{run / 'metrics.json'} does not name it among the 4 photographs its run held out"
    )
    assert not target.exists()


@pytest.mark.parametrize("layout", ["drive", "stare", "hrf", "chase", "generic"])
def test_every_layout_gives_training_crops_and_holdout_photographs(
    tmp_path, layout, make_photo_dataset
):
    """The training side reads the same folders eval reads."""
    from training.sources import load_photo_source

    with load_photo_source(make_photo_dataset(tmp_path, layout, count=5), 1.0, 0.2) as source:
        assert len(source.train) == 4 and len(source.holdout) == 1
        x, y = source.crops(np.random.default_rng(0), 6)
    assert x.shape == y.shape == (6, 64, 64, 1) and set(np.unique(y)) <= {0.0, 1.0}
    assert x.min() >= 0 and x.max() <= 1


def test_training_on_photographs_is_deterministic(tmp_path, train_smoke):
    import keras
    import numpy as np

    photos = _photos(tmp_path / "photos")
    runs = [tmp_path / "a", tmp_path / "b"]
    for out in runs:
        train_smoke(photos, out, "--arch", "unet-lite", "--width", "4", "--crops", "64")
    first, second = (keras.models.load_model(r / "model.keras").get_weights() for r in runs)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_the_gate_runs_the_twin_in_the_models_own_channel(tmp_path, host_model, dev_npz, run_cli):
    """A model whose card says green: the Keras twin must see the green channel too, or the
    gate would compare two different inputs (and fail a faithful conversion)."""
    import dataclasses

    from converters.metadata_writer import embed_card
    from edge_runtime.inference.model_file import read_card

    drive = tmp_path / "drive"
    for folder, pattern in (
        ("images", "17_test.tif"),
        ("1st_manual", "17_manual1.gif"),
        ("mask", "17_test_mask.gif"),
    ):
        (drive / folder).mkdir(parents=True)
        shutil.copy(dev_npz.parent / "drive" / folder / pattern, drive / folder)
    model = tmp_path / "m.tflite"
    run_cli(
        "convert",
        host_model,
        "--calibration",
        dev_npz,
        "--calibration-size",
        "64",
        "--no-check",
        "-o",
        model,
    )
    content = model.read_bytes()
    card = dataclasses.replace(read_card(content), channel="green")
    model.write_bytes(embed_card(content, card))
    report = json.loads(
        run_cli("check", "--keras", host_model, "--tflite", model, "--data", drive, "--json").stdout
    )
    assert report["pixel_agreement"] > 0.99 and report["passed"]


def test_photo_crops_are_cut_from_the_prepared_photographs(tmp_path, make_photo_dataset):
    """The crops read back from the disk cache are exactly those cut from the prepared
    photographs in memory, centred on the same draws: the same seed trains the same weights."""
    from edge_runtime.contract.preprocessing import PATCH_SIZE, preprocess_patches
    from edge_runtime.data.photos import find_dataset, load_labelled
    from training.sources import load_photo_source, working_photo

    folder = make_photo_dataset(tmp_path, "drive", count=3)
    photos = [working_photo(load_labelled(p), "green") for p in find_dataset(folder).photos]
    draws, expected_x, expected_y = np.random.default_rng(5), [], []
    for _ in range(40):  # the draws of PhotoSource.crops, on the arrays in memory
        photo = photos[draws.integers(len(photos))]
        cy, cx = np.argwhere(photo.inside)[draws.integers(np.count_nonzero(photo.inside))]
        y = int(np.clip(cy - PATCH_SIZE // 2, 0, photo.work.shape[0] - PATCH_SIZE))
        x = int(np.clip(cx - PATCH_SIZE // 2, 0, photo.work.shape[1] - PATCH_SIZE))
        expected_x.append(photo.work[y : y + PATCH_SIZE, x : x + PATCH_SIZE])
        expected_y.append(photo.label[y : y + PATCH_SIZE, x : x + PATCH_SIZE])
    with load_photo_source(folder, 1.0, 0.0, "green") as source:
        x, y = source.crops(np.random.default_rng(5), 40)
    np.testing.assert_array_equal(x, preprocess_patches(np.array(expected_x)))
    np.testing.assert_array_equal(y[..., 0], np.array(expected_y, dtype=np.float32))


PEAK_RSS = """
import sys
from pathlib import Path
import numpy as np
from training.sources import load_photo_source
source = load_photo_source(Path(sys.argv[1]), 1.0, 0.0)  # its cache goes with the process
source.crops(np.random.default_rng(0), 512)
status = Path("/proc/self/status").read_text()  # not ru_maxrss: it counts the parent's peak
print(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
"""


@pytest.mark.slow
def test_training_photographs_are_not_held_in_memory(tmp_path, make_photo_dataset):
    """Peak memory of preparing and cropping 24 photographs against 4: each prepared photograph
    (about 6 MB in memory at the working scale, whatever its size) waits on disk."""
    import subprocess
    import sys

    peak_kib = []
    for count in (4, 24):
        folder = make_photo_dataset(tmp_path / str(count), "generic", count=count)
        done = subprocess.run(
            [sys.executable, "-c", PEAK_RSS, str(folder)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        peak_kib.append(int(done.stdout))
    assert (peak_kib[1] - peak_kib[0]) / 20 < 1024  # KiB per photograph (it was 6,000)


def test_the_photograph_cache_is_closed_when_training_fails(
    tmp_path, host_model, run_cli, monkeypatch
):
    from training.sources import PhotoCache

    made, make = [], PhotoCache.__init__

    def recorded(cache):
        make(cache)
        made.append(cache)

    monkeypatch.setattr(PhotoCache, "__init__", recorded)
    photos = _photos(tmp_path / "photos")
    run_cli(
        "train", photos, "--out", tmp_path / "run", *LITE, "--init", host_model, *TINY, expect=2
    )
    assert len(made) == 1 and made[0]._file.closed


def _blank(path: Path, value: int = 0) -> None:
    """Replace a label or mask image with one of a single value."""
    with Image.open(path) as image:
        size = image.size
    Image.new("L", size, value).save(path)


def test_holdout_photographs_that_cannot_be_scored_are_left_out(tmp_path, run_cli):
    """One held-out photograph with an empty field-of-view mask, one whose label's vessels all
    lie outside its disc: neither has a vessel to find inside the field of view it is scored
    in, so neither may choose the checkpoint; a warning names each. The record left them out,
    so the gate's holdout of the run's share of the same folder was refused as not held out:
    the record names them, unscored, and the gate leaves them out as the run did."""
    photos = _photos(tmp_path / "photos")
    (photos / "masks").mkdir()
    Image.new("L", (200, 180), 0).save(photos / "masks" / "eye0.png")
    for i in range(1, 5):  # the others' masks: their discs (where one has a mask, all must)
        disc = detect_fov(np.asarray(Image.open(photos / "images" / f"eye{i}.png")))
        Image.fromarray(disc.mask((180, 200))).save(photos / "masks" / f"eye{i}.png")
    label = np.zeros((180, 200), dtype=np.uint8)
    label[0, 0] = 255  # a corner, outside the disc
    Image.fromarray(label).save(photos / "labels" / "eye2.png")
    run = tmp_path / "run"
    result = run_cli("train", photos, "--out", run, *LITE, "--holdout", "0.6", *TINY)
    record = TrainingRecord.read(run / "metrics.json")
    held = [(p.name, p.scored) for p in record.holdout_photos]
    assert held == [("eye4", True), ("eye0", False), ("eye2", False)]
    assert record.train_photos == 2 and record.holdout_f1 == record.holdout_photos[0].f1
    assert all(p.accuracy is None and p.auc is None for p in record.holdout_photos[1:])
    assert " on 1 photograph, not on 2 held out that could not be scored (" in result.stdout
    left_out = [line for line in result.stderr.splitlines() if "held-out photograph" in line]
    assert len(left_out) == 2  # (under pytest, the libraries' deprecation warnings show too)
    assert left_out[0].startswith(f"warning: {photos / 'masks' / 'eye0.png'}: no pixel inside")
    assert left_out[1].startswith(f"warning: {photos / 'labels' / 'eye2.png'}: no vessel pixel")
    assert all("does not take part in choosing the checkpoint" in w for w in left_out)
    calibration = tmp_path / "calibration"  # photographs that can be read for calibration
    shutil.copytree(photos, calibration, ignore=shutil.ignore_patterns("eye0.png", "eye2.png"))
    target = tmp_path / "m.tflite"
    convert = ["convert", run / "model.keras", "--calibration", calibration, "-o", target]
    gated = CliRunner().invoke(
        cli, [str(a) for a in (*convert, "--check-data", photos, "--check-holdout", "0.6")]
    )
    # the gate ran on eye4 (this tiny model may pass or fail it, as the CPU trains it)
    assert gated.exit_code in (0, 1) and "(1 photograph)" in gated.output, gated.output
    assert [line for line in gated.stderr.splitlines() if "could not score it" in line] == [
        f"warning: {photos / 'images' / name}: {run / 'metrics.json'} says its run held it out "
        "but could not score it, so the gate leaves it out too"
        for name in ("eye0.png", "eye2.png")
    ]


def test_a_holdout_without_a_scorable_photograph_stops_before_training(tmp_path, run_cli):
    photos = _photos(tmp_path / "photos")
    _blank(photos / "labels" / "eye2.png")  # the one held out: no vessel to score
    result = run_cli("train", photos, "--out", tmp_path / "run", *TINY, expect=2)
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"Error: {photos}: none of its 1 held-out photographs can be scored, expected at least "
        "one to choose the checkpoint and threshold"
    )
    assert not (tmp_path / "run").exists()


def test_a_holdout_of_one_photograph_is_refused_not_left_out(tmp_path, run_cli):
    """It trained 'without a holdout', its record saying holdout 0.2 and an untuned 0.5."""
    photos = _photos(tmp_path / "photos", count=1)
    result = run_cli("train", photos, "--out", tmp_path / "run", *TINY, expect=2)
    assert result.stderr.splitlines()[-1] == (
        f"Error: --holdout 0.2 holds nothing out of {photos}: give more photographs or patches, or "
        "--holdout 0 to train on all without one"
    )
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_a_held_out_label_that_is_vessel_everywhere_is_refused(tmp_path, run_cli):
    """An inverted label once chose the checkpoint and the threshold (its AUC undefined, its F1
    nonsense): it is refused, with one line, and a run left with no held-out photograph stops."""
    photos = _photos(tmp_path / "photos")
    _blank(photos / "labels" / "eye2.png", 255)
    result = run_cli("train", photos, "--out", tmp_path / "run", *LITE, *TINY, expect=2)
    assert f"{photos / 'labels' / 'eye2.png'}: vessels cover 100% of the field of view" in (
        result.output
    )
    assert "none of its 1 held-out photographs can be scored" in result.output


@pytest.mark.parametrize("reader", ["training", "the gate"])
def test_training_and_the_gate_name_a_label_that_matches_no_photograph(
    reader, tmp_path, make_photo_dataset
):
    """Only eval named it; training and the gate left it unread in silence (a label whose
    photograph is missing here; a misnamed one leaves its photograph without one, which
    training refuses)."""
    from converters.check import load_gate_data
    from training.sources import load_photo_source

    root = make_photo_dataset(tmp_path / "eyes", "generic", count=5)
    orphan = root / "labels" / "eye9.png"
    shutil.copy(root / "labels" / "eye5.png", orphan)
    with pytest.warns(UserWarning, match=f"{orphan}: matches no photograph's name"):
        if reader == "training":
            with load_photo_source(root, 1.0, 0.2):
                pass
        else:
            load_gate_data(root, None, None, None)


def test_a_patch_file_s_crops_are_its_training_patches_only(subset_npz):
    """Crops of a patch file mixed with photographs never draw its held-out patches."""
    from training.sources import load_patch_source

    source = load_patch_source(subset_npz, 1.0, 0.2)
    training = {p.tobytes() for p in source.x_train}
    held = {p.tobytes() for p in source.x_holdout}
    assert not training & held
    x, _ = source.crops(np.random.default_rng(0), 400)
    drawn = {p.tobytes() for p in x}
    assert drawn <= training and len(drawn) > 0.8 * len(training)


@pytest.mark.parametrize("shape", [(1000, 1100), (300, 320)], ids=["reduced", "enlarged"])
def test_a_working_label_keeps_the_share_of_vessel_pixels(tmp_path, shape):
    """The label is resized as the photograph, then halved at 0.5: its vessels neither swell
    nor shrink (marking every pixel a vessel touches made them 30-45 % more)."""
    from PIL import Image

    from edge_runtime.data.photos import find_dataset, load_labelled
    from edge_runtime.evaluation.synthetic import synthetic_fundus, synthetic_label
    from training.sources import working_photo

    for sub in ("images", "labels"):
        (tmp_path / sub).mkdir()
    photo = synthetic_fundus(*shape, seed=3)
    Image.fromarray(photo).save(tmp_path / "images" / "eye.png")
    label = synthetic_label(photo)
    Image.fromarray(label.astype(np.uint8) * 255).save(tmp_path / "labels" / "eye.png")
    working = working_photo(load_labelled(find_dataset(tmp_path).photos[0]))
    before = label[photo.mean(axis=2) > 20].mean()
    after = working.label[working.inside].mean()
    assert 0.85 < after / before < 1.15
