"""Signed models: with trusted keys, only a model signed by one of them runs, checked before any
interpreter sees its bytes; a trusted-keys setting that is set but empty, or names no usable key,
runs nothing; only without the setting is everything as before."""

import base64
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from edge_runtime.cli.main import cli
from edge_runtime.errors import InputError
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.inference.bundled import DEFAULT_MODEL
from edge_runtime.inference.description import describe_model
from edge_runtime.inference.runtime_options import RuntimeOptions
from edge_runtime.inference.signatures import TRUSTED_KEYS_ENV
from edge_runtime.pipeline.segmenter import Segmenter


@pytest.fixture
def signed(tmp_path, run_cli):
    """A signed copy of the bundled model, the trusted keys folder, and a photograph."""
    keys = tmp_path / "keys"
    run_cli("keygen", "--private", tmp_path / "maker.key", "--public", keys / "maker.pub")
    model = tmp_path / "m.tflite"
    shutil.copy(DEFAULT_MODEL, model)
    run_cli("sign", model, "--key", tmp_path / "maker.key")
    photo = tmp_path / "p.png"
    Image.fromarray(synthetic_fundus(150, 160)).save(photo)
    return model, keys, photo


def test_signing_again_by_another_key_is_refused_unless_overwrite(signed, tmp_path, run_cli):
    """A model's signature by one key (the release key's) was replaced in silence by another's;
    one of other bytes (the model converted again) is replaced, as the same key's is."""
    model, _, _ = signed
    sig = model.with_name(model.name + ".sig")
    first = sig.read_bytes()
    run_cli("keygen", "--private", tmp_path / "other.key", "--public", tmp_path / "other.pub")
    result = run_cli("sign", model, "--key", tmp_path / "other.key", expect=2)
    assert result.output.count("\n") == 1 and f"{sig}: already signs this model, by key" in (
        result.output
    )
    assert sig.read_bytes() == first
    run_cli("sign", model, "--key", tmp_path / "maker.key")  # the same key: the same signature
    assert sig.read_bytes() == first
    run_cli("sign", model, "--key", tmp_path / "other.key", "--overwrite")
    assert sig.read_bytes() != first
    stale = json.loads(sig.read_text())
    stale["statement"]["model_sha256"] = "0" * 64  # of the bytes before: converted again
    sig.write_text(json.dumps(stale))
    run_cli("sign", model, "--key", tmp_path / "maker.key")
    assert sig.read_bytes() == first


def test_a_damaged_signature_is_replaced_by_any_key(signed, tmp_path, run_cli):
    """A MODEL.sig that is no signature (cut short, edited) holds no key's word to keep."""
    model, _, _ = signed
    sig = model.with_name(model.name + ".sig")
    sig.write_text('{"statement": ')
    run_cli("keygen", "--private", tmp_path / "other.key", "--public", tmp_path / "other.pub")
    done = run_cli("sign", model, "--key", tmp_path / "other.key")
    assert f"wrote {sig} (key " in done.output
    assert json.loads(sig.read_text())["key_id"] in done.output


def _unreadable(path: Path, how: str, monkeypatch) -> None:
    """Make ``path`` a file that cannot be read: by its mode, or (root reads whatever the mode)
    by reading it failing as a file without read permission does."""
    if how == "mode":
        if os.geteuid() == 0:
            pytest.skip("root reads a file whatever its mode: the 'refused' case stands in")
        path.chmod(0)
        return
    real_open = os.open

    def refused(file, flags, *args, **kwargs):
        if Path(file) == path and not flags & (os.O_WRONLY | os.O_RDWR):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refused)


