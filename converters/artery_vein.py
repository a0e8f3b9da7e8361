"""Convert an artery/vein model to int8 behind its gate; a failing gate leaves no output.

The gate runs the int8 model as on the device against its float twin on labelled photographs.
"""

import dataclasses
import datetime
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from converters.metadata_writer import (
    embed_card,
    refuse_another_runs_record,
    refuse_edited_settings,
    tensor_coding,
)
from converters.signing import warn_if_signed_before
from converters.tflite_export import export_tflite
from edge_runtime import __version__
from edge_runtime.atomic import atomic_path
from edge_runtime.contract.artery_vein_classes import ArteryVein
from edge_runtime.contract.artery_vein_input import ARTERY_VEIN_PREPROCESSING
from edge_runtime.contract.artery_vein_metrics import mean_scores
from edge_runtime.contract.gate_report import ArteryVeinGateReport, ArteryVeinGates
from edge_runtime.contract.model_card import (
    ModelCard,
    Preprocessing,
    TrainingStart,
    TrainingSummary,
)
from edge_runtime.data.photos import folder_name
from edge_runtime.errors import EdgeSegError, InputError, first_line
from edge_runtime.inference.interpreter import make_interpreter
from edge_runtime.inference.runtime_options import RuntimeOptions
from edge_runtime.inference.signatures import UNCHECKED
from edge_runtime.pipeline.artery_vein import ArteryVeinModel
from edge_runtime.pipeline.segmenter import Segmenter
from training.artery_vein import (
    ArteryVeinExample,
    ArteryVeinRecord,
    chained_model,
    device_model,
    load_examples,
    predicted_classes,
    score_classes,
    whole_fields,
)
from training.config import ARTERY_VEIN_RECORD
from training.model_io import load_keras_model

MAX_ONE_CLASS = 0.9
"""Most of the found vessel pixels a model may give one class in the gate: arteries are 40-47 %
of the artery and vein pixels of the DRIVE, GAVE and LES-AV labels (24-57 % of one
photograph's); a model that calls all of them one class agrees with any other such model (a
constant one passed the gate)."""

CALIBRATION_FIELDS = 64
"""Working fields of view (the first of the labelled photographs, spread over the folders)
that calibrate int8 ranges."""


class ArteryVeinGateFailure(EdgeSegError):
    """A converted artery/vein model failed its gate; ``report`` says how."""

    def __init__(self, report: ArteryVeinGateReport):
        super().__init__("artery/vein gate failed: " + "; ".join(report.failures))
        self.report = report


@dataclass(frozen=True)
class ArteryVeinConversion:
    """Everything ``edge-seg convert-artery-vein`` decides (see its --help)."""

    keras_path: Path
    data: tuple[Path, ...]
    output: Path
    model_version: str = "unversioned"
    gates: ArteryVeinGates = dataclasses.field(default_factory=ArteryVeinGates)


def artery_vein_gate(
    float_model: ArteryVeinModel,
    int8_model: ArteryVeinModel,
    examples: list[ArteryVeinExample],
    gates: ArteryVeinGates,
    data: tuple[str, ...],
) -> ArteryVeinGateReport:
    """The gate's report: both models run as on the device on the examples.

    It holds their mean accuracies on the found vessel pixels, the share of found pixels both
    class alike, and the verdict.
    """
    same = total = 0
    arteries = np.zeros(2, dtype=np.int64)
    scores: tuple[list, list] = ([], [])
    for example in examples:
        classes = [predicted_classes(m, example) for m in (float_model, int8_model)]
        for kept, predicted in zip(scores, classes, strict=True):
            kept.append(score_classes(example, predicted))
        same += int(np.count_nonzero((classes[0] == classes[1]) & example.found))
        total += int(np.count_nonzero(example.found))
        arteries += [np.count_nonzero((c == ArteryVein.ARTERY) & example.found) for c in classes]
    float_scores, int8_scores = (mean_scores(kept) for kept in scores)
    agreement = same / total if total else None
    failures = []
    if float_scores.accuracy is None or int8_scores.accuracy is None or agreement is None:
        failures.append("no found vessel pixel with an artery/vein label to score")
    else:
        for model, share in zip(("float", "int8"), arteries / total, strict=True):
            if not 1 - MAX_ONE_CLASS <= share <= MAX_ONE_CLASS:
                failures.append(
                    f"the {model} model calls {share:.0%} of the found vessel pixels arteries "
                    f"(one class at most {MAX_ONE_CLASS:.0%}): agreeing with such a model "
                    "proves nothing (an untrained model?)"
                )
        drop = float_scores.accuracy - int8_scores.accuracy
        if drop > gates.max_mean_drop:
            failures.append(
                f"mean accuracy fell by {drop:.4f} (float {float_scores.accuracy:.4f}, int8 "
                f"{int8_scores.accuracy:.4f}), allowed {gates.max_mean_drop}"
            )
        if agreement < gates.min_agreement:
            failures.append(
                f"int8 and float agree on {agreement:.4f} of the found vessel pixels, "
                f"required {gates.min_agreement}"
            )
    return ArteryVeinGateReport(
        passed=not failures,
        photographs=len(examples),
        data=data,
        float_accuracy=float_scores.accuracy,
        int8_accuracy=int8_scores.accuracy,
        agreement=agreement,
        gates=gates,
        failures=tuple(failures),
    )


