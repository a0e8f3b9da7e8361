"""Make signing keys and sign models, as the device checks them.

Host side; it needs only ``cryptography``, a base dependency. The device checks signatures with
:mod:`edge_runtime.inference.signatures`.
"""

import base64
import json
import os
import warnings
from pathlib import Path

from edge_runtime.atomic import atomic_path, folders_removed_on_failure
from edge_runtime.contract.schema import encode
from edge_runtime.errors import InputError, OutputError, UnreadableError, first_line
from edge_runtime.inference.model_file import read_card, read_model_bytes
from edge_runtime.inference.signatures import (
    Signature,
    canonical,
    key_id,
    read_key_file,
    read_signature,
    signature_named,
    statement_for,
)


def warn_if_signed_before(model: Path, why: str) -> None:
    """Warn that ``model``'s signature file, if any, signed the bytes before ``why``."""
    signature = signature_named(model)
    if os.path.lexists(signature):
        warnings.warn(
            f"{signature}: signed {model}'s bytes before {why}, so it no longer verifies: sign "
            "the model again",
            stacklevel=3,
        )


def _refuse_another_keys(target: Path, signature: Signature) -> None:
    """Refuse to replace ``target``, a signature of these bytes by another key or unreadable.

    One that cannot be read may be another key's.

    Raises:
        InputError: it is one, or cannot be read.
    """
    if not os.path.lexists(target):
        return
    try:
        earlier = read_signature(target)
    except UnreadableError as exc:  # not known to be damaged: it may be the release key's
        raise InputError(
            f"{exc}, so whose it is cannot be told; pass --overwrite to replace it"
        ) from None
    except InputError:  # damaged: nothing to keep
        return
    same_bytes = earlier.statement.model_sha256 == signature.statement.model_sha256
    if same_bytes and earlier.key_id != signature.key_id:
        raise InputError(
            f"{target}: already signs this model, by key {earlier.key_id}; pass --overwrite to "
            f"replace it with key {signature.key_id}'s"
        )


def make_key_pair(private: Path, public: Path) -> str:
    """Write a new Ed25519 key pair, both files or neither, and return its key id.

    A failed write leaves neither key, nor the folders made for them. The private key is PEM,
    PKCS#8, readable by its owner only; the public key (PEM) is the one the cameras trust.

    Raises:
        InputError: both paths lead to the same file.
        OutputError: a key file exists already, or cannot be written.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if os.path.realpath(private) == os.path.realpath(public):
        raise InputError(f"{public}: got the same file for the private and the public key")
    for path in (private, public):
        if os.path.lexists(path):
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
    with folders_removed_on_failure(private.parent, public.parent):
        _create(private, private_pem, 0o600)
        try:
            _create(public, public_pem, 0o644)
        except BaseException:
            private.unlink()  # a private key without its public half would only mislead
            raise
    return key_id(key.public_key())


def _create(path: Path, data: bytes, mode: int) -> None:
    """Write a new file, never replacing one, not even one made since it was looked for.

    A failed write leaves nothing.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise _cannot_write(path, exc) from None


def _write(path: Path, data: bytes, mode: int) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.touch(mode=mode)
            tmp.write_bytes(data)
    except OSError as exc:
        raise _cannot_write(path, exc) from None


def _cannot_write(path: Path, exc: OSError) -> OutputError:
    if isinstance(exc, (FileExistsError, NotADirectoryError)) and not path.parent.is_dir():
        return OutputError(f"{path}: cannot write (a folder on its path is a file)")
    return OutputError(f"{path}: cannot write ({exc.strerror or exc})")


def load_private_key(path: Path):
    """An Ed25519 private key from a PEM file that holds it alone.

    Raises:
        InputError: unreadable, several keys, or not an unencrypted Ed25519 private key.
    """
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    data = read_key_file(path, "private")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InputError(f"{path}: not a PEM private key ({first_line(exc)})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{path}: not an Ed25519 private key")
    return key


def sign_model(model: Path, private: Path, *, overwrite: bool) -> tuple[Path, Signature]:
    """Sign a model file with a private key: ``MODEL.sig`` beside it, written atomically.

    A signature there of other bytes (the model converted again), or a damaged one, is
    replaced; one of these bytes by another key (the release key's, say), or one that cannot be
    read, only with ``overwrite``.

    Raises:
        InputError: the model or the key cannot be used, another key signed the model, or its
            signature there cannot be read.
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
    target = signature_named(model)
    if not overwrite:
        _refuse_another_keys(target, signature)
    _write(target, (json.dumps(encode(signature), indent=1) + "\n").encode(), 0o644)
    return target, signature
