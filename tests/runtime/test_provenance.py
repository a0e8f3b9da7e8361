"""What made an output: every record, CSV row, written map and report names the package, the
models (version and SHA-256 of the file) and the segmenter's settings, so that a study can
tell which model drew and measured what."""

import csv
import hashlib
import json

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from edge_runtime import Segmenter
from edge_runtime.app.outputs import written_provenance
from edge_runtime.contract.model_card import ModelCard
from edge_runtime.contract.provenance import PNG_KEY, ModelIdentity, Provenance
from edge_runtime.contract.schema import encode
from edge_runtime.contract.segmenter_config import SegmenterConfig
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.inference.bundled import ARTERY_VEIN_MODEL, DEFAULT_MODEL
from edge_runtime.inference.model_file import read_card, read_model_bytes


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
        assert encode(written_provenance(path)) == record["provenance"], path


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
