"""``edge-seg datasets``: the catalog, fetch from a local HTTP server (never the internet) and
prepare from archives built here, good and hostile (truncated, a wrong checksum, members that
escape, links, devices, decompression bombs, downloads cut short)."""

import contextlib
import dataclasses
import gzip
import hashlib
import io
import json
import os
import re
import signal
import stat
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from edge_runtime.cli.main import cli
from edge_runtime.data import fetch, unpack
from edge_runtime.data.catalog import DATASETS, Archive
from edge_runtime.data.photos import LAYOUTS, find_dataset, load_labelled
from edge_runtime.errors import InputError
from edge_runtime.evaluation.synthetic import synthetic_fundus, synthetic_label

SIZE = (72, 76)
STARE_IDS = [f"im{n:04d}" for n in range(1, 21)]


def _encoded(array: np.ndarray, fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt)
    return buffer.getvalue()


def _photo(seed: int) -> tuple[np.ndarray, np.ndarray]:
    photo = synthetic_fundus(*SIZE, seed=seed)
    return photo, synthetic_label(photo).astype(np.uint8) * 255


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tar(members: dict[str, bytes], extra: tarfile.TarInfo | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        if extra is not None:
            archive.addfile(extra)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def chase_files() -> dict[str, bytes]:
    """CHASE_DB1's 84 files (28 photographs, two observers' labels), small and synthetic."""
    files = {}
    for i in range(28):
        photo, label = _photo(i)
        stem = f"Image_{i // 2 + 1:02d}{'LR'[i % 2]}"
        files[f"{stem}.jpg"] = _encoded(photo, "JPEG")
        files[f"{stem}_1stHO.png"] = files[f"{stem}_2ndHO.png"] = _encoded(label, "PNG")
    return files


@pytest.fixture(scope="session")
def stare_archives() -> dict[str, bytes]:
    """STARE's three tar archives of gzip-compressed PPM files, small and synthetic."""
    images, ah, vk = {}, {}, {}
    for i, stem in enumerate(STARE_IDS):
        photo, label = _photo(i)
        images[f"{stem}.ppm.gz"] = gzip.compress(_encoded(photo, "PPM"))
        ah[f"{stem}.ah.ppm.gz"] = vk[f"{stem}.vk.ppm.gz"] = gzip.compress(_encoded(label, "PPM"))
    return {"stare-images.tar": _tar(images), "labels-ah.tar": _tar(ah), "labels-vk.tar": _tar(vk)}


@dataclasses.dataclass
class Mirror:
    """A local HTTP server: ``files`` by path, served whole or from a ``Range: bytes=N-``;
    ``cut[path]`` bytes only, once, then the connection closes; ``ranges``: the Range header
    of each request (``None``: none)."""

    url: str
    files: dict[str, bytes]
    cut: dict[str, int]
    ranges: list[str | None]


@pytest.fixture
def mirror(monkeypatch) -> Iterator[Mirror]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    files: dict[str, bytes] = {}
    cut: dict[str, int] = {}
    ranges: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            ranges.append(self.headers.get("Range"))
            body = files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            asked = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
            start = int(asked[1]) if asked else 0
            if start >= len(body) > 0:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.end_headers()
                return
            self.send_response(206 if asked else 200)
            if asked:
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            self.wfile.write(body[start : cut.pop(self.path, len(body))])

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield Mirror(f"http://127.0.0.1:{server.server_port}", files, cut, ranges)
    server.shutdown()
    server.server_close()


def _saved(folder: Path, archives: dict[str, bytes]) -> list[Path]:
    for file, data in archives.items():
        (folder / file).write_bytes(data)
    return [folder / file for file in archives]


def _run(*args: str):
    return CliRunner().invoke(cli, ["datasets", *map(str, args)])


def _fetch(mirror: Mirror, name: str, out: Path):
    return _run("fetch", name, "-o", out, "--mirror", mirror.url)


def _one_line_error(result, code: int) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def _nothing_left(out: Path) -> None:
    """Neither the target nor a hidden unpacking folder beside it."""
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]


# --- the catalog --------------------------------------------------------------------------


def test_every_set_says_how_to_get_it_and_how_it_is_checked():
    for dataset in DATASETS.values():
        urls = [archive.url for archive in dataset.archives]
        if dataset.access == "private":
            assert not dataset.archives
            continue
        assert dataset.layout in LAYOUTS and dataset.members and dataset.files
        assert all(urls) if dataset.access == "direct" else not any(urls)
        for member in dataset.members:
            re.compile(member.pattern)


def test_list_names_every_set_with_its_licence_and_json_gives_the_records():
    text = _run("list")
    assert text.exit_code == 0
    for dataset in DATASETS.values():
        assert f"{dataset.name}: {dataset.title}" in text.output
        assert f"licence: {dataset.licence}" in text.output
    records = json.loads(_run("list", "--json").output)
    assert [r["name"] for r in records] == list(DATASETS)
    assert {r["access"] for r in records} == {"direct", "manual", "private"}
    les_av = next(r for r in records if r["name"] == "les-av")
    assert les_av["fields"] == [["1620x1444", 30], ["2196x1958", 45]]


@pytest.mark.parametrize(
    ("name", "says"),
    [("drive", "prepare drive ARCHIVE"), ("reference-patches", "not public")],
)
def test_fetch_of_a_set_without_public_download_says_how_to_get_it(tmp_path, name, says):
    line = _one_line_error(_run("fetch", name, "-o", tmp_path / "d"), 2)
    assert says in line
    assert not (tmp_path / "d").exists()


# --- fetch ---------------------------------------------------------------------------------


def test_fetch_downloads_unpacks_checks_and_puts_the_set_in_place(tmp_path, mirror, chase_files):
    mirror.files["/chase/CHASEDB1.zip"] = _zip({f"CHASEDB1/{k}": v for k, v in chase_files.items()})
    out = tmp_path / "data" / "chase"
    result = _fetch(mirror, "chase", out)
    assert result.exit_code == 0, result.output
    assert "28 labelled photographs, 84 files" in result.stdout
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    assert sorted(p.name for p in out.iterdir()) == sorted(chase_files)  # no .partial left
    dataset = find_dataset(out)
    assert dataset.layout == "chase" and len(dataset.photos) == 28
    assert _one_line_error(_fetch(mirror, "chase", out), 2).endswith(
        "already exists; remove it to unpack chase again"
    )


