"""The typed documents: decoding checks every field; JSON round trips; format 1 is still read."""

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from edge_runtime.contract.card_holdout import refuse_another_card_holdout
from edge_runtime.contract.gate_report import GateData, GateReport, Gates, ModelScores
from edge_runtime.contract.model_card import ModelCard, Preprocessing, TensorCoding
from edge_runtime.contract.provenance import Provenance
from edge_runtime.contract.schema import (
    MAX_ITEMS,
    MAX_RECORD_BYTES,
    MAX_TEXT,
    SchemaError,
    bounded,
    decode,
    encode,
)
from edge_runtime.contract.training_record import TrainingRecord
from edge_runtime.inference.bundled import DEFAULT_MODEL
from edge_runtime.inference.model_file import card_span, model_digest, read_card

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _card(**fields) -> str:
    return json.dumps({**json.loads(ModelCard().to_json()), **fields})


def test_a_card_round_trips_through_json():
    gate = GateReport(True, 0.47, 3, ModelScores("m.tflite", 0.8, (0.7, 0.8, 0.9)), Gates())
    card = ModelCard(model_version="9.9", threshold=0.47, gate=gate.summary())
    assert ModelCard.from_json(card.to_json()) == card
    assert card.gate.tflite.dice_per_image == ()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"threshold": float("nan")}, "field 'threshold': got nan, expected a finite number"),
        ({"threshold": 2}, r"field 'threshold': got 2, expected a number in \[0.01, 0.99\]"),
        ({"threshold": "0.5"}, "field 'threshold': got '0.5', expected a number"),
        ({"threshold": True}, "field 'threshold': got True, expected a number"),
        ({"fov_diameter": 20000}, r"expected a number in \[64, 4096\]"),
        ({"fov_diameter": 0}, r"expected a number in \[64, 4096\]"),
        ({"patch_size": 64.5}, "field 'patch_size': got 64.5, expected an integer"),
        ({"preprocessing": None}, "field 'preprocessing': got None, expected an object"),
        ({"preprocessing": {"name": 7}}, "field 'preprocessing.name': got 7, expected a string"),
        ({"quantization": "int4"}, "field 'quantization': got 'int4', expected one of int8"),
        ({"format_version": 3}, r"expected a number in \[1, 2\]"),
        ({"gate": {"passed": True}}, "field 'gate.threshold' is missing"),
    ],
)
def test_a_damaged_card_is_refused_naming_the_field(fields, message):
    with pytest.raises(ValueError, match=message):
        ModelCard.from_json(_card(**fields))


@pytest.mark.parametrize("text", ["[]", "null", "7", "{", '"card"', "[" * 100_000])
def test_a_card_that_is_not_an_object_is_refused(text):
    with pytest.raises(ValueError, match="edge_seg_metadata"):
        ModelCard.from_json(text)


def test_unknown_fields_are_ignored():
    assert ModelCard.from_json(_card(added_in_a_later_version=[1, 2])) == ModelCard()


def test_a_format_1_card_is_read_in_todays_terms():
    """The card release candidates up to 1.0.0-rc2 carried (tests/fixtures/card_format_1.json)."""
    card = ModelCard.from_json((FIXTURES / "card_format_1.json").read_bytes())
    assert card.format_version == 1 and card.model_version == "1.0.0-rc2"
    gate = card.gate
    assert gate.passed and gate.n == 107 and gate.unit == "patches"
    assert gate.tflite.dice_mean == pytest.approx(0.7742, abs=1e-4)
    assert gate.keras.dice_mean == pytest.approx(0.7749, abs=1e-4)
    assert gate.mean_drop == pytest.approx(gate.keras.dice_mean - gate.tflite.dice_mean)
    # format 1 had no fidelity limits: none are shown as if they had been applied
    assert gate.gates.min_pixel_agreement is None and gate.gates.max_mean_gain is None
    assert gate.gates.max_mean_drop == 0.005
    assert gate.data == GateData("retinal_vessel_dev.npz", "x_train", "y_train", 0.2)
    assert card.model_sha256 is None  # no digest then: nothing to check


def test_the_bundled_model_records_its_digest():
    content = DEFAULT_MODEL.read_bytes()
    card = read_card(content)
    assert card.format_version == 2 and card.model_version == "1.1.0"
    assert card.model_sha256 == model_digest(content, card)


