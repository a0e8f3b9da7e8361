"""What made a segmentation's outputs: the package, each model file (its version and SHA-256)
and the decisions in effect. Every ``--json`` record, CSV row (measurements, an evaluation's
summary) and written picture (maps, comparisons, measurement pictures) carries it, so that a
study can tell which model drew and measured what, long after the camera's model was updated."""

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import PurePath

from edge_runtime import __version__
from edge_runtime.contract.model_card import ModelCard
from edge_runtime.contract.schema import SHA256_TEXT, decode, encode, is_sha256
from edge_runtime.contract.segmenter_config import SegmenterConfig
from edge_runtime.contract.verdict_record import PNG_KEY as VERDICT_PNG_KEY
from edge_runtime.contract.verdict_record import VerdictRecord
from edge_runtime.file_names import FILE_NAME_BYTES, utf8_text

SOFTWARE = f"edge-seg {__version__}"
"""This package, as a :class:`Provenance` and a picture's ``Software`` chunk name it."""

PNG_KEY = "edge-seg"
"""The keyword of the text chunk in which a written picture (a map, a comparison, a
measurement picture) carries its :class:`Provenance`."""

PHOTOGRAPH_KEY = "edge-seg-photograph"
"""The keyword of the text chunk in which a map written by ``segment`` (and a measurement
picture of it) names the photograph it was made of: its :func:`photograph_name`."""

MAX_PHOTOGRAPH_TEXT = FILE_NAME_BYTES * len("\\udcff")
"""The longest :func:`photograph_name` text: a file name's
:data:`~edge_runtime.file_names.FILE_NAME_BYTES` bytes, each one that is not
UTF-8 written as its six-character escape (:func:`~edge_runtime.file_names.utf8_text`)."""


@dataclass(frozen=True)
class ModelIdentity:
    """A model file as a study names it: its card's version (``None`` without a card) and the
    SHA-256 of the file's bytes, as ``sha256sum`` prints it."""

    version: str | None
    sha256: str

    @classmethod
    def of(cls, content: bytes, card: ModelCard | None) -> "ModelIdentity":
        """The identity of a model file's ``content``, whose card is ``card``."""
        version = None if card is None else card.model_version
        return cls(version, hashlib.sha256(content).hexdigest())

    def __post_init__(self):
        if not is_sha256(self.sha256):
            raise ValueError(f"got sha256 {self.sha256[:80]!r}, expected {SHA256_TEXT}")


@dataclass(frozen=True)
class Provenance:
    """What made an output: the package (``software``: ``edge-seg`` and its version), the
    vessel model (``None`` for a predictor that is no model file, as training's Keras twin),
    the segmenter's configuration in effect, every value filled, and the artery/vein model
    chained after it, if any."""

    software: str
    model: ModelIdentity | None
    config: SegmenterConfig
    artery_vein_model: ModelIdentity | None = None

    def text(self) -> str:
        """One line of JSON, as written in a picture's text chunk (:data:`PNG_KEY`)."""
        return json.dumps(encode(self), separators=(",", ":"))

    @classmethod
    def from_text(cls, text: str) -> "Provenance":
        """A provenance read back from :meth:`text`.

        Raises:
            ValueError: the text is not one (not JSON, or a field missing, mistyped or out of
                range; the message names the field).
        """
        return decode(cls, json.loads(text))

    def columns(self) -> dict[str, object]:
        """Its values as a CSV row's :data:`COLUMNS`."""
        values: list[object] = [self.software]
        for name in MODELS:
            model = getattr(self, name)
            values += [None, None] if model is None else [model.version, model.sha256]
        values += [getattr(self.config, name) for name in CONFIG_FIELDS]
        return dict(zip(COLUMNS, values, strict=True))


def photograph_name(source: str) -> str:
    """The photograph as every record names it for a study to join them (``photograph``):
    the file name of ``source``, segment's and verdict's ``path``, without its folders (a map
    is copied between machines, and a folder may be named after a patient)."""
    return PurePath(source).name


def photograph_from_text(text: object) -> str | None:
    """The photograph's name read back from its text chunk (:data:`PHOTOGRAPH_KEY`); ``None``
    for none, or for text that is no file name (empty, ``.`` or ``..``, with a folder or a
    NUL, or longer than :data:`MAX_PHOTOGRAPH_TEXT`): a study may join it to a folder."""
    if not isinstance(text, str) or not 0 < len(text) <= MAX_PHOTOGRAPH_TEXT:
        return None
    return None if text in (".", "..") or "/" in text or "\0" in text else text


def png_text(
    provenance: Provenance | None,
    verdict: VerdictRecord | None = None,
    photograph: str | None = None,
) -> dict[str, str]:
    """The text chunks that say what made a picture written by this package: PNG's own
    ``Software`` (:data:`SOFTWARE`, which drew it) and the ``provenance`` of what it shows
    (:data:`PNG_KEY`; a measurement picture's is its map's, which an older package may have
    made), unless none is known; a map's photograph's ``verdict``
    (:data:`~edge_runtime.contract.verdict_record.PNG_KEY`), when one was made; and the name of
    that ``photograph`` (:data:`PHOTOGRAPH_KEY`), when known, as JSON and CSV write it (a byte
    that is not UTF-8 as its escape, :func:`~edge_runtime.file_names.utf8_text`): Latin-1 text
    in a ``tEXt`` chunk, other text in a UTF-8 ``iTXt`` one."""
    made = {} if provenance is None else {PNG_KEY: provenance.text()}
    judged = {} if verdict is None else {VERDICT_PNG_KEY: verdict.text()}
    named = {} if photograph is None else {PHOTOGRAPH_KEY: utf8_text(photograph)}
    return {"Software": SOFTWARE, **made, **judged, **named}


MODELS = ("model", "artery_vein_model")
"""The fields of a :class:`Provenance` that name a model file."""

CONFIG_FIELDS = tuple(spec.name for spec in dataclasses.fields(SegmenterConfig))
"""The segmenter's settings, each a CSV column ``config_<name>``."""

COLUMNS = (
    "software",
    *(f"{name}_{field}" for name in MODELS for field in ("version", "sha256")),
    *(f"config_{name}" for name in CONFIG_FIELDS),
)
"""A CSV row's columns of a :class:`Provenance` (empty where a map has none)."""
