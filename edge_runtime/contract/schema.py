"""JSON documents to typed dataclasses and back, every field checked on the way in.

The contracts (model card, gate report, training record) are frozen dataclasses whose fields
carry their own bounds (:func:`bounded`). :func:`decode` builds one from parsed JSON, refusing
with one sentence that names the field whatever is missing, mistyped, non-finite or out of
bounds; :func:`encode` turns one back into JSON-ready values. Fields the class does not know are
ignored, so an older reader accepts a newer document's additions.
"""

import dataclasses
import json
import math
import re
import types
import typing
from numbers import Integral, Real
from pathlib import Path
from typing import Any, TypeVar

from edge_runtime.file_names import utf8_text
from edge_runtime.safe_open import open_regular

T = TypeVar("T")

MAX_TEXT = 4096
"""Longest string accepted in a document (names, versions, messages)."""

MAX_ITEMS = 100_000
"""Most items accepted in one list of a document (per-image scores)."""


class SchemaError(ValueError):
    """A document does not fit its contract; the message names the field."""


def bounded(default: Any = dataclasses.MISSING, low: float = -math.inf, high: float = math.inf):
    """A dataclass field whose number (or each number of a list) must lie in [low, high]."""
    return dataclasses.field(default=default, metadata={"bounds": (low, high)})


def choice(default: Any, options: tuple[str, ...]):
    """A dataclass field whose string must be one of ``options``."""
    return dataclasses.field(default=default, metadata={"choices": options})


_SHA256 = re.compile(r"[0-9a-f]{64}")

SHA256_TEXT = "64 hexadecimal digits (lower case)"
"""What a SHA-256 digest is written as, as ``sha256sum`` prints it."""


def is_sha256(text: str) -> bool:
    """Whether ``text`` is a SHA-256 digest as ``sha256sum`` prints it (:data:`SHA256_TEXT`)."""
    return _SHA256.fullmatch(text) is not None


def sha256_digest(default: Any = dataclasses.MISSING):
    """A dataclass field whose string must be a SHA-256 digest (:func:`is_sha256`)."""
    return dataclasses.field(default=default, metadata={"sha256": True})


EXPECTED = {Real: "a number", Integral: "an integer", str: "a name"}
"""What :func:`check_type` calls each kind it checks."""


def check_type(name: str, value: Any, kind: type) -> None:
    """Refuse a value given in code that is neither ``None`` nor of ``kind`` (one of
    :data:`EXPECTED`; a bool is no number: ``stride=True`` is not 1).

    Raises:
        ValueError: the message names ``name``, the value and what was expected.
    """
    if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
        raise ValueError(f"got {name} {value!r}, expected {EXPECTED[kind]}")


def check_choice(name: str, value: Any, options: tuple[str, ...]) -> None:
    """Refuse a value given in code that is not one of ``options`` (what :func:`choice` fields
    are checked against when read).

    Raises:
        ValueError: the message names ``name``, the value and the options.
    """
    if value not in options:
        raise ValueError(f"got {name} {value!r}, expected one of {', '.join(options)}")


def _fail(where: str, got: Any, expected: str) -> typing.NoReturn:
    shown = repr(got)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    raise SchemaError(f"field '{where}': got {shown}, expected {expected}")


def _number(value: Any, kind: type, where: str, bounds: tuple[float, float]) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(where, value, f"a{'n integer' if kind is int else ' number'}")
    if kind is int and not isinstance(value, int):
        if not (math.isfinite(value) and value == int(value)):
            _fail(where, value, "an integer")
        value = int(value)
    try:
        finite = math.isfinite(value)
    except OverflowError:  # JSON's integers have no limit; a float's range is the limit here
        finite = False
    if not finite:
        _fail(where, value, "a finite number")
    low, high = bounds
    if not low <= value <= high:
        _fail(where, value, f"a number in [{low:g}, {high:g}]")
    return kind(value)


