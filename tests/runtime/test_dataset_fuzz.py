"""Fuzzing of folders of labelled photographs with fixed seeds: odd, mixed-case and duplicate
names, other formats, and files that are not what their names say (mutated, truncated, empty,
blank, the wrong size, a directory, a FIFO, a looping symbolic link). Listing and loading either
work or fail with one line naming a file of the folder, never anything else and never a hang;
``eval`` scores what it can and reports the rest, one line each."""

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from test_fuzz import mutate

from edge_runtime.cli.main import cli
from edge_runtime.data.photos import list_dataset, load_labelled
from edge_runtime.errors import InputError
from edge_runtime.evaluation.synthetic import synthetic_fundus, synthetic_label

SIZE = (120, 130)

LAYOUT_NAMES = {
    "generic": {
        "names": ["eye1", "EYE1", "Eye1", "p05", "P05", "eye 2", "eye.3", "ëye", "eye1.old"],
        "photo": lambda n, s: f"images/{n}{s}",
        "label": lambda n, s: f"labels/{n}{s}",
        "mask": lambda n, s: f"masks/{n}{s}",
    },
    "stare": {
        "names": ["im0001", "IM0001", "im0002", "Im0002", "im0003", "im0003.ah"],
        "photo": lambda n, s: f"stare-images/{n}{s}",
        "label": lambda n, s: f"labels-ah/{n}.ah{s}",
    },
    "hrf": {
        "names": ["01_h", "01_H", "02_h", "02_dr", "03_g"],
        "photo": lambda n, s: f"images/{n}{s}",
        "label": lambda n, s: f"manual1/{n}{s}",
        "mask": lambda n, s: f"mask/{n}_mask{s}",
    },
    "chase": {
        "names": ["Image_01L", "image_01l", "Image_01R", "IMAGE_02L", "Image_03"],
        "photo": lambda n, s: f"photos/{n}.jpg",  # the only format of CHASE_DB1 photographs
        "label": lambda n, s: f"labels/{n}_1stHO.png",
    },
    "drive": {
        "names": ["01_test", "01_TEST", "02_test", "02_training", "3_test", "04"],
        "photo": lambda n, s: f"images/{n}{s}",
        "label": lambda n, s: f"1st_manual/{n.partition('_')[0]}_manual1.gif",  # DRIVE's format
        "mask": lambda n, s: f"mask/{n}_mask.gif",
    },
}
"""Per layout: the names to draw from, and where each role's file of a name goes."""

SUFFIXES = [".png", ".PNG", ".gif", ".tif", ".bmp", ".jpg"]
FAULTS = ["mutated", "truncated", "empty", "blank", "small", "directory", "fifo", "loop"]
KINDS = ["good"] * len(FAULTS) + FAULTS
"""What a file is: good half the time, else one of the faults."""


def _encoded(array: np.ndarray, suffix: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=Image.registered_extensions()[suffix.lower()])
    return buffer.getvalue()


@pytest.fixture(scope="module")
def contents() -> dict[tuple[str, str, str], bytes]:
    """Encoded files by (role, kind, suffix) for the kinds that are bytes."""
    photo = synthetic_fundus(*SIZE, seed=3)
    arrays = {
        ("photo", "good"): photo,
        ("label", "good"): synthetic_label(photo).astype(np.uint8) * 255,
        ("mask", "good"): (photo.sum(axis=2) > 0).astype(np.uint8) * 255,
    }
    for role in ("photo", "label", "mask"):
        arrays[role, "blank"] = np.zeros(SIZE, np.uint8)
        arrays[role, "small"] = arrays[role, "good"][:70, :80]
    return {
        (role, kind, suffix): _encoded(array, suffix)
        for (role, kind), array in arrays.items()
        for suffix in SUFFIXES
    }


