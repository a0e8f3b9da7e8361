"""Options shared by the commands, as reusable decorators (defaults come from the library)."""

import functools
import math

import click

from edge_runtime.contract.metrics import THRESHOLD_RANGE
from edge_runtime.contract.preprocessing import CHANNELS
from edge_runtime.contract.symmetry import TTA_MODES
from edge_runtime.data.photos import LAYOUTS
from edge_runtime.inference.interpreter import MAX_THREADS
from edge_runtime.pipeline.segmenter import SegmenterSettings


class FiniteFloatRange(click.FloatRange):
    """A float range that also refuses NaN and infinities (which pass every comparison check
    of :class:`click.FloatRange` unnoticed, or make a time wait forever)."""

    name = "finite float range"

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def finite_range(low: float | None = None, high: float | None = None, **kwargs) -> click.ParamType:
    """The click type of a finite float between ``low`` and ``high`` (either may be open)."""
    return FiniteFloatRange(low, high, **kwargs)


model_option = click.option(
    "--model",
    type=click.Path(path_type=str),
    default=None,
    help="A .tflite model [default: the model bundled with the package].",
)
threads_option = click.option(
    "--threads",
    type=click.IntRange(1, MAX_THREADS),
    default=1,
    show_default=True,
    help="Interpreter threads.",
)
delegate_option = click.option(
    "--delegate",
    type=click.Choice(["edgetpu"]),
    default=None,
    help="Run on a Coral Edge TPU (libedgetpu.so.1; the model must be compiled for it).",
)
threshold_option = click.option(
    "--threshold",
    type=finite_range(*THRESHOLD_RANGE),
    default=None,
    help="Decision threshold [default: the model's, from its metadata].",
)
channel_option = click.option(
    "--channel",
    type=click.Choice(CHANNELS),
    default=None,
    help="Grayscale from colour photographs: luma or the green channel [default: the one the "
    "model was trained on, from its metadata].",
)
tta_option = click.option(
    "--tta",
    type=click.Choice(list(TTA_MODES)),
    default="off",
    show_default=True,
    help="Test-time averaging over flipped/rotated copies of each tile: flip runs the model "
    "twice per tile, dihedral eight times (slower; see the model card for what it gains).",
)
trusted_keys_option = click.option(
    "--trusted-keys",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    envvar="EDGE_SEG_TRUSTED_KEYS",
    show_envvar=True,
    help="Run only models signed by one of the public keys (*.pub) in this folder.",
)
jobs_option = click.option(
    "--jobs",
    type=click.IntRange(1, 256),
    default=None,
    help="Processes, each with its own interpreter [default: as many as the cores hold at "
    "--threads each, for several photographs; one with --delegate edgetpu]. Results are the "
    "same as with one.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
holdout_option = click.option(
    "--holdout",
    type=finite_range(0, 1, max_open=True),
    default=None,
    help="Use only what train --holdout F held out: contiguous blocks of an .npz file's "
    "patches, or photographs spread over a folder's sorted names.",
)

layout_option = click.option(
    "--layout",
    type=click.Choice(list(LAYOUTS)),
    default=None,
    help="Layout of a folder of labelled photographs [default: detected].",
)


def segmenter_options(command):
    """Options that make a :class:`~edge_runtime.pipeline.segmenter.Segmenter`, which the
    command receives as its ``settings`` argument
    (:class:`~edge_runtime.pipeline.segmenter.SegmenterSettings`)."""

    @functools.wraps(command)
    def build(*args, model, threads, delegate, threshold, channel, tta, trusted_keys, **kwargs):
        settings = SegmenterSettings(
            model, threads, delegate, threshold, channel, tta, trusted_keys
        )
        return command(*args, settings=settings, **kwargs)

    options = [
        model_option,
        threads_option,
        delegate_option,
        threshold_option,
        channel_option,
        tta_option,
        trusted_keys_option,
    ]
    for option in reversed(options):
        build = option(build)
    return build