@pytest.mark.parametrize("how", ["mode", "refused"])
def test_a_signature_that_cannot_be_read_is_refused_unless_overwrite(
    signed, tmp_path, run_cli, monkeypatch, how
):
    """A MODEL.sig that could not be read (permission denied) was taken for a damaged one and
    replaced by any key's: the release key's signature lost without a word."""
    model, _, _ = signed
    sig = model.with_name(model.name + ".sig")
    first = json.loads(sig.read_text())["key_id"]
    run_cli("keygen", "--private", tmp_path / "other.key", "--public", tmp_path / "other.pub")
    _unreadable(sig, how, monkeypatch)
    before = sig.stat()
    result = run_cli("sign", model, "--key", tmp_path / "other.key", expect=2)
    assert result.output == (
        f"Error: {sig}: cannot be read (Permission denied), so whose it is cannot be told; "
        "pass --overwrite to replace it\n"
    )
    assert (sig.stat().st_ino, sig.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    run_cli("sign", model, "--key", tmp_path / "other.key", "--overwrite")
    monkeypatch.undo()
    assert first != json.loads(sig.read_text())["key_id"]


def test_a_folder_named_as_the_signature_is_refused(signed, tmp_path, run_cli):
    """A folder where MODEL.sig goes cannot be read as a signature, nor replaced by one."""
    model, _, _ = signed
    sig = model.with_name(model.name + ".sig")
    sig.unlink()
    sig.mkdir()
    result = run_cli("sign", model, "--key", tmp_path / "maker.key", expect=2)
    assert result.output == f"Error: {sig}: cannot write (is a folder, not a file to write)\n"
    assert sig.is_dir() and not any(sig.iterdir())


@pytest.fixture
def no_interpreter(monkeypatch):
    """Any interpreter made while this is in force fails the test."""
    import ai_edge_litert.interpreter as backend

    def refuse(*args, **kwargs):
        raise AssertionError("an interpreter was made for a model that should be refused")

    monkeypatch.setattr(backend, "Interpreter", refuse)


def _segment(run_cli, model, keys, photo, out, expect=0):
    return run_cli(
        "segment", photo, "--model", model, "--trusted-keys", keys, "-o", out, expect=expect
    )


def test_a_good_signature_runs_and_info_says_who_signed(signed, tmp_path, run_cli):
    model, keys, photo = signed
    _segment(run_cli, model, keys, photo, tmp_path / "out")
    assert (tmp_path / "out" / "p_mask.png").exists()
    report = json.loads(run_cli("info", "--model", model, "--trusted-keys", keys, "--json").stdout)
    signature = json.loads(model.with_name("m.tflite.sig").read_text())
    assert report["signed_by"] == signature["key_id"] and report["signature_verified"] is True
    assert report["signature_key_id"] == signature["key_id"]
    assert signature["statement"]["model_version"] == "1.1.0"
    assert signature["statement"]["gate_passed"] is True
    text = run_cli("info", "--model", model, "--trusted-keys", keys).stdout
    assert f"signed:       by key {signature['key_id']} (verified against" in text


def test_without_trusted_keys_info_never_says_signed_by(signed, tmp_path, run_cli):
    """Without keys nothing is verified: info says a signature is there, not who signed."""
    model, _, _ = signed
    sig = model.with_name("m.tflite.sig")
    document = json.loads(sig.read_text())
    document["key_id"] = "0123456789abcdef"  # a forgery naming any key it likes
    sig.write_text(json.dumps(document))
    report = json.loads(run_cli("info", "--model", model, "--json").stdout)
    assert report["signed_by"] is None and report["signature_verified"] is None
    assert report["signature_key_id"] == "0123456789abcdef"
    line = next(x for x in run_cli("info", "--model", model).stdout.splitlines() if "signed:" in x)
    assert "signature present, not verified (no trusted keys given)" in line
    assert "by key" not in line


def test_without_trusted_keys_info_says_a_signature_of_other_bytes_is_damaged(signed, run_cli):
    model, _, _ = signed
    sig = model.with_name("m.tflite.sig")
    document = json.loads(sig.read_text())
    document["statement"]["model_sha256"] = "0" * 64  # another model's signature file
    sig.write_text(json.dumps(document))
    report = json.loads(run_cli("info", "--model", model, "--json").stdout)
    assert report["signature_key_id"] is None
    assert "its bytes are not the ones m.tflite.sig signs" in report["signature_issue"]
    assert "signed:       damaged signature (" in run_cli("info", "--model", model).stdout


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
def test_what_is_refused_before_any_interpreter(
    signed, tmp_path, no_interpreter, damage, message, run_cli
):
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
    _one_line(_segment(run_cli, model, keys, photo, tmp_path / "out", expect=2), expected)
    assert not (tmp_path / "out").exists()


def test_an_unknown_key_is_refused(signed, tmp_path, no_interpreter, run_cli):
    model, _, photo = signed
    other_keys = tmp_path / "other-keys"
    run_cli("keygen", "--private", tmp_path / "other.key", "--public", other_keys / "other.pub")
    result = _segment(run_cli, model, other_keys, photo, tmp_path / "out", expect=2)
    _one_line(result, "which is not trusted here")


def _with_unknown_algorithm(public_pem: str) -> str:
    """The PEM of a public key, its algorithm changed to one no library knows (1.3.101.99)."""
    der = base64.b64decode("".join(public_pem.strip().splitlines()[1:-1]))
    der = der.replace(bytes([6, 3, 0x2B, 0x65, 0x70]), bytes([6, 3, 0x2B, 0x65, 0x63]))
    body = base64.b64encode(der).decode()
    return f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n"


@pytest.mark.parametrize("damage", ["not base64", "unknown algorithm"])
def test_a_malformed_key_file_is_one_line_naming_it(
    signed, tmp_path, no_interpreter, damage, run_cli
):
    model, keys, photo = signed
    (keys / "broken.pub").write_text(
        "-----BEGIN PUBLIC KEY-----\nnot base64\n"
        if damage == "not base64"
        else _with_unknown_algorithm((keys / "maker.pub").read_text())
    )
    result = _segment(run_cli, model, keys, photo, tmp_path / "out", expect=2)
    _one_line(result, f"{keys / 'broken.pub'}: not a PEM public key")


def test_without_trusted_keys_an_unsigned_model_runs_as_before(signed, tmp_path, run_cli):
    model, _, photo = signed
    model.with_name("m.tflite.sig").unlink()
    run_cli("segment", photo, "--model", model, "-o", tmp_path / "out")
    report = json.loads(run_cli("info", "--model", model, "--json").stdout)
    assert report["signed_by"] is None and report["signature_verified"] is None
    assert report["signature_issue"] is None
    model.with_name("m.tflite.sig").write_text("{damaged")  # info says so, not "unsigned"
    assert "signed:       damaged signature (" in run_cli("info", "--model", model).stdout


def test_the_environment_variable_turns_verification_on(signed, tmp_path, monkeypatch, run_cli):
    model, keys, photo = signed
    monkeypatch.setenv("EDGE_SEG_TRUSTED_KEYS", str(keys))
    run_cli("segment", photo, "--model", model, "-o", tmp_path / "ok")
    model.with_name("m.tflite.sig").unlink()
    result = run_cli("segment", photo, "--model", model, "-o", tmp_path / "no", expect=2)
    _one_line(result, "unsigned")


def test_rolling_back_through_a_link_keeps_the_signature_found(signed, tmp_path, run_cli):
    model, keys, photo = signed
    current = tmp_path / "current.tflite"
    current.symlink_to(model)
    _segment(run_cli, current, keys, photo, tmp_path / "out")


def test_keys_are_never_overwritten_and_the_private_one_is_private(tmp_path, run_cli):
    run_cli("keygen", "--private", tmp_path / "k.key", "--public", tmp_path / "k.pub")
    assert (tmp_path / "k.key").stat().st_mode & 0o077 == 0
    result = run_cli(
        "keygen", "--private", tmp_path / "k.key", "--public", tmp_path / "x.pub", expect=2
    )
    _one_line(result, f"{tmp_path / 'k.key'}: exists already")
    assert not (tmp_path / "x.pub").exists()


@pytest.mark.parametrize("public", ["k.key", "./k.key", "link/k.key"])
def test_keygen_refuses_one_file_for_both_keys_before_writing(tmp_path, public, run_cli):
    (tmp_path / "link").symlink_to(tmp_path)
    private = tmp_path / "k.key"
    result = run_cli("keygen", "--private", private, "--public", tmp_path / public, expect=2)
    _one_line(result, "got the same file for the private and the public key")
    assert sorted(os.listdir(tmp_path)) == ["link"]


@pytest.mark.parametrize("blocked", ["private", "public"])
def test_keygen_writes_both_keys_or_neither_nor_the_folders_it_made(tmp_path, blocked, run_cli):
    (tmp_path / "blocked").write_text("a file where a key's folder would go")
    paths = {"private": tmp_path / "new" / "deeper" / "k.key", "public": tmp_path / "k.pub"}
    paths[blocked] = tmp_path / "blocked" / "k"
    result = run_cli("keygen", "--private", paths["private"], "--public", paths["public"], expect=2)
    _one_line(result, f"{paths[blocked]}: cannot write (a folder on its path is a file)")
    assert sorted(os.listdir(tmp_path)) == ["blocked"]


# -- a trusted-keys setting that is there never turns verification off -------------------------


@pytest.mark.parametrize("value", ["", " "])
def test_an_empty_trusted_keys_variable_refuses_to_run(
    signed, tmp_path, monkeypatch, no_interpreter, value, run_cli
):
    model, _, photo = signed
    monkeypatch.setenv(TRUSTED_KEYS_ENV, value)
    for command in (["segment", photo, "-o", tmp_path / "out"], ["info"], ["bench", "--runs", 1]):
        result = run_cli(*command, "--model", model, expect=2)
        assert TRUSTED_KEYS_ENV in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("value", ["", " "])
def test_an_empty_trusted_keys_option_refuses_to_run(
    signed, tmp_path, no_interpreter, value, run_cli
):
    model, _, photo = signed
    result = _segment(run_cli, model, value, photo, tmp_path / "out", expect=2)
    assert "Invalid value for '--trusted-keys'" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("value", ["", " ", None])
def test_the_api_refuses_an_empty_trusted_keys_setting(signed, monkeypatch, no_interpreter, value):
    """``trusted_keys=""`` is refused; so is ``None`` when the variable is set but empty."""
    model, _, _ = signed
    if value is None:
        monkeypatch.setenv(TRUSTED_KEYS_ENV, "")
    with pytest.raises(InputError, match="an empty setting does not turn verification off"):
        Segmenter(RuntimeOptions(model, trusted_keys=value))
    with pytest.raises(InputError, match="an empty setting does not turn verification off"):
        describe_model(model, trusted_keys=value)


def test_a_unset_variable_is_the_only_way_to_run_unchecked(signed, monkeypatch):
    model, _, _ = signed
    monkeypatch.delenv(TRUSTED_KEYS_ENV, raising=False)
    assert Segmenter(model).threshold > 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "e.pub: empty file, expected a public key file"),
        ("hello\n", "e.pub: not a PEM public key"),
        ("two", "e.pub: got 2 PEM blocks (PUBLIC KEY, PUBLIC KEY), expected one public key"),
        ("private", "e.pub: got a PEM PRIVATE KEY, expected a public key"),
        ("large", "e.pub: 204.8 KiB is larger than the 16 KiB allowed for a public key file"),
    ],
)
def test_a_key_file_that_is_not_one_public_key_refuses_to_run(
    signed, tmp_path, no_interpreter, content, message, run_cli
):
    model, keys, photo = signed
    public = (keys / "maker.pub").read_text()
    content = {
        "two": public * 2,
        "private": (tmp_path / "maker.key").read_text(),
        "large": "#" * round(0.2 * 2**20),  # was "0.2 MiB is larger than the 0 MiB allowed"
    }.get(content, content)
    (keys / "maker.pub").unlink()
    (keys / "e.pub").write_text(content)
    _one_line(
        _segment(run_cli, model, keys, photo, tmp_path / "out", expect=2), f"{keys / message}"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("folder", ["empty", "missing"])
def test_a_folder_without_keys_refuses_to_run(signed, tmp_path, no_interpreter, folder, run_cli):
    model, _, photo = signed
    where = tmp_path / folder
    if folder == "empty":
        where.mkdir()
        (where / "maker.pem").write_text("a key, but not named *.pub")
    expected = "no public keys (*.pub) to trust" if folder == "empty" else "no such folder"
    _one_line(
        _segment(run_cli, model, where, photo, tmp_path / "out", expect=2), f"{where}: {expected}"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("two", "got 2 PEM blocks (PRIVATE KEY, PRIVATE KEY), expected one private key"),
        ("public", "got a PEM PUBLIC KEY, expected a private key"),
    ],
)
def test_sign_refuses_a_key_file_that_is_not_one_private_key(
    signed, tmp_path, content, message, run_cli
):
    model, keys, _ = signed
    key = tmp_path / "bad.key"
    private, public = (tmp_path / "maker.key").read_text(), (keys / "maker.pub").read_text()
    key.write_text(private * 2 if content == "two" else public)
    before = model.with_name("m.tflite.sig").read_bytes()
    _one_line(run_cli("sign", model, "--key", key, expect=2), f"{key}: {message}")
    assert model.with_name("m.tflite.sig").read_bytes() == before


