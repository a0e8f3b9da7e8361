"""How many processes run, and what happens when a worker cannot start."""

import os
import subprocess
import sys

import pytest

from edge_runtime.app.parallel import job_count
from edge_runtime.pipeline.segmenter import SegmenterSettings


def test_job_count_fills_the_cores_at_the_interpreter_threads_each(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert job_count(None, 20, SegmenterSettings()) == 8
    assert job_count(None, 20, SegmenterSettings(threads=2)) == 4
    assert job_count(None, 20, SegmenterSettings(threads=16)) == 1
    assert job_count(None, 3, SegmenterSettings()) == 3  # no more than the photographs
    assert job_count(5, 20, SegmenterSettings(threads=4)) == 5  # as asked
    assert job_count(5, 20, SegmenterSettings(delegate="edgetpu")) == 1  # one accelerator


def test_a_worker_that_cannot_start_ends_the_run_instead_of_hanging(tmp_path):
    """A pool restarts a worker whose start-up fails, for ever; the failure must reach the
    parent with the first job instead."""
    code = (
        "from edge_runtime.app.parallel import run_jobs\n"
        "from edge_runtime.pipeline.segmenter import Segmenter, SegmenterSettings\n"
        "def task(segmenter, item):\n"
        "    return item\n"
        "settings = SegmenterSettings(model='gone.tflite')\n"
        "try:\n"
        "    list(run_jobs(task, [1, 2, 3], Segmenter(), 2, settings))\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
            cwd=tmp_path,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("the run hung on a worker that could not start")
    assert done.stdout.startswith("ModelError gone.tflite"), done.stdout + done.stderr
