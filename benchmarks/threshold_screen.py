"""Hysteresis thresholding against one threshold, on the photographs cross-validation models
never saw.

    python benchmarks/cross_validation.py ../shared/data --out runs/cv -- --recipe v2
    python benchmarks/threshold_screen.py runs/cv

For each fold of a ``cross_validation.py`` run (its ``foldK/run/model_int8.tflite`` and the
photographs that model never saw, ``foldK/CAMERA-test``), each photograph is segmented as the
device does and scored by F1 inside its field of view: at the model's threshold t; with
hysteresis (the pixels of probability t - d or more that touch, 8-connected, a pixel of t or
more: faint vessels kept where they join sure ones); and at the one lower threshold t - d.
Prints each camera's mean F1 for each d, and the mean gain over t with the share of
photographs it helps. Needs scikit-image (the ``demo`` extra) for the hysteresis.
"""

from pathlib import Path

import click
import numpy as np

from edge_runtime import Segmenter
from edge_runtime.contract.metrics import photo_scores
from edge_runtime.data.photos import find_dataset, load_labelled


def _f1(mask: np.ndarray, label: np.ndarray, fov: np.ndarray) -> float:
    """F1 of a binary mask inside the field of view (the metric ``eval`` prints)."""
    return photo_scores(mask.astype(np.float32), label, fov, 0.5).f1


@click.command()
@click.argument("cv_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--delta",
    "deltas",
    type=float,
    multiple=True,
    default=(0.05, 0.1, 0.15, 0.2),
    show_default=True,
    help="How far below the model's threshold the low threshold lies (repeat).",
)
def main(cv_dir: Path, deltas: tuple[float, ...]) -> None:
    """Score hysteresis and lower thresholds on CV_DIR's folds' unseen photographs."""
    from skimage.filters import apply_hysteresis_threshold

    scores: dict[str, list[dict[str, float]]] = {}
    for fold in sorted(cv_dir.glob("fold*")):
        model = fold / "run" / "model_int8.tflite"
        if not model.is_file():
            continue
        segmenter = Segmenter(model)
        t = segmenter.threshold
        for folder in sorted(fold.glob("*-test")):
            for photo in find_dataset(folder).photos:
                loaded = load_labelled(photo)
                result = segmenter.segment(loaded.photo)
                fov = result.fov if loaded.fov is None else loaded.fov
                p, label = result.probability, loaded.label
                row = {"t": _f1(p >= t, label, fov)}
                for d in deltas:
                    row[f"hysteresis t-{d:g}"] = _f1(
                        apply_hysteresis_threshold(p, t - d, t), label, fov
                    )
                    row[f"one threshold t-{d:g}"] = _f1(p >= t - d, label, fov)
                scores.setdefault(folder.name.removesuffix("-test"), []).append(row)
    if not scores:
        raise click.ClickException(f"{cv_dir}: no fold with run/model_int8.tflite and *-test")
    for camera, rows in scores.items():
        click.echo(
            f"{camera}, {len(rows)} photographs: F1 at t {np.mean([r['t'] for r in rows]):.4f}"
        )
        for name in rows[0]:
            if name == "t":
                continue
            gains = [r[name] - r["t"] for r in rows]
            click.echo(
                f"  {name}: {np.mean([r[name] for r in rows]):.4f} (gain {np.mean(gains):+.4f}, "
                f"better on {sum(g > 0 for g in gains)} of {len(gains)})"
            )


if __name__ == "__main__":
    main()