@pytest.mark.parametrize("where", ["weights", "card"])
def test_a_damaged_model_is_refused_before_the_interpreter_sees_it(where):
    content = bytearray(DEFAULT_MODEL.read_bytes())
    start, end = card_span(bytes(content))
    if where == "weights":
        content[end + 5000] ^= 0x10  # one bit, as a worn SD card flips it
    else:
        at = content.index(b'"threshold": 0.', start) + len(b'"threshold": 0.')
        content[at] = ord("1" if content[at] != ord("1") else "2")  # a valid card, not this model's
    with pytest.raises(ValueError, match="damaged: its bytes do not match the SHA-256"):
        read_card(bytes(content))


def test_a_training_record_is_checked(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"arch": "unet", "params": -1}))
    with pytest.raises(ValueError, match=r"metrics.json: field 'params': got -1"):
        TrainingRecord.read(path)
    path.write_text("{")
    with pytest.raises(ValueError, match=r"metrics\.json"):
        TrainingRecord.read(path)
    path.write_text("[" * 5000 + "]" * 5000)  # nested past Python's recursion limit
    with pytest.raises(ValueError, match=r"metrics\.json: maximum recursion depth"):
        TrainingRecord.read(path)
    path.write_text(" " * MAX_RECORD_BYTES + "{}")  # read whole, it would take any memory
    with pytest.raises(ValueError, match=r"metrics\.json: 4,194,306 bytes is larger than the"):
        TrainingRecord.read(path)
    path.unlink()
    path.mkdir()
    with pytest.raises(ValueError, match=r"metrics\.json: is a directory, expected a training"):
        TrainingRecord.read(path)


def test_json_text_writes_a_name_not_utf_8_as_its_escape_in_every_string_and_key():
    """What a file name's bytes that are not UTF-8 became (lone surrogates) is written as the
    escape messages and CSV files show, never as JSON's escape of a lone surrogate; other
    characters are JSON's as ever, and a number that is not finite is refused."""
    from edge_runtime.contract.schema import json_text

    value = {"caf\udce9": ["eye\udcff", ("\udc80", 1.5)], "é": "é😀", "n": None}
    text = json_text(value)
    assert json.loads(text) == {
        "caf\\udce9": ["eye\\udcff", ["\\udc80", 1.5]],
        "é": "é😀",
        "n": None,
    }
    assert json.loads(json_text(value, indent=2)) == json.loads(text)
    with pytest.raises(ValueError):
        json_text({"dice": float("nan")})


def test_decode_and_encode_are_inverse_for_a_report():
    report = GateReport(
        False,
        0.5,
        2,
        ModelScores("a", 0.5, (0.4, 0.6)),
        Gates(),
        failures=("why",),
        keras=ModelScores("b", 0.9, (0.9, 0.9)),
        mean_drop=0.4,
    )
    assert decode(GateReport, json.loads(json.dumps(encode(report)))) == report
    damaged = {
        **encode(report),
        "tflite": {"model": "a", "dice_mean": 0.5, "dice_per_image": [0.1, 1.5]},
    }
    with pytest.raises(SchemaError, match=r"field 'tflite.dice_per_image\[1\]': got 1.5"):
        decode(GateReport, damaged)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"patch_size": 0}, r"field 'patch_size': got 0, expected a number in \[16, 1024\]"),
        ({"patch_size": 4096}, r"field 'patch_size': got 4096, expected a number in \[16, 1024\]"),
        ({"input": {"dtype": "int8", "scale": -1.0}}, r"field 'input.scale': got -1.0, expected"),
    ],
)
def test_a_card_out_of_its_bounds_is_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        ModelCard.from_json(_card(**fields))


RECORD = {
    "arch": "unet-lite", "params": 1000, "macs_per_patch": 10**6, "epochs": 3, "best_epoch": 2,
    "seed": 0, "threshold": 0.5, "holdout_patches": 10, "train_patches": 90,
}  # fmt: skip
"""The fields a training record has always held (older records hold no others)."""


def _record(tmp_path, **fields):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({**RECORD, **fields}))
    return path


def test_a_record_from_before_channels_was_trained_on_luma(tmp_path):
    """A training record without 'channel' (written before green was offered) is read as
    luma, what every model was trained on then."""
    assert TrainingRecord.read(_record(tmp_path)).channel == "luma"
    assert TrainingRecord.read(_record(tmp_path, channel="green")).channel == "green"


