"""Host fixtures: small smoke-trained models (TensorFlow required)."""

import numpy as np
import pytest
from click.testing import CliRunner

from edge_runtime.cli.main import cli

SMOKE = ["--epochs", "2", "--batch-size", "16", "--seed", "7"]


@pytest.fixture(scope="session")
def subset_npz(dev_npz, tmp_path_factory):
    """The first 120 training patches (contiguous rows of photographs)."""
    with np.load(dev_npz) as npz:
        x, y = npz["x_train"][:120], npz["y_train"][:120]
    path = tmp_path_factory.mktemp("data") / "subset.npz"
    np.savez(path, x_train=x, y_train=y)
    return path


def _run_cli(*args, expect: int = 0):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == expect, result.output
    return result


def _train_smoke(data, out, *extra):
    return _run_cli("train", data, "--out", out, *SMOKE, *extra)


@pytest.fixture(scope="session")
def run_cli():
    """``run_cli(*args, expect=0)``: invoke ``edge-seg`` in-process, check the exit status."""
    return _run_cli


@pytest.fixture(scope="session")
def train_smoke():
    """``train_smoke(data, out, *options)``: a two-epoch training run through the CLI."""
    return _train_smoke


@pytest.fixture(scope="session")
def trained_run(subset_npz, tmp_path_factory, train_smoke):
    """A seed-edge model trained briefly on the subset, good enough to segment a little."""
    out = tmp_path_factory.mktemp("run") / "seed-edge"
    train_smoke(
        subset_npz, out, "--arch", "unet", "--width", "4", "--epochs", "10", "--lr", "0.005"
    )
    return out
