"""The README's commands name real commands and options, so it cannot drift from the CLI."""

import re
import shlex
from pathlib import Path

import click
import pytest

from edge_runtime.cli.main import cli

README = Path(__file__).parents[2] / "README.md"


def _commands() -> list[list[str]]:
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    lines = "\n".join(blocks).replace("\\\n", " ").splitlines()
    return [shlex.split(line)[1:] for line in lines if line.startswith("edge-seg ")]


def _parse(args: list[str]) -> None:
    command = cli.get_command(click.Context(cli), args[0])
    assert command is not None, f"no command {args[0]!r}"
    command.make_context(args[0], args[1:])  # parses and converts every option, runs nothing


def test_readme_has_commands():
    assert {args[0] for args in _commands()} >= {"demo", "train", "convert", "info", "segment"}


@pytest.mark.parametrize("args", _commands(), ids=lambda args: " ".join(args)[:60])
def test_readme_command_parses(args):
    _parse(args)


def test_an_unknown_option_would_be_caught():
    with pytest.raises(click.NoSuchOption):
        _parse(["segment", "photo.jpg", "--no-such-option"])


def test_the_segment_section_names_every_field_of_its_json_records():
    """It once left out width, height and fov_found."""
    from dataclasses import fields

    from edge_runtime.contract.segment_record import SegmentRecord

    section = README.read_text().split("### `edge-seg segment")[1].split("\n### ")[0]
    named = set(re.findall(r"`(\w+)`", section))
    missing = [f.name for f in fields(SegmentRecord) if f.name not in named]
    assert not missing, f"README's segment section does not name {missing}"


def test_the_layout_names_every_layer_and_every_module_beside_them():
    """It once left out streams.py."""
    package = README.parent / "edge_runtime"
    layout = README.read_text().split("## Layout")[1].split("\n## ")[0]
    layers = sorted(f"{p.parent.name}/" for p in package.glob("*/__init__.py"))
    modules = sorted(p.name for p in package.glob("*.py") if p.name != "__init__.py")
    missing = [name for name in layers + modules if f"`{name}`" not in layout]
    assert not missing, f"README's Layout section does not name {missing}"
