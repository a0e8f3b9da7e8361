"""A run's record bound to its model file: each setting the device decides with that the record
holds (the threshold chosen on held-out data, the grayscale channel, the working field-of-view
diameter) carries a digest of its value and of the model file's digest.

Training writes the digests (:func:`bind`); ``convert`` refuses a record whose setting no
longer matches its digest (:func:`edited_settings`): a value edited by hand would otherwise
be written into the card and gated at, the gate running both models at it and passing.
"""

import dataclasses
import hashlib
import json
from numbers import Real
from typing import Any, ClassVar, Protocol, TypeVar


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


def setting_sha256(model_sha256: str | None, name: str, value: Any) -> str:
    """SHA-256 binding the setting ``name`` of value ``value`` (a JSON value) to a model file.

    A number is bound as a float, as a record reads its number fields back: a run given
    ``fov_diameter=300`` writes 300 and reads 300.0, the same setting.
    """
    if isinstance(value, Real) and not isinstance(value, bool):
        value = float(value)
    return hashlib.sha256(f"{model_sha256}:{name}={json.dumps(value)}".encode()).hexdigest()


def bind(record: R, model_sha256: str) -> R:
    """``record`` bound to the model file of SHA-256 ``model_sha256``: that digest, and each of
    its settings' (:func:`setting_sha256`)."""
    digests = {
        name: setting_sha256(model_sha256, name, setting(record, name))
        for name in record.BOUND_SETTINGS
    }
    return dataclasses.replace(record, model_sha256=model_sha256, settings_sha256=digests)


def edited_settings(record: BoundRecord) -> tuple[str, ...]:
    """The names of the record's settings whose values are not those it was bound with.

    None for a record written before records were bound (``settings_sha256`` ``None``): the
    caller says what that leaves unchecked.
    """
    digests = record.settings_sha256
    if digests is None:
        return ()
    return tuple(
        name
        for name in record.BOUND_SETTINGS
        if digests.get(name) != setting_sha256(record.model_sha256, name, setting(record, name))
    )
