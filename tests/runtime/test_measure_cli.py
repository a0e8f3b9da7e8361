"""``edge-seg measure``: its outputs (text, JSON, CSV, pictures) and bad input (one line naming
the file, an honest exit status, the other maps still measured)."""

import csv
import dataclasses
import json
import os
import re

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw
from test_measure_maps import GREEN, ray, star, star_off_the_diagonal

from edge_runtime.app.measurement_csv import measurement_row, write_measurement_csv
from edge_runtime.cli.main import cli
from edge_runtime.cli.measure import _picture_paths
from edge_runtime.contract.provenance import COLUMNS as PROVENANCE_COLUMNS
from edge_runtime.contract.provenance import SOFTWARE
from edge_runtime.contract.verdict_record import COLUMNS as VERDICT_COLUMNS
from edge_runtime.data.binary_image import NEAR_BLACK
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.measure.field import whole_frame
from edge_runtime.measure.files import COLUMNS
from edge_runtime.measure.measurements import analyse_map
from edge_runtime.measure.picture import COLOURS
from edge_runtime.measure.scale import scale_from_pixel_size


def run(*args):
    return CliRunner().invoke(cli, ["measure", *map(str, args)])


@pytest.fixture
def maps(tmp_path):
    """A vessel mask (0/255 PNG), an artery/vein label and a field-of-view mask, 300x300."""
    label = star()
    vessel = tmp_path / "eye.png"
    Image.fromarray((label.any(axis=2) * 255).astype(np.uint8)).save(vessel)
    av = tmp_path / "eye_av.png"
    Image.fromarray(label).save(av)
    yy, xx = np.mgrid[:300, :300]
    fov = tmp_path / "fov.png"
    Image.fromarray((np.hypot(yy - 150, xx - 150) <= 148).astype(np.uint8) * 255).save(fov)
    return vessel, av, fov


def one_line_error(result, *needles):
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert lines and all(n in lines[0] for n in needles), result.output
    assert "Traceback" not in result.output


def test_text_line_per_map_and_summary(maps):
    vessel, _, _ = maps
    result = run(vessel)
    assert result.exit_code == 0, result.output
    first, summary = result.output.splitlines()
    assert first.startswith(f"{vessel}: vessels ") and "end and" in first and "disc at" in first
    assert summary.startswith("measured 1 of 1 maps")
    # Grisan's tortuosity density, not to be read as the vessels' density beside it
    assert re.search(r"tortuosity [0-9.]+, tortuosity density [0-9.]+ \(\d+ segments\)", first)


def test_json_of_an_artery_vein_map_in_millimetres(maps):
    _, av, fov = maps
    result = run(av, "--av", "--fov", fov, "--fov-degrees", 45, "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["ok"] and record["field"] == "mask"
    assert record["mm_per_px"] == pytest.approx(45 * 0.288 / 297)
    assert record["arteries"]["density"] > 0 and record["veins"]["density"] > 0
    calibers = record["calibers"]
    assert calibers["arteries"] == calibers["veins"] == 6
    assert calibers["crae_mm"] == pytest.approx(calibers["crae_px"] * record["mm_per_px"])


def test_calibers_from_fewer_than_six_vessels_of_a_class_say_so(maps, tmp_path):
    """A CRAE or CRVE from fewer than Knudtson's six vessels was written as his, with only the
    counts beside it: a study took it for one. Two veins of the star painted uncertain (green)
    leave four: the CSV's calibers_caveats, the JSON's caveats and the line say few-veins; the
    star's six of each say nothing. The disc's diameter says it is assumed, and, without a
    scale, in which field of view."""
    _, av, _ = maps
    pixels = np.asarray(Image.open(av)).copy()
    for k in (1, 3):
        pixels[ray(k)] = GREEN
    doubted = tmp_path / "doubted.png"
    Image.fromarray(pixels).save(doubted)
    table = tmp_path / "out.csv"
    result = run(av, doubted, "--av", "--csv", table)
    assert result.exit_code == 0, result.output
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["calibers_veins"], r["calibers_caveats"]) for r in rows] == [
        ("6", ""),
        ("4", "few-veins"),
    ]
    assert {r["disc_diameter_source"] for r in rows} == {"assumed: 1.8 mm, 45 degree field of view"}
    full, four = result.output.splitlines()[:2]
    assert "in doubt" not in full and four.endswith("(in doubt: few-veins)")
    record = json.loads(run(doubted, "--av", "--json", "--pixel-mm", 0.02).output)
    assert record["calibers"]["caveats"] == ["few-veins"]
    assert record["disc"]["diameter_source"] == "assumed: 1.8 mm"


