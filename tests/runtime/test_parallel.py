"""Several processes (``--jobs``): how many run; a worker that dies fails only the photograph it
held and never hangs the run; every worker runs exactly the segmenter the parent checked, the
model file's later fate and every setting included; SIGINT and SIGTERM stop the run cleanly."""

import io
import json
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from test_fuzz import mutate

from edge_runtime.cli.main import cli
from edge_runtime.contract.segmenter_config import SegmenterConfig
from edge_runtime.evaluation.synthetic import synthetic_fundus, synthetic_label
from edge_runtime.inference.bundled import DEFAULT_MODEL
from edge_runtime.inference.runtime_options import RuntimeOptions
from edge_runtime.pipeline import parallel
from edge_runtime.pipeline.decode import stored_pixels
from edge_runtime.pipeline.parallel import ProcessMemory, Stop, job_count, run_jobs
from edge_runtime.pipeline.segmenter import Segmenter
from edge_runtime.processes import ENDING_SIGNALS, OOM_SCORE_ADJ, can_fork

pytestmark = pytest.mark.timeout(180)  # a run that hangs (the bug these tests look for) fails

KILLED = "worker died: killed by signal 9 (out of memory?)"

WITH_KILLS = textwrap.dedent(
    """
    import os, signal, sys
    import edge_runtime.cli.segment as segment
    import edge_runtime.app.outputs as outputs
    import edge_runtime.evaluation.photos as photos
    from edge_runtime.atomic import atomic_path
    from edge_runtime.cli.main import cli

    def killing(task, path_of):
        def run(segmenter, job):
            path = path_of(job)
            if "abort" in path.name:  # a native crash
                os.abort()
            once = path.with_name(path.name + ".killed")
            if "kill" in path.name and not ("once" in path.name and once.exists()):
                if "once" in path.name:
                    once.touch()
                os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
            return task(segmenter, job)
        return run

    def dying(save):
        def run(path, image, *text):
            if "die" in path.name and path.name.endswith("_overlay.png"):
                with atomic_path(path) as tmp:  # half written
                    tmp.write_bytes(b"half a picture")
                    os.kill(os.getpid(), signal.SIGKILL)
            return save(path, image, *text)
        return run

    segment.run_job = killing(segment.run_job, lambda job: job.item.path)
    photos.score_photo = killing(photos.score_photo, lambda job: job[0].image)
    outputs.save_png = dying(outputs.save_png)
    cli(sys.argv[1:])
    """
)
"""``edge-seg ARGS`` where the worker that takes a photograph named ``*kill*`` is killed by
SIGKILL (``*killonce*``: the first time only), one that takes a photograph named ``*abort*``
aborts (SIGABRT), and one that writes the overlay of a photograph named ``*die*`` is killed
half-way through it."""