def test_a_bound_record_names_each_setting_edited_after_it_was_bound(tmp_path):
    """A threshold or channel edited in a run's record was believed: the card said it and the
    gate, running both models at it, passed. Each bound setting's digest ties its value to the
    model file's; read back as written, none is edited."""
    from edge_runtime.contract.bound_settings import bind, edited_settings

    record = bind(TrainingRecord.read(_record(tmp_path)), "ab" * 32)
    assert tuple(record.settings_sha256) == TrainingRecord.BOUND_SETTINGS
    record.write(tmp_path / "bound.json")
    assert edited_settings(TrainingRecord.read(tmp_path / "bound.json")) == ()
    edits = {"threshold": 0.9, "channel": "green"}
    for name, value in edits.items():
        assert edited_settings(dataclasses.replace(record, **{name: value})) == (name,)
    assert edited_settings(dataclasses.replace(record, **edits)) == ("threshold", "channel")
    # bound to another model file's digest, every value is another run's
    another = dataclasses.replace(record, model_sha256="cd" * 32)
    assert edited_settings(another) == TrainingRecord.BOUND_SETTINGS
    assert edited_settings(TrainingRecord.read(_record(tmp_path))) == ()  # older: binds none


def test_a_record_binds_what_its_run_held_out_and_started_from(tmp_path):
    """The share a run held out, its holdout patches and photographs, and what it started from
    were not bound: edited by hand, the gate took the share (and would score what the model may
    have trained on) and the card the start. Each is bound now, a photograph that could not be
    scored (null metrics) and a start (dataclasses) too; a record of an earlier version, which
    bound the threshold and channel alone, is checked for those and names the others unbound."""
    from edge_runtime.contract.bound_settings import bind, edited_settings, unbound_settings
    from edge_runtime.contract.model_card import ModelFile, TrainingStart

    photos = [
        {"name": "eye0.png", "f1": 0.8, "sensitivity": 0.7, "specificity": 0.9, "accuracy": 0.9,
         "auc": 0.95, "folder": "drive"},
        {"name": "eye2.png", "folder": "drive"},
    ]  # fmt: skip
    start = {"recipe": "finetune", "init": {"name": "model.keras", "sha256": "cd" * 32}}
    written = _record(tmp_path, holdout=0.2, holdout_photos=photos, start=start)
    record = bind(TrainingRecord.read(written), "ab" * 32)
    record.write(tmp_path / "bound.json")
    assert edited_settings(TrainingRecord.read(tmp_path / "bound.json")) == ()
    edits = {
        "holdout": 0.3,
        "holdout_patches": 11,
        "holdout_photos": record.holdout_photos[:1],
        "start": TrainingStart("finetune", ModelFile("other.keras", "cd" * 32)),
    }
    for name, value in edits.items():
        assert edited_settings(dataclasses.replace(record, **{name: value})) == (name,)
    earlier = {name: record.settings_sha256[name] for name in ("threshold", "channel")}
    earlier = dataclasses.replace(record, settings_sha256=earlier, **edits)
    assert unbound_settings(earlier) == tuple(edits) and edited_settings(earlier) == ()
    assert edited_settings(dataclasses.replace(earlier, threshold=0.9)) == ("threshold",)


def test_a_digest_removed_with_its_setting_edited_is_refused_not_taken_as_older(tmp_path):
    """A record binds the settings of BOUND_SETTINGS up to one, in their order (a release binds
    a new one last), so a digest is gone only after the last one left: one deleted with its
    setting edited (the threshold, or the holdout beside a bound start) was taken as a record
    of an earlier version, with a warning, and the edited value was carded and gated at."""
    from edge_runtime.contract.bound_settings import bind, edited_settings, unbound_settings

    start = {"recipe": "finetune", "init": {"name": "model.keras", "sha256": "cd" * 32}}
    record = bind(TrainingRecord.read(_record(tmp_path, holdout=0.2, start=start)), "ab" * 32)
    for name, value in (("threshold", 0.9), ("holdout", 0.5), ("channel", "luma")):
        digests = {key: d for key, d in record.settings_sha256.items() if key != name}
        edited = dataclasses.replace(record, settings_sha256=digests, **{name: value})
        assert unbound_settings(edited) == () and edited_settings(edited) == (name,)
    digests = {key: d for key, d in record.settings_sha256.items() if key != "start"}
    assert unbound_settings(dataclasses.replace(record, settings_sha256=digests)) == ("start",)


