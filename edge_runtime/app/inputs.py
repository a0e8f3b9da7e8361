"""What to segment: the photographs that command-line inputs (files, folders, glob patterns)
name."""

import contextlib
import glob
import itertools
import os
import stat
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.app.outputs import is_written_output
from edge_runtime.contract.provenance import photograph_name
from edge_runtime.errors import counted, one_line
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

    @property
    def photograph(self) -> str | None:
        """Its name as the records give it (:func:`photograph_name`), a failed one's too;
        ``None`` for one with a ``problem``, which is no photograph (a folder) or not known to
        be one (a path that cannot be examined), and for a pattern that matched nothing."""
        if self.problem or _is_pattern(str(self.path)):
            return None
        return photograph_name(str(self.path))


_KINDS_NAMED = 8
"""The most suffixes of other files that :func:`no_photographs` names (the line stays short)."""

_SUFFIX_SHOWN = 16
"""The most characters of a suffix that :func:`no_photographs` shows (then "…"): a file named
``x.`` and 250 characters made a line of a screen and more."""

_READ_BELOW = 10_000
"""The most entries :func:`no_photographs` reads of the folders in the folders given (one
level down, no deeper): a folder of many stays quick (past them, its count says "at least")."""


def _listed(path: Path, suffixes: tuple[str, ...], keep: Callable[[Path], bool]) -> bool:
    """Whether a file found in a folder is an input: not hidden (macOS's ._ files, a writer's
    temporary file), with one of ``suffixes``, and one to ``keep`` (given its path)."""
    return not path.name.startswith(".") and path.suffix.lower() in suffixes and keep(path)


def _not_written(path: Path) -> bool:
    """Whether a file is not named as one of the maps ``segment`` writes (never an input)."""
    return not is_written_output(path)


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
            if examined(entry.is_dir):  # one that cannot be examined fails in its turn
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
    keep: Callable[[Path], bool] = _not_written,
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
        named = _paths_named(argument)
        if not named:
            inputs.append(Input(Path(argument)))  # reported as missing
        for path in map(Path, named):  # a pattern's files as named, as a shell would give them
            try:
                is_dir = path.is_dir()
            except OSError as exc:
                inputs.append(Input(path, f"{path}: cannot be read ({exc.strerror or exc})"))
                continue
            inputs += _folder(path, suffixes, keep, wanted) if is_dir else [Input(path)]
    return [] if all(item.empty for item in inputs) else _each_file_once(inputs)


def _paths_named(argument: str) -> list[str]:
    """The paths a command-line input names: a pattern's matches (sorted; none: it matched
    nothing), else the input itself (a file named with ``*?[`` too)."""
    return sorted(glob.glob(argument)) if _is_pattern(argument) else [argument]


def _is_pattern(argument: str) -> bool:
    """Whether a command-line input is a glob pattern: it has ``*?[`` and no file is named so
    (one that is is taken as named)."""
    return glob.has_magic(argument) and not os.path.lexists(argument)


def no_photographs(arguments: list[str]) -> str:
    """The one-line warning for ``arguments`` (folders, patterns) that gave no photograph
    (:func:`collect_inputs` found none): which files are taken, how many in their folders are
    named as the maps edge-seg writes (never taken: segment given its output folder) and the
    first of them, the suffixes of the other files (hidden ones aside; "(no suffix)": without
    a suffix; each cut to :data:`_SUFFIX_SHOWN` characters), if any: the first
    :data:`_KINDS_NAMED` and how many more; and how many photographs the folders in them hold
    (one level down, at most :data:`_READ_BELOW` entries read), which are never looked at."""
    folders = [folder for argument in arguments for folder in _paths_named(argument)]
    found, maps, first, below, read = set(), 0, "", 0, 0
    for folder in folders:
        for name, is_folder in _entries(folder):
            if is_folder:
                if read < _READ_BELOW:  # the folder itself counts one
                    most = _READ_BELOW - read - 1
                    found_below, entries = _photographs_in(os.path.join(folder, name), most)
                    below, read = below + found_below, read + 1 + entries
            elif is_written_output(Path(name)):
                maps, first = maps + 1, min(first, name) if maps else name
            else:
                found.add(_shown_suffix(name))
    kinds = sorted(found - set(IMAGE_SUFFIXES))  # (a photograph written since it was looked at)
    if len(kinds) > _KINDS_NAMED:
        kinds[_KINDS_NAMED:] = [f"{len(kinds) - _KINDS_NAMED} more"]
    them = "them" if len(folders) > 1 else "it"
    written = f", never the maps it writes ({maps} in {them}: {first}{', ...' * (maps > 1)})"
    others = f"; other files in {them}: {', '.join(kinds)}" if kinds else ""
    some = ("at least " if read >= _READ_BELOW else "") + counted(below, "photograph")
    inside = f"; {some} in folders in {them}, which edge-seg does not look into: name those folders"
    named = " ".join(arguments)
    taken = f"{PHOTOGRAPHS_TAKEN}{written if maps else ''}{others}{inside if below else ''}"
    return one_line(f"no photographs in {named}: edge-seg takes only {taken}")


def _shown_suffix(name: str) -> str:
    """A file's suffix as :func:`no_photographs` names it: lower-cased, cut to
    :data:`_SUFFIX_SHOWN` characters, "(no suffix)" where it has none."""
    suffix = os.path.splitext(name)[1].lower() or "(no suffix)"
    return suffix if len(suffix) <= _SUFFIX_SHOWN else suffix[:_SUFFIX_SHOWN] + "\u2026"


def _entries(folder: str) -> Iterator[tuple[str, bool]]:
    """The names of the files in ``folder`` (links to files too) and of the folders in it
    (links to folders too), each as it is read with whether it is a folder, hidden ones aside;
    none when it cannot be listed, and no entry that cannot be examined (a link in a loop),
    past which the others are read."""
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if examined(entry.is_dir):
                yield entry.name, True
            elif examined(entry.is_file):
                yield entry.name, False


def _photographs_in(folder: str, most: int) -> tuple[int, int]:
    """How many photographs ``folder`` holds (as :func:`collect_inputs` would take them, hidden
    ones aside), of its first ``most`` entries, and how many entries were read (``most``: it
    may hold more); none when it cannot be listed."""
    count = read = 0
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in itertools.islice(entries, most):
            read += 1
            photograph = _listed(Path(entry.name), IMAGE_SUFFIXES, _not_written)
            count += photograph and examined(entry.is_file)
    return count, read


def examined(test: Callable[[], bool]) -> bool:
    """``test()``: a folder entry's ``is_dir`` or ``is_file`` (which follow links); false where
    the entry cannot be examined (a link in a loop), so that the folder's other entries are
    still listed."""
    try:
        return test()
    except OSError:
        return False


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
