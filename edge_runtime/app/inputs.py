"""What to segment: the photographs that command-line inputs (files, folders, glob patterns)
name."""

import contextlib
import glob
import os
import stat
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.app.outputs import is_written_output
from edge_runtime.errors import one_line
from edge_runtime.pipeline.decode import IMAGE_SUFFIXES

PHOTOGRAPHS_TAKEN = f"photographs named {', '.join(IMAGE_SUFFIXES)} (in any case)"
"""The files edge-seg takes as photographs, as its warnings of files not taken name them."""


@dataclass(frozen=True)
class Input:
    """One input to segment; ``problem`` says why it could not even be listed (reported in its
    turn, like any bad input); ``empty``: a folder with nothing to take."""

    path: Path
    problem: str | None = None
    empty: bool = False


_KINDS_NAMED = 8
"""The most suffixes of other files that :func:`no_photographs` names (the line stays short)."""


def _listed(path: Path, suffixes: tuple[str, ...], keep: Callable[[Path], bool]) -> bool:
    """Whether a file found in a folder is an input: not hidden (macOS's ._ files, a writer's
    temporary file), with one of ``suffixes``, and one to ``keep`` (given its path)."""
    return not path.name.startswith(".") and path.suffix.lower() in suffixes and keep(path)


def _image_files(
    directory: Path, suffixes: tuple[str, ...], keep: Callable[[Path], bool]
) -> list[Input]:
    """The entries of a directory (sorted) that are inputs (:func:`_listed`), folders left
    out; anything else named as an input is kept and fails in its turn with its own error
    (a broken link, a pipe, an entry that cannot be examined), never dropped in silence."""
    found = []
    with os.scandir(directory) as entries:
        for entry in entries:
            if not _listed(Path(entry.path), suffixes, keep):
                continue
            with contextlib.suppress(OSError):  # cannot be examined: let it fail in its turn
                if entry.is_dir():
                    continue
            found.append(Input(Path(entry.path)))
    return sorted(found, key=lambda i: i.path)


def _folder(
    path: Path, suffixes: tuple[str, ...], keep: Callable[[Path], bool], wanted: str
) -> list[Input]:
    """A folder's inputs, or one failed input saying why there are none."""
    try:
        found = _image_files(path, suffixes, keep)
    except OSError as exc:
        return [Input(path, f"{path}: cannot list the folder ({exc.strerror or exc})")]
    return found or [Input(path, f"{path}: no {wanted} in the folder", empty=True)]


def collect_inputs(
    arguments: list[str],
    suffixes: tuple[str, ...] = IMAGE_SUFFIXES,
    keep: Callable[[Path], bool] = lambda path: not is_written_output(path),
    wanted: str = "image files",
) -> list[Input]:
    """Expand command-line inputs: a directory gives its image files (sorted; those with one
    of ``suffixes`` whose name it should ``keep``: the ``wanted``; by default not what
    ``segment`` writes), a pattern with ``*?[`` gives its matches (sorted): its files, each
    taken as named, and its folders as folders; anything else is taken as a path (even a missing
    one, so that it is reported in its turn). A directory that cannot be listed, or that holds
    none of the ``wanted`` while other inputs give some, is one failed input, never the end of
    the batch (nor a silent nothing); when no input gives any, the list is empty (the command
    says so). A file given twice is taken once (:func:`_each_file_once`)."""
    inputs: list[Input] = []
    for argument in arguments:
        path = Path(argument)
        if glob.has_magic(argument) and not os.path.lexists(argument):
            matches = [Path(p) for p in sorted(glob.glob(argument))]
            if not matches:
                inputs.append(Input(path))  # reported as missing
            for match in matches:  # its files as named, as a shell would give them
                is_folder = match.is_dir()
                inputs += _folder(match, suffixes, keep, wanted) if is_folder else [Input(match)]
            continue
        try:
            is_dir = path.is_dir()
        except OSError as exc:
            inputs.append(Input(path, f"{path}: cannot be read ({exc.strerror or exc})"))
            continue
        inputs += _folder(path, suffixes, keep, wanted) if is_dir else [Input(path)]
    return [] if all(item.empty for item in inputs) else _each_file_once(inputs)


def no_photographs(arguments: list[str]) -> str:
    """The one-line warning for ``arguments`` (folders, patterns) that gave no photograph
    (:func:`collect_inputs` found none): which files are taken, how many in their folders are
    named as the maps edge-seg writes (never taken: segment given its output folder) and the
    first of them, and the suffixes of the other files (hidden ones aside; "(no suffix)":
    without a suffix), if any: the first :data:`_KINDS_NAMED` and how many more."""
    found, maps, first = set(), 0, ""
    for argument in arguments:
        magic = glob.has_magic(argument) and not os.path.lexists(argument)
        for folder in sorted(glob.glob(argument)) if magic else [argument]:
            for name in _files_in(folder):
                if is_written_output(Path(name)):
                    maps, first = maps + 1, min(first, name) if maps else name
                else:
                    found.add(os.path.splitext(name)[1].lower() or "(no suffix)")
    kinds = sorted(found - set(IMAGE_SUFFIXES))  # (a photograph written since it was looked at)
    if len(kinds) > _KINDS_NAMED:
        kinds[_KINDS_NAMED:] = [f"{len(kinds) - _KINDS_NAMED} more"]
    written = f", never the maps it writes ({maps} in it: {first}{', ...' * (maps > 1)})"
    others = f"; other files in it: {', '.join(kinds)}" if kinds else ""
    named = " ".join(arguments)
    taken = f"{PHOTOGRAPHS_TAKEN}{written if maps else ''}{others}"
    return one_line(f"no photographs in {named}: edge-seg takes only {taken}")


def _files_in(folder: str) -> Iterator[str]:
    """The names of the files in ``folder`` (links to files too), hidden ones aside; none when
    it cannot be listed, and no entry that cannot be examined (a link in a loop), past which
    the others are read."""
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            try:
                named = not entry.name.startswith(".") and entry.is_file()
            except OSError:
                continue
            if named:
                yield entry.name


def _each_file_once(inputs: list[Input]) -> list[Input]:
    """``inputs`` with each file once: one given again (by another path, a pattern, its folder
    or a link: the same device and inode) is left out, with a warning, so that no photograph
    or map is counted twice in a run's results."""
    first: dict[tuple[int, int], Path] = {}
    kept = []
    for item in inputs:
        try:
            info = os.stat(item.path)
        except OSError:  # reported in its turn
            info = None
        if item.problem is None and info is not None and stat.S_ISREG(info.st_mode):
            key = (info.st_dev, info.st_ino)
            if key in first:
                again = "" if first[key] == item.path else f" (as {first[key]})"
                warnings.warn(f"{item.path}: given more than once{again}: taken once", stacklevel=2)
                continue
            first[key] = item.path
        kept.append(item)
    return kept
