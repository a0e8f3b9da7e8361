"""What the Python API peaks at while it segments a frame, and what the result holds after, for
frames of each size and depth handed over as an array, a Pillow image or a PNG file's path.

    python benchmarks/api_memory.py [--size 584x565 --size 6000x4000] [--bits 8 --bits 16]
                                    [--given array --given picture --given path]

Each frame (a synthetic photograph) is segmented in a fresh process by the bundled vessel and
artery/vein models, after one small photograph (the models and libraries loaded). Printed, in
MiB: the peak of the arrays allocated during ``segment()`` above its start (``tracemalloc``,
which sees numpy's arrays but not Pillow's own images), the RSS it rises to above its start
(Linux: the peak reset through ``/proc/self/clear_refs``), and the arrays the result holds,
then with its verdict and artery/vein map read. A 16-bit frame is handed over as an array
alone: Pillow holds no 16-bit colour, and reads a 16-bit colour file at 8 bits (the 8-bit
file's figures). firmware_notes/budgets.md keeps the table.
"""

import gc
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

import click
import numpy as np
from PIL import Image

from edge_runtime import ArteryVeinModel, Segmenter
from edge_runtime.evaluation.synthetic import synthetic_fundus

SIZES = ("584x565", "6000x4000")
GIVEN = ("array", "picture", "path")


def _rss_mib(field: str) -> float:
    """A field of this process's /proc status (VmRSS, VmHWM) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _handed_over(frame: np.ndarray, given: str, work: Path) -> object:
    """``frame`` as the caller hands it over: the array, a Pillow image of its PNG (opened, not
    yet read) or the PNG's path."""
    if given == "array":
        return frame
    path = work / "frame.png"
    Image.fromarray(frame).save(path, compress_level=1)
    return Image.open(path) if given == "picture" else path


def measure_one(width: int, height: int, bits: int, given: str) -> str:
    """The figures of one frame, segmented in this process."""
    segmenter = Segmenter(artery_vein=ArteryVeinModel())
    segmenter.segment(synthetic_fundus(584, 565)).verdict.summary()
    frame = synthetic_fundus(height, width)
    frame = frame.astype(np.uint16) * 257 if bits == 16 else frame
    with tempfile.TemporaryDirectory() as work:
        handed = _handed_over(frame, given, Path(work))
        gc.collect()
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM from here
        start = _rss_mib("VmRSS")
        tracemalloc.start()
        result = segmenter.segment(handed)
        alive, peak = tracemalloc.get_traced_memory()
        rise = _rss_mib("VmHWM") - start
        for made_when_read in ("verdict", "artery_vein"):
            getattr(result, made_when_read)
        alive_read = tracemalloc.get_traced_memory()[0]
        del result
        gc.collect()
        gone = tracemalloc.get_traced_memory()[0]
    return (
        f"{width}x{height} {bits}-bit {given}: segment() peaks {peak / 2**20:.0f} MiB of arrays, "
        f"RSS {rise:+.0f}; the result holds {(alive - gone) / 2**20:.0f}, "
        f"{(alive_read - gone) / 2**20:.0f} with its verdict and arteries and veins read"
    )


def _size(text: str) -> tuple[int, int]:
    width, height = text.lower().split("x")
    return int(width), int(height)


@click.command()
@click.option("--size", "sizes", multiple=True, default=SIZES, show_default=True)
@click.option("--bits", multiple=True, type=click.Choice(["8", "16"]), default=["8", "16"])
@click.option("--given", "givens", multiple=True, type=click.Choice(GIVEN), default=GIVEN)
@click.option("--one", hidden=True, is_flag=True, help="Measure the first frame asked for here.")
def main(sizes: tuple[str, ...], bits: tuple[str, ...], givens: tuple[str, ...], one: bool):
    """Print each frame's peak and what its result holds."""
    frames = [
        (size, depth, given)
        for size in sizes
        for depth in bits
        for given in givens
        if given == "array" or depth == "8"
    ]
    if not frames:
        raise click.UsageError("a 16-bit frame is handed over as an array alone (--given array)")
    if one:
        size, depth, given = frames[0]
        click.echo(measure_one(*_size(size), int(depth), given))
        return
    for size, depth, given in frames:
        options = ("--size", size, "--bits", depth, "--given", given, "--one")
        done = subprocess.run([sys.executable, __file__, *options], capture_output=True, text=True)
        if done.returncode:
            raise click.ClickException(f"{size} {depth}-bit {given}: {done.stderr[-2000:]}")
        click.echo(done.stdout.strip())


if __name__ == "__main__":
    main()
