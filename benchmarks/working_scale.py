"""How a vessel model scores when photographs are brought to other working scales than the one
it was trained at, in one run.

    python benchmarks/working_scale.py ../shared/data/drive ../shared/data/gave \
        --diameter 460 --diameter 540 --diameter 640 [--model M.tflite]

The runtime resizes each photograph so that its field of view is the model card's diameter
across (540 pixels for the bundled model) before it cuts tiles. A larger working scale gives
the finest vessels more pixels, at the cost of more tiles (the work grows with the square of
the diameter). For each dataset and diameter: F1, AUC, sensitivity and specificity inside the
field of view, mean over photographs, through ``edge-seg eval``'s scoring, and the work
against the model's own diameter.
"""

from pathlib import Path

import click

from edge_runtime.analysis.segmentation import Segmenter
from edge_runtime.contract.segmenter_config import SegmenterConfig
from edge_runtime.data.photos import list_dataset
from edge_runtime.evaluation.photos import evaluate_photos


@click.command()
@click.argument("datasets", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--diameter", "diameters", type=float, multiple=True, required=True)
@click.option("--model", default=None, help="A .tflite model [default: bundled].")
def main(datasets: tuple[str, ...], diameters: tuple[float, ...], model: str | None) -> None:
    """Print each dataset's scores at each working diameter."""
    bundled = Segmenter(model)
    own = bundled.config.fov_diameter
    click.echo(f"model {bundled.model_name}, trained at a field {own:g} pixels across")
    click.echo("dataset, diameter: F1, AUC, sensitivity, specificity (work against its own)")
    for dataset in datasets:
        found = list_dataset(Path(dataset), None)
        for diameter in diameters:
            segmenter = Segmenter(model, SegmenterConfig(fov_diameter=diameter))
            mean = evaluate_photos(segmenter, found).mean
            click.echo(
                f"{Path(dataset).name} ({len(found.photos)}), {diameter:g}: F1 {mean.f1:.4f}, "
                f"AUC {mean.auc:.4f}, sensitivity {mean.sensitivity:.4f}, specificity "
                f"{mean.specificity:.4f} ({(diameter / own) ** 2:.2f}x)"
            )


if __name__ == "__main__":
    main()
