"""What to segment: the photographs that command-line inputs (files, folders, glob patterns)
name."""

import glob
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.pipeline.decode import IMAGE_SUFFIXES


@dataclass(frozen=True)
class Input:
    """One input to segment; ``problem`` says why it could not even be listed (reported in its
    turn, like any bad input)."""

    path: Path
    problem: str | None = None


def _image_files(
    directory: Path, suffixes: tuple[str, ...], keep: Callable[[Path], bool]
) -> list[Input]:
    """The image files of a directory (sorted) with one of ``suffixes`` that it should
    ``keep``, hidden ones left out; an entry that cannot be examined is kept, and fails in its
    turn with its own error."""
    found = []
    with os.scandir(directory) as entries:
        for entry in entries:
            name = Path(entry.name)
            if name.name.startswith(".") or name.suffix.lower() not in suffixes or not keep(name):
                continue  # hidden: macOS's ._ files, a writer's temporary file
            try:
                if not entry.is_file():
                    continue
            except OSError:
                pass  # let it fail in its turn, naming itself
            found.append(Input(Path(entry.path)))
    return sorted(found, key=lambda i: i.path)


def collect_inputs(
    arguments: list[str],
    suffixes: tuple[str, ...] = IMAGE_SUFFIXES,
    keep: Callable[[Path], bool] = lambda _name: True,
    wanted: str = "image files",
) -> list[Input]:
    """Expand command-line inputs: a directory gives its image files (sorted; those with one
    of ``suffixes`` whose name it should ``keep``: the ``wanted``), a pattern with ``*?[``
    gives its matches (sorted), anything else is taken as a path (even a missing one, so that
    it is reported in its turn). A directory that cannot be listed, or that holds none of the
    ``wanted`` while other inputs give some, is one failed input, never the end of the batch
    (nor a silent nothing); when no input gives any, the list is empty (the command says so)."""
    inputs: list[Input] = []
    empty = 0
    for argument in arguments:
        path = Path(argument)
        try:
            is_dir = path.is_dir()
        except OSError as exc:
            inputs.append(Input(path, f"{path}: cannot be read ({exc.strerror or exc})"))
            continue
        if is_dir:
            try:
                found = _image_files(path, suffixes, keep)
            except OSError as exc:
                found = [Input(path, f"{path}: cannot list the folder ({exc.strerror or exc})")]
            if not found:
                found, empty = [Input(path, f"{path}: no {wanted} in the folder")], empty + 1
            inputs += found
        elif glob.has_magic(argument) and not os.path.lexists(argument):
            inputs += [Input(Path(p)) for p in sorted(glob.glob(argument))] or [Input(path)]
        else:
            inputs.append(Input(path))
    return [] if empty == len(inputs) else inputs