def _write(path: Path, role: str, kind: str, contents: dict, rng: np.random.Generator) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        return  # a name drawn twice (another letter case on a case-blind file system, say)
    good = contents[role, "good", path.suffix]
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "loop":
        path.symlink_to(path.name)
    elif kind == "mutated":
        path.write_bytes(mutate(good, rng))
    elif kind == "truncated":
        path.write_bytes(good[: rng.integers(0, len(good))])
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(contents[role, kind, path.suffix] if kind != "good" else good)


def _fuzzed_folder(root: Path, layout: str, contents: dict, rng: np.random.Generator) -> None:
    """A few photographs, most with a label and some with a mask, each file of a random format
    and kind, their names drawn from a list of near twins."""
    spec = LAYOUT_NAMES[layout]
    roles = [role for role in ("photo", "label", "mask") if role in spec]
    chances = {"photo": 1.0, "label": 0.85, "mask": 0.6}
    for _ in range(rng.integers(1, 5)):
        name = spec["names"][rng.integers(len(spec["names"]))]
        for role in roles:
            if rng.random() < chances[role]:
                suffix = SUFFIXES[rng.integers(len(SUFFIXES))]
                kind = KINDS[rng.integers(len(KINDS))]
                _write(root / spec[role](name, suffix), role, kind, contents, rng)
    (root / spec["photo"]("x", "")).parent.mkdir(parents=True, exist_ok=True)
    (root / spec["label"]("x", "")).parent.mkdir(parents=True, exist_ok=True)


def _one_line_about(message: str, root: Path) -> None:
    assert "\n" not in message and message.startswith(f"{root}"), message


@pytest.mark.parametrize("layout", list(LAYOUT_NAMES))
def test_fuzzed_folders_list_and_load_or_refuse_each_photograph_on_one_line(
    tmp_path, layout, contents
):
    rng = np.random.default_rng(list(LAYOUT_NAMES).index(layout))
    outcomes = {"loaded": 0, "refused": 0}
    for case in range(100):
        root = tmp_path / f"{case:02d}"
        _fuzzed_folder(root, layout, contents, rng)
        dataset = list_dataset(root, layout)
        assert len({photo.image for photo in dataset.photos}) == len(dataset.photos)
        names = [photo.name for photo in dataset.photos]
        for photo in dataset.photos:
            try:
                loaded = load_labelled(photo)
            except InputError as exc:
                _one_line_about(str(exc), root)
                outcomes["refused"] += 1
                continue
            outcomes["loaded"] += 1
            assert names.count(photo.name) == 1  # a score always says which photograph
            assert loaded.label.shape == loaded.photo.shape and loaded.label.any()
    assert outcomes["loaded"] > 5 and outcomes["refused"] > 20, outcomes


def test_eval_on_fuzzed_folders_reports_each_failure_and_scores_the_rest(tmp_path, contents):
    rng = np.random.default_rng(11)
    totals = {"scored": 0, "failed": 0}
    for case in range(20):
        root = tmp_path / f"{case}"
        _fuzzed_folder(root, "generic", contents, rng)
        result = CliRunner().invoke(cli, ["eval", str(root), "--json", "--jobs", "1"])
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        errors = result.stderr.splitlines()
        listed = len(list_dataset(root).photos)
        if listed == 0:
            assert result.exit_code == 1 and result.stdout == "" and len(errors) == 1
            assert errors[0].startswith(f"warning: {root}: nothing to evaluate")
            continue
        report = json.loads(result.stdout)
        failed = report["failed"]
        assert report["n"] + len(failed) == listed
        assert result.exit_code == (1 if failed else 0)
        assert errors == [f"error: {f['error']}" for f in failed] + (
            [f"Error: {len(failed)} of {listed} photographs failed"] if failed else []
        )
        assert all("\n" not in f["error"] and f["error"].startswith(str(root)) for f in failed)
        totals["scored"] += report["n"]
        totals["failed"] += len(failed)
    assert totals["scored"] > 0 and totals["failed"] > 5, totals
