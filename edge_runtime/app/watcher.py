"""Watch a drop folder: segment each new photograph once, when it is completely written.

A file is taken once it has settled: its signature (size, modification and change times, inode)
stayed the same for ``settle`` seconds of this process's own monotonic clock, or its modification
time is at least ``settle`` seconds in the past. A writer appending in pieces keeps changing the
signature; a camera whose clock is wrong (a Raspberry Pi has no clock battery) cannot keep a file
in the future forever. A file not named as a photograph (a ``.dcm``, a ``.heic``) is never
taken: the first of a kind (a suffix) to settle (a temporary name renamed to a photograph's in
time does not) gets one warning a run, for all of that kind; a folder in it gets one too (hidden
files none). What was done is remembered in a state file in the output directory, so a restart
neither repeats nor misses work; a file that changes (even into one of the same size and
time, ``cp -p``) is done again, and what was made of it before is written over once it is
decoded (removed if it fails: it describes another photograph). A change of its status alone is
no change: a photograph done keeps the digest of the content segmented, and one found with its
size and modification time but another change time or inode (a ``chmod``, a hard link made to
it, its access time set back, a copy of the same content, ``rsync -t``) is read once to compare
it, and is done again only if its content differs; one that cannot be read to compare it (its
permission taken away, a lock) is kept as done, its outputs too, said once, and compared once it
can be read. A restart with other settings (another model, threshold, outputs) does not redo the
photographs done: it counts those still in the folder, unchanged, in one warning, once a change
of settings (not at every restart after an upgrade). A photograph removed from the folder is
forgotten, so the state stays as small as the folder; its outputs stay. One removed while it is
read is not a failure: the next look forgets it.

The output folder is the watcher's own: removed, it is made again (with the state, so that
nothing is redone); if it cannot be, the watcher stops with an
:class:`~edge_runtime.errors.OutputError`, as it does when the two folders become one (a symbolic
link changed) or the watched folder turns out to be an output folder (it holds a state file: the
folders were swapped), checked on every look. A file that is one of the watcher's outputs is
never taken: linked into the watched folder while the output is in the output folder, or moved
there while the watcher runs. No output file is replaced unless the state says its photograph
made it (a new photograph of a forgotten one's name gets ``-2`` outputs). A photograph is
remembered as taken (``pending``) before its outputs are written: one cut short (SIGKILL, power
lost) is done again under its name at the next start, what it wrote removed first. Temporary
files of writes cut short are removed once :data:`~edge_runtime.atomic.STALE_PARTIAL_AGE` old,
at start and again each time that long has passed (those of a run killed and restarted by the
service manager stayed until the next start).

Who is at fault decides what follows a failure. A bad file (truncated, not a photograph, too
large: :class:`~edge_runtime.errors.InputError`) is recorded as failed, with its error, and
retried only if it changes; until then it is left unprocessed, which a restarted watcher says
once and each run of ``--once`` says again. Anything else (a full disk, an output folder gone
read-only, a model that fails to run, memory running out) says nothing about the file: it is
not recorded, and the file is tried again after a pause that doubles up to :data:`RETRY_MAX`
seconds, until it succeeds. So is a file that cannot be opened or read
(:class:`~edge_runtime.errors.UnreadableError`: a lock a sync tool or the camera's writer
holds, a network share's transient error), whose content is not known: its error is said once,
not at every try, and its record is made when it is done (changed meanwhile, rewritten, it is
tried at the next look); a photograph done, to be done again,
that cannot be read keeps its outputs (noted as unprocessed) until it can be.
"""

import contextlib
import dataclasses
import fcntl
import hashlib
import itertools
import json
import os
import stat
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.app.files import prepare_outdir
from edge_runtime.app.inputs import PHOTOGRAPHS_TAKEN, examined
from edge_runtime.app.outputs import (
    OutputPaths,
    identity,
    is_written_output,
    output_paths,
    plan_outputs,
)
from edge_runtime.atomic import STALE_PARTIAL_AGE, atomic_path, remove_stale_partials, synced
from edge_runtime.contract.provenance import photograph_name
from edge_runtime.contract.schema import MAX_TEXT, bounded, decode, encode
from edge_runtime.contract.segment_record import SegmentFailure
from edge_runtime.errors import (
    EdgeSegError,
    InputError,
    OutputError,
    UnreadableError,
    counted,
    describe_failure,
    one_line,
)
from edge_runtime.memory import give_back_kept_memory
from edge_runtime.pipeline.decode import IMAGE_SUFFIXES
from edge_runtime.safe_open import open_regular

STATE_FILE = ".edge-seg-watch.json"

LOCK_FILE = ".edge-seg-watch.lock"
"""The file in the output folder a watcher holds locked while it runs: one watcher per output
folder (two would each do every photograph, and overwrite each other's state)."""

MAX_STATE_BYTES = 64 * 2**20
"""Largest state file read (64 MiB: several hundred thousand photographs)."""

MAX_CUT_SHORT = 2
"""Runs cut short while segmenting one photograph (the process killed: out of memory, say)
after which it is left alone, failed: a photograph that kills the watcher would otherwise
stop every photograph after it, restart after restart."""

