"""What the photograph verdict costs, in one run.

    python benchmarks/verdict_cost.py [--image P] [--repeats 20]

On a DRIVE-size photograph (a synthetic one of 584x565, or ``--image``), with the bundled
model on one thread: segmenting alone (``Segmenter.segment``) against segmenting and asking
for the result's verdict (``Result.verdict``: what ``segment`` does by default, from what
segmentation made, with the vessel map), measured alternately, median of
``--repeats`` each, and their ratio (the goal is at most 1.10): from the decoded photograph,
and from the file (decoding included, as ``segment``'s ``segment_ms`` counts it). Then the
capture loop's verdict alone, without the model (edge_runtime.verdict.assess_capture), from
the decoded photograph and from the file.
"""

import statistics
import tempfile
from pathlib import Path

import click
from PIL import Image

from edge_runtime import Segmenter
from edge_runtime.evaluation.bench import median_ms
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.pipeline.decode import Photo, load_photo
from edge_runtime.verdict import assess_capture


def _ratio(segmenter: Segmenter, image: Photo | Path, repeats: int) -> tuple[float, float]:
    """Median milliseconds of segmenting alone and with the verdict, measured alternately."""
    plain, judged = [], []
    for _ in range(repeats):
        plain.append(median_ms(lambda: segmenter.segment(image), 1))
        judged.append(median_ms(lambda: segmenter.segment(image).verdict, 1))
    return statistics.median(plain), statistics.median(judged)


@click.command()
@click.option("--image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--repeats", default=20, show_default=True, help="Runs of each, alternated.")
def main(image: Path | None, repeats: int) -> None:
    """Print the verdict's share of segmenting time and the capture verdict's milliseconds."""
    with tempfile.TemporaryDirectory() as folder:
        if image is None:
            image = Path(folder) / "drive_size.png"
            Image.fromarray(synthetic_fundus(584, 565)).save(image)
        photo = load_photo(image)
        segmenter = Segmenter()
        click.echo(f"{image.name} {photo.shape[1]}x{photo.shape[0]}, median of {repeats}:")
        for source, name in ((photo, "decoded photograph"), (image, "from the file")):
            alone, judged = _ratio(segmenter, source, repeats)
            click.echo(
                f"  {name:20} segment {alone:6.1f} ms, segment + verdict {judged:6.1f} ms: "
                f"ratio {judged / alone:.3f} (goal <= 1.10)"
            )
        capture = median_ms(lambda: assess_capture(photo), repeats)
        from_file = median_ms(lambda: assess_capture(image), repeats)
    click.echo(
        f"  capture verdict      {capture:6.1f} ms decoded, {from_file:6.1f} ms from the file"
    )


if __name__ == "__main__":
    main()
