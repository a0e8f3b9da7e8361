"""One name of a photograph in every output, for a study to join them by: segment's maps carry
the photograph's file name, and segment's, verdict's and measure's records and CSV rows report
it as ``photograph``."""

import csv
import json
import os
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from edge_runtime.app.outputs import written_records
from edge_runtime.contract.provenance import (
    MAX_PHOTOGRAPH_TEXT,
    PHOTOGRAPH_KEY,
    PNG_KEY,
    photograph_from_text,
)
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.file_names import FILE_NAME_BYTES, utf8_text


def _photo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(synthetic_fundus(200, 220)).save(path)
    return path


def _rows(table: Path) -> list[dict[str, str]]:
    with open(table, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def segmented(tmp_path_factory, run_cli):
    """A photograph in a folder named after a patient, segmented with every output and
    measured: its output folder, JSON record and CSV row."""
    folder = tmp_path_factory.mktemp("names")
    photo = _photo(folder / "smith-john" / "05_test.png")
    out = folder / "out"
    args = ("--av", "--measure", "--overlay", "--prob", "-o", out, "--json")
    record = json.loads(run_cli("segment", photo, *args).stdout)
    (row,) = _rows(out / "measurements.csv")
    return out, record, row


def test_every_map_names_its_photograph_by_its_file_name_alone(segmented):
    """The name, not the path: a map is copied between machines, and a folder above the
    photograph may be named after the patient."""
    _, record, row = segmented
    assert record["photograph"] == row["photograph"] == "05_test.png"
    assert set(record["outputs"]) == {"mask", "overlay", "prob", "artery_vein"}
    for path in record["outputs"].values():
        with Image.open(path) as image:
            assert image.info[PHOTOGRAPH_KEY] == "05_test.png", path
            assert not any("smith-john" in str(text) for text in image.info.values()), path
        assert written_records(Path(path)).photograph == "05_test.png"


def test_measure_reports_the_photograph_of_a_map_in_its_record_csv_and_picture(
    segmented, run_cli, tmp_path
):
    """measure's record and row named the map alone (out/05_test_mask.png): the photograph was
    joined to it only by rebuilding its name from the map's."""
    out, _, segment_row = segmented
    table, pictures = tmp_path / "m.csv", tmp_path / "pictures"
    args = ("--json", "--csv", table, "--picture", pictures)
    done = run_cli("measure", out / "05_test_mask.png", *args)
    record = json.loads(done.stdout)
    assert list(record)[-1] == "photograph"  # the keys before it stay where they were
    assert record["photograph"] == "05_test.png"
    (row,) = _rows(table)
    assert list(row)[:3] == ["path", "photograph", "ok"]
    assert row["photograph"] == segment_row["photograph"] == "05_test.png"
    assert written_records(pictures / "05_test_mask_measure.png").photograph == "05_test.png"


def test_a_map_that_names_no_photograph_or_no_file_reads_null(segmented, run_cli, tmp_path):
    """An older package's map (its provenance, no name), a label drawn by hand, and a chunk
    that is no file name (a path, empty, too long) name no photograph: null, an empty cell."""
    out, _, _ = segmented
    with Image.open(out / "05_test_mask.png") as image:
        image.load()
    maps = []
    for name, text in [
        ("older", None),
        ("path", "smith-john/05_test.png"),
        ("empty", ""),
        ("long", "x" * (MAX_PHOTOGRAPH_TEXT + 1)),
    ]:
        info = PngImagePlugin.PngInfo()
        info.add_text(PNG_KEY, image.info[PNG_KEY])
        if text is not None:
            info.add_text(PHOTOGRAPH_KEY, text)
        maps.append(tmp_path / f"{name}.png")
        image.save(maps[-1], pnginfo=info)
    maps.append(tmp_path / "hand.png")
    image.save(maps[-1])
    table = tmp_path / "m.csv"
    done = run_cli("measure", *maps, "--json", "--csv", table)
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["photograph"] for r in records] == [None] * 5
    assert records[0]["provenance"] is not None  # read: only the name is missing
    assert [r["photograph"] for r in _rows(table)] == [""] * 5


def test_a_name_is_read_back_as_a_file_name_or_not_at_all():
    longest = utf8_text(os.fsdecode(b"\xff" * FILE_NAME_BYTES))  # each byte escaped
    assert photograph_from_text(longest) == longest and len(longest) == MAX_PHOTOGRAPH_TEXT
    assert photograph_from_text("x" * MAX_PHOTOGRAPH_TEXT) == "x" * MAX_PHOTOGRAPH_TEXT
    bad = (None, 7, "", ".", "..", "a/b.png", "/", "a\0.png", "x" * (MAX_PHOTOGRAPH_TEXT + 1))
    for text in bad:
        assert photograph_from_text(text) is None, text


@pytest.mark.skipif(os.name != "posix", reason="a file name's bytes are POSIX's")
@pytest.mark.parametrize(
    ("raw", "said", "chunk"),
    [
        (b"caf\xe9.png", "caf\\udce9.png", b"tEXt"),  # not UTF-8: as JSON and CSV write it
        ("网膜\n.png".encode(), "网膜\n.png", b"iTXt"),  # not Latin-1: a UTF-8 chunk
    ],
)
def test_a_name_that_is_not_utf8_or_latin1_is_written_as_the_records_write_it(
    run_cli, tmp_path, raw, said, chunk
):
    """A name whose bytes are not UTF-8 cannot be written as PNG text (a lone surrogate): it
    is written as the records and CSV write it; one that is not Latin-1 goes in a UTF-8 iTXt
    chunk; measure reports what segment reported."""
    photo = _photo(Path(os.fsdecode(bytes(tmp_path) + b"/" + raw)))
    out = tmp_path / "out"
    record = json.loads(run_cli("segment", photo, "-o", out, "--json").stdout)
    assert record["photograph"] == said
    (mask,) = out.glob("*_mask.png")  # the record writes its path as text, as the name
    assert chunk + PHOTOGRAPH_KEY.encode() in mask.read_bytes()
    table = tmp_path / "m.csv"
    measured = json.loads(run_cli("measure", mask, "--json", "--csv", table).stdout)
    assert measured["photograph"] == said
    assert [row["photograph"] for row in _rows(table)] == [said]


