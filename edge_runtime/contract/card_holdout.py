"""Whether a holdout is the share a model's training run held out.

``eval --holdout F`` scores, as held out, what ``train --holdout F`` held out; another share than
the run's selects photographs or patches the model may have trained on. Its card says the run's
share; the gate checks its holdout likewise (:func:`refuse_another_share`), against the run's
record where there is one (``converters/run_holdout.py``). ``eval --av --holdout`` checks the
artery/vein model's card too (:func:`refuse_artery_vein_holdout`): its trainer holds nothing out.
"""

import warnings
from dataclasses import dataclass

from edge_runtime.contract.model_card import ModelCard
from edge_runtime.errors import InputError

CARD_UNRECORDED = "its card does not record it"
"""Why nothing may say what a model whose card records no share held out."""


@dataclass(frozen=True)
class RecordedShare:
    """The holdout share a model's run held out, as ``source`` (its card, its record) says."""

    source: str
    share: float


@dataclass(frozen=True)
class HoldoutCheck:
    """A holdout to check, in the words of what scores it.

    ``option`` gave ``holdout`` for ``model``'s ``unit`` (photographs, patches); ``scorer``
    (eval, the gate) would score them, ``way_out`` says what to do instead, ending where
    "without it on data the run never saw" follows (score, gate, or a sentence of ways out);
    ``unrecorded`` says why nothing may record the run's share, ``nothing_out`` how a run comes
    to hold nothing out.
    """

    holdout: float | None
    option: str
    model: str
    unit: str
    scorer: str
    way_out: str
    unrecorded: str
    nothing_out: str = "train --holdout 0"


def refuse_another_share(check: HoldoutCheck, recorded: RecordedShare | None) -> None:
    """Refuse a holdout that is not exactly the share ``recorded`` (a run that held out 0 held
    nothing out, and refuses any); ``None`` or 0 (no holdout) is never refused.

    Where nothing records the share (``recorded`` ``None``), the holdout is taken as given,
    with a warning.

    Raises:
        InputError: naming the option, what says the run's share, and the share.
    """
    if not check.holdout:
        return
    given = f"{check.option} {check.holdout}"
    if recorded is None:
        warnings.warn(
            f"{given}: nothing says what {check.model} held out in training ({check.unrecorded}"
            f"), so {check.scorer} takes the {check.unit} it selects as held out, unchecked",
            stacklevel=3,
        )
        return
    share = recorded.share
    if share != check.holdout:
        held = f"held out {share}" if share else f"held nothing out ({check.nothing_out})"
        instead = f"give {check.option} {share}, or {check.way_out}" if share else check.way_out
        exactly = " (a share is taken only if it is the run's exactly)" if share else ""
        raise InputError(
            f"{given}: {recorded.source} says its run {held}, so {check.scorer} would score "
            f"{check.unit} it may have trained on as held out{exactly}; {instead} without it on "
            "data the run never saw"
        )


def refuse_another_card_holdout(
    holdout: float | None,
    card: ModelCard,
    model: str,
    unit: str,
    option: str = "--holdout",
    scorer: str = "eval",
) -> None:
    """Refuse a holdout (given as ``option``) that is not the share ``model``'s card records
    (:func:`refuse_another_share`; ``scorer`` scores what it selects).

    A card that records no share (older cards, or one without its training) takes the holdout
    as given, with a warning.

    Raises:
        InputError: naming the option, the model and the share its card records.
    """
    words = HoldoutCheck(holdout, option, model, unit, scorer, "score", CARD_UNRECORDED)
    refuse_another_share(words, card_share(card, model))


def card_share(card: ModelCard, model: str) -> RecordedShare | None:
    """The share ``model``'s card says its run held out, or ``None`` where it records none."""
    share = None if card.training is None else card.training.holdout
    return None if share is None else RecordedShare(f"the card of {model}", share)


def refuse_artery_vein_holdout(holdout: float | None, card: ModelCard, model: str) -> None:
    """Refuse ``eval --av --holdout`` where the artery/vein model ``model`` may have trained on
    the photographs it selects (:func:`refuse_another_share`, against its ``card``).

    ``train-artery-vein`` holds nothing out, so any holdout is refused where the card records
    0 or no share (a card converted before it recorded one, as the bundled 1.2.0-dev's), and
    another share than one it records.

    Raises:
        InputError: naming --holdout, the artery/vein model, what its card says, and the ways
            out: vessels alone on the holdout, or the artery/vein model on photographs it
            never saw.
    """
    named = f"the artery/vein model {model}"
    untold = RecordedShare(f"the card of {named}, which records no share,", 0.0)
    words = HoldoutCheck(
        holdout,
        "--holdout",
        named,
        "photographs",
        "eval",
        "leave out --av to score vessels alone on the holdout, or score the artery/vein model",
        CARD_UNRECORDED,
        "train-artery-vein has no --holdout",
    )
    refuse_another_share(words, card_share(card, named) or untold)
