"""The ``edge-seg`` command group.

Device subcommands live in this package. Host subcommands (training, conversion) are registered by
the ``training`` and ``converters`` packages under the ``edge_seg.commands`` entry-point group and
are imported only when invoked, so the device side never imports them or TensorFlow.
"""

import sys
import warnings

import click

from edge_runtime import __version__
from edge_runtime.cli.bench import bench
from edge_runtime.cli.datasets import datasets
from edge_runtime.cli.demo import demo
from edge_runtime.cli.evaluate import evaluate
from edge_runtime.cli.groups import (
    InputFailure,
    Interrupted,
    NamingGroup,
    Stopped,
    usage_failure,
)
from edge_runtime.cli.info import info
from edge_runtime.cli.measure import measure
from edge_runtime.cli.segment import segment
from edge_runtime.cli.verdict import verdict
from edge_runtime.cli.watch import watch
from edge_runtime.errors import EdgeSegError, one_line, os_error_line
from edge_runtime.inference.bundled import DEFAULT_MODEL
from edge_runtime.inference.model_file import read_card, read_model_bytes
from edge_runtime.native_logs import quiet_libtiff, show_native_logs
from edge_runtime.processes import Terminated
from edge_runtime.streams import stderr_forgiving

PLUGIN_GROUP = "edge_seg.commands"

KEY_COMMANDS = ("keygen", "sign")
"""Host commands that handle signing keys (the 'cryptography' base dependency, no TensorFlow)."""

SUMMARY_LIMIT = 200
"""Command summaries are shown whole in ``edge-seg --help`` (click cuts them at 45 characters)."""


def _plugins() -> dict:
    """Registered host commands by name (entry points; imported only here, as reading the
    installed distributions' metadata costs tens of milliseconds of start-up)."""
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=PLUGIN_GROUP)}


class EdgeSegGroup(NamingGroup):
    """Lists plugin commands without importing them; turns library errors into one-line errors."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(_plugins()))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands in three groups (device, host, keys), each with its whole summary."""
        device = set(super().list_commands(ctx))
        sections = {
            "Device commands (numpy, Pillow, click and LiteRT only)": [],
            "Host commands (need the 'train' extra: TensorFlow)": [],
            "Signing keys (host)": [],
        }
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            kind = 0 if name in device else 2 if name in KEY_COMMANDS else 1
            sections[list(sections)[kind]].append((name, command.get_short_help_str(SUMMARY_LIMIT)))
        for title, rows in sections.items():
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in _plugins():
            command = _plugins()[cmd_name].load()
        return command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise usage_failure(exc, ctx) from None

    def main(self, *args, **kwargs):
        stderr_forgiving()  # closed (2>&-) or gone (a hangup): its lines are lost, not the run
        if sys.stdout is None:  # started with it closed (>&-): what is printed would be lost
            click.echo(
                "Error: standard output is closed, so what this command prints would be lost "
                "(send it to /dev/null to discard it)",
                err=True,
            )
            sys.exit(InputFailure.exit_code)
        return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context):
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            # Pillow's complaints about a damaged file name no file (its error here names it);
            # set here, once, not around each decode: a filter is the whole process's
            warnings.filterwarnings("ignore", module=r"PIL\.")
            try:
                with quiet_libtiff():  # the same, in libtiff's own lines
                    return super().invoke(ctx)
            except EdgeSegError as exc:
                raise InputFailure(one_line(str(exc))) from None
            except click.UsageError as exc:
                raise usage_failure(exc, ctx) from None
            except KeyboardInterrupt:
                raise Interrupted("interrupted") from None
            except Terminated:
                raise Stopped("terminated") from None
            except OSError as exc:  # the file system said no: name the file, no traceback
                raise InputFailure(os_error_line(exc)) from None
            except MemoryError:
                raise click.ClickException("out of memory") from None


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    click.echo(f"warning: {one_line(str(message))}", err=True)


def _print_version(ctx: click.Context, _param, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    try:
        card = read_card(read_model_bytes(DEFAULT_MODEL))
        model = card.model_version if card else "without a model card"
    except (EdgeSegError, ValueError) as exc:
        model = f"unreadable: {one_line(str(exc))}"
    click.echo(f"edge-seg {__version__} (bundled model {model})")
    ctx.exit()


def _verbose(_ctx: click.Context, _param, value: bool) -> None:
    if value:
        show_native_logs()


@click.group(cls=EdgeSegGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the package's and the bundled model's versions.",
)
@click.option("--verbose", is_flag=True, expose_value=False, is_eager=True, callback=_verbose,
              help="Let the native libraries' log lines through (LiteRT, TensorFlow, "
              "libtiff).")  # fmt: skip
def cli() -> None:
    """Retinal vessel segmentation on small devices.

    Device commands need only numpy, Pillow, click and a LiteRT interpreter; host commands need
    the 'train' extra (in the project's checkout: pip install -e '.[train]'). Exit status: 0 done,
    1 when some of several inputs failed, none was found, or a gate failed, 2 for a bad model,
    data file or option (or standard output closed, or a missing extra); `verdict` 3 when
    photographs are to be taken again, `segment` and `verdict` 4 when a picture is not a fundus
    photograph; 130 when stopped by Ctrl-C, 143 when `train`, `convert` or `datasets` is stopped
    by SIGTERM. Stopped by either, `segment` and `eval` of photographs finish those in progress
    and fail those not started (1); `watch` finishes the current one and exits 0 (1 with
    --once).
    """


cli.add_command(bench)
cli.add_command(datasets)
cli.add_command(demo)
cli.add_command(evaluate)
cli.add_command(info)
cli.add_command(measure)
cli.add_command(segment)
cli.add_command(verdict)
cli.add_command(watch)


if __name__ == "__main__":
    cli()