def test_a_record_names_what_its_run_started_from_and_an_older_one_nothing(tmp_path):
    """A record says the recipe and the model (its name and SHA-256) a run started from, read
    back as written and bound; one older than that reads as not recording it (``None``, not "no
    recipe"), whatever it gave alone."""
    from edge_runtime.contract.bound_settings import bind, edited_settings
    from edge_runtime.contract.model_card import ModelFile, TrainingStart

    older = _record(tmp_path, init_sha256="ab" * 32)
    assert TrainingRecord.read(older).start is None
    start = {"recipe": "finetune", "init": {"name": "model.keras", "sha256": "cd" * 32}}
    record = TrainingRecord.read(_record(tmp_path, start=start))
    assert record.start == TrainingStart("finetune", ModelFile("model.keras", "cd" * 32))
    bound = bind(record, "ab" * 32)
    bound.write(tmp_path / "bound.json")
    again = TrainingRecord.read(tmp_path / "bound.json")
    assert again == bound and edited_settings(again) == ()
    scratch = {"recipe": None, "init": None}
    assert TrainingRecord.read(_record(tmp_path, start=scratch)).start == TrainingStart()


def test_a_record_names_its_teacher_in_its_start_and_an_older_one_by_its_digest(tmp_path):
    """--teacher was recorded as teacher_sha256 alone, not by name and not on the card. A record
    names it in start beside --init, bound with it; an older record's teacher_sha256 still reads,
    and goes to the card as a teacher of that SHA-256 whose name is not recorded (where its start
    is recorded; one without start records none of it)."""
    from edge_runtime.contract.bound_settings import bind, edited_settings
    from edge_runtime.contract.model_card import ModelFile, TrainingStart

    teacher = ModelFile("teacher.keras", "ef" * 32)
    start = {"recipe": "v1", "teacher": {"name": "teacher.keras", "sha256": "ef" * 32}}
    record = bind(TrainingRecord.read(_record(tmp_path, start=start)), "ab" * 32)
    assert record.start == TrainingStart("v1", None, teacher) == record.started_from
    other = dataclasses.replace(record.start, teacher=ModelFile("other.keras", "ef" * 32))
    assert edited_settings(dataclasses.replace(record, start=other)) == ("start",)
    older = TrainingRecord.read(
        _record(tmp_path, start={"recipe": "v1", "init": None}, teacher_sha256="ef" * 32)
    )
    assert older.start == TrainingStart("v1")
    assert older.started_from == TrainingStart("v1", None, ModelFile(None, "ef" * 32))
    assert TrainingRecord.read(_record(tmp_path, teacher_sha256="ef" * 32)).started_from is None
    # start's teacher is bound; a teacher_sha256 beside it (not bound: edited in) is not read
    beside = dataclasses.replace(record, teacher_sha256="cd" * 32)
    assert beside.started_from == TrainingStart("v1", None, teacher)
    with pytest.raises(ValueError, match=r"field 'teacher_sha256': got 'xyz', expected 64 hex"):
        TrainingRecord.read(_record(tmp_path, teacher_sha256="xyz"))


def test_a_bound_setting_keeps_its_digest_when_a_later_release_adds_an_optional_field(tmp_path):
    """start gained teacher, and every record bound before no longer matched its digest: the
    canonical JSON held each null field ("teacher": null), so a field a later release adds
    (null in what it reads of an older record) changed the digest of every record written now.
    A null field is left out of what is bound; a value edited to null is still refused."""
    from edge_runtime.contract.bound_settings import bind, edited_settings, setting_sha256
    from edge_runtime.contract.model_card import ModelFile, TrainingStart

    @dataclass(frozen=True)
    class LaterStart(TrainingStart):
        seeds: int | None = None

    init = ModelFile("model.keras", "cd" * 32)
    for start in (TrainingStart(), TrainingStart("v1", init)):
        later = LaterStart(start.recipe, start.init, start.teacher)
        assert setting_sha256("ab" * 32, "start", later) == setting_sha256(
            "ab" * 32, "start", start
        )
    start = {"recipe": "v1", "init": {"name": "model.keras", "sha256": "cd" * 32}}
    record = bind(TrainingRecord.read(_record(tmp_path, start=start)), "ab" * 32)
    unnamed = dataclasses.replace(record.start, init=None)
    assert edited_settings(dataclasses.replace(record, start=unnamed)) == ("start",)
    assert edited_settings(dataclasses.replace(record, start=None)) == ("start",)


