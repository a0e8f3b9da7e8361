"""firmware_notes/ is executed, so it cannot drift from the code.

- ```bash and ```python blocks run here, in a scratch directory, with this environment's
  `edge-seg` and `python` (the device runtime, no TensorFlow needed).
- ```device blocks are for the device or a Coral compile host (apt, systemctl, the Edge TPU):
  they cannot run here, so every `edge-seg` line in them is parsed against the real CLI instead.
- The systemd unit passes `systemd-analyze verify` where systemd is installed, else a
  structural check; verify_arm64.sh is syntax-checked (running it takes root and minutes: it is
  run by hand, see raspberry-pi.md).
"""

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pytest

from edge_runtime.cli.main import cli

pytestmark = pytest.mark.slow

NOTES = Path(__file__).parents[2] / "firmware_notes"
DOCS = sorted(NOTES.glob("*.md"))


def _blocks(language: str) -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for i, block in enumerate(re.findall(rf"```{language}\n(.*?)```", doc.read_text(), re.S)):
            found.append((f"{doc.name}#{i + 1}", block))
    return found


def _env() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


@pytest.fixture
def scratch(tmp_path):
    (tmp_path / "firmware_notes").symlink_to(NOTES)
    return tmp_path


def test_the_notes_exist_and_have_runnable_snippets():
    names = {doc.name for doc in DOCS}
    assert {
        "raspberry-pi.md",
        "coral.md",
        "camera-integration.md",
        "model-updates.md",
        "budgets.md",
    } <= names
    assert len(_blocks("bash")) >= 4 and len(_blocks("python")) >= 1


@pytest.mark.parametrize(("where", "script"), _blocks("bash"), ids=lambda v: v if "#" in v else "")
def test_shell_snippet_runs(where, script, scratch):
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=scratch,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{where} failed:\n{done.stdout}\n{done.stderr}"
    _assert_outputs_are_ignored(where, scratch)


def _assert_outputs_are_ignored(where: str, scratch: Path) -> None:
    """What a snippet leaves behind, run in a checkout, is not offered to git (.gitignore)."""
    left = [p.name + "/" * p.is_dir() for p in scratch.iterdir() if p.name != "firmware_notes"]
    if not left:
        return
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", "--verbose", "--non-matching", *left],
        cwd=NOTES.parent,
        capture_output=True,
        text=True,
    )
    not_ignored = [
        line.split("\t")[-1] for line in done.stdout.splitlines() if line.startswith("::")
    ]
    assert not not_ignored, f"{where} leaves {not_ignored}, which .gitignore does not name"


@pytest.mark.parametrize(("where", "code"), _blocks("python"), ids=lambda v: v if "#" in v else "")
def test_python_snippet_runs(where, code, scratch):
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=scratch,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{where} failed:\n{done.stdout}\n{done.stderr}"


def _device_commands() -> list[tuple[str, list[str]]]:
    commands = []
    for where, block in _blocks("device"):
        for line in block.replace("\\\n", " ").splitlines():
            for part in line.split("&&"):
                words = shlex.split(part.strip())
                if words[:1] == ["sudo"]:
                    words = words[1:]
                if words[:1] == ["edge-seg"]:
                    commands.append((where, words[1:]))
    return commands


