"""A .tflite model file: read with bounds, and the model card embedded in it (standard library
only: no TensorFlow, no flatbuffers package)."""

import os
import stat
import struct
from pathlib import Path

from edge_runtime.contract.model_card import METADATA_NAME, ModelCard
from edge_runtime.errors import InputError

MAX_MODEL_BYTES = 64 * 2**20
"""Largest model file read (64 MiB). Ours are about 100 KiB, an Edge TPU build a few MiB; a
bigger file is not a model of this package, and reading it whole would cost its size in memory."""


def read_model_bytes(model: str | Path) -> bytes:
    """The bytes of a model file, checked to be a TFLite flatbuffer ('TFL3' identifier).

    Only a regular file is opened (a FIFO or a device would block or never end), and at most
    :data:`MAX_MODEL_BYTES` are read.

    Raises:
        InputError: missing, not a regular file, too large, unreadable, or not a TFLite model.
    """
    path = Path(model)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{path}: is a directory, expected a .tflite model file")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path}: not a regular file, expected a .tflite model file")
        if info.st_size > MAX_MODEL_BYTES:
            raise InputError(
                f"{path}: {info.st_size / 2**20:.0f} MiB is larger than any model of ours "
                f"(limit {MAX_MODEL_BYTES // 2**20} MiB)"
            )
        with open(path, "rb", opener=_nonblocking) as f:
            content = f.read(MAX_MODEL_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"{path}: no such model file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the model ({exc.strerror or exc})") from None
    if len(content) > MAX_MODEL_BYTES:
        raise InputError(f"{path}: grew beyond {MAX_MODEL_BYTES // 2**20} MiB while read")
    if len(content) < 8 or content[4:8] != b"TFL3":
        raise InputError(f"{path}: not a TFLite model (no 'TFL3' flatbuffer identifier)")
    return content


def _nonblocking(path: str, flags: int) -> int:
    """Open without blocking: a file swapped for a FIFO after the check fails instead of hanging."""
    return os.open(path, flags | os.O_NONBLOCK)


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


def _buffer_bytes(content: bytes, buffer: _Table) -> bytes:
    data = buffer.bytes(0)
    offset, size = buffer.scalar(1, "<Q"), buffer.scalar(2, "<Q")
    return content[offset : offset + size] if not data and offset > 1 else data


def card_text(content: bytes) -> bytes | None:
    """The raw embedded card of a model's bytes, or ``None`` when it has none.

    Raises:
        ValueError: the flatbuffer is malformed.
    """
    try:
        model = _Table(content, struct.unpack_from("<I", content, 0)[0])
        entries = [(m.bytes(0), m.scalar(1, "<I")) for m in model.tables(6)]
        for name, index in entries:
            if name == METADATA_NAME.encode():
                return _buffer_bytes(content, model.tables(4)[index])
    except (struct.error, IndexError) as exc:
        raise ValueError(f"malformed model flatbuffer ({exc})") from None
    return None


def read_card(content: bytes) -> ModelCard | None:
    """The checked model card of a model's bytes, or ``None`` when it carries none.

    Raises:
        ValueError: the flatbuffer is malformed, or the card is not valid (the message names the
            field).
    """
    text = card_text(content)
    return None if text is None else ModelCard.from_json(text)