def test_verdict_names_the_photograph_as_segment_does(segmented, run_cli, tmp_path):
    photo = _photo(tmp_path / "smith-john" / "05_test.png")
    record = json.loads(run_cli("verdict", photo, "--json", expect=3).stdout)
    assert list(record)[-1] == "photograph"
    assert record["photograph"] == segmented[1]["photograph"] == "05_test.png"


def test_watch_writes_maps_that_name_their_photograph(run_cli, tmp_path):
    """watch writes its maps through segment's writer, and so names their photograph."""
    drop, out = tmp_path / "drop", tmp_path / "out"
    photo = _photo(drop / "eye.png")
    os.utime(photo, (1, 1))
    done = run_cli("watch", drop, "-o", out, "--once", "--json", "--settle", "0", "--overlay")
    (record,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert record["photograph"] == "eye.png"
    for path in record["outputs"].values():
        assert written_records(Path(path)).photograph == "eye.png", path


def test_segment_and_verdict_name_the_photograph_of_a_failure(run_cli, tmp_path):
    """A photograph that failed is named as one that did not, in the record and in segment
    --measure's CSV row (an empty cell, where a study joining the outputs lost it)."""
    (tmp_path / "bad.png").write_bytes(b"not a picture")
    bad, missing, out = tmp_path / "bad.png", tmp_path / "missing.png", tmp_path / "out"
    done = run_cli("segment", bad, missing, "--measure", "-o", out, "--json", expect=1)
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["ok"], r["photograph"]) for r in records] == [
        (False, "bad.png"),
        (False, "missing.png"),
    ]
    assert [row["photograph"] for row in _rows(out / "measurements.csv")] == [
        "bad.png",
        "missing.png",
    ]
    (record,) = [json.loads(run_cli("verdict", bad, "--json", expect=1).stdout)]
    assert (record["ok"], record["photograph"]) == (False, "bad.png")


def test_a_pattern_that_matched_nothing_names_no_photograph(run_cli, tmp_path):
    """segment 'np/*/nothing*.jpg' gave "photograph": "nothing*.jpg": a pattern is no
    photograph; a file missing beside it is still named, and so is a file named with ``*``."""
    pattern, missing = str(tmp_path / "*" / "nothing*.jpg"), tmp_path / "missing.jpg"
    starred = tmp_path / "star*.png"
    starred.write_bytes(b"not a picture")
    inputs = (pattern, missing, starred)
    done = run_cli("segment", *inputs, "-o", tmp_path / "out", "--json", expect=1)
    named = [json.loads(line)["photograph"] for line in done.stdout.splitlines()]
    assert named == [None, "missing.jpg", "star*.png"]
    done = run_cli("verdict", *inputs, "--json", expect=1)
    assert [json.loads(line)["photograph"] for line in done.stdout.splitlines()] == named


def test_measure_names_the_photograph_of_a_map_that_failed_where_the_map_says(
    segmented, run_cli, tmp_path
):
    """A map that is read but cannot be measured (a vessel map measured as arteries and veins)
    names its photograph, as it says it; one that cannot be read names none."""
    out, _, _ = segmented
    (tmp_path / "bad.png").write_bytes(b"not a picture")
    table = tmp_path / "m.csv"
    args = ("--av", "--json", "--csv", table)
    done = run_cli("measure", out / "05_test_mask.png", tmp_path / "bad.png", *args, expect=1)
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["ok"], r["photograph"]) for r in records] == [(False, "05_test.png"), (False, None)]
    assert [row["photograph"] for row in _rows(table)] == ["05_test.png", ""]
    assert all(row["model_sha256"] == "" for row in _rows(table))  # the name alone


def test_watch_names_the_photograph_of_a_failure(run_cli, tmp_path):
    drop, out = tmp_path / "drop", tmp_path / "out"
    drop.mkdir()
    (drop / "bad.png").write_bytes(b"not a picture")
    os.utime(drop / "bad.png", (1, 1))
    done = run_cli("watch", drop, "-o", out, "--once", "--json", "--settle", "0", expect=1)
    (record,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert (record["ok"], record["photograph"]) == (False, "bad.png")


@pytest.mark.parametrize("artery_vein", [False, True])  # measured, and failed
def test_a_map_replaced_while_it_is_measured_names_no_photograph(
    segmented, run_cli, tmp_path, monkeypatch, artery_vein
):
    """What was read of the map's chunks may be another file's than what was measured: none of
    it is reported, the photograph's name included."""
    import edge_runtime.cli.measure as measure_module

    out, _, _ = segmented
    mask = tmp_path / "05_test_mask.png"
    mask.write_bytes((out / "05_test_mask.png").read_bytes())
    measured = measure_module.measure_file

    def replacing(path, options):
        with Image.open(path) as image:
            image.load()
        image.save(tmp_path / "other.png")  # the same map, without the chunks
        os.replace(tmp_path / "other.png", path)
        return measured(path, options)

    monkeypatch.setattr(measure_module, "measure_file", replacing)
    flags = ("--av",) if artery_vein else ()
    done = run_cli("measure", mask, *flags, "--json", expect=2 if artery_vein else 0)
    record = json.loads(done.stdout)
    assert record["ok"] is not artery_vein and record["photograph"] is None