def test_a_class_of_crossings_alone_gets_no_caliber(maps, tmp_path):
    # a label whose veins were all painted as crossings (green): CRVE came from the crossings
    _, av, fov = maps
    pixels = np.asarray(Image.open(av)).copy()
    pixels[(pixels == (0, 0, 255)).all(axis=2)] = (0, 255, 0)
    veinless = tmp_path / "veinless.png"
    Image.fromarray(pixels).save(veinless)
    record = json.loads(run(veinless, "--av", "--fov", fov, "--json").output)
    assert record["ok"] and record["veins"]["density"] > 0  # the crossings are veins too
    assert record["calibers"] is None


def test_csv_and_pictures(maps, tmp_path):
    vessel, av, _ = maps
    table, pictures = tmp_path / "out.csv", tmp_path / "pictures"
    result = run(vessel, av, "--csv", table, "--picture", pictures)
    assert result.exit_code == 0, result.output
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["path"] for r in rows] == [str(vessel), str(av)]
    header = ["path", "photograph", "ok", "error", *VERDICT_COLUMNS, "measured_by", *COLUMNS]
    assert list(rows[0]) == [*header, *PROVENANCE_COLUMNS]
    assert all(row[column] == "" for row in rows for column in VERDICT_COLUMNS)  # maps: none
    assert float(rows[0]["vessels_density"]) > 0 and rows[0]["calibers_crae_px"] == ""
    for name in ("eye", "eye_av"):
        with Image.open(pictures / f"{name}_measure.png") as picture:
            # a byte a pixel: in RGB, a 25-megapixel map's picture took 420 MB
            assert picture.size == (300, 300) and picture.mode == "P"
            colours = np.unique(np.asarray(picture.convert("RGB")).reshape(-1, 3), axis=0)
        used = {name for name, colour in COLOURS.items() if colour in map(tuple, colours)}
        assert len(used) == len(colours)  # nothing but the things drawn, in their colours
        assert {"field", "vessel", "skeleton", "end", "branch", "disc", "text"} <= used


def test_a_picture_that_cannot_be_written_keeps_its_map_s_measurements(maps, tmp_path):
    """The map was reported failed and its measurements lost from the JSON and the CSV."""
    vessel, _, _ = maps
    pictures, table = tmp_path / "pictures", tmp_path / "out.csv"
    (pictures / "eye_measure.png").mkdir(parents=True)
    result = run(vessel, "--json", "--csv", table, "--picture", pictures)
    assert result.exit_code == 1
    record = json.loads(result.stdout)
    said = f"{pictures / 'eye_measure.png'}: cannot write (is a folder, not a file to write)"
    assert record["ok"] and record["picture_error"] == said and record["vessels"]["density"] > 0
    assert result.stderr.splitlines() == [
        f"error: {said}",
        "Error: 1 of 1 pictures could not be written",
    ]
    with open(table, newline="") as f:
        assert float(next(csv.DictReader(f))["vessels_density"]) > 0


