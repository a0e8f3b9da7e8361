"""Watch a drop folder: segment each new photograph once, when it is completely written.

A file is taken once it has settled: its signature (size, modification and change times, inode)
stayed the same for ``settle`` seconds of this process's own monotonic clock, or its modification
time is at least ``settle`` seconds in the past. A writer appending in pieces keeps changing the
signature; a camera whose clock is wrong (a Raspberry Pi has no clock battery) cannot keep a file
in the future forever. What was done is remembered in a state file in the output directory, so a
restart neither repeats nor misses work; a file that changes (even into one of the same size and
time, ``cp -p``) is done again. A photograph removed from the folder is forgotten, so the state
stays as small as the folder; its outputs stay.

Who is at fault decides what follows a failure. A bad file (unreadable, truncated, not a
photograph: :class:`~edge_runtime.errors.InputError`) is recorded as failed and retried only if
it changes. Anything else (a full disk, an output folder gone read-only, a model that fails to
run, memory running out) says nothing about the file: it is not recorded, and the file is tried
again after a pause that doubles up to :data:`RETRY_MAX` seconds, until it succeeds.
"""

import json
import os
import stat
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.app.outputs import OutputPaths, identity, plan_outputs
from edge_runtime.atomic import atomic_path
from edge_runtime.contract.schema import bounded, decode, encode
from edge_runtime.errors import (
    EdgeSegError,
    InputError,
    ModelError,
    OutputError,
    describe_failure,
    one_line,
)
from edge_runtime.pipeline.decode import IMAGE_SUFFIXES
from edge_runtime.safe_open import open_regular

STATE_FILE = ".edge-seg-watch.json"

MAX_STATE_BYTES = 64 * 2**20
"""Largest state file read (64 MiB: several hundred thousand photographs)."""

RETRY_FIRST = 2.0
RETRY_MAX = 300.0
"""Seconds before a file whose failure was not its own is tried again: the first pause, doubling
up to the longest."""


@dataclass(frozen=True)
class Done:
    """What the state file remembers of one photograph: its signature when it was taken, the
    name its outputs got, and whether it succeeded."""

    size: int = bounded(low=0)
    mtime_ns: int = bounded()
    name: str = ""
    ok: bool = False
    ctime_ns: int | None = None
    inode: int | None = None

    def matches(self, info: os.stat_result) -> bool:
        """Whether a file with this stat is the one that was done (older state files lack the
        change time and inode: size and modification time then decide)."""
        return (self.size, self.mtime_ns) == (info.st_size, info.st_mtime_ns) and (
            self.ctime_ns is None or (self.ctime_ns, self.inode) == _change(info)
        )


def _change(info: os.stat_result) -> tuple[int, int]:
    return info.st_ctime_ns, info.st_ino


def _signature(info: os.stat_result) -> tuple[int, ...]:
    return info.st_size, info.st_mtime_ns, *_change(info)


def is_permanent(exc: BaseException) -> bool:
    """Whether a failure belongs to the file (retrying the same file cannot help) rather than
    to the system (a full disk, the model, memory)."""
    if isinstance(exc, (ModelError, OutputError, MemoryError)):
        return False
    return isinstance(exc, InputError) or not isinstance(exc, (EdgeSegError, OSError))