def edge_seg_with_kills(*args, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run :data:`WITH_KILLS` in its own process group, all of which is killed if it hangs."""
    process = subprocess.Popen(
        [sys.executable, "-c", WITH_KILLS, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"edge-seg {' '.join(map(str, args))} hung")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _photo(path: Path, seed: int, size=(120, 130)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(synthetic_fundus(*size, seed=seed)).save(path)
    return path


def _records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    for line in stderr.splitlines():
        assert line.startswith(("error: ", "Error: ", "warning: ")), stderr


def test_job_count_fills_the_cores_at_the_interpreter_threads_each(monkeypatch):
    monkeypatch.setattr(parallel, "usable_cores", lambda: 8)
    monkeypatch.setattr(parallel, "memory_room", lambda: None)  # nothing says (test_cgroups.py)
    photos = [Path(f"p{i}.png") for i in range(20)]
    assert job_count(None, photos, RuntimeOptions()) == 8
    assert job_count(None, photos, RuntimeOptions(threads=2)) == 4
    assert job_count(None, photos, RuntimeOptions(threads=16)) == 1
    assert job_count(None, photos[:3], RuntimeOptions()) == 3  # no more than the photographs
    assert job_count(5, photos, RuntimeOptions(threads=4)) == 5  # as asked
    assert job_count(256, photos[:2], RuntimeOptions()) == 2  # as asked, no more than photographs
    assert job_count(5, photos, RuntimeOptions(delegate="edgetpu")) == 1  # one accelerator


def test_a_process_is_counted_by_the_size_of_its_photograph_up_to_the_largest():
    memory = ProcessMemory(base=100, per_megapixel=10, most=300)
    assert memory.for_pixels(0) == 100
    assert memory.for_pixels(2_500_000) == 125
    assert memory.for_pixels(20_000_000) == memory.for_pixels(25_000_000) == 300


def test_the_default_count_holds_as_many_of_the_photographs_in_hand_as_the_memory_does(
    tmp_path, monkeypatch
):
    """A Pi with 1 GB (about 700 MiB free) ran one process, at the 384 MiB the largest accepted
    photograph takes, whatever the photographs; a DRIVE-sized one takes about 100 MiB, so 4 fit.
    The largest in hand counts; a file that fails before it is decoded (no header, or too large
    to be accepted) counts as none."""
    monkeypatch.setattr(parallel, "usable_cores", lambda: 4)
    monkeypatch.setattr(parallel, "memory_room", lambda: 700 * 2**20)
    small = [tmp_path / f"small{i}.jpg" for i in range(6)]
    for seed, path in enumerate(small):
        Image.fromarray(synthetic_fundus(565, 584, seed=seed)).save(path)
    large, broken, refused = tmp_path / "large.png", tmp_path / "broken.jpg", tmp_path / "big.png"
    Image.new("L", (3504, 2336)).save(large)  # 128 + 22 x 8.19 = 308 MiB
    broken.write_bytes(b"not an image")
    Image.new("1", (6000, 5000)).save(refused)  # 30 megapixels, over the 25 accepted
    fifo = tmp_path / "fifo.jpg"
    os.mkfifo(fifo)  # opened, it would block until a writer came
    assert job_count(None, small, RuntimeOptions()) == 4
    assert job_count(None, [*small, large], RuntimeOptions()) == 2
    assert job_count(None, [*small, broken, refused, tmp_path, fifo], RuntimeOptions()) == 4
    assert job_count(1, small, RuntimeOptions()) == 1  # as asked


def test_headers_are_read_only_while_the_memory_is_short_and_the_largest_not_yet_found(
    monkeypatch,
):
    """Memory that holds the largest photograph for each process reads no file, nor memory
    that holds two processes of none; a file counted as the largest ends the reading."""
    monkeypatch.setattr(parallel, "usable_cores", lambda: 4)
    monkeypatch.setattr(parallel, "memory_room", lambda: 4 * 384 * 2**20)
    read = []

    def largest(path):
        read.append(path)
        return 25_000_000

    monkeypatch.setattr(parallel, "stored_pixels", largest)
    photos = [Path(f"p{i}.jpg") for i in range(8)]
    assert job_count(None, photos, RuntimeOptions()) == 4 and not read
    monkeypatch.setattr(parallel, "memory_room", lambda: 1000 * 2**20)
    assert job_count(None, photos, RuntimeOptions()) == 2 and read == photos[:1]
    read.clear()
    monkeypatch.setattr(parallel, "memory_room", lambda: 200 * 2**20)  # under two processes
    assert job_count(None, photos, RuntimeOptions()) == 1 and not read


HEADERS = {
    "small.jpg": 300_000,
    "large.jpg": 3504 * 2336,
    "one.jpg": 1_000_000,
    "eight.jpg": 8_000_000,
}
"""The pixels each photograph's header says: 134, 308, 150 and 304 MiB for segment."""


@pytest.mark.parametrize(
    "room_mib, names, count, read_names",
    [
        # the largest read leaves room for one process: reading ends there
        (500, ["small.jpg", "large.jpg", "small.jpg"], 1, ["small.jpg", "large.jpg"]),
        # the largest counts, not the last read (308 MiB leave room for two: reading goes on)
        (700, ["large.jpg", "small.jpg", "small.jpg"], 2, ["large.jpg", "small.jpg", "small.jpg"]),
        # one that leaves room for exactly two (150 of 300 MiB) does not end the reading
        (300, ["one.jpg", "eight.jpg"], 1, ["one.jpg", "eight.jpg"]),
    ],
)
def test_the_largest_header_read_counts_and_reading_ends_once_one_process_is_left(
    monkeypatch, room_mib, names, count, read_names
):
    """Guards against counting the last header read instead of the largest, and against
    reading that ends one photograph early (``room // 2`` for ``room // 2 + 1``: two
    processes where one fits) or late."""
    monkeypatch.setattr(parallel, "usable_cores", lambda: 4)
    monkeypatch.setattr(parallel, "memory_room", lambda: room_mib * 2**20)
    read = []

    def header(path):
        read.append(path.name)
        return HEADERS[path.name]

    monkeypatch.setattr(parallel, "stored_pixels", header)
    assert job_count(None, [Path(name) for name in names], RuntimeOptions()) == count
    assert read == read_names


def test_a_header_that_pillow_refuses_as_a_decompression_bomb_counts_as_none(tmp_path, monkeypatch):
    """A header claiming over twice Pillow's MAX_IMAGE_PIXELS raises DecompressionBombError,
    which is neither an OSError nor a ValueError: the file fails before it is decoded, like
    any refused one, and counts as none. Guards against stored_pixels catching fewer kinds
    (``except (OSError, ValueError)``): the error escaped the default --jobs as a traceback."""
    monkeypatch.setattr(parallel, "usable_cores", lambda: 4)
    monkeypatch.setattr(parallel, "memory_room", lambda: 700 * 2**20)
    small = [tmp_path / f"small{i}.jpg" for i in range(3)]
    for path in small:
        Image.new("L", (565, 584)).save(path)  # 135 MiB
    stored = io.BytesIO()
    Image.new("L", (4, 4)).save(stored, "BMP")
    header = bytearray(stored.getvalue())
    header[18:26] = struct.pack("<ii", 20000, 10000)  # 200 megapixels, over 2 x 89
    bomb = tmp_path / "bomb.bmp"
    bomb.write_bytes(bytes(header))
    assert stored_pixels(bomb) is None
    assert job_count(None, [*small, bomb, *small], RuntimeOptions()) == 4


# -- a worker that dies ------------------------------------------------------------------------


def test_a_killed_worker_fails_its_photograph_and_the_others_are_done(tmp_path):
    """The OOM killer under a memory limit: the photograph the worker held fails with one line,
    a new worker takes the rest, the records keep their order, the exit status is 1."""
    names = ["a", "b", "c_kill", "d", "e"]
    for seed, name in enumerate(names):
        _photo(tmp_path / "in" / f"{name}.png", seed)
    done = edge_seg_with_kills(
        "segment", tmp_path / "in", "-o", tmp_path / "out", "--jobs", "2", "--json"
    )
    assert done.returncode == 1, done.stderr
    _no_traceback(done.stderr)
    records = _records(done.stdout)
    assert [Path(r["path"]).stem for r in records] == names
    killed = records[2]
    error = f"{killed['path']}: {KILLED}"
    assert killed == {
        "path": killed["path"],
        "ok": False,
        "error": error,
        "photograph": "c_kill.png",
    }
    assert f"error: {killed['path']}: {KILLED}" in done.stderr.splitlines()
    for record in records[:2] + records[3:]:
        mask = np.asarray(Image.open(record["outputs"]["mask"])) > 0
        assert np.array_equal(mask, Segmenter().segment(record["path"]).mask.astype(bool))


def test_a_worker_killed_while_writing_leaves_no_file_of_its_photograph(tmp_path):
    """Its mask and the overlay's temporary file were left beside the others' outputs."""
    for seed, name in enumerate(["a", "b_die", "c"]):
        _photo(tmp_path / "in" / f"{name}.png", seed)
    out = tmp_path / "out"
    out.mkdir()
    _photo(out / "b_die_overlay.png", 9)  # an earlier run's, not this one's: kept
    earlier = (out / "b_die_overlay.png").read_bytes()
    done = edge_seg_with_kills(
        "segment", tmp_path / "in", "-o", out, "--jobs", "2", "--overlay", "--json"
    )
    assert done.returncode == 1, done.stderr
    assert [r["ok"] for r in _records(done.stdout)] == [True, False, True]
    assert sorted(p.name for p in out.iterdir()) == [
        "a_mask.png",
        "a_overlay.png",
        "b_die_overlay.png",
        "c_mask.png",
        "c_overlay.png",
    ]
    assert (out / "b_die_overlay.png").read_bytes() == earlier


def test_a_photograph_whose_worker_was_killed_once_is_done_again_on_fewer_processes(tmp_path):
    """The OOM killer's SIGKILL to one worker of several: the processes together may have
    outgrown the memory, so its photograph is done again, on one process fewer from then on,
    with a warning, and nothing is lost."""
    names = ["a", "b_killonce", "c", "d"]
    for seed, name in enumerate(names):
        _photo(tmp_path / "in" / f"{name}.png", seed)
    out = tmp_path / "out"
    done = edge_seg_with_kills("segment", tmp_path / "in", "-o", out, "--jobs", "2", "--json")
    assert done.returncode == 0, done.stderr
    _no_traceback(done.stderr)
    records = _records(done.stdout)
    assert [Path(r["path"]).stem for r in records] == names and all(r["ok"] for r in records)
    path = tmp_path / "in" / "b_killonce.png"
    assert done.stderr.splitlines() == [
        f"warning: {path}: {KILLED}; done again, on 1 process from now on"
    ]
    mask = np.asarray(Image.open(records[1]["outputs"]["mask"])) > 0
    assert np.array_equal(mask, Segmenter().segment(path).mask.astype(bool))
    assert sorted(p.name for p in out.iterdir()) == [f"{n}_mask.png" for n in names]


def test_a_worker_that_crashed_or_was_killed_twice_fails_its_photograph(tmp_path):
    """A native crash (SIGABRT) is no sign of memory: it fails at once; a photograph killed
    again on fewer processes fails too (its memory is its own), after one warning."""
    for seed, name in enumerate(["a_abort", "b_kill", "c", "d"]):  # the first two side by side
        _photo(tmp_path / "in" / f"{name}.png", seed)
    done = edge_seg_with_kills(
        "segment", tmp_path / "in", "-o", tmp_path / "out", "--jobs", "2", "--json"
    )
    assert done.returncode == 1, done.stderr
    _no_traceback(done.stderr)
    assert [r["ok"] for r in _records(done.stdout)] == [False, False, True, True]
    aborted, killed = (tmp_path / "in" / f"{n}.png" for n in ("a_abort", "b_kill"))
    assert f"error: {aborted}: worker died: killed by signal 6" in done.stderr
    assert f"error: {killed}: {KILLED}" in done.stderr.splitlines()
    assert sum(line.startswith("warning: ") for line in done.stderr.splitlines()) == 1


def test_a_killed_worker_fails_its_photograph_in_eval_too(tmp_path, make_photo_dataset):
    """The same under ``eval``: no hang, that photograph fails with one line, the others are
    scored."""
    data = make_photo_dataset(tmp_path / "data", "generic", count=4)
    (data / "images" / "eye2.png").rename(data / "images" / "kill2.png")
    (data / "labels" / "eye2.png").rename(data / "labels" / "kill2.png")
    (data / "masks" / "eye2.bmp").rename(data / "masks" / "kill2.bmp")
    done = edge_seg_with_kills("eval", data, "--jobs", "2", "--json")
    assert done.returncode == 1, done.stderr
    _no_traceback(done.stderr)
    assert f"error: {data / 'images' / 'kill2.png'}: {KILLED}" in done.stderr.splitlines()
    assert sorted(p["name"] for p in json.loads(done.stdout)["photos"]) == ["eye1", "eye3", "eye4"]


def _lost(item, reason, writer):
    return ["lost", item, reason, writer]


def _first_quick(segmenter, item):
    if item:
        time.sleep(60)
    return item


def test_a_run_ended_early_ends_its_busy_workers_and_clears_up_after_them():
    """When what takes the records stops taking them (it raised: standard output closed), the
    workers still busy are ended and what they wrote of their items is removed (each item is
    given to ``lost`` with its worker's process id), without waiting for them."""
    lost = []
    started = time.monotonic()
    records = run_jobs(_first_quick, range(4), Segmenter(), 2, lambda *a: lost.append(a))
    assert next(records) == 0
    records.close()
    assert time.monotonic() - started < 30
    assert sorted(item for item, _, _ in lost) == [1, 2]
    assert {reason for _, reason, _ in lost} == {"ended with the run"}
    assert all(isinstance(writer, int) and writer > 0 for _, _, writer in lost)


def test_a_worker_that_cannot_start_ends_the_run_instead_of_hanging(tmp_path):
    """What a worker raises building its segmenter (which no other worker could do better)
    reaches the parent with the first photograph."""
    code = textwrap.dedent(
        """
        import dataclasses
        from edge_runtime.pipeline.parallel import run_jobs
        from edge_runtime.pipeline.segmenter import Segmenter
        def task(segmenter, item):
            return item
        segmenter = Segmenter()
        segmenter.config = dataclasses.replace(segmenter.config, stride=999)
        try:
            list(run_jobs(task, [1, 2, 3], segmenter, 2, print))
        except ValueError as exc:
            print(type(exc).__name__, exc)
        """
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the run hung on a worker that could not start")
    *ended, raised = done.stdout.splitlines()
    assert raised == "ValueError got stride 999, expected 1..64", done.stdout + done.stderr
    for line in ended:  # a worker still starting, ended: its item is given to ``lost``
        assert re.fullmatch(r"[123] ended with the run \d+", line), done.stdout


# -- the workers' segmenter --------------------------------------------------------------------


def _what_segments(segmenter: Segmenter, item: int) -> tuple:
    return os.getpid(), (segmenter.config, segmenter.runtime.model_content)


def test_workers_keep_every_setting_of_the_parent_segmenter():
    """A custom stride, field-of-view diameter, channel, threshold and test-time averaging all
    reach the workers (they were rebuilt from the command line's settings, and lost them)."""
    config = SegmenterConfig(threshold=0.3, channel="luma", fov_diameter=300, stride=20, tta="flip")
    segmenter = Segmenter(config=config)
    records = list(run_jobs(_what_segments, range(4), segmenter, 2, _lost))
    assert os.getpid() not in {pid for pid, _ in records}  # they ran in workers
    assert [what for _, what in records] == [(config, DEFAULT_MODEL.read_bytes())] * 4


def _oom_score_adj(segmenter: Segmenter, item: int) -> tuple[int, str]:
    return os.getpid(), OOM_SCORE_ADJ.read_text().strip()


def test_each_worker_and_only_a_worker_asks_to_be_first_for_the_oom_killer(tmp_path, monkeypatch):
    """Whatever the machine (a parent already at 1000, a /proc that refuses the write, not
    Linux): every worker asks, the parent never does."""
    if not can_fork():
        pytest.skip("the stand-in reaches workers only when they are forked")
    asked = tmp_path / "asked"
    asked.mkdir()
    monkeypatch.setattr(
        parallel, "first_for_the_oom_killer", lambda: (asked / str(os.getpid())).touch()
    )
    records = list(run_jobs(_oom_score_adj, range(3), Segmenter(), 2, _lost))
    workers = {str(pid) for pid, _ in records}
    assert {p.name for p in asked.iterdir()} == workers and str(os.getpid()) not in workers


@pytest.mark.skipif(
    not OOM_SCORE_ADJ.exists() or OOM_SCORE_ADJ.read_text().strip() == "1000",
    reason="no OOM killer's score here, or this process is first already (nothing to see)",
)
def test_the_oom_killer_ends_a_worker_first():
    """Short of memory, the kernel ended whichever process it chose: the parent (the run's
    records lost) or the camera's software. A worker's photograph is done again."""
    parent = OOM_SCORE_ADJ.read_text()
    records = list(run_jobs(_oom_score_adj, range(3), Segmenter(), 2, _lost))
    assert os.getpid() not in {pid for pid, _ in records}  # they ran in workers
    assert [score for _, score in records] == ["1000"] * 3
    assert OOM_SCORE_ADJ.read_text() == parent  # the parent's own stays


def test_a_model_replaced_during_a_run_is_not_used_by_it(tmp_path, monkeypatch):
    """Workers run the bytes the parent read and checked, never the file again: a model
    replaced while a --jobs 2 run starts gives no worker the new one (same threshold and
    channel, so the same masks as one process with the first model)."""
    model = tmp_path / "model.tflite"
    model.write_bytes(DEFAULT_MODEL.read_bytes())
    other = DEFAULT_MODEL.read_bytes().replace(b"edge_seg_metadata", b"edge_seg_metadatx")
    inputs = [str(_photo(tmp_path / "in" / f"p{i}.png", i)) for i in range(4)]
    options = ["--model", str(model), "--json"]
    first = CliRunner().invoke(cli, ["segment", *inputs, "-o", str(tmp_path / "first"), *options])
    assert first.exit_code == 0, first.output

    import edge_runtime.cli.segment as segment

    real_collect = segment.collect_inputs

    def collect_then_replace(arguments):  # the model is checked by now, the workers not started
        model.write_bytes(other)  # card-less: threshold 0.5 and luma, not 0.52 and green
        return real_collect(arguments)

    monkeypatch.setattr(segment, "collect_inputs", collect_then_replace)
    model.write_bytes(DEFAULT_MODEL.read_bytes())
    run = CliRunner().invoke(
        cli, ["segment", *inputs, "-o", str(tmp_path / "run"), *options, "--jobs", "2"]
    )
    assert run.exit_code == 0, run.output
    assert model.read_bytes() == other  # it was replaced
    for name in (f"p{i}_mask.png" for i in range(4)):
        assert (tmp_path / "run" / name).read_bytes() == (tmp_path / "first" / name).read_bytes()


# -- SIGINT, SIGTERM and SIGHUP ---------------------------------------------------------------


def _in_a_session(command: list[str], ignored: tuple[int, ...] = ()) -> subprocess.Popen:
    """``edge-seg COMMAND`` in a session of its own, started with the ``ignored`` signals
    ignored and SIGINT, SIGTERM and SIGHUP otherwise at their defaults (even when the tests
    run under nohup or in the background)."""

    def started() -> None:
        for signum in ENDING_SIGNALS:
            signal.signal(signum, signal.SIG_IGN if signum in ignored else signal.SIG_DFL)

    return subprocess.Popen(
        [sys.executable, "-m", "edge_runtime.cli.main", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=started,
    )


@pytest.mark.parametrize(
    ("signum", "to_group"),
    [(signal.SIGTERM, False), (signal.SIGTERM, True), (signal.SIGINT, True), (signal.SIGHUP, True)],
    ids=["SIGTERM-to-parent", "SIGTERM-to-group", "SIGINT-to-group", "SIGHUP-to-group"],
)
def test_a_signal_stops_a_run_after_the_photographs_in_progress(tmp_path, signum, to_group):
    """To the parent (kill PID) or to the whole group (systemd's stop, Ctrl-C, a terminal's
    hangup): the photographs in progress are finished, the others fail as stopped, no one
    prints a traceback, the exit status is 1 and no worker is left behind."""
    inputs = [str(_photo(tmp_path / "in" / f"p{i:02d}.png", i, (400, 440))) for i in range(12)]
    command = ["segment", *inputs, "-o", str(tmp_path / "out"), "--jobs", "2", "--json"]
    process = _in_a_session(command)
    try:
        stdout = process.stdout.readline()  # the first photograph is done
        if to_group:
            os.killpg(process.pid, signum)
        else:
            process.send_signal(signum)
        process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("the run did not stop")
    stdout += process.stdout.read()
    stderr = process.stderr.read()
    assert process.returncode == 1, stderr
    _no_traceback(stderr)
    records = _records(stdout)
    assert [r["path"] for r in records] == inputs
    stopped = f"stopped by {signal.Signals(signum).name} before it was started"
    assert records[0]["ok"] and records[-1]["error"] == f"{inputs[-1]}: {stopped}"
    for record in records:
        assert record["ok"] or record["error"].endswith(stopped), record
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)  # no worker is left


@pytest.mark.parametrize("command", ["segment", "eval"])
def test_a_terminal_that_hangs_up_ends_the_run_with_its_files_written(tmp_path, command):
    """On a terminal that goes away (an SSH session dropped), writing to it fails (EIO) before
    SIGHUP arrives: the run hung for ever with its workers, or ended on the error with no
    measurements.csv or report. It now stops as SIGTERM stops it: the photographs in hand are
    finished, the files of what was done written, no worker left, exit status 1."""
    folder = tmp_path / "in"
    for i in range(8):
        _photo(folder / f"p{i}.png", i, (400, 440))
    out = tmp_path / "out"
    if command == "segment":
        args = ["segment", str(folder), "-o", str(out), "--measure", "--overlay"]
    else:
        for sub in ("images", "labels"):
            (folder / sub).mkdir()
        for photo in sorted(folder.glob("*.png")):
            label = synthetic_label(np.asarray(Image.open(photo)))
            Image.fromarray(label.astype(np.uint8) * 255).save(folder / "labels" / photo.name)
            photo.rename(folder / "images" / photo.name)
        args = ["eval", str(folder), "--report", str(out)]
    pid, terminal = pty.fork()
    if pid == 0:  # the child: edge-seg on the terminal, as a user runs it
        try:
            os.execv(
                sys.executable,
                [sys.executable, "-m", "edge_runtime.cli.main", *args, "--jobs", "2"],
            )
        finally:
            os._exit(127)
    said = b""
    while b"\n" not in said:  # its first photograph is done
        said += os.read(terminal, 4096)
    os.close(terminal)  # the terminal hangs up
    deadline = time.monotonic() + 60
    while (ended := os.waitpid(pid, os.WNOHANG))[0] == 0:
        if time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)
            pytest.fail("the run hung after the terminal hung up")
        time.sleep(0.1)
    assert os.waitstatus_to_exitcode(ended[1]) == 1
    assert not [p for p in out.iterdir() if ".partial" in p.name]
    if command == "segment":
        assert len((out / "measurements.csv").read_text().splitlines()) == 9
    else:
        assert {"summary.csv", "summary.md"} <= {p.name for p in out.iterdir()}


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGINT], ids=["nohup", "background"])
def test_a_signal_ignored_from_the_start_stays_ignored(tmp_path, signum):
    """Started under ``nohup`` (SIGHUP ignored) or in the background by a shell script (SIGINT
    ignored, so that Ctrl-C at its terminal stops the script, not it), a run goes on through a
    terminal's hangup or Ctrl-C and does every photograph, as Python itself keeps an ignored
    SIGINT."""
    inputs = [str(_photo(tmp_path / "in" / f"p{i}.png", i, (300, 320))) for i in range(8)]
    command = ["segment", *inputs, "-o", str(tmp_path / "out"), "--jobs", "2", "--json"]
    process = _in_a_session(command, ignored=(signum,))
    first = process.stdout.readline()
    os.killpg(process.pid, signum)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert all(r["ok"] for r in _records(first + stdout))
    assert len(list((tmp_path / "out").glob("*_mask.png"))) == len(inputs)


