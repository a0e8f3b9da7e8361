"""Watch a drop folder: segment each new photograph once, when it is completely written.

A file is taken when it has not been modified for ``settle`` seconds (a writer appending in
pieces keeps it young). What was done is remembered in a state file in the output directory, so
a restart neither repeats nor misses work. A bad file (a truncated one, too) is recorded as
failed and retried only if it changes.
"""

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

from edge_runtime.app.outputs import IMAGE_SUFFIXES, plan_outputs
from edge_runtime.atomic import atomic_path
from edge_runtime.errors import EdgeSegError

STATE_FILE = ".edge-seg-watch.json"


class FolderWatcher:
    """Polls ``directory`` and hands complete new photographs to ``process``.

    Args:
        directory: the drop folder (not searched recursively; hidden files are ignored).
        outdir: where outputs and the state file go; must differ from ``directory``.
        process: called as ``process(path, outputs)``; returns a JSON-ready record. Any
            exception it raises marks the file as failed (and is reported in the record).
        settle: seconds a file must stay unchanged before it is taken.
    """

    def __init__(self, directory: Path, outdir: Path, process: Callable, settle: float = 1.0):
        if directory.resolve() == outdir.resolve():
            raise ValueError(f"{outdir}: the output directory must differ from the watched one")
        self.directory, self.outdir, self.process, self.settle = directory, outdir, process, settle
        self.state_path = outdir / STATE_FILE
        self.state: dict[str, dict] = self._load_state()

    def _load_state(self) -> dict[str, dict]:
        if not self.state_path.exists():
            return {}
        try:
            return json.loads(self.state_path.read_text())
        except (OSError, ValueError) as exc:
            raise EdgeSegError(f"{self.state_path}: unreadable watch state ({exc})") from None

    def _save_state(self) -> None:
        with atomic_path(self.state_path) as tmp:
            tmp.write_text(json.dumps(self.state, indent=1, sort_keys=True))

    def _candidates(self) -> list[Path]:
        return sorted(
            p for p in self.directory.iterdir()
            if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()
        )  # fmt: skip

    def poll(self) -> list[dict]:
        """Process every new or changed photograph that has settled; returns their records."""
        records = []
        for path in self._candidates():
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # removed between listing and looking
            done = self.state.get(path.name)
            if done and (done["size"], done["mtime_ns"]) == (stat.st_size, stat.st_mtime_ns):
                continue
            if time.time() - stat.st_mtime < self.settle:
                continue  # still being written, or just finished: look again later
            records.append(self._take(path, stat))
        return records

    def _take(self, path: Path, stat) -> dict:
        used = {entry["name"] for key, entry in self.state.items() if key != path.name}
        outputs = plan_outputs([path], self.outdir, used)[0]
        try:
            record = self.process(path, outputs)
        except EdgeSegError as exc:
            record = {"path": str(path), "ok": False, "error": str(exc)}
        except Exception as exc:  # a daemon outlives any one file; the record says what happened
            error = f"{path}: unexpected {type(exc).__name__}: {exc}"
            record = {"path": str(path), "ok": False, "error": error}
        self.state[path.name] = {
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "name": outputs.name,
            "ok": record["ok"],
        }
        self._save_state()
        return record

    def run(
        self, stop: threading.Event, interval: float = 0.5, on_record: Callable = print
    ) -> None:
        """Poll every ``interval`` seconds until ``stop`` is set, reporting each record."""
        while not stop.is_set():
            for record in self.poll():
                on_record(record)
            stop.wait(interval)
