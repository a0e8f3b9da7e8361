"""Run the gate: a LiteRT model, run as on the device, against its Keras source.

It scores both on labelled patches or on whole labelled photographs.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from converters.gate import MaskComparison, evaluate_gate
from edge_runtime.contract.gate_report import GateData, GateReport, Gates
from edge_runtime.contract.preprocessing import PREPROCESSING_NAME
from edge_runtime.contract.segmenter_config import SegmenterConfig
from edge_runtime.data.patches import load_labeled_patches, select_holdout
from edge_runtime.data.photos import LabelledPhoto, find_dataset, held_out, load_labelled
from edge_runtime.errors import InputError, counted
from edge_runtime.inference.runtime_options import RuntimeOptions
from edge_runtime.inference.signatures import UNCHECKED
from edge_runtime.pipeline.segmenter import Segmenter
from training.model_io import KerasPatches, load_keras_model


@dataclass(frozen=True)
class GatePatches:
    """Labelled patches for the gate, their indices in the data file, and what the file is."""

    images: np.ndarray
    labels: np.ndarray
    indices: np.ndarray
    data: GateData


@dataclass(frozen=True)
class GatePhotos:
    """Labelled photographs for the gate, their names (``folder/name``), and what they are.

    Each is read when the gate comes to it, so that the gate's memory does not grow with them.
    """

    photos: list[LabelledPhoto]
    names: list[str]
    data: GateData


def load_gate_data(
    data: Path | Sequence[Path],
    images_key: str | None,
    labels_key: str | None,
    holdout: float | None,
) -> GatePatches | GatePhotos:
    """The gate's labelled data: folders of photographs or an .npz file's patches.

    Of folders, all photographs or the holdout that ``edge-seg train --holdout FRACTION`` kept
    of each; of an .npz file, all its patches or its contiguous-block holdout.

    Raises:
        InputError: the data cannot be used, an .npz file without its array names, more than
            one source that is not a folder, or a holdout that holds nothing out.
    """
    sources = [Path(data)] if isinstance(data, (str, Path)) else [Path(d) for d in data]
    if all(source.is_dir() for source in sources):
        photos, names, folders = [], [], []
        for source in sources:
            found = find_dataset(source)
            found.warn_of_unmatched()
            dataset = held_out(found, holdout)
            photos += dataset.photos
            names += [f"{found.name}/{photo.name}" for photo in dataset.photos]
            folders.append(found.name)
        named = "+".join(folders)
        if not photos:
            raise InputError(f"{named}: --holdout {holdout} holds no photograph out to gate on")
        return GatePhotos(photos, names, GateData(named, holdout=holdout))
    if len(sources) > 1:
        raise InputError(f"{sources[1]}: the gate takes several folders, or one .npz file")
    (data,) = sources
    if not images_key or not labels_key:
        raise InputError(f"{data}: an .npz file needs its arrays' names (images and labels)")
    images, labels = load_labeled_patches(data, images_key, labels_key)
    keep = select_holdout(data, len(images), holdout)
    if not len(keep):
        raise InputError(
            f"{data}: --holdout {holdout} of {counted(len(images), 'patch', 'patches')} holds none "
            "out to gate on"
        )
    if not labels[keep].any():
        raise InputError(
            f"{data}: the {counted(len(keep), 'patch', 'patches')} gated on "
            f"{'holds' if len(keep) == 1 else 'hold'} no vessel pixel, expected some: "
            "a Dice gate on empty labels measures nothing"
        )
    described = GateData(data.name, images_key, labels_key, holdout)
    return GatePatches(images[keep], labels[keep], keep, described)


@dataclass(frozen=True)
class GateModels:
    """The models the gate compares, read, and their names for its report.

    The LiteRT model runs as on the device; its Keras twin, when given, decides alike (Keras'
    name "" without one).
    """

    device: Segmenter
    twin: Segmenter | None
    names: tuple[str, str]


def load_gate_models(
    tflite_path: Path,
    keras_path: Path | None = None,
    threshold: float | None = None,
    unsigned: Path | None = None,
) -> GateModels:
    """Read the LiteRT model and, when given, the Keras model, before the gate runs.

    Both decide alike, by the LiteRT model's configuration (its card's threshold unless
    ``threshold`` is given, its channel, working size and stride).

    ``unsigned``: the LiteRT model is a conversion on its way to this file, not yet signed: its
    signature is not checked, and the report names this file.
    """
    keys = UNCHECKED if unsigned else None
    names = (str(unsigned or tflite_path), str(keras_path or ""))
    keras = KerasPatches(load_keras_model(keras_path, PREPROCESSING_NAME)) if keras_path else None
    device = Segmenter(RuntimeOptions(tflite_path, trusted_keys=keys), SegmenterConfig(threshold))
    twin = Segmenter(keras, device.config) if keras else None
    return GateModels(device, twin, names)


def run_gate(models: GateModels, gate_data: GatePatches | GatePhotos, gates: Gates) -> GateReport:
    """Score the LiteRT model and, when given, the Keras model on the same data.

    On patches preprocessed alike, or on photographs through the device's whole pipeline
    (per-photograph F1 inside the field of view).
    """
    device, twin = models.device, models.twin
    if isinstance(gate_data, GatePatches):
        images = gate_data.images
        compared = MaskComparison.of(
            gate_data.labels,
            device.patch_masks(images),
            twin.patch_masks(images) if twin else None,
        )
        return evaluate_gate(
            compared,
            device.threshold,
            gates,
            models.names,
            gate_data.indices,
            gate_data.data,
        )
    compared = []
    for photo in gate_data.photos:
        loaded = load_labelled(photo)
        result = device.segment(loaded.photo)
        fov = result.fov if loaded.fov is None else loaded.fov
        twin_mask = [twin.segment(loaded.photo).mask[fov]] if twin else None
        compared.append(MaskComparison.of([loaded.label[fov]], [result.mask[fov]], twin_mask))
    return evaluate_gate(
        MaskComparison.joined(compared),
        device.threshold,
        gates,
        models.names,
        data=gate_data.data,
        unit="photographs",
        names=gate_data.names,
    )