HANDLED_WHILE_WAITING = textwrap.dedent(
    """
    import signal
    from edge_runtime.pipeline.parallel import stopping_on_signals

    with stopping_on_signals() as stop:
        with stop._cond:  # held, as inside stop.wait() (the watcher's pause between looks)
            signal.raise_signal(signal.SIGTERM)  # its handler runs here
        print(stop.wait(20), stop.by)
    """
)


def test_a_signal_that_comes_while_the_stop_is_waited_on_stops_the_run():
    """A handler runs in the main thread, between two of its steps: there it asked the stop
    itself, which takes the stop's lock, so when the main thread held that lock (inside
    ``stop.wait()``, the watcher's pause) it waited for ever. ``edge-seg watch`` then ignored
    SIGTERM (a CI run hung 30 s on it)."""
    done = subprocess.run(
        [sys.executable, "-c", HANDLED_WHILE_WAITING], capture_output=True, text=True, timeout=40
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "True  by SIGTERM\n", "")


def test_a_signal_just_before_the_block_ends_has_asked_the_stop():
    """Asking is handed to a thread: the block waits for it, so what follows sees the stop."""
    before = signal.getsignal(signal.SIGINT)  # ignored in a background job
    with parallel.stopping_on_signals() as stop:
        signal.raise_signal(signal.SIGINT)
    assert stop.is_set() and stop.by == " by SIGINT"
    assert signal.getsignal(signal.SIGINT) is before  # given back