@pytest.mark.parametrize(
    ("where", "args"), _device_commands(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_device_only_edge_seg_commands_parse(where, args):
    command = cli.get_command(click.Context(cli), args[0])
    assert command is not None, f"{where}: no command {args[0]!r}"
    command.make_context(args[0], args[1:])


def test_systemd_unit(tmp_path):
    unit = (NOTES / "edge-seg-watch.service").read_text()
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string(unit)
    service = parser["Service"]
    exec_start = shlex.split(service["ExecStart"])
    assert exec_start[0] == "/opt/edge-seg/bin/edge-seg" and exec_start[1] == "watch"
    assert service["User"] == "edge-seg" and service["Restart"] == "on-failure"
    assert service["StandardOutput"] == "journal" and "MemoryMax" in service
    assert parser["Install"]["WantedBy"] == "multi-user.target"
    watched = [str(tmp_path) if a == "/var/lib/edge-seg/incoming" else a for a in exec_start[2:]]
    cli.get_command(click.Context(cli), "watch").make_context("watch", watched)
    if shutil.which("systemd-analyze") is None:
        return  # the structural checks above are all this machine can do
    edge_seg = shutil.which("edge-seg", path=_env()["PATH"])
    local = tmp_path / "edge-seg-watch.service"
    local.write_text(unit.replace("/opt/edge-seg/bin/edge-seg", edge_seg))
    done = subprocess.run(["systemd-analyze", "verify", str(local)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "edge-seg-watch.service" not in done.stderr, done.stderr


def test_verify_arm64_script_is_valid_shell():
    script = NOTES / "verify_arm64.sh"
    assert os.access(script, os.X_OK)
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0


class _FakePicamera2:
    """picamera2's documented channel orders (its manual, appendix A): a "BGR888" array is
    [R, G, B], an "RGB888" one [B, G, R]; the scene is DRIVE-like red (200, 90, 40)."""

    def create_still_configuration(self, main):
        return main["format"]

    def configure(self, form):
        self.order = {"BGR888": [0, 1, 2], "RGB888": [2, 1, 0]}[form]

    def start(self):
        pass

    def stop(self):
        pass

    def capture_array(self):
        scene = np.zeros((48, 64, 3), np.uint8)
        scene[:] = (200, 90, 40)
        return scene[..., self.order]


def test_the_capture_example_gives_the_runtime_red_green_blue(monkeypatch):
    """Asked for picamera2's "RGB888", the example gave the runtime blue for red: every
    fundus photograph was "not a fundus photograph" and its arteries and veins mis-classed."""
    import importlib.util
    import types

    spec = importlib.util.spec_from_file_location(
        "capture_and_segment", NOTES / "examples" / "capture_and_segment.py"
    )
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    monkeypatch.setitem(sys.modules, "picamera2", types.SimpleNamespace(Picamera2=_FakePicamera2))
    frame = example.capture_frame()
    assert tuple(frame[0, 0]) == (200, 90, 40)


def test_the_capture_examples_maps_say_what_drew_them(tmp_path):
    """The example wrote its frame's maps without their provenance and verdict, which
    segment's carry: measure read them back as null (no model version after an update, the
    CSV's verdict columns empty, so a frame to retake was pooled unknowingly)."""
    import importlib.util

    from edge_runtime.app.outputs import written_records
    from edge_runtime.pipeline.segmenter import Segmenter

    spec = importlib.util.spec_from_file_location(
        "capture_and_segment", NOTES / "examples" / "capture_and_segment.py"
    )
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    example.main(tmp_path)  # no picamera2 here: the synthetic frame, blurred
    for name in ("frame_mask.png", "frame_overlay.png"):
        records = written_records(tmp_path / name)
        assert records.provenance == Segmenter().provenance, name
        assert records.verdict is not None and records.verdict.summary().startswith("retake:")


def _sentences(doc: Path) -> list[str]:
    return re.split(r"(?<=[.;])\s", re.sub(r"\s+", " ", doc.read_text()))


SET_NAMES = {"DRIVE": "drive", "STARE": "stare", "CHASE_DB1": "chase", "HRF": "hrf"}
SET_NAMES |= {"LES-AV": "les-av", "GAVE": "gave"}
"""How the documents name the catalog's sets."""


def test_the_fields_of_view_the_docs_state_are_the_catalogs():
    """The documents restate each set's field of view in degrees, which the catalog holds once
    (``Dataset.fields``): a set's angle, and the angle given with a photograph size, must be
    the catalog's, and a set whose angle the catalog does not hold (GAVE) is given none."""
    from edge_runtime.data.catalog import DATASETS

    by_size = {size: degrees for d in DATASETS.values() for size, degrees in d.fields}
    stated = 0
    for doc in [NOTES.parent / "README.md", *DOCS]:
        for sentence in _sentences(doc):
            names = "|".join(SET_NAMES)
            for name, degrees in re.findall(rf"\b({names})'s (\d+)\u00b0", sentence):
                angles = {a for _, a in DATASETS[SET_NAMES[name]].fields}
                assert float(degrees) in angles, f"{doc.name}: {sentence}"
                stated += 1
            sized = re.findall(r"(\d+)\u00d7(\d+), (\d+)\u00b0 field", sentence)
            sized += [
                (w, h, a)
                for a, w, h in re.findall(r"(\d+)\u00b0 for its one (\d+)\u00d7(\d+)", sentence)
            ]
            for width, height, degrees in sized:
                assert by_size.get(f"{width}x{height}") == float(degrees), f"{doc.name}: {sentence}"
                stated += 1
    assert stated >= 10  # the documents' wording still found: DRIVE's 45° and the like


@pytest.mark.parametrize("doc", [NOTES.parent / "README.md", *DOCS], ids=lambda doc: doc.name)
def test_the_reduced_decoding_a_doc_states_is_the_decoders(doc):
    """MODEL_CARD.md had photographs of up to 3504x2336 decoded at 1/2-1/8 scale, where the
    decoder reduces them by 2 at most (a quarter only from a long side of 6400 pixels)."""
    from edge_runtime.pipeline.decode import REDUCED_LONG_SIDE, reduction_for

    for sentence in _sentences(doc):
        for side in re.findall(r"long side of ([\d,]+) pixels or more", sentence):
            assert int(side.replace(",", "")) == 2 * REDUCED_LONG_SIDE, sentence
        for width, height in re.findall(
            r"(\d+)\u00d7(\d+) is the largest photograph decoded whole", sentence
        ):
            assert reduction_for(int(height), int(width)) == 1, sentence
            assert reduction_for(int(height), int(width) + 1) == 2, sentence
        fractions = {int(n) for n in re.findall(r"\b1/(\d)\b", sentence)}
        if fractions and re.search(r"decod|reduc", sentence):
            sizes = re.findall(r"(\d+)\u00d7(\d+)", sentence)
            assert fractions <= {reduction_for(int(h), int(w)) for w, h in sizes}, sentence
