"""``edge-seg demo``: segment the real fundus photograph that ships with scikit-image."""

from pathlib import Path

import click

from edge_runtime.analysis.segmentation import Segmenter
from edge_runtime.app.files import prepare_outdir
from edge_runtime.app.outputs import Extras, output_paths, write_outputs
from edge_runtime.cli.extras import import_extra
from edge_runtime.cli.options import NonBlankPath, segmenter_options
from edge_runtime.pipeline.decode import photo_from_array


@click.command()
@click.option(
    "-o",
    "--outdir",
    type=NonBlankPath(file_okay=False, path_type=Path),
    default=Path("edge-seg-demo"),
    show_default=True,
    help="Folder for retina_mask.png and retina_overlay.png (made if missing).",
)
@segmenter_options
def demo(outdir, runtime, config):
    """Segment scikit-image's retina photograph (offline; the 'demo' extra).

    Writes retina_mask.png and retina_overlay.png in OUTDIR."""
    photo = import_extra("skimage.data", "demo").retina()
    segmenter = Segmenter(runtime, config)  # a bad model or setting stops here, before any output
    prepare_outdir(outdir)
    photo = photo_from_array(photo)
    result = segmenter.segment(photo)
    paths = output_paths(outdir, "retina")
    written = write_outputs(paths, photo, result, Extras(overlay=True), segmenter.provenance)
    click.echo(
        f"scikit-image retina {photo.shape[1]}x{photo.shape[0]}: vessels "
        f"{result.stats.vessel_fraction:.1%} of the field of view, {result.stats.tiles} tiles, "
        f"{result.stats.ms['total']:.0f} ms; wrote {written['mask']} and {written['overlay']}"
    )
