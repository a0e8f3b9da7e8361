"""What made an output: every record, CSV row, written map and report names the package, the
models (version and SHA-256 of the file) and the segmenter's settings, so that a study can
tell which model drew and measured what."""

import csv
import dataclasses
import hashlib
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from edge_runtime import Segmenter
from edge_runtime.app.files import segment_file
from edge_runtime.app.outputs import Extras, output_paths, written_records
from edge_runtime.contract.evaluation_record import DatasetEvaluation, ScoredPhoto
from edge_runtime.contract.model_card import ModelCard
from edge_runtime.contract.provenance import COLUMNS as PROVENANCE_COLUMNS
from edge_runtime.contract.provenance import PNG_KEY, SOFTWARE, ModelIdentity, Provenance
from edge_runtime.contract.schema import decode, encode
from edge_runtime.contract.segmenter_config import SegmenterConfig
from edge_runtime.contract.verdict_record import COLUMNS as VERDICT_COLUMNS
from edge_runtime.contract.verdict_record import PNG_KEY as VERDICT_PNG_KEY
from edge_runtime.contract.verdict_record import VerdictRecord
from edge_runtime.evaluation.photos import write_summary
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.inference.bundled import ARTERY_VEIN_MODEL, DEFAULT_MODEL
from edge_runtime.inference.model_file import (
    read_card,
    read_model_bytes,
)


def _identity(path) -> dict:
    content = read_model_bytes(path)
    return {
        "version": read_card(content).model_version,
        "sha256": hashlib.sha256(content).hexdigest(),
    }


@pytest.fixture(scope="module")
def segmented(tmp_path_factory, run_cli):
    """A colour photograph segmented with both outputs, measured, at threshold 0.4: its folder,
    JSON record and CSV rows."""
    folder = tmp_path_factory.mktemp("provenance")
    photo = folder / "eye.png"
    Image.fromarray(synthetic_fundus(200, 220)).save(photo)
    out = folder / "out"
    args = ("segment", photo, "--av", "--measure", "--threshold", "0.4", "--prob", "--overlay")
    done = run_cli(*args, "-o", out, "--json")
    record = json.loads(done.stdout)
    with open(out / "measurements.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return out, record, rows


def test_a_record_names_the_package_the_models_and_the_settings_in_effect(segmented):
    _, record, _ = segmented
    made = record["provenance"]
    assert made["software"].startswith("edge-seg ")
    assert made["model"] == _identity(DEFAULT_MODEL)
    assert made["artery_vein_model"] == _identity(ARTERY_VEIN_MODEL)
    card = read_card(read_model_bytes(DEFAULT_MODEL))
    assert made["config"] == {
        "threshold": 0.4,  # the option given, not the card's
        "channel": card.channel,
        "fov_diameter": card.fov_diameter,
        "stride": round(card.patch_size * 52 / 64),
        "tta": "off",
    }


def test_every_written_map_records_what_made_it(segmented):
    _, record, _ = segmented
    assert set(record["outputs"]) == {"mask", "prob", "overlay", "artery_vein"}
    for path in record["outputs"].values():
        with Image.open(path) as image:
            assert image.info["Software"] == record["provenance"]["software"]
        assert encode(written_records(path).provenance) == record["provenance"], path


def test_the_csv_gives_each_row_its_models_and_settings(segmented):
    _, record, rows = segmented
    (row,) = rows
    made = record["provenance"]
    assert row["model_sha256"] == made["model"]["sha256"]
    assert row["model_version"] == made["model"]["version"]
    assert row["artery_vein_model_sha256"] == made["artery_vein_model"]["sha256"]
    assert row["software"] == made["software"]
    assert float(row["config_threshold"]) == 0.4 and row["config_tta"] == "off"
    assert list(row)[-10:] == [
        "software",
        "model_version",
        "model_sha256",
        "artery_vein_model_version",
        "artery_vein_model_sha256",
        "config_threshold",
        "config_channel",
        "config_fov_diameter",
        "config_stride",
        "config_tta",
    ]


def test_measure_carries_a_maps_provenance_into_its_record_and_csv(segmented, run_cli, tmp_path):
    out, record, _ = segmented
    table = tmp_path / "m.csv"
    done = run_cli("measure", "--av", out / "eye_av.png", "--json", "--csv", table)
    assert json.loads(done.stdout)["provenance"] == record["provenance"]
    with open(table, newline="") as f:
        (row,) = csv.DictReader(f)
    assert row["artery_vein_model_sha256"] == record["provenance"]["artery_vein_model"]["sha256"]


def test_measure_carries_a_segmented_maps_verdict_into_its_record_and_csv(
    segmented, run_cli, tmp_path
):
    """``measure`` on segment's maps left the verdict columns empty: a photograph to retake,
    measured later on a host, was pooled unknowingly. Each map carries its photograph's
    verdict, as it does its provenance, and measure reads it back, the measurement picture
    too."""
    out, record, (segment_row,) = segmented
    table, pictures = tmp_path / "m.csv", tmp_path / "pictures"
    for kind, flag in (("mask", ()), ("av", ("--av",))):
        args = (out / f"eye_{kind}.png", "--json", "--csv", table, "--picture", pictures / kind)
        done = run_cli("measure", *flag, *args)
        assert json.loads(done.stdout)["verdict"] == record["verdict"], kind
        with open(table, newline="") as f:
            (row,) = csv.DictReader(f)
        assert {c: row[c] for c in VERDICT_COLUMNS} == {c: segment_row[c] for c in VERDICT_COLUMNS}
        assert row["verdict_fundus"] in ("True", "False") and row["verdict_quality"] != ""
        picture = written_records(pictures / kind / f"eye_{kind}_measure.png")
        assert encode(picture.verdict) == record["verdict"], kind


def test_a_map_segmented_without_a_verdict_or_with_a_damaged_one_is_measured_without(
    run_cli, tmp_path
):
    """``--no-verdict`` writes none; a damaged verdict text is measured without it, its
    provenance still read."""
    photo = tmp_path / "eye.png"
    Image.fromarray(synthetic_fundus(200, 220)).save(photo)
    run_cli("segment", photo, "--no-verdict", "-o", tmp_path / "out")
    mask = tmp_path / "out" / "eye_mask.png"
    assert written_records(mask).verdict is None
    with Image.open(mask) as image:
        info = PngImagePlugin.PngInfo()
        info.add_text(PNG_KEY, image.info[PNG_KEY])
        info.add_text(VERDICT_PNG_KEY, '{"fundus": true, "usable": "yes"}')
        image.save(tmp_path / "damaged.png", pnginfo=info)
    table = tmp_path / "m.csv"
    done = run_cli("measure", mask, tmp_path / "damaged.png", "--json", "--csv", table)
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["verdict"] for r in records] == [None, None]
    assert all(r["provenance"] is not None for r in records)
    with open(table, newline="") as f:
        assert {row[c] for row in csv.DictReader(f) for c in VERDICT_COLUMNS} == {""}