def test_stare_ppm_gz_become_the_png_layout_eval_reads(tmp_path, mirror, stare_archives):
    for file, data in stare_archives.items():
        mirror.files[f"/stare/{file}"] = data
    out = tmp_path / "stare"
    result = _fetch(mirror, "stare", out)
    assert result.exit_code == 0, result.output
    dataset = find_dataset(out)
    assert dataset.layout == "stare" and len(dataset.photos) == 20
    assert (out / "labels-vk" / "im0020.vk.png").is_file()
    loaded = load_labelled(dataset.photos[0])
    photo, label = _photo(0)
    assert np.array_equal(loaded.photo.pixels, photo)  # lossless: PPM to PNG
    assert np.array_equal(loaded.label, label > 0)


def test_a_download_cut_short_is_resumed_by_the_next_run(tmp_path, mirror, chase_files):
    archive = _zip(chase_files)
    mirror.files["/chase/CHASEDB1.zip"] = archive
    mirror.cut["/chase/CHASEDB1.zip"] = len(archive) // 3
    out = tmp_path / "chase"
    line = _one_line_error(_fetch(mirror, "chase", out), 1)
    assert f"closed after {len(archive) // 3:,} of {len(archive):,} bytes" in line
    assert "again to resume" in line
    assert (out / ".partial" / "CHASEDB1.zip").stat().st_size == len(archive) // 3
    assert _fetch(mirror, "chase", out).exit_code == 0
    assert mirror.ranges == [None, f"bytes={len(archive) // 3}-"]
    assert len(find_dataset(out).photos) == 28 and not (out / ".partial").exists()


def test_a_complete_download_left_by_an_earlier_run_is_not_downloaded_again(
    tmp_path, mirror, chase_files
):
    archive = _zip(chase_files)
    mirror.files["/chase/CHASEDB1.zip"] = archive
    out = tmp_path / "chase"
    (out / ".partial").mkdir(parents=True)
    (out / ".partial" / "CHASEDB1.zip").write_bytes(archive)
    assert _fetch(mirror, "chase", out).exit_code == 0
    assert mirror.ranges == [f"bytes={len(archive)}-"]  # answered 416: nothing more to send


def test_a_truncated_archive_is_refused_and_nothing_is_left(tmp_path, mirror, chase_files):
    archive = _zip(chase_files)
    mirror.files["/chase/CHASEDB1.zip"] = archive[: len(archive) // 2]
    out = tmp_path / "chase"
    line = _one_line_error(_fetch(mirror, "chase", out), 2)
    assert "CHASEDB1.zip: a damaged zip archive" in line
    _nothing_left(out)


def test_a_page_served_instead_of_the_archive_is_refused(tmp_path, mirror):
    mirror.files["/chase/CHASEDB1.zip"] = b"<html><body>Please log in</body></html>\n" * 40
    out = tmp_path / "chase"
    line = _one_line_error(_fetch(mirror, "chase", out), 2)
    assert line.endswith("CHASEDB1.zip: not a zip or tar archive, or damaged (invalid header)")
    _nothing_left(out)


def test_a_damaged_member_is_refused(tmp_path, chase_files):
    archive = bytearray(_zip(chase_files))
    archive[200:260] = bytes(60)  # inside Image_01L.jpg's compressed bytes
    (tmp_path / "CHASEDB1.zip").write_bytes(archive)
    out = tmp_path / "chase"
    line = _one_line_error(_run("prepare", "chase", tmp_path / "CHASEDB1.zip", "-o", out), 2)
    assert "CHASEDB1.zip: member Image_01L.jpg: damaged or truncated" in line
    _nothing_left(out)


def test_an_archive_larger_than_allowed_is_not_downloaded(
    tmp_path, mirror, chase_files, monkeypatch
):
    monkeypatch.setattr(fetch, "MAX_DOWNLOAD_BYTES", 4096)
    mirror.files["/chase/CHASEDB1.zip"] = archive = _zip(chase_files)
    out = tmp_path / "chase"
    line = _one_line_error(_fetch(mirror, "chase", out), 2)
    size = f"{len(archive) / 1024:.1f} KiB"
    assert line.endswith(f"{size} is larger than the 4 KiB allowed for an archive")
    _nothing_left(out)


def test_a_wrong_checksum_is_refused_and_the_download_removed(
    tmp_path, mirror, chase_files, monkeypatch
):
    mirror.files["/chase/CHASEDB1.zip"] = _zip(chase_files)
    checked = Archive("CHASEDB1.zip", "https://example.invalid/CHASEDB1.zip", "ab" * 32)
    monkeypatch.setitem(
        DATASETS, "chase", dataclasses.replace(DATASETS["chase"], archives=(checked,))
    )
    out = tmp_path / "chase"
    line = _one_line_error(_fetch(mirror, "chase", out), 2)
    assert re.search(
        rf"^Error: {mirror.url}/chase/CHASEDB1\.zip: SHA-256 [0-9a-f]{{64}}, expected the "
        "publisher's (ab){32}",
        line,
    )
    _nothing_left(out)


@pytest.mark.parametrize(("status", "says"), [(None, "Connection refused"), (404, "answered 404")])
def test_a_network_failure_is_exit_status_1_naming_the_address(tmp_path, mirror, status, says):
    url = mirror.url if status else "http://127.0.0.1:9"  # nothing listens on port 9
    result = _run("fetch", "chase", "-o", tmp_path / "chase", "--mirror", url)
    line = _one_line_error(result, 1)
    assert f"{url}/chase/CHASEDB1.zip" in line and says in line


@pytest.mark.parametrize("given", ["ftp.example.org", ""])
def test_a_mirror_that_is_not_a_web_address_is_refused(tmp_path, given):
    """An empty one once fetched from the publisher: off-line sites give one to stay off-line."""
    result = _run("fetch", "chase", "-o", tmp_path / "chase", "--mirror", given)
    line = _one_line_error(result, 2)
    assert line.endswith(  # a bad option's line: it named neither the command nor its --help
        f"datasets fetch: --mirror: got mirror {given!r}, expected an http:// or https:// "
        "address (see cli datasets fetch --help)"  # the runner names the program "cli"
    )
    _nothing_left(tmp_path / "chase")


def test_a_refused_archive_leaves_no_folder_made_for_it(tmp_path, monkeypatch):
    (tmp_path / "fake.zip").write_bytes(b"junk")
    monkeypatch.chdir(tmp_path)
    _one_line_error(_run("prepare", "chase", "fake.zip"), 2)  # into data/chase by default
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake.zip"]


# --- hostile archives ----------------------------------------------------------------------


def _hostile(kind: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(
        {"escape": "../escape.jpg", "absolute": "/tmp/Image_99L.jpg"}.get(kind, "x")
    )
    if kind == "symlink":
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    elif kind == "hardlink":
        info.type, info.linkname = tarfile.LNKTYPE, "Image_01L.jpg"
    elif kind == "device":
        info.type = tarfile.CHRTYPE
    return info


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("escape", "leaves the folder it is unpacked into"),
        ("absolute", "is an absolute path"),
        ("symlink", "is a link"),
        ("hardlink", "is a link"),
        ("device", "is a device or special file"),
    ],
)
def test_an_archive_with_an_unsafe_member_is_refused_whole(
    tmp_path, mirror, chase_files, kind, says
):
    mirror.files["/chase/CHASEDB1.zip"] = _tar(chase_files, _hostile(kind))
    out = tmp_path / "chase"
    line = _one_line_error(_fetch(mirror, "chase", out), 2)
    assert says in line and "CHASEDB1.zip: member" in line
    _nothing_left(out)
    assert not (tmp_path / "escape.jpg").exists()