def test_a_handler_that_cannot_be_set_leaves_the_others_as_they_were(monkeypatch):
    """Setting the last handler failed after the first ones were set: they stayed, handing
    signals to a thread that no longer reads them (Ctrl-C ignored for good), and that thread
    was left waiting."""
    real = signal.signal
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def refusing(signum, handler):
        if signum == signal.SIGUSR1:
            raise OSError("refused")
        return real(signum, handler)

    heeded = (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)  # the last one cannot be set
    monkeypatch.setattr(parallel, "ENDING_SIGNALS", heeded)
    monkeypatch.setattr(signal, "signal", refusing)
    with pytest.raises(OSError), parallel.stopping_on_signals():
        pass
    monkeypatch.undo()
    assert {s: signal.getsignal(s) for s in before} == before
    assert not [t for t in threading.enumerate() if t.name == "stop"]  # no relay left behind


def test_a_stop_in_one_process_comes_after_the_photograph_in_progress():
    """With one process the same: items after the stop are lost as stopped."""
    stop = Stop()

    def task(segmenter, item):
        if item == 1:
            stop.request(signal.SIGTERM)
        return item

    records = list(run_jobs(task, range(4), Segmenter(), 1, _lost, stop))
    reason = "stopped by SIGTERM before it was started"
    assert records == [0, 1, ["lost", 2, reason, None], ["lost", 3, reason, None]]


