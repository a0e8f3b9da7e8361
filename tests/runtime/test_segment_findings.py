"""The verdict and the measurements everywhere a user looks: the Python API's Result, segment
(--json, the line per photograph, the not-fundus warning and exit status 4, --measure and its
CSV) and the watch folder."""

import csv
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edge_runtime import ArteryVeinModel, CameraScale, Result, Segmenter
from edge_runtime.cli.verdict import EXIT_NOT_FUNDUS, EXIT_RETAKE
from edge_runtime.contract.measurement_record import MapMeasurements
from edge_runtime.contract.provenance import COLUMNS as PROVENANCE_COLUMNS
from edge_runtime.contract.verdict_record import COLUMNS as VERDICT_COLUMNS
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.inference.bundled import DEFAULT_MODEL
from edge_runtime.measure.files import COLUMNS
from edge_runtime.measure.measurements import NotVessels
from edge_runtime.measure.scale import NoScale
from edge_runtime.pipeline import segmenter as pipeline
from edge_runtime.verdict import Verdict, assess_capture


@pytest.fixture(scope="module")
def segmenter():
    return Segmenter()


def _fundus(path, seed=0):
    Image.fromarray(synthetic_fundus(200, 220, seed=seed)).save(path)
    return path


def _blue(path):
    """A picture that is no fundus photograph: a cold, flat blue."""
    Image.fromarray(np.full((150, 160, 3), (40, 90, 200), np.uint8)).save(path)
    return path


def test_the_api_result_has_a_verdict_and_lazy_measurements(segmenter, tmp_path):
    result = segmenter.segment(synthetic_fundus(200, 220))
    assert isinstance(result, Result)
    assert "measurements" not in vars(result)  # nothing measured until asked
    assert isinstance(result.verdict, Verdict) and result.verdict.fundus
    assert result.verdict.vessels is not None  # the vessel map counts
    measured = result.measurements
    assert isinstance(measured, MapMeasurements)
    assert measured.vessels.vessel_pixels == int(result.mask.sum())
    assert measured.field_area_px == int(result.fov.sum())
    assert (measured.width, measured.height) == (220, 200)


def test_the_api_measures_in_millimetres_with_the_camera_scale(segmenter):
    result = segmenter.segment(synthetic_fundus(200, 220))
    assert result.measurements.mm_per_px is None and result.measurements.vessels.length_mm is None
    scaled = result.measure(CameraScale(field_degrees=45))
    mm_per_px = 45 * 0.288 / scaled.field_diameter_px  # across the detected field of view
    assert scaled.mm_per_px == pytest.approx(mm_per_px)
    assert scaled.vessels.length_px == result.measurements.vessels.length_px  # same map
    assert scaled.vessels.length_mm == pytest.approx(scaled.vessels.length_px * mm_per_px)
    given = result.measure(CameraScale(mm_per_px=0.01))
    assert given.vessels.mean_width_mm == pytest.approx(given.vessels.mean_width_px * 0.01)
    with pytest.raises(TypeError, match="got camera 45, expected a CameraScale"):
        result.measure(45)  # an AttributeError deep inside, once


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"mm_per_px": 0.01, "field_degrees": 45}, "expected one"),
        ({"mm_per_px": 0.0}, "0.0 mm per pixel"),
        ({"mm_per_px": float("nan")}, "nan mm per pixel"),
        ({"mm_per_px": 1e-20}, "1e-20 mm per pixel, expected 0.0001 to 1"),  # µm as mm, and less
        ({"mm_per_px": 2.0}, "2.0 mm per pixel"),
        ({"mm_per_px": True}, "got mm_per_px True, expected a number"),  # once 1 mm a pixel
        ({"field_degrees": "45"}, "got field_degrees '45', expected a number"),
        ({"field_degrees": 0.5}, "0.5 degrees, expected 1 to 180"),
        ({"field_degrees": float("inf")}, "inf degrees"),
    ],
)
def test_a_camera_scale_that_would_give_wrong_millimetres_is_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        CameraScale(**settings)