def test_a_zip_member_that_escapes_is_refused(tmp_path, chase_files):
    archive = tmp_path / "CHASEDB1.zip"
    archive.write_bytes(_zip({**chase_files, "../../Image_99L.jpg": b"x"}))
    line = _one_line_error(_run("prepare", "chase", archive, "-o", tmp_path / "chase"), 2)
    assert "member '../../Image_99L.jpg' leaves the folder" in line


def test_a_zip_bomb_is_refused_before_it_expands(tmp_path, chase_files):
    bomb = {**chase_files, "Image_01L_2ndHO.png": bytes(64 * 2**20)}  # 64 MiB of zeros
    archive = tmp_path / "CHASEDB1.zip"
    archive.write_bytes(_zip(bomb))
    assert archive.stat().st_size < 2**20
    out = tmp_path / "chase"
    line = _one_line_error(_run("prepare", "chase", archive, "-o", out), 2)
    assert "refused as a decompression bomb" in line
    _nothing_left(out)


def test_a_compressed_tar_bomb_is_refused_while_it_is_listed(tmp_path, chase_files):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("padding.bin")  # no rule takes it: listing it is enough
        info.size = 48 * 2**20
        archive.addfile(info, io.BytesIO(bytes(info.size)))
    (tmp_path / "CHASEDB1.tar.gz").write_bytes(buffer.getvalue())
    out = tmp_path / "chase"
    line = _one_line_error(_run("prepare", "chase", tmp_path / "CHASEDB1.tar.gz", "-o", out), 2)
    assert "CHASEDB1.tar.gz: unpacks to more than" in line
    _nothing_left(out)


def test_a_tar_cut_inside_a_member_is_refused(tmp_path, stare_archives):
    archives = _saved(tmp_path, stare_archives)
    archives[1].write_bytes(stare_archives["labels-ah.tar"][:5000])
    out = tmp_path / "stare"
    line = _one_line_error(_run("prepare", "stare", *archives, "-o", out), 2)
    assert "labels-ah.tar: not a zip or tar archive, or damaged (unexpected end of data)" in line
    _nothing_left(out)


def test_a_gzip_bomb_inside_a_tar_is_stopped_while_it_expands(tmp_path, stare_archives):
    archives = _saved(tmp_path, stare_archives)
    bomb = {"im0001.ppm.gz": gzip.compress(b"P6 7000 7000 255\n" + bytes(48 * 2**20))}
    archives[0].write_bytes(_tar(bomb))
    out = tmp_path / "stare"
    line = _one_line_error(_run("prepare", "stare", *archives, "-o", out), 2)
    assert "stare-images.tar: unpacks to more than" in line and "decompression bomb" in line
    _nothing_left(out)


# --- prepare -------------------------------------------------------------------------------


