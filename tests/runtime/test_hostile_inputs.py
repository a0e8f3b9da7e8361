"""Hostile and broken inputs to the device commands: each is one line naming the file, a non-zero
exit, no traceback, no hang, bounded memory, and the other inputs still done."""

import errno
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import edge_runtime.cli.measure as measure_command
import edge_runtime.cli.segment as segment_command
from edge_runtime.contract.model_card import ModelCard
from edge_runtime.errors import OutputError
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.file_names import fitted_name
from edge_runtime.inference.bundled import DEFAULT_MODEL
from edge_runtime.inference.model_file import card_text
from edge_runtime.pipeline.decode import MAX_PIXELS, MAX_WHOLE_IMAGE_PIXELS, REDUCED_LONG_SIDE
from edge_runtime.pipeline.parallel import SCORING_MEMORY, SEGMENT_MEMORY

FIXTURES = Path(__file__).parent.parent / "fixtures"
EDGE_SEG = [sys.executable, "-m", "edge_runtime.cli.main"]
EDGETPU = b"edgetpu-custom-op"
"""What marks a model compiled for the Edge TPU (appended to a card-less fixture, whose
checksum nothing records)."""


def _photo(path: Path, seed: int = 1, size=(160, 180)) -> Path:
    Image.fromarray(synthetic_fundus(*size, seed=seed)).save(path)
    return path