# -- fuzz: good photographs, damaged files and killed workers, mixed ---------------------------


def test_jobs_fuzz_every_input_has_its_record_in_order(tmp_path):
    """Fixed seed: runs of --jobs 2 or 3 over mixes of good photographs, damaged files and
    photographs whose worker is killed. Every input has exactly one record, in order; good
    photographs give the masks of one process; damaged ones work or fail with one line; killed
    ones fail as such; the exit status says whether any failed; nothing hangs."""
    rng = np.random.default_rng(20261204)
    good = {seed: _photo(tmp_path / "good" / f"g{seed}.png", seed) for seed in range(3)}
    reference = {seed: Segmenter().segment(path).mask for seed, path in good.items()}
    seen = set()
    for round_ in range(4):
        folder = tmp_path / f"round{round_}"
        folder.mkdir()
        kinds = {}
        for i in range(int(rng.integers(3, 7))):
            kind = ("good", "damaged", "kill")[int(rng.integers(3))]
            seed = int(rng.integers(3))
            path = folder / f"{'kill' if kind == 'kill' else 'p'}{i}.png"
            content = good[seed].read_bytes()
            path.write_bytes(mutate(content, rng) if kind == "damaged" else content)
            kinds[path] = (kind, seed)
            seen.add(kind)
        jobs = int(rng.integers(2, 4))
        done = edge_seg_with_kills(
            "segment", *kinds, "-o", folder / "out", "--jobs", jobs, "--json"
        )
        _no_traceback(done.stderr)
        records = _records(done.stdout)
        assert [Path(r["path"]) for r in records] == list(kinds)
        for record in records:
            kind, seed = kinds[Path(record["path"])]
            if kind == "good":
                mask = np.asarray(Image.open(record["outputs"]["mask"])) > 0
                assert np.array_equal(mask, reference[seed].astype(bool))
            elif kind == "kill":
                assert record["error"] == f"{record['path']}: {KILLED}"
            elif not record["ok"]:
                assert record["error"].startswith(f"{record['path']}: ")
                assert "\n" not in record["error"]
        assert done.returncode == (1 if any(not r["ok"] for r in records) else 0), done.stderr
    assert seen == {"good", "damaged", "kill"}  # the seed mixes them all