def _takes(hint: Any, value: Any) -> bool:
    """Whether ``value`` (parsed JSON) is of the kind a field of type ``hint`` holds, to tell
    which member of a union it is meant for (a bool is no number)."""
    if hint is bool:
        return isinstance(value, bool)
    if hint in (int, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if typing.get_origin(hint) is tuple:
        return isinstance(value, list)
    if typing.get_origin(hint) is dict or dataclasses.is_dataclass(hint):
        return isinstance(value, dict)
    return True


def _decode(hint: Any, value: Any, where: str, bounds: tuple[float, float]) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        kinds = [a for a in args if a is not type(None)]
        taking = [kind for kind in kinds if _takes(kind, value)] or kinds
        return _decode(taking[0], value, where, bounds)  # refused by the first when none takes
    if hint is Any:
        return value
    if dataclasses.is_dataclass(hint):
        return decode(hint, value, where)
    if hint in (int, float):
        return _number(value, hint, where, bounds)
    if hint is bool:
        if not isinstance(value, bool):
            _fail(where, value, "true or false")
        return value
    if hint is str:
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            _fail(where, value, f"a string of at most {MAX_TEXT} characters")
        return value
    if origin is dict and args[0] is str:
        if not isinstance(value, dict) or len(value) > MAX_ITEMS:
            _fail(where, value, f"an object of at most {MAX_ITEMS} items")
        for key in value:
            _decode(str, key, f"{where} key", bounds)
        return {k: _decode(args[1], v, f"{where}.{k}", bounds) for k, v in value.items()}
    if origin is tuple:
        if not isinstance(value, list) or len(value) > MAX_ITEMS:
            _fail(where, value, f"a list of at most {MAX_ITEMS} items")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v, f"{where}[{i}]", bounds) for i, v in enumerate(value))
        if len(value) != len(args):
            _fail(where, value, f"a list of {len(args)} items")
        pairs = enumerate(zip(args, value, strict=True))
        return tuple(_decode(a, v, f"{where}[{i}]", bounds) for i, (a, v) in pairs)
    raise TypeError(f"{where}: unsupported field type {hint!r}")


MAX_RECORD_BYTES = 4 * 2**20
"""Largest JSON record read (a run's record is a few kilobytes)."""


def read_record(cls: type[T], path: Path, what: str) -> T:
    """A ``cls`` instance from the JSON file ``path`` (``what`` it is, for messages), every
    field checked.

    Raises:
        ValueError: the file is missing, not a regular file, empty, larger than
            :data:`MAX_RECORD_BYTES` or unreadable (an :class:`InputError`), or not JSON, nested
            too deep, or a field is missing, mistyped or out of bounds; the message names the
            file (and the field).
    """
    with open_regular(path, what, MAX_RECORD_BYTES) as f:
        raw = f.read(MAX_RECORD_BYTES + 1)
    try:
        return decode(cls, json.loads(raw))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(f"{path}: {exc}") from None


def decode(cls: type[T], document: Any, where: str = "") -> T:
    """A ``cls`` instance from a parsed JSON object, every field checked.

    Raises:
        SchemaError: a required field is missing, or a field has the wrong type, is not finite,
            or is out of its bounds.
    """
    if not isinstance(document, dict):
        _fail(where or cls.__name__, document, "an object")
    hints = typing.get_type_hints(cls)
    values = {}
    for spec in dataclasses.fields(cls):
        if not spec.init:
            continue
        name = f"{where}.{spec.name}" if where else spec.name
        if spec.name not in document:
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise SchemaError(f"field '{name}' is missing")
            continue
        bounds = spec.metadata.get("bounds", (-math.inf, math.inf))
        value = _decode(hints[spec.name], document[spec.name], name, bounds)
        options = spec.metadata.get("choices")
        if options and value is not None and value not in options:
            _fail(name, value, f"one of {', '.join(options)}")
        if spec.metadata.get("sha256") and value is not None and not is_sha256(value):
            _fail(name, value, SHA256_TEXT)
        values[spec.name] = value
    return cls(**values)


def json_text(value: Any, indent: int | None = None) -> str:
    """What the package writes as JSON for others to read (``--json`` lines, reports):
    ``value`` (JSON-ready, :func:`encode` makes it so) as strict JSON, no NaN or infinity.

    A file name's bytes that are not UTF-8 are written as messages and CSV files show them
    (:func:`~edge_runtime.file_names.utf8_text`: ``caf\\udce9.png`` for latin-1's
    ``caf\\xe9.png``), never as JSON's escape of a lone surrogate.

    Raises:
        ValueError: a number is not finite.
    """
    return json.dumps(_utf8(value), allow_nan=False, indent=indent)


def _utf8(value: Any) -> Any:
    """JSON-ready ``value`` with every string (and key) as :func:`utf8_text` writes it."""
    if isinstance(value, str):
        return utf8_text(value)
    if isinstance(value, dict):
        return {_utf8(k): _utf8(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_utf8(v) for v in value]
    return value


def encode(value: Any) -> Any:
    """JSON-ready values of a dataclass (tuples become lists; key order is field order)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [encode(v) for v in value]
    return value