def _records(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def _one_error_line(result, starts: str) -> None:
    assert result.output.startswith(f"Error: {starts}"), result.output
    assert result.output.count("\n") == 1, result.output


# -- inputs that cannot be examined or listed --------------------------------------------------


def test_an_input_whose_stat_fails_is_one_failed_input(tmp_path, monkeypatch, run_cli):
    good, bad = _photo(tmp_path / "good.png"), _photo(tmp_path / "bad.png", 2)
    real_stat = os.stat

    def failing_stat(path, *args, **kwargs):  # a damaged SD card: EIO on one file
        if os.fspath(path) == str(bad):
            raise OSError(errno.EIO, "Input/output error", str(bad))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", failing_stat)
    result = run_cli("segment", tmp_path, "-o", tmp_path / "out", "--json", expect=1)
    records = {Path(r["path"]).name: r for r in _records(result)}
    assert records["good.png"]["ok"] and not records["bad.png"]["ok"]
    assert records["bad.png"]["error"] == f"{bad}: cannot be read (Input/output error)"
    assert (tmp_path / "out" / "good_mask.png").exists() and good.exists()


def test_a_folder_that_cannot_be_listed_is_one_failed_input(tmp_path, monkeypatch, run_cli):
    locked, other = tmp_path / "locked", _photo(tmp_path / "other.png")
    locked.mkdir()
    real_scandir = os.scandir

    def failing_scandir(path="."):
        if os.fspath(path) == str(locked):
            raise PermissionError(errno.EACCES, "Permission denied", str(locked))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", failing_scandir)
    result = run_cli("segment", locked, other, "-o", tmp_path / "out", "--json", expect=1)
    records = _records(result)
    assert records[0] == {
        "path": str(locked),
        "ok": False,
        "error": f"{locked}: cannot list the folder (Permission denied)",
        "photograph": None,  # a folder, no photograph
    }
    assert records[1]["ok"]


def test_a_symlink_loop_among_the_inputs(tmp_path, run_cli):
    (tmp_path / "loop.png").symlink_to(tmp_path / "loop.png")
    good = _photo(tmp_path / "good.png")
    result = run_cli(
        "segment", tmp_path / "loop.png", good, "-o", tmp_path / "out", "--json", expect=1
    )
    first, second = _records(result)
    assert first["error"].startswith(f"{tmp_path / 'loop.png'}: ") and second["ok"]


def test_a_broken_link_or_a_pipe_in_a_folder_is_reported_not_dropped(tmp_path, run_cli):
    """A folder's broken link was left out in silence ("segmented 1 of 1", exit 0); its folders
    are still left out."""
    photos = tmp_path / "photos"
    photos.mkdir()
    _photo(photos / "a.png")
    (photos / "b.png").symlink_to(tmp_path / "gone.png")
    os.mkfifo(photos / "c.png")
    (photos / "d.png").mkdir()
    result = run_cli("segment", photos, "-o", tmp_path / "out", "--json", expect=1)
    records = _records(result)
    assert [r["ok"] for r in records] == [True, False, False]
    assert records[1]["error"] == f"{photos / 'b.png'}: no such file"
    assert records[2]["error"].startswith(f"{photos / 'c.png'}: not a regular file")


# -- outputs never replace inputs, whatever path leads to them ---------------------------------


def test_an_output_folder_that_is_the_input_folder_under_another_path(tmp_path, run_cli):
    if os.geteuid() != 0:
        pytest.skip("bind mounts need root; the identity check is also tested with hard links")
    source, mirror = tmp_path / "photos", tmp_path / "mirror"
    source.mkdir()
    mirror.mkdir()
    _photo(source / "eye.png")
    _photo(source / "eye_mask.png", 2)  # an input named like the other input's mask
    before = (source / "eye_mask.png").read_bytes()
    if subprocess.run(["mount", "--bind", str(source), str(mirror)]).returncode != 0:
        pytest.skip("mount --bind is not permitted here")
    try:
        run_cli("segment", source / "eye.png", source / "eye_mask.png", "-o", mirror)
    finally:
        subprocess.run(["umount", str(mirror)], check=True)
    assert (source / "eye_mask.png").read_bytes() == before
    assert (source / "eye-2_mask.png").exists()


def test_a_hard_link_to_an_input_is_never_an_output(tmp_path, run_cli):
    photos, out = tmp_path / "photos", tmp_path / "out"
    photos.mkdir()
    out.mkdir()
    _photo(photos / "eye.png")
    os.link(photos / "eye.png", out / "eye_mask.png")  # the input, where its mask would go
    run_cli("segment", photos / "eye.png", "-o", out)
    assert (out / "eye_mask.png").read_bytes() == (photos / "eye.png").read_bytes()
    assert (out / "eye-2_mask.png").exists()


def test_a_very_long_file_name(tmp_path, run_cli):
    stem = "x" * 244  # the longest name a file system takes is 255 bytes
    photo = _photo(tmp_path / f"{stem}.png")
    result = run_cli("segment", photo, "-o", tmp_path / "out", "--overlay", "--prob", "--json")
    (record,) = _records(result)
    assert record["ok"] and len(record["outputs"]) == 3
    assert all(len(Path(p).name.encode()) <= 255 for p in record["outputs"].values())


def test_a_newline_in_a_file_name_keeps_the_error_one_line(tmp_path, run_cli):
    bad = tmp_path / "bad\nname.png"
    bad.write_text("not an image")
    result = run_cli("segment", bad, "-o", tmp_path / "out", expect=1)
    error_lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert error_lines == [f"error: {tmp_path}/bad\\nname.png: not an image file Pillow can read"]


# -- malformed files ---------------------------------------------------------------------------


def _dds_named_png(path: Path) -> Path:
    """228 bytes: a DDS header that promises a DXT1 texture Pillow cannot decode."""
    header = bytearray(128)
    header[0:4] = b"DDS "
    header[4:8] = (124).to_bytes(4, "little")
    header[8:12] = (0x1007).to_bytes(4, "little")
    header[12:16] = (4096).to_bytes(4, "little")  # height
    header[16:20] = (4096).to_bytes(4, "little")  # width
    header[76:80] = (32).to_bytes(4, "little")
    header[80:84] = (4).to_bytes(4, "little")  # DDPF_FOURCC
    header[84:88] = b"DXT1"
    path.write_bytes(bytes(header) + b"\xff" * 100)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_dds_named_png, "cannot decode image"),
        (lambda p: p.write_bytes(np.zeros((64, 64), np.float32).tobytes()), "not an image file"),
        (
            lambda p: (
                Image.fromarray(np.ones((80, 80), np.float32)).save(p.with_suffix(".tif"))
                or os.replace(p.with_suffix(".tif"), p)
            ),
            "32-bit float pixels are not supported",
        ),
        (lambda p: os.mkfifo(p), "not a regular file"),
    ],
    ids=["dds", "raw-bytes", "float-tiff", "fifo"],
)
def test_malformed_photographs_are_one_failed_input_each(tmp_path, make, message, run_cli):
    bad = tmp_path / "bad.png"
    make(bad)
    good = _photo(tmp_path / "good.png")
    started = time.monotonic()
    result = run_cli("segment", bad, good, "-o", tmp_path / "out", "--json", expect=1)
    assert time.monotonic() - started < 30
    first, second = _records(result)
    assert first["error"].startswith(f"{bad}: ") and message in first["error"]
    assert second["ok"]


def test_a_photograph_over_the_pixel_limit_is_refused_before_decoding(tmp_path, run_cli):
    height = MAX_PIXELS // 5000 + 1
    big = tmp_path / "big.png"
    Image.new("L", (5000, height)).save(big)
    result = run_cli("segment", big, "-o", tmp_path / "out", "--json", expect=1)
    assert f"5000x{height} pixels exceed the 25-megapixel limit" in _records(result)[0]["error"]


