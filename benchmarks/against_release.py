"""Issue 21's device budget, measured in one run: ``edge-seg bench`` of an earlier release (its
vessels) against this checkout's vessels and both outputs (``--av``), alternating, so that
machine noise hits all three alike.

    git worktree add ../release-1.1.0 3a0ef90    # release 1.1.0: its code and bundled model
    python benchmarks/against_release.py --baseline ../release-1.1.0 \\
        [--image PHOTO | --size HxW] [--large-image PHOTO] [--allocators] [--written] \\
        [--rounds 5] [--runs 20] [--threads 1]

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
PNGs included: what a camera waits for), on ``--image``. The caller's own
``MALLOC_..._`` and ``GLIBC_TUNABLES`` settings are left out of every bench.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
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


def _photo_ms(
    source: Path, photo: list[str], runs: int, threads: int, av: bool, env: dict[str, str]
) -> float:
    command = [sys.executable, "-m", "edge_runtime.cli.main", "bench", *photo, "--json"]
    command += ["--runs", str(runs), "--threads", str(threads)] + ["--av"] * av
    env = {**without_allocator_settings(os.environ), **env, "PYTHONPATH": str(source)}
    # python -m puts its working folder first on the path: run in the source folder itself
    done = subprocess.run(command, cwd=source, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise click.ClickException(f"bench in {source} failed: {done.stderr.strip()}")
    record = json.loads(done.stdout)
    if not Path(record["model"]).resolve().is_relative_to(source):
        raise click.ClickException(f"bench ran {record['model']}, not the model of {source}")
    return float(record["photo_ms"])


def _written_ms(
    source: Path, photo: list[str], runs: int, threads: int, av: bool, env: dict[str, str]
) -> float:
    """The median milliseconds per photograph of ``segment`` writing its outputs (decoding and
    the verdict included, as a camera runs it): the photograph ``runs`` times after one more as
    a warm-up, in one process."""
    image = photo[1]  # --image PATH
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "edge_runtime.cli.main", "segment"]
        command += [image] * (runs + 1) + ["-o", out, "--json", "--jobs", "1"]
        command += ["--threads", str(threads)] + ["--av"] * av
        env = {**without_allocator_settings(os.environ), **env, "PYTHONPATH": str(source)}
        done = subprocess.run(
            command, cwd=source, env=env, capture_output=True, text=True, check=False
        )
    if done.returncode:
        raise click.ClickException(f"segment in {source} failed: {done.stderr.strip()}")
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
    benches = {
        "baseline, vessels": (baseline.resolve(), photo, False, {}),
        "now, vessels": (HERE, photo, False, {}),
        "now, both outputs": (HERE, photo, True, {}),
    }
    if large_image:
        large = _photo(large_image, None)
        benches["now, both outputs, large photograph"] = (HERE, large, True, {})
    if allocators:
        benches["now, both outputs, glibc's malloc defaults"] = (HERE, photo, True, GLIBC_DEFAULTS)
        benches["baseline, vessels, memory kept"] = (baseline.resolve(), photo, False, MEMORY_KEPT)
    times: dict[str, list[float]] = {name: [] for name in benches}
    for k in range(rounds):
        for name, (source, bench_photo, av, env) in benches.items():
            times[name].append(timed(source, bench_photo, runs, threads, av, env))
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
    for name, ms in median.items():
        click.echo(f"{name}: {ms:.1f} ms (median of {rounds} rounds), {ms / base:.3f}x baseline")


if __name__ == "__main__":
    main()
