"""Compile a converted model for the Coral Edge TPU with ``edgetpu_compiler``, keeping its card."""

import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from converters.pipeline import copy_card
from edge_runtime.errors import EdgeSegError

COMPILER = "edgetpu_compiler"


@dataclass(frozen=True)
class EdgeTpuBuild:
    """The compiled file, and the commands that make it (run here, or to run on a host that has
    the compiler: it exists for x86-64 Debian/Ubuntu only)."""

    compiled: Path
    commands: tuple[str, ...]
    done: bool


def find_edgetpu_compiler() -> str | None:
    """Path of ``edgetpu_compiler`` on PATH, or None."""
    return shutil.which(COMPILER)


def compile_for_edgetpu(model: Path) -> EdgeTpuBuild:
    """Compile ``model`` to ``<stem>_edgetpu.tflite`` beside it and re-embed the model card the
    compiler drops; without the compiler, only say how (``done`` is False).

    Raises:
        EdgeSegError: the compiler failed (its last line says why).
    """
    compiled = model.with_name(f"{model.stem}_edgetpu.tflite")
    command = [COMPILER, "-s", "-o", str(model.parent), str(model)]
    embed = ["edge-seg", "embed-metadata", "--from", str(model), str(compiled)]
    commands = (shlex.join(command), shlex.join(embed))  # safe to paste into a shell
    compiler = find_edgetpu_compiler()
    if compiler is None:
        return EdgeTpuBuild(compiled, commands, done=False)
    done = subprocess.run([compiler, *command[1:]], capture_output=True, text=True)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        reason = said[-1] if said else f"exit status {done.returncode}"
        raise EdgeSegError(f"{COMPILER} failed on {model}: {reason}")
    copy_card(model, compiled)
    return EdgeTpuBuild(compiled, commands, done=True)