# -- memory stays bounded ----------------------------------------------------------------------

UNIT = Path(__file__).parents[2] / "firmware_notes" / "edge-seg-watch.service"
MEMORY_CAP_MB = next(
    int(line.split("=")[1].rstrip("M\n"))
    for line in UNIT.read_text().splitlines()
    if line.startswith("MemoryMax=")
)
"""The systemd unit's MemoryMax, in MB."""


MEMORY_LIMIT_MB = SEGMENT_MEMORY.most / 2**20
"""What the largest accepted photograph of any format may peak at, with every output: what the
default --jobs counts for each process of it."""

MEMORY_SHARE = 0.75
"""The share of the unit's cap that :data:`MEMORY_LIMIT_MB` is (the rest is a margin for other
library versions and machines; budgets.md says the same)."""


def _largest(limit: int) -> tuple[int, int]:
    """The largest 3:2 photograph (width, height) within a pixel limit."""
    side = math.isqrt(limit // 6)
    return 3 * side, 2 * side


LARGEST, LARGEST_WHOLE = _largest(MAX_PIXELS), _largest(MAX_WHOLE_IMAGE_PIXELS)

DECODED_WHOLE = (2 * REDUCED_LONG_SIDE - 1, (2 * REDUCED_LONG_SIDE - 1) * 2 // 3)
"""The largest 3:2 photograph decoded whole (not reduced): the most memory a megapixel takes."""

DRIVE_SIZED = (584, 565)
"""A DRIVE photograph's size: the least a process is counted, beside the libraries' own."""


def _fundus(mode: str, size: tuple[int, int] = LARGEST, turned: bool = False) -> Image.Image:
    """A synthetic fundus photograph; ``turned``: a pixel less each way (sides that are not
    multiples of the reduction) and EXIF orientation 3 (turned before it is reduced)."""
    width, height = (size[0] - 1, size[1] - 1) if turned else size
    image = Image.fromarray(synthetic_fundus(height, width)).convert(mode)
    if turned:
        image.getexif()[0x0112] = 3
    return image


def _gray16(size: tuple[int, int] = LARGEST) -> Image.Image:
    return Image.fromarray(np.asarray(_fundus("L", size), np.uint16) * 257)


def _translucent(size: tuple[int, int]) -> Image.Image:
    """RGBA whose alpha is not opaque (a WebP encoder drops an opaque one)."""
    image = _fundus("RGBA", size)
    image.putalpha(254)
    return image


MEMORY_CASES = {
    "rgb.jpg": lambda: _fundus("RGB"),
    "gray.jpg": lambda: _fundus("L"),
    "cmyk.jpg": lambda: _fundus("CMYK"),
    "turned.jpg": lambda: _fundus("RGB", turned=True),
    "gray.png": lambda: _fundus("L"),
    "rgb.png": lambda: _fundus("RGB"),
    "turned.png": lambda: _fundus("RGBA", turned=True),
    "la.png": lambda: _fundus("LA"),
    "palette.png": lambda: _fundus("P"),
    "bilevel.png": lambda: _fundus("1"),
    "uniform.png": lambda: Image.new("L", LARGEST, 128),
    "gray16.png": _gray16,
    "rgb.tif": lambda: _fundus("RGB"),
    "rgba.tif": lambda: _fundus("RGBA"),
    "cmyk.tif": lambda: _fundus("CMYK"),
    "turned.tif": lambda: _fundus("CMYK", turned=True),  # Pillow turns it whole as it loads
    "gray16.tif": _gray16,
    "rgb.bmp": lambda: _fundus("RGB"),
    "rgb.ppm": lambda: _fundus("RGB"),
    "gray16.pgm": _gray16,
    "palette.gif": lambda: _fundus("P"),
    "lossy.webp": lambda: _fundus("RGB", LARGEST_WHOLE),
    "alpha.webp": lambda: _translucent(LARGEST_WHOLE),
    "rgb.jp2": lambda: _fundus("RGB", LARGEST_WHOLE),
    "rgb.avif": lambda: _fundus("RGB", LARGEST_WHOLE),
    # 64 rows of 390,000: once worked through as one block of rows the size of the photograph
    "strip.png": lambda: _fundus("RGB", (MAX_PIXELS // 64, 64)),
    # below the largest, what the default --jobs counts a process falls with the pixels
    "drive.jpg": lambda: _fundus("RGB", DRIVE_SIZED),
    "whole.png": lambda: _fundus("RGBA", DECODED_WHOLE, turned=True),
    "whole.webp": lambda: _fundus("RGB", DECODED_WHOLE),
    "children.jp2": lambda: _fundus("RGB", (3504, 2336)),  # the most a megapixel
}
"""The largest accepted photograph of every format Pillow decodes a different way (budgets.md
lists what each peaks at), and smaller ones that cost the most for their size."""


@pytest.mark.slow  # 3-14 s a photograph here, mostly writing a 25-megapixel overlay
@pytest.mark.parametrize("name", MEMORY_CASES)
def test_a_photograph_stays_under_what_the_default_jobs_counts_for_it(
    tmp_path, name, load_benchmark
):
    """The largest accepted photograph well under the unit's memory cap (MEMORY_LIMIT_MB), and
    each under SEGMENT_MEMORY for its size (peaks measured by benchmarks/process_memory.py)."""
    photo = tmp_path / name
    image = MEMORY_CASES[name]()
    image.save(photo, exif=image.getexif())
    outputs = ("--overlay", "--prob", "--av", "--measure")
    peak = load_benchmark("process_memory").peak_mib(
        "segment", photo, "-o", tmp_path / "out", *outputs
    )
    counted = SEGMENT_MEMORY.for_pixels(image.width * image.height) / 2**20
    assert peak < counted <= MEMORY_LIMIT_MB, f"{name}: {peak:.0f} MB, counted {counted:.0f}"


@pytest.mark.slow  # about 15 s: writing and scoring a 25-megapixel photograph and its labels
@pytest.mark.parametrize("size", [LARGEST, DECODED_WHOLE])
def test_scoring_a_photograph_stays_under_what_evals_default_jobs_counts_for_it(
    tmp_path, size, load_benchmark
):
    """eval's default --jobs counts SCORING_MEMORY a process: its labels, sorted scores and
    report picture beside segment's maps (701 MiB for the largest, 276 MiB at 6.8 megapixels
    here, 2026-12-07)."""
    measuring = load_benchmark("process_memory")
    image = _fundus("RGB", size)
    image.save(tmp_path / "eye.png")
    measuring.labelled_set(tmp_path / "set", tmp_path / "eye.png")
    peak = measuring.peak_mib("eval", tmp_path / "set", "--av", "--report", tmp_path / "report")
    assert peak < SCORING_MEMORY.for_pixels(image.width * image.height) / 2**20, f"{peak:.0f} MB"


def _allocated_mb(call) -> float:
    """The peak of what Python and numpy allocated while ``call()`` ran, in MB."""
    import tracemalloc

    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def test_scoring_arteries_and_veins_makes_no_wide_copy_of_the_maps():
    """artery_vein_scores widened both maps to int64 (8 bytes a pixel each: 400 MiB of a
    25-megapixel photograph's 976 MiB in eval); it counts the found pixels' pairs only."""
    from edge_runtime.contract.artery_vein_metrics import artery_vein_scores

    rng = np.random.default_rng(0)
    truth, predicted = (rng.integers(0, 4, (2000, 2000)).astype(np.int8) for _ in range(2))
    fov, centre = np.ones((2000, 2000), bool), rng.random((2000, 2000)) < 0.05
    peak = _allocated_mb(lambda: artery_vein_scores(truth, predicted, fov, centre))
    assert peak < 12 * truth.size / 2**20, f"{peak:.0f} MB"  # 28 MB; 99 MB widened


def test_the_report_picture_is_drawn_without_photograph_sized_temporaries():
    """comparison_picture's whole-picture steps took 348 MiB beyond a 25-megapixel picture;
    drawn a block of rows at a time, it takes little more than the picture."""
    from edge_runtime.evaluation.photos import comparison_picture

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (2000, 2000, 3), dtype=np.uint8)
    mask = (rng.random((2000, 2000)) < 0.1).astype(np.uint8)
    label, fov = rng.random((2000, 2000)) < 0.1, np.ones((2000, 2000), bool)
    peak = _allocated_mb(lambda: comparison_picture(pixels, mask, label, fov))
    assert peak < 2 * pixels.nbytes / 2**20, f"{peak:.0f} MB"  # 13 MB; 51 MB whole


def test_measuring_a_map_of_lines_holds_its_pixels_lists_once(tmp_path):
    """A map of lines 2 pixels apart (no vessel map: refused once thinned) took 14.6 bytes a
    pixel to measure (a 25-megapixel one 348 MB, 419 MB of RSS): numpy's 8-byte indices of all
    its set pixels, two and three lists at a time while it was thinned, and a copy of the map
    inside the frame; 10.6 now."""
    from edge_runtime.measure.files import MeasureOptions, measure_file

    lines = np.zeros((4096, 4096), np.uint8)
    lines[::2] = 255
    Image.fromarray(lines).save(tmp_path / "lines.png")
    error, peak = _refused(lambda: measure_file(tmp_path / "lines.png", MeasureOptions()))
    assert "its centre lines are 2048 times as long" in error
    assert peak < 12.5 * lines.size / 2**20, f"{peak:.0f} MB"


def test_a_field_of_view_found_from_the_vessels_takes_no_list_of_them():
    """field_from_vessels took every vessel pixel's row and column (16 bytes a vessel pixel);
    the ends of each row tell the farthest pixel as well."""
    from edge_runtime.measure.field import field_from_vessels

    lines = np.zeros((2000, 2000), bool)
    lines[::2] = True
    peak = _allocated_mb(lambda: field_from_vessels(lines))  # 2 bytes a pixel: its disc
    assert peak < 4 * lines.size / 2**20, f"{peak:.0f} MB"  # 16 a vessel pixel before


def test_reading_an_artery_vein_map_makes_no_wide_copy_of_its_pixels(tmp_path):
    """Decoding an artery/vein label's colours took 12 bytes a pixel (whole-image comparisons
    of its three channels, and np.isin's 7); 6 now, what its pixels take while numpy takes
    them from Pillow."""
    from edge_runtime.measure.maps import read_map

    label = np.zeros((2000, 2000, 3), np.uint8)
    label[::8, :, 0] = 255  # red rows, blue columns, green where they cross
    label[:, ::8, 2] = 255
    label[::8, ::8] = (0, 255, 0)
    Image.fromarray(label).save(tmp_path / "av.png")
    peak = _allocated_mb(lambda: read_map(tmp_path / "av.png", artery_vein=True))
    assert peak < 8 * label.size / 3 / 2**20, f"{peak:.0f} MB"


def test_the_budgets_state_the_memory_limit_the_tests_hold():
    assert MEMORY_LIMIT_MB == MEMORY_SHARE * MEMORY_CAP_MB
    budgets = (UNIT.parent / "budgets.md").read_text()
    share = f"{MEMORY_SHARE * 100:.0f} %"
    limit = f"{MEMORY_LIMIT_MB:.0f} MB, {share} of the unit's `MemoryMax={MEMORY_CAP_MB}M`"
    assert limit in " ".join(budgets.split()), f"budgets.md does not say {limit!r}"


# -- options that are not numbers, or too large ------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["segment", "x.png", "--threshold", "nan"],
        ["segment", "x.png", "--threshold", "2"],
        ["segment", "x.png", "--threads", "2147483648"],
        ["eval", "d.npz", "--images", "x", "--labels", "y", "--threshold", "nan"],
        ["eval", "d.npz", "--images", "x", "--labels", "y", "--holdout", "nan"],
        ["watch", ".", "-o", "out", "--settle", "nan"],
        ["watch", ".", "-o", "out", "--interval", "nan"],
        ["watch", ".", "-o", "out", "--interval", "inf"],
        ["bench", "--size", "100000x100000"],
        ["bench", "--size", "64xnan"],
    ],
    ids=lambda args: " ".join(args[:1] + args[-2:]),
)
def test_options_that_are_not_finite_or_out_of_range_are_usage_errors(args, run_cli):
    result = run_cli(*args, expect=2)
    assert "Invalid value" in result.output


# -- models that are not what they claim -------------------------------------------------------


def _with_card(tmp_path: Path, **fields) -> Path:
    """The bundled model with some card fields replaced, in place (same JSON length)."""
    content = DEFAULT_MODEL.read_bytes()
    text = card_text(content)
    document = json.loads(text)
    del document["created"]  # room for longer replacements
    document.update(fields)
    new = json.dumps(document, sort_keys=True).encode()
    assert len(new) <= len(text), "the replacement must not be longer"
    new += b" " * (len(text) - len(new))
    path = tmp_path / "damaged.tflite"
    path.write_bytes(content.replace(text, new))
    return path


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"threshold": float("nan")}, "field 'threshold': got nan, expected a finite number"),
        ({"threshold": -1}, "field 'threshold': got -1"),
        ({"fov_diameter": 20000}, "field 'fov_diameter': got 20000"),
        ({"fov_diameter": 0}, "field 'fov_diameter': got 0"),
        ({"patch_size": "64"}, "field 'patch_size': got '64', expected an integer"),
        ({"preprocessing": [1]}, "field 'preprocessing': got [1], expected an object"),
        ({"gate": 5}, "field 'gate': got 5, expected an object"),
    ],
)
def test_a_damaged_model_card_is_a_one_line_error(tmp_path, fields, message, run_cli):
    model = _with_card(tmp_path, **fields)
    photo = _photo(tmp_path / "p.png")
    for command in (["segment", photo, "-o", tmp_path / "out"], ["info"]):
        result = run_cli(*command, "--model", model, expect=2)
        _one_error_line(result, f"{model}: embedded edge_seg_metadata: {message}")
    assert ModelCard.from_json(card_text(DEFAULT_MODEL.read_bytes()))  # the original is fine


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: os.mkfifo(p), "not a regular file, expected a .tflite model file"),
        (lambda p: p.symlink_to("/dev/zero"), "not a regular file"),
        (
            lambda p: os.truncate(p.write_bytes(b"") or p, 2 * 2**30),
            "2048.0 MiB is larger than the 64 MiB allowed",
        ),
        (
            lambda p: p.write_bytes((FIXTURES / "two_inputs.tflite").read_bytes()),
            "2 inputs and 1 outputs, expected one each",
        ),
        (
            lambda p: p.write_bytes((FIXTURES / "wrong_input_shape.tflite").read_bytes() + EDGETPU),
            "compiled for the Edge TPU; run it with --delegate edgetpu",
        ),
    ],
    ids=["fifo", "dev-zero", "2-GiB", "two-inputs", "edgetpu-without-delegate"],
)
def test_model_files_that_would_hang_or_mislead(tmp_path, make, message, run_cli):
    model = tmp_path / "m.tflite"
    make(model)
    started = time.monotonic()
    result = run_cli(
        "segment", _photo(tmp_path / "p.png"), "--model", model, "-o", tmp_path / "o", expect=2
    )
    assert time.monotonic() - started < 30
    _one_error_line(result, f"{model}: {message}")


