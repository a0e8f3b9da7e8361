"""How a model holds up on high-resolution photographs, simulated from labelled ones, in one run.

    python benchmarks/high_resolution.py ../shared/data/drive [--factor 6] [--model M.tflite]

No labelled photograph here is larger than 700 pixels across, while cameras write up to
3504x2336. Each photograph of the dataset is enlarged ``--factor`` times (bicubic), softened as
a lens and sensor would (Gaussian blur of ``factor / 3`` pixels) and saved as a JPEG of quality
90; its label and field of view are enlarged alike (bicubic, then halved at 0.5). The model
then segments both versions through the device's pipeline: F1 and AUC inside the field of view,
mean over photographs, and milliseconds per photograph end to end (from the file).
"""

import io
import statistics
import tempfile
import time
from pathlib import Path

import click
import numpy as np
from PIL import Image, ImageFilter

from edge_runtime.contract.metrics import photo_scores
from edge_runtime.data.photos import LabelledPhoto, find_dataset, load_labelled
from edge_runtime.pipeline.decode import load_photo
from edge_runtime.pipeline.segmenter import Segmenter


def _enlarged(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    image = Image.fromarray(mask.astype(np.float32), mode="F")
    return np.asarray(image.resize(size, Image.Resampling.BICUBIC)) >= 0.5


def _measure(
    segmenter: Segmenter, labelled: LabelledPhoto, factor: float, scratch: Path, rows: dict
) -> None:
    """Segment one photograph as it is and enlarged (a JPEG in ``scratch``); append to rows."""
    loaded = load_labelled(labelled)
    picture = loaded.photo.picture()
    size = (round(picture.width * factor), round(picture.height * factor))
    big = picture.resize(size, Image.Resampling.BICUBIC)
    big = big.filter(ImageFilter.GaussianBlur(factor / 3))
    buffer = io.BytesIO()
    big.save(buffer, format="JPEG", quality=90)
    path = scratch / f"{labelled.name}.jpg"
    path.write_bytes(buffer.getvalue())
    label, fov = loaded.label, loaded.fov
    versions = {
        "native": (labelled.image, label, fov),
        "enlarged": (path, _enlarged(label, size), None if fov is None else _enlarged(fov, size)),
    }
    for name, (source, truth, inside) in versions.items():
        started = time.perf_counter()
        result = segmenter.segment(load_photo(source))
        ms = (time.perf_counter() - started) * 1000
        inside = result.fov if inside is None else inside
        scores = photo_scores(result.probability, truth, inside, segmenter.threshold)
        rows[name].append((scores.f1, scores.auc, ms, result.mask.shape))


@click.command()
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--factor", type=click.FloatRange(1.5, 8), default=6.0, show_default=True)
@click.option("--model", default=None, help="A .tflite model [default: bundled].")
def main(dataset: Path, factor: float, model: str | None) -> None:
    """Print F1, AUC and ms per photograph at the native and the enlarged resolution."""
    segmenter = Segmenter(model)
    rows: dict[str, list] = {"native": [], "enlarged": []}
    with tempfile.TemporaryDirectory() as scratch:
        for labelled in find_dataset(dataset).photos:
            _measure(segmenter, labelled, factor, Path(scratch), rows)
    click.echo(f"{len(rows['native'])} photographs of {dataset}, model {segmenter.model_name}")
    for name, values in rows.items():
        f1, auc, ms, shape = zip(*values, strict=True)
        size = f"{shape[0][1]}x{shape[0][0]}"
        click.echo(
            f"{name:>9} ({size}): F1 {np.mean(f1):.4f}, AUC {np.mean(auc):.4f}, "
            f"{statistics.median(ms):.0f} ms per photograph"
        )


if __name__ == "__main__":
    main()