def test_a_blue_picture_is_judged_not_fundus_by_the_api(segmenter, tmp_path):
    verdict = segmenter.segment(str(_blue(tmp_path / "blue.png"))).verdict
    assert not verdict.fundus and verdict.reasons[0].code == "not-fundus"
    assert assess_capture(tmp_path / "blue.png").fundus is False  # the capture loop agrees


def test_verdict_and_measurements_leave_mask_and_probabilities_bit_identical(segmenter):
    photo = synthetic_fundus(230, 250, seed=4)
    plain = pipeline.Segmenter(segmenter.runtime, segmenter.config).segment(photo)
    judged = segmenter.segment(photo)
    judged.verdict, judged.measurements  # noqa: B018 - read them before comparing
    assert np.array_equal(plain.mask, judged.mask)
    assert np.array_equal(plain.probability, judged.probability)


def test_segment_json_carries_the_verdict_and_on_request_measurements(tmp_path, run_cli):
    photo = _fundus(tmp_path / "a.png")
    out = tmp_path / "out"
    record = json.loads(run_cli("segment", photo, "-o", out, "--json").stdout)
    assert list(record["verdict"]) == [
        "fundus",
        "usable",
        "quality",
        "reasons",
        "measurements",
        "vessels",
    ]
    assert record["verdict"]["fundus"] is True and 0 <= record["verdict"]["quality"] <= 1
    assert record["measurements"] is None and "verdict" in record["stages_ms"]
    assert not (out / "measurements.csv").exists()
    measured = json.loads(run_cli("segment", photo, "-o", out, "--json", "--measure").stdout)
    assert measured["measurements"]["vessels"]["vessel_pixels"] > 0
    assert measured["measurements"]["field"] == "mask" and "measure" in measured["stages_ms"]
    off = json.loads(run_cli("segment", photo, "-o", out, "--json", "--no-verdict").stdout)
    assert off["verdict"] is None and "verdict" not in off["stages_ms"]


def test_segment_measures_in_millimetres_with_the_camera_field_of_view(tmp_path, run_cli):
    photo, out = _fundus(tmp_path / "a.png"), tmp_path / "out"
    args = ("segment", photo, "-o", out, "--json", "--measure")
    record = json.loads(run_cli(*args, "--fov-degrees", "45").stdout)["measurements"]
    assert record["mm_per_px"] == pytest.approx(45 * 0.288 / record["field_diameter_px"])
    length = record["vessels"]["length_px"] * record["mm_per_px"]
    assert record["vessels"]["length_mm"] == pytest.approx(length)
    with open(out / "measurements.csv", newline="") as f:
        row = next(csv.DictReader(f))
    assert float(row["vessels_length_mm"]) == pytest.approx(length)
    record = json.loads(run_cli(*args, "--pixel-mm", "0.01").stdout)["measurements"]
    assert record["mm_per_px"] == 0.01


def _crop(path):
    """The middle of a fundus photograph, without its dark border: no field of view to find."""
    Image.fromarray(synthetic_fundus(400, 400)[100:300, 100:300]).save(path)
    return path


def test_a_field_of_view_in_degrees_gives_no_millimetres_where_none_was_found(
    tmp_path, run_cli, segmenter
):
    """The frame is not the camera's field of view: its 200 pixels once made 45 degrees, and
    every length in millimetres wrong by the crop's ratio, without a word."""
    photo, out = _crop(tmp_path / "crop.png"), tmp_path / "out"
    args = ("segment", photo, "-o", out, "--json", "--measure")
    done = run_cli(*args, "--fov-degrees", "45")
    record = json.loads(done.stdout)
    assert record["fov_found"] is False
    assert record["measurements"]["mm_per_px"] is None
    assert record["measurements"]["vessels"]["length_mm"] is None
    assert done.stderr == (
        f"warning: {photo}: no field of view found, so --fov-degrees gives no millimetres "
        "(--pixel-mm does)\n"
    )
    given = run_cli(*args, "--pixel-mm", "0.01")  # a pixel size needs no field of view
    assert json.loads(given.stdout)["measurements"]["mm_per_px"] == 0.01 and not given.stderr
    result = segmenter.segment(str(photo))
    assert result.measure(CameraScale(field_degrees=45)).mm_per_px is None