def test_edge_seg_with_an_empty_variable_exits_2_and_writes_nothing(signed, tmp_path):
    """The real command in its own process, as a unit file whose variable is unset starts it."""
    model, _, photo = signed
    env = {**os.environ, TRUSTED_KEYS_ENV: ""}
    command = ["segment", photo, "--model", model, "-o", tmp_path / "out"]
    done = subprocess.run(
        [sys.executable, "-m", "edge_runtime.cli.main", *map(str, command)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"Error: ${TRUSTED_KEYS_ENV}: got ''")
    assert done.stderr.count("\n") == 1 and done.stdout == ""
    assert not (tmp_path / "out").exists()


UNIT = Path(__file__).parents[2] / "firmware_notes" / "edge-seg-watch.service"
RELEASE_KEYS = UNIT.parent / "keys"


def _unit_command(trusted_keys: str, incoming: Path, masks: Path) -> list[str]:
    """The unit's ExecStart as systemd runs it: ``${VAR}`` as a word of its own is exactly one
    argument, empty when the variable is unset."""
    line = next(x for x in UNIT.read_text().splitlines() if x.startswith("ExecStart="))
    line = line.removeprefix("ExecStart=").replace(
        f"${{{TRUSTED_KEYS_ENV}}}", shlex.quote(trusted_keys)
    )
    words = shlex.split(line)[1:]
    paths = {"/var/lib/edge-seg/incoming": str(incoming), "/var/lib/edge-seg/masks": str(masks)}
    return [paths.get(w, w) for w in words] + ["--once"]


@pytest.mark.parametrize("variable", ["unset", "release keys"])
def test_the_systemd_unit_fails_closed_when_its_variable_is_unset(tmp_path, monkeypatch, variable):
    monkeypatch.delenv(TRUSTED_KEYS_ENV, raising=False)
    incoming, masks = tmp_path / "incoming", tmp_path / "masks"
    incoming.mkdir()
    value = "" if variable == "unset" else str(RELEASE_KEYS)
    result = CliRunner().invoke(cli, _unit_command(value, incoming, masks))
    if variable == "unset":
        assert result.exit_code == 2 and "Invalid value for '--trusted-keys'" in result.output
        assert not masks.exists()
    else:
        assert result.exit_code == 0, result.output


def test_a_key_file_made_since_it_was_looked_for_is_not_replaced(tmp_path):
    from converters.signing import _create
    from edge_runtime.errors import OutputError

    key = tmp_path / "k.key"
    key.write_bytes(b"someone else's key")
    with pytest.raises(OutputError, match="cannot write"):
        _create(key, b"new key", 0o600)
    assert key.read_bytes() == b"someone else's key"


def test_an_existing_public_key_is_never_overwritten(tmp_path):
    from converters.signing import make_key_pair
    from edge_runtime.errors import OutputError

    public = tmp_path / "k.pub"
    public.write_text("the key the cameras trust")
    with pytest.raises(OutputError, match=f"{public}: exists already"):
        make_key_pair(tmp_path / "k.key", public)
    assert public.read_text() == "the key the cameras trust"
    assert not (tmp_path / "k.key").exists()


def test_the_vessel_model_s_trusted_keys_hold_for_the_artery_vein_model_in_python(
    signed, tmp_path, monkeypatch, run_cli
):
    """Keys given for the vessel model left an artery/vein model given as a file, or as
    options without keys, unchecked: the command line passed them on, Python did not."""
    from edge_runtime.errors import ModelError
    from edge_runtime.inference.bundled import ARTERY_VEIN_MODEL
    from edge_runtime.inference.signatures import UNCHECKED
    from edge_runtime.pipeline.artery_vein import ArteryVeinModel

    monkeypatch.delenv(TRUSTED_KEYS_ENV, raising=False)
    model, keys, _ = signed
    vessels = RuntimeOptions(model, trusted_keys=keys)
    unsigned = f"{ARTERY_VEIN_MODEL}: unsigned"
    for artery_vein in (ARTERY_VEIN_MODEL, RuntimeOptions(ARTERY_VEIN_MODEL)):
        with pytest.raises(ModelError, match=unsigned):
            Segmenter(vessels, artery_vein=artery_vein)
    with pytest.raises(ModelError, match="made without trusted keys, which the vessel model"):
        Segmenter(vessels, artery_vein=ArteryVeinModel())
    unchecked = RuntimeOptions(model, trusted_keys=UNCHECKED)  # said outright: neither is
    assert Segmenter(unchecked, artery_vein=ArteryVeinModel()).artery_vein.model.signature is None
    # said outright, its own setting holds: signed by another key, or not checked at all
    chained = Segmenter(
        vessels, artery_vein=RuntimeOptions(ARTERY_VEIN_MODEL, trusted_keys=UNCHECKED)
    )
    assert chained.artery_vein.model.signature is None
    copy = tmp_path / "av.tflite"
    shutil.copy(ARTERY_VEIN_MODEL, copy)
    run_cli("sign", copy, "--key", tmp_path / "maker.key")
    chained = Segmenter(vessels, artery_vein=copy)  # a file: checked against the same keys
    assert chained.artery_vein.model.signature is not None


def test_a_blank_path_of_trusted_keys_is_refused_not_taken_for_the_current_folder(
    signed, tmp_path, monkeypatch
):
    """Path("") is Path("."): a blank setting built so trusted the current folder's keys."""
    model, keys, _ = signed
    monkeypatch.chdir(keys)  # a key that signs the model is right here
    with pytest.raises(InputError, match=r"trusted keys: got '\.', expected a folder"):
        Segmenter(RuntimeOptions(model, trusted_keys=Path("")))
    assert Segmenter(RuntimeOptions(model, trusted_keys=".")).model.signature is not None
