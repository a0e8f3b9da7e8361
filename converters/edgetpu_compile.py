"""Compile a converted model for the Coral Edge TPU with ``edgetpu_compiler``, keeping its card."""

import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from converters.pipeline import copy_card
from edge_runtime.errors import EdgeSegError

COMPILER = "edgetpu_compiler"

COMPILE_TIMEOUT_S = 300.0
"""Longest the compiler may run: this project's models compile in seconds, so one that runs
this long is a compiler that hangs (it is then ended)."""


@dataclass(frozen=True)
class EdgeTpuBuild:
    """The compiled file, and the commands that make it.

    They are run here, or to be run on a host that has the compiler (it exists for x86-64
    Debian/Ubuntu only).
    """

    compiled: Path
    commands: tuple[str, ...]
    done: bool


def find_edgetpu_compiler() -> str | None:
    """Path of ``edgetpu_compiler`` on PATH, or None."""
    return shutil.which(COMPILER)


def build_path(model: Path) -> Path:
    """Where ``edgetpu_compiler`` writes ``model``'s build: ``<stem>_edgetpu.tflite`` beside it."""
    return model.with_name(f"{model.stem}_edgetpu.tflite")


def compile_for_edgetpu(model: Path) -> EdgeTpuBuild:
    """Compile ``model`` for the Edge TPU, or say how when the compiler is missing.

    The result is ``<stem>_edgetpu.tflite`` beside it, with the model card the compiler drops
    embedded again; without the compiler, ``done`` is False.

    A failed compilation, or a build that is not the model's, leaves no build.

    Raises:
        EdgeSegError: the compiler failed (its last line says why), or ran past
            :data:`COMPILE_TIMEOUT_S`.
        ModelError: its build is not the model's (:func:`~converters.pipeline.copy_card`).
    """
    compiled = build_path(model)
    command = [COMPILER, "-s", "-o", str(model.parent), str(model)]
    embed = ["edge-seg", "embed-metadata", "--from", str(model), str(compiled)]
    commands = (shlex.join(command), shlex.join(embed))  # safe to paste into a shell
    compiler = find_edgetpu_compiler()
    if compiler is None:
        return EdgeTpuBuild(compiled, commands, done=False)
    try:
        _compile(compiler, command, model)
        copy_card(model, compiled)
    except BaseException:
        compiled.unlink(missing_ok=True)  # no build beside the model that is not its own
        raise
    return EdgeTpuBuild(compiled, commands, done=True)


def _compile(compiler: str, command: list[str], model: Path) -> None:
    """Run the compiler's ``command``.

    Raises:
        EdgeSegError: it failed (its last line says why) or ran past :data:`COMPILE_TIMEOUT_S`.
    """
    try:
        done = subprocess.run(
            [compiler, *command[1:]], capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        raise EdgeSegError(
            f"{COMPILER} did not finish on {model} in {COMPILE_TIMEOUT_S:g} s (it was ended)"
        ) from None
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        reason = said[-1] if said else f"exit status {done.returncode}"
        raise EdgeSegError(f"{COMPILER} failed on {model}: {reason}")