def test_a_missing_edge_tpu_library_is_one_line_without_a_traceback(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes((FIXTURES / "wrong_input_shape.tflite").read_bytes() + EDGETPU)
    done = subprocess.run(
        [*EDGE_SEG, "info", "--model", str(model)], capture_output=True, text=True
    )  # info runs without the delegate: what is the model (one the runtime refuses: exit 2)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stdout.startswith(f"model:        {model}\n") and "input shape" in done.stderr
    done = subprocess.run(
        [*EDGE_SEG, "bench", "--model", str(model), "--delegate", "edgetpu", "--runs", "1"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("Error: cannot load the Edge TPU delegate libedgetpu.so.1")
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


# -- data files --------------------------------------------------------------------------------


def _npz_with(tmp_path: Path, **arrays) -> Path:
    path = tmp_path / "d.npz"
    np.savez_compressed(path, **arrays)
    return path


def _eval(run_cli, data: Path, *extra, expect=2):
    return run_cli("eval", data, "--images", "x", "--labels", "y", *extra, expect=expect)


def test_data_files_that_are_not_what_they_claim(tmp_path, run_cli):
    x = np.zeros((60, 64, 64), np.uint8)
    y = np.zeros((60, 64, 64), np.uint8)
    y[:, 30:33] = 1  # a vessel in each
    npy = tmp_path / "d.npy"
    np.save(npy, x)
    _one_error_line(
        _eval(run_cli, npy), f"{npy}: holds a single array (.npy), expected an .npz file"
    )
    fifo = tmp_path / "fifo.npz"
    os.mkfifo(fifo)
    _one_error_line(_eval(run_cli, fifo), f"{fifo}: not a regular file, expected an .npz file")
    few = _npz_with(tmp_path, x=x, y=y)  # too few to train on with a fifth held out
    result = _eval(run_cli, few, "--holdout", "0.2", "--json", expect=0)
    assert json.loads(result.stdout)["n"] == 12  # the fifth training would hold out


def test_a_corrupt_compressed_array(tmp_path, run_cli):
    path = _npz_with(
        tmp_path,
        x=np.arange(64 * 64 * 8, dtype=np.uint8).reshape(8, 64, 64),
        y=np.zeros((8, 64, 64), np.uint8),
    )
    content = bytearray(path.read_bytes())
    middle = content.index(b"x.npy") + 200
    content[middle : middle + 40] = b"\x00" * 40
    path.write_bytes(bytes(content))
    result = _eval(run_cli, path)
    assert result.output.startswith(f"Error: {path}: ") and result.output.count("\n") == 1


def test_an_array_that_declares_a_huge_shape_is_refused_before_inflating(tmp_path, run_cli):
    """A small file whose array header promises 100 GB: refused from the header alone."""
    import zipfile

    path = tmp_path / "bomb.npz"
    header = np.lib.format.header_data_from_array_1_0(np.zeros((1, 64, 64), np.float32))
    header["shape"] = (6_000_000, 64, 64)
    with zipfile.ZipFile(path, "w") as archive:
        for key in ("x", "y"):
            with archive.open(f"{key}.npy", "w") as member:
                np.lib.format.write_array_header_1_0(member, header)
                member.write(b"\0" * 1024)
    started = time.monotonic()
    result = _eval(run_cli, path)
    assert time.monotonic() - started < 10
    _one_error_line(result, f"{path}: 'x' declares 91.6 GiB, more than the 1 GiB allowed")


def _npz_of_zeros(path: Path, shapes: dict[str, tuple[tuple[int, ...], str]]) -> Path:
    """An .npz file of all-zero arrays of the given shapes and dtypes, written a megabyte at a
    time (deflated zeros: a few hundred megabytes make a file of a few hundred kilobytes)."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, (shape, dtype) in shapes.items():
            header = np.lib.format.header_data_from_array_1_0(np.zeros(0, dtype))
            header["shape"] = shape
            size = int(np.prod(shape)) * np.dtype(dtype).itemsize
            with archive.open(f"{key}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array_header_1_0(member, header)
                for start in range(0, size, 2**20):
                    member.write(bytes(min(2**20, size - start)))
    return path


def _refused(load) -> tuple[str, float]:
    """The error ``load()`` raises, and the peak of what Python and numpy allocated meanwhile
    (in MB, :func:`_allocated_mb`)."""
    from edge_runtime.errors import InputError

    said = []

    def refuse():
        with pytest.raises(InputError) as raised:
            load()
        said.append(str(raised.value))

    peak = _allocated_mb(refuse)
    return said[0], peak


def test_a_mismatch_the_headers_declare_is_refused_before_any_array_is_inflated(tmp_path):
    """100 MB of images (a file of 100 KB) with one mask fewer: refused from the headers."""
    from edge_runtime.data.patches import load_labeled_patches

    path = _npz_of_zeros(
        tmp_path / "d.npz", {"x": ((6400, 64, 64), "float32"), "y": ((6399, 64, 64), "uint8")}
    )
    error, peak = _refused(lambda: load_labeled_patches(path, "x", "y"))
    assert error == f"{path}: 'y' has 6399 masks but 'x' has 6400 patches"
    assert peak < 10, f"{peak:.0f} MB inflated before refusing"


def test_an_array_whose_zip_entry_is_shorter_than_its_header_declares(tmp_path):
    """The header promises 100 MB, the zip entry holds 1 MB: refused before allocating."""
    import zipfile

    from edge_runtime.data.patches import load_patches

    path = tmp_path / "short.npz"
    header = np.lib.format.header_data_from_array_1_0(np.zeros(0, np.float32))
    header["shape"] = (6400, 64, 64)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("x.npy", "w") as member,
    ):
        np.lib.format.write_array_header_1_0(member, header)
        member.write(bytes(2**20))
    error, peak = _refused(lambda: load_patches(path, "x"))
    assert error == (
        f"{path}: 'x' holds 1,048,576 bytes of data, expected 104,857,600 for its shape "
        "(6400, 64, 64) and dtype float32"
    )
    assert peak < 10, f"{peak:.0f} MB allocated before refusing"


def test_long_names_fit_measure_pictures_and_eval_reports(tmp_path, run_cli, make_photo_dataset):
    """measure --picture and eval --report cut a long stem as segment does, so that
    ``_measure.png`` and ``_comparison.png`` fit the 255 bytes a name may have."""
    stem = "x" * 248
    masks = tmp_path / "masks"
    run_cli("segment", _photo(tmp_path / f"{stem}.png"), "-o", masks)
    run_cli("measure", masks, "--picture", tmp_path / "pictures")
    (picture,) = (tmp_path / "pictures").iterdir()
    assert picture.name.endswith("_measure.png") and len(picture.name.encode()) <= 255
    root = make_photo_dataset(tmp_path / "d", "generic", count=1)
    for folder in ("images", "labels", "masks"):
        (file,) = (root / folder).iterdir()
        file.rename(file.with_name(stem + file.suffix))
    run_cli("eval", root, "--report", tmp_path / "report")
    summary_csv, summary_md, comparison = sorted(p.name for p in (tmp_path / "report").iterdir())
    assert (summary_csv, summary_md) == ("summary.csv", "summary.md")
    assert comparison.endswith("_comparison.png") and len(comparison.encode()) <= 255


def test_photographs_whose_long_names_are_one_once_cut_keep_a_comparison_picture_each(
    tmp_path, run_cli, make_photo_dataset
):
    """Two names alike in their first 238 bytes: eval --report wrote one picture over the
    other (which one depended on which process ended last), and said nothing."""
    root = make_photo_dataset(tmp_path / "d", "generic", count=2)
    for folder in ("images", "labels", "masks"):
        for file in (root / folder).iterdir():
            file.rename(file.with_name("x" * 240 + file.name))
    run_cli("eval", root, "--report", tmp_path / "report")
    pictures = sorted(p.name for p in (tmp_path / "report").glob("*_comparison.png"))
    cut = fitted_name("x" * 240 + "eye1")
    assert pictures == [f"{cut}-2_comparison.png", f"{cut}_comparison.png"]


@pytest.mark.parametrize(
    "stem",
    [b"\xff" * 245, b"\xe9" * 240, "é".encode() * 120],
    ids=["not-utf-8", "latin-1", "utf-8-two-bytes"],
)
def test_a_long_name_is_cut_keeping_its_bytes(tmp_path, run_cli, stem):
    """A long name not in UTF-8 keeps its bytes in its outputs' names (they were all dropped:
    every such photograph's mask was ``_mask.png``), and a UTF-8 one is cut between
    characters."""
    folder = tmp_path / "in"
    folder.mkdir()
    photo = Path(os.fsdecode(os.fsencode(folder) + b"/" + stem + b".png"))
    _photo(photo)
    run_cli("segment", photo, "-o", tmp_path / "out")
    (mask,) = (os.fsencode(p.name) for p in (tmp_path / "out").iterdir())
    assert mask.endswith(b"_mask.png") and len(mask) <= 255
    kept = mask.removesuffix(b"_mask.png")
    assert len(kept) >= 236 and stem.startswith(kept)
    kept.decode("utf-8" if stem.startswith("é".encode()) else "latin-1")  # a whole character


def test_an_output_name_too_long_is_refused_before_any_work(tmp_path, run_cli):
    """A ``--csv`` or measurements name longer than the file system takes is refused on one
    line before anything is measured (it failed after all the work)."""
    masks = tmp_path / "masks"
    run_cli("segment", _photo(tmp_path / "p.png"), "-o", masks)
    result = run_cli("measure", masks, "--csv", tmp_path / ("c" * 256 + ".csv"), expect=2)
    assert "a name of 260 bytes, longer than the 255 its folder's file system takes" in (
        result.output
    )
    assert "measured" not in result.output


@pytest.mark.parametrize("command", ["segment", "measure"])
def test_a_table_that_cannot_be_written_loses_not_the_summary(
    tmp_path, run_cli, monkeypatch, command
):
    """A measurements table that fails at the end (a full disk) comes after the closing
    summary: the run's count is still shown, and the failure named."""

    def full(path, rows):
        raise OutputError(f"{path}: cannot write (No space left on device)")

    module = segment_command if command == "segment" else measure_command
    monkeypatch.setattr(module, "write_measurement_csv", full)
    photo = _photo(tmp_path / "p.png")
    masks = tmp_path / "masks"
    if command == "segment":
        args = ["segment", photo, "-o", masks, "--measure"]
    else:
        run_cli("segment", photo, "-o", masks)
        args = ["measure", masks, "--csv", tmp_path / "m.csv"]
    result = run_cli(*args, expect=2)
    done = "segmented 1 of 1 photographs" if command == "segment" else "measured 1 of 1 maps"
    assert done in result.output and "cannot write (No space left on device)" in result.output


def test_stems_differing_only_in_case_get_names_of_their_own(tmp_path, run_cli):
    """``A.png`` and ``a.jpg`` would write ``A_mask.png`` and ``a_mask.png``, one file on a FAT
    or exFAT card (a camera's) or on macOS, the second replacing the first while both were
    reported written: the second gets ``-2``, in segment and in measure --picture."""
    (tmp_path / "in").mkdir()
    _photo(tmp_path / "in" / "A.png")
    Image.open(tmp_path / "in" / "A.png").save(tmp_path / "in" / "a.jpg", quality=95)
    run_cli("segment", tmp_path / "in", "-o", tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["A_mask.png", "a-2_mask.png"]
    (tmp_path / "maps").mkdir()
    os.replace(tmp_path / "out" / "a-2_mask.png", tmp_path / "maps" / "a.png")
    os.replace(tmp_path / "out" / "A_mask.png", tmp_path / "maps" / "A.png")
    run_cli("measure", tmp_path / "maps", "--picture", tmp_path / "pictures")
    pictures = sorted(p.name for p in (tmp_path / "pictures").iterdir())
    assert pictures == ["A_measure.png", "a-2_measure.png"]
