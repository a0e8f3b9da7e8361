"""Failures of the command line as one line each, naming the command that failed."""

import signal

import click

from edge_runtime.errors import one_line

COMMAND_PATH = "edge_seg.command_path"
"""Key of the contexts' shared ``meta`` where a :class:`NamingGroup` records the command it is
about to run (``edge-seg datasets fetch``): what a parse error raised without a context names."""


class InputFailure(click.ClickException):
    """A library error shown as one line; exit status 2 marks bad input."""

    exit_code = 2


class Interrupted(click.ClickException):
    """Stopped by SIGINT (Ctrl-C): status 130 (128 + the signal), as a shell reports it, never
    taken for a failed gate or input (1)."""

    exit_code = 128 + signal.SIGINT


class Stopped(click.ClickException):
    """Stopped by SIGTERM (a service stopped, ``timeout``): status 143 (128 + the signal)."""

    exit_code = 128 + signal.SIGTERM


class NamingGroup(click.Group):
    """A group that records the command it resolves (:data:`COMMAND_PATH`)."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            ctx.meta[COMMAND_PATH] = f"{ctx.command_path} {name}"
        return name, command, rest


SHOWS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())
"""What click raises to show a group's help when no command is given (click 8.2 and later)."""


def usage_failure(error: click.UsageError, ctx: click.Context) -> click.ClickException:
    """A usage error (a bad or missing option) as one line that names the command and where
    its help is, instead of click's block of usage, hint and error; a group's help, asked for
    by giving no command, is left as it is. ``ctx`` is the context it was caught in: an error
    that carries none is named by the command recorded there (:class:`NamingGroup`)."""
    if isinstance(error, SHOWS_HELP):
        return error
    command = error.ctx.command_path if error.ctx else ctx.meta.get(COMMAND_PATH, ctx.command_path)
    message = error.format_message().replace("\n\t", " ").removesuffix(".")  # click's choices
    return InputFailure(one_line(f"{command}: {message} (see {command} --help)"))