def test_one_bad_map_of_several_is_reported_and_the_others_measured(maps, tmp_path):
    vessel, _, _ = maps
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG not really")
    table = tmp_path / "out.csv"
    result = run(junk, vessel, "--csv", table)
    assert result.exit_code == 1
    one_line_error(result, str(junk), "cannot read")
    assert f"{vessel}: vessels" in result.output
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["ok"] for r in rows] == ["False", "True"] and "cannot read" in rows[0]["error"]


@pytest.mark.parametrize(
    ("make", "needles"),
    [
        (lambda p: None, ["no such file"]),
        (lambda p: os.mkfifo(p), ["not a regular file"]),
        (
            lambda p: (
                Image.fromarray(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) % 251)
                .convert("L")
                .save(p, format="PNG")
            ),
            ["distinct values"],
        ),
        (
            lambda p: Image.fromarray(np.full((64, 64), 255, np.uint8)).save(p, format="PNG"),
            ["vessels cover 100%"],
        ),
    ],
    ids=["missing", "fifo", "photograph", "inverted"],
)
def test_a_bad_single_map_exits_2_with_one_line(tmp_path, make, needles):
    path = tmp_path / "map.png"
    make(path)
    result = run(path)
    assert result.exit_code == 2
    one_line_error(result, str(path), *needles)


def test_artery_vein_reading_of_a_gray_mask_is_refused(maps):
    vessel, _, _ = maps
    result = run(vessel, "--av")
    assert result.exit_code == 2
    one_line_error(result, str(vessel), "single-channel")


def test_a_field_mask_of_another_size_fails_that_map(maps, tmp_path):
    vessel, _, _ = maps
    small = tmp_path / "small.png"
    inside = np.zeros((50, 60), np.uint8)
    inside[5:45, 5:55] = 255
    Image.fromarray(inside).save(small)
    result = run(vessel, "--fov", small)
    assert result.exit_code == 2
    one_line_error(result, str(vessel), "expected the 60x50 of the field-of-view mask")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fov", "FOV", "--fov-auto"], "exclude each other"),
        (["--pixel-mm", "0.01", "--fov-degrees", "45"], "exclude each other"),
        (["--fov-degrees", "45"], "needs the field of view"),
        (["--pixel-mm", "0"], "0"),
        (["--pixel-mm", "nan"], "not a finite number"),
        (["--pixel-mm", "1e-20"], "0.0001<=x<=1"),  # once an overflow blamed on every map
        (["--pixel-mm", "1e300"], "0.0001<=x<=1"),
        (["--csv", ""], "expected a path"),
    ],
)
def test_contradictory_or_bad_options_exit_2(maps, args, message):
    vessel, _, fov = maps
    result = run(vessel, *[str(fov) if a == "FOV" else a for a in args])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_an_inverted_field_mask_is_refused_for_each_map(maps, tmp_path):
    vessel, _, fov = maps
    inverted = tmp_path / "inverted.png"
    Image.fromarray(255 - np.asarray(Image.open(fov))).save(inverted)
    result = run(vessel, "--fov", inverted)
    assert result.exit_code == 2, result.output  # not the ring outside the retina, measured
    one_line_error(result, str(inverted), f"of the vessel pixels of {vessel}", "inverted")


def test_an_empty_field_mask_stops_before_any_map(maps, tmp_path):
    vessel, _, _ = maps
    empty = tmp_path / "empty.png"
    Image.fromarray(np.zeros((300, 300), np.uint8)).save(empty)
    result = run(vessel, "--fov", empty)
    assert result.exit_code == 2 and "no pixel inside" in result.output
    assert "vessels" not in result.output


def test_a_folder_without_maps_warns_and_exits_1(tmp_path):
    result = run(tmp_path)
    assert result.exit_code == 1 and "warning: no maps" in result.output


