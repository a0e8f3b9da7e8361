"""Run one job per photograph on several processes, each with its own interpreter, and hand
the results back in the order of the photographs.

Every worker builds its own :class:`~edge_runtime.pipeline.segmenter.Segmenter` (an interpreter
is not shared between processes) from the parent segmenter's
:meth:`~edge_runtime.pipeline.segmenter.Segmenter.recipe`: its models' options (the model bytes
the parent read and checked, never the files again: a model replaced during a run is not used by
it) and its configuration in effect, so its results are those one process gives, photograph for
photograph.

Each worker holds one photograph at a time, so a worker that dies (the OOM killer under a
memory limit, a signal, a native crash) is known with the photograph it held: that photograph
fails with "worker died: killed by signal 9 (out of memory?)", a new worker takes the rest, and
nothing waits for ever. A photograph whose worker is killed by SIGKILL (the OOM killer's
signal) while the run had other worker processes (together they may have outgrown the memory)
is done again instead, once, on one process fewer from then on (one at least), unless a stop
was asked; killed again, or killed while it was the run's only worker process from start to
end (no other's memory to spare), it fails.
Workers ignore SIGINT, SIGTERM and SIGHUP, which are the parent's to handle
(:func:`stopping_on_signals`), and leave quietly when the parent is gone.
"""

import contextlib
import queue
import signal
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from edge_runtime.cores import usable_cores
from edge_runtime.errors import counted
from edge_runtime.inference.runtime_options import RuntimeOptions
from edge_runtime.memory_room import memory_room
from edge_runtime.pipeline.decode import stored_pixels
from edge_runtime.pipeline.segmenter import Segmenter
from edge_runtime.processes import (
    ENDING_SIGNALS,
    can_fork,
    exit_description,
    first_for_the_oom_killer,
    process_context,
)