class FolderWatcher:
    """Polls ``directory`` and hands complete new photographs to ``process``.

    Args:
        directory: the drop folder (not searched recursively; hidden files are ignored).
        outdir: where outputs and the state file go; must not be ``directory`` under any path.
        process: called as ``process(path, outputs)``; returns a JSON-ready record. What it
            raises is reported in the record, and decides whether the file is retried
            (:func:`is_permanent`).
        settle: seconds a file must stay unchanged before it is taken.
        warn: called with one line for a problem that is nobody's file (default:
            :func:`warnings.warn`).
        clock: monotonic seconds (for tests).

    Raises:
        ValueError: ``outdir`` is ``directory``.
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
    ):
        if identity(directory) is not None and identity(directory) == identity(outdir):
            raise ValueError(f"{outdir}: the output directory must differ from the watched one")
        self.directory, self.outdir, self.process, self.settle = directory, outdir, process, settle
        self.warn = warn or (lambda message: warnings.warn(message, stacklevel=2))
        self.clock = clock
        self.state_path = outdir / STATE_FILE
        self.state: dict[str, Done] = self._load_state()
        self._seen: dict[str, tuple[tuple[int, ...], float]] = {}
        self._retry: dict[str, tuple[float, float]] = {}
        self._unsaved = False

    def _load_state(self) -> dict[str, Done]:
        if not os.path.lexists(self.state_path):
            return {}
        try:
            with open_regular(self.state_path, "a watch state file", MAX_STATE_BYTES) as f:
                document = json.loads(f.read(MAX_STATE_BYTES + 1))
            if not isinstance(document, dict):
                raise ValueError(f"a JSON {type(document).__name__}, expected an object")
            return {str(name): decode(Done, entry, name) for name, entry in document.items()}
        except InputError as exc:
            return self._set_aside(str(exc).split(": ", 1)[-1])
        except (OSError, ValueError, RecursionError) as exc:
            return self._set_aside(f"is not a watch state ({exc})")

    def _set_aside(self, problem: str) -> dict[str, Done]:
        """Move a damaged state file out of the way (kept for a look) and start afresh: the
        photographs are then done again, never lost."""
        aside = self.state_path.with_name(f"{STATE_FILE}.bad")
        try:
            os.replace(self.state_path, aside)
        except OSError as exc:
            raise EdgeSegError(
                f"{self.state_path}: {problem}, and cannot be moved aside ({exc.strerror or exc})"
            ) from None
        self.warn(one_line(f"{self.state_path}: {problem}; moved to {aside.name}, starting afresh"))
        return {}

    def _save_state(self) -> None:
        document = {name: encode(done) for name, done in self.state.items()}
        try:
            with atomic_path(self.state_path) as tmp:
                tmp.write_text(json.dumps(document, indent=1, sort_keys=True))
        except OSError as exc:  # kept in memory; tried again after every poll, said once
            if not self._unsaved:
                problem = exc.strerror or exc
                self.warn(one_line(f"{self.state_path}: cannot save the watch state ({problem})"))
            self._unsaved = True
            return
        self._unsaved = False

    def _listing(self) -> list[str] | None:
        """The names of the folder's photographs, sorted (``None``, with a warning, when the
        folder cannot be listed)."""
        try:
            with os.scandir(self.directory) as entries:
                return sorted(
                    e.name for e in entries
                    if not e.name.startswith(".") and Path(e.name).suffix.lower() in IMAGE_SUFFIXES
                )  # fmt: skip
        except OSError as exc:
            self.warn(one_line(f"{self.directory}: cannot list ({exc.strerror or exc})"))
            return None

    def _forget_gone(self, names: list[str]) -> None:
        """Forget the photographs no longer in the folder, so that the state stays as small as
        the folder (a camera that clears it after upload)."""
        present = set(names)
        for memory in (self._seen, self._retry):
            for name in memory.keys() - present:
                del memory[name]
        gone = self.state.keys() - present
        if gone:
            for name in gone:
                del self.state[name]
            self._unsaved = True

    def _candidates(self, names: list[str]) -> list[tuple[Path, os.stat_result]]:
        """The photographs with their stat; entries that cannot be examined are skipped (with a
        warning) and looked at again next time."""
        found = []
        for name in names:
            path = self.directory / name
            try:
                info = os.stat(path)
            except FileNotFoundError:
                continue  # removed between listing and looking
            except OSError as exc:
                self.warn(one_line(f"{path}: cannot be examined ({exc.strerror or exc})"))
                continue
            if stat.S_ISREG(info.st_mode):
                found.append((path, info))
        return found

    def _settled(self, path: Path, info: os.stat_result, now: float) -> bool:
        signature = _signature(info)
        seen = self._seen.get(path.name)
        if seen is None or seen[0] != signature:
            self._seen[path.name] = (signature, now)
            seen = self._seen[path.name]
        age = time.time() - info.st_mtime
        return now - seen[1] >= self.settle or (age >= 0 and age >= self.settle)

    def poll(self, stop: threading.Event | None = None) -> Iterator[dict]:
        """Process every new or changed photograph that has settled, yielding each record as it
        is made; returns early when ``stop`` is set (after the photograph in progress)."""
        names = self._listing()
        if names is None:
            return
        self._forget_gone(names)
        for path, info in self._candidates(names):
            if stop is not None and stop.is_set():
                return
            done = self.state.get(path.name)
            if done is not None and done.matches(info):
                continue
            now = self.clock()
            if not self._settled(path, info, now):
                continue  # still being written, or just finished: look again later
            retry_at, _ = self._retry.get(path.name, (0.0, 0.0))
            if now < retry_at:
                continue
            yield self._take(path, info)
        if self._unsaved:
            self._save_state()

    def _take(self, path: Path, info: os.stat_result) -> dict:
        used = {done.name for key, done in self.state.items() if key != path.name}
        outputs: OutputPaths = plan_outputs([path], self.outdir, used)[0]
        try:
            record = self.process(path, outputs)
        except Exception as exc:  # a daemon outlives any one file; the record says what happened
            record = {"path": str(path), "ok": False, "error": describe_failure(exc, path)}
            if not is_permanent(exc):
                _, pause = self._retry.get(path.name, (0.0, RETRY_FIRST / 2))
                pause = min(RETRY_MAX, 2 * pause)
                self._retry[path.name] = (self.clock() + pause, pause)
                record["retry_in_s"] = pause
                return record
        self._retry.pop(path.name, None)
        self.state[path.name] = Done(
            info.st_size, info.st_mtime_ns, outputs.name, record["ok"], *_change(info)
        )
        self._save_state()
        return record

    def run(
        self, stop: threading.Event, interval: float = 0.5, on_record: Callable = print
    ) -> None:
        """Poll every ``interval`` seconds until ``stop`` is set, reporting each record as it is
        made (a stop takes effect after the photograph in progress)."""
        while not stop.is_set():
            for record in self.poll(stop):
                on_record(record)
            stop.wait(interval)
