"""``edge-seg convert`` and ``edge-seg check`` (host side; need the 'train' extra)."""

import functools
import os
import re
import warnings
from pathlib import Path

import click

from edge_runtime.app.files import prepare_report
from edge_runtime.app.outputs import identity, refuse_output_among
from edge_runtime.atomic import check_writable, folders_removed_on_failure
from edge_runtime.cli.extras import import_extra
from edge_runtime.cli.options import (
    HOLDOUT_HELP,
    NonBlankPath,
    distinct_paths,
    finite_range,
    holdout_option,
    overwrite_option,
    refuse_given,
    threshold_option,
)
from edge_runtime.contract.gate_report import (
    ArteryVeinGates,
    GateReport,
    Gates,
)
from edge_runtime.contract.schema import encode, json_text
from edge_runtime.data.patches import TRAIN_IMAGES, TRAIN_LABELS
from edge_runtime.data.photos import datasets_of_folders
from edge_runtime.errors import EdgeSegError, InputError, os_error_line
from edge_runtime.inference.signatures import signature_named
from edge_runtime.processes import ending_cleanly_on_sigterm
from training.config import ARTERY_VEIN_RUN_FILES, RUN_FILES

DEFAULT_GATES = Gates()
_LIMIT = finite_range(0, 1)

GATE_OPTIONS = [
    click.option(
        "--max-mean-drop",
        type=_LIMIT,
        default=DEFAULT_GATES.max_mean_drop,
        show_default=True,
        help="Largest allowed drop of the mean Dice (Keras minus LiteRT).",
    ),
    click.option(
        "--max-image-drop",
        type=_LIMIT,
        default=DEFAULT_GATES.max_image_drop,
        show_default=True,
        help="Largest allowed Dice drop of any single image (patch or photograph).",
    ),
    click.option(
        "--min-pixel-agreement",
        type=_LIMIT,
        default=DEFAULT_GATES.min_pixel_agreement,
        show_default=True,
        help="Smallest share of mask pixels on which LiteRT and Keras must agree "
        "(fidelity: is the LiteRT file this Keras model's conversion?).",
    ),
    click.option(
        "--max-mean-gain",
        type=_LIMIT,
        default=DEFAULT_GATES.max_mean_gain,
        show_default=True,
        help="Largest allowed rise of the mean Dice (LiteRT minus Keras): a conversion "
        "does not improve a model by more.",
    ),
    click.option(
        "--min-dice",
        type=_LIMIT,
        default=DEFAULT_GATES.min_dice,
        help="Floor for the LiteRT model's mean Dice.",
    ),
]

VERSION_PATTERN = r"[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}"
"""What a model version may be (``1.2.0``, ``1.2.0-dev``, ``fold-drive``): one word, printable,
so that no version can forge a line of what ``info`` prints."""