@pytest.mark.parametrize(
    "digest", ["xyz", "CD" * 32, "cd" * 31 + "g0", "cd" * 31 + "c", "cd" * 32 + "\n", 7]
)
def test_a_model_started_from_is_refused_without_a_sha256(tmp_path, digest):
    """A card or record naming the model a run started from read any 'sha256' as its digest
    ('xyz' too): it must be 64 lower-case hexadecimal digits, as sha256sum prints them,
    refused naming the field otherwise."""
    start = {"recipe": "finetune", "init": {"name": "model.keras", "sha256": digest}}
    expected = "expected 64 hexadecimal digits" if isinstance(digest, str) else "expected a string"
    shown = re.escape(repr(digest)[:30])  # the start of a long value
    message = rf"field 'training\.start\.init\.sha256': got {shown}.*, {expected}"
    with pytest.raises(ValueError, match=message):
        ModelCard.from_json(_card(training={"start": start}))
    with pytest.raises(ValueError, match=r"metrics\.json: field 'start\.init\.sha256': got"):
        TrainingRecord.read(_record(tmp_path, start=start))


def test_a_card_without_its_training_takes_a_holdout_unchecked_with_a_warning():
    """A card with no training section records no share either: the holdout is taken as
    given, with the warning of a card without the share, not refused nor failed on."""
    card = dataclasses.replace(read_card(DEFAULT_MODEL.read_bytes()), training=None)
    with pytest.warns(UserWarning, match=r"^--holdout 0\.3: nothing says what m\.tflite held"):
        refuse_another_card_holdout(0.3, card, "m.tflite", "patches")


def test_a_record_s_best_epoch_is_its_holdout_s_choice_only_where_it_held_some_out(tmp_path):
    """Without a holdout the run kept its last epoch: the card says so, and names no best."""
    assert TrainingRecord.read(_record(tmp_path)).held_out_best_epoch == 2
    photos = [{"name": "eye1", "f1": 0.5, "accuracy": 0.9}]
    by_photos = _record(tmp_path, holdout_patches=0, holdout_photos=photos)
    assert TrainingRecord.read(by_photos).held_out_best_epoch == 2
    none = _record(tmp_path, holdout_patches=0, best_epoch=3, holdout=0.0)
    assert TrainingRecord.read(none).held_out_best_epoch is None


@pytest.mark.parametrize("threshold", [0.0, 1.0, 1.5])
def test_a_record_with_a_threshold_out_of_range_is_refused(tmp_path, threshold):
    """convert takes its threshold from the record: one outside 0.01..0.99 is refused."""
    with pytest.raises(ValueError, match="threshold"):
        TrainingRecord.read(_record(tmp_path, threshold=threshold))


def test_a_long_wrong_value_is_shown_cut_in_the_message():
    """A refused value's repr is shown in at most 40 characters, ending in '...'."""
    with pytest.raises(SchemaError) as caught:
        decode(TensorCoding, {"dtype": "int8", "scale": "z" * 500})
    message = str(caught.value)
    assert message == f"field 'scale': got '{'z' * 36}..., expected a number"


def test_a_pair_of_the_wrong_length_is_refused_naming_the_field():
    """A pair field given another number of items is a SchemaError that names the field."""
    with pytest.raises(
        SchemaError, match=r"^field 'output_range': got \[0, 1, 2\], expected a list of 2 items$"
    ):
        decode(Preprocessing, {"output_range": [0, 1, 2]})
    with pytest.raises(
        ValueError,
        match=r"field 'preprocessing.output_range': got \[0\], expected a list of 2 items",
    ):
        ModelCard.from_json('{"preprocessing": {"output_range": [0]}}')


def test_a_format_1_gate_keeps_its_comparisons():
    """A format-1 card's gate keeps its pixel agreement, largest image drop and threshold."""
    fixtures = Path(__file__).parent.parent / "fixtures"
    gate = ModelCard.from_json((fixtures / "card_format_1.json").read_bytes()).gate
    assert gate.pixel_agreement == pytest.approx(0.998337, abs=1e-6)
    assert gate.max_image_drop == pytest.approx(0.014947, abs=1e-6)
    assert gate.threshold == 0.47


def test_a_provenance_with_an_integer_too_large_for_a_float_is_refused_with_a_value_error():
    """Reading a record refuses a huge integer as any other out-of-range value: a ValueError
    naming the field, never an OverflowError."""
    text = '{"software":"x","model":null,"config":{"stride":1' + "0" * 400 + "}}"
    with pytest.raises(ValueError, match="stride"):
        Provenance.from_text(text)


