"""Download a dataset's public archives and unpack them (:mod:`edge_runtime.data.unpack`).

Each archive is downloaded to ``TARGET/.partial/FILE``; a download cut short is resumed from
where it stopped by the next run (an HTTP range request), and one refused for good (a wrong
checksum, a damaged archive) is removed. Addresses are the publishers' own, or a mirror's: the
same files served as ``MIRROR/NAME/FILE`` (a site without internet access keeps a copy on its
own server). Only the standard library's ``urllib`` is used, with the system's proxies and
certificate authorities.
"""

import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from http.client import HTTPException, HTTPResponse
from pathlib import Path

from edge_runtime import __version__
from edge_runtime.atomic import folders_removed_on_failure
from edge_runtime.data.catalog import Archive, Dataset
from edge_runtime.data.patches import file_sha256
from edge_runtime.data.unpack import (
    MAX_ARCHIVE_BYTES,
    PARTIAL,
    Prepared,
    Progress,
    check_target,
    no_progress,
    prepare,
)
from edge_runtime.errors import EdgeSegError, InputError, NetworkError, OutputError
from edge_runtime.safe_open import size_and_limit

TIMEOUT_S = 60
"""Seconds a connection may stay silent before the download is given up (and can be resumed)."""

MAX_DOWNLOAD_BYTES = MAX_ARCHIVE_BYTES
"""Largest archive downloaded: the largest one unpacked."""

_CHUNK = 2**16
_RESUME = "run the same command again to resume"