def _model_version(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """The ``--model-version`` given, checked against :data:`VERSION_PATTERN`."""
    if not re.fullmatch(VERSION_PATTERN, value):
        raise click.BadParameter(
            f"got {value!r}, expected up to 64 letters, digits and . + _ - (starting with a "
            "letter or digit)"
        )
    return value


MAX_CALIBRATION_SIZE = 10_000
"""Most calibration patches to ask for: int8 ranges settle within a few hundred, and a folder's
crops take about 62 kB each while converting (a peak of 1.9 GB at 20,000 against 0.7 GB at 512
on the Intel Xeon; at the 100,000 this once allowed, some 7 GB)."""


DRIFT_GATES = ("max_mean_drop", "max_image_drop", "min_pixel_agreement", "max_mean_gain")
"""The gates that compare the LiteRT model with its Keras twin (``min_dice`` is a floor)."""

NPZ_ARRAYS = ("images_key", "labels_key", "check_images", "check_labels")
"""Options that name an .npz file's arrays."""


def _refuse_arrays_of_folders(data: tuple[Path, ...]) -> None:
    """A usage error when an .npz file's array names are given with folders of photographs."""
    if data and all(path.is_dir() for path in data):
        why = "of an .npz file's arrays, but the data are folders of photographs"
        refuse_given(click.get_current_context(), NPZ_ARRAYS, why)


def gate_options(command):
    """Add the gate limits that ``convert`` and ``check`` share to a command.

    The command receives them as one :class:`~edge_runtime.contract.gate_report.Gates`
    argument, ``gates``.
    """

    @functools.wraps(command)
    def build(
        *args, max_mean_drop, max_image_drop, min_pixel_agreement, max_mean_gain, min_dice, **kwargs
    ):
        gates = Gates(max_mean_drop, max_image_drop, min_pixel_agreement, max_mean_gain, min_dice)
        return command(*args, gates=gates, **kwargs)

    for option in reversed(GATE_OPTIONS):
        build = option(build)
    return build


def _echo_gate(report: GateReport) -> None:
    line = f"LiteRT Dice {report.tflite.dice_mean:.4f}"
    if report.keras:
        line = (
            f"Keras Dice {report.keras.dice_mean:.4f}, {line}, drop {report.mean_drop:+.4f}, "
            f"pixel agreement {report.pixel_agreement:.4%}"
        )
    verdict = "passed" if report.passed else "FAILED"
    click.echo(f"gate {verdict}: {line} ({report.counted()})")
    for failure in report.failures:
        click.echo(f"  gate failed: {failure}")


@click.command()
@click.argument("model", type=NonBlankPath(dir_okay=False, path_type=Path))
@click.option(
    "--calibration",
    type=NonBlankPath(path_type=Path),
    required=True,
    help="What calibrates int8 activation ranges: an .npz file's patches, or a folder of "
    "photographs in a layout eval reads (random crops through the device's pipeline; only the "
    "photographs are read, not their labels, which may be missing or blank, nor masks).",
)
@click.option(
    "--images",
    "images_key",
    default=TRAIN_IMAGES,
    show_default=True,
    help="Array of calibration patches in --calibration.",
)
@click.option(
    "--calibration-size",
    type=click.IntRange(1, MAX_CALIBRATION_SIZE),
    default=None,
    help="Use only the first N patches of an .npz file [default: all], or N crops of a folder "
    "of photographs [default: 512].",
)
@click.option(
    "--int8/--float",
    "int8",
    default=True,
    show_default=True,
    help="Full-integer int8 model, or its float32 twin for comparison.",
)
@click.option(
    "--io",
    type=click.Choice(["int8", "uint8", "float"]),
    default="int8",
    show_default=True,
    help="Input/output type of an int8 model (uint8 as Coral/pycoral users expect).",
)
@threshold_option(
    help="Decision threshold to record [default: tuned in training (metrics.json beside "
    "MODEL), else 0.5].",
)
@click.option(
    "--model-version",
    default="unversioned",
    callback=_model_version,
    show_default=True,
    help="Version string recorded in the metadata.",
)
@click.option(
    "--check-data",
    type=NonBlankPath(path_type=Path),
    multiple=True,
    callback=distinct_paths,
    help="Labelled data for the gate against MODEL (required unless --no-check): folders of "
    "labelled photographs (repeat the option for several), or an .npz file (--check-images, "
    "--check-labels).",
)
@click.option(
    "--check-images",
    default=TRAIN_IMAGES,
    show_default=True,
    help="Array of patches in --check-data, when it is an .npz file.",
)
@click.option(
    "--check-labels",
    default=TRAIN_LABELS,
    show_default=True,
    help="Array of masks in --check-data, when it is an .npz file.",
)
@holdout_option(
    "--check-holdout",
    help="Gate only on what train --holdout F held out (see check --holdout): refused unless "
    "MODEL's run record says its run held out F, and names each photograph gated on among "
    "those it held out; taken with a warning without a record.",
)
@click.option("--no-check", is_flag=True, help="Skip the Dice gate (the metadata says so).")
@gate_options
@click.option(
    "--edgetpu",
    is_flag=True,
    help="Also compile for the Edge TPU with edgetpu_compiler (x86 Debian host), "
    "or print the command to do so. A compiler that fails leaves OUTPUT written, with exit "
    "status 2.",
)
@click.option(
    "-o",
    "--output",
    type=NonBlankPath(dir_okay=False, path_type=Path),
    required=True,
    help="The .tflite file to write (atomically; nothing is written when the gate fails).",
)
@overwrite_option("an existing OUTPUT file, and with --edgetpu its build beside it")
def convert(
    model: Path,
    output: Path,
    int8: bool,
    no_check: bool,
    check_data: tuple[Path, ...],
    edgetpu: bool,
    overwrite: bool,
    **options,
) -> None:
    """Convert a Keras MODEL to an int8 LiteRT model with its card, behind the gate.

    By default the model is full-integer int8 (weights, activations, input and output), static
    batch 1, calibrated on the preprocessed --calibration patches in file order. The Dice gate
    then compares it with MODEL on --check-data; if a gate fails, nothing is written to OUTPUT.
    """
    if not check_data and not no_check:
        raise click.UsageError(
            "name a labeled set for the Dice gate with --check-data, or pass --no-check"
        )
    ctx = click.get_current_context()
    if no_check:
        gate = ("check_data", "check_images", "check_labels", "check_holdout", *DRIFT_GATES)
        refuse_given(ctx, (*gate, "min_dice"), "of the gate, which --no-check skips")
    if not int8:
        refuse_given(ctx, ("io", "edgetpu"), "of an int8 model, but --float makes a float one")
    _refuse_arrays_of_folders(check_data)
    inputs = (options["calibration"], *check_data)
    _check_output(output, overwrite, model, inputs)
    import_extra("tensorflow", "train")
    from converters.edgetpu_compile import build_path
    from converters.gate import GateFailure
    from converters.pipeline import ConvertOptions, convert_model

    if edgetpu:  # and the compiler's build beside it, refused alike
        _check_output(build_path(output), overwrite, model, inputs)
    try:
        with ending_cleanly_on_sigterm():  # an unfinished output is removed, never left
            result = convert_model(
                ConvertOptions(
                    keras_path=model,
                    output=output,
                    quantization="int8" if int8 else "float",
                    check_data=() if no_check else check_data,
                    **options,
                )
            )
    except GateFailure as failure:
        _echo_gate(failure.report)
        click.echo(_not_written(output, build_path(output) if edgetpu else None), err=True)
        raise SystemExit(1) from None
    if result.gate:
        _echo_gate(result.gate)
    click.echo(f"wrote {output} ({result.size_bytes / 1024:.1f} KiB, {result.quantization})")
    if edgetpu:
        _compile_edgetpu(output, gated=result.gate is not None)


def _not_written(output: Path, build: Path | None = None) -> str:
    """The line saying that a gate that failed wrote nothing, naming the earlier files that stand.

    Those are ``output``, its signature and ``build``, the Edge TPU build that ``--edgetpu`` was
    to replace, where each is there.
    """
    signature = signature_named(output)
    earlier = []
    if os.path.lexists(output):
        earlier.append("the earlier file")
        if os.path.lexists(signature):
            earlier.append(f"its signature {signature.name}")
    if build is not None and os.path.lexists(build):
        earlier.append(f"{'the' if earlier else 'the earlier'} Edge TPU build {build.name}")
    if not earlier:
        return f"not written: {output}"
    if len(earlier) == 1:
        return f"not written: {output} ({earlier[0]} stands, as it was)"
    listed = f"{', '.join(earlier[:-1])} and {earlier[-1]}"
    return f"not written: {output} ({listed} stand, as they were)"


def _compile_edgetpu(model: Path, gated: bool) -> None:
    """Compile ``model``, written and whole (``gated``: its gate passed), for the Edge TPU.

    Raises:
        EdgeSegError: the compiler failed, saying that ``model`` stands, without a build.
    """
    from converters.edgetpu_compile import build_path, compile_for_edgetpu

    try:
        build = compile_for_edgetpu(model)
    except (EdgeSegError, OSError) as exc:  # a script must not take the model for lost too
        said = exc if isinstance(exc, EdgeSegError) else os_error_line(exc, build_path(model))
        how = "its gate passed" if gated else "not gated: --no-check"
        raise EdgeSegError(
            f"{said}; so no Edge TPU build, but {model} is written and whole ({how})"
        ) from None
    if build.done:
        click.echo(f"wrote {build.compiled} (compiled for the Edge TPU, metadata re-embedded)")
        return
    click.echo(
        "edgetpu_compiler is not on PATH (it runs on x86-64 Debian/Ubuntu, from Coral's apt "
        "repository). There, run:\n" + "\n".join(f"  {c}" for c in build.commands)
    )


def _check_output(output: Path, overwrite: bool, model: Path, data: tuple[Path, ...]) -> None:
    """Refuse, before converting, an output that cannot be written, overwrites an input or exists.

    One that exists (a signed model, say) is replaced only when ``overwrite``. The inputs:
    ``model``, the run's files beside it (its record, which the card is made from) and the
    ``data`` files, and the files in the ``data`` folders (photographs, labels).
    """
    inputs = [model, *(model.parent / name for name in {*RUN_FILES, *ARTERY_VEIN_RUN_FILES})]
    taken = identity(output)
    for given in (*inputs, *data):
        if given.resolve() == output.resolve() or (taken and identity(given) == taken):
            raise click.UsageError(f"{output}: the output would overwrite the input {given}")
        if taken and given.is_dir() and output.resolve().is_relative_to(given.resolve()):
            raise click.UsageError(
                f"{output}: the output would overwrite a file of the data folder {given}"
            )
    check_writable(output)  # a link or a folder in the way is refused, --overwrite or not
    if os.path.lexists(output) and not overwrite:
        raise InputError(f"{output}: exists already; pass --overwrite to replace it")


@click.command("embed-metadata")
@click.option(
    "--from",
    "source",
    type=NonBlankPath(dir_okay=False, path_type=Path),
    required=True,
    help="A model converted by edge-seg convert.",
)
@click.argument("target", type=NonBlankPath(dir_okay=False, path_type=Path))
def embed_metadata_command(source: Path, target: Path) -> None:
    """Copy a converted model's card into TARGET (after edgetpu_compiler).

    TARGET must be the model itself or its Edge TPU build: same inputs and outputs, and
    (unless compiled) same ops, tensors and weights. Another model is refused. A build's weights
    cannot be compared, so a build of another model of the same kind and patch size passes, with
    a warning.
    """
    import_extra("tensorflow", "train")
    from converters.pipeline import copy_card

    copied = copy_card(source, target)
    if copied.compiled:
        warnings.warn(
            f"{target}: an Edge TPU build, whose weights are the compiler's: only its inputs and "
            f"outputs were compared with {source}'s (any vessel model of its patch size has "
            "these), so be sure it is that model's build",
            stacklevel=1,
        )
    if copied.written:
        click.echo(f"embedded the metadata of {source} in {target}")
    else:
        click.echo(f"{target} already carries the metadata of {source}: left as it is")


@click.command()
@click.option(
    "--keras",
    "keras_path",
    type=NonBlankPath(dir_okay=False, path_type=Path),
    help="The Keras model the LiteRT model was converted from.",
)
@click.option(
    "--tflite",
    "tflite_path",
    type=NonBlankPath(dir_okay=False, path_type=Path),
    required=True,
    help="The converted LiteRT model to certify.",
)
@click.option(
    "--data",
    type=NonBlankPath(path_type=Path),
    required=True,
    multiple=True,
    callback=distinct_paths,
    help="Folders of labelled photographs (the layouts eval reads; repeat the option for "
    "several), or a labelled .npz file.",
)
@click.option(
    "--images",
    "images_key",
    default=TRAIN_IMAGES,
    show_default=True,
    help="Array of patches in --data, when it is an .npz file.",
)
@click.option(
    "--labels",
    "labels_key",
    default=TRAIN_LABELS,
    show_default=True,
    help="Array of masks in --data, when it is an .npz file.",
)
@holdout_option(
    help=f"{HOLDOUT_HELP} Refused unless the models' run held out F (the run record beside "
    "--keras, which also names its held-out photographs, else the LiteRT model's card); taken "
    "with a warning where neither says.",
)
@threshold_option()
@gate_options
@click.option(
    "--report",
    "report_dir",
    type=NonBlankPath(file_okay=False, path_type=Path),
    help="Write report.json, report.md and dice_delta.png here (an earlier report's are "
    "removed as the gate starts: a run that fails leaves none, one refused before it starts "
    "leaves them as they were).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def check(
    keras_path: Path | None,
    tflite_path: Path,
    data: tuple[Path, ...],
    images_key: str,
    labels_key: str,
    holdout: float | None,
    threshold: float | None,
    gates: Gates,
    report_dir: Path | None,
    as_json: bool,
) -> None:
    """The quantization gate: the LiteRT model, run as on the device, vs its Keras source.

    On a folder of labelled photographs, both run through the device's whole pipeline and each
    photograph's F1 is compared (inside the field of view); on an .npz file, each patch's Dice.
    --holdout F restricts either to the holdout that train --holdout F kept, which must be what
    the models' run held out. Exit status 0 when every gate holds, 1 when one fails, 2 on bad
    input. Without --keras only the absolute floor --min-dice is checked.
    """
    if keras_path is None and gates.min_dice is None:
        raise click.UsageError("without --keras there is nothing to compare: give --min-dice")
    if keras_path is None:
        why = "of the comparison with the Keras twin, which needs --keras"
        refuse_given(click.get_current_context(), DRIFT_GATES, why)
    _refuse_arrays_of_folders(data)
    if report_dir:
        refuse_output_among(report_dir, datasets_of_folders(data), "--report")
    import_extra("tensorflow", "train")
    from converters.check import load_gate_data, load_gate_models, run_gate
    from converters.gate_files import REPORT_FILES, write_report
    from converters.run_holdout import gated_run, refuse_another_holdout, scored_by_the_run

    # a report folder made for a run that fails before its report is removed again
    with folders_removed_on_failure(*filter(None, [report_dir])):
        gate_data = load_gate_data(data, images_key, labels_key, holdout)
        models = load_gate_models(tflite_path, keras_path, threshold)
        if holdout:  # the run's record, read for its holdout alone (a gate on all is not)
            run = gated_run(models, keras_path)
            refuse_another_holdout(gate_data, run, "--holdout", tflite_path)
            gate_data = scored_by_the_run(gate_data, run)
        if report_dir:  # as the gate starts: a run refused above leaves an earlier report,
            # one that fails below leaves none, and the verdict is not lost to its report
            prepare_report(report_dir, REPORT_FILES)
        if keras_path is None:
            gates = gates.floor_only()  # the limits given were refused above; these are defaults
        report = run_gate(models, gate_data, gates)
        if as_json:
            click.echo(json_text(encode(report)))
        else:
            _echo_gate(report)
        if report_dir:
            write_report(report_dir, report)
    if not report.passed:
        raise SystemExit(1)


@click.command()
@click.option(
    "--private",
    type=NonBlankPath(dir_okay=False, path_type=Path),
    default=Path("edge-seg-signing.key"),
    show_default=True,
    help="Where the private key goes (keep it off the cameras).",
)
@click.option(
    "--public",
    type=NonBlankPath(dir_okay=False, path_type=Path),
    default=Path("edge-seg-signing.pub"),
    show_default=True,
    help="Where the public key goes (the cameras' trusted keys).",
)
def keygen(private: Path, public: Path) -> None:
    """Make an Ed25519 key pair to sign models with."""
    from converters.signing import make_key_pair

    click.echo(f"key {make_key_pair(private, public)}: wrote {private} (private) and {public}")


@click.command()
@click.argument("model", type=NonBlankPath(dir_okay=False, path_type=Path))
@click.option(
    "--key",
    type=NonBlankPath(dir_okay=False, path_type=Path),
    required=True,
    help="The private key (edge-seg keygen).",
)
@overwrite_option("a MODEL.sig of this model by another key, or one that cannot be read")
def sign(model: Path, key: Path, overwrite: bool) -> None:
    """Sign MODEL (its bytes, hence its card): writes MODEL.sig beside it.

    A MODEL.sig of other bytes (MODEL converted again), or a damaged one, is replaced; one of
    these bytes by another key, or one that cannot be read, only with --overwrite.
    """
    from converters.signing import sign_model

    target, signature = sign_model(model, key, overwrite=overwrite)
    version = signature.statement.model_version or "without a card: no version"
    click.echo(f"wrote {target} (key {signature.key_id}, model {version})")


_AV_GATES = ArteryVeinGates()


@click.command("convert-artery-vein")
@click.argument("model", type=NonBlankPath(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--data",
    multiple=True,
    required=True,
    type=NonBlankPath(exists=True, file_okay=False, path_type=Path),
    callback=distinct_paths,
    help="A folder of photographs with artery/vein labels to calibrate and gate on; repeatable.",
)
@click.option(
    "--max-mean-drop",
    type=_LIMIT,
    default=_AV_GATES.max_mean_drop,
    show_default=True,
    help="Largest allowed drop of the mean accuracy on found vessel pixels (float minus int8).",
)
@click.option(
    "--min-agreement",
    type=_LIMIT,
    default=_AV_GATES.min_agreement,
    show_default=True,
    help="Smallest share of found vessel pixels that int8 and float must class alike.",
)
@click.option(
    "--model-version",
    default="unversioned",
    callback=_model_version,
    show_default=True,
    help="Version recorded in the model card.",
)
@click.option(
    "-o",
    "--output",
    type=NonBlankPath(dir_okay=False, path_type=Path),
    required=True,
    help="The .tflite file to write (atomically; nothing is written when the gate fails).",
)
@overwrite_option("an existing OUTPUT file")
def convert_artery_vein_command(
    model, data, max_mean_drop, min_agreement, model_version, output, overwrite
) -> None:
    """Convert an artery/vein Keras MODEL to int8, behind its gate.

    MODEL comes from `edge-seg train-artery-vein`. Full-integer int8, calibrated on crops of
    the --data photographs as the device sees them. The gate runs the int8 model and MODEL as
    the device runs them (the bundled vessel model first, then stitched tiles) on the --data
    photographs; if the int8 model's mean accuracy on the found vessel pixels falls by more
    than --max-mean-drop, or the two class fewer than --min-agreement of those pixels alike,
    nothing is written to OUTPUT.
    """
    _check_output(output, overwrite, model, data)
    import_extra("tensorflow", "train")
    from converters.artery_vein import (
        ArteryVeinConversion,
        ArteryVeinGateFailure,
        convert_artery_vein,
    )

    gates = ArteryVeinGates(max_mean_drop, min_agreement)
    try:
        with ending_cleanly_on_sigterm():  # an unfinished output is removed, never left
            report = convert_artery_vein(
                ArteryVeinConversion(model, tuple(data), output, model_version, gates)
            )
    except ArteryVeinGateFailure as failure:
        click.echo(failure.report.line())
        click.echo(_not_written(output), err=True)
        raise SystemExit(1) from None
    click.echo(report.line())
    click.echo(f"wrote {output} ({output.stat().st_size / 1024:.1f} KiB, int8)")