@pytest.mark.parametrize(
    "odd",
    [
        {"quality": 7.5},  # out of [0, 1]
        {"fundus": False, "usable": True, "reasons": []},  # usable, but no fundus photograph
        {"usable": True},  # usable, with a reason to retake
        {"usable": False, "reasons": []},  # to retake, for no reason
        {"fundus": False, "usable": False, "reasons": []},  # no fundus photograph, by no check
    ],
)
def test_a_verdict_whose_words_disagree_is_measured_without(segmented, run_cli, tmp_path, odd):
    """A verdict text no verdict can be (a forged or hand-edited map's) was read back as one:
    'usable' True beside 'fundus' False, or a quality of 7.5, in the row as if judged, and a
    study keeping the usable rows kept that map."""
    out, record, _ = segmented
    reason = {"code": "blurred", "measure": "sharpness", "value": 1.1, "limit": 1.26}
    judged = {**record["verdict"], "fundus": True, "usable": False, "quality": 0.4}
    text = json.dumps({**judged, "reasons": [reason], **odd})
    assert VerdictRecord.from_text(json.dumps({**judged, "reasons": [reason]})).quality == 0.4
    with Image.open(out / "eye_mask.png") as image:
        info = PngImagePlugin.PngInfo()
        info.add_text(PNG_KEY, image.info[PNG_KEY])
        info.add_text(VERDICT_PNG_KEY, text)
        image.save(tmp_path / "odd.png", pnginfo=info)
    table = tmp_path / "m.csv"
    done = run_cli("measure", tmp_path / "odd.png", "--json", "--csv", table)
    assert json.loads(done.stdout)["verdict"] is None
    with open(table, newline="") as f:
        assert {row[c] for row in csv.DictReader(f) for c in VERDICT_COLUMNS} == {""}


