"""Options shared by the commands, as reusable decorators (defaults come from the library)."""

import functools
import math
from collections.abc import Callable
from pathlib import Path

import click
from click.core import ParameterSource

from edge_runtime.app.files import Findings
from edge_runtime.app.outputs import identity
from edge_runtime.contract.metrics import THRESHOLD_RANGE
from edge_runtime.contract.preprocessing import CHANNELS
from edge_runtime.contract.segmenter_config import DEFAULT_CONFIG, SegmenterConfig
from edge_runtime.contract.symmetry import TTA_MODES
from edge_runtime.data.photos import LAYOUTS
from edge_runtime.inference.bundled import ARTERY_VEIN_MODEL
from edge_runtime.inference.interpreter import MAX_THREADS
from edge_runtime.inference.runtime_options import DEFAULT_RUNTIME, RuntimeOptions
from edge_runtime.inference.signatures import TRUSTED_KEYS_ENV
from edge_runtime.measure.scale import (
    FIELD_DEGREES,
    MM_PER_DEGREE,
    PIXEL_MM,
    PIXELS_ONLY,
    CameraScale,
)
from edge_runtime.pipeline.parallel import ProcessMemory


class FiniteFloatRange(click.FloatRange):
    """A float range that also refuses NaN and infinities (which pass every comparison check
    of :class:`click.FloatRange` unnoticed, or make a time wait forever)."""

    name = "number"

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


_TYPED = ParameterSource.COMMANDLINE


def refuse_given(ctx: click.Context, names: tuple[str, ...], why: str) -> None:
    """A usage error when one of the options ``names`` is given on the command line where it
    would change nothing (``why`` completes "an option ..."): it would pass unread.

    Raises:
        click.UsageError: naming the options given.
    """
    typed = [p for p in ctx.command.params if ctx.get_parameter_source(p.name) is _TYPED]
    given = [param.opts[0] for param in typed if param.name in names]
    if given:
        kind = "an option" if len(given) == 1 else "options"
        raise click.UsageError(f"{', '.join(given)}: {kind} {why}")


def finite_range(low: float | None = None, high: float | None = None, **kwargs) -> click.ParamType:
    """The click type of a finite float between ``low`` and ``high`` (either may be open)."""
    return FiniteFloatRange(low, high, **kwargs)