def test_runtime_and_config_rebuild_the_segmenter_they_describe():
    """A segmenter's runtime options and configuration build the same segmenter (what each
    worker does)."""
    segmenter = Segmenter(config=SegmenterConfig(threshold=0.4, stride=30))
    again = Segmenter(segmenter.runtime, segmenter.config)
    assert (again.runtime, again.config) == (segmenter.runtime, segmenter.config)


STOP_THEN_KILL = textwrap.dedent(
    """
    import os, signal, sys, time
    import edge_runtime.cli.segment as segment
    from edge_runtime.cli.main import cli

    def killing(task):
        def run(segmenter, job):
            path = job.item.path
            once = path.with_name(path.name + ".killed")
            if "termkill" in path.name and not once.exists():
                once.touch()
                os.kill(os.getppid(), signal.SIGTERM)  # systemd's OOMPolicy=stop, say
                time.sleep(0.5)
                os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
            return task(segmenter, job)
        return run

    segment.run_job = killing(segment.run_job)
    cli(sys.argv[1:])
    """
)


def test_a_photograph_killed_while_the_run_stops_keeps_its_cause(tmp_path):
    """A stop (SIGTERM) that comes before the photograph of a killed worker is done again: it is
    not done again, so its record says its worker was killed (not "stopped before it was
    started": it was started) and no warning says it is done again."""
    for seed, name in enumerate(["a", "b_termkill", "c", "d"]):
        _photo(tmp_path / "in" / f"{name}.png", seed)
    args = ["segment", tmp_path / "in", "-o", tmp_path / "out", "--jobs", "2", "--json"]
    done = subprocess.run(
        [sys.executable, "-c", STOP_THEN_KILL, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,
    )
    assert done.returncode == 1, done.stderr
    _no_traceback(done.stderr)
    killed = _records(done.stdout)[1]
    assert killed["error"] == f"{killed['path']}: {KILLED}"
    assert "done again" not in done.stderr


def _once_killed_then_slow(segmenter, item):
    """Item 0 is killed by SIGKILL the first time; every item records which process ran it."""
    folder, index = item
    if index == 0 and not (folder / "killed").exists():
        (folder / "killed").touch()
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.2)
    (folder / f"{index}.ran").write_text(f"{time.time()} {os.getpid()}")
    return index


class _Lost:
    def __init__(self, item, reason, writer):
        self.error = f"item {item[1]}: {reason}"


def test_after_a_sigkill_the_pool_really_runs_one_process_fewer(tmp_path):
    """Not only the warning: after the first SIGKILL of one worker of two, one process does
    the rest (no replacement is started)."""
    items = [(tmp_path, i) for i in range(6)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = list(run_jobs(_once_killed_then_slow, items, Segmenter(), 2, _Lost))
    assert results == list(range(6))
    assert [str(w.message) for w in caught] == [f"{KILLED}; done again, on 1 process from now on"]
    killed_at = (tmp_path / "killed").stat().st_mtime
    after = {
        int(pid)
        for when, pid in (p.read_text().split() for p in tmp_path.glob("*.ran"))
        if float(when) - 0.2 > killed_at
    }
    assert len(after) == 1, after


def test_a_photograph_done_again_says_so_in_its_record(tmp_path):
    """Its record's ``warnings`` are the lines printed on stderr of it (README): the line that
    says it was done again after its worker was killed is one."""
    for seed, name in enumerate(["a", "b_killonce", "c"]):
        _photo(tmp_path / "in" / f"{name}.png", seed)
    done = edge_seg_with_kills(
        "segment", tmp_path / "in", "-o", tmp_path / "out", "--jobs", "2", "--json"
    )
    assert done.returncode == 0, done.stderr
    record = _records(done.stdout)[1]
    printed = [line.removeprefix("warning: ") for line in done.stderr.splitlines()]
    assert list(record["warnings"]) == printed


def _both_killed_once(segmenter, item):
    """Items 0 and 1 are killed by SIGKILL at the same moment, the first time each is run."""
    folder, index = item
    mark = folder / f"{index}.killed"
    if index < 2 and not mark.exists():
        mark.touch()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(
            (folder / f"{i}.killed").exists() for i in range(2)
        ):
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGKILL)
    return index


def _killed_alone_later(segmenter, item):
    """Item 0 is killed by SIGKILL the first time, while item 1 runs (1 ends once the parent
    has reaped 0's worker, so it has seen the death); item 2 is killed every time."""
    folder, index = item
    mark = folder / "0.killed"
    if index == 0 and not mark.exists():
        mark.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    if index == 1:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _reaped(mark):
            time.sleep(0.01)
    if index == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return index


