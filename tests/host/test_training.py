"""Smoke trainings of a few steps on a small subset: outputs, reload, determinism, CLI errors."""

import json
import os
import shutil
import signal
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

keras = pytest.importorskip("keras", reason="host tests need the 'train' extra (TensorFlow)")

from edge_runtime.cli.main import cli  # noqa: E402
from edge_runtime.data.patches import file_sha256  # noqa: E402
from edge_runtime.errors import InputError  # noqa: E402


@pytest.fixture(scope="module")
def unet_run(subset_npz, tmp_path_factory, train_smoke):
    out = tmp_path_factory.mktemp("run") / "unet"
    result = train_smoke(subset_npz, out, "--arch", "unet", "--width", "4", "--jitter")
    return out, result


def test_run_writes_every_output(unet_run, subset_npz):
    out, result = unet_run
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json",
        "history.png",
        "metrics.json",
        "model.keras",
    ]
    assert (out / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["arch"] == "unet" and metrics["epochs"] == 2 and metrics["seed"] == 7
    assert metrics["params"] == 30_821 and metrics["macs_per_patch"] > 1_000_000
    assert metrics["data_sha256"] == file_sha256(subset_npz)
    assert metrics["holdout_patches"] == 24 and metrics["train_patches"] == 48
    assert 1 <= metrics["best_epoch"] <= 2
    # no recipe, random weights: said so (a record without them is older, not recording them)
    assert metrics["start"] == {"recipe": None, "init": None, "teacher": None}
    assert 0.05 <= metrics["threshold"] <= 0.95
    assert 0 <= metrics["holdout_dice_at_0_5"] <= metrics["holdout_dice_at_threshold"] <= 1
    per_patch = metrics["holdout_dice_per_patch"]
    assert len(per_patch) == 24
    assert np.mean(per_patch) == pytest.approx(metrics["holdout_dice_at_threshold"], abs=1e-5)
    assert {"tensorflow", "keras", "numpy", "edge_seg", "python"} <= set(metrics["versions"])
    config = json.loads((out / "config.json").read_text())
    assert config["width"] == 4 and config["jitter"] is True and config["loss"] == "bce-dice"
    assert "holdout Dice" in result.output


def test_saved_model_reloads_and_predicts_identically(unet_run, subset_npz):
    from edge_runtime.contract.preprocessing import preprocess_patches

    out, _ = unet_run
    model = keras.models.load_model(out / "model.keras")
    with np.load(subset_npz) as npz:
        x = preprocess_patches(npz["x_train"][:4])
    again = keras.models.load_model(out / "model.keras")
    np.testing.assert_array_equal(model.predict(x, verbose=0), again.predict(x, verbose=0))
    assert model.predict(x, verbose=0).shape == (4, 64, 64, 1)


def test_same_seed_gives_identical_weights(subset_npz, tmp_path, train_smoke):
    runs = [tmp_path / "a", tmp_path / "b"]
    for out in runs:
        train_smoke(subset_npz, out, "--arch", "seed-edge")
    first, second = (keras.models.load_model(out / "model.keras").get_weights() for out in runs)
    assert len(first) == len(second) > 0
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    metrics = [json.loads((out / "metrics.json").read_text()) for out in runs]
    assert metrics[0]["holdout_dice_per_patch"] == metrics[1]["holdout_dice_per_patch"]


def test_no_holdout_trains_on_everything_and_keeps_the_last_epoch(
    subset_npz, tmp_path, train_smoke
):
    train_smoke(subset_npz, tmp_path, "--arch", "seed", "--loss", "bce", "--holdout", "0")
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["params"] == 90_589
    assert metrics["train_patches"] == 120 and metrics["holdout_patches"] == 0
    assert metrics["best_epoch"] == 2 and metrics["threshold"] == 0.5
    assert metrics["holdout_dice_at_0_5"] is None


def test_existing_run_is_not_overwritten(unet_run, subset_npz, run_cli):
    out, _ = unet_run
    before = (out / "model.keras").read_bytes()
    result = run_cli("train", subset_npz, "--out", out, "--epochs", "1", expect=2)
    assert "already holds model.keras" in result.output and "--overwrite" in result.output
    assert (out / "model.keras").read_bytes() == before


@pytest.mark.parametrize(
    ("command", "other"), [("train", "artery_vein.json"), ("train-artery-vein", "metrics.json")]
)
def test_a_run_of_another_kind_is_not_overwritten_in_part(
    subset_npz, tmp_path, run_cli, command, other
):
    """With --overwrite, a vessel run replaced an artery/vein run's model.keras and left its
    artery_vein.json beside it (and the reverse): the folder described two models."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "model.keras").write_bytes(b"the other run's model")
    (out / other).write_text("{}")
    args = (command, subset_npz if command == "train" else tmp_path, "--out", out, "--epochs", "1")
    for overwrite in ("--overwrite", None):  # not told to pass --overwrite, then refused
        result = run_cli(*filter(None, [*args, overwrite]), expect=2)
        assert f"{out}: holds {other} of another kind of run" in result.output
    assert (out / "model.keras").read_bytes() == b"the other run's model"


def test_a_link_to_nothing_named_as_another_kind_of_run_s_file_is_refused(tmp_path):
    """A dangling artery_vein.json beside a vessel run's files is one more file that would
    describe another model once its target is back (a mutant asking exists() survived)."""
    from edge_runtime.errors import InputError
    from training.cli import refuse_an_earlier_run
    from training.config import RUN_FILES

    (tmp_path / "artery_vein.json").symlink_to(tmp_path / "nowhere.json")
    with pytest.raises(InputError, match=r"holds artery_vein\.json of another kind of run"):
        refuse_an_earlier_run(tmp_path, RUN_FILES, overwrite=True)


def test_an_overwrite_that_fails_leaves_no_new_model_beside_the_old_record(
    unet_run, subset_npz, tmp_path, run_cli
):
    """history.png a folder: the new model.keras was in place beside the old metrics.json,
    which convert put on its card, and the error named a hidden temporary file."""
    import shutil

    out = tmp_path / "run"
    shutil.copytree(unet_run[0], out)
    before = {name: (out / name).read_bytes() for name in ("model.keras", "metrics.json")}
    (out / "history.png").unlink()
    (out / "history.png").mkdir()
    args = ["train", subset_npz, "--out", out, "--epochs", "1", "--overwrite"]
    done = run_cli(*args, "--arch", "unet-lite", "--width", "2", expect=2)
    assert done.output.splitlines() == [
        f"Error: {out / 'history.png'}: is a folder, not a file to write"
    ]  # before training, which would be lost
    assert {name: (out / name).read_bytes() for name in before} == before  # the old run, whole


def test_an_overwrite_stopped_while_writing_keeps_the_earlier_run_whole(
    unet_run, subset_npz, tmp_path, monkeypatch
):
    """Stopped while it wrote its files, a run left its model alone, and with --overwrite lost
    the earlier run too."""
    import shutil

    import training.trainer

    out = tmp_path / "run"
    shutil.copytree(unet_run[0], out)
    before = {path.name: path.read_bytes() for path in out.iterdir()}

    def stopped(*_args):
        raise KeyboardInterrupt  # Ctrl-C, once the new model is written

    monkeypatch.setattr(training.trainer, "plot_history", stopped)
    args = ["train", str(subset_npz), "--out", str(out), "--epochs", "1", "--overwrite"]
    done = CliRunner().invoke(cli, [*args, "--arch", "unet-lite", "--width", "2"])
    assert (done.exit_code, done.output.splitlines()[-1]) == (130, "Error: interrupted")
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    fresh = tmp_path / "new" / "run"  # no earlier run: no folder is left behind either
    args = ["train", str(subset_npz), "--out", str(fresh), "--epochs", "1"]
    done = CliRunner().invoke(cli, [*args, "--arch", "unet-lite", "--width", "2"])
    assert done.exit_code == 130 and not (tmp_path / "new").exists()


def test_bad_data_file_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_text("not an npz")
    result = CliRunner().invoke(cli, ["train", str(bad), "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {bad}: not an .npz file (numpy's zip of arrays)")
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_train_without_tensorflow_says_which_extra(monkeypatch, subset_npz, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # import tensorflow now raises
    result = CliRunner().invoke(cli, ["train", str(subset_npz), "--out", str(tmp_path)])
    assert result.exit_code == 2  # a setup problem, not a failed gate (1)
    assert result.output == (
        "Error: TensorFlow is not installed: install the 'train' extra "
        "(in the project's checkout: pip install -e '.[train]')\n"
    )


def test_recipe_settings_apply_and_command_line_options_win(
    subset_npz, host_model, tmp_path, train_smoke
):
    teacher = host_model
    train_smoke(subset_npz, tmp_path, "--recipe", "v1", "--teacher", teacher, "--epochs", "1")
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["recipe"] == "v1" and config["teacher"] == teacher.name
    assert (config["arch"], config["width"], config["jitter"]) == ("unet-lite", 14, True)
    assert (config["learning_rate"], config["schedule"]) == (0.006, "cosine")
    assert config["teacher_weight"] == 0.8 and config["holdout"] == 0.2
    assert config["epochs"] == 1 and config["seed"] == 7  # given on the command line


def test_recipes_apply_from_python_too():
    from training.config import RECIPES, TrainConfig

    config = TrainConfig.from_recipe("v1-teacher", data="d.npz", out="run", epochs=3)
    assert config.recipe == "v1-teacher" and config.epochs == 3
    assert (config.width, config.learning_rate) == (40, RECIPES["v1-teacher"]["learning_rate"])
    with pytest.raises(ValueError, match="recipe v1 distils from a teacher"):
        TrainConfig.from_recipe("v1", data="d.npz", out="run")
    with pytest.raises(TypeError):  # a recipe is only ever recorded by from_recipe
        TrainConfig(data="d.npz", out="run", recipe="v1")
    assert TrainConfig(data="d.npz", out="run").recipe is None


def test_a_file_too_small_for_the_holdout_is_a_one_line_error(dev_npz, tmp_path, run_cli):
    with np.load(dev_npz) as npz:
        np.savez(tmp_path / "few.npz", x_train=npz["x_train"][:60], y_train=npz["y_train"][:60])
    result = run_cli("train", tmp_path / "few.npz", "--out", tmp_path / "run", expect=2)
    assert result.output == (
        f"Error: {tmp_path / 'few.npz'}: holdout fraction 0.2 of 60 patches leaves nothing to "
        "train on\n"
    )


@pytest.mark.parametrize("option", ["--lr", "--teacher-weight", "--holdout"])
def test_training_options_that_are_not_finite_are_usage_errors(subset_npz, tmp_path, option):
    result = CliRunner().invoke(
        cli, ["train", str(subset_npz), "--out", str(tmp_path), option, "nan"]
    )
    assert result.exit_code == 2 and "is not a finite number" in result.output


def test_a_teacher_weight_without_a_teacher_is_a_usage_error(subset_npz, tmp_path, run_cli):
    """It was recorded in config.json as if it had weighed anything."""
    done = run_cli(
        "train", subset_npz, "--out", tmp_path / "r", "--teacher-weight", "0.3", expect=2
    )
    assert "--teacher-weight: an option of distillation, which needs --teacher" in done.output
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("options", "refused"),
    [
        (("--arch", "seed-edge", "--width", "20"), "--width: an option of a sized architecture"),
        (("--crops", "7"), "--crops: an option of photographs or several .npz files"),
    ],
)
def test_options_that_would_change_nothing_are_usage_errors(
    subset_npz, tmp_path, run_cli, options, refused
):
    """--width of seed-edge (90,589 parameters whatever the width) and --crops with one .npz
    file (every patch trained on once an epoch) were taken, changed nothing, and config.json
    recorded them as the run's settings (width 20, crops 7)."""
    done = run_cli("train", subset_npz, "--out", tmp_path / "r", *options, expect=2)
    assert refused in done.output
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("data", "options", "refused"),
    [
        (("{npz}",), ("--channel", "green"), "--channel green: a channel of photographs"),
        (("{npz}",), ("--recipe", "v2"), "--channel green (from --recipe v2): a channel of"),
        (("{npz}", "{folder}"), ("--channel", "green"), "--channel green: a channel of"),
        (("{folder}", "{npz}:2"), ("--recipe", "v2"), "--channel green (from --recipe v2): a"),
        (("{folder}", "{npz}"), ("--recipe", "finetune"), "--channel green (from --recipe fine"),
    ],
)
def test_a_channel_of_photographs_is_refused_for_patches(
    subset_npz, tmp_path, run_cli, make_photo_dataset, data, options, refused
):
    """.npz patches are grayscale already (the reference patches luma): trained on them with
    --channel green, or the v2 recipe's, the card told the device to read green from
    photographs for a model trained on luma patches. Beside a folder of photographs too: the
    photographs were read in green, the patches in luma, and the card said green. Refused
    before the run folder is looked at (whose earlier run a command that would train refuses)."""
    folder = make_photo_dataset(tmp_path / "eyes", "generic", count=2)
    sources = [d.format(npz=subset_npz, folder=folder) for d in data]
    out = tmp_path / "r"
    out.mkdir()
    (out / "model.keras").write_text("an earlier run's")
    done = run_cli("train", *sources, "--out", out, *options, expect=2)
    assert refused in done.output
    assert f"but {subset_npz} holds .npz patches" in done.output
    assert "pass --channel luma" in done.output
    assert [p.name for p in out.iterdir()] == ["model.keras"]


