"""The tests' shared command-line runner (``run_cli``) holds commands to the house rules."""

import click
import pytest

from edge_runtime.cli.main import cli


def test_a_command_that_lets_an_exception_escape_fails_even_at_the_expected_status(
    run_cli, monkeypatch
):
    """An escaping exception exits 1 with no traceback in click's captured output: only the
    runner's check of the exception tells it from a reported failure."""

    def crash() -> None:
        raise RuntimeError("a bug")

    monkeypatch.setitem(cli.commands, "crash", click.Command("crash", callback=crash))
    with pytest.raises(AssertionError):
        run_cli("crash", expect=1)


def test_a_reported_failure_passes_at_its_status(run_cli):
    result = run_cli("segmentt", expect=2)
    assert "No such command 'segmentt'" in result.output