def convert_artery_vein(options: ArteryVeinConversion) -> ArteryVeinGateReport:
    """Convert ``options.keras_path`` to int8; write ``options.output`` if the gate passes.

    The gate runs on the labelled photographs of ``options.data``.

    Raises:
        ArteryVeinGateFailure: the gate failed (nothing was written).
        InputError: the model, its record (``artery_vein.json`` beside it) or the data cannot
            be used.
    """
    model = load_keras_model(options.keras_path, ARTERY_VEIN_PREPROCESSING)
    record_path = options.keras_path.parent / ARTERY_VEIN_RECORD
    if not os.path.lexists(record_path):
        raise InputError(
            f"{record_path}: missing; an artery/vein model is converted from its run folder "
            "(edge-seg train-artery-vein), whose record says how it was built"
        )
    try:
        record = ArteryVeinRecord.read(record_path)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    training = record.training
    refuse_another_runs_record(
        record_path,
        record.parameters,
        options.keras_path,
        model.count_params(),
        record.model_sha256,
    )
    refuse_edited_settings(record_path, record, options.keras_path)
    try:
        model = device_model(model, training)
    except ValueError as exc:  # a width or depth that does not build the model's layers
        raise InputError(
            f"{record_path}: its width {training.width} and depth {training.depth} do not build "
            f"{options.keras_path} ({first_line(exc)})"
        ) from None
    examples = load_examples(list(options.data), Segmenter(), training)
    spread = examples[:: max(1, len(examples) // CALIBRATION_FIELDS)][:CALIBRATION_FIELDS]
    calibration = whole_fields(spread, training.device_side)
    content = export_tflite(model, calibration, "int8", "int8")
    interpreter = make_interpreter(content, name=str(options.keras_path))
    card = ModelCard(
        model_version=options.model_version,
        architecture="unet-lite",
        width=training.width,
        parameters=record.parameters,  # learned: the device form repeats biases
        patch_size=training.device_side,
        fov_diameter=training.fov_diameter,
        preprocessing=Preprocessing(ARTERY_VEIN_PREPROCESSING),
        quantization="int8",
        input=tensor_coding(interpreter.get_input_details()[0]),
        output=tensor_coding(interpreter.get_output_details()[0]),
        # no recipe, random weights; nothing held out (--score's cameras choose nothing): the
        # last epoch kept
        training=TrainingSummary(
            "binary_crossentropy", training.epochs, training.seed, 0.0, TrainingStart()
        ),
        created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        package_version=__version__,
    )
    content = embed_card(content, card)
    data = tuple(map(folder_name, options.data))
    with atomic_path(options.output) as tmp:
        tmp.write_bytes(content)
        # the bytes just made, unsigned as yet: $EDGE_SEG_TRUSTED_KEYS refused them
        int8_model = ArteryVeinModel(RuntimeOptions(tmp, trusted_keys=UNCHECKED))
        report = artery_vein_gate(
            chained_model(model, training), int8_model, examples, options.gates, data
        )
        if not report.passed:
            raise ArteryVeinGateFailure(report)  # leaves the with block: nothing is written
        tmp.write_bytes(embed_card(content, dataclasses.replace(card, artery_vein_gate=report)))
    warn_if_signed_before(options.output, "it was converted again")
    return report
