"""Whether the gate's holdout is what the model's training run held out.

``convert --check-holdout F`` and ``check --holdout F`` gate on what ``train --holdout F`` held
out, and the report and card then say the model passed on held-out data. Another share than the
run's, or its share of other data, selects photographs or patches the model may have trained on.
"""

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from converters.check import GateModels, GatePatches, GatePhotos
from converters.metadata_writer import run_record
from edge_runtime.contract.card_holdout import (
    HoldoutCheck,
    RecordedShare,
    card_share,
    refuse_another_share,
)
from edge_runtime.contract.model_card import ModelCard
from edge_runtime.contract.training_record import RECORD_FILE, TrainingRecord
from edge_runtime.errors import InputError


@dataclass(frozen=True)
class RunHoldout:
    """What a model's training run held out, as ``source`` (its run's record, or its card) says.

    ``share``: its ``train --holdout``. ``photos``: the held-out photographs its record names
    (scored or not; older records name those it scored alone), each ``folder/name`` as the gate
    names it (the name alone in records older than 1.2.0-dev, which name no folder), ``None``
    where nothing names them (a card).
    ``patches``: how many patches it held out, ``None`` where nothing counts them (a card).
    ``unscored``: those of ``photos`` it could not score.
    """

    source: Path
    share: float
    photos: frozenset[str] | None = None
    patches: int | None = None
    unscored: frozenset[str] = frozenset()

    @classmethod
    def of_record(cls, path: Path, record: TrainingRecord) -> "RunHoldout | None":
        """What the record at ``path`` says (``None``: an older record without the share)."""
        if record.holdout is None:
            return None
        photos = record.holdout_photos or ()
        names = {p: p.name if p.folder is None else f"{p.folder}/{p.name}" for p in photos}
        unscored = frozenset(name for p, name in names.items() if not p.scored)
        return cls(
            path, record.holdout, frozenset(names.values()), record.holdout_patches, unscored
        )

    @classmethod
    def of_card(cls, path: Path, card: ModelCard) -> "RunHoldout | None":
        """The share the card of the model at ``path`` records (``None``: it records none)."""
        recorded = card_share(card, str(path))
        return None if recorded is None else cls(path, recorded.share)


def gated_run(models: GateModels, keras_path: Path | None) -> RunHoldout | None:
    """What the run of the models ``check`` gates held out.

    The Keras model's run record when one is beside it (checked as ``convert`` checks it), else
    the LiteRT model's card (the share alone).

    Raises:
        InputError: the record beside the Keras model is not its run's.
    """
    if keras_path is not None and os.path.lexists(keras_path.parent / RECORD_FILE):
        keras = models.twin.model.model  # the Keras model read from keras_path
        return RunHoldout.of_record(keras_path.parent / RECORD_FILE, run_record(keras_path, keras))
    return RunHoldout.of_card(Path(models.names[0]), models.device.model.card)


def refuse_another_holdout(
    gate_data: GatePatches | GatePhotos, run: RunHoldout | None, option: str, model: Path
) -> None:
    """Refuse a gate whose holdout (given as ``option``) is not what ``model``'s run held out.

    The share must be the run's, exactly (a run without a holdout held nothing out): one that
    differs however little is refused, even where it selects the same photographs or patches
    (the card would record another share than the run's, and neither a card, which names no
    photographs, nor a record of an .npz file, which does not name the file, lets a selection
    be checked), the refusal showing both shares. Where the run's
    record names its held-out photographs, each photograph gated on must be one of them, of the
    same folder where the record names folders (the same share of another folder, or of one
    with photographs added or removed since, selects others, which may share a held-out one's
    name; one the run could not score is named all the same); where it counts its
    held-out patches, it must have held some out. Of an .npz file only the share is checked: the
    record does not say which file's patches it held out, so the run's share of another file is
    taken. Where nothing says what the run held out (no record, an older one, a card without
    its training), the holdout is taken as given, with a warning.

    Raises:
        InputError: naming the option, what the run held out and the data it would score.
    """
    holdout = gate_data.data.holdout
    unit = "photographs" if isinstance(gate_data, GatePhotos) else "patches"
    unrecorded = "no run record or card records it"
    check = HoldoutCheck(holdout, option, str(model), unit, "the gate", "gate", unrecorded)
    refuse_another_share(check, None if run is None else RecordedShare(str(run.source), run.share))
    if not holdout or run is None:
        return
    given = f"{option} {holdout}"
    if isinstance(gate_data, GatePhotos) and run.photos is not None:
        if not run.photos:
            _refuse_none_held(given, run, "photographs", "patches", option)
        for photo, name in zip(gate_data.photos, gate_data.names, strict=True):
            if name not in run.photos and photo.name not in run.photos:  # folder/name, or name
                raise InputError(
                    f"{photo.image}: {given} selects it, but {run.source} does not name it "
                    f"among the {len(run.photos)} photographs its run held out, so the "
                    "gate may score a photograph it trained on as held out (other "
                    "photographs than the run's, or some added or removed since?); gate without "
                    f"{option} on photographs the run never saw"
                )
    if isinstance(gate_data, GatePatches) and run.patches == 0:
        _refuse_none_held(given, run, "patches", "photographs", option)


def _refuse_none_held(given: str, run: RunHoldout, unit: str, other: str, option: str) -> None:
    """Refuse a holdout of ``unit`` from a run that held out none (only ``other``)."""
    raise InputError(
        f"{given}: {run.source} says its run held out no {unit} (only {other}), "
        f"so the gate would score {unit} it may have trained on as held out; gate without "
        f"{option} on {unit} the run never saw"
    )


def scored_by_the_run(
    gate_data: GatePatches | GatePhotos, run: RunHoldout | None
) -> GatePatches | GatePhotos:
    """``gate_data`` less the held-out photographs ``run`` could not score, with a warning each.

    The run chose its checkpoint and threshold without them, and the gate could not score them
    either (unreadable, or no vessel of the label inside the field of view, when trained).

    Raises:
        InputError: it would leave out every photograph (the run scored none of them).
    """
    if run is None or not run.unscored or not isinstance(gate_data, GatePhotos):
        return gate_data
    photos, names = [], []
    for photo, name in zip(gate_data.photos, gate_data.names, strict=True):
        if name in run.unscored:
            warnings.warn(
                f"{photo.image}: {run.source} says its run held it out but could not score it, "
                "so the gate leaves it out too",
                stacklevel=2,
            )
        else:
            photos.append(photo)
            names.append(name)
    if not photos:
        raise InputError(
            f"{gate_data.data.path}: {run.source} says its run could not score any photograph "
            "the gate's holdout selects, so the gate has none to gate on; gate on the folders "
            "the run held them out of, or without the holdout on photographs the run never saw"
        )
    return GatePhotos(photos, names, gate_data.data)