RETRY_FIRST = 2.0
RETRY_MAX = 300.0
"""Seconds before a file whose failure was not its own (or that could not be read) is tried
again: the first pause, doubling up to the longest."""

DIGEST_CHUNK = 2**20
"""Bytes of a photograph read at a time to take its digest (:func:`_digest`)."""


@dataclass(frozen=True)
class Done:
    """What the state file remembers of one photograph: its signature when it was taken, the
    name its outputs got, whether it succeeded, and if not why (older state files lack it); of
    one done, the digest of the content segmented (:func:`_digest`; ``None`` where it changed
    while it was segmented, and in older state files), which tells a change of its status
    alone from one of its content; and the digest of the settings it was done with
    (:func:`settings_digest`; ``None`` in older state files), which tells a restart with
    other settings; and, of one done otherwise, the settings of the watcher whose warning
    counted it (:meth:`FolderWatcher._warn_done_otherwise`; until a start with those it was
    done with), so that the operator is told once a change of settings, not at every start (an
    upgrade changes them: the package's version), and again after a roll-back.

    A photograph is remembered ``pending`` from the moment it is taken until its record is
    made: found so at a start, it was cut short (SIGKILL, power lost, the memory cap), and what
    it wrote is removed and it is done again under its name, ``cut_short`` counting the times;
    at :data:`MAX_CUT_SHORT` it is left alone, failed, so that the photographs after it are
    done.

    Raises:
        ValueError: ``name`` is not a file name of the output folder (a state file edited, or
            damaged, to remove files elsewhere).
    """

    size: int = bounded(low=0)
    mtime_ns: int = bounded()
    name: str = ""
    ok: bool = False
    ctime_ns: int | None = None
    inode: int | None = None
    error: str | None = None
    pending: bool = False
    cut_short: int = bounded(low=0, default=0)
    digest: str | None = None
    settings: str | None = None
    warned: str | None = None

    def __post_init__(self):
        if any(c in self.name for c in {"\0", os.sep, os.altsep or os.sep}):
            raise ValueError(f"got output name {self.name!r}, expected a file name")

    def matches(self, info: os.stat_result) -> bool:
        """Whether a file with this stat is the one that was done (older state files lack the
        change time and inode: size and modification time then decide)."""
        return (self.size, self.mtime_ns) == (info.st_size, info.st_mtime_ns) and (
            self.ctime_ns is None or (self.ctime_ns, self.inode) == _change(info)
        )


def _failed_before(path: Path, error: str | None) -> str:
    """Why a photograph is left: it failed in an earlier look, with ``error``, and has not
    changed since (the error without the path it starts with)."""
    problem = (error or "no reason kept").removeprefix(f"{path}: ")
    return f"failed before and unchanged since: {problem}"


def _kept_unread(path: Path, exc: UnreadableError, purpose: str, then: str) -> str:
    """Why a photograph done is left as it was, outputs and all: it cannot be read for
    ``purpose``, which is ``then`` done once it can be (the error without the path it starts
    with)."""
    problem = str(exc).removeprefix(f"{path}: ")
    return f"{problem} {purpose}: kept as done, its outputs too, and {then} once it can be read"


def _kept(error: str | None) -> str | None:
    """An error as the state file keeps it: at most the schema's :data:`MAX_TEXT` characters
    (a path of escaped bytes made one longer, and every restart then set the state aside)."""
    if error is None or len(error) <= MAX_TEXT:
        return error
    return error[: MAX_TEXT - 1] + "\u2026"


def _failure(path: Path, exc: BaseException) -> dict:
    """The record of a photograph whose processing raised ``exc``."""
    return _failed(path, describe_failure(exc, path))


def _failed(path: Path, error: str) -> dict:
    """The record of a photograph that failed, the one line that says why and its name
    (:func:`~edge_runtime.contract.provenance.photograph_name`), as segment's failures."""
    return encode(SegmentFailure(str(path), error, photograph_name(str(path))))


def _change(info: os.stat_result) -> tuple[int, int]:
    return info.st_ctime_ns, info.st_ino


def _signature(info: os.stat_result) -> tuple[int, ...]:
    return info.st_size, info.st_mtime_ns, *_change(info)


def _digest(path: Path, info: os.stat_result) -> str | None:
    """The digest of ``path``'s content (BLAKE2b, 128 bits: 4 ms for a 3 MB JPEG on a PC, and
    no SHA instructions needed, which a Raspberry Pi 4 lacks), if it is still the file of stat
    ``info`` once read, so that it describes the content of that file; ``None`` if it changed
    meanwhile (or was removed).

    Raises:
        UnreadableError: it cannot be read (its permission taken away, a lock, an I/O error):
            whether it changed is not known.
    """
    digest = hashlib.blake2b(digest_size=16)
    try:
        with open_regular(path, "a photograph") as f:
            while chunk := f.read(DIGEST_CHUNK):
                digest.update(chunk)
            after = os.fstat(f.fileno())
    except OSError as exc:  # failing part way: as one refused when opened
        raise UnreadableError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnreadableError:
        raise
    except InputError:  # removed, or no longer a regular file
        return None
    return digest.hexdigest() if _signature(after) == _signature(info) else None