def test_a_map_without_a_record_or_with_a_damaged_one_is_measured_without(run_cli, tmp_path):
    label = np.zeros((120, 120), np.uint8)
    label[60, 10:110] = label[10:110, 60] = 255
    plain = tmp_path / "plain.png"
    Image.fromarray(label).save(plain)
    maps = [plain]
    for name, text in [
        ("garbled", "{not json"),
        (
            "short-digest",
            json.dumps({"software": "x", "model": {"version": "1", "sha256": "ab"}, "config": {}}),
        ),
        ("deep", "[" * 100_000),
    ]:
        info = PngImagePlugin.PngInfo()
        info.add_text(PNG_KEY, text)
        maps.append(tmp_path / f"{name}.png")
        Image.fromarray(label).save(maps[-1], pnginfo=info)
    table = tmp_path / "m.csv"
    done = run_cli("measure", *maps, "--json", "--csv", table)
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["provenance"] for r in records] == [None] * 4
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["ok"] for r in rows] == ["True"] * 4
    assert {r["model_sha256"] for r in rows} == {""}


def test_eval_reports_what_made_the_maps_it_scored(run_cli, make_photo_dataset, tmp_path):
    data = make_photo_dataset(tmp_path / "data", "generic", count=2)
    done = run_cli("eval", data, "--json", "--report", tmp_path / "report")
    made = json.loads(done.stdout)["provenance"]
    assert made["model"] == _identity(DEFAULT_MODEL) and made["artery_vein_model"] is None
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert f"vessel model {made['model']['version']} (SHA-256 {made['model']['sha256']})" in summary
    assert "test-time averaging off" in summary and made["software"] in summary
    with open(tmp_path / "report" / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["name"] for r in rows] == ["eye1", "eye2", "(mean of 2)", "(mean over)"]
    columns = decode(Provenance, made).columns()
    for row in rows[:3]:  # the photographs and their mean
        assert {c: row[c] for c in PROVENANCE_COLUMNS} == {
            c: "" if v is None else str(v) for c, v in columns.items()
        }
    assert {rows[3][c] for c in PROVENANCE_COLUMNS} == {""}  # counts, made by nothing
    for picture in sorted((tmp_path / "report").glob("*_comparison.png")):
        assert encode(written_records(picture).provenance) == made, picture


def test_a_measure_picture_carries_its_maps_provenance(segmented, run_cli, tmp_path):
    """The picture shows the vessels of a map, and says what made them (nothing, for a map
    without a record); its Software chunk names the package that drew it."""
    out, record, _ = segmented
    plain = _cross(tmp_path / "plain.png")
    run_cli("measure", out / "eye_mask.png", plain, "--picture", tmp_path / "pictures")
    pictures = sorted((tmp_path / "pictures").iterdir())
    assert [p.name for p in pictures] == ["eye_mask_measure.png", "plain_measure.png"]
    assert encode(written_records(pictures[0]).provenance) == record["provenance"]
    with Image.open(pictures[1]) as image:
        assert PNG_KEY not in image.info and image.info["Software"] == SOFTWARE


def test_measurements_name_the_package_that_made_them_not_only_the_maps(run_cli, tmp_path):
    """A map segmented on the camera by an older package and measured on a host by this one:
    measurements' definitions change between versions, so the record, the CSV row and the
    picture's Software chunk name the measuring package; the map's provenance is kept as it
    was (its picture's Software chunk named the older package, which drew nothing there)."""
    old = '{"software":"edge-seg 1.1.0","model":null,"config":{}}'
    mask = _cross(tmp_path / "eye_mask.png", old)
    table, pictures = tmp_path / "m.csv", tmp_path / "pictures"
    done = run_cli("measure", mask, "--json", "--csv", table, "--picture", pictures)
    record = json.loads(done.stdout)
    assert (
        record["measured_by"] == SOFTWARE and record["provenance"]["software"] == "edge-seg 1.1.0"
    )
    with open(table, newline="") as f:
        [row] = csv.DictReader(f)
    assert (row["measured_by"], row["software"]) == (SOFTWARE, "edge-seg 1.1.0")
    with Image.open(record["picture"]) as image:
        assert image.info["Software"] == SOFTWARE
    assert written_records(Path(record["picture"])).provenance.software == "edge-seg 1.1.0"