def _reaped(mark: Path) -> bool:
    """Whether the process whose number ``mark`` holds is gone, zombie included."""
    try:
        os.kill(int(mark.read_text()), 0)
    except (FileNotFoundError, ValueError):  # not written yet
        return False
    except ProcessLookupError:
        return True
    return False


def test_a_photograph_killed_as_the_only_worker_process_is_not_done_again(tmp_path):
    """Once the pool is down to one process, a second try would spare no other process's
    memory and only meet the OOM killer again: the photograph fails at once; one killed beside
    another process is still done again."""
    notes = []
    items = [(tmp_path, i) for i in range(3)]
    redone = lambda item, why: notes.append(item[1])  # noqa: E731
    results = list(run_jobs(_killed_alone_later, items, Segmenter(), 2, _Lost, None, redone))
    assert results[:2] == [0, 1] and notes == [0]
    assert results[2].error == f"item 2: {KILLED}"


def _killed_after_the_other_finished(segmenter, item):
    """Item 1 ends at once; item 0 waits until the parent has it, then is killed by SIGKILL
    every time, its worker the only one busy (the other idle, but alive)."""
    folder, index = item
    if index == 1:
        (folder / "1.done").touch()
        return index
    while not (folder / "1.done").exists():
        time.sleep(0.01)
    time.sleep(0.5)  # the parent has collected item 1
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_photograph_killed_beside_an_idle_worker_is_done_again(tmp_path):
    """An idle worker process holds memory too (its interpreter, its model, the heap it keeps
    for the next photograph): a photograph killed beside one is done again on fewer
    processes (and, killed again there, fails)."""
    notes = []
    items = [(tmp_path, 0), (tmp_path, 1)]
    redone = lambda item, why: notes.append(item[1])  # noqa: E731
    results = list(
        run_jobs(_killed_after_the_other_finished, items, Segmenter(), 2, _Lost, None, redone)
    )
    assert notes == [0] and results[1] == 1
    assert results[0].error == f"item 0: {KILLED}"


def _quick(segmenter, item):
    return item[1]


def _quick_run(tmp_path: Path) -> tuple[list, list]:
    """The records of three quick items on two processes, and the items done again."""
    notes = []
    redone = lambda item, why: notes.append(item[1])  # noqa: E731
    items = [(tmp_path, i) for i in range(3)]
    return list(run_jobs(_quick, items, Segmenter(), 2, _Lost, None, redone)), notes


def test_an_item_handed_to_a_worker_already_dead_is_done_again(tmp_path, monkeypatch):
    """The OOM killer ended an idle worker just before the parent handed it the next item: the
    item never ran, so it is not to blame, and is done by another process."""
    collect, hand_out = parallel._Pool._collect, parallel._Pool._hand_out
    killed = []

    def slow_collect(self, pending, done):  # a loaded parent: both answers are in at once
        time.sleep(0.5)
        return collect(self, pending, done)

    def killing_first(self, pending, done):
        if pending and self.workers and not killed and all(w.holds is None for w in self.workers):
            killed.append(self.workers[0].process.pid)
            os.kill(killed[0], signal.SIGKILL)  # the OOM killer, on an idle worker
            self.workers[0].process.join(10)
        return hand_out(self, pending, done)

    monkeypatch.setattr(parallel._Pool, "_collect", slow_collect)
    monkeypatch.setattr(parallel._Pool, "_hand_out", killing_first)
    results, notes = _quick_run(tmp_path)
    assert results == [0, 1, 2] and killed and notes == [2]


def test_two_workers_killed_at_once_both_have_their_items_done_again(tmp_path):
    """Both workers of two killed together: neither item is lost for having died second, when
    the pool was already down to one process."""
    notes = []
    items = [(tmp_path, i) for i in range(4)]
    redone = lambda item, why: notes.append((item[1], why))  # noqa: E731
    results = list(run_jobs(_both_killed_once, items, Segmenter(), 2, _Lost, None, redone))
    assert results == [0, 1, 2, 3]
    assert sorted(index for index, _ in notes) == [0, 1]
    assert all(why.startswith(KILLED) for _, why in notes)


def test_the_summary_says_how_many_processes_were_left_after_a_kill(tmp_path):
    """A run timed on a camera knows it finished on fewer processes than it started with."""
    for seed, name in enumerate(["a", "b_killonce", "c"]):
        _photo(tmp_path / "in" / f"{name}.png", seed)
    done = edge_seg_with_kills("segment", tmp_path / "in", "-o", tmp_path / "out", "--jobs", "2")
    assert done.returncode == 0, done.stderr
    assert "(2 processes, 1 after 1 killed)" in done.stdout.splitlines()[-1]


def test_the_summary_counts_every_kill_and_never_fewer_than_one_process(tmp_path):
    """Three workers of three killed, each once: the summary line says all three kills and
    that the run finished on one process (never none, never one per kill fewer than that)."""
    names = ["a_killonce", "b_killonce", "c_killonce", "d"]
    for seed, name in enumerate(names):
        _photo(tmp_path / "in" / f"{name}.png", seed)
    done = edge_seg_with_kills("segment", tmp_path / "in", "-o", tmp_path / "out", "--jobs", "3")
    assert done.returncode == 0, done.stderr
    assert "(3 processes, 1 after 3 killed)" in done.stdout.splitlines()[-1]


def test_only_a_photograph_done_again_is_warned_of_when_it_fails(tmp_path):
    """A photograph killed twice prints the line that says it was done again before its
    error; one that failed otherwise (a native crash) has its error and no such line."""
    for seed, name in enumerate(["a_abort", "b_kill", "c", "d"]):  # the first two side by side
        _photo(tmp_path / "in" / f"{name}.png", seed)
    done = edge_seg_with_kills(
        "segment", tmp_path / "in", "-o", tmp_path / "out", "--jobs", "2", "--json"
    )
    assert done.returncode == 1, done.stderr
    killed = tmp_path / "in" / "b_kill.png"
    assert [line for line in done.stderr.splitlines() if line.startswith("warning: ")] == [
        f"warning: {killed}: {KILLED}; done again, on 1 process from now on"
    ]