@dataclass(frozen=True)
class ProcessMemory:
    """The memory one process of a command's default count is counted to take for a photograph:
    ``base`` bytes and ``per_megapixel`` more for each of its megapixels, at most ``most``
    (what the largest accepted photograph takes)."""

    base: int
    per_megapixel: int
    most: int

    def for_pixels(self, pixels: int) -> int:
        """What a photograph of ``pixels`` is counted to take."""
        return min(self.most, self.base + self.per_megapixel * pixels // 1_000_000)

    def for_photographs(self, photos: Iterable[Path], up_to: int) -> int:
        """What the largest of ``photos`` is counted to take, by their files' headers
        (:func:`~edge_runtime.pipeline.decode.stored_pixels`), read no further once it is
        ``up_to`` or the most. A file whose header cannot be read, or is refused, fails before
        it is decoded: it counts as none."""
        limit = min(self.most, up_to)
        need = self.base
        for path in photos:
            if need >= limit:
                break
            pixels = stored_pixels(path)
            if pixels is not None:
                need = max(need, self.for_pixels(pixels))
        return need

    def describe(self) -> str:
        """The figures in words: "128 MiB and 22 MiB a megapixel of the largest photograph, at
        most 384 MiB"."""
        base, per, most = (value // 2**20 for value in (self.base, self.per_megapixel, self.most))
        return f"{base} MiB and {per} MiB a megapixel of the largest photograph, at most {most} MiB"


SEGMENT_MEMORY = ProcessMemory(128 * 2**20, 22 * 2**20, 384 * 2**20)
"""What a process of ``segment``'s default count is counted to take: over what each size and
format peaked at with every output (firmware_notes/budgets.md: 96-98 MiB for a DRIVE-sized
photograph, about 350 MiB for a 12-megapixel JPEG 2000, decoded whole), and at most what the
largest accepted photograph of any format peaks at (the slow tier holds each to it)."""

SCORING_MEMORY = ProcessMemory(128 * 2**20, 36 * 2**20, 1024 * 2**20)
"""What a process of ``eval``'s default count is counted to take: beside ``segment``'s maps,
its labels, sorted scores, ``--report`` picture and the artery/vein label's centre lines are
each the photograph's size (budgets.md: 98 MiB for a DRIVE-sized photograph scored with
``--av --report``, 276 MiB at 6.8 megapixels, 701 MiB for the largest; the slow tier holds
them under it)."""


def job_count(
    requested: int | None,
    photos: Sequence[Path],
    runtime: RuntimeOptions,
    memory: ProcessMemory = SEGMENT_MEMORY,
) -> int:
    """Processes for ``photos``: one with a delegate (there is one accelerator), else
    ``requested``, else as many as the cores this process may use
    (:func:`~edge_runtime.cores.usable_cores`) hold at ``runtime.threads`` interpreter threads
    each and the memory it may still take (:func:`~edge_runtime.memory_room.memory_room`) holds
    at what the largest of them takes (``memory``; their headers are read only when the memory
    would not hold the most for each process, and only while more than one may fit), and no
    more than there are photographs. Each process holds its own photograph, so the peak memory
    grows with the count (firmware_notes/budgets.md)."""
    if runtime.delegate:
        return 1
    if requested:
        return max(1, min(requested, len(photos)))
    wanted = min(usable_cores() // runtime.threads, len(photos))
    room = memory_room()
    if room is not None and room < wanted * memory.most:
        # read no further once the largest read leaves room for one process only
        wanted = min(wanted, room // memory.for_photographs(photos, up_to=room // 2 + 1))
    return max(1, wanted)


class Stop(threading.Event):
    """A request to stop after the items in hand (the event, set), and what made it."""

    def __init__(self):
        super().__init__()
        self.by = ""
        """What asked: " by SIGTERM", " as standard output closed", or "" when unsaid."""
        self.signals: tuple[signal.Signals, ...] = ()
        """The signals that ask it (:func:`stopping_on_signals`)."""

    def request(self, signum: int) -> None:
        """Ask the run to stop because signal ``signum`` came (never from its handler: it takes
        a lock; :func:`stopping_on_signals`)."""
        self.request_because(f" by {signal.Signals(signum).name}")

    def request_because(self, by: str) -> None:
        """Ask the run to stop, saying what asked (" as standard output closed")."""
        self.by = by
        self.set()

    @property
    def reason(self) -> str:
        """Why an item was not started: "stopped by SIGTERM before it was started"."""
        return f"stopped{self.by} before it was started"


@contextlib.contextmanager
def stopping_on_signals() -> Iterator[Stop]:
    """Inside the block, SIGINT, SIGTERM and SIGHUP (:data:`~edge_runtime.processes.ENDING_SIGNALS`)
    ask the returned :class:`Stop` instead of ending the process (the previous handlers come
    back after it); one ignored when the block begins stays ignored, as a program started
    with it ignored is expected to keep it (``nohup`` ignores SIGHUP, a shell SIGINT for a
    command it runs in the background, and Python then leaves Ctrl-C alone too), and so does
    one whose handler was set outside Python (which could not be put back). In a thread other
    than the main one, where handlers cannot be set, the signals keep their usual effect.

    A handler only hands the signal to a thread of this block, which asks the stop: a handler
    runs in the main thread between two of its steps, perhaps while it holds the stop's lock
    (waiting on it), so a handler that took that lock itself would wait for ever
    (python/cpython#126434). A signal that arrived in the block has asked the stop when the
    block ends."""
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    heeded = [s for s in ENDING_SIGNALS if signal.getsignal(s) not in (signal.SIG_IGN, None)]
    stop.signals = tuple(heeded)
    arrived: queue.SimpleQueue[int | None] = queue.SimpleQueue()  # put() may interrupt get()
    relay = threading.Thread(target=_relay, args=(arrived, stop), name="stop", daemon=True)
    relay.start()
    previous = {}
    try:  # each handler set is put back, whatever comes after it
        for signum in heeded:
            previous[signum] = signal.signal(signum, lambda signum, _: arrived.put(signum))
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        arrived.put(None)
        relay.join()


def _relay(arrived: queue.SimpleQueue, stop: Stop) -> None:
    """Ask ``stop`` for each signal number put in ``arrived``, until ``None``."""
    while (signum := arrived.get()) is not None:
        stop.request(signum)


Lost = Callable[[Any, str, int | None], Any]
"""``lost(item, reason, writer)``: the record (whose ``error`` says why, naming the item's
file) of an item that has no result of its own, because
its worker died ("worker died: killed by signal 9 (out of memory?)"; ``writer`` is that
worker's process id, which names the temporary files it left) or a stop came before it was
started ("stopped by SIGTERM before it was started"; ``writer`` is ``None``)."""


Redone = Callable[[Any, str], None]
"""``redone(item, why)``: told when an item is handed out again because its worker was killed
("worker died: killed by signal 9 (out of memory?); done again, on 1 process from now on")."""


def _warn(item: Any, why: str) -> None:
    """The :data:`Redone` of a caller that says nothing else: a warning (without the item)."""
    warnings.warn(why, stacklevel=2)


def run_jobs(
    task: Callable[[Segmenter, Any], Any],
    items: Iterable[Any],
    segmenter: Segmenter,
    jobs: int,
    lost: Lost,
    stop: Stop | None = None,
    redone: Redone | None = None,
) -> Iterator[Any]:
    """``task(segmenter, item)`` for every item, in order: in this process with ``segmenter``
    when ``jobs`` is 1 (or the segmenter runs no model file: it has no
    :meth:`~Segmenter.recipe`), else on ``jobs`` processes, each with a copy of ``segmenter``
    (of its class).
    ``task`` must be a module-level function; what it raises ends the run, so a per-item failure
    should be its record. An item without a result of its own gets ``lost(item, reason,
    writer)`` (:data:`Lost`); one done again after its worker was killed (the module's
    docstring) is told to ``redone`` (:data:`Redone`; by default, a warning). Once ``stop`` is
    set, no item is started.

    Raises:
        Exception: what ``task`` raised, or what a worker raised building its segmenter.
    """
    items = list(items)
    stop = stop or Stop()
    recipe = segmenter.recipe()
    if jobs <= 1 or len(items) <= 1 or recipe is None:
        for item in items:
            yield lost(item, stop.reason, None) if stop.is_set() else task(segmenter, item)
        return
    pool = _Pool(task, recipe, min(jobs, len(items)), lost, stop, redone or _warn)
    try:
        yield from pool.run(items)
    finally:
        pool.close()


@dataclass
class _Worker:
    """A worker process, the parent's end of its pipe, the item it holds, and whether the run
    had another worker process at some time while it held it (``shared``)."""

    process: BaseProcess
    conn: Connection
    holds: tuple[int, Any] | None = None
    shared: bool = False


class _Pool:
    """Worker processes handed one item at a time, each replaced when it dies (:func:`run_jobs`
    says what ``lost``, ``stop`` and ``redone`` are)."""

    def __init__(
        self,
        task: Callable,
        recipe: Callable[[], Segmenter],
        size: int,
        lost: Lost,
        stop: Stop,
        redone: Redone,
    ):
        self.task, self.recipe = task, recipe
        self.size = size
        self.lost, self.stop, self.redone = lost, stop, redone
        self.context = process_context()
        self.workers: list[_Worker] = []
        self.retried: set[int] = set()  # the items handed out again after a SIGKILL

    def run(self, items: list) -> Iterator[Any]:
        """The records of ``items`` in order, as they come."""
        pending = list(enumerate(items))[::-1]  # popped from the end: the first item first
        done: dict[int, Any] = {}
        following = 0
        while following < len(items):
            if self.stop.is_set():
                while pending:
                    index, item = pending.pop()
                    done[index] = self.lost(item, self.stop.reason, None)
            self._hand_out(pending, done)
            while following in done:
                yield done.pop(following)
                following += 1
            if following < len(items):
                self._collect(pending, done)

    def _start(self) -> _Worker:
        parent_end, child_end = self.context.Pipe()
        # a forked child inherits the parent's end of every pipe; it closes them, so that the
        # parent's death ends its pipe
        inherited = [w.conn for w in self.workers] + [parent_end] if can_fork() else []
        process = self.context.Process(
            target=_serve,
            args=(child_end, inherited, self.recipe, self.task),
            name="edge-seg worker",
        )
        process.start()
        child_end.close()
        for busy in self.workers:
            busy.shared = True
        worker = _Worker(process, parent_end)
        self.workers.append(worker)
        return worker

    def _hand_out(self, pending: list, done: dict) -> None:
        """An item to every idle worker, starting workers up to the pool's size."""
        while pending:
            idle = next((w for w in self.workers if w.holds is None), None)
            if idle is None:
                if len(self.workers) >= self.size:
                    return
                idle = self._start()
            idle.holds, idle.shared = pending.pop(), len(self.workers) > 1
            try:
                idle.conn.send(idle.holds)
            except OSError:  # it died before it took the item, which is not to blame
                idle.shared = True
                self._bury(idle, pending, done)

    def _collect(self, pending: list, done: dict) -> None:
        """Wait until a worker finishes its item or dies, and record what came of it."""
        busy = [w for w in self.workers if w.holds is not None]
        wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
        for worker in busy:
            answer = _answer(worker.conn)
            if answer is not None:
                kind, payload = answer
                if kind != "done":  # the task raised, or the worker could not start
                    raise payload
                done[worker.holds[0]] = payload
                worker.holds = None
            if not worker.process.is_alive():
                self._bury(worker, pending, done)

    def _bury(self, worker: _Worker, pending: list, done: dict) -> None:
        """A dead worker: what it wrote of the item it held is removed (``lost``) and the item
        is lost; or, the first time the item's worker is killed by SIGKILL (the OOM killer,
        when the processes together outgrow the memory) and the run had another worker
        process while it held the item (``shared``: else a second try would spare no other's
        memory) and no stop was asked, the item is handed out again next, the pool keeps one
        process fewer from then on (one at least) and ``redone`` is told."""
        self._retire(worker)
        if worker.holds is None:
            return
        index, item = worker.holds
        reason = f"worker died: {exit_description(worker.process.exitcode)}"
        record = self.lost(item, reason, worker.process.pid)
        killed = worker.process.exitcode == -signal.SIGKILL
        if not killed or not worker.shared or index in self.retried or self.stop.is_set():
            done[index] = record
            return
        self.size = max(1, self.size - 1)
        self.retried.add(index)
        pending.append((index, item))
        processes = counted(self.size, "process", "processes")
        self.redone(item, f"{reason}; done again, on {processes} from now on")

    def _retire(self, worker: _Worker) -> None:
        worker.process.join()
        worker.conn.close()
        self.workers.remove(worker)

    def close(self) -> None:
        """Let every worker go: those that hold nothing leave, the others are ended (the run
        ended early: what took the records raised), and what they wrote of their items is
        removed by ``lost`` (its records are nobody's)."""
        ended = []
        for worker in self.workers:
            if worker.holds is None:
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
            elif worker.process.is_alive():  # not one that could not start
                worker.process.kill()
                ended.append(worker)
        for worker in list(self.workers):
            self._retire(worker)
        for worker in ended:
            self.lost(worker.holds[1], "ended with the run", worker.process.pid)


def _answer(conn: Connection) -> tuple[str, Any] | None:
    """What a worker sent, or ``None`` when it sent nothing (whole)."""
    try:
        return conn.recv() if conn.poll() else None
    except (EOFError, OSError):  # it died while it answered
        return None


def _serve(
    conn: Connection,
    inherited: list[Connection],
    recipe: Callable[[], Segmenter],
    task: Callable,
) -> None:
    """A worker: build the segmenter (the parent's ``recipe``), then run each item it is
    handed, until it is told to leave or the parent is gone. Short of memory, the kernel ends
    a worker before anything else (:func:`~edge_runtime.processes.first_for_the_oom_killer`)."""
    for signum in ENDING_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)  # the parent's to handle
    first_for_the_oom_killer()
    for other in inherited:
        other.close()
    try:
        segmenter = recipe()
    except Exception as exc:
        conn.send(("failed", exc))
        return
    while True:
        try:
            handed = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if handed is None:
            return
        try:
            answer = ("done", task(segmenter, handed[1]))
        except Exception as exc:  # ends the run, in the parent
            answer = ("raised", exc)
        try:
            conn.send(answer)
        except OSError:  # the parent is gone
            return
