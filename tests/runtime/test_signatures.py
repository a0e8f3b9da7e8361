"""Signed models: with trusted keys, only a model signed by one of them runs, checked before any
interpreter sees its bytes; without, everything is as before."""

import base64
import json
import shutil

import pytest
from click.testing import CliRunner
from PIL import Image

from edge_runtime.cli.main import cli
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.inference.bundled import DEFAULT_MODEL


def run(*args, expect=0):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == expect, result.output
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def signed(tmp_path):
    """A signed copy of the bundled model, the trusted keys folder, and a photograph."""
    keys = tmp_path / "keys"
    run("keygen", "--private", tmp_path / "maker.key", "--public", keys / "maker.pub")
    model = tmp_path / "m.tflite"
    shutil.copy(DEFAULT_MODEL, model)
    run("sign", model, "--key", tmp_path / "maker.key")
    photo = tmp_path / "p.png"
    Image.fromarray(synthetic_fundus(150, 160)).save(photo)
    return model, keys, photo


@pytest.fixture
def no_interpreter(monkeypatch):
    """Any interpreter made while this is in force fails the test."""
    import ai_edge_litert.interpreter as backend

    def refuse(*args, **kwargs):
        raise AssertionError("an interpreter was made for a model that should be refused")

    monkeypatch.setattr(backend, "Interpreter", refuse)


def _segment(model, keys, photo, out, expect=0):
    return run("segment", photo, "--model", model, "--trusted-keys", keys, "-o", out,
               expect=expect)  # fmt: skip


def test_a_good_signature_runs_and_info_says_who_signed(signed, tmp_path):
    model, keys, photo = signed
    _segment(model, keys, photo, tmp_path / "out")
    assert (tmp_path / "out" / "p_mask.png").exists()
    report = json.loads(run("info", "--model", model, "--trusted-keys", keys, "--json").stdout)
    signature = json.loads(model.with_name("m.tflite.sig").read_text())
    assert report["signed_by"] == signature["key_id"] and report["signature_verified"] is True
    assert signature["statement"]["model_version"] == "1.1.0"
    assert signature["statement"]["gate_passed"] is True


def _one_line(result, text):
    assert result.output.startswith("Error: ") and text in result.output
    assert result.output.count("\n") == 1


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("flip", "its bytes are not the ones m.tflite.sig signs"),
        ("truncate-signature", "{sig}: not a signature file"),
        ("other-model", "its bytes are not the ones m.tflite.sig signs"),
        ("forged", "the signature in m.tflite.sig is not valid"),
        ("unsigned", "unsigned (no m.tflite.sig), and only signed models may run"),
    ],
)
def test_what_is_refused_before_any_interpreter(signed, tmp_path, no_interpreter, damage, message):
    model, keys, photo = signed
    sig = model.with_name("m.tflite.sig")
    if damage == "flip":
        content = bytearray(model.read_bytes())
        content[60000] ^= 0x01
        model.write_bytes(bytes(content))
    elif damage == "truncate-signature":
        sig.write_bytes(sig.read_bytes()[:40])
    elif damage == "other-model":
        other = tmp_path / "other.tflite"
        shutil.copy(DEFAULT_MODEL, other)
        content = bytearray(other.read_bytes())
        content[-1] ^= 0x01  # another model: its own bytes, signed properly
        model.write_bytes(bytes(content))
    elif damage == "forged":
        document = json.loads(sig.read_text())
        document["statement"]["model_version"] = "9.9.9"  # the signature no longer fits
        sig.write_text(json.dumps(document))
    else:
        sig.unlink()
    expected = f"{model}: {message.format(sig=sig)}"
    _one_line(_segment(model, keys, photo, tmp_path / "out", expect=2), expected)
    assert not (tmp_path / "out").exists()


def test_an_unknown_key_is_refused(signed, tmp_path, no_interpreter):
    model, _, photo = signed
    other_keys = tmp_path / "other-keys"
    run("keygen", "--private", tmp_path / "other.key", "--public", other_keys / "other.pub")
    result = _segment(model, other_keys, photo, tmp_path / "out", expect=2)
    _one_line(result, "which is not trusted here")


def _with_unknown_algorithm(public_pem: str) -> str:
    """The PEM of a public key, its algorithm changed to one no library knows (1.3.101.99)."""
    der = base64.b64decode("".join(public_pem.strip().splitlines()[1:-1]))
    der = der.replace(bytes([6, 3, 0x2B, 0x65, 0x70]), bytes([6, 3, 0x2B, 0x65, 0x63]))
    body = base64.b64encode(der).decode()
    return f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n"


@pytest.mark.parametrize("damage", ["not base64", "unknown algorithm"])
def test_a_malformed_key_file_is_one_line_naming_it(signed, tmp_path, no_interpreter, damage):
    model, keys, photo = signed
    (keys / "broken.pub").write_text(
        "-----BEGIN PUBLIC KEY-----\nnot base64\n"
        if damage == "not base64"
        else _with_unknown_algorithm((keys / "maker.pub").read_text())
    )
    result = _segment(model, keys, photo, tmp_path / "out", expect=2)
    _one_line(result, f"{keys / 'broken.pub'}: not a PEM public key")


def test_without_trusted_keys_an_unsigned_model_runs_as_before(signed, tmp_path):
    model, _, photo = signed
    model.with_name("m.tflite.sig").unlink()
    run("segment", photo, "--model", model, "-o", tmp_path / "out")
    report = json.loads(run("info", "--model", model, "--json").stdout)
    assert report["signed_by"] is None and report["signature_verified"] is None
    assert report["signature_issue"] is None
    model.with_name("m.tflite.sig").write_text("{damaged")  # info says so, not "unsigned"
    assert "signed:       unreadable signature (" in run("info", "--model", model).stdout


def test_the_environment_variable_turns_verification_on(signed, tmp_path, monkeypatch):
    model, keys, photo = signed
    monkeypatch.setenv("EDGE_SEG_TRUSTED_KEYS", str(keys))
    run("segment", photo, "--model", model, "-o", tmp_path / "ok")
    model.with_name("m.tflite.sig").unlink()
    result = run("segment", photo, "--model", model, "-o", tmp_path / "no", expect=2)
    _one_line(result, "unsigned")


def test_rolling_back_through_a_link_keeps_the_signature_found(signed, tmp_path):
    model, keys, photo = signed
    current = tmp_path / "current.tflite"
    current.symlink_to(model)
    _segment(current, keys, photo, tmp_path / "out")


def test_keys_are_never_overwritten_and_the_private_one_is_private(tmp_path):
    run("keygen", "--private", tmp_path / "k.key", "--public", tmp_path / "k.pub")
    assert (tmp_path / "k.key").stat().st_mode & 0o077 == 0
    result = run("keygen", "--private", tmp_path / "k.key", "--public", tmp_path / "x.pub",
                 expect=2)  # fmt: skip
    _one_line(result, f"{tmp_path / 'k.key'}: exists already")
