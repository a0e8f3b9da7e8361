"""Options shared by the device commands, as reusable decorators."""

import click

from edge_runtime.grayscale import CHANNELS

model_option = click.option(
    "--model",
    type=click.Path(path_type=str),
    default=None,
    help="A .tflite model [default: the model bundled with the package].",
)
threads_option = click.option(
    "--threads", type=click.IntRange(1), default=1, show_default=True, help="Interpreter threads."
)
delegate_option = click.option(
    "--delegate",
    type=click.Choice(["edgetpu"]),
    default=None,
    help="Run on a Coral Edge TPU (libedgetpu.so.1; the model must be compiled for it).",
)
threshold_option = click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=None,
    help="Decision threshold [default: the model's, from its metadata].",
)
channel_option = click.option(
    "--channel",
    type=click.Choice(CHANNELS),
    default="luma",
    show_default=True,
    help="Grayscale from colour photographs: luma (as the training data) or the green channel.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
holdout_option = click.option(
    "--holdout",
    type=click.FloatRange(0, 1, max_open=True),
    default=None,
    help="Use only the contiguous-block holdout that train --holdout F carved.",
)


def segmenter_options(command):
    """Options that build a :class:`~edge_runtime.segmenter.Segmenter`."""
    for option in reversed(
        [model_option, threads_option, delegate_option, threshold_option, channel_option]
    ):
        command = option(command)
    return command