def test_eval_warns_naming_the_photograph_done_again(tmp_path, make_photo_dataset):
    """eval: the photograph of a worker killed once is done again and scored, and the warning
    names its file (a study must know which photograph was)."""
    data = make_photo_dataset(tmp_path / "data", "generic", count=3)
    for folder, suffix in [("images", "png"), ("labels", "png"), ("masks", "bmp")]:
        # first by name: started beside another, not alone after both others
        (data / folder / f"eye2.{suffix}").rename(data / folder / f"a_killonce2.{suffix}")
    done = edge_seg_with_kills("eval", data, "--jobs", "2", "--json")
    assert done.returncode == 0, done.stderr
    _no_traceback(done.stderr)
    photo = data / "images" / "a_killonce2.png"
    assert f"warning: {photo}: {KILLED}; done again, on 1 process from now on" in (
        done.stderr.splitlines()
    )


def _killed_first_then_logged(segmenter, item):
    """Item 0 is killed by SIGKILL the first time; the others wait until it was, then each
    appends its index to a log, in the order they are done."""
    folder, index = item
    marker = folder / "killed"
    if index == 0 and not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    with open(folder / "log", "a") as log:
        log.write(f"{index}\n")
    return index


def test_the_item_of_a_killed_worker_is_done_again_next(tmp_path):
    """The item of a killed worker is handed out again before the items not started: the
    records after it, held back to keep their order, are not all delayed until the run's
    end."""
    items = [(tmp_path, i) for i in range(6)]
    notes = []
    redone = lambda item, why: notes.append(item[1])  # noqa: E731
    results = list(run_jobs(_killed_first_then_logged, items, Segmenter(), 2, _Lost, None, redone))
    assert results == list(range(6)) and notes == [0]
    assert (tmp_path / "log").read_text().split() == ["1", "0", "2", "3", "4", "5"]


def _killed_after_answering(segmenter, item):
    """Item 0's worker answers, then is killed by SIGKILL (idle, holding nothing)."""
    _, index = item
    if index == 0:
        threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGKILL)).start()
    else:
        time.sleep(0.5)
    return index


def test_a_worker_killed_after_answering_loses_nothing(tmp_path, monkeypatch):
    """A worker killed once it has sent its item's result (the OOM killer between two items):
    the result stands, no item is done again nor lost, and the run goes on."""
    answer = parallel._answer

    def slow_answer(conn):  # the parent sees the worker dead by the time it looks
        got = answer(conn)
        if got is not None:
            time.sleep(0.5)
        return got

    monkeypatch.setattr(parallel, "_answer", slow_answer)
    notes = []
    redone = lambda item, why: notes.append(item[1])  # noqa: E731
    items = [(tmp_path, i) for i in range(4)]
    results = list(run_jobs(_killed_after_answering, items, Segmenter(), 2, _Lost, None, redone))
    assert results == [0, 1, 2, 3] and notes == []


def test_a_signal_that_comes_while_the_handlers_are_put_back_has_asked_the_stop(monkeypatch):
    """The relay is told to end only after every handler is put back: a signal that came while
    they were (its handler still this block's) was handed to a relay already gone, and lost."""
    real = signal.signal

    def signalled_while_restoring(signum, handler):
        if signum == signal.SIGINT:  # putting back SIGINT's own handler
            signal.raise_signal(signal.SIGINT)  # this block's handler still runs it
        return real(signum, handler)

    with parallel.stopping_on_signals() as stop:
        monkeypatch.setattr(signal, "signal", signalled_while_restoring)
    monkeypatch.undo()
    assert stop.is_set() and stop.by == " by SIGINT"


def test_every_signal_of_the_block_is_handed_on_and_the_last_says_why():
    """The relay asks the stop for each signal until the block ends, not for the first only."""
    with parallel.stopping_on_signals() as stop:
        signal.raise_signal(signal.SIGINT)
        assert stop.wait(20)  # the first one asked
        signal.raise_signal(signal.SIGTERM)
    assert stop.by == " by SIGTERM"


def test_a_signal_handled_outside_python_is_left_to_its_handler(monkeypatch):
    """A handler set in C (a library, an LD_PRELOAD) reads as None and could not be put back
    (``signal.signal`` refuses None): the block leaves that signal alone."""
    real = signal.getsignal
    monkeypatch.setattr(signal, "getsignal", lambda s: None if s == signal.SIGHUP else real(s))
    before = real(signal.SIGHUP)
    with parallel.stopping_on_signals() as stop:
        assert real(signal.SIGHUP) is before
    assert signal.SIGHUP not in stop.signals and signal.SIGTERM in stop.signals


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGINT, signal.SIGTERM])
def test_a_signal_ignored_from_the_start_is_not_heeded_by_the_block(signum):
    """A signal ignored when the block begins (SIGHUP under ``nohup``, SIGINT in a script's
    background) stays ignored inside it; the others are heeded."""
    before = {s: signal.getsignal(s) for s in ENDING_SIGNALS}
    try:
        for other in ENDING_SIGNALS:  # as a terminal's command has them (the tests may not)
            signal.signal(other, signal.SIG_IGN if other == signum else signal.SIG_DFL)
        with parallel.stopping_on_signals() as stop:
            assert signal.getsignal(signum) is signal.SIG_IGN
            for other in set(ENDING_SIGNALS) - {signum}:
                assert signal.getsignal(other) not in (signal.SIG_DFL, signal.SIG_IGN)
            signal.raise_signal(signum)
        assert not stop.is_set()
        assert signal.getsignal(signum) is signal.SIG_IGN
    finally:
        for other, handler in before.items():
            signal.signal(other, handler)


def test_an_item_handed_to_the_run_s_only_worker_already_dead_is_done_again(tmp_path, monkeypatch):
    """The OOM killer ended the run's only worker process just after it started, before it
    took its first item: the item never ran, so it is not to blame even though no other
    process was there, and it is done by a new one rather than failed."""
    start = parallel._Pool._start
    killed = []

    def killed_on_start(self):
        worker = start(self)
        if not killed:
            killed.append(worker.process.pid)
            os.kill(worker.process.pid, signal.SIGKILL)  # the OOM killer, on the new worker
            worker.process.join(10)
        return worker

    monkeypatch.setattr(parallel._Pool, "_start", killed_on_start)
    results, notes = _quick_run(tmp_path)
    assert results == [0, 1, 2] and killed and notes == [0]