@pytest.mark.parametrize("recipe", [None, "v2"])
def test_the_api_refuses_a_channel_of_photographs_beside_patches_before_reading(
    subset_npz, tmp_path, make_photo_dataset, monkeypatch, recipe
):
    """training.trainer.train given photographs and an .npz file in green (a TrainConfig made
    without the command) read the photographs in green, the patches in luma, and wrote a card
    that said green: refused as the command refuses it, before any source is read."""
    import training.trainer
    from training.config import TrainConfig

    def read(*_args):
        raise AssertionError("read the sources before refusing the channel")

    monkeypatch.setattr(training.trainer, "_sources", read)
    folder = make_photo_dataset(tmp_path / "eyes", "generic", count=2)
    out = tmp_path / "r"
    settings = {"data": (str(folder), f"{subset_npz}:2"), "out": str(out)}
    if recipe:
        config, named = TrainConfig.from_recipe(recipe, **settings), "green (from --recipe v2)"
    else:
        config, named = TrainConfig(**settings, channel="green"), "green"
    with pytest.raises(InputError) as refused:
        training.trainer.train(config)
    assert str(refused.value).startswith(f"--channel {named}: a channel of photographs, but ")
    assert f"{subset_npz} holds .npz patches" in str(refused.value)
    assert "luma patches and green photographs; pass --channel luma" in str(refused.value)
    assert not out.exists()