def check_mirror(mirror: str) -> None:
    """Refuse a mirror that is not an http:// or https:// address with a host (and a port that
    is a number, if any), or that has a query or fragment.

    Raises:
        InputError: it is not.
    """
    try:
        parts = urllib.parse.urlsplit(mirror)
        parts.port  # noqa: B018  (a port that is not a number raises)
    except ValueError as exc:
        raise InputError(f"got mirror {mirror!r}, not an address ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"got mirror {mirror!r}, expected an http:// or https:// address")
    if "?" in mirror or "#" in mirror:  # the archives' paths would be appended after them
        raise InputError(
            f"got mirror {mirror!r}, expected an address without a query or fragment (? or #): "
            "files are fetched as MIRROR/NAME/FILE"
        )


def archive_url(dataset: Dataset, archive: Archive, mirror: str | None = None) -> str:
    """Where ``archive`` is downloaded from: the publisher's address, or ``MIRROR/NAME/FILE``
    (:func:`check_mirror`)."""
    if mirror is not None:
        check_mirror(mirror)
        return f"{mirror.rstrip('/')}/{dataset.name}/{archive.file}"
    if archive.url is None:
        raise InputError(f"{dataset.name}: {archive.file} has no public download address")
    return archive.url


def fetch(
    dataset: Dataset, target: Path, mirror: str | None = None, progress: Progress = no_progress
) -> Prepared:
    """Download ``dataset``'s archives and unpack them into ``target`` (see
    :func:`~edge_runtime.data.unpack.prepare`).

    Raises:
        InputError: the mirror is not an address (nothing is touched), the dataset has no
            public download, ``target`` is taken, or an archive is refused (a wrong checksum,
            damaged, unsafe, not the dataset's): its download is removed, and the error names
            its address.
        NetworkError: a download failed on the way; what arrived is kept for the next run
            (the folders this run made and left empty are not; a folder that was there
            before, ``target`` too, always is).
        OutputError: the disk refused.
    """
    if mirror is not None:  # an empty one is refused, never taken for the publisher's
        check_mirror(mirror)
    check_target(dataset, target)
    if dataset.access != "direct":
        raise InputError(f"{dataset.name}: no public download; {dataset.how_to_get()}")
    partial = target / PARTIAL
    paths = [partial / archive.file for archive in dataset.archives]
    urls = [archive_url(dataset, archive, mirror) for archive in dataset.archives]
    # on failure, the folders this run made and left empty go (never one the user made)
    with folders_removed_on_failure(partial):
        try:
            for archive, path, url in zip(dataset.archives, paths, urls, strict=True):
                download(url, path, archive.sha256, progress)
            return prepare(dataset, paths, target, progress)
        except InputError as exc:
            shutil.rmtree(partial, ignore_errors=True)
            message = str(exc)
            for path, url in zip(paths, urls, strict=True):  # the downloads named are removed
                message = message.replace(str(path), url)
            raise InputError(message) from None


def download(
    url: str, path: Path, sha256: str | None = None, progress: Progress = no_progress
) -> None:
    """Download ``url`` to ``path``, resuming what an earlier run left there, and check its
    SHA-256 when one is given.

    Raises:
        InputError: larger than :data:`MAX_DOWNLOAD_BYTES`, or not the checksum (the file is
            removed).
        NetworkError: the address cannot be reached, the server refuses, or the connection
            breaks (what arrived is kept).
        OutputError: ``path`` cannot be written.
    """
    have = path.stat().st_size if path.is_file() else 0
    headers = {"User-Agent": f"edge-seg/{__version__}"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{path.parent}: cannot be created ({exc.strerror or exc})") from None
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=TIMEOUT_S
        ) as response:
            _receive(url, response, path, have, progress)
    except urllib.error.HTTPError as exc:
        if exc.code != 416 or not have:
            raise NetworkError(f"{url}: the server answered {exc.code} {exc.reason}") from None
        if exc.headers.get("Content-Range", "") != f"bytes */{have}":
            path.unlink()  # what is kept is not the start of what is served: start again
            download(url, path, sha256, progress)
            return
    except EdgeSegError:
        raise
    except (urllib.error.URLError, HTTPException, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise NetworkError(f"{url}: {reason} ({_RESUME})") from None
    if sha256 is not None:
        _check_sha256(path, sha256)


def _receive(url: str, response: HTTPResponse, path: Path, have: int, progress: Progress) -> None:
    """Write the body of ``response`` into ``path``, which holds ``have`` bytes: all of it, or
    the rest of the file from where the body starts."""
    start, total = _span(url, response)
    if start > have:
        raise NetworkError(f"{url}: the server sent a part that does not follow on ({_RESUME})")
    if total is not None and total > MAX_DOWNLOAD_BYTES:
        path.unlink(missing_ok=True)
        size, limit = size_and_limit(total, MAX_DOWNLOAD_BYTES)
        raise InputError(f"{url}: {size} is larger than the {limit} allowed for an archive")
    done = start
    try:
        with open(path, "r+b" if path.is_file() else "wb") as sink:
            sink.truncate(start)
            sink.seek(start)
            while chunk := _read(url, response):
                done += len(chunk)
                if done > MAX_DOWNLOAD_BYTES:
                    sink.truncate(0)
                    _, limit = size_and_limit(done, MAX_DOWNLOAD_BYTES)
                    raise InputError(f"{url}: larger than the {limit} allowed for an archive")
                sink.write(chunk)
                progress(f"downloading {path.name}", done, total)
    except OSError as exc:
        raise OutputError(f"{path}: cannot be written ({exc.strerror or exc})") from None
    if total is not None and done < total:
        raise NetworkError(
            f"{url}: the connection closed after {done:,} of {total:,} bytes ({_RESUME})"
        )


def _span(url: str, response: HTTPResponse) -> tuple[int, int | None]:
    """Where the body starts in the file and the file's whole size (``None``: not said)."""
    if response.status == 206:
        match = re.fullmatch(r"bytes (\d+)-\d+/(\d+|\*)", response.headers.get("Content-Range", ""))
        if match is None:
            raise NetworkError(f"{url}: the server sent a part without saying which")
        return int(match[1]), None if match[2] == "*" else int(match[2])
    length = response.headers.get("Content-Length")
    return 0, int(length) if length and length.isdigit() else None


def _read(url: str, response: HTTPResponse) -> bytes:
    try:
        return response.read(_CHUNK)
    except (HTTPException, OSError) as exc:
        raise NetworkError(f"{url}: {exc or type(exc).__name__} ({_RESUME})") from None


def _check_sha256(path: Path, expected: str) -> None:
    found = file_sha256(path)
    if found != expected.lower():
        path.unlink()
        raise InputError(
            f"{path}: SHA-256 {found}, expected the publisher's {expected} "
            "(not the publisher's file; removed)"
        )