def test_a_field_of_view_too_small_for_its_degrees_fails_on_one_line(tmp_path, run_cli):
    """'unexpected ValueError: a field of view 36 pixels across makes 180 degrees 1.44 mm a
    pixel...'"""
    photo = tmp_path / "small.png"
    fundus = np.zeros((100, 100, 3), np.uint8)
    fundus[30:70, 30:70] = synthetic_fundus(40, 40, seed=3)
    Image.fromarray(fundus).save(photo)
    args = ("segment", photo, "-o", tmp_path / "out", "--measure", "--fov-degrees", "180")
    done = run_cli(*args, expect=1)
    assert "unexpected" not in done.stderr
    assert f"error: {photo}: a field of view " in done.stderr and "degrees" in done.stderr
    assert "mm a pixel, expected 0.0001 to 1: no millimetres" in done.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--fov-degrees", "45"], "scale --measure: add it"),
        (["--pixel-mm", "0.01"], "scale --measure: add it"),
        (["--measure", "--fov-degrees", "45", "--pixel-mm", "0.01"], "exclude each other"),
        (["--measure", "--fov-degrees", "0"], "--fov-degrees"),
    ],
)
def test_a_scale_without_measure_or_twice_is_refused_before_any_work(
    tmp_path, run_cli, options, message
):
    out = tmp_path / "out"
    done = run_cli("segment", _fundus(tmp_path / "a.png"), "-o", out, *options, expect=2)
    assert message in done.stderr and not out.exists()


