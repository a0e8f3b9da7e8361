"""Signed models: a detached Ed25519 signature beside each model file, checked against the
camera maker's public keys before an interpreter ever reads the model.

``MODEL.tflite.sig`` is a small JSON document: the statement that was signed (the model file's
SHA-256, and from its model card the model version and the gate's verdict, so that what ``info``
shows is what was signed) and the signature over that statement, with the id of the key that
made it. Keys are Ed25519 (``cryptography``, PyCA's library: wheels for every platform we run
on, no network); a public key's id is the first 16 hex digits of the SHA-256 of its 32 bytes.
A key file holds one key (PEM); several keys are trusted as several files.

Trusted keys are a setting that fails closed: unset, any model runs as before signatures; set,
even to an empty value or a folder without usable keys, it is a folder of keys or an error.
"""

import base64
import binascii
import enum
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.contract.model_card import ModelCard
from edge_runtime.contract.schema import SchemaError, bounded, decode, encode
from edge_runtime.errors import InputError, ModelError, first_line
from edge_runtime.safe_open import open_regular

SIGNATURE_SUFFIX = ".sig"
TRUSTED_KEYS_ENV = "EDGE_SEG_TRUSTED_KEYS"
"""A folder of trusted public keys (``*.pub``), for the device commands and the API alike; set
but empty, it is refused (never taken as "no verification")."""


class _Unchecked(enum.Enum):
    UNCHECKED = "unchecked"


UNCHECKED = _Unchecked.UNCHECKED
"""Trusted keys that check nothing, whatever ``$EDGE_SEG_TRUSTED_KEYS`` says: for the gate on a
model just converted, which cannot be signed yet."""

TrustedKeys = str | Path | _Unchecked | None
"""A folder of trusted public keys, ``None`` for ``$EDGE_SEG_TRUSTED_KEYS``, or
:data:`UNCHECKED`."""

MAX_SIGNATURE_BYTES = 64 * 1024
MAX_KEY_BYTES = 16 * 1024

_PEM_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,64})-----")


@dataclass(frozen=True)
class Statement:
    """What a signature vouches for."""

    model_sha256: str
    model_version: str | None = None
    gate_passed: bool | None = None
    format: int = bounded(1, 1, 1)


@dataclass(frozen=True)
class Signature:
    """A signature file: the ``statement``, and the ``signature`` (base64) over its canonical
    JSON by the key ``key_id``."""

    statement: Statement
    key_id: str
    signature: str
    algorithm: str = "ed25519"


def canonical(statement: Statement) -> bytes:
    """The bytes a signature is made over."""
    return json.dumps(encode(statement), sort_keys=True, separators=(",", ":")).encode()


