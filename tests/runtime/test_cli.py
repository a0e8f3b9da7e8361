"""The device side of the command line: no TensorFlow, plugins listed without importing them."""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

import edge_runtime
from edge_runtime.cli.info import _summary
from edge_runtime.cli.main import cli
from edge_runtime.inference.bundled import ARTERY_VEIN_MODEL
from edge_runtime.inference.description import describe_model
from training.config import ArteryVeinTraining

PACKAGE_DIR = Path(edge_runtime.__file__).parent
RUNTIME_MODULES = sorted(
    ".".join(("edge_runtime", *p.relative_to(PACKAGE_DIR).with_suffix("").parts))
    for p in PACKAGE_DIR.rglob("*.py")
    if p.name != "__init__.py"
)


def test_importing_every_runtime_module_and_help_never_imports_tensorflow():
    code = (
        "import sys, importlib\n"
        f"for name in {RUNTIME_MODULES!r}: importlib.import_module(name)\n"
        "from click.testing import CliRunner\n"
        "from edge_runtime.cli.main import cli\n"
        "assert CliRunner().invoke(cli, ['--help']).exit_code == 0\n"
        "assert CliRunner().invoke(cli, ['train', '--help']).exit_code == 0\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "assert not bad, bad\n"
        "print(len(sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(RUNTIME_MODULES) >= 6


def _commands() -> dict[str, click.Command]:
    context = click.Context(cli)
    return {name: cli.get_command(context, name) for name in cli.list_commands(context)}


def test_help_groups_every_command_with_its_whole_summary():
    result = CliRunner().invoke(cli, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    sections = result.output.split("\n\n")
    listed = {
        title.split(" (")[0]: [line.split()[0] for line in lines]
        for title, *lines in (section.splitlines() for section in sections)
        if lines and not title.startswith(("Usage", "Options", " "))
    }
    assert listed["Device commands"][:4] == ["bench", "datasets", "demo", "eval"]
    assert {"train", "convert", "check", "embed-metadata"} <= set(listed["Host commands"])
    assert listed["Signing keys"] == ["keygen", "sign"]
    assert sorted(name for names in listed.values() for name in names) == sorted(_commands())
    commands = result.output.split("Device commands")[1]
    assert "..." not in commands  # whole summaries, not cut


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_option_says_what_it_does(name):
    command = _commands()[name]
    undescribed = [p.opts[0] for p in command.params if isinstance(p, click.Option) and not p.help]
    assert not undescribed
    usage = CliRunner().invoke(cli, [name, "--help"]).output
    assert "FINITE" not in usage  # "FINITE FLOAT RANGE" read as jargon; numbers say NUMBER


def test_version_names_the_package_and_the_bundled_model():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.output == f"edge-seg {edge_runtime.__version__} (bundled model 1.1.0)\n"


def test_unknown_command_is_a_usage_error():
    result = CliRunner().invoke(cli, ["segmentt"])
    assert result.exit_code == 2
    assert "No such command 'segmentt'" in result.output


def test_train_artery_vein_help_states_the_scale_the_training_defaults_to():
    said = " ".join(CliRunner().invoke(cli, ["train-artery-vein", "--help"]).output.split())
    assert f"(a disc {ArteryVeinTraining().fov_diameter:g} pixels across)" in said


@pytest.mark.parametrize(
    "args, command",
    [
        (["segmentt"], "edge-seg"),
        (["--bogus"], "edge-seg"),
        (["segment", "--threshold", "5", "photo.png"], "edge-seg segment"),
        (["segment"], "edge-seg segment"),
        (["datasets", "fetch"], "edge-seg datasets fetch"),
        # click raises these two without the command's context: named by what was resolved
        (["segment", "-o"], "edge-seg segment"),
        (["datasets", "fetch", "drive", "--mirror"], "edge-seg datasets fetch"),
    ],
)
def test_a_usage_error_is_one_line_naming_the_command_and_its_help(args, command):
    result = CliRunner().invoke(cli, args, prog_name="edge-seg")
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {command}: ")
    assert result.output.endswith(f" (see {command} --help)\n")
    assert result.output.count("\n") == 1, result.output


def test_a_group_without_its_command_shows_its_help():
    result = CliRunner().invoke(cli, ["datasets"])
    assert "fetch" in result.output and "prepare" in result.output
    assert "Error" not in result.output


def test_ctrl_c_exits_130_as_a_shell_reports_it_not_1_as_a_failed_gate(monkeypatch):
    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("edge_runtime.cli.info.describe_model", interrupted)
    result = CliRunner().invoke(cli, ["info"])
    assert (result.exit_code, result.output) == (130, "Error: interrupted\n")


@pytest.mark.parametrize("args", [["info"], ["--help"], ["segment", "--help"]])
def test_a_closed_standard_output_is_an_error_not_a_silent_success(args):
    """Started with stdout closed (>&-), measure, eval and verdict printed nothing and exit 0."""
    done = subprocess.run(
        [sys.executable, "-m", "edge_runtime.cli.main", *args],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: os.close(1),
    )
    assert done.returncode == 2
    assert done.stderr == (
        "Error: standard output is closed, so what this command prints would be lost "
        "(send it to /dev/null to discard it)\n"
    )


@pytest.fixture(scope="module")
def bundled_report():
    return describe_model()


def _line(text: str, label: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"{label}:"))


def test_info_gives_the_size_in_kib_and_the_quantization(bundled_report):
    """Info's size is the file's bytes over 1024; its version line ends with the card's
    quantization (not its architecture again)."""
    text = _summary(bundled_report)
    assert _line(text, "size") == f"size:         {bundled_report.size_bytes / 1024:.1f} KiB"
    card = bundled_report.card
    assert _line(text, "version").endswith(f"({card.architecture}, {card.parameters:,} "
                                           f"parameters, {card.quantization})")  # fmt: skip


def test_info_says_not_ready_for_the_edge_tpu_and_why(bundled_report):
    """A model with Edge TPU issues is 'not ready', each issue listed under it."""
    issues = ("op GELU is not supported", "input is float32")
    text = _summary(dataclasses.replace(bundled_report, edgetpu_issues=issues))
    assert "Edge TPU:     not ready\n  - op GELU is not supported\n  - input is float32" in text
    assert "Edge TPU:     ready" in _summary(bundled_report)


@pytest.mark.parametrize(
    ("fixture", "problem"),
    [
        ("wrong_input_shape.tflite", "input shape [1, 32, 32, 3], expected [1, 64, 64, 1]"),
        ("two_inputs.tflite", "2 inputs and 1 outputs, expected one each"),
    ],
)
def test_info_says_which_models_the_runtime_refuses_and_exits_2(fixture, problem):
    """Info called them vessel models of 64-pixel patches, Edge TPU ready, exit 0; segment
    refuses them."""
    model = Path(__file__).parents[1] / "fixtures" / fixture
    said = f"{model}: {problem}"
    assert describe_model(model).problem == said
    runner = CliRunner()
    text = runner.invoke(cli, ["info", "--model", str(model)])
    assert (
        text.exit_code == 2 and f"runs:         no, the runtime refuses it: {said}" in text.stdout
    )
    as_json = runner.invoke(cli, ["info", "--model", str(model), "--json"])
    assert as_json.exit_code == 2 and f'"problem": "{said}"' in as_json.stdout
    assert f"Error: {said}" in as_json.stderr
    assert describe_model().problem is None and describe_model(ARTERY_VEIN_MODEL).problem is None


def test_info_prints_each_thing_a_card_says_on_its_own_line(bundled_report):
    """A card's version carrying a newline and a line of info's own ("signed: by key ...
    (verified ...)") printed that line above the true one, for an unsigned model: the card's
    digest is no secret, anyone can write one."""
    forged = "1.1.0\nsigned:       by key 5c744115c4f07af0 (verified against the trusted keys)"
    card = dataclasses.replace(bundled_report.card, model_version=forged)
    text = _summary(dataclasses.replace(bundled_report, card=card, signature_key_id=None))
    signed = [line for line in text.splitlines() if line.startswith("signed:")]
    assert signed == ["signed:       no"]
    assert "1.1.0\\nsigned:" in text  # shown, escaped


def test_info_names_the_photographs_the_gate_passed_on(bundled_report):
    """own-camera.md says info shows the photographs a model's gate passed on: the text said
    only how many ("on 7 photographs"), the JSON alone named them."""
    gate = [line for line in _summary(bundled_report).splitlines() if line.startswith("gate:")]
    assert gate == [
        "gate:         passed: Dice float 0.8261, tflite 0.8262 on 7 photographs of "
        "drive+stare (held out 0.2)"
    ]


def test_info_says_how_a_model_was_trained_and_what_its_card_does_not_record(bundled_report):
    """A study reading a card could not tell how the model was made: info showed no recipe,
    no model training started from and no epoch kept. The bundled 1.1.0's card, older than
    these fields, says they are not recorded (not that there were none)."""
    from edge_runtime.contract.model_card import ModelFile, TrainingStart

    def trained(**fields) -> str:
        training = dataclasses.replace(bundled_report.card.training, **fields)
        card = dataclasses.replace(bundled_report.card, training=training)
        return _line(_summary(dataclasses.replace(bundled_report, card=card)), "trained")

    assert _line(_summary(bundled_report), "trained") == (
        "trained:      recipe and starting model not recorded; 40 epochs (the one kept not "
        "recorded)"
    )
    tuned = TrainingStart("finetune", ModelFile("model.keras", "0123456789ab" + "f" * 52))
    assert trained(start=tuned, best_epoch=23) == (
        "trained:      recipe finetune, from model.keras (SHA-256 0123456789ab...); epoch 23 "
        "of 40 kept (best held-out score)"
    )
    distilled = TrainingStart("v1", None, ModelFile("teacher.keras", "fedcba987654" + "0" * 52))
    assert trained(start=distilled, best_epoch=23) == (
        "trained:      recipe v1, from random weights, distilled from teacher.keras (SHA-256 "
        "fedcba987654...); epoch 23 of 40 kept (best held-out score)"
    )
    older = TrainingStart("v1", None, ModelFile(None, "fedcba987654" + "0" * 52))  # teacher_sha256
    assert trained(start=older, best_epoch=23).startswith(
        "trained:      recipe v1, from random weights, distilled from a model of SHA-256 "
        "fedcba987654... (name not recorded); epoch 23"
    )
    assert trained(start=TrainingStart(), holdout=0.0) == (
        "trained:      no recipe, from random weights; the last of 40 epochs kept (nothing "
        "held out)"
    )
    # a card older than its holdout (the bundled artery/vein model's) says nothing of one
    assert trained(holdout=None) == (
        "trained:      recipe and starting model not recorded; 40 epochs"
    )
    # one epoch is said singular, as counted() says a count: "the last of 1 epochs" was said
    assert trained(start=TrainingStart(), holdout=0.0, epochs=1).endswith(
        "the last of 1 epoch kept (nothing held out)"
    )
    assert trained(epochs=1).endswith("; 1 epoch (the one kept not recorded)")
    assert trained(holdout=None, epochs=1).endswith("; 1 epoch")
    assert trained(holdout=None, epochs=None).endswith("; ? epochs")
    card = dataclasses.replace(bundled_report.card, training=None)
    assert _line(_summary(dataclasses.replace(bundled_report, card=card)), "trained") == (
        "trained:      not recorded (converted without its run's metrics.json?)"
    )


def test_info_names_an_artery_vein_model_as_such():
    """Info's kind line follows the card's preprocessing: the bundled artery/vein model is not
    called a vessel model."""
    text = _summary(describe_model(ARTERY_VEIN_MODEL))
    assert "kind:         artery/vein model" in text
    assert "artery/vein gate on 88 photographs of drive, gave, les-av: float accuracy" in text
    from edge_runtime.contract.gate_report import ArteryVeinGateReport

    one = ArteryVeinGateReport(True, photographs=1, float_accuracy=0.9)
    assert one.line() == "artery/vein gate on 1 photograph: float accuracy 0.9000; passed"


def test_eval_s_patch_mean_counts_one_patch_singular(tmp_path, patches_npz):
    """--holdout 0.2 of three patches scores one: 'on 1 patches' was said."""
    with np.load(patches_npz) as data:
        np.savez(tmp_path / "three.npz", x=data["x_train"][:3], y=data["y_train"][:3])
    args = ["eval", str(tmp_path / "three.npz"), "--images", "x", "--labels", "y"]
    result = CliRunner().invoke(cli, [*args, "--holdout", "0.2"])
    assert result.exit_code == 0, result.output
    assert " on 1 patch (" in result.output