def test_a_folder_of_the_other_kind_of_map_says_which_is_read(tmp_path):
    """segment's masks given to measure --av: the warning says what --av reads."""
    (tmp_path / "out").mkdir()
    Image.new("L", (300, 300)).save(tmp_path / "out" / "eye_mask.png")
    result = run(tmp_path / "out", "--av")
    assert result.exit_code == 1
    assert result.output == (
        f"warning: no maps in {tmp_path / 'out'} (a folder gives its image files; of segment's "
        "outputs, <stem>_av.png, and <stem>_mask.png without --av)\n"
    )
    other = tmp_path / "other.png"
    Image.new("L", (300, 300)).save(other)
    result = run(tmp_path / "out", other, "--av")
    assert f"error: {tmp_path / 'out'}: no maps in the folder\n" in result.output


def test_a_folder_gives_its_maps_not_the_other_outputs_beside_them(maps, tmp_path):
    # as segment --overlay --prob --av and measure --picture leave them; DRIVE's labels are GIFs
    vessel, av, _ = maps
    folder = tmp_path / "out"
    folder.mkdir()
    Image.open(vessel).save(folder / "eye_mask.png")
    Image.open(vessel).convert("P").save(folder / "manual.gif")
    Image.open(av).save(folder / "eye_av.png")
    noise = np.random.default_rng(0).integers(0, 256, (300, 300, 3), dtype=np.uint8)
    for name in ("eye_overlay.png", "eye_prob.png", "eye_measure.png", "eye_av_measure.png"):
        Image.fromarray(noise).save(folder / name)  # not maps: each would fail
    done = run(folder, "--json")
    assert done.exit_code == 0, done.output
    measured = [json.loads(line)["path"] for line in done.stdout.splitlines()]
    assert measured == [str(folder / "eye_mask.png"), str(folder / "manual.gif")]
    done = run(folder, "--av", "--json", "--picture", folder)
    assert done.exit_code == 1  # manual.gif is no artery/vein label: the user's own file
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["path"], r["ok"]) for r in records] == [
        (str(folder / "eye_av.png"), True),
        (str(folder / "manual.gif"), False),
    ]


def test_a_folder_segment_wrote_into_gives_the_maps_not_the_photographs(tmp_path):
    """segment's default folder is the photograph's: measure took each photograph beside its
    mask for a map and reported it as an error."""
    folder = tmp_path / "camera"
    folder.mkdir()
    Image.fromarray(synthetic_fundus(300, 320, seed=1)).save(folder / "eye.jpg")
    Image.fromarray(synthetic_fundus(300, 320, seed=2)).save(folder / "unsegmented.png")
    segmented = CliRunner().invoke(cli, ["segment", str(folder / "eye.jpg"), "-o", str(folder)])
    assert segmented.exit_code == 0, segmented.output
    long = "e" * 245  # segment cuts its outputs' names to fit the file system's 255 bytes
    Image.fromarray(synthetic_fundus(300, 320, seed=3)).save(folder / f"{long}.png")
    segmented = CliRunner().invoke(cli, ["segment", str(folder / f"{long}.png"), "-o", str(folder)])
    assert segmented.exit_code == 0, segmented.output
    done = run(folder, "--json")
    records = [json.loads(line) for line in done.stdout.splitlines()]
    masks = sorted(str(path) for path in folder.glob("*_mask.png"))
    assert [(r["path"], r["ok"]) for r in records] == sorted(
        [(mask, True) for mask in masks]
        + [(str(folder / "unsegmented.png"), False)]  # no map of it beside it: read, refused
    )
    assert done.exit_code == 1
    assert (  # a file is told by its name alone: those left out are named
        f"note: left out 2 file(s) with a <stem>_mask.png beside them, taken for the "
        f"photographs segment made those maps of: {folder / 'eee'}" in done.stderr
    )
    assert str(folder / "eye.jpg") in done.stderr


def test_auto_field_is_smaller_than_the_frame(maps):
    vessel, _, _ = maps
    frame = json.loads(run(vessel, "--json").output)
    auto = json.loads(run(vessel, "--json", "--fov-auto").output)
    assert auto["field"] == "auto" and auto["field_area_px"] < frame["field_area_px"]
    assert auto["vessels"]["density"] > frame["vessels"]["density"]