def test_prepare_gave_from_its_archive_derives_the_vessel_labels(tmp_path):
    members = {}
    for i in range(50):
        photo, label = _photo(i)
        artery = label.copy()
        artery[:, SIZE[1] // 2 :] = 0
        av = np.stack([artery, np.zeros_like(label), label - artery], axis=2)  # red, blue
        fov = (photo.sum(axis=2) > 0).astype(np.uint8) * 255
        members[f"GAVE/training/images/{i:03d}.png"] = _encoded(photo, "PNG")
        members[f"GAVE/training/masks/{i:03d}.png"] = _encoded(fov, "PNG")
        members[f"GAVE/training/av/{i:03d}.png"] = _encoded(av, "PNG")
    members["__MACOSX/GAVE/training/images/._000.png"] = b"resource fork"
    archive = tmp_path / "GAVE.zip"
    archive.write_bytes(_zip(members))
    out = tmp_path / "gave"
    result = _run("prepare", "gave", archive, "-o", out)
    assert result.exit_code == 0, result.output
    assert "50 labelled photographs, 200 files" in result.stdout
    dataset = find_dataset(out)
    assert dataset.layout == "generic" and len(dataset.photos) == 50
    loaded = load_labelled(dataset.photos[-1])
    assert np.array_equal(loaded.label, _photo(49)[1] > 0)
    assert (out / "labels-av" / "049.png").is_file()


def test_prepare_refuses_an_archive_of_another_set(tmp_path, stare_archives):
    archive = tmp_path / "labels-ah.tar"
    archive.write_bytes(stare_archives["labels-ah.tar"])
    line = _one_line_error(_run("prepare", "chase", archive, "-o", tmp_path / "chase"), 2)
    assert line.endswith("labels-ah.tar: holds none of chase's files (expected CHASEDB1.zip)")


def test_an_incomplete_set_is_refused_naming_what_is_missing(tmp_path, chase_files):
    archive = tmp_path / "CHASEDB1.zip"
    archive.write_bytes(_zip({k: v for k, v in chase_files.items() if "14R" not in k}))
    out = tmp_path / "chase"
    line = _one_line_error(_run("prepare", "chase", archive, "-o", out), 2)
    assert "./ of chase would hold 81 files, expected 84" in line
    _nothing_left(out)


def test_an_unreadable_photograph_is_refused(tmp_path, chase_files):
    archive = tmp_path / "CHASEDB1.zip"
    archive.write_bytes(_zip({**chase_files, "Image_07L.jpg": b"not a JPEG"}))
    out = tmp_path / "chase"
    line = _one_line_error(_run("prepare", "chase", archive, "-o", out), 2)
    assert "Image_07L.jpg" in line
    _nothing_left(out)


def test_a_label_of_another_size_is_named_by_its_archive_and_member(tmp_path, chase_files):
    """It was named by the staging folder's path, removed by the time it was read."""
    small = _encoded(np.zeros((10, 10), np.uint8), "PNG")
    archive = tmp_path / "CHASEDB1.zip"
    archive.write_bytes(_zip({**chase_files, "Image_07L_1stHO.png": small}))
    out = tmp_path / "chase"
    line = _one_line_error(_run("prepare", "chase", archive, "-o", out), 2)
    assert line.startswith(f"Error: {archive}: Image_07L_1stHO.png: 10x10 pixels")
    _nothing_left(out)


def test_an_archive_given_twice_is_refused(tmp_path, chase_files):
    archive = tmp_path / "CHASEDB1.zip"
    archive.write_bytes(_zip(chase_files))
    line = _one_line_error(_run("prepare", "chase", archive, archive, "-o", tmp_path / "c"), 2)
    assert "an archive given twice?" in line


@pytest.mark.parametrize("args", [["fetch", "drive", "-o", " "], ["prepare", "drive", ""]])
def test_a_blank_path_is_a_usage_error(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    result = _run(*args)
    assert result.exit_code == 2 and "expected a path" in result.stderr
    assert not list(tmp_path.iterdir())


def test_prepare_under_a_file_names_the_file_not_a_hidden_staging_folder(tmp_path, chase_files):
    """It said 'rfile/.x.unpacking-23237: cannot be created (File exists)'."""
    (tmp_path / "rfile").write_text("")
    archive = tmp_path / "chase.zip"
    archive.write_bytes(_zip(chase_files))
    line = _one_line_error(_run("prepare", "chase", archive, "-o", tmp_path / "rfile" / "x"), 2)
    target = tmp_path / "rfile" / "x"
    assert line == f"Error: {target.parent}: not a folder, so {target} cannot be made in it"


def test_prepare_of_a_missing_archive_names_it(tmp_path):
    line = _one_line_error(_run("prepare", "chase", tmp_path / "nope.zip", "-o", tmp_path / "c"), 2)
    assert line.endswith("nope.zip: no such file")


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("http://[::1", "not an address (Invalid IPv6 URL)"),  # once a traceback
        ("http://localhost:abc", "not an address (Port could not be cast"),  # once "resume"
        ("ftp://x", "expected an http:// or https:// address"),
        ("http://", "expected an http:// or https:// address"),
        # the archives' paths were appended after them: http://h/data?token=abc/stare/...
        ("http://h/data?token=abc", "expected an address without a query or fragment"),
        ("http://h/data#top", "expected an address without a query or fragment"),
        ("http://h/data?", "expected an address without a query or fragment"),
    ],
)
def test_a_mirror_that_is_no_address_is_refused_before_anything_is_touched(tmp_path, address, says):
    out = tmp_path / "stare"
    kept = out / ".partial" / "stare-images.tar"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"what a download cut short left, to resume")
    line = _one_line_error(_run("fetch", "stare", "-o", out, "--mirror", address), 2)
    assert says in line
    assert kept.read_bytes() == b"what a download cut short left, to resume"  # once removed


def test_a_download_that_never_started_leaves_no_empty_folders(tmp_path):
    out = tmp_path / "stare"
    line = _one_line_error(_run("fetch", "stare", "-o", out, "--mirror", "http://127.0.0.1:9"), 1)
    assert "run the same command again to resume" in line
    _nothing_left(out)


@pytest.mark.parametrize("failure", ["network", "refused"])
def test_a_failed_fetch_keeps_the_empty_folder_the_user_made(tmp_path, mirror, failure):
    """It was removed (an empty -o, or one made for the set beforehand)."""
    out = tmp_path / "mine"
    out.mkdir()
    url = "http://127.0.0.1:9" if failure == "network" else mirror.url  # nothing listens on 9
    mirror.files["/chase/CHASEDB1.zip"] = b"<html><body>Please log in</body></html>\n" * 40
    result = _run("fetch", "chase", "-o", out, "--mirror", url)
    _one_line_error(result, 1 if failure == "network" else 2)
    assert out.is_dir() and not list(out.iterdir())


def test_a_failed_fetch_into_the_default_folder_leaves_no_data_folder(tmp_path, monkeypatch):
    """data/ was made for data/stare, and left behind empty."""
    monkeypatch.chdir(tmp_path)
    _one_line_error(_run("fetch", "stare", "--mirror", "http://127.0.0.1:9"), 1)
    assert not list(tmp_path.iterdir())


