"""A blank path is refused, never taken as the current folder; a size over a limit is shown so
that the two figures differ and neither reads 0."""

import re
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from edge_runtime.cli.main import cli
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.safe_open import size_and_limit


@pytest.mark.parametrize(
    "args",
    [
        ["segment", "p.png", "-o", ""],
        ["segment", "p.png", "-o", " "],
        ["segment", "p.png", "--model", ""],
        ["segment", ""],
        ["watch", ".", "-o", "", "--once"],
        ["eval", ""],
        ["eval", "d", "--report", ""],
        ["bench", "--image", "", "--runs", "1"],
        ["demo", "-o", ""],
        ["info", "--model", "\t"],
        ["keygen", "--private", "", "--public", "k.pub"],
        ["sign", "m.tflite", "--key", ""],
    ],
    ids=lambda args: " ".join(map(repr, args)),
)
def test_a_blank_path_is_a_usage_error_and_nothing_is_written(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    Image.fromarray(synthetic_fundus(150, 160)).save("p.png")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert re.search(r"Invalid value for .*: got '[^']*', expected a path", result.output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.png"]


@pytest.mark.parametrize(
    ("size", "limit", "expected"),
    [
        (round(0.2 * 2**20), 16 * 2**10, ("204.8 KiB", "16 KiB")),  # was 0.2 MiB and 0 MiB
        (2**31, 64 * 2**20, ("2048.0 MiB", "64 MiB")),
        (2**30 + 1, 2**30, ("1,073,741,825 bytes", "1,073,741,824 bytes")),  # was 1.0 and 1 GiB
        (700, 512, ("700 bytes", "512 bytes")),
    ],
)
def test_size_and_limit_examples(size, limit, expected):
    assert size_and_limit(size, limit) == expected


@given(st.integers(1, 2**40), st.integers(1, 2**40))
def test_a_size_over_its_limit_never_reads_as_zero_or_as_the_limit(limit, excess):
    size, allowed = size_and_limit(limit + excess, limit)
    assert size != allowed
    for text in (size, allowed):
        number, unit = text.split(" ")
        assert float(number.replace(",", "")) > 0 and unit in {"bytes", "KiB", "MiB", "GiB"}


def test_an_array_just_over_the_limit_says_by_how_much(tmp_path):
    """An .npz array declaring 1 GiB and 16 KiB: once "1.0 GiB, more than the 1 GiB allowed"."""
    path = tmp_path / "big.npz"
    header = np.lib.format.header_data_from_array_1_0(np.zeros((1, 64, 64), np.float32))
    header["shape"] = (2**30 // (64 * 64 * 4) + 1, 64, 64)
    with zipfile.ZipFile(path, "w") as archive:
        for key in ("x", "y"):
            with archive.open(f"{key}.npy", "w") as member:
                np.lib.format.write_array_header_1_0(member, header)
    result = CliRunner().invoke(cli, ["eval", str(path), "--images", "x", "--labels", "y"])
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"Error: {path}: 'x' declares 1,073,758,208 bytes, more than the 1,073,741,824 bytes "
        "allowed\n"
    )