def test_a_csv_that_cannot_be_written_or_would_replace_a_map_stops_first(maps, tmp_path):
    vessel, _, _ = maps
    result = run(vessel, "--csv", tmp_path / "missing" / "out.csv")
    assert result.exit_code == 2 and "no such folder to write out.csv in" in result.output
    assert "vessels" not in result.output
    (tmp_path / "taken.csv").mkdir()
    result = run(vessel, "--csv", tmp_path / "taken.csv")
    assert result.exit_code == 2 and "taken.csv' is a directory" in result.output
    assert "vessels" not in result.output
    result = run(vessel, "--csv", vessel)
    assert result.exit_code == 2 and "is one of the inputs" in result.output
    assert Image.open(vessel).size == (300, 300)  # untouched
    # the picture's own name: the CSV replaced it after it was written, exit 0
    pictures = tmp_path / "pictures"
    for name in ("eye_measure.png", "eye_MEASURE.PNG"):  # the same file where case is ignored
        result = run(vessel, "--picture", pictures, "--csv", pictures / name)
        assert result.exit_code == 2 and result.output == (
            f"Error: {pictures / name}: named as segment's maps and measure's pictures are, "
            "expected a new file for the CSV (one of them could be written there)\n"
        )
    assert not pictures.exists()


def test_hidden_files_in_a_folder_are_left_out_and_a_non_image_is_named(maps, tmp_path):
    # macOS leaves ._NAME beside each file it copies; measure, segment and verdict failed on it
    vessel, _, _ = maps
    folder = tmp_path / "copied"
    folder.mkdir()
    Image.open(vessel).save(folder / "eye.png")
    (folder / "._eye.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    done = run(folder, "--json")
    assert done.exit_code == 0, done.output
    assert [json.loads(line)["path"] for line in done.stdout.splitlines()] == [
        str(folder / "eye.png")
    ]
    named = run(folder / "._eye.png")  # given by name, it is read, and fails naming itself
    assert named.exit_code == 2
    assert f"error: {folder / '._eye.png'}: cannot read a vessel map image (not an image" in (
        named.output
    )


def test_a_grid_of_lines_is_not_a_vessel_map(tmp_path):
    # its graph once took 2.2 GB for 25 megapixels: refused after thinning, before the graph
    grid = np.zeros((600, 600), np.uint8)
    grid[::4], grid[:, ::4] = 255, 255
    Image.fromarray(grid).save(tmp_path / "grid.png")
    done = run(tmp_path / "grid.png")
    assert done.exit_code == 2
    assert f"{tmp_path / 'grid.png'}: its centre lines are 262 times as long as a square" in (
        done.output
    )
    Image.fromarray(grid[:200, :200]).save(tmp_path / "small.png")  # small: its graph is too
    assert run(tmp_path / "small.png").exit_code == 0


def test_lines_14_pixels_apart_are_not_a_vessel_map_either(tmp_path):
    """They cover 14 % of the frame, under the 15 % once refused from: a 24-megapixel grid of
    them took 968 MB. In sides of a square of its area, the measure of a map whatever its size,
    they are eight times a vessel map's longest (29)."""
    grid = np.zeros((1500, 2000), np.uint8)
    grid[::14], grid[:, ::14] = 255, 255
    Image.fromarray(grid).save(tmp_path / "grid.png")
    done = run(tmp_path / "grid.png")
    assert done.exit_code == 2 and "its centre lines are 239 times as long" in done.output


def test_an_all_black_artery_vein_map_is_measured_as_no_vessel_and_a_white_one_refused(
    tmp_path,
):
    """segment --av writes an all-black map where it finds no vessel; measure once refused
    it, as no artery/vein label."""
    blank, white = tmp_path / "eye_av.png", tmp_path / "white_av.png"
    Image.new("RGB", (300, 300)).save(blank)
    record = json.loads(run(blank, "--av", "--json").output)
    assert record["ok"] and record["vessels"]["vessel_pixels"] == 0
    assert record["arteries"]["vessel_pixels"] == record["veins"]["vessel_pixels"] == 0
    picture = Image.new("RGB", (300, 300))
    picture.paste((255, 255, 255), (100, 0, 104, 300))  # a vessel mask saved in RGB
    picture.save(white)
    result = run(white, "--av")
    assert result.exit_code == 2
    one_line_error(result, str(white), "got no red or blue pixel")


def test_a_map_without_vessels_under_fov_auto_gets_no_millimetres_from_the_frame(tmp_path):
    """The frame is no field of view in degrees: it once gave a pixel size."""
    Image.new("L", (300, 300)).save(tmp_path / "empty.png")
    record = json.loads(
        run(tmp_path / "empty.png", "--fov-auto", "--fov-degrees", 45, "--json").output
    )
    assert record["ok"] and record["field"] == "frame" and record["mm_per_px"] is None


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_a_map_with_transparent_pixels_is_refused_and_an_opaque_alpha_is_read(tmp_path, mode):
    """A map held in its transparency alone was once measured as empty, with status 0."""
    vessels = np.zeros((300, 300), np.uint8)
    vessels[100:104] = 255
    path = tmp_path / "map.png"
    if mode == "P":  # the palette's first colour, black, transparent
        Image.fromarray(vessels).convert("P").save(path, transparency=0)
    else:
        black = np.zeros_like(vessels)
        Image.fromarray(np.dstack([black] * (len(mode) - 1) + [vessels])).save(path)  # LA, RGBA
    result = run(path)
    assert result.exit_code == 2
    one_line_error(result, str(path), "transparent pixels", "save it without transparency")
    opaque = tmp_path / "opaque.png"
    Image.fromarray(np.dstack([vessels] * 3 + [np.full_like(vessels, 255)])).save(opaque)
    assert json.loads(run(opaque, "--json").output)["vessels"]["vessel_pixels"] == 1200


def test_a_mosaic_of_vessel_maps_side_by_side_is_measured(tmp_path):
    """Its centre lines grow with its area, not with its shorter side: eight fields in a row,
    each with centre lines about 30 times its side, as the longest labels, were refused for
    their length over the shorter side."""
    rng = np.random.default_rng(0)
    field = Image.new("L", (500, 500))
    draw = ImageDraw.Draw(field)
    for _ in range(60):
        start, end = rng.uniform(0, 500, 2), rng.uniform(0, 500, 2)
        draw.line((*start, *end), fill=255, width=3)
    Image.fromarray(np.tile(np.asarray(field), (1, 8))).save(tmp_path / "mosaic.png")
    record = json.loads(run(tmp_path / "mosaic.png", "--json").output)
    assert record["ok"] and record["vessels"]["length_px"] > max(150 * 500, 100_000)


def test_each_csv_cell_holds_the_value_of_its_own_column(tmp_path):
    """The CSV written from an artery/vein map's measurements: every ``<record>_<field>``
    column holds that record's field (the arteries' under arteries_..., the veins' under
    veins_...), checked against the nested record, not against the flattening code."""
    label = star_off_the_diagonal()
    m = analyse_map(label, whole_frame(label.vessels.shape), scale_from_pixel_size(0.02))
    m = m.measurements
    assert m.arteries.mean_width_px != m.veins.mean_width_px
    target = tmp_path / "out.csv"
    write_measurement_csv(target, [measurement_row("eye_av.png", m)])
    with open(target, newline="") as f:
        [row] = list(csv.DictReader(f))
    assert (row["path"], row["photograph"], row["ok"], row["error"]) == (
        "eye_av.png",
        "",
        "True",
        "",
    )
    assert row["measured_by"] == SOFTWARE
    record = dataclasses.asdict(m)
    checked = 0
    for name, value in record.items():
        cells = value.items() if isinstance(value, dict) else [(None, value)]
        for field, inner in cells:
            column = name if field is None else f"{name}_{field}"
            if inner is None:
                assert row[column] == "", column
            elif isinstance(inner, tuple):  # codes: the calibers' caveats
                assert row[column] == ", ".join(inner), column
            elif isinstance(inner, str):
                assert row[column] == inner, column
            else:
                assert float(row[column]) == pytest.approx(inner), column
            checked += 1
    assert checked == len(row) - 5 - len(VERDICT_COLUMNS) - len(PROVENANCE_COLUMNS)
    assert all(row[column] == "" for column in PROVENANCE_COLUMNS)  # a map of no model's


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1_mask.png", "'=1+1_mask.png"),
        ("+cmd_mask.png", "'+cmd_mask.png"),
        ("-2+3_mask.png", "'-2+3_mask.png"),
        ("@SUM(A1)_mask.png", "'@SUM(A1)_mask.png"),
        ("\teye_mask.png", "'\teye_mask.png"),
        ("\reye_mask.png", "'\reye_mask.png"),
        ("eye=1_mask.png", "eye=1_mask.png"),
        ("-0.5", "-0.5"),  # a number: no formula
        ("+1e5", "+1e5"),
        ("-inf", "'-inf"),  # numbers to Python's float(), formulas to a spreadsheet
        ("-1_000", "'-1_000"),
        ("\t1", "'\t1"),
        ("-1\n", "'-1\n"),
    ],
)
def test_a_csv_cell_that_a_spreadsheet_would_run_as_a_formula_is_written_as_text(
    tmp_path, cell, written
):
    """OWASP's CSV injection: a map named =1+1_mask.png was its path's cell as it is, and a
    spreadsheet opening the CSV ran it."""
    target = tmp_path / "out.csv"
    write_measurement_csv(target, [measurement_row(cell, None, "not a map")])
    with open(target, newline="") as f:
        [row] = list(csv.DictReader(f))
    assert (row["path"], row["ok"], row["error"]) == (written, "False", "not a map")


