"""A .tflite model file: read with bounds, and the model card embedded in it (standard library
only: no TensorFlow, no flatbuffers package)."""

import hashlib
import struct
from pathlib import Path

from edge_runtime.contract.model_card import METADATA_NAME, ModelCard
from edge_runtime.errors import InputError, ModelError
from edge_runtime.safe_open import open_regular

MAX_MODEL_BYTES = 64 * 2**20
"""Largest model file read (64 MiB). Ours are about 100 KiB, an Edge TPU build a few MiB; a
bigger file is not a model of this package, and reading it whole would cost its size in memory."""


def read_model_bytes(model: str | Path) -> bytes:
    """The bytes of a model file, checked to be a TFLite flatbuffer ('TFL3' identifier), read
    with :func:`~edge_runtime.safe_open.open_regular` (at most :data:`MAX_MODEL_BYTES`).

    Raises:
        ModelError: missing, not a regular file, too large, unreadable, or not a TFLite model.
    """
    path = Path(model)
    try:
        with open_regular(path, "a .tflite model file", MAX_MODEL_BYTES) as f:
            content = f.read(MAX_MODEL_BYTES + 1)
    except InputError as exc:
        raise ModelError(str(exc).replace(": no such file", ": no such model file")) from None
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the model ({exc.strerror or exc})") from None
    if len(content) > MAX_MODEL_BYTES:
        raise ModelError(f"{path}: grew beyond {MAX_MODEL_BYTES // 2**20} MiB while read")
    if len(content) < 8 or content[4:8] != b"TFL3":
        raise ModelError(f"{path}: not a TFLite model (no 'TFL3' flatbuffer identifier)")
    return content


class _Table:
    """A flatbuffer table: fields are looked up through its vtable."""

    def __init__(self, buf: bytes, pos: int):
        self.buf, self.pos = buf, pos
        self.vtable = pos - struct.unpack_from("<i", buf, pos)[0]
        if not 0 <= self.vtable < len(buf):
            raise IndexError(f"vtable at {self.vtable} outside the file")
        self.vtable_size = struct.unpack_from("<H", buf, self.vtable)[0]

    def _offset(self, field: int) -> int:
        entry = 4 + 2 * field
        if entry >= self.vtable_size:
            return 0
        return struct.unpack_from("<H", self.buf, self.vtable + entry)[0]

    def scalar(self, field: int, fmt: str, default: int = 0) -> int:
        offset = self._offset(field)
        return struct.unpack_from(fmt, self.buf, self.pos + offset)[0] if offset else default

    def _indirect(self, field: int) -> int | None:
        offset = self._offset(field)
        if not offset:
            return None
        at = self.pos + offset
        return at + struct.unpack_from("<I", self.buf, at)[0]

    def vector(self, field: int) -> tuple[int, int]:
        """(position of the first element, length); (0, 0) when absent."""
        at = self._indirect(field)
        return (0, 0) if at is None else (at + 4, struct.unpack_from("<I", self.buf, at)[0])

    def tables(self, field: int) -> list["_Table"]:
        start, length = self.vector(field)
        if start + 4 * length > len(self.buf):
            raise IndexError(f"a vector of {length} tables runs past the end of the file")
        positions = (start + 4 * i for i in range(length))
        return [_Table(self.buf, p + struct.unpack_from("<I", self.buf, p)[0]) for p in positions]

    def bytes(self, field: int) -> bytes:
        start, length = self.vector(field)
        return self.buf[start : start + length]


def _buffer_span(buffer: _Table) -> tuple[int, int]:
    """(start, end) of a buffer's bytes in the file: inline, or at an offset (large models)."""
    start, length = buffer.vector(0)
    if not length:
        offset, size = buffer.scalar(1, "<Q"), buffer.scalar(2, "<Q")
        if offset > 1:
            start, length = offset, size
    return start, start + length


def card_span(content: bytes) -> tuple[int, int] | None:
    """(start, end) of the embedded card's bytes in a model's bytes, or ``None`` without one.

    Raises:
        ValueError: the flatbuffer is malformed.
    """
    try:
        model = _Table(content, struct.unpack_from("<I", content, 0)[0])
        entries = [(m.bytes(0), m.scalar(1, "<I")) for m in model.tables(6)]
        for name, index in entries:
            if name == METADATA_NAME.encode():
                start, end = _buffer_span(model.tables(4)[index])
                if not 0 <= start <= end <= len(content):
                    raise IndexError(f"the card's buffer {start}..{end} lies outside the file")
                return start, end
    except (struct.error, IndexError) as exc:
        raise ValueError(f"malformed model flatbuffer ({exc})") from None
    return None


def card_text(content: bytes) -> bytes | None:
    """The raw embedded card of a model's bytes, or ``None`` when it has none.

    Raises:
        ValueError: the flatbuffer is malformed.
    """
    span = card_span(content)
    return None if span is None else content[span[0] : span[1]]


ZERO_DIGEST = "0" * 64
"""What a model's recorded digest is taken as while the digest is computed."""


def digest_field(digest: str) -> bytes:
    """How a card's JSON (sorted keys, default separators) spells its digest."""
    return f'"model_sha256": "{digest}"'.encode()


def model_digest(content: bytes, card: ModelCard) -> str:
    """SHA-256 of a model file with the digest its card records written as zeros: every byte
    counts, the card's own included, so a change anywhere changes the digest.

    Raises:
        ValueError: the card's text does not spell its digest as it was written.
    """
    start, end = card_span(content)
    recorded = digest_field(card.model_sha256 or ZERO_DIGEST)
    at = content.find(recorded, start, end)
    if at < 0:
        raise ValueError("damaged: its model card does not spell the digest it records")
    blank = content[:at] + digest_field(ZERO_DIGEST) + content[at + len(recorded) :]
    return hashlib.sha256(blank).hexdigest()


def read_card(content: bytes) -> ModelCard | None:
    """The checked model card of a model's bytes, or ``None`` when it carries none.

    A card that records the model's digest (``model_sha256``, written by ``convert`` since
    format 2) must match it: a file damaged anywhere (a flipped bit on an SD card) is refused
    before an interpreter ever reads it.

    Raises:
        ValueError: the flatbuffer is malformed, the card is not valid (the message names the
            field), or the file does not match its digest.
    """
    text = card_text(content)
    if text is None:
        return None
    card = ModelCard.from_json(text)
    if card.model_sha256 is not None and model_digest(content, card) != card.model_sha256:
        raise ValueError("damaged: its bytes do not match the SHA-256 its model card records")
    return card
