"""The JSON document our converter embeds in a .tflite file, read with the standard library only.

The document is stored in the flatbuffer's ``metadata`` list under :data:`METADATA_NAME`, pointing
at a buffer of UTF-8 JSON. A model without it still runs, with :data:`DEFAULTS` (the reference
notebook's settings) and a warning.
"""

import json
import struct
from dataclasses import dataclass

from edge_runtime.metrics import DEFAULT_THRESHOLD
from edge_runtime.preprocessing import PATCH_SIZE, PREPROCESSING_NAME

METADATA_NAME = "edge_seg_metadata"
FORMAT_VERSION = 1

FOV_DIAMETER = 540.0
"""Field-of-view diameter (pixels) of the training photographs. The reference patches are tiles
of DRIVE-sized photographs (565x584, a disc about 540 pixels across): rows of the patch set span
5-8 whole tiles of 64 pixels."""

DEFAULTS = {
    "format_version": FORMAT_VERSION,
    "patch_size": PATCH_SIZE,
    "preprocessing": {"name": PREPROCESSING_NAME},
    "threshold": DEFAULT_THRESHOLD,
    "fov_diameter": FOV_DIAMETER,
}
"""Settings assumed for a model that carries no metadata of ours."""


@dataclass(frozen=True)
class ModelSettings:
    """What the runtime needs from the metadata, with defaults filled in."""

    patch_size: int
    preprocessing: str
    threshold: float
    fov_diameter: float
    has_metadata: bool


class _Table:
    """A flatbuffer table: fields are looked up through its vtable."""

    def __init__(self, buf: bytes, pos: int):
        self.buf, self.pos = buf, pos
        self.vtable = pos - struct.unpack_from("<i", buf, pos)[0]
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
        positions = (start + 4 * i for i in range(length))
        return [_Table(self.buf, p + struct.unpack_from("<I", self.buf, p)[0]) for p in positions]

    def bytes(self, field: int) -> bytes:
        start, length = self.vector(field)
        return self.buf[start : start + length]


def _buffer_bytes(content: bytes, buffer: _Table) -> bytes:
    data = buffer.bytes(0)
    offset, size = buffer.scalar(1, "<Q"), buffer.scalar(2, "<Q")
    return content[offset : offset + size] if not data and offset > 1 else data


def read_metadata(content: bytes) -> dict | None:
    """The embedded JSON document of a .tflite model's bytes, or ``None`` when it has none.

    Raises:
        ValueError: the document is present but is not valid JSON, or the flatbuffer is malformed.
    """
    try:
        model = _Table(content, struct.unpack_from("<I", content, 0)[0])
        entries = [(m.bytes(0).decode(), m.scalar(1, "<I")) for m in model.tables(6)]
        buffers = model.tables(4)
        for name, index in entries:
            if name == METADATA_NAME:
                return json.loads(_buffer_bytes(content, buffers[index]).decode("utf-8"))
    except (struct.error, IndexError, UnicodeDecodeError) as exc:
        raise ValueError(f"malformed model flatbuffer ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"embedded {METADATA_NAME} is not valid JSON ({exc})") from None
    return None


def model_settings(metadata: dict | None) -> ModelSettings:
    """Runtime settings from a metadata document, the :data:`DEFAULTS` filling what is missing."""
    merged = {**DEFAULTS, **(metadata or {})}
    return ModelSettings(
        patch_size=int(merged["patch_size"]),
        preprocessing=str(merged["preprocessing"]["name"]),
        threshold=float(merged["threshold"]),
        fov_diameter=float(merged["fov_diameter"]),
        has_metadata=metadata is not None,
    )