def test_the_api_s_channel_refusal_says_what_it_refuses(subset_npz, tmp_path, make_photo_dataset):
    """refuse_a_channel_for_patches, as train() calls it: photographs alone in green are
    taken; patches alone are said to be trained on as luma patches (no photographs); a recipe
    that does not set the channel is not named; a photograph file among the sources is said to
    be no .npz file (the command checks that first, the API only here)."""
    from training.config import TrainConfig
    from training.sources import refuse_a_channel_for_patches

    folder = make_photo_dataset(tmp_path / "eyes", "generic", count=2)
    photo = next((folder / "images").iterdir())
    green = {"channel": "green", "out": str(tmp_path / "r")}
    refuse_a_channel_for_patches(TrainConfig(data=(str(folder),), **green))
    with pytest.raises(InputError) as refused:
        refuse_a_channel_for_patches(
            TrainConfig.from_recipe("v1-teacher", data=(str(subset_npz),), **green)
        )
    assert str(refused.value).startswith(
        f"--channel green: a channel of photographs, but {subset_npz}"
    )
    assert str(refused.value).endswith("model trained on luma patches; pass --channel luma")
    with pytest.raises(InputError, match=f"^{photo}: not an .npz file"):
        refuse_a_channel_for_patches(TrainConfig(data=(str(folder), str(photo)), **green))


