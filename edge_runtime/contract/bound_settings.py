"""A run's record bound to its model file: each setting the device decides with that the record
holds (the threshold chosen on held-out data, the grayscale channel, the working field-of-view
diameter), and what the gate and the card take from it (the share held out and what it held
out, what the run started from), carries a digest of its value and of the model file's digest.

Training writes the digests (:func:`bind`); ``convert`` refuses a record whose setting no
longer matches its digest (:func:`edited_settings`): a value edited by hand would otherwise
be written into the card and gated at, the gate running both models at it and passing (an
edited holdout would let the gate score photographs the model was trained on).
"""

import dataclasses
import hashlib
import json
from numbers import Real
from typing import Any, ClassVar, Protocol, TypeVar

from edge_runtime.contract.schema import encode


class BoundRecord(Protocol):
    """A run's record that binds its settings to its model file."""

    BOUND_SETTINGS: ClassVar[tuple[str, ...]]
    """The settings bound, by their field names (dotted within a nested record)."""
    model_sha256: str | None
    settings_sha256: dict[str, str] | None


R = TypeVar("R", bound=BoundRecord)


def setting(record: BoundRecord, name: str) -> Any:
    """The value of one of a record's settings, named as in :attr:`BoundRecord.BOUND_SETTINGS`."""
    value = record
    for part in name.split("."):
        value = getattr(value, part)
    return value


def _canonical(value: Any) -> Any:
    """``value`` (JSON-ready) with each number a float, as a record reads its number fields
    back: a run given ``fov_diameter=300`` writes 300 and reads 300.0, the same setting; and
    each field that is ``None`` left out, as a record reads a field it lacks, so that one added
    since (``None`` in every record written before) leaves their digests as they were."""
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    if isinstance(value, Real) and not isinstance(value, bool):
        return float(value)
    return value


def setting_sha256(model_sha256: str | None, name: str, value: Any) -> str:
    """SHA-256 binding the setting ``name`` of value ``value`` to a model file.

    ``value`` is a record's field (a dataclass or a tuple of them too), bound as canonical JSON
    (:func:`~edge_runtime.contract.schema.encode`, keys sorted, numbers as floats, fields that
    are ``None`` left out).
    """
    text = json.dumps(_canonical(encode(value)), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{model_sha256}:{name}={text}".encode()).hexdigest()


def bind(record: R, model_sha256: str) -> R:
    """``record`` bound to the model file of SHA-256 ``model_sha256``: that digest, and each of
    its settings' (:func:`setting_sha256`)."""
    digests = {
        name: setting_sha256(model_sha256, name, setting(record, name))
        for name in record.BOUND_SETTINGS
    }
    return dataclasses.replace(record, model_sha256=model_sha256, settings_sha256=digests)


def unbound_settings(record: BoundRecord) -> tuple[str, ...]:
    """The names of the record's settings written before they were bound: every one for a
    record written before records were bound (``settings_sha256`` ``None``), and those after
    the last it holds a digest of for one written before them (a release binds the settings
    of :attr:`BoundRecord.BOUND_SETTINGS` up to some, in their order). Nothing checks them:
    the caller says so."""
    digests = record.settings_sha256 or {}
    names = record.BOUND_SETTINGS
    bound = max((at + 1 for at, name in enumerate(names) if name in digests), default=0)
    return names[bound:]


def edited_settings(record: BoundRecord) -> tuple[str, ...]:
    """The names of the record's settings whose values are not those it was bound with, or
    whose digest is gone where a later setting's is not (those written before they were bound
    aside: :func:`unbound_settings`)."""
    digests = record.settings_sha256 or {}
    unbound = set(unbound_settings(record))
    return tuple(
        name
        for name in record.BOUND_SETTINGS
        if name not in unbound
        and digests.get(name) != setting_sha256(record.model_sha256, name, setting(record, name))
    )