def test_a_verdict_round_trips_through_its_text_its_measurements_of_several_kinds():
    """A verdict's measurements map names to numbers, flags or ``None``: each read back as
    the kind written (a flag is no number), and a value of no kind there refused, named."""
    from edge_runtime.contract.verdict_record import Reason, VerdictRecord

    reason = Reason("blurred", "sharpness", 1.1, 1.26)
    measured = {"sharpness": 1.1, "red_blue_swapped": True, "fov_cut": None, "tiles": 3}
    verdict = VerdictRecord(True, False, 0.4, (reason,), measured, {"density": 0.1})
    again = VerdictRecord.from_text(verdict.text())
    assert again == verdict and again.measurements["red_blue_swapped"] is True
    document = json.loads(verdict.text())
    for wrong, message in [
        ({"sharpness": "1.1"}, "field 'measurements.sharpness': got '1.1', expected a number"),
        ({"sharpness": [1]}, "field 'measurements.sharpness': got [1], expected a number"),
        ([1.1], "field 'measurements': got [1.1], expected an object"),
    ]:
        with pytest.raises(SchemaError, match=re.escape(message)):
            decode(VerdictRecord, {**document, "measurements": wrong})
    with pytest.raises(
        SchemaError, match=re.escape("'vessels.density': got True, expected a number")
    ):
        decode(VerdictRecord, {**document, "vessels": {"density": True}})


@dataclass(frozen=True)
class _Mixed:
    """A document of the kinds a union joins, and an object of names with bounds."""

    name_or_size: str | float
    sizes_or_name: tuple[int, ...] | str
    shares: dict[str, float] | None = bounded(None, 0.0, 1.0)  # noqa: RUF009 (a field())


def test_a_union_reads_each_value_as_the_kind_it_is_and_an_object_keeps_its_bounds():
    """Each member of a union takes the values of its own kind, whatever the order; an object
    of names checks its names, its size and each value against the field's bounds."""
    assert decode(_Mixed, {"name_or_size": 1.5, "sizes_or_name": "x"}) == _Mixed(1.5, "x")
    read = decode(_Mixed, {"name_or_size": "x", "sizes_or_name": [1, 2], "shares": {"a": 0.5}})
    assert read == _Mixed("x", (1, 2), {"a": 0.5})
    document = {"name_or_size": "x", "sizes_or_name": "y"}
    for shares, message in [
        ({"a": 2.0}, "field 'shares.a': got 2.0, expected a number in [0, 1]"),
        ({"a" * (MAX_TEXT + 1): 0.5}, "field 'shares key': got 'aaaa"),
        (dict.fromkeys(map(str, range(MAX_ITEMS + 1)), 0.5), f"an object of at most {MAX_ITEMS}"),
    ]:
        with pytest.raises(SchemaError, match=re.escape(message)):
            decode(_Mixed, {**document, "shares": shares})


def test_a_field_added_to_a_bound_setting_s_record_leaves_its_digest_as_it_was():
    """A start or held-out photograph is bound as its fields' JSON: a field added later (a
    start's teacher, say), None in every record written before, made each such record's digest
    another, so convert refused every record of a run started from a recipe as 'edited by
    hand'. A field that is None is bound as if absent, as it is read; a value still binds."""
    from edge_runtime.contract.bound_settings import setting_sha256
    from edge_runtime.contract.model_card import TrainingStart
    from edge_runtime.contract.training_record import PhotoRecord

    @dataclasses.dataclass(frozen=True)
    class LaterStart:  # TrainingStart with a field added since
        recipe: str | None = None
        init: object = None
        teacher: str | None = None

    model = "ab" * 32
    written = setting_sha256(model, "start", TrainingStart("finetune"))
    assert setting_sha256(model, "start", LaterStart("finetune")) == written
    assert setting_sha256(model, "start", LaterStart("finetune", teacher="t")) != written
    assert setting_sha256(model, "start", None) != setting_sha256(model, "start", TrainingStart())

    @dataclasses.dataclass(frozen=True)
    class LaterPhoto:  # PhotoRecord, unscored, with a field added since
        name: str
        f1: float | None = None
        folder: str | None = None
        mean_width: float | None = None

    photos = (PhotoRecord("eye2", 0.5, folder="drive"), PhotoRecord("eye5", folder="drive"))
    later = (LaterPhoto("eye2", 0.5, "drive"), LaterPhoto("eye5", folder="drive"))
    assert setting_sha256(model, "p", photos) == setting_sha256(model, "p", later)