@pytest.mark.parametrize(
    "data", [("{npz}", "{folder}"), ("{folder}", "{npz}"), ("{npz}", "{other}:2")]
)
def test_crops_are_taken_with_photographs_or_several_npz_files(
    subset_npz, tmp_path, run_cli, make_photo_dataset, data
):
    """Refused for one .npz file alone, --crops is taken with a folder of photographs beside it
    (either order) and with several .npz files, and --channel luma beside photographs: the
    command reaches the run folder, whose earlier run it refuses, before anything is trained."""
    folder = make_photo_dataset(tmp_path / "eyes", "generic", count=2)
    out = tmp_path / "r"
    out.mkdir()
    (out / "model.keras").write_text("an earlier run's")
    other = shutil.copy(subset_npz, tmp_path / "other.npz")
    sources = [d.format(npz=subset_npz, folder=folder, other=other) for d in data]
    channel = ("--recipe", "v2", "--channel", "luma") if "{folder}" in data else ()
    done = run_cli("train", *sources, "--out", out, "--crops", "7", *channel, expect=2)
    assert f"{out}: already holds model.keras; pass --overwrite" in done.output


@pytest.mark.parametrize("options", [("--recipe", "v2"), ("--crops", "7"), ("--channel", "green")])
def test_a_mistyped_folder_is_said_to_be_missing_not_a_patch_file(tmp_path, run_cli, options):
    """A folder of photographs mistyped (``train drvie --recipe v2``) was taken for an .npz
    file: refused for the recipe's green channel or --crops, an error about patches that
    named no problem of the command, where the missing folder was said before."""
    done = run_cli("train", tmp_path / "drvie", "--out", tmp_path / "r", *options, expect=2)
    assert f"{tmp_path / 'drvie'}: no such file" in done.output
    assert "patches" not in done.output and "--crops" not in done.output
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("options", [("--channel", "green"), ("--crops", "7"), ()])
def test_a_photograph_given_for_its_folder_is_said_to_be_no_npz_file(
    tmp_path, run_cli, make_photo_dataset, options
):
    """A photograph file given where its folder is meant (``train eyes eyes/images/eye1.png``)
    was taken for an .npz file by the refusals of --channel green ('eye1.png holds .npz
    patches ... pass --channel luma') and --crops, which named no problem of the command; said
    to be no .npz file first, before the run folder is made."""
    folder = make_photo_dataset(tmp_path / "eyes", "generic", count=2)
    photo = next((folder / "images").iterdir())
    done = run_cli("train", folder, photo, "--out", tmp_path / "r", *options, expect=2)
    assert f"{photo}: not an .npz file" in done.output
    assert "holds .npz patches" not in done.output and "--crops" not in done.output
    assert not (tmp_path / "r").exists()