def test_a_photograph_left_unmeasured_keeps_its_verdict_in_its_row():
    """A map the model marked as more than half the field is no vessel map and has no
    measurements, but its photograph's verdict (no fundus photograph, say) is its row's still
    (a mutant dropping it there survived)."""
    from edge_runtime.contract.verdict_record import COLUMNS as VERDICT_COLUMNS
    from edge_runtime.contract.verdict_record import Reason, VerdictRecord

    reason = Reason("not-fundus", "redness", 0.33, 0.45)
    verdict = VerdictRecord(False, False, 0.1, (reason,), {}, None)
    row = measurement_row("sky.jpg", None, "not a vessel map", None, verdict)
    assert [row[column] for column in VERDICT_COLUMNS] == [
        False,
        False,
        0.1,
        "not-fundus (redness 0.33 < 0.45)",
    ]


def test_a_map_given_more_than_once_is_measured_once(maps, tmp_path):
    """Its folder, its name, a pattern, another spelling and a link gave eight CSV rows for
    three maps: a study averaging them weighted some twice or three times."""
    folder = tmp_path / "maps"
    folder.mkdir()
    vessel = folder / "eye.png"
    vessel.write_bytes(maps[0].read_bytes())
    link = tmp_path / "link.png"
    link.symlink_to(vessel)
    table = tmp_path / "rows.csv"
    given = [
        vessel.parent,
        vessel,
        str(vessel.parent / "*.png"),
        f"{vessel.parent}/./{vessel.name}",
    ]
    result = run(*given, link, "--csv", table)
    assert result.exit_code == 0, result.output
    with open(table, newline="") as file:
        paths = [row["path"] for row in csv.DictReader(file)]
    assert len(paths) == len(set(paths)) and paths.count(str(vessel)) == 1
    assert f"warning: {link}: given more than once (as {vessel}): taken once" in result.output