def test_a_predictor_that_is_no_model_file_has_no_identity():
    class Predictor:
        card = ModelCard()
        side = 64

        def predict(self, patches):
            return np.zeros(patches.shape[:3], np.float32)

    made = Segmenter(Predictor(), SegmenterConfig(tta="flip")).provenance
    assert made.model is None and made.artery_vein_model is None
    assert made.config.tta == "flip" and made.config.threshold == ModelCard().threshold
    assert Provenance.from_text(made.text()) == made


def test_an_identity_is_a_sha256_of_the_files_bytes():
    assert ModelIdentity.of(b"abc", None) == ModelIdentity(
        None, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    with pytest.raises(ValueError, match="64 hexadecimal digits"):
        ModelIdentity("1.0", "ABC")


def test_eval_on_patches_reports_what_made_the_masks(run_cli, patches_npz):
    args = ("--images", "x_train", "--labels", "y_train", "--tta", "flip")
    done = run_cli("eval", patches_npz, *args, "--json")
    made = json.loads(done.stdout)["provenance"]
    assert made["model"] == _identity(DEFAULT_MODEL) and made["config"]["tta"] == "flip"


def _cross(path: Path, text: str | None = None) -> Path:
    label = np.zeros((120, 120), np.uint8)
    label[60, 10:110] = label[10:110, 60] = 255
    info = None
    if text is not None:
        info = PngImagePlugin.PngInfo()
        info.add_text(PNG_KEY, text)
    Image.fromarray(label).save(path, pnginfo=info)
    return path


def test_a_record_holding_an_integer_too_large_for_a_float_is_measured_without(run_cli, tmp_path):
    """A map's record whose stride or threshold is an integer of a few hundred digits (valid
    JSON, within Python's digit limit) is read as no record: the map is measured, the other
    maps too, and the CSV is written, with no traceback."""
    huge = "1" + "0" * 400
    maps = [
        _cross(tmp_path / "plain.png"),
        _cross(
            tmp_path / "stride.png",
            '{"software":"x","model":null,"config":{"stride":' + huge + "}}",
        ),
        _cross(
            tmp_path / "threshold.png",
            '{"software":"x","model":null,"config":{"threshold":' + huge + "}}",
        ),
    ]
    table = tmp_path / "m.csv"
    done = run_cli("measure", *maps, "--json", "--csv", table)
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["provenance"] for r in records] == [None] * 3
    with open(table, newline="") as f:
        assert [row["ok"] for row in csv.DictReader(f)] == ["True"] * 3


def test_a_map_replaced_while_measured_is_given_no_provenance(run_cli, tmp_path, monkeypatch):
    """A map replaced while it is measured (a watcher doing its photograph again with an
    updated model) is measured whole, old or new, but which one is not known: it is given no
    provenance rather than the other map's (it was given the new one's), and so is its
    picture (it was given the provenance read before the map was replaced)."""
    import edge_runtime.cli.measure as measure_cli

    old = _cross(tmp_path / "eye_mask.png", '{"software":"old","model":null,"config":{}}')
    new = _cross(tmp_path / "new.png", '{"software":"new","model":null,"config":{}}')
    measured = measure_cli.measure_file

    def replaced_while_measured(path, options):
        analysis = measured(path, options)
        os.replace(new, path)
        return analysis

    monkeypatch.setattr(measure_cli, "measure_file", replaced_while_measured)
    done = run_cli("measure", old, "--json", "--picture", tmp_path / "pictures")
    record = json.loads(done.stdout)
    assert record["provenance"] is None
    with Image.open(record["picture"]) as image:
        assert PNG_KEY not in image.info and image.info["Software"] == SOFTWARE
    monkeypatch.setattr(measure_cli, "measure_file", measured)
    done = run_cli("measure", old, "--json")  # now the new map, left alone while measured
    assert json.loads(done.stdout)["provenance"]["software"] == "new"


def test_the_provenance_follows_the_configuration_in_effect(tmp_path):
    """A segmenter whose ``config`` is replaced (as tests/runtime/test_parallel.py does, and
    as its recipe carries to workers) records the configuration its masks were drawn with."""
    photo = tmp_path / "eye.png"
    Image.fromarray(synthetic_fundus(200, 220)).save(photo)
    segmenter = Segmenter()
    segmenter.config = dataclasses.replace(segmenter.config, threshold=0.2)
    (tmp_path / "out").mkdir()
    record = segment_file(segmenter, photo, output_paths(tmp_path / "out", "eye"), Extras())
    assert record.provenance.config.threshold == 0.2
    assert written_records(Path(record.outputs["mask"])).provenance.config.threshold == 0.2