def test_the_finetune_recipe_starts_from_the_release_twin():
    from training.config import RELEASE_TWIN, TrainConfig

    config = TrainConfig.from_recipe("finetune", data="camera", out="run")
    assert config.init == str(RELEASE_TWIN) and RELEASE_TWIN.is_file()
    assert (config.arch, config.width) == ("unet-lite", 14)  # the release model's shape
    released = json.loads((RELEASE_TWIN.parent / "config.json").read_text())
    assert config.channel == released["channel"]  # and the channel it was trained in


def test_train_and_convert_print_results_on_stdout_and_nothing_on_stderr(
    subset_npz, host_model, tmp_path
):
    """As a user runs them, without a terminal: TensorFlow's native log lines stay away."""
    import subprocess

    edge_seg = [sys.executable, "-m", "edge_runtime.cli.main"]
    done = subprocess.run(
        [
            *edge_seg,
            "train",
            str(subset_npz),
            "--out",
            str(tmp_path / "run"),
            "--epochs",
            "1",
            "--arch",
            "unet",
            "--width",
            "4",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.startswith("holdout Dice ") and done.stdout.count("\n") == 1
    done = subprocess.run(
        [
            *edge_seg,
            "convert",
            str(host_model),
            "--calibration",
            str(subset_npz),
            "--no-check",
            "-o",
            str(tmp_path / "m.tflite"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.startswith(f"wrote {tmp_path / 'm.tflite'} (")


def test_sources_of_weights_near_the_float_range_share_the_crops_as_their_weights_say():
    """Weights of 1e308 summed to infinity, and every crop came from the last source."""
    from types import SimpleNamespace

    from training.config import TrainConfig
    from training.trainer import CropBatches

    sources = [SimpleNamespace(weight=1e308), SimpleNamespace(weight=1e308)]
    np.testing.assert_allclose(
        CropBatches(sources, TrainConfig(data=[], out="run")).shares, [0.5, 0.5]
    )
    sources = [SimpleNamespace(weight=3.0), SimpleNamespace(weight=1.0)]
    np.testing.assert_allclose(
        CropBatches(sources, TrainConfig(data=[], out="run")).shares, [0.75, 0.25]
    )


def test_a_record_beside_another_model_file_of_the_same_size_is_refused(
    unet_run, subset_npz, tmp_path, run_cli
):
    """Another run's metrics.json (another channel, threshold, data) of the same parameter count
    made the card of a model it never described (exit 0)."""
    import shutil

    import keras

    from edge_runtime.data.patches import file_sha256

    out, _ = unet_run
    record = json.loads((out / "metrics.json").read_text())
    assert record["model_sha256"] == file_sha256(out / "model.keras")
    run = tmp_path / "run"
    shutil.copytree(out, run)
    keras.models.load_model(run / "model.keras", compile=False).save(run / "other.keras")
    (run / "other.keras").replace(run / "model.keras")  # the same model, another file
    args = ["convert", run / "model.keras", "--calibration", subset_npz, "--no-check"]
    done = run_cli(*args, "-o", tmp_path / "m.tflite", expect=2)
    assert f"{run / 'metrics.json'}: records another model file than {run / 'model.keras'}" in (
        done.output
    )


def test_a_run_binds_its_threshold_and_channel_to_its_model_file(
    unet_run, subset_npz, tmp_path, run_cli
):
    """A run's threshold or channel edited in its record was written into the card, and the
    gate ran both models at it and passed: the run binds them to its model file, and convert
    refuses the record once one is edited."""
    import shutil

    from edge_runtime.contract.bound_settings import edited_settings
    from edge_runtime.contract.training_record import TrainingRecord

    out, _ = unet_run
    record = TrainingRecord.read(out / "metrics.json")
    assert tuple(record.settings_sha256) == record.BOUND_SETTINGS
    assert edited_settings(record) == ()
    run = tmp_path / "run"
    shutil.copytree(out, run)
    edited = json.loads((run / "metrics.json").read_text())
    edited["threshold"] = 0.9 if record.threshold != 0.9 else 0.1
    (run / "metrics.json").write_text(json.dumps(edited))
    args = ["convert", run / "model.keras", "--calibration", subset_npz, "--no-check"]
    done = run_cli(*args, "-o", tmp_path / "m.tflite", expect=2)
    assert f"{run / 'metrics.json'}: its threshold {edited['threshold']} is not what" in (
        done.output
    )


@pytest.mark.parametrize("command", ["train", "train-artery-vein"])
def test_a_run_folder_that_is_a_folder_of_the_data_is_refused(
    command, tmp_path, make_photo_dataset
):
    """train --out DATA/images wrote history.png among the photographs: the next run refused
    the folder (no label for history.png)."""
    data = make_photo_dataset(tmp_path / "eyes", "generic", count=2)
    before = sorted(p.name for p in (data / "images").iterdir())
    done = CliRunner().invoke(cli, [command, str(data), "--out", str(data / "images")])
    assert done.exit_code == 2 and done.output == (
        f"Error: {data / 'images'}: holds the dataset's photographs, labels or masks, which the "
        "output would add to or overwrite; give --out another folder\n"
    )
    assert sorted(p.name for p in (data / "images").iterdir()) == before


@pytest.mark.parametrize(
    ("command", "trainer"),
    [
        ("train", "training.trainer.train"),
        ("train-artery-vein", "training.artery_vein.train_artery_vein_run"),
    ],
)
def test_a_run_folder_that_cannot_be_made_is_refused_before_training(
    command, trainer, tmp_path, run_cli, monkeypatch, make_photo_dataset
):
    """--out under a file (or on a read-only file system) was refused once trained: 30 epochs
    trained, then 'Error: FILE/run/.edge-seg-...partial.png: Not a directory', the training lost."""

    def trained(*_):
        raise AssertionError("trained before the run folder was made")

    monkeypatch.setattr(trainer, trained)
    data = make_photo_dataset(tmp_path / "eyes", "generic", count=2)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    done = run_cli(command, data, "--out", blocker / "run", "--epochs", "1", expect=2)
    assert done.output == (
        f"Error: {blocker / 'run'}: cannot create the output directory (Not a directory)\n"
    )


def test_sigterm_while_a_run_is_written_keeps_the_earlier_run_and_says_so(
    unet_run, subset_npz, tmp_path, monkeypatch
):
    """SIGTERM (a service stopped, timeout) ended train in silence, status 143, leaving the
    new model alone in the folder."""
    import shutil

    import training.trainer

    out = tmp_path / "run"
    shutil.copytree(unet_run[0], out)
    before = {path.name: path.read_bytes() for path in out.iterdir()}

    def terminated(*_args):
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(training.trainer, "plot_history", terminated)
    args = ["train", str(subset_npz), "--out", str(out), "--epochs", "1", "--overwrite"]
    done = CliRunner().invoke(cli, [*args, "--arch", "unet-lite", "--width", "2"])
    assert (done.exit_code, done.output.splitlines()[-1]) == (143, "Error: terminated")
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # given back


def _identity_model(side: int = 4):
    inputs = keras.Input((side, side, 1))
    return keras.Model(inputs, keras.layers.Identity()(inputs))


def test_the_threshold_is_the_best_on_the_holdout_patches_and_the_dice_is_taken_there():
    """Vessels have probabilities 0.325 to 0.45 or above; background 0.2 or below: every
    threshold in (0.2, 0.32] is perfect, 0.32 (closest to 0.5) is chosen, and 0.5 misses
    vessels."""
    from training.trainer import HoldoutData, _score_holdout

    rng = np.random.default_rng(0)
    prob = rng.choice([0.1, 0.2, 0.325, 0.4, 0.45, 0.7, 0.9], size=(5, 4, 4, 1))
    prob[:, 0, 0, 0] = 0.4  # each patch has a vessel pixel that 0.5 misses
    truth = (prob > 0.3).astype(np.float32)
    holdout = HoldoutData(prob.astype(np.float32), truth, [], [], None, ())
    scores = _score_holdout(_identity_model(), holdout)
    assert scores.threshold == pytest.approx(0.32)
    assert scores.dice_at_threshold == pytest.approx(1.0)
    assert scores.per_patch == (1.0,) * 5
    assert scores.dice_at_0_5 < 0.95


def test_holdout_photographs_choose_the_threshold_and_are_scored_at_it():
    """Vessels at 0.65 and 0.8, background at 0.1 and 0.55: 0.56 to 0.65 are perfect (F1 1),
    0.56 is chosen; the patches are then scored at the photographs' threshold."""
    from training.trainer import HoldoutData, _score_holdout

    rng = np.random.default_rng(1)
    label = rng.random((20, 20)) < 0.3
    prob = np.where(label, rng.choice([0.65, 0.8], (20, 20)), rng.choice([0.1, 0.55], (20, 20)))
    fov = np.ones((20, 20), bool)

    class Photos(HoldoutData):
        def photo_probabilities(self):
            yield "eye", prob, label, fov

    patches = np.full((2, 4, 4, 1), 0.6, np.float32)  # vessels at 0.6: found at 0.56, not 0.65
    holdout = Photos(patches, np.ones_like(patches), [object()], ["eyes"], None, ())
    scores = _score_holdout(_identity_model(), holdout)
    assert scores.threshold == pytest.approx(0.56)
    assert scores.photos[0].name == "eye" and scores.photos[0].f1 == pytest.approx(1.0)
    assert scores.photos[0].folder == "eyes"
    assert scores.per_patch == (1.0, 1.0)


def test_the_holdout_callback_keeps_the_best_epochs_weights():
    from training.trainer import Holdout

    model = _identity_model()
    model = keras.Model(model.input, keras.layers.Dense(1)(model.input))
    scores = iter([0.4, 0.9, 0.6])
    callback = Holdout(SimpleNamespace(score=lambda m: next(scores), metric="holdout_dice"))
    callback.set_model(model)
    seen = []
    for epoch in range(3):
        model.set_weights([np.full_like(w, epoch + 1) for w in model.get_weights()])
        seen.append(model.get_weights())
        logs = {}
        callback.on_epoch_end(epoch, logs)
        assert "holdout_dice" in logs
    assert (callback.best_epoch, callback.best_score) == (2, 0.9)
    for kept, second in zip(callback.best_weights, seen[1], strict=True):
        np.testing.assert_array_equal(kept, second)


def test_the_run_keeps_the_best_epochs_weights_not_the_last(subset_npz, tmp_path, monkeypatch):
    """Epoch 1 scores best: model.keras holds its weights, not epoch 2's."""
    from training.config import TrainConfig
    from training.trainer import HoldoutData, train

    seen = []

    def score(self, model):
        seen.append(model.get_weights())
        return [0.9, 0.1][len(seen) - 1]

    monkeypatch.setattr(HoldoutData, "score", score)
    out = tmp_path / "run"
    config = TrainConfig(
        data=(str(subset_npz),),
        out=str(out),
        arch="unet-lite",
        width=2,
        epochs=2,
        batch_size=32,
        seed=7,
        augment=False,
    )
    record = train(config)
    assert record.best_epoch == 1
    kept = keras.models.load_model(out / "model.keras", compile=False).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(kept, seen[0], strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(kept, seen[1], strict=True))


def test_the_v2_recipe_is_the_release_models_settings():
    """training/release/build.sh rebuilds the release with --recipe v2: its settings are those
    the bundled model's config.json records."""
    from training.config import TrainConfig

    release = Path(__file__).parents[2] / "training" / "release"
    released = json.loads((release / "config.json").read_text())
    config = TrainConfig.from_recipe("v2", data=tuple(released["data"]), out="run")
    assert config.record() == released


def test_a_config_of_an_unknown_channel_is_refused():
    from training.config import TrainConfig

    with pytest.raises(ValueError, match="got channel 'red', expected one of"):
        TrainConfig(data=("d.npz",), out="run", channel="red")


def test_a_link_in_a_run_files_way_is_refused_before_training_without_overwrite(
    subset_npz, tmp_path, monkeypatch
):
    """Not only with --overwrite: a dangling link is no earlier run's file; refused only when
    the run's files are written, the training would be lost."""
    from click.testing import CliRunner

    import training.trainer
    from edge_runtime.cli.main import cli

    def trained(config):
        raise AssertionError("trained before the link in the way was refused")

    monkeypatch.setattr(training.trainer, "train", trained)

    out = tmp_path / "run"
    out.mkdir()
    (out / "history.png").symlink_to(tmp_path / "elsewhere.png")
    args = ["train", str(subset_npz), "--out", str(out), "--epochs", "1"]
    done = CliRunner().invoke(cli, [*args, "--arch", "unet-lite", "--width", "2"])
    assert done.exit_code == 2
    assert done.output == (
        f"Error: {out / 'history.png'}: is a symbolic link, not written over: name the file it "
        "points to\n"
    )
    assert sorted(p.name for p in out.iterdir()) == ["history.png"]
    assert not (tmp_path / "elsewhere.png").exists()
