"""Shared fixtures: the reference data (read from ../shared/data or $EDGE_SEG_DATA_DIR), data the
tests make themselves (synthetic labelled photographs and patch sets), runners for the command
line and the benchmark scripts, and the test tiers.

Tiers: the default run skips the ``slow`` tier (subprocess memory measurements, the docs' snippets,
benchmark scripts) with its reason; ``--slow`` runs it, and so do CI (``CI=true``) and
``EDGE_SEG_REQUIRE_DATA=1``. Tests that need the reference data are skipped, with one reason
naming what is missing and how to get it, when it is absent; under CI, or with
``EDGE_SEG_REQUIRE_DATA=1``, a missing file fails instead.
"""

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from PIL import Image

from edge_runtime.contract.model_card import ModelCard
from edge_runtime.evaluation.synthetic import synthetic_fundus, synthetic_label, synthetic_patches
from edge_runtime.inference.bundled import DEFAULT_MODEL
from edge_runtime.inference.model_file import card_text, digest_field, model_digest

DATA_DIR_ENV = "EDGE_SEG_DATA_DIR"
REQUIRE_DATA_ENV = "EDGE_SEG_REQUIRE_DATA"
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"


def _strict() -> bool:
    """Under CI (or when asked), a missing data file or a skipped tier is an error."""
    return any(
        os.environ.get(name, "").lower() in ("1", "true") for name in ("CI", REQUIRE_DATA_ENV)
    )


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C reaches the tests as it does a command typed at a terminal: a shell that starts
    them in the background ignores SIGINT, and the commands they run would inherit that and
    (rightly) keep ignoring it, so every test of Ctrl-C would wait for nothing. The tests of
    a SIGINT ignored from the start set it so themselves."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        help="also run the slow tier: subprocess memory measurements, the docs' snippets and "
        "the benchmark scripts (CI=true or EDGE_SEG_REQUIRE_DATA=1 implies it)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow") or _strict() or "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow tier (memory, docs snippets, benchmarks): add --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def _data_file(name: str) -> Path:
    directory = Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)
    path = directory / name
    if not path.is_file():
        message = (
            f"reference data not found in {directory} (its {name} is missing): set "
            f"{DATA_DIR_ENV} to the folder that holds retinal_vessel_dev.npz, sample_data.npz, "
            "drive/ and stare/ (README, 'Tests')"
        )
        if _strict():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def dev_npz() -> Path:
    """Path of retinal_vessel_dev.npz (x_train, y_train, x_test; no validation split); its
    folder also holds drive/ and stare/."""
    return _data_file("retinal_vessel_dev.npz")


@pytest.fixture(scope="session")
def sample_data() -> dict[str, np.ndarray]:
    """The reference notebook's own checks (sample_raw, sample_enhanced, ...)."""
    with np.load(_data_file("sample_data.npz")) as npz:
        return dict(npz)


@pytest.fixture(scope="session")
def patches_npz(tmp_path_factory) -> Path:
    """A labelled patch file the tests make (``x_train``/``y_train``: 172 patches of four
    synthetic photographs, :func:`~edge_runtime.evaluation.synthetic.synthetic_patches`), for
    what does not depend on real photographs: file handling, conversion, the gate."""
    x, y = synthetic_patches()
    path = tmp_path_factory.mktemp("patches") / "synthetic_patches.npz"
    np.savez(path, x_train=x, y_train=y)
    return path


def _run_cli(*args, expect: int = 0) -> Result:
    from edge_runtime.cli.main import cli

    result = CliRunner().invoke(cli, [str(a) for a in args], prog_name="edge-seg")
    assert result.exit_code == expect, result.output
    # a failure is an exit status and a line, never an exception escaping the command
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="session")
def run_cli():
    """``run_cli(*args, expect=0)``: run ``edge-seg`` in-process and return click's result.

    It checks the exit status, and that nothing but an exit escaped the command and no
    traceback was printed.
    """
    return _run_cli


BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _run_benchmark(script: str, *args) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="session")
def run_benchmark():
    """``run_benchmark(script, *args)``: run a benchmark script briefly, return what it
    printed (its numbers are measured by hand; here only that it runs against the library)."""
    return _run_benchmark


