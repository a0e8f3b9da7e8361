"""The camera's wheel (``EDGE_SEG_WHEEL=device``, firmware_notes/raspberry-pi.md) carries the
device runtime and nothing of the host: no training, converters, Keras twin or host commands."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).parents[2]
MAX_WHEEL_BYTES = 680_000
"""The notes say "about 620 KB" (622 KB measured, 2026-12-07; 602 KB on 2026-12-06); the bundled
models are 104 KiB (vessels) and 274 KiB (arteries and veins)."""
MAX_INSTALLED_BYTES = 1_300_000
"""The notes say "about 1.2 MB of files" (1,160 KB measured, 2026-12-07: 62 KB of it the README
as the package's description; 1,101 KB on 2026-12-06) before bytecode compilation."""


def _local_files(folder: str, names: list[str]) -> list[str]:
    """What a checkout holds beside the sources (environments, builds, runs, fetched data)."""
    if Path(folder) != REPO:
        return [name for name in names if name == "__pycache__"]
    return [name for name in names if name.startswith(".") or name in ("build", "runs", "data")]


@pytest.fixture(scope="module")
def device_wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    source = out / "source"  # setuptools builds in source/build, which must start empty
    shutil.copytree(REPO, source, ignore=_local_files)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        env={**os.environ, "EDGE_SEG_WHEEL": "device"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = out.glob("retina_edge_seg-*-py3-none-any.whl")
    return wheel


def test_the_device_wheel_carries_the_runtime_only(device_wheel):
    with zipfile.ZipFile(device_wheel) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        entry_points = next(archive.read(n) for n in names if n.endswith("entry_points.txt"))
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"edge_runtime"}
    assert "edge_runtime/data/photos.py" in names and "edge_runtime/cli/main.py" in names
    assert "edge_runtime/models/vessels_int8.tflite" in names
    assert "edge_runtime/models/vessels_int8.tflite.sig" in names
    assert "edge_runtime/models/artery_vein_int8.tflite" in names
    assert not any(name.endswith(".keras") for name in names)
    assert b"edge_seg.commands" not in entry_points and b"edge-seg = " in entry_points
    assert device_wheel.stat().st_size < MAX_WHEEL_BYTES
    assert sum(info.file_size for info in infos) < MAX_INSTALLED_BYTES
