"""Mutation fuzzing with fixed seeds: damaged models, photographs, data files, watch states and
model cards. Each must either work or fail with the library's one-line error (EdgeSegError or,
for documents, ValueError), never anything else, never hang."""

import io
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from edge_runtime.app.watcher import STATE_FILE, FolderWatcher
from edge_runtime.contract.model_card import ModelCard
from edge_runtime.data.patches import load_dataset
from edge_runtime.errors import EdgeSegError, InputError
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.inference.bundled import DEFAULT_MODEL
from edge_runtime.pipeline.decode import load_photo


def mutate(content: bytes, rng: np.random.Generator) -> bytes:
    """One of: a few flipped bytes, a truncation, a run of bytes overwritten, a chunk repeated."""
    data = bytearray(content)
    kind = rng.integers(4)
    if kind == 0:
        for at in rng.integers(0, len(data), rng.integers(1, 20)):
            data[at] ^= int(rng.integers(1, 256))
    elif kind == 1:
        data = data[: rng.integers(0, len(data))]
    elif kind == 2:
        start = int(rng.integers(0, len(data)))
        data[start : start + 64] = rng.integers(0, 256, 64, dtype=np.uint8).tobytes()
    else:
        start = int(rng.integers(0, len(data)))
        data[start:start] = data[start : start + int(rng.integers(1, 512))]
    return bytes(data)


MODEL_WORKER = textwrap.dedent(
    """
    import json, sys, warnings
    import numpy as np
    from edge_runtime.errors import EdgeSegError
    from edge_runtime.evaluation.synthetic import synthetic_fundus
    from edge_runtime.pipeline.segmenter import Segmenter
    warnings.simplefilter("ignore")
    photo = synthetic_fundus(120, 130)
    outcomes = {"ok": 0, "refused": 0}
    for path in sys.argv[1:]:
        print(path, file=sys.stderr, flush=True)  # the last line names a case that crashed
        try:
            Segmenter(path).segment(photo)
            outcomes["ok"] += 1
        except EdgeSegError as exc:
            assert "\\n" not in str(exc) and str(exc).startswith(path), str(exc)
            outcomes["refused"] += 1
    print(json.dumps(outcomes))
    """
)


def test_mutated_models_load_and_run_or_are_refused(tmp_path):
    """In a separate process: a native crash of the interpreter must fail this test, not end
    the test run."""
    rng = np.random.default_rng(20261128)
    original = DEFAULT_MODEL.read_bytes()
    paths = []
    for i in range(400):
        path = tmp_path / f"m{i:03d}.tflite"
        path.write_bytes(mutate(original, rng))
        paths.append(str(path))
    done = subprocess.run(
        [sys.executable, "-c", MODEL_WORKER, *paths], capture_output=True, text=True, timeout=600
    )
    last = done.stderr.strip().splitlines()[-1:] if done.stderr.strip() else []
    assert done.returncode == 0, f"crashed or failed at {last}: {done.stderr[-3000:]}"
    outcomes = json.loads(done.stdout)
    assert outcomes["ok"] + outcomes["refused"] == len(paths)
    assert outcomes["refused"] > 0


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_mutated_photographs_decode_or_are_refused(tmp_path, suffix):
    rng = np.random.default_rng(7 if suffix == ".png" else 8)
    buffer = io.BytesIO()
    Image.fromarray(synthetic_fundus(150, 170)).save(
        buffer, format=suffix[1:].replace("jpg", "jpeg")
    )
    original = buffer.getvalue()
    decoded = refused = 0
    for i in range(400):
        path = tmp_path / f"p{i:03d}{suffix}"
        path.write_bytes(mutate(original, rng))
        try:
            photo = load_photo(path)
        except InputError as exc:
            assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
            refused += 1
            continue
        assert photo.pixels.dtype in (np.uint8, np.uint16) and min(photo.shape) >= 64
        decoded += 1
    assert decoded + refused == 400 and refused > 0


def test_mutated_data_files_load_or_are_refused(tmp_path):
    rng = np.random.default_rng(9)
    source = tmp_path / "source.npz"
    x = rng.integers(0, 255, (6, 64, 64), dtype=np.uint8)
    np.savez_compressed(source, x_train=x, y_train=(x > 128).astype(np.uint8))
    original = source.read_bytes()
    for i in range(400):
        path = tmp_path / f"d{i:03d}.npz"
        path.write_bytes(mutate(original, rng))
        try:
            data = load_dataset(path)
        except InputError as exc:
            assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
            continue
        assert data.x_train.shape == (6, 64, 64) and set(np.unique(data.y_train)) <= {0, 1}


def test_mutated_watch_states_load_or_are_set_aside(tmp_path):
    rng = np.random.default_rng(10)
    state = {
        f"p{i}.png": {
            "size": 1000 + i,
            "mtime_ns": 10**18 + i,
            "name": f"p{i}",
            "ok": i % 2 == 0,
            "ctime_ns": 10**18,
            "inode": 100 + i,
        }
        for i in range(5)
    }
    original = json.dumps(state).encode()
    drop = tmp_path / "drop"
    drop.mkdir()
    for i in range(200):
        out = tmp_path / f"out{i:03d}"
        out.mkdir()
        (out / STATE_FILE).write_bytes(mutate(original, rng))
        warnings = []
        watcher = FolderWatcher(drop, out, lambda p, o: {}, settle=1, warn=warnings.append)
        assert bool(warnings) == (not (out / STATE_FILE).exists())
        assert all(isinstance(done.size, int) for done in watcher.state.values())


CARD_VALUES = [
    None,
    True,
    -1,
    0,
    0.5,
    1e308,
    float("nan"),
    float("inf"),
    "x",
    "",
    [],
    [1, 2],
    {},
    {"name": 1},
    2**70,
]


def test_cards_with_random_field_values_are_read_checked_or_refused():
    rng = np.random.default_rng(11)
    original = json.loads(ModelCard().to_json())
    fields = sorted(original)
    for _ in range(500):
        card = dict(original)
        for field in rng.choice(fields, rng.integers(1, 4), replace=False):
            card[str(field)] = CARD_VALUES[rng.integers(len(CARD_VALUES))]
        try:
            parsed = ModelCard.from_json(json.dumps(card))
        except ValueError as exc:
            assert "field '" in str(exc) and "\n" not in str(exc)
            continue
        assert 0.01 <= parsed.threshold <= 0.99 and 64 <= parsed.fov_diameter <= 4096
        assert isinstance(parsed.patch_size, int) and not isinstance(parsed.patch_size, bool)


def test_the_library_errors_used_above_are_one_family():
    assert issubclass(InputError, EdgeSegError)