class NonBlankPath(click.Path):
    """A path that refuses an empty or blank value, which would otherwise be taken as the
    current folder (``-o ''`` writing where the command runs) or as no setting at all."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value.strip():
            self.fail(f"got {value!r}, expected a path.", param, ctx)
        return super().convert(value, param, ctx)


def distinct_paths(
    ctx: click.Context, param: click.Parameter, given: tuple, path_of: Callable = Path
) -> tuple:
    """A click callback for data given as several paths: refuse one that names the same file or
    folder as another (under any path), whose photographs would count twice (a gate "on 6
    photographs" of 3); ``path_of`` reads the path an argument names (train's ``PATH:WEIGHT``).

    Raises:
        click.BadParameter: naming both.
    """
    seen: dict = {}
    for argument in given:
        path = path_of(argument)
        key = identity(path) or path  # a missing path is refused in its turn
        if key in seen:
            raise click.BadParameter(
                f"{argument} is given twice (also as {seen[key]}): its data would count twice",
                ctx,
                param,
            )
        seen[key] = argument
    return given


def overwrite_option(what: str):
    """``--overwrite``: replace ``what``, which an earlier run left (refused without it)."""
    return click.option("--overwrite", is_flag=True, help=f"Replace {what} (refused without it).")


model_option = click.option(
    "--model",
    type=NonBlankPath(path_type=str),
    default=None,
    help="A .tflite model [default: the model bundled with the package].",
)
threads_option = click.option(
    "--threads",
    type=click.IntRange(1, MAX_THREADS),
    default=DEFAULT_RUNTIME.threads,
    show_default=True,
    help="Interpreter threads.",
)
delegate_option = click.option(
    "--delegate",
    type=click.Choice(["edgetpu"]),
    default=None,
    help="Run on a Coral Edge TPU (libedgetpu.so.1; the model must be compiled for it).",
)


def threshold_option(
    help: str = "Decision threshold [default: the model's, from its metadata].",
):
    """``--threshold``, a decision threshold (``None`` when not given)."""
    return click.option("--threshold", type=finite_range(*THRESHOLD_RANGE), default=None, help=help)


def channel_option(
    default: str | None = DEFAULT_CONFIG.channel,
    help: str = "Grayscale from colour photographs: luma or the green channel [default: the one "
    "the model was trained on, from its metadata].",
):
    """``--channel``, the grayscale conversion (``default`` when not given)."""
    return click.option(
        "--channel",
        type=click.Choice(CHANNELS),
        default=default,
        show_default=default is not None,
        help=help,
    )


HOLDOUT_HELP = (
    "Use only what train --holdout F held out: contiguous blocks of an .npz file's patches, or "
    "photographs spread over a folder's sorted names."
)
"""What ``--holdout`` selects, as its help says."""


def holdout_option(
    name: str = "--holdout",
    default: float | None = None,
    help: str = HOLDOUT_HELP,
):
    """``--holdout`` (or another ``name``), the share of the data a training run held out."""
    return click.option(
        name,
        type=finite_range(0, 1, max_open=True),
        default=default,
        show_default=default is not None,
        help=help,
    )


tta_option = click.option(
    "--tta",
    type=click.Choice(list(TTA_MODES)),
    default=DEFAULT_CONFIG.tta,
    show_default=True,
    help="Test-time averaging over flipped/rotated copies of each tile: flip runs the model "
    "twice per tile, dihedral eight times (slower; see the model card for what it gains).",
)
trusted_keys_option = click.option(
    "--trusted-keys",
    type=NonBlankPath(file_okay=False, path_type=str),
    default=None,
    envvar=TRUSTED_KEYS_ENV,
    show_envvar=True,
    help="Run only models signed by one of the public keys (*.pub) in this folder; set but "
    "empty, or without a usable key, nothing runs.",
)


def jobs_option(memory: ProcessMemory) -> Callable:
    """The ``--jobs`` option of a command whose processes each count ``memory`` in the default
    (:func:`~edge_runtime.pipeline.parallel.job_count`)."""
    return click.option(
        "--jobs",
        type=click.IntRange(1, 256),
        default=None,
        help="Processes, each with its own interpreter and photograph [default: as many as the "
        "cores this process may use (its CPU affinity and cgroup quota) hold at --threads each, "
        "and its free memory (the system's, and its cgroup's limit) holds at "
        f"{memory.describe()} a process, for several photographs]; one only with --delegate "
        "edgetpu (more is a usage error). Results are the same as with one.",
    )


def check_jobs(jobs: int | None, runtime: RuntimeOptions) -> None:
    """A usage error for more than one process with a delegate: one process drives the
    accelerator, and asked for several, the run would quietly take one.

    Raises:
        click.UsageError: ``jobs`` above 1 with a delegate.
    """
    if jobs is not None and jobs > 1 and runtime.delegate:
        raise click.UsageError(
            f"--jobs {jobs}: one process drives the accelerator (--delegate {runtime.delegate})"
        )


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")

layout_option = click.option(
    "--layout",
    type=click.Choice(list(LAYOUTS)),
    default=None,
    help="Layout of a folder of labelled photographs [default: detected].",
)


def camera_scale_options(command):
    """``--pixel-mm`` and ``--fov-degrees`` (at most one), which the command receives as
    ``camera`` (:class:`~edge_runtime.measure.scale.CameraScale`)."""

    @functools.wraps(command)
    def build(*args, pixel_mm, fov_degrees, **kwargs):
        if pixel_mm is not None and fov_degrees is not None:
            raise click.UsageError("--pixel-mm and --fov-degrees exclude each other: give one")
        return command(*args, camera=CameraScale(pixel_mm, fov_degrees), **kwargs)

    build = click.option(
        "--fov-degrees",
        type=finite_range(*FIELD_DEGREES),
        default=None,
        help="The camera's field of view in degrees, across the field-of-view disc (segment and "
        f"watch: the one detected; measure: --fov or --fov-auto): adds millimetres, at "
        f"{MM_PER_DEGREE} mm per degree.",
    )(build)
    return click.option(
        "--pixel-mm",
        type=finite_range(*PIXEL_MM),
        default=None,
        help="Millimetres on the retina per pixel (a camera's calibration at one resolution): "
        "adds millimetres.",
    )(build)


def findings_options(command):
    """``--verdict/--no-verdict``, ``--measure`` and its scale (:func:`camera_scale_options`),
    which the command receives as ``findings`` (:class:`~edge_runtime.app.files.Findings`)."""

    @functools.wraps(command)
    def build(*args, verdict, measure, camera, **kwargs):
        if camera != PIXELS_ONLY and not measure:
            raise click.UsageError("--pixel-mm and --fov-degrees scale --measure: add it")
        return command(*args, findings=Findings(verdict, measure, camera), **kwargs)

    build = camera_scale_options(build)
    build = click.option(
        "--measure",
        is_flag=True,
        help="Also measure each vessel map (density, length, width, fractal dimensions, "
        "tortuosity, branching, disc; in pixels, and in millimetres with --fov-degrees or "
        '--pixel-mm): in --json as "measurements", and OUTDIR/measurements.csv (segment). '
        "Seconds on a large photograph.",
    )(build)
    return click.option(
        "--verdict/--no-verdict",
        default=Findings.verdict,
        show_default=True,
        help="Judge each photograph (fundus, usable, quality, reasons to retake; "
        "firmware_notes/VERDICT.md): a few per cent of segmenting time.",
    )(build)


ARTERY_VEIN_HELP = (
    "Also tell arteries from veins (a second model, chained after the vessel model, on the CPU)"
)
"""What ``--av`` does in every command; each command adds what it does with the classes."""

ARTERY_VEIN_MAP_HELP = (
    "writes <stem>_av.png (red artery, blue vein, black background), and --measure then "
    "measures each class (CRAE, CRVE, AVR)."
)
"""What ``--av`` adds in the commands that write a photograph's outputs (segment, watch)."""


def artery_vein_options(what: str):
    """``--av`` (its help :data:`ARTERY_VEIN_HELP` and ``what``, what the command does with the
    classes) and ``--av-model``, which the command receives as ``artery_vein``: the options of
    the artery/vein model to chain after the vessel model
    (:class:`~edge_runtime.inference.runtime_options.RuntimeOptions`, on the CPU with the
    vessel model's threads and trusted keys), or ``None``. Goes below
    :func:`segmenter_options`, whose ``runtime`` it reads."""

    def decorate(command):
        @functools.wraps(command)
        def build(*args, av, av_model, runtime, **kwargs):
            chained = None
            if av or av_model is not None:
                model = av_model or ARTERY_VEIN_MODEL
                chained = RuntimeOptions(model, runtime.threads, None, runtime.trusted_keys)
            return command(*args, runtime=runtime, artery_vein=chained, **kwargs)

        build = click.option(
            "--av-model",
            type=NonBlankPath(dir_okay=False, path_type=Path),
            default=None,
            help="The artery/vein model for --av (default: the bundled one); implies --av.",
        )(build)
        return click.option("--av", is_flag=True, help=f"{ARTERY_VEIN_HELP}: {what}")(build)

    return decorate


SEGMENTER_OPTIONS = ("model", "threads", "delegate", "trusted_keys", "threshold", "channel", "tta")
"""The parameters :func:`segmenter_options` adds: what makes the model and how it decides."""


def segmenter_options(command):
    """Options that make a :class:`~edge_runtime.pipeline.segmenter.Segmenter`, which the
    command receives as ``runtime``
    (:class:`~edge_runtime.inference.runtime_options.RuntimeOptions`: the model and how it runs)
    and ``config`` (:class:`~edge_runtime.contract.segmenter_config.SegmenterConfig`: how it
    decides)."""

    @functools.wraps(command)
    def build(*args, model, threads, delegate, trusted_keys, threshold, channel, tta, **kwargs):
        runtime = RuntimeOptions(model, threads, delegate, trusted_keys)
        config = SegmenterConfig(threshold=threshold, channel=channel, tta=tta)
        return command(*args, runtime=runtime, config=config, **kwargs)

    options = [
        model_option,
        threads_option,
        delegate_option,
        threshold_option(),
        channel_option(),
        tta_option,
        trusted_keys_option,
    ]
    for option in reversed(options):
        build = option(build)
    return build
