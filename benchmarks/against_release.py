"""Issue 21's device budget, measured in one run: ``edge-seg bench`` of an earlier release (its
vessels) against this checkout's vessels and both outputs (``--av``), alternating, so that
machine noise hits all three alike.

    git worktree add ../release-1.1.0 3a0ef90    # release 1.1.0: its code and bundled model
    python benchmarks/against_release.py --baseline ../release-1.1.0 \\
        [--image PHOTO | --size HxW] [--large-image PHOTO] [--allocators] [--written] \\
        [--model CANDIDATE.tflite] [--rounds 5] [--runs 20] [--threads 1]

Each round runs the benches in turn (each ``--runs`` timed photographs after a warm-up, its
median ``photo_ms``), every one in a fresh process, all on ``--image`` but the large
photograph's; the baseline runs from its own source folder (``PYTHONPATH``), with its own
bundled model. Prints each round, the medians over rounds and the ratios to the baseline.
The budget: both outputs no slower than release 1.1.0 with one (a ratio of at most 1), and a
3504x2336 photograph with both (``--large-image``) within 3x of 1.1.0's DRIVE-size photograph
(``--image``) with one. ``--allocators`` adds two benches: both outputs with glibc's ``malloc``
at its defaults, and the baseline with this runtime's settings of it (edge_runtime.memory), so
that what keeping freed memory gives, to either, is seen apart from the code. ``--written``
times ``segment`` writing its files instead (decoding, the verdict, the artery/vein map and the
PNGs included: what a camera waits for), on ``--image``. ``--model`` runs this checkout's benches
on another vessel model: a candidate for the next release (converted by this checkout, unsigned
as yet), against the release's own. The caller's own
``MALLOC_..._`` and ``GLIBC_TUNABLES`` settings are left out of every bench.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import click

from edge_runtime.memory import (
    GLIBC_DEFAULTS,
    KEEP_FREE_UP_TO,
    MAP_ALONE_FROM,
    without_allocator_settings,
)

HERE = Path(__file__).resolve().parents[1]


MEMORY_KEPT = {
    "MALLOC_MMAP_THRESHOLD_": str(MAP_ALONE_FROM),
    "MALLOC_TRIM_THRESHOLD_": str(KEEP_FREE_UP_TO),
}
"""The runtime's own ``malloc`` settings, through the environment, for a release without
them."""


@dataclass(frozen=True)
class Bench:
    """One bench: the source checkout it runs from, on which photograph (``--image PATH`` or
    ``--size HxW``), with the artery/vein model or not, with which ``malloc`` settings, and
    with which vessel model (``None``: the checkout's bundled one)."""

    source: Path
    photo: list[str]
    av: bool = False
    env: dict[str, str] = field(default_factory=dict)
    model: Path | None = None

    def run(self, command: list[str], threads: int) -> subprocess.CompletedProcess:
        """``python -m edge_runtime.cli.main COMMAND`` as this bench runs it."""
        command = [sys.executable, "-m", "edge_runtime.cli.main", *command]
        command += ["--threads", str(threads)] + ["--av"] * self.av
        command += ["--model", str(self.model)] if self.model else []
        env = {**without_allocator_settings(os.environ), **self.env, "PYTHONPATH": str(self.source)}
        # python -m puts its working folder first on the path: run in the source folder itself
        return subprocess.run(
            command, cwd=self.source, env=env, capture_output=True, text=True, check=False
        )


def _photo_ms(bench: Bench, runs: int, threads: int) -> float:
    done = bench.run(["bench", *bench.photo, "--json", "--runs", str(runs)], threads)
    if done.returncode:
        raise click.ClickException(f"bench in {bench.source} failed: {done.stderr.strip()}")
    record = json.loads(done.stdout)
    model = Path(record["model"]).resolve()
    if model != bench.model and not (bench.model is None and model.is_relative_to(bench.source)):
        raise click.ClickException(f"bench ran {record['model']}, not the model asked for")
    return float(record["photo_ms"])


def _written_ms(bench: Bench, runs: int, threads: int) -> float:
    """The median milliseconds per photograph of ``segment`` writing its outputs (decoding and
    the verdict included, as a camera runs it): the photograph ``runs`` times after one more as
    a warm-up, in one process (copies of it, each read from the page cache)."""
    image = Path(bench.photo[1])  # --image PATH
    with tempfile.TemporaryDirectory() as folder:
        copies = []  # segment takes a file given twice once: a copy a run
        for run in range(runs + 1):
            copies.append(Path(folder, f"run{run:03d}{image.suffix}"))
            shutil.copyfile(image, copies[-1])
        out = str(Path(folder, "out"))
        command = ["segment", *map(str, copies), "-o", out, "--json", "--jobs", "1"]
        done = bench.run(command, threads)
    if done.returncode:
        raise click.ClickException(f"segment in {bench.source} failed: {done.stderr.strip()}")
    records = [json.loads(line) for line in done.stdout.splitlines()]
    return statistics.median(record["ms"] for record in records[1:])


def _photo(image: str | None, size: str | None) -> list[str]:
    return ["--image", str(Path(image).resolve())] if image else ["--size", size] if size else []


@click.command()
@click.option(
    "--baseline",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="A source checkout of the earlier release (its edge_runtime folder inside).",
)
@click.option("--image", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--size", default=None, help="A synthetic photograph HxW instead of --image.")
@click.option(
    "--large-image",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Also time both outputs on this photograph (a 3504x2336 one), against the baseline's "
    "time on --image.",
)
@click.option(
    "--allocators",
    is_flag=True,
    help="Also time both outputs with glibc's malloc at its defaults, and the baseline with "
    "this runtime's malloc settings (through the environment): what keeping freed memory gives.",
)
@click.option(
    "--written",
    is_flag=True,
    help="Time `segment` writing its outputs, end to end (decoding, the verdict and the files "
    "included), instead of `bench`; needs --image.",
)
@click.option(
    "--model",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A vessel model for this checkout's benches (a candidate for the next release), "
    "instead of its bundled one.",
)
@click.option("--rounds", type=click.IntRange(1), default=5, show_default=True)
@click.option("--runs", type=click.IntRange(1), default=20, show_default=True)
@click.option("--threads", type=click.IntRange(1), default=1, show_default=True)
def main(
    baseline: Path,
    image: str | None,
    size: str | None,
    large_image: str | None,
    allocators: bool,
    written: bool,
    model: Path | None,
    rounds: int,
    runs: int,
    threads: int,
) -> None:
    """Print the baseline's, this checkout's and both outputs' milliseconds, and the ratios."""
    if not (baseline / "edge_runtime").is_dir():
        raise click.BadParameter(f"{baseline} holds no edge_runtime folder", param_hint="baseline")
    if written and not image:
        raise click.BadParameter("needs --image: segment times a file", param_hint="written")
    timed = _written_ms if written else _photo_ms
    photo = _photo(image, size)
    now = {"source": HERE, "model": model.resolve() if model else None}
    benches = {
        "baseline, vessels": Bench(baseline.resolve(), photo),
        "now, vessels": Bench(photo=photo, **now),
        "now, both outputs": Bench(photo=photo, av=True, **now),
    }
    if large_image:
        large = _photo(large_image, None)
        benches["now, both outputs, large photograph"] = Bench(photo=large, av=True, **now)
    if allocators:
        defaults = Bench(photo=photo, av=True, env=GLIBC_DEFAULTS, **now)
        benches["now, both outputs, glibc's malloc defaults"] = defaults
        kept = Bench(baseline.resolve(), photo, env=MEMORY_KEPT)
        benches["baseline, vessels, memory kept"] = kept
    times: dict[str, list[float]] = {name: [] for name in benches}
    for k in range(rounds):
        for name, bench in benches.items():
            times[name].append(timed(bench, runs, threads))
        shown = ", ".join(f"{n} {t[-1]:.1f} ms" for n, t in times.items())
        ratio = times["now, both outputs"][-1] / times["baseline, vessels"][-1]
        click.echo(f"round {k + 1}: {shown}; both outputs / baseline {ratio:.3f}")
    median = {name: statistics.median(t) for name, t in times.items()}
    base = median["baseline, vessels"]
    what = "segment, outputs written" if written else "bench"
    photographed = image or size or "a synthetic DRIVE-sized photograph"
    click.echo(f"{photographed}, {threads} thread(s), {what}")
    if large_image:
        click.echo(f"large photograph: {large_image}")
    if model:
        click.echo(f"this checkout's vessel model: {model}")
    for name, ms in median.items():
        click.echo(f"{name}: {ms:.1f} ms (median of {rounds} rounds), {ms / base:.3f}x baseline")


if __name__ == "__main__":
    main()
