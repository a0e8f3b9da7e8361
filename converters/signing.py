"""Make signing keys and sign models (host side; needs only ``cryptography``, a base
dependency): what the device checks with :mod:`edge_runtime.inference.signatures`."""

import base64
import json
from pathlib import Path

from edge_runtime.atomic import atomic_path
from edge_runtime.contract.schema import encode
from edge_runtime.errors import InputError, OutputError, first_line
from edge_runtime.inference.model_file import read_card, read_model_bytes
from edge_runtime.inference.signatures import (
    MAX_KEY_BYTES,
    SIGNATURE_SUFFIX,
    Signature,
    canonical,
    key_id,
    statement_for,
)
from edge_runtime.safe_open import open_regular


def make_key_pair(private: Path, public: Path) -> str:
    """Write a new Ed25519 key pair: the private key (PEM, PKCS#8, readable by its owner only)
    and the public key (PEM) the cameras trust; returns the key id.

    Raises:
        OutputError: a key file exists already, or cannot be written.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    for path in (private, public):
        if path.exists():
            raise OutputError(f"{path}: exists already; a key is never overwritten")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write(public, public_pem, 0o644)
    _write(private, private_pem, 0o600)
    return key_id(key.public_key())


def _write(path: Path, data: bytes, mode: int) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.touch(mode=mode)
            tmp.write_bytes(data)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None


def load_private_key(path: Path):
    """An Ed25519 private key from a PEM file.

    Raises:
        InputError: unreadable, or not an unencrypted Ed25519 private key.
    """
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    with open_regular(path, "a private key file", MAX_KEY_BYTES) as f:
        data = f.read(MAX_KEY_BYTES + 1)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InputError(f"{path}: not a PEM private key ({first_line(exc)})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{path}: not an Ed25519 private key")
    return key


def sign_model(model: Path, private: Path) -> tuple[Path, Signature]:
    """Sign a model file with a private key: ``MODEL.sig`` beside it, written atomically.

    Raises:
        InputError: the model or the key cannot be used.
        OutputError: the signature cannot be written.
    """
    key = load_private_key(private)
    content = read_model_bytes(model)
    try:
        card = read_card(content)
    except ValueError as exc:
        raise InputError(f"{model}: {exc}") from None
    statement = statement_for(content, card)
    signature = Signature(
        statement=statement,
        key_id=key_id(key.public_key()),
        signature=base64.b64encode(key.sign(canonical(statement))).decode(),
    )
    target = model.with_name(model.name + SIGNATURE_SUFFIX)
    _write(target, (json.dumps(encode(signature), indent=1) + "\n").encode(), 0o644)
    return target, signature