def test_segment_measure_writes_one_csv_row_per_input_failures_included(tmp_path, run_cli):
    good, missing = _fundus(tmp_path / "a.png"), tmp_path / "missing.png"
    out = tmp_path / "out"
    done = run_cli("segment", good, missing, "-o", out, "--measure", "--json", expect=1)
    record = json.loads(done.stdout.splitlines()[0])
    with open(out / "measurements.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    header = ["path", "photograph", "ok", "error", *VERDICT_COLUMNS, "measured_by", *COLUMNS]
    assert list(rows[0]) == [*header, *PROVENANCE_COLUMNS]
    assert [row["path"] for row in rows] == [str(good), str(missing)]
    assert rows[0]["ok"] == "True" and rows[1]["ok"] == "False" and rows[1]["error"]
    assert [row["measured_by"] for row in rows] == [record["provenance"]["software"], ""]
    pixels = record["measurements"]["vessels"]["vessel_pixels"]
    assert int(rows[0]["vessels_vessel_pixels"]) == pixels


def test_each_csv_row_carries_its_photograph_s_verdict(tmp_path, run_cli):
    """A picture that is no fundus photograph, or one to retake, had its row of measurements
    (an AVR of 0.57 for a photograph of an astronaut) with ok True and nothing else: a study
    reading the CSV pooled it with the rest."""
    photo, blue = _fundus(tmp_path / "a.png"), _blue(tmp_path / "blue.png")
    out = tmp_path / "out"
    args = ("segment", photo, blue, tmp_path / "missing.png", "-o", out, "--measure", "--json")
    done = run_cli(*args, expect=1)
    records = [json.loads(line) for line in done.stdout.splitlines()]
    with open(out / "measurements.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for record, row in zip(records[:2], rows, strict=False):
        verdict = record["verdict"]
        assert row["ok"] == "True" and row["vessels_density"] != ""  # measured
        assert (row["verdict_fundus"], row["verdict_usable"]) == (
            str(verdict["fundus"]),
            str(verdict["usable"]),
        )
        assert float(row["verdict_quality"]) == verdict["quality"]
        codes = [reason["code"] for reason in verdict["reasons"]]
        assert [
            part.split(" (")[0] for part in filter(None, row["verdict_reasons"].split(", "))
        ] == codes
    assert rows[1]["verdict_fundus"] == "False" and rows[1]["verdict_usable"] == "False"
    assert rows[1]["verdict_reasons"].startswith("not-fundus (contrast 0 < ")
    assert all(rows[2][column] == "" for column in VERDICT_COLUMNS)  # it failed: no verdict
    run_cli("segment", photo, "-o", out, "--measure", "--no-verdict")
    with open(out / "measurements.csv", newline="") as f:
        [row] = list(csv.DictReader(f))
    assert row["ok"] == "True" and all(row[column] == "" for column in VERDICT_COLUMNS)


def test_a_name_not_utf_8_is_written_to_the_csv_escaped_as_messages_show_it(tmp_path, run_cli):
    """A traceback once, after every photograph was done: no CSV and no summary line."""
    odd = Path(os.fsdecode(bytes(tmp_path / "p") + b"\xff.png"))
    shutil.copy(_fundus(tmp_path / "a.png"), odd)
    out = tmp_path / "out"
    done = run_cli("segment", odd, tmp_path / "a.png", "-o", out, "--measure", expect=0)
    assert "Traceback" not in done.output and "2 photographs" in done.stdout
    rows = (out / "measurements.csv").read_text(encoding="utf-8").splitlines()
    assert rows[1].startswith(f"{tmp_path / 'p'}\\udcff.png,p\\udcff.png,True,")


def _strings(value):
    """Every string (and key) of parsed JSON."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_names_not_utf_8_are_written_to_every_json_line_escaped_as_messages_show_them(
    tmp_path, run_cli
):
    """segment, measure, verdict (a photograph it read or not), bench, watch and info --json
    wrote them as lone surrogates (caf\\udce9), which strict readers refuse and jq or JavaScript
    read as U+FFFD (caf\\xe8 and caf\\xe9 one name there); they are written as the escape
    messages and the CSV show."""
    ends = (b"\xe8", b"\xe9")
    photos = [_fundus(Path(os.fsdecode(bytes(tmp_path / "caf") + end + b".png"))) for end in ends]
    shown = [f"{tmp_path / 'caf'}\\udce8.png", f"{tmp_path / 'caf'}\\udce9.png"]
    out = tmp_path / "out"
    masks = [Path(os.fsdecode(bytes(out / "caf") + end + b"_mask.png")) for end in ends]
    shown_masks = [f"{out / 'caf'}\\udce8_mask.png", f"{out / 'caf'}\\udce9_mask.png"]

    def records(*args, expect=0) -> list[dict]:
        lines = run_cli(*args, "--json", expect=expect).stdout.splitlines()
        parsed = [json.loads(line) for line in lines]
        for text in (text for record in parsed for text in _strings(record)):
            text.encode("utf-8")  # no lone surrogate
        return parsed

    segmented = records("segment", *photos, "-o", out, "--measure")
    assert [r["path"] for r in segmented] == shown
    assert [r["outputs"]["mask"] for r in segmented] == shown_masks
    assert [r["path"] for r in records("measure", *masks)] == shown_masks
    assert [r["path"] for r in records("verdict", *photos, expect=EXIT_RETAKE)] == shown
    assert [r["photo"] for r in records("bench", "--image", photos[0], "--runs", "1")] == shown[:1]
    drop = tmp_path / "drop"
    drop.mkdir()
    for photo in photos:
        os.utime(shutil.copy(photo, drop / photo.name), (time.time() - 10,) * 2)  # settled
    watched = records("watch", drop, "-o", tmp_path / "watched", "--once")
    assert sorted(r["path"] for r in watched) == [f"{drop / 'caf'}\\udce{n}.png" for n in (8, 9)]
    unreadable = Path(os.fsdecode(bytes(tmp_path / "bad") + ends[1] + b".png"))
    unreadable.write_bytes(b"not a photograph")
    failed = records("verdict", unreadable, expect=1)
    assert [(r["path"], r["ok"]) for r in failed] == [(f"{tmp_path / 'bad'}\\udce9.png", False)]
    model = Path(os.fsdecode(bytes(tmp_path / "caf") + ends[1] + b".tflite"))
    shutil.copy(DEFAULT_MODEL, model)
    described = records("info", "--model", model)
    assert [r["model"] for r in described] == [f"{tmp_path / 'caf'}\\udce9.tflite"]


def test_a_name_that_a_spreadsheet_would_run_as_a_formula_is_written_as_text(
    tmp_path, run_cli, monkeypatch
):
    """Photographs named =1+1.png and +cmd.png gave the cells =1+1.png (Excel and LibreOffice
    run it, OWASP's CSV injection) and +cmd.png: its error too, which starts with its path."""
    monkeypatch.chdir(tmp_path)
    _fundus(tmp_path / "=1+1.png")
    (tmp_path / "+cmd.png").write_text("no image")
    run_cli("segment", "=1+1.png", "+cmd.png", "-o", "out", "--measure", expect=1)
    with open(tmp_path / "out" / "measurements.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(row["path"], row["ok"]) for row in rows] == [
        ("'=1+1.png", "True"),
        ("'+cmd.png", "False"),
    ]
    assert rows[1]["error"].startswith("'+cmd.png: ")
    assert float(rows[0]["vessels_density"]) > 0


def test_a_csv_target_that_is_a_folder_stops_segment_before_any_work(tmp_path, run_cli):
    out = tmp_path / "out"
    (out / "measurements.csv").mkdir(parents=True)
    done = run_cli("segment", _fundus(tmp_path / "a.png"), "-o", out, "--measure", expect=2)
    assert "measurements.csv: is a folder, not a file to write" in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["measurements.csv"]


def test_segment_names_the_verdict_in_its_line_and_warns_of_a_picture_not_fundus(tmp_path, run_cli):
    photo, blue = _fundus(tmp_path / "a.png"), _blue(tmp_path / "blue.png")
    done = run_cli("segment", photo, blue, "-o", tmp_path / "out", expect=EXIT_NOT_FUNDUS)
    lines = done.stdout.splitlines()
    assert any(word in lines[0] for word in (": ok;", ": retake: "))
    assert ": not fundus;" in lines[1] and "1 not fundus" in lines[2]
    assert f"warning: {blue}: not a fundus photograph (" in done.stderr
    assert (tmp_path / "out" / "blue_mask.png").exists()  # its mask is still written
    run_cli("segment", photo, "-o", tmp_path / "out")  # a fundus photograph alone: 0


def test_a_failure_outranks_a_picture_not_fundus_in_the_exit_status(tmp_path, run_cli):
    blue = _blue(tmp_path / "blue.png")
    run_cli("segment", blue, tmp_path / "missing.png", "-o", tmp_path / "out", expect=1)


def test_watch_json_carries_the_verdict_and_measurements_and_warns(tmp_path, run_cli):
    drop, out = tmp_path / "drop", tmp_path / "out"
    drop.mkdir()
    _fundus(drop / "eye.png")
    _blue(drop / "blue.png")
    old = time.time() - 10
    for path in drop.iterdir():
        os.utime(path, (old, old))
    done = run_cli("watch", drop, "-o", out, "--once", "--json", "--measure", "--fov-degrees", "45")
    records = {json.loads(line)["path"]: json.loads(line) for line in done.stdout.splitlines()}
    eye, blue = records[str(drop / "eye.png")], records[str(drop / "blue.png")]
    assert eye["verdict"]["fundus"] is True and eye["measurements"]["vessels"]["segments"] >= 0
    assert eye["measurements"]["mm_per_px"] > 0  # millimetres, from the camera's field of view
    assert blue["verdict"]["fundus"] is False
    assert f"warning: {drop / 'blue.png'}: not a fundus photograph (" in done.stderr
    (out / ".edge-seg-watch.json").unlink()  # all done again, in text, beside the first
    text = run_cli("watch", drop, "-o", out, "--once").stdout
    assert f"{drop / 'blue.png'} -> {out / 'blue-2_mask.png'}: not fundus (" in text
    refused = run_cli("watch", drop, "-o", out, "--once", "--measure", expect=2)  # nowhere to go
    assert "--measure needs --json: the JSON records carry the measurements" in refused.output


def test_a_photograph_without_a_field_of_view_is_measured_in_the_frame_as_measure_does(
    tmp_path, segmenter
):
    """segment --measure once called it a mask, its diameter the frame's long side."""
    photo = tmp_path / "wide.png"
    Image.fromarray(synthetic_fundus(400, 400)[150:250, 60:340]).save(photo)
    result = segmenter.segment(str(photo))
    assert result.stats.fov_found is False
    measured = result.measurements
    assert (measured.field, measured.field_diameter_px) == ("frame", 100.0)


def test_a_model_map_that_is_no_vessel_map_is_not_measured_and_its_files_stand(
    tmp_path, run_cli, monkeypatch
):
    """A model marking most of the field failed the whole photograph (no mask written) once
    the share check moved into the measurements, with a hint (an inverted mask?) that is no
    photograph's: its files are written, its measurements null, and it says why."""
    from edge_runtime.inference import patch_model

    monkeypatch.setattr(
        patch_model.PatchModel, "predict", lambda self, tiles: np.ones(tiles.shape[:3], np.float32)
    )
    photo = _fundus(tmp_path / "a.png")
    out = tmp_path / "out"
    done = run_cli("segment", photo, "-o", out, "--json", "--measure", "--jobs", "1")
    record = json.loads(done.stdout)
    reason = "its vessel map is no vessel map to measure: vessels cover 100% of the field of view"
    assert record["ok"] and record["measurements"] is None
    assert record["not_measured"].startswith(reason)
    assert record["warnings"] == [f"{photo}: {record['not_measured']}"]
    assert "inverted" not in record["not_measured"]
    assert (out / "a_mask.png").is_file()
    with open(out / "measurements.csv", newline="") as file:
        row = next(csv.DictReader(file))
    assert (row["ok"], row["error"]) == ("False", record["not_measured"])
    # the map stands, so its row still names the models and settings that drew it
    assert row["model_sha256"] == record["provenance"]["model"]["sha256"]
    assert row["config_tta"] == record["provenance"]["config"]["tta"]


def test_a_mask_that_is_no_vessel_map_is_refused_before_its_scale_and_arteries(monkeypatch):
    """A mask over the whole field (an inverted one, say) is no vessel map: that is said, not
    that the field's degrees make no scale, and the artery/vein model is not run for it."""
    fundus = np.zeros((100, 100, 3), np.uint8)
    fundus[30:70, 30:70] = synthetic_fundus(40, 40, seed=3)  # a field 36 pixels across
    result = Segmenter(artery_vein=ArteryVeinModel()).segment(fundus)
    camera = CameraScale(field_degrees=180)
    with pytest.raises(NoScale, match=r"^a field of view 36 pixels across makes 180 degrees"):
        result.measure(camera)
    result.mask[:] = 1
    monkeypatch.setattr(Result, "make_artery_vein", lambda self: pytest.fail("arteries made"))
    with pytest.raises(NotVessels, match=r"^vessels cover 100% of the field of view, expected"):
        result.measure(camera)