def key_id(public_key) -> str:
    """The id of an Ed25519 public key."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def statement_for(content: bytes, card: ModelCard | None) -> Statement:
    """The statement that signs a model's bytes (and, for a reader's convenience, its card's
    version and gate verdict, which those bytes hold)."""
    return Statement(
        model_sha256=hashlib.sha256(content).hexdigest(),
        model_version=card.model_version if card else None,
        gate_passed=card.gate.passed if card and card.gate else None,
    )


def signature_named(model: Path) -> Path:
    """The signature file named after ``model`` in its folder (``m.tflite.sig``), a link not
    followed: where signing writes it."""
    return model.with_name(model.name + SIGNATURE_SUFFIX)


def signature_path(model: Path) -> Path:
    """Where a model's signature lies: beside the file itself (a symbolic link such as
    ``current.tflite`` is followed, so rolling back by relinking keeps the signature found)."""
    beside = signature_named(Path(os.path.realpath(model)))
    given = signature_named(model)
    return beside if beside.exists() or not given.exists() else given


def signature_of(model: Path, content: bytes) -> Signature | None:
    """The signature file beside ``model``, checked to be a signature document over ``content``
    (the bytes of ``model``) but not for its validity, which takes the signer's key; ``None``
    when there is none.

    Raises:
        ModelError: a malformed signature file, or one over other bytes (one line naming the
            model file).
    """
    path = signature_path(model)
    if not os.path.lexists(path):
        return None
    try:
        signature = read_signature(path)
    except InputError as exc:
        raise ModelError(f"{model}: {exc}") from None
    if signature.statement.model_sha256 != hashlib.sha256(content).hexdigest():
        raise ModelError(
            f"{model}: its bytes are not the ones {path.name} signs (damaged, or replaced)"
        )
    return signature


def read_signature(path: Path) -> Signature:
    """Read and check a signature file's shape.

    Raises:
        InputError: missing, or not a signature document.
        UnreadableError: it cannot be read (:func:`~edge_runtime.safe_open.open_regular`).
    """
    with open_regular(path, "a signature file", MAX_SIGNATURE_BYTES) as f:
        data = f.read(MAX_SIGNATURE_BYTES + 1)
    try:
        return decode(Signature, json.loads(data))
    except (SchemaError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InputError(f"{path}: not a signature file ({exc})") from None


def read_key_file(path: Path, kind: str) -> bytes:
    """The bytes of a key file that holds at most one PEM block, a ``kind`` ("public" or
    "private") key's.

    Raises:
        InputError: unreadable, empty or too large, several PEM blocks (which one would be
            meant?), or a block of another kind (a private key where a public one belongs).
    """
    with open_regular(path, f"a {kind} key file", MAX_KEY_BYTES) as f:
        data = f.read(MAX_KEY_BYTES + 1)
    labels = [label.decode() for label in _PEM_BEGIN.findall(data)]
    if len(labels) > 1:
        raise InputError(
            f"{path}: got {len(labels)} PEM blocks ({', '.join(labels)}), expected one {kind} "
            "key per file"
        )
    if labels and not labels[0].endswith(f"{kind.upper()} KEY"):
        raise InputError(f"{path}: got a PEM {labels[0]}, expected a {kind} key")
    return data


def load_public_key(path: Path):
    """An Ed25519 public key from a PEM file that holds it alone.

    Raises:
        InputError: unreadable, several keys, or not an Ed25519 public key.
    """
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    data = read_key_file(path, "public")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InputError(f"{path}: not a PEM public key ({first_line(exc)})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"{path}: not an Ed25519 public key")
    return key


def trusted_keys(folder: Path) -> dict[str, object]:
    """The public keys (``*.pub``) of a folder, by id.

    Raises:
        InputError: not a folder, no keys in it, or a key file that cannot be read.
    """
    if not folder.is_dir():
        found = "no such folder" if not os.path.lexists(folder) else "not a folder"
        raise InputError(f"{folder}: {found}, expected a folder of trusted public keys (*.pub)")
    keys = {key_id(k): k for k in (load_public_key(p) for p in sorted(folder.glob("*.pub")))}
    if not keys:
        raise InputError(f"{folder}: no public keys (*.pub) to trust")
    return keys


def verify_model(model: Path, content: bytes, keys: dict) -> Signature:
    """Check that ``content`` (the bytes of ``model``) carries a valid signature by one of
    ``keys`` over these very bytes; nothing else of the model is read before.

    Raises:
        ModelError: no signature, a malformed one, an unknown key, an invalid signature, or a
            signature of other bytes (one line naming the model file).
    """
    from cryptography.exceptions import InvalidSignature

    signature = signature_of(model, content)
    path = signature_path(model)
    if signature is None:
        raise ModelError(f"{model}: unsigned (no {path.name}), and only signed models may run")
    key = keys.get(signature.key_id)
    if key is None:
        raise ModelError(f"{model}: signed by key {signature.key_id}, which is not trusted here")
    try:
        raw = base64.b64decode(signature.signature, validate=True)
        key.verify(raw, canonical(signature.statement))
    except (InvalidSignature, binascii.Error, ValueError):
        raise ModelError(f"{model}: the signature in {path.name} is not valid") from None
    return signature


def configured_keys(folder: "TrustedKeys") -> dict | None:
    """The trusted keys of ``folder``, else (``None``) of ``$EDGE_SEG_TRUSTED_KEYS``; ``None``
    only when the variable is unset (any model may run, as before signatures) or ``folder`` is
    :data:`UNCHECKED`.

    Raises:
        InputError: the setting is empty or blank (a unit file whose variable is unset, say;
            a ``Path("")``, which is ``Path(".")``, too), or names no usable keys
            (:func:`trusted_keys`): verification is never turned off by a setting that is
            there.
    """
    if folder is UNCHECKED:
        return None
    setting = "trusted keys"
    if folder is None:
        folder = os.environ.get(TRUSTED_KEYS_ENV)
        if folder is None:
            return None
        setting = f"${TRUSTED_KEYS_ENV}"
    if not str(folder).strip() or (isinstance(folder, os.PathLike) and Path(folder) == Path()):
        # Path("") is Path("."): a blank setting once made the current folder's keys trusted
        raise InputError(
            f"{setting}: got {str(folder)!r}, expected a folder of trusted public keys (*.pub) "
            "(an empty setting does not turn verification off; name the current folder as a "
            "string, '.', if it is the one meant)"
        )
    return trusted_keys(Path(folder))