@pytest.mark.parametrize("outside", [9, 255], ids=["outside grey", "whole frame"])
def test_a_field_mask_with_no_pixel_outside_is_refused(maps, tmp_path, outside):
    """A mask exported 1/255 (outside 1, inside 255) or of the whole frame was taken as the
    whole frame: DRIVE 05's density 0.136 read 0.094, its length in millimetres 7.5 % short.
    An outside near black (1) is read as the outside; one of another value is refused."""
    vessel, _, fov = maps
    mask = np.asarray(Image.open(fov))
    odd, near_black = tmp_path / "odd.png", tmp_path / "near_black.png"
    Image.fromarray(np.where(mask > 0, 255, outside).astype(np.uint8)).save(odd)
    result = run(vessel, "--fov", odd)
    assert result.exit_code == 2
    assert f"{odd}: no pixel outside the field of view (0), expected a disc" in result.output
    Image.fromarray(np.where(mask > 0, 255, 1).astype(np.uint8)).save(near_black)
    measured = [run(vessel, "--fov", given, "--json") for given in (fov, near_black)]
    assert [r.exit_code for r in measured] == [0, 0]
    read = [json.loads(r.output) for r in measured]
    assert read[0]["vessels"] == read[1]["vessels"] and read[0]["field_area_px"] > 0