def settings_digest(*records: object) -> str:
    """The digest of the records (dataclasses: the provenance, which files are written...) that
    decide a photograph's outputs, as :attr:`Done.settings` keeps it: 16 hexadecimal digits
    (64 bits, 30 bytes an entry in a state file of several hundred thousand)."""
    text = json.dumps([encode(record) for record in records], sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class _Output:
    """An output the watcher wrote: where, of which photograph, and its size and modification
    time (which the file keeps when moved, and a new file reusing its inode number lacks)."""

    path: Path
    source: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class _Retry:
    """When a photograph whose failure was not its own is taken again (:attr:`at`, of the
    watcher's clock), the pause before it, and the error of its last try; of one that could not
    be read, its signature then (:attr:`unread`): changed (a camera rewrote it), it is taken
    at the next look, not at the pause's end."""

    at: float
    pause: float
    error: str
    unread: tuple[int, ...] | None = None

    def holds(self, now: float, info: os.stat_result) -> bool:
        """Whether a look at ``now`` leaves the photograph, of stat ``info``, alone."""
        return now < self.at and self.unread in (None, _signature(info))


@dataclass(frozen=True)
class Unprocessed:
    """A photograph (or the folder) a look left alone, and why; ``settling`` when it only
    waits to settle, and a later look takes it."""

    path: Path
    reason: str
    settling: bool = False


def _output_files(outdir: Path) -> dict[tuple[int, int], Path]:
    """The files of ``outdir`` named as outputs, by (device, inode)."""
    found = {}
    with contextlib.suppress(OSError), os.scandir(outdir) as entries:
        for entry in entries:
            if is_written_output(Path(entry.name)):
                with contextlib.suppress(OSError):
                    info = entry.stat(follow_symlinks=False)
                    found[info.st_dev, info.st_ino] = Path(entry.path)
    return found


def is_permanent(exc: BaseException) -> bool:
    """Whether a failure belongs to the file, so that retrying the same file cannot help.

    The file's own errors (:class:`InputError`) and unexpected ones are; those of the system (a
    full disk, the model, memory, the network: every other library error and ``OSError``) are
    not, nor is a file that cannot be read (:class:`UnreadableError`: a lock a sync tool or the
    camera's writer holds, a network share's transient error), whose content is not known.
    """
    if isinstance(exc, InputError):
        return not isinstance(exc, UnreadableError)
    return not isinstance(exc, (EdgeSegError, OSError, MemoryError))


def _open_lock(path: Path) -> int:
    """The lock file's descriptor: opened for writing (NFS locks only such a file), else, where
    another user left it, for reading (a local file system locks that too).

    Raises:
        OSError: it can be opened neither way.
    """
    flags = os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        return os.open(path, os.O_RDWR | flags, 0o644)
    except PermissionError:
        return os.open(path, os.O_RDONLY | flags)


_HELD_LOCKS: dict[tuple[int, int] | None, int] = {}
"""The :data:`LOCK_FILE` descriptors this process holds, by their output folder's identity."""


class FolderWatcher:
    """Polls ``directory`` and hands complete new photographs to ``process``.

    After each :meth:`poll`, :attr:`unprocessed` lists what that look left alone.

    Args:
        directory: the drop folder (not searched recursively; hidden files are ignored).
        outdir: where outputs and the state file go; must not be ``directory`` under any path
            (made again if it is removed).
        process: called as ``process(path, outputs)``; returns a JSON-ready record. What it
            raises is reported in the record, and decides whether the file is retried
            (:func:`is_permanent`).
        settle: seconds a file must stay unchanged before it is taken.
        settings: the digest of the settings that decide the outputs (:func:`settings_digest`),
            remembered of each photograph taken; those done with others (or remembered without)
            are not done again, but those in the folder and unchanged are counted in a warning
            at the first look (``None``: not compared).
        warn: called with one line for a problem that is nobody's file (default:
            :func:`warnings.warn`).
        clock: monotonic seconds (for tests).

    Raises:
        OutputError: ``outdir`` is ``directory``, ``directory`` holds a watch state file,
            another watcher writes in ``outdir`` (:data:`LOCK_FILE`), or its state file is a
            symbolic link.
        EdgeSegError: the state file is in the way and cannot be set aside.
    """

    def __init__(
        self,
        directory: Path,
        outdir: Path,
        process: Callable,
        settle: float = 1.0,
        warn: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        settings: str | None = None,
    ):
        self.directory, self.outdir, self.process, self.settle = directory, outdir, process, settle
        self.settings = settings
        self._check_folders()
        self.warn = warn or (lambda message: warnings.warn(message, stacklevel=2))
        self.clock = clock
        self.state_path = outdir / STATE_FILE
        self._held = self._hold_outdir()
        try:
            self._remove_stale_partials()
            self.state: dict[str, Done] = self._load_state()
        except BaseException:
            self.close()
            raise
        self._compare_settings = settings is not None  # at the first look: _warn_done_otherwise
        self.unprocessed: list[Unprocessed] = []
        self._seen: dict[str, tuple[tuple[int, ...], float]] = {}
        self._retry: dict[str, _Retry] = {}
        self._outputs: dict[tuple[int, int], _Output] = {}  # by (device, inode)
        self._warned: dict[Path, str] = {}
        self._reported: set[str] = set()  # the photographs whose failure this run recorded
        self._folders: set[str] = set()  # the folders in it, warned of
        self._others_seen: dict[str, tuple[tuple[int, ...], float]] = {}  # see _warn_not_taken
        self._kinds_warned: set[str] = set()  # the suffixes of the files not taken, warned of
        self._unsaved = False
        self._written: dict[tuple[int, int], Path] | None = None  # the output folder's, a look
        self._entry_texts: dict[tuple[str, Done], str] = {}  # see _state_text

    def _check_folders(self) -> None:
        """Refuse an output folder that is the watched one under any path, and a watched folder
        that holds a watch state (an output folder: the folders swapped)."""
        if identity(self.directory) is not None and identity(self.directory) == identity(
            self.outdir
        ):
            raise OutputError(
                f"{self.outdir}: the output directory must differ from the watched one "
                f"({self.directory})"
            )
        if os.path.lexists(self.directory / STATE_FILE):
            raise OutputError(
                f"{self.directory}: holds a watch state ({STATE_FILE}): it is an output "
                "directory, not a folder of photographs to watch"
            )

    def _hold_outdir(self) -> tuple[tuple[int, int] | None, int]:
        """Lock :data:`LOCK_FILE` in the output folder for as long as this process lives (the
        kernel lets it go when the process ends, however it ends); the folder's identity and
        the lock's descriptor (-1 where the file system has no locks: NFS without its lock
        daemon, said in a warning). A watcher made again in the same process (a restart) takes
        over the lock.

        Raises:
            OutputError: another process's watcher holds it, or it cannot be opened.
        """
        path = self.outdir / LOCK_FILE
        key = identity(self.outdir)
        if key in _HELD_LOCKS:
            return key, _HELD_LOCKS[key]
        try:
            descriptor = _open_lock(path)
        except OSError as exc:
            raise OutputError(f"{path}: cannot open the watch lock ({exc.strerror})") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise OutputError(
                f"{self.outdir}: another edge-seg watch writes here (it holds {LOCK_FILE}): "
                "one watcher per output folder"
            ) from None
        except OSError as exc:
            os.close(descriptor)
            self.warn(
                one_line(
                    f"{path}: cannot be locked here ({exc.strerror}), so a second watcher "
                    "writing in this folder would not be refused"
                )
            )
            return key, -1
        _HELD_LOCKS[key] = descriptor
        return key, descriptor

    def _ensure_outdir(self) -> None:
        """Make the output folder again if it was removed, hold it (:data:`LOCK_FILE`), and
        save the state there.

        Raises:
            OutputError: it cannot be made, or another watcher took it meanwhile.
        """
        if os.path.isdir(self.outdir):
            return
        prepare_outdir(self.outdir)
        self.close()
        self._held = self._hold_outdir()
        self.warn(one_line(f"{self.outdir}: the output directory was removed; made it again"))
        self._unsaved = True

    def _remove_stale_partials(self) -> None:
        self._cleared_at = self.clock()
        try:
            removed = remove_stale_partials(self.outdir)
        except FileNotFoundError:
            return
        except OSError as exc:
            self.warn(one_line(f"{self.outdir}: cannot clear stale temporary files ({exc})"))
            return
        if removed:
            self.warn(
                one_line(
                    f"{self.outdir}: removed {counted(len(removed), 'temporary file')} of writes "
                    f"cut short ({', '.join(p.name for p in removed[:3])}"
                    f"{', ...' * (len(removed) > 3)})"
                )
            )

    def _load_state(self) -> dict[str, Done]:
        if not os.path.lexists(self.state_path):
            return {}
        if self.state_path.is_symlink():  # read through, it could never be saved in its place
            raise OutputError(
                f"{self.state_path}: a symbolic link, where the watch state is a file of the "
                "output folder: remove it"
            )
        try:
            with open_regular(self.state_path, "a watch state file", MAX_STATE_BYTES) as f:
                document = json.loads(f.read(MAX_STATE_BYTES + 1))
            if not isinstance(document, dict):
                raise ValueError(f"a JSON {type(document).__name__}, expected an object")
            state = {str(name): decode(Done, entry, name) for name, entry in document.items()}
        except InputError as exc:
            return self._set_aside(str(exc).split(": ", 1)[-1])
        except (OSError, ValueError, RecursionError) as exc:
            return self._set_aside(f"is not a watch state ({exc})")
        # one still pending was cut short: counted once, here, however often it is retried
        return {
            name: dataclasses.replace(done, cut_short=done.cut_short + 1) if done.pending else done
            for name, done in state.items()
        }

    def _warn_done_otherwise(self) -> None:
        """Say how many photographs in the folder, remembered as done, were done with other
        settings than :attr:`settings` (or before the state kept them): they are not done
        again, so the output folder holds maps of both. Once, at the first look, when those
        gone from the folder are forgotten (:meth:`_forget_gone`), and those changed since
        left out: neither is left undone; and once a change of settings: each photograph
        counted remembers the settings it was counted under (:attr:`Done.warned`), and a
        restart with those says nothing of it; a start with the settings it was done with
        forgets them, so that the next change counts it again."""
        self._compare_settings = False
        others = 0
        for name, done in list(self.state.items()):
            if done.settings == self.settings:
                warned = None  # the next change tells of it (a roll-back, then the update again)
            elif done.ok and done.warned != self.settings and not self._changed(name, done):
                warned, others = self.settings, others + 1
            else:
                continue
            if warned != done.warned:  # from the entry now: _changed may have kept a new stat
                self.state[name] = dataclasses.replace(self.state[name], warned=warned)
                self._unsaved = True
        if others:
            self.warn(
                f"{one_line(str(self.state_path))}: {counted(others, 'photograph')} "
                "in the folder done with another model or other settings (or by an older "
                "version) not done again (each map's provenance says what drew it): remove this "
                "file, or write to another output folder, to have them done with these"
            )

    def _set_aside(self, problem: str) -> dict[str, Done]:
        """Move a damaged state file out of the way (kept for a look, beside any set aside
        before) and start afresh: the photographs are then done again, never lost."""
        aside = self.state_path.with_name(f"{STATE_FILE}.bad")
        for n in itertools.count(2):
            if not os.path.lexists(aside):
                break
            aside = self.state_path.with_name(f"{STATE_FILE}.bad.{n}")
        try:
            os.replace(self.state_path, aside)
        except OSError as exc:
            raise EdgeSegError(
                f"{self.state_path}: {problem}, and cannot be moved aside ({exc.strerror or exc})"
            ) from None
        self.warn(one_line(f"{self.state_path}: {problem}; moved to {aside.name}, starting afresh"))
        return {}

    def _state_text(self) -> str:
        """The state as JSON, an entry a line, sorted by name; each entry's text is kept until
        it changes (the state is saved twice a photograph: encoding all of it each time cost
        60 ms a photograph with 2,000 in the folder)."""
        kept = self._entry_texts
        self._entry_texts = {
            (name, done): kept.get((name, done))
            or f"{json.dumps(name)}: {json.dumps(encode(done), sort_keys=True)}"
            for name, done in self.state.items()
        }
        return "{\n" + ",\n".join(sorted(self._entry_texts.values())) + "\n}\n"

    def _save_state(self) -> None:
        text = self._state_text()
        try:
            with atomic_path(self.state_path, durable=True) as tmp:
                tmp.write_text(text)
        except OSError as exc:  # kept in memory; tried again after every poll, said once
            if not self._unsaved:
                problem = exc.strerror or exc
                self.warn(one_line(f"{self.state_path}: cannot save the watch state ({problem})"))
            self._unsaved = True
            return
        self._unsaved = False

    def _listing(self) -> list[str] | None:
        """The names of the folder's photographs, sorted (``None``, noted as unprocessed, when
        the folder cannot be listed); a folder in it is warned of once (a camera writing into
        ``DCIM/100CANON/`` had nothing done, and nothing said), and so is another file once it
        has settled (:meth:`_warn_not_taken`)."""
        names, others, folders, outdir = [], [], set(), identity(self.outdir)  # may be in it
        try:
            with os.scandir(self.directory) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    if entry.name.lower().endswith(IMAGE_SUFFIXES):
                        names.append(entry.name)
                    elif examined(entry.is_dir) and identity(Path(entry.path)) != outdir:
                        folders.add(entry.name)
                    else:
                        others.append(entry.name)
        except OSError as exc:
            self._leave(self.directory, f"cannot list ({exc.strerror or exc})")
            return None
        for name in sorted(folders - self._folders):
            self.warn(
                f"{one_line(str(self.directory / name))}: a folder: the photographs in it are "
                "not looked at, only those in the watched folder itself"
            )
        self._folders = folders
        self._warn_not_taken(sorted(others))
        return sorted(names)

    def _warn_not_taken(self, names: list[str]) -> None:
        """Warn of the files ``names`` not named as a photograph (a camera writing ``.dcm`` or
        ``.heic`` files had nothing done, and nothing said), once a kind (a suffix) a run, at
        the first of that kind to settle, as a photograph must (a temporary name renamed to a
        photograph's in time is never warned of): a camera writing a sidecar beside each
        photograph gets one line, not one a photograph. Remembered in this process only, as
        folders are."""
        seen, now, folder = {}, self.clock(), os.fspath(self.directory)
        for name in names:
            kind = os.path.splitext(name)[1].lower()
            if kind in self._kinds_warned:
                continue
            try:
                info = os.stat(os.path.join(folder, name))
            except OSError:
                continue  # a link to nothing, removed or renamed meanwhile: no file to take
            if not stat.S_ISREG(info.st_mode):
                continue  # the output folder, a FIFO, a socket: no camera's file
            if name in self._others_seen:
                seen[name] = self._others_seen[name]
            if self._unsettled(seen, name, info, now) is None:
                others = f"any other {kind} file" if kind else "any other file without a suffix"
                self.warn(
                    f"{one_line(str(self.directory / name))}: not taken, nor {others}: edge-seg "
                    f"takes only {PHOTOGRAPHS_TAKEN}"
                )
                self._kinds_warned.add(kind)
        self._others_seen = seen

    def _leave(self, path: Path, reason: str, settling: bool = False) -> None:
        self.unprocessed.append(Unprocessed(path, reason, settling))

    def _forget_gone(self, names: list[str]) -> None:
        """Forget the photographs no longer in the folder, so that the state stays as small as
        the folder (a camera that clears it after upload)."""
        present = set(names)
        for memory in (self._seen, self._retry):
            for name in memory.keys() - present:
                del memory[name]
        self._outputs = {k: made for k, made in self._outputs.items() if made.source in present}
        self._reported &= present
        gone = self.state.keys() - present
        if gone:
            for name in gone:
                if self.state[name].pending:  # cut short: what it wrote is no result
                    self._remove_outputs(self.state[name].name)
                del self.state[name]
            self._unsaved = True

    def _remove_outputs(self, name: str) -> None:
        """Remove the output files named ``name`` that are there."""
        for made in output_paths(self.outdir, name).files():
            with contextlib.suppress(OSError):
                made.unlink()

    def _candidates(self, names: list[str]) -> Iterator[tuple[str, os.stat_result]]:
        """The photographs' names with their stat, each taken when it is reached (a stat taken
        at the look's start grows stale while the photographs before it are segmented: a file
        still being written was taken half-written); entries that cannot be examined, or are no
        regular file, are left (noted as unprocessed) and looked at again next time. Names, not
        Paths: a Path made of each photograph, and its text, was a third of an idle look."""
        folder = os.fspath(self.directory)
        for name in names:
            try:
                info = os.stat(os.path.join(folder, name))
            except FileNotFoundError:
                path = self.directory / name
                if os.path.islink(path):  # a link to nothing (a card not mounted, say)
                    self._leave(
                        path,
                        f"cannot be examined (a link to {os.readlink(path)}, which is not there)",
                    )
                continue  # else removed between listing and looking
            except OSError as exc:
                self._leave(self.directory / name, f"cannot be examined ({exc.strerror or exc})")
                continue
            if stat.S_ISREG(info.st_mode):
                yield name, info
            else:  # segment refuses it: so does the watcher, said once, not skipped silently
                self._leave(
                    self.directory / name,
                    "is not a regular file (a folder or FIFO named as a photograph)",
                )

    def _settled(self, path: Path, info: os.stat_result, now: float) -> bool:
        """Whether a photograph has settled; if not, it is noted as unprocessed."""
        wait = self._unsettled(self._seen, path.name, info, now)
        if wait is not None:
            self._leave(path, f"not settled: {wait}", settling=True)
        return wait is None

    def _unsettled(
        self,
        seen: dict[str, tuple[tuple[int, ...], float]],
        name: str,
        info: os.stat_result,
        now: float,
    ) -> str | None:
        """What a file of stat ``info`` waits for to settle, or ``None`` once it has; ``seen``
        keeps, by name, each file's signature and when it was first seen with it."""
        signature = _signature(info)
        if seen.get(name, (None,))[0] != signature:
            seen[name] = (signature, now)
        age = time.time() - info.st_mtime
        if now - seen[name][1] >= self.settle or (age >= 0 and age >= self.settle):
            return None
        wait = f"unchanged for less than {self.settle:g} s"
        if age < 0:
            wait = f"modified {-age:.0f} s in the future (a clock running ahead?), {wait}"
        return wait

    def poll(self, stop: threading.Event | None = None) -> Iterator[dict]:
        """Process every new or changed photograph that has settled, yielding each record as it
        is made; returns early when ``stop`` is set (after the photograph in progress).

        Raises:
            OutputError: the output folder was removed and cannot be made again, or the folders
                are the same, or swapped (:meth:`_check_folders`).
        """
        self.unprocessed = []
        self._written = None
        self._ensure_outdir()
        self._check_folders()
        if self.clock() - self._cleared_at >= STALE_PARTIAL_AGE:  # a run killed since it began
            self._remove_stale_partials()
        names = self._listing()
        if names is None:
            return
        self._forget_gone(names)
        if self._compare_settings:
            self._warn_done_otherwise()
        for name, info in self._candidates(names):
            if stop is not None and stop.is_set():
                return
            if name in self._retry and self._retry[name].holds(self.clock(), info):
                continue  # its pause after a failure not its own: not even read until it ends
            done = self.state.get(name)
            try:
                unchanged = (
                    done is not None and not done.pending and self._unchanged(name, info, done)
                )
            except UnreadableError as exc:  # not known to have changed: kept as done, outputs too
                path = self.directory / name
                compare = "to compare it with the one done (of its size and time)"
                self._leave(path, _kept_unread(path, exc, compare, "compared"))
                continue
            if unchanged:
                if not done.ok and name not in self._reported:  # a failure of an earlier run
                    path = self.directory / name
                    self._leave(path, _failed_before(path, done.error))
                continue
            path = self.directory / name
            now = self.clock()
            if not self._settled(path, info, now):
                continue  # still being written, or just finished: look again later
            if done is not None and done.ok and not self._readable(path, info):
                continue  # its outputs kept until it can be read and done again
            record = self._take(path, info)
            if record is not None:
                yield record
        if self._unsaved:
            self._save_state()

    def _unchanged(self, name: str, info: os.stat_result, done: Done) -> bool:
        """Whether the photograph ``name``, of stat ``info``, is still the one ``done``
        remembers: its stat matches, or only its status changed (its size, modification time
        and content digest are the same), and its change time and inode are then remembered, so
        that the next look does not read it again.

        Raises:
            UnreadableError: only its status changed, and it cannot be read to compare it.
        """
        if done.matches(info):
            return True
        if done.digest is None or (done.size, done.mtime_ns) != (info.st_size, info.st_mtime_ns):
            return False
        if _digest(self.directory / name, info) != done.digest:
            return False
        self.state[name] = dataclasses.replace(done, ctime_ns=info.st_ctime_ns, inode=info.st_ino)
        self._unsaved = True
        return True

    def _readable(self, path: Path, info: os.stat_result) -> bool:
        """Whether a photograph done, to be done again, can be read (its outputs are removed
        if it fails); if not, it is noted as unprocessed, kept as done, outputs and all (one
        made unreadable as it was segmented, its digest not read, would lose them)."""
        try:
            _digest(path, info)
        except UnreadableError as exc:
            self._unread(path, exc)
            return False
        return True

    def _unread(self, path: Path, exc: UnreadableError) -> None:
        """Note a photograph done, to be done again, that cannot be read (``exc``) as
        unprocessed: kept as done, outputs and all, until it can be."""
        self._leave(path, _kept_unread(path, exc, "to do it again", "done again"))

    def _changed(self, name: str, done: Done) -> bool:
        """Whether the photograph ``name`` has changed since it was ``done`` (a file that
        cannot be examined or read now has not: nothing is done of it)."""
        try:
            info = os.stat(os.path.join(self.directory, name))
            return stat.S_ISREG(info.st_mode) and not self._unchanged(name, info, done)
        except (OSError, UnreadableError):
            return False

    def _give_up(self, path: Path, earlier: Done, cut_short: int) -> dict:
        """Leave a photograph alone, failed, after ``cut_short`` runs were cut short on it."""
        error = (
            f"{path}: the watcher was cut short {cut_short} times while segmenting it (killed: "
            "out of memory?), so it is left alone"
        )
        self.state[path.name] = dataclasses.replace(
            earlier, pending=False, ok=False, error=_kept(one_line(error))
        )
        self._save_state()
        self._reported.add(path.name)  # its record says so: the looks that follow need not
        return _failed(path, one_line(error))

    def _take(self, path: Path, info: os.stat_result) -> dict | None:
        """Process a photograph: its record, or ``None`` when it was removed while it was read
        (gone, not failed: the next look forgets it) or could not be read (:meth:`_pause`; one
        done is kept as done, :meth:`_unread`)."""
        earlier = self.state.get(path.name)
        if earlier is not None and earlier.pending:
            self._remove_outputs(earlier.name)  # a part, of a run cut short
        cut_short = earlier.cut_short if earlier and earlier.pending else 0
        if cut_short >= MAX_CUT_SHORT and earlier.matches(info):
            return self._give_up(path, earlier, cut_short)
        redone = earlier is not None and earlier.ok
        try:  # refused (a lock): tried again, the state not written twice for nothing
            open_regular(path, "a photograph").close()
        except UnreadableError as exc:
            if redone:
                return self._unread(path, exc)
            return self._pause(path.name, _failure(path, exc), _signature(info))
        except InputError:
            pass  # gone, or no longer a regular file: process says which
        # a done one's outputs are written over once it is decoded, and kept if it cannot be
        outputs = output_paths(self.outdir, earlier.name) if redone else self._plan(path)
        before = outputs.states()
        taken = Done(info.st_size, info.st_mtime_ns, outputs.name, False, *_change(info))
        self.state[path.name] = dataclasses.replace(taken, pending=True, cut_short=cut_short)
        self._save_state()  # before any output: a run cut short is known at the next start
        try:
            self._refuse_own_output(path, info)
            record = self.process(path, outputs)
            outputs.remove_changed(before, changed=False)  # an earlier one's not written again
            try:  # before the state says done: no empty mask taken as done
                synced(outputs.files())
            except OSError:  # the storage failing: they are not kept, as not done
                self._remove_outputs(outputs.name)
                raise
            self._remember_outputs(path, outputs)
        except Exception as exc:  # a daemon outlives any one file; the record says what happened
            if redone and isinstance(exc, UnreadableError) and outputs.states() == before:
                self._restore(path.name, earlier)
                return self._unread(path, exc)
            if redone:  # they describe another photograph, or are a part of a new one's
                self._remove_outputs(outputs.name)
            gone = isinstance(exc, InputError) and not os.path.lexists(path)
            record = _failure(path, exc)
            if gone or not is_permanent(exc):  # nothing to record: as it was before
                self._restore(path.name, earlier)
            if gone:
                return None
            if not is_permanent(exc):
                unread = _signature(info) if isinstance(exc, UnreadableError) else None
                return self._pause(path.name, record, unread)
        self._retry.pop(path.name, None)
        if not record["ok"]:  # its record says so: the looks that follow need not
            self._reported.add(path.name)
        error = _kept(record.get("error"))
        # read once it is done: unchanged since it was taken, it is the content segmented
        digest = None
        if record["ok"]:
            with contextlib.suppress(UnreadableError):
                digest = _digest(path, info)
        self.state[path.name] = dataclasses.replace(
            taken, ok=record["ok"], error=error, digest=digest, settings=self.settings
        )
        self._save_state()
        return record

    def _plan(self, path: Path) -> OutputPaths:
        """The outputs of a photograph not done (or failed, or cut short): named after its
        stem, unless another photograph's are (remembered, or a forgotten one's files: they keep
        their names, and a new one of its stem gets "-2")."""
        used = {done.name for key, done in self.state.items() if key != path.name}
        return plan_outputs([path], self.outdir, used, keep_existing=True)[0]

    def _pause(self, name: str, record: dict, unread: tuple[int, ...] | None) -> dict | None:
        """Take ``name`` again after a pause, the last doubled up to :data:`RETRY_MAX` (sooner
        if it could not be read, of signature ``unread``, and changes); its failure's
        ``record``, with the pause, or ``None`` for one that could not be read again, as its
        last record said (said once, not at every try)."""
        last = self._retry.get(name)
        pause = min(RETRY_MAX, 2 * last.pause) if last else RETRY_FIRST
        self._retry[name] = _Retry(self.clock() + pause, pause, record["error"], unread)
        if unread is not None and last is not None and last.error == record["error"]:
            return None
        return {**record, "retry_in_s": pause}

    def _restore(self, name: str, earlier: Done | None) -> None:
        """Remember of ``name`` what was remembered before it was taken (its outputs, if any,
        were removed unless it could not be read: the next look that takes it finds none)."""
        if earlier is None:
            self.state.pop(name, None)
        else:
            self.state[name] = earlier
        self._unsaved = True

    def _remember_outputs(self, path: Path, outputs: OutputPaths) -> None:
        self._outputs = {k: made for k, made in self._outputs.items() if made.source != path.name}
        for output in outputs.files():
            try:
                info = os.stat(output)
            except OSError:
                continue  # not asked for
            made = _Output(output, path.name, info.st_size, info.st_mtime_ns)
            self._outputs[info.st_dev, info.st_ino] = made

    def _refuse_own_output(self, path: Path, info: os.stat_result) -> None:
        """Raise :class:`InputError` if ``path`` is one of the outputs written (moved or linked
        into the watched folder: moved, while this watcher runs; linked, as long as the output
        is in the output folder)."""
        made = self._outputs.get((info.st_dev, info.st_ino))
        if made is not None and (made.size, made.mtime_ns) == (info.st_size, info.st_mtime_ns):
            raise InputError(
                f"{path}: is an output of {made.source} (written as {made.path}), "
                "not a photograph to segment"
            )
        if self._written is None:  # the output folder's outputs, once a look
            self._written = _output_files(self.outdir)
        output = self._written.get((info.st_dev, info.st_ino))
        if output is not None:
            raise InputError(f"{path}: is {output}, an output, not a photograph to segment")

    def forget(self, path: Path) -> None:
        """Forget a photograph this run took, its outputs removed, so that the next look takes
        it again: its record could not be delivered (standard output closed as it was printed),
        and a restart must neither repeat nor miss one."""
        done = self.state.pop(path.name, None)
        if done is not None:
            self._remove_outputs(done.name)
            self._unsaved = True

    def close(self) -> None:
        """Let another watcher write in the output folder (this one is done)."""
        key, descriptor = self._held
        if _HELD_LOCKS.get(key) == descriptor:
            del _HELD_LOCKS[key]
            with contextlib.suppress(OSError):
                os.close(descriptor)

    def save(self) -> bool:
        """Save the state if it is not saved yet; whether the state file now holds what was
        done (else a restart does some of it again)."""
        if self._unsaved:
            self._save_state()
        return not self._unsaved

    def run(
        self, stop: threading.Event, interval: float = 0.5, on_record: Callable = print
    ) -> None:
        """Poll every ``interval`` seconds until ``stop`` is set, reporting each record as it is
        made (a stop takes effect after the photograph in progress). When a look finds nothing
        to do after one that did, the memory kept for the next photograph is given back
        (:func:`~edge_runtime.memory.give_back_kept_memory`): the camera may rest for hours."""
        busy = False
        while not stop.is_set():
            records = 0
            for record in self.poll(stop):
                on_record(record)
                records += 1
            if busy and not records:
                give_back_kept_memory()
            busy = records > 0
            self._warn_unprocessed()
            stop.wait(interval)

    def _warn_unprocessed(self) -> None:
        """Warn about what a look could not examine (not about files still settling), once
        until the problem changes."""
        problems = {i.path: i.reason for i in self.unprocessed if not i.settling}
        for path, reason in problems.items():
            if self._warned.get(path) != reason:
                self.warn(one_line(f"{path}: {reason}"))
        self._warned = problems