@pytest.mark.timeout(20)  # it takes milliseconds
def test_an_archive_of_zeros_is_refused_at_once(tmp_path):
    """tarfile's guessing read it to the end trying xz: 80 s a gigabyte, a hang in effect."""
    zeros = tmp_path / "zeros.tar"
    with open(zeros, "wb") as f:
        f.truncate(2**30)  # sparse: no disk taken
    line = _one_line_error(_run("prepare", "stare", zeros, "-o", tmp_path / "stare"), 2)
    assert line.endswith("zeros.tar: an empty archive (it holds no files)")  # a tar of zeros is


def test_an_archive_of_too_many_members_is_refused(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for n in range(20_001):
            archive.addfile(tarfile.TarInfo(f"x/{n}"))
    (tmp_path / "many.tar.gz").write_bytes(buffer.getvalue())
    out = tmp_path / "stare"
    line = _one_line_error(_run("prepare", "stare", tmp_path / "many.tar.gz", "-o", out), 2)
    assert line.endswith(
        "many.tar.gz: lists more than 20,000 members, expected a dataset's few hundred: refused"
    )
    _nothing_left(out)


def test_sigterm_ends_prepare_through_its_clean_up_and_a_killed_run_is_cleaned_after(
    tmp_path, chase_files, monkeypatch
):
    (tmp_path / "CHASEDB1.zip").write_bytes(_zip(chase_files))
    out = tmp_path / "chase"
    killed = tmp_path / ".chase.unpacking-4194305"  # above any process id Linux gives
    (killed / "images").mkdir(parents=True)
    from edge_runtime.data import unpack

    def terminated(*_args):
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(unpack, "_check", terminated)  # once unpacked, before the check
    result = _run("prepare", "chase", tmp_path / "CHASEDB1.zip", "-o", out)
    assert result.exit_code == 128 + signal.SIGTERM
    assert result.output.splitlines()[-1] == "Error: terminated"  # it ended in silence
    _nothing_left(out)  # neither this run's unpacking folder nor the killed one's
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # given back


@pytest.mark.parametrize("archive", [_zip({}), _tar({})], ids=["zip", "tar"])
def test_an_empty_archive_is_called_empty(tmp_path, mirror, archive):
    """It was called "not a zip or tar archive, or damaged"."""
    mirror.files["/chase/CHASEDB1.zip"] = archive
    out = tmp_path / "chase"
    line = _one_line_error(_fetch(mirror, "chase", out), 2)
    assert line.endswith("CHASEDB1.zip: an empty archive (it holds no files)")
    _nothing_left(out)


@pytest.mark.parametrize("name", ["..\\..\\Image_99L.jpg", "CHASEDB1\\..\\..\\x.jpg"])
def test_a_member_that_escapes_with_backslashes_is_refused(tmp_path, chase_files, name):
    """Guards against ``re.split(r"[/\\]", ...)`` -> ``name.split("/")`` in _refuse_unsafe
    : the archive was unpacked, the member left in it."""
    archive = tmp_path / "CHASEDB1.zip"
    archive.write_bytes(_zip({**chase_files, name: b"x"}))
    out = tmp_path / "chase"
    line = _one_line_error(_run("prepare", "chase", archive, "-o", out), 2)
    assert f"member {name!r} leaves the folder it is unpacked into (..)" in line
    _nothing_left(out)


def test_a_member_with_a_drive_letter_is_refused_as_absolute(tmp_path, chase_files):
    """Guards against the ``re.match(r"[A-Za-z]:", ...)`` test dropped."""
    archive = tmp_path / "CHASEDB1.zip"
    archive.write_bytes(_zip({**chase_files, "C:/Users/x/Image_99L.jpg": b"x"}))
    out = tmp_path / "chase"
    line = _one_line_error(_run("prepare", "chase", archive, "-o", out), 2)
    assert "member 'C:/Users/x/Image_99L.jpg' is an absolute path" in line
    _nothing_left(out)


def test_an_archive_of_exactly_max_members_is_taken(tmp_path, chase_files, monkeypatch):
    """Guards against ``len(entries) > MAX_MEMBERS`` -> ``>=``: the existing test lists
    20,001 members, which both refuse."""
    from edge_runtime.data import unpack

    archive = tmp_path / "CHASEDB1.zip"
    archive.write_bytes(_zip(chase_files))  # 84 members
    monkeypatch.setattr(unpack, "MAX_MEMBERS", len(chase_files))
    assert _run("prepare", "chase", archive, "-o", tmp_path / "chase").exit_code == 0
    monkeypatch.setattr(unpack, "MAX_MEMBERS", len(chase_files) - 1)
    line = _one_line_error(_run("prepare", "chase", archive, "-o", tmp_path / "again"), 2)
    assert line.endswith(f"lists more than {len(chase_files) - 1} members, expected a dataset's "
                         "few hundred: refused")  # fmt: skip


def test_a_zip_symlink_member_is_refused_as_a_link(tmp_path, chase_files):
    """Guards against the ``S_ISLNK`` branch dropped from _zip_entry: only tar links
    were tested."""
    buffer = tmp_path / "CHASEDB1.zip"
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in chase_files.items():
            archive.writestr(name, data)
        link = zipfile.ZipInfo("Image_99L.jpg")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    out = tmp_path / "chase"
    line = _one_line_error(_run("prepare", "chase", buffer, "-o", out), 2)
    assert "member 'Image_99L.jpg' is a link (a dataset holds regular files only)" in line
    _nothing_left(out)


def test_an_archive_over_max_archive_bytes_is_refused_before_it_is_read(tmp_path):
    """Guards against ``size > MAX_ARCHIVE_BYTES`` -> ``size > 4 * MAX_ARCHIVE_BYTES``."""
    from edge_runtime.data.unpack import MAX_ARCHIVE_BYTES

    big = tmp_path / "stare-images.tar"
    with open(big, "wb") as f:
        f.truncate(MAX_ARCHIVE_BYTES + 1)  # sparse: no disk taken
    line = _one_line_error(_run("prepare", "stare", big, "-o", tmp_path / "stare"), 2)
    assert line.endswith(
        f"{MAX_ARCHIVE_BYTES + 1:,} bytes, larger than the {MAX_ARCHIVE_BYTES:,} of any archive "
        "of stare"
    )


def test_the_unpacked_bytes_cap_binds_at_its_value(tmp_path, chase_files, monkeypatch):
    """Guards against ``min(MAX_UNPACKED_BYTES, ...)`` -> ``min(4 * MAX_UNPACKED_BYTES, ...)``
    : the bombs tested are all stopped by MAX_RATIO first."""
    from edge_runtime.data import unpack

    archive = tmp_path / "CHASEDB1.zip"
    archive.write_bytes(_zip(chase_files))
    total = sum(map(len, chase_files.values()))
    monkeypatch.setattr(unpack, "MAX_UNPACKED_BYTES", total - 1)
    out = tmp_path / "chase"
    line = _one_line_error(_run("prepare", "chase", archive, "-o", out), 2)
    assert f"unpacks to more than {total - 1:,} bytes" in line
    _nothing_left(out)
    monkeypatch.setattr(unpack, "MAX_UNPACKED_BYTES", total)
    assert _run("prepare", "chase", archive, "-o", out).exit_code == 0


def test_apple_double_files_beside_the_photographs_are_left_out(tmp_path):
    """A tar made on macOS holds ``._NAME`` beside each file (not under __MACOSX). Guards against
    the hidden-file test dropped from _junk."""
    members = {}
    for i in range(50):
        photo, label = _photo(i)
        av = __import__("numpy").stack([label, label * 0, label * 0], axis=2)
        fov = (photo.sum(axis=2) > 0).astype("uint8") * 255
        members[f"GAVE/training/images/{i:03d}.png"] = _encoded(photo, "PNG")
        members[f"GAVE/training/masks/{i:03d}.png"] = _encoded(fov, "PNG")
        members[f"GAVE/training/av/{i:03d}.png"] = _encoded(av, "PNG")
    members["GAVE/training/images/._000.png"] = b"\x00\x05\x16\x07 AppleDouble"
    archive = tmp_path / "GAVE.tar"
    archive.write_bytes(_tar(members))
    out = tmp_path / "gave"
    result = _run("prepare", "gave", archive, "-o", out)
    assert result.exit_code == 0, result.output
    assert not (out / "images" / "._000.png").exists()


@pytest.fixture
def serve(monkeypatch):
    """``serve(answer)``: a context manager running a local HTTP server whose every GET is
    answered by ``answer(handler)``; it yields the server's address."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)

    @contextlib.contextmanager
    def serving(answer):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                answer(self)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            server.server_close()

    return serving


def test_a_kept_download_longer_than_the_archive_is_downloaded_again(tmp_path, mirror, chase_files):
    """What is kept is not the start of what is served (416 for a range past its end): the
    download starts again from the beginning."""
    archive = _zip(chase_files)
    mirror.files["/chase/CHASEDB1.zip"] = archive
    out = tmp_path / "chase"
    (out / ".partial").mkdir(parents=True)
    (out / ".partial" / "CHASEDB1.zip").write_bytes(archive + b"stale tail")
    result = _fetch(mirror, "chase", out)
    assert result.exit_code == 0, result.output
    assert mirror.ranges == [f"bytes={len(archive) + 10}-", None]
    assert len(find_dataset(out).photos) == 28


def test_a_resumed_download_cut_short_again_is_kept_for_the_next_run(tmp_path, mirror, chase_files):
    """A resumed download (206) that stops a byte short of the size its range names is a network
    failure that keeps what arrived, not an archive taken whole and refused."""
    archive = _zip(chase_files)
    mirror.files["/chase/CHASEDB1.zip"] = archive
    mirror.cut["/chase/CHASEDB1.zip"] = len(archive) // 3
    out = tmp_path / "chase"
    _one_line_error(_fetch(mirror, "chase", out), 1)
    mirror.cut["/chase/CHASEDB1.zip"] = len(archive) - 1
    line = _one_line_error(_fetch(mirror, "chase", out), 1)
    assert f"closed after {len(archive) - 1:,} of {len(archive):,} bytes" in line
    assert (out / ".partial" / "CHASEDB1.zip").stat().st_size == len(archive) - 1
    assert _fetch(mirror, "chase", out).exit_code == 0
    assert mirror.ranges[-1] == f"bytes={len(archive) - 1}-"
    assert len(find_dataset(out).photos) == 28


def test_an_archive_of_exactly_the_largest_size_is_downloaded(
    tmp_path, mirror, chase_files, monkeypatch
):
    """The download cap refuses what is larger than MAX_DOWNLOAD_BYTES, not what equals it."""
    mirror.files["/chase/CHASEDB1.zip"] = archive = _zip(chase_files)
    monkeypatch.setattr(fetch, "MAX_DOWNLOAD_BYTES", len(archive))
    result = _fetch(mirror, "chase", tmp_path / "chase")
    assert result.exit_code == 0, result.output


def test_an_archive_served_without_its_size_is_stopped_at_the_cap(tmp_path, serve, monkeypatch):
    """A body without a Content-Length is counted as it arrives and refused past the cap."""
    monkeypatch.setattr(fetch, "MAX_DOWNLOAD_BYTES", 4096)

    def answer(handler):  # HTTP/1.0: the body ends when the connection closes
        handler.send_response(200)
        handler.end_headers()
        handler.wfile.write(bytes(3 * 4096))

    out = tmp_path / "chase"
    with serve(answer) as url:
        line = _one_line_error(_run("fetch", "chase", "-o", out, "--mirror", url), 2)
    assert line.endswith(f"{url}/chase/CHASEDB1.zip: larger than the 4 KiB allowed for an archive")
    _nothing_left(out)


def test_a_416_to_a_download_from_the_start_is_a_network_failure(tmp_path, serve):
    """A server that answers 416 with nothing kept is reported, not taken for a complete file."""

    def answer(handler):
        handler.send_response(416)
        handler.send_header("Content-Range", "bytes */1234")
        handler.end_headers()

    out = tmp_path / "chase"
    with serve(answer) as url:
        line = _one_line_error(_run("fetch", "chase", "-o", out, "--mirror", url), 1)
    assert f"{url}/chase/CHASEDB1.zip: the server answered 416" in line


def test_a_part_that_does_not_follow_on_is_refused_and_what_is_kept_stays(tmp_path, serve):
    """A resumed download whose part starts even one byte after what is kept is refused."""
    kept = b"x" * 100

    def answer(handler):
        handler.send_response(206)
        handler.send_header("Content-Range", "bytes 101-299/300")
        handler.send_header("Content-Length", "199")
        handler.end_headers()
        handler.wfile.write(bytes(199))

    out = tmp_path / "chase"
    (out / ".partial").mkdir(parents=True)
    (out / ".partial" / "CHASEDB1.zip").write_bytes(kept)
    with serve(answer) as url:
        line = _one_line_error(_run("fetch", "chase", "-o", out, "--mirror", url), 1)
    assert "the server sent a part that does not follow on" in line
    assert (out / ".partial" / "CHASEDB1.zip").read_bytes() == kept


def test_the_right_checksum_is_accepted_in_capitals_too(tmp_path, mirror, chase_files, monkeypatch):
    """A publisher's SHA-256 that matches, written in capitals, is accepted."""
    archive = _zip(chase_files)
    mirror.files["/chase/CHASEDB1.zip"] = archive
    digest = hashlib.sha256(archive).hexdigest().upper()
    checked = Archive("CHASEDB1.zip", "https://example.invalid/CHASEDB1.zip", digest)
    monkeypatch.setitem(
        DATASETS, "chase", dataclasses.replace(DATASETS["chase"], archives=(checked,))
    )
    result = _fetch(mirror, "chase", tmp_path / "chase")
    assert result.exit_code == 0, result.output


def test_download_removes_a_file_of_the_wrong_checksum(tmp_path, mirror):
    """download() itself removes a file whose SHA-256 is not the one given."""
    mirror.files["/x.zip"] = b"not the publisher's"
    path = tmp_path / "x.zip"
    with pytest.raises(fetch.InputError, match="expected the publisher's"):
        fetch.download(f"{mirror.url}/x.zip", path, "ab" * 32)
    assert not path.exists()


def test_a_mirror_given_with_a_trailing_slash_asks_for_no_empty_path_segment():
    """MIRROR/ is the same server as MIRROR: not MIRROR//NAME/FILE (the local test server
    merges the two slashes; a server that does not would answer 404)."""
    archive = DATASETS["chase"].archives[0]
    for mirror in ("http://mirror.example/data", "http://mirror.example/data/"):
        url = fetch.archive_url(DATASETS["chase"], archive, mirror)
        assert url == "http://mirror.example/data/chase/CHASEDB1.zip"


def test_the_mirror_can_be_given_by_its_environment_variable(tmp_path, mirror, chase_files):
    """EDGE_SEG_DATA_MIRROR stands for --mirror (a site without internet access sets it once)."""
    mirror.files["/chase/CHASEDB1.zip"] = _zip(chase_files)
    result = CliRunner().invoke(
        cli,
        ["datasets", "fetch", "chase", "-o", str(tmp_path / "chase")],
        env={"EDGE_SEG_DATA_MIRROR": mirror.url},
    )
    assert result.exit_code == 0, result.output
    assert mirror.ranges == [None]


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_progress_bar_on_a_terminal_counts_each_byte_once(monkeypatch):
    """Each call gives the bytes done so far: the bar advances by the difference."""
    from edge_runtime.cli.datasets import _Bars

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    bars = _Bars()
    for done in (100, 250, 400):
        bars("downloading x.zip", done, 1000)
    assert bars._bar.pos == 400
    bars.close()
    assert "downloading x.zip" in terminal.getvalue() and "40%" in terminal.getvalue()


def test_list_gives_each_set_its_origin_camera_photographs_labels_and_how_to_get_it():
    """Every field the list promises is printed under its own set, and the way to get it
    matches the set's access."""
    blocks = _run("list").output.strip().split("\n\n")
    assert len(blocks) == len(DATASETS)
    for dataset, block in zip(DATASETS.values(), blocks, strict=True):
        lines = block.splitlines()
        assert lines[0] == f"{dataset.name}: {dataset.title}"
        assert f"  origin: {dataset.origin}; {dataset.homepage}" in lines
        assert f"  photographs: {dataset.photographs}, {dataset.resolution}" in lines
        assert f"  camera: {dataset.camera}" in lines
        fields = [f"{degrees:g}° ({size})" for size, degrees in dataset.fields]
        assert f"  field of view: {', '.join(fields) or 'not stated'}" in lines
        assert f"  labels: {dataset.labels}" in lines
        get_it = next(line for line in lines if line.startswith("  get it: "))
        expected = {
            "direct": f"edge-seg datasets fetch {dataset.name} (",
            "manual": f"then: edge-seg datasets prepare {dataset.name} ARCHIVE...",
            "private": "not public",
        }[dataset.access]
        assert expected in get_it


def test_each_field_of_view_is_of_a_photograph_size_the_set_has():
    """A set's fields of view are keyed by the sizes its resolution names, each once: a size
    mistyped in one of the two would leave its photographs without their field."""
    for dataset in DATASETS.values():
        sizes = [size for size, _ in dataset.fields]
        named = re.findall(r"\d+x\d+", dataset.resolution)
        assert len(set(sizes)) == len(sizes) and set(sizes) <= set(named), dataset.name


def test_each_public_archive_address_serves_the_file_it_names():
    """A direct archive's address ends in its own file name (the mirror serves NAME/FILE)."""
    for dataset in DATASETS.values():
        for archive in dataset.archives:
            if archive.url is not None:
                assert archive.url.rsplit("/", 1)[1] == archive.file, dataset.name


def test_a_set_name_is_taken_in_any_case_and_prepared_into_data_name(
    tmp_path, monkeypatch, chase_files
):
    """`prepare CHASE` is chase's; without -o the set goes in data/NAME, as the help says."""
    (tmp_path / "CHASEDB1.zip").write_bytes(_zip(chase_files))
    monkeypatch.chdir(tmp_path)
    result = _run("prepare", "CHASE", "CHASEDB1.zip")
    assert result.exit_code == 0, result.output
    assert find_dataset(tmp_path / "data" / "chase").layout == "chase"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["CHASEDB1.zip", "data"]


def _drive_archive() -> dict[str, bytes]:
    members = {}
    for n in range(21, 41):
        photo, label = _photo(n)
        fov = (photo.sum(axis=2) > 0).astype(np.uint8) * 255
        members[f"DRIVE/training/images/{n}_training.tif"] = _encoded(photo, "TIFF")
        members[f"DRIVE/training/1st_manual/{n}_manual1.gif"] = _encoded(label, "GIF")
        members[f"DRIVE/training/mask/{n}_training_mask.gif"] = _encoded(fov, "GIF")
    return {"training.zip": _zip(members)}


def _hrf_archive() -> dict[str, bytes]:
    members = {}
    for n in range(45):
        photo, label = _photo(n)
        fov = (photo.sum(axis=2) > 0).astype(np.uint8) * 255
        stem = f"{n // 3 + 1:02d}_{('h', 'g', 'dr')[n % 3]}"
        members[f"images/{stem}.jpg"] = _encoded(photo, "JPEG")
        members[f"manual1/{stem}.tif"] = _encoded(label, "TIFF")
        members[f"mask/{stem}_mask.tif"] = _encoded(fov, "TIFF")
    return {"all.zip": _zip(members)}


def _les_av_archive() -> dict[str, bytes]:
    members = {}
    for n in range(22):
        photo, label = _photo(n)
        fov = (photo.sum(axis=2) > 0).astype(np.uint8) * 255
        av = np.stack([label, np.zeros_like(label), np.zeros_like(label)], axis=2)
        members[f"LES-AV/images/{n:03d}.png"] = _encoded(photo, "PNG")
        members[f"LES-AV/masks/{n:03d}.png"] = _encoded(fov, "PNG")
        members[f"LES-AV/vessel-segmentations/{n:03d}.png"] = _encoded(label, "PNG")
        members[f"LES-AV/arteries-and-veins/{n:03d}.png"] = _encoded(av, "PNG")
    return {"LES-AV.zip": _zip(members)}


@pytest.mark.parametrize(
    ("name", "archives"),
    [("drive", _drive_archive), ("hrf", _hrf_archive), ("les-av", _les_av_archive)],
)
def test_a_set_in_its_publishers_layout_becomes_the_layout_eval_reads(
    tmp_path, mirror, name, archives
):
    """The catalogue's rules turn each publisher's archive into the set's layout, every
    photograph with its own label, and the report names what was put where."""
    dataset = DATASETS[name]
    out = tmp_path / name
    if dataset.access == "direct":
        for file, data in archives().items():
            mirror.files[f"/{name}/{file}"] = data
        result = _fetch(mirror, name, out)
    else:
        result = _run("prepare", name, *_saved(tmp_path, archives()), "-o", out)
    assert result.exit_code == 0, result.output
    found = find_dataset(out)
    assert found.layout == dataset.layout and len(found.photos) == dataset.photographs
    loaded = load_labelled(found.photos[0])
    assert loaded.label.shape == SIZE and loaded.label.any()
    files = [p for p in out.rglob("*") if p.is_file()]
    mib = sum(p.stat().st_size for p in files) / 2**20
    assert result.stdout == (
        f"{name}: {dataset.photographs} labelled photographs, {len(files)} files ({mib:.1f} MiB) "
        f"in {out}, {dataset.layout} layout; edge-seg eval {out}\n"
    )


def test_an_empty_mirror_variable_is_refused_not_taken_for_the_publisher(tmp_path, monkeypatch):
    """click takes a variable set empty for unset: EDGE_SEG_DATA_MIRROR="" (an off-line
    site's) downloaded from the publisher over the internet, where --mirror '' is refused."""

    def no_download(url, *args):
        pytest.fail(f"downloaded {url}")

    monkeypatch.setattr(fetch, "download", no_download)
    for setting in ("", "  ", "ftp://mirror"):
        monkeypatch.setenv("EDGE_SEG_DATA_MIRROR", setting)
        line = _one_line_error(_run("fetch", "chase", "-o", tmp_path / "chase"), 2)
        assert f"$EDGE_SEG_DATA_MIRROR: got mirror {setting!r}, expected an http" in line
        assert not (tmp_path / "chase").exists()


def test_a_mirror_on_the_command_line_stands_though_the_variable_is_set_empty(
    tmp_path, mirror, chase_files, monkeypatch
):
    """An empty $EDGE_SEG_DATA_MIRROR is refused only where --mirror does not replace it."""
    mirror.files["/chase/CHASEDB1.zip"] = _zip(chase_files)
    monkeypatch.setenv("EDGE_SEG_DATA_MIRROR", "")
    result = _fetch(mirror, "chase", tmp_path / "chase")
    assert result.exit_code == 0, result.output
    assert mirror.ranges == [None]


def test_a_count_of_one_file_or_photograph_is_said_singular(tmp_path):
    """The checks of what was unpacked said '1 files' and '1 labelled photographs'."""
    staging = tmp_path / "staging"
    for folder in ("images", "labels"):
        (staging / folder).mkdir(parents=True)
        (staging / folder / "a.png").write_bytes(b"")
    gave = DATASETS["gave"]
    files = dataclasses.replace(gave, files=(("images", 2),))
    with pytest.raises(InputError, match=r"images/ of gave would hold 1 file, expected 2 "):
        unpack._check(staging, files, [Path("g.zip")], unpack.no_progress)
    photographs = dataclasses.replace(gave, files=(), layout="generic", photographs=2)
    with pytest.raises(InputError, match=r"^g\.zip: 1 labelled photograph of gave, expected 2$"):
        unpack._check(staging, photographs, [Path("g.zip")], unpack.no_progress)