def test_the_help_says_which_colour_of_a_map_without_zero_is_its_background(maps, tmp_path):
    """--help said non-zero = vessel, where a map of several colours and no zero is read with
    its near-black colour as background (DRIVE's second observer's GIFs, black 4, 2, 4)."""
    vessel, _, _ = maps
    set_pixels = np.asarray(Image.open(vessel))[..., None] > 0
    near_black = tmp_path / "near_black.png"
    Image.fromarray(np.where(set_pixels, 255, [4, 2, 4]).astype(np.uint8)).save(near_black)
    read = [json.loads(run(given, "--json").output)["vessels"] for given in (vessel, near_black)]
    assert read[0] == read[1]
    said = " ".join(run("--help").output.split())
    limit = round(NEAR_BLACK * 255)
    assert f"no zero, its near-black colour, each channel at most {limit} of 255, is the" in said


def test_a_map_that_failed_names_no_package_that_measured_it(maps, tmp_path):
    """measured_by says which package made the measurements: a record without measurements
    has none, as its CSV row's measured_by is empty (test_segment_findings.py)."""
    vessel, _, _ = maps
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG not really")
    done = run(junk, vessel, "--json")
    assert done.exit_code == 1
    failed, measured = (json.loads(line) for line in done.stdout.splitlines())
    assert not failed["ok"] and "measured_by" not in failed
    assert measured["ok"] and measured["measured_by"] == SOFTWARE


def test_a_measure_picture_is_never_one_of_the_maps(tmp_path):
    """Kills M13: a.png's picture would be a_measure.png, which is the other map given."""
    maps = [tmp_path / "a.png", tmp_path / "a_measure.png"]
    for path in maps:
        path.write_bytes(b"")  # maps are told apart by the files they are
    pictures = _picture_paths(maps, tmp_path)
    assert pictures[0] == tmp_path / "a-2_measure.png"
    assert not set(pictures) & set(maps)


def test_the_tortuosity_density_is_printed_to_six_decimals(tmp_path):
    """Kills M32: values are about 0.0004 now; four decimals printed 0.0004 or 0.0000."""
    yy, xx = np.mgrid[:300, :300]
    wavy = np.abs(yy - 150 - 20 * np.sin(2 * np.pi * xx / 100)) <= 3
    wavy[:, :20] = wavy[:, 280:] = False
    path = tmp_path / "wavy.png"
    Image.fromarray(wavy.astype(np.uint8) * 255).save(path)
    result = CliRunner().invoke(cli, ["measure", str(path)])
    assert result.exit_code == 0, result.output
    assert re.search(r"tortuosity density \d+\.\d{6} \(1 segment\)", result.output), result.output