def _pair(seed: int, size=(120, 130)) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic photograph and a label of its dark curves."""
    photo = synthetic_fundus(*size, seed=seed)
    return photo, synthetic_label(photo).astype(np.uint8) * 255


def _write(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _fov(size=(120, 130)) -> np.ndarray:
    return (synthetic_fundus(*size).sum(axis=2) > 0).astype(np.uint8) * 255


LAYOUT_FILES = {
    "drive": lambda root, i: {
        root / "images" / f"{i:02d}_test.tif": "photo",
        root / "1st_manual" / f"{i:02d}_manual1.gif": "label",
        root / "mask" / f"{i:02d}_test_mask.gif": "mask",
    },
    "stare": lambda root, i: {
        root / "stare-images" / f"im{i:04d}.png": "photo",
        root / "labels-ah" / f"im{i:04d}.ah.png": "label",
    },
    "hrf": lambda root, i: {
        root / "images" / f"{i:02d}_h.jpg": "photo",
        root / "manual1" / f"{i:02d}_h.tif": "label",
        root / "mask" / f"{i:02d}_h_mask.tif": "mask",
    },
    "chase": lambda root, i: {
        root / "photos" / f"Image_{i:02d}L.jpg": "photo",
        root / "labels" / f"Image_{i:02d}L_1stHO.png": "label",
    },
    "generic": lambda root, i: {
        root / "images" / f"eye{i}.png": "photo",
        root / "labels" / f"eye{i}.png": "label",
        root / "masks" / f"eye{i}.bmp": "mask",
    },
}


def _photo_dataset(root: Path, layout: str, count: int = 3) -> Path:
    """Small synthetic labelled photographs (their dark curves as labels) in a layout."""
    for i in range(1, count + 1):
        photo, label = _pair(i)
        arrays = {"photo": photo, "label": label, "mask": _fov()}
        for path, kind in LAYOUT_FILES[layout](root, i).items():
            _write(path, arrays[kind])
    return root


@pytest.fixture(scope="session")
def make_photo_dataset():
    """``make_photo_dataset(root, layout, count=3)``: a folder of synthetic labelled photographs
    in one of the dataset layouts (``edge_runtime.data.photos.LAYOUTS``)."""
    return _photo_dataset


def _recarded(path: Path, spelled: bytes, respelled: bytes, model: Path = DEFAULT_MODEL) -> Path:
    """A bundled model (the vessel model's by default), written to ``path``, with ``spelled``
    (once in its card's JSON) replaced by ``respelled`` (as long: the card's text cannot grow)
    and its recorded digest made again."""
    content = model.read_bytes()
    assert content.count(spelled) == 1 and len(respelled) == len(spelled)
    content = content.replace(spelled, respelled)
    card = ModelCard.from_json(card_text(content))
    digest = digest_field(model_digest(content, card))
    path.write_bytes(content.replace(digest_field(card.model_sha256), digest))
    return path


@pytest.fixture(scope="session")
def recarded_model():
    """``recarded_model(path, spelled, respelled, model=DEFAULT_MODEL)``: a bundled model at
    ``path`` with some of its card's JSON respelled (as long), its digest made again, so that it
    loads."""
    return _recarded


def _bounds(printed: str) -> tuple[float, float]:
    """The interval a number printed rounded to its last digit stands for."""
    digits = printed.replace(",", "")
    half = 0.5 * 10.0 ** -(len(digits.split(".")[1]) if "." in digits else 0)
    value = float(digits)
    return value - half, value + half


def _ratio_agrees(ratio: str, numerator: str, denominator: str) -> bool:
    """Whether a printed ratio can be numerator / denominator, each as printed (rounded)."""
    (r0, r1), (n0, n1), (d0, d1) = map(_bounds, (ratio, numerator, denominator))
    return n0 / d1 <= r1 and r0 <= n1 / max(d0, 1e-12)


@pytest.fixture(scope="session")
def load_benchmark():
    """``load_benchmark(name)``: a benchmark script imported as a module, so that a test can
    stand in for what it times or segments and run its ``main`` in-process."""

    def load(name: str):
        script = BENCHMARKS / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"benchmark_{name}", script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope="session")
def ratio_agrees():
    """``ratio_agrees(ratio, numerator, denominator)``: whether numbers a benchmark printed
    (strings, rounded as printed) make the ratio it printed beside them."""
    return _ratio_agrees