def test_worker_processes_record_the_parents_provenance(run_cli, tmp_path):
    """With --jobs 2 each photograph is segmented in a worker rebuilt from the parent's
    recipe: its record, CSV row and every map it wrote name the same models and settings."""
    photos = []
    for i in range(3):
        photos.append(tmp_path / f"eye{i}.png")
        Image.fromarray(synthetic_fundus(200 + 10 * i, 220)).save(photos[-1])
    out = tmp_path / "out"
    args = ("--av", "--overlay", "--prob", "--measure", "--threshold", "0.3", "--tta", "flip")
    done = run_cli("segment", *photos, *args, "--jobs", "2", "-o", out, "--json")
    records = [json.loads(line) for line in done.stdout.splitlines()]
    made = Segmenter(
        config=SegmenterConfig(threshold=0.3, tta="flip"), artery_vein=ARTERY_VEIN_MODEL
    ).provenance
    for record in records:
        assert record["provenance"] == encode(made)
        for path in record["outputs"].values():
            assert written_records(Path(path)).provenance == made, path
    with open(out / "measurements.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {row["config_tta"] for row in rows} == {"flip"}
    assert {row["artery_vein_model_sha256"] for row in rows} == {made.artery_vein_model.sha256}


def test_watch_records_and_maps_name_what_made_them(run_cli, tmp_path):
    """``watch --once --json`` records carry the provenance, and the maps it writes too."""
    drop, out = tmp_path / "drop", tmp_path / "out"
    drop.mkdir()
    photo = drop / "eye.png"
    Image.fromarray(synthetic_fundus(200, 220)).save(photo)
    os.utime(photo, (1, 1))
    done = run_cli("watch", drop, "-o", out, "--once", "--json", "--settle", "0", "--overlay")
    (record,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert record["provenance"] == encode(Segmenter().provenance)
    for path in record["outputs"].values():
        assert encode(written_records(Path(path)).provenance) == record["provenance"], path


def test_the_summary_says_what_made_its_maps_in_one_line(
    run_cli, make_photo_dataset, recarded_model, tmp_path
):
    """A model whose card's version holds a line break or a table's bar still gets one
    line in summary.md, and the table after it is intact."""
    version = read_card(read_model_bytes(DEFAULT_MODEL)).model_version  # as long as \\n|x|
    spelled = f'"model_version": "{version}"'.encode()
    model = recarded_model(tmp_path / "odd.tflite", spelled, b'"model_version": "\\n|x|"')
    data = make_photo_dataset(tmp_path / "data", "generic", count=2)
    run_cli("eval", data, "--model", model, "--report", tmp_path / "report")
    lines = (tmp_path / "report" / "summary.md").read_text().splitlines()
    (made,) = [line for line in lines if "SHA-256" in line]
    assert made.startswith("Made by edge-seg ") and made.endswith(".")


def _cross_label() -> np.ndarray:
    label = np.zeros((120, 120), np.uint8)
    label[60, 10:110] = label[10:110, 60] = 255
    return label


def _png_map(path, text):
    info = PngImagePlugin.PngInfo()
    info.add_text(PNG_KEY, text)
    Image.fromarray(_cross_label()).save(path, pnginfo=info)
    return path


def test_a_map_replaced_after_its_provenance_was_read_is_given_none(run_cli, tmp_path, monkeypatch):
    """A map replaced between the reading of its provenance and its measuring (a watcher
    doing it again with an updated model) is measured as the new map: the old map's
    provenance must not be given to it."""
    import edge_runtime.cli.measure as measure_cli

    old = _png_map(tmp_path / "eye_mask.png", '{"software":"old","model":null,"config":{}}')
    new = _png_map(tmp_path / "new.png", '{"software":"new","model":null,"config":{}}')
    read = measure_cli.written_records

    def replaced_after_reading(path):
        made = read(path)
        os.replace(new, path)
        return made

    monkeypatch.setattr(measure_cli, "written_records", replaced_after_reading)
    done = run_cli("measure", old, "--json")
    assert json.loads(done.stdout)["provenance"] is None


@pytest.mark.filterwarnings("ignore:IM image format is deprecated:DeprecationWarning")
def test_only_a_png_maps_text_chunk_is_read_as_its_provenance(run_cli, tmp_path):
    """segment writes its record in a PNG's text chunk only: a map of another format whose
    header happens to hold a field of that name (an IM file's header lines) is measured
    without provenance."""
    pytest.importorskip("PIL.ImImagePlugin")  # Pillow 15 drops the IM format
    text = '{"software":"im","model":null,"config":{}}'
    lines = [b"Image type: Greyscale image", b"Image size (x*y): 120*120"]
    lines.append(f"{PNG_KEY}: {text}".encode())
    header = b"\r\n".join(lines) + b"\r\n"
    path = tmp_path / "cross.im"
    path.write_bytes(header + b"\0" * (511 - len(header)) + b"\x1a" + _cross_label().tobytes())
    with Image.open(path) as image:
        assert image.format == "IM" and image.info[PNG_KEY] == text  # what a reader sees
    assert written_records(path).provenance is None
    record = json.loads(run_cli("measure", path, "--json").stdout)
    assert record["ok"] and record["provenance"] is None


def _png_header_only(path, width, height):
    def chunk(kind, data):
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def test_a_file_whose_record_cannot_be_read_has_no_provenance_and_measure_says_why(
    run_cli, tmp_path
):
    """written_records answers None, never raises, for a path that is no readable map (a
    directory, a missing file) and for a PNG too large to open (a decompression bomb), so
    measure reports such a map with the map reader's message, not as an unexpected
    DecompressionBombError."""
    (tmp_path / "folder.png").mkdir()
    bomb = _png_header_only(tmp_path / "bomb.png", 20_000, 10_000)
    assert written_records(tmp_path / "folder.png").provenance is None
    assert written_records(tmp_path / "missing.png").provenance is None
    assert written_records(bomb).provenance is None
    done = run_cli("measure", bomb, "--json", expect=2)
    error = json.loads(done.stdout)["error"]
    assert error.startswith(f"{bomb}: cannot read a vessel map image") and "unexpected" not in error


def test_an_identity_is_64_lower_case_hexadecimal_digits():
    """A SHA-256 is named as sha256sum prints it: 64 lower-case hexadecimal digits, nothing
    else of that length (upper case, other letters) is one."""
    for digest in ("A" * 64, "g" * 64, "0" * 63 + " "):
        with pytest.raises(ValueError, match="64 hexadecimal digits"):
            ModelIdentity("1.0", digest)


def test_the_summary_names_each_model_a_card_or_not_then_a_blank_line(tmp_path):
    """summary.md's "Made by" paragraph names the vessel model (a file without a card as
    such, not "None") and the artery/vein model chained after it, and a blank line parts it
    from the table that follows (Markdown would join them)."""
    made = dataclasses.replace(
        Segmenter().provenance,
        model=ModelIdentity(None, "a" * 64),
        artery_vein_model=ModelIdentity("2.0", "b" * 64),
    )
    photos = [ScoredPhoto(0.8, 0.7, 0.9, 0.9, 0.9, name="a", photograph="a.png")]
    write_summary(tmp_path, DatasetEvaluation.of("m.tflite", 0.5, photos, made))
    lines = (tmp_path / "summary.md").read_text().splitlines()
    (at,) = [i for i, line in enumerate(lines) if line.startswith("Made by ")]
    assert f"vessel model (no card) (SHA-256 {'a' * 64})" in lines[at]
    assert f"artery/vein model 2.0 (SHA-256 {'b' * 64})" in lines[at]
    assert "None" not in lines[at]
    assert lines[at + 1] == "" and lines[at + 2].startswith("| photograph |")


def test_eval_comparison_pictures_carry_the_settings_in_effect(
    run_cli, make_photo_dataset, tmp_path
):
    """A comparison picture says what made the map it shows, the run's own settings (not the
    defaults): as the JSON record and summary.csv say."""
    data = make_photo_dataset(tmp_path / "data", "generic", count=2)
    report = tmp_path / "report"
    done = run_cli("eval", data, "--json", "--report", report, "--threshold", "0.3")
    made = json.loads(done.stdout)["provenance"]
    assert made["config"]["threshold"] == 0.3
    pictures = sorted(report.glob("*_comparison.png"))
    assert len(pictures) == 2
    for picture in pictures:
        assert encode(written_records(picture).provenance) == made, picture


def test_provenance_can_be_the_first_module_imported():
    """contract/provenance.py imports __version__ from the package whose __init__ imports it
    back: a fresh interpreter that starts there must not meet a half-initialised package."""
    code = "import edge_runtime.contract.provenance as p; assert p.SOFTWARE.startswith('edge-seg ')"
    subprocess.run([sys.executable, "-c", code], check=True)
