"""Photographs per second of ``edge-seg segment`` with ``--jobs 1`` and ``--jobs N``, measured
alternately in one run (so that machine noise hits both alike), with their ratio.

    python benchmarks/jobs.py [--photos 24] [--jobs 2] [--repeats 3]

A batch of synthetic DRIVE-sized photographs (PNG) is segmented end to end by the command, as
the camera's batch would be: start-up, decoding, segmentation and writing the masks.
"""

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
from PIL import Image

from edge_runtime.evaluation.synthetic import synthetic_fundus


def _seconds(folder: Path, out: Path, jobs: int) -> float:
    started = time.perf_counter()
    segment = [sys.executable, "-m", "edge_runtime.cli.main", "segment", str(folder)]
    subprocess.run([*segment, "-o", str(out), "--jobs", str(jobs)], check=True, capture_output=True)
    return time.perf_counter() - started


@click.command()
@click.option("--photos", type=click.IntRange(2), default=24, show_default=True)
@click.option("--jobs", type=click.IntRange(2), default=2, show_default=True)
@click.option("--repeats", type=click.IntRange(1), default=3, show_default=True)
def main(photos: int, jobs: int, repeats: int) -> None:
    """Print photographs per second with one process and with --jobs, and the speed-up."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        for i in range(photos):
            Image.fromarray(synthetic_fundus(584, 565, seed=i)).save(folder / f"p{i:03d}.png")
        times: dict[int, list[float]] = {1: [], jobs: []}
        for _ in range(repeats):
            for n in times:
                times[n].append(_seconds(folder, Path(tmp) / f"out{n}", n))
    rate = {n: photos / statistics.median(t) for n, t in times.items()}
    click.echo(f"{photos} DRIVE-sized photographs, median of {repeats} alternating runs")
    for n in times:
        click.echo(f"--jobs {n}: {rate[n]:.1f} photographs/s")
    click.echo(f"speed-up: {rate[jobs] / rate[1]:.2f}x")


if __name__ == "__main__":
    main()
