"""``edge-seg datasets``: the catalog, fetch from a local HTTP server (never the internet) and
prepare from archives built here, good and hostile (truncated, a wrong checksum, members that
escape, links, devices, decompression bombs, downloads cut short)."""

import dataclasses
import gzip
import io
import json
import os
import re
import signal
import stat
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
from edge_runtime.data import fetch
from edge_runtime.data.catalog import DATASETS, Archive
from edge_runtime.data.photos import LAYOUTS, find_dataset, load_labelled
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
    assert line.endswith(f"got mirror {given!r}, expected an http:// or https:// address")
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


def test_an_archive_of_zeros_is_refused_at_once(tmp_path):
    """tarfile's guessing read it to the end trying xz: 80 s a gigabyte, a hang in effect."""
    zeros = tmp_path / "zeros.tar"
    with open(zeros, "wb") as f:
        f.truncate(2**30)  # sparse: no disk taken
    previous = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("took over 20 s"))
    signal.alarm(20)  # it takes milliseconds
    try:
        line = _one_line_error(_run("prepare", "stare", zeros, "-o", tmp_path / "stare"), 2)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
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
