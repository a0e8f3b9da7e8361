"""Whether a holdout is the share a model's card says its training run held out.

``eval --holdout F`` scores, as held out, what ``train --holdout F`` held out; another share than
the run's selects photographs or patches the model may have trained on. (The gate checks its
holdout likewise, against the run's record where there is one: ``converters/run_holdout.py``.)
"""

import warnings

from edge_runtime.contract.model_card import ModelCard
from edge_runtime.errors import InputError


def refuse_another_card_holdout(
    holdout: float | None, card: ModelCard, model: str, unit: str, option: str = "--holdout"
) -> None:
    """Refuse a holdout (given as ``option``) that is not the share ``model``'s card records.

    A card recording 0 (a run that held nothing out) refuses any; a card that records no share
    (older cards, or one without its training) takes the holdout as given, with a warning.
    ``None`` or 0 (no holdout) is never refused.

    Raises:
        InputError: naming the option, the model and the share its card records.
    """
    if not holdout:
        return
    given = f"{option} {holdout}"
    share = None if card.training is None else card.training.holdout
    if share is None:
        warnings.warn(
            f"{given}: nothing says what {model} held out in training (its card does not "
            f"record it), so the {unit} it selects are taken as held out, unchecked",
            stacklevel=2,
        )
        return
    if share != holdout:
        held = (
            f"held out {share}"
            if share
            else "held nothing out (train --holdout 0: it trained on all of its data)"
        )
        instead = f"give {option} {share}, or score" if share else "score"
        raise InputError(
            f"{given}: the card of {model} says its run {held}, so {unit} it may have trained "
            f"on would be scored as held out; {instead} data the run never saw without it"
        )
