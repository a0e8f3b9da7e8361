import numpy as np
import pytest

from edge_runtime.data.patches import load_dataset, load_labeled_patches, load_patches
from edge_runtime.errors import InputError


def _patches(n, value=1):
    return np.full((n, 64, 64), value, dtype=np.uint32)


def _masks(n):
    y = np.zeros((n, 64, 64))
    y[:, 10:20, 10:20] = 1.0
    return y


X2, Y2, X3 = _patches(2), _masks(2), _patches(3)


def _write(tmp_path, **arrays):
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    return path


def test_loads_the_dev_file_without_a_validation_split(dev_npz):
    data = load_dataset(dev_npz)
    assert data.x_train.shape == (537, 64, 64)
    assert data.y_train.shape == (537, 64, 64) and data.y_train.dtype == np.uint8
    assert set(np.unique(data.y_train)) == {0, 1}
    assert data.x_val is None and data.y_val is None
    assert data.x_test.shape == (174, 64, 64)
    assert len(data.sha256) == 64


def test_accepts_a_validation_split_and_channel_axis(tmp_path):
    path = _write(
        tmp_path,
        x_train=_patches(4)[..., None],
        y_train=_masks(4)[..., None],
        x_val=_patches(2),
        y_val=_masks(2).astype(bool),
    )
    data = load_dataset(path)
    assert data.x_train.shape == (4, 64, 64) and data.y_train.shape == (4, 64, 64)
    assert data.x_val.shape == (2, 64, 64) and data.y_val.dtype == np.uint8
    assert data.x_test is None


def test_labeled_loader_reads_any_keys(tmp_path):
    path = _write(tmp_path, imgs=_patches(3), masks=_masks(3))
    x, y = load_labeled_patches(path, "imgs", "masks")
    assert x.shape == y.shape == (3, 64, 64)
    assert load_patches(path, "imgs").shape == (3, 64, 64)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x_train": X3}, "missing array 'y_train'"),
        ({"x_train": X3, "y_train": Y2}, "'y_train' has 2 masks but 'x_train' has 3"),
        ({"x_train": X2, "y_train": Y2 * 2}, "'y_train' is not binary: found values 2"),
        # scored Dice 1.0 and passed the gate, measuring nothing
        ({"x_train": X2, "y_train": Y2 * 0}, "'y_train' holds no vessel pixel, expected"),
        ({"x_train": X2 * np.nan, "y_train": Y2}, "'x_train' has 8192 non-finite values"),
        # finite, but each patch's stretch divided inf by inf: Dice 0.0000, and exit 0
        (
            {"x_train": np.where(np.indices(X2.shape).sum(0) % 2, 1e308, -1e308), "y_train": Y2},
            "'x_train' patch 0 spans -1e[+]308 to 1e[+]308, wider than a 64-bit float holds",
        ),
        ({"x_train": X2[:, :32], "y_train": Y2}, r"'x_train' has shape \(2, 32, 64\)"),
        ({"x_train": np.zeros((0, 64, 64)), "y_train": _masks(0)}, r"has shape \(0, 64, 64\)"),
        ({"x_train": X2, "y_train": Y2, "x_val": X2}, "only one of 'x_val' and 'y_val'"),
        (
            {"x_train": X2, "y_train": Y2, "x_val": X2[:1], "y_val": Y2},
            "'y_val' has 2 masks but 'x_val' has 1 patch$",
        ),
        (
            {"x_train": X2, "y_train": Y2, "x_val": X2, "y_val": Y2[:1]},
            "'y_val' has 1 mask but 'x_val' has 2 patches$",
        ),
        ({"x_train": np.array(["a"] * 2), "y_train": Y2}, "'x_train' has shape"),
    ],
)
def test_bad_arrays_name_the_file_and_problem(tmp_path, arrays, message):
    path = _write(tmp_path, **arrays)
    with pytest.raises(InputError, match=message) as excinfo:
        load_dataset(path)
    assert str(excinfo.value).startswith(f"{path}: ")
    assert "\n" not in str(excinfo.value)


def test_patches_far_apart_each_within_a_float_s_range_are_read(tmp_path):
    """The span that overflows is a patch's own: one patch near -1e308 and another near
    +1e308 each stretch to 0-255 (the whole file's span was refused)."""
    x = np.stack([np.full((64, 64), -1e308), np.full((64, 64), 1e308)])
    x[:, 0, 0] *= 0.5
    loaded, _ = load_labeled_patches(_write(tmp_path, imgs=x, masks=Y2), "imgs", "masks")
    assert loaded.shape == (2, 64, 64)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_dataset(tmp_path / "absent.npz")


def test_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        load_dataset(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"hello, not numpy", r"bad\.npz: not an \.npz file \(numpy's zip of arrays\)"),
        (b"PK\x03\x04truncated", r"not a readable \.npz file"),
    ],
)
def test_not_an_npz(tmp_path, content, message):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_dataset(path)


def test_string_dtype_is_rejected(tmp_path):
    path = _write(tmp_path, x_train=np.full((2, 64, 64), "a"), y_train=_masks(2))
    with pytest.raises(InputError, match="dtype <U1, expected real numbers"):
        load_dataset(path)


X2 = np.ones((2, 64, 64), np.uint8)
Y2 = np.zeros((2, 64, 64), np.uint8)
Y2[:, 10:20, 10:20] = 1


def test_masks_of_0_and_255_are_refused_as_not_binary(tmp_path):
    """A mask saved 0/255 (as image tools do) is named, not read as a mask of 255 vessels."""
    np.savez(tmp_path / "d.npz", x_train=X2, y_train=Y2 * 255)
    with pytest.raises(InputError, match="'y_train' is not binary: found values 255"):
        load_dataset(tmp_path / "d.npz")


def test_colour_patches_are_refused(tmp_path):
    """Patches are grayscale: a trailing axis of 3 channels is refused, only 1 is accepted."""
    np.savez(tmp_path / "d.npz", x_train=np.ones((2, 64, 64, 3), np.uint8), y_train=Y2)
    with pytest.raises(InputError, match=r"'x_train' has shape \(2, 64, 64, 3\)"):
        load_dataset(tmp_path / "d.npz")


def test_a_patch_whose_rows_each_fit_but_whose_span_does_not_is_refused(tmp_path):
    """Kills M24 (the span of each row): a patch's own span is over its rows and columns."""
    x = np.zeros((2, 64, 64))
    x[1, 0::2], x[1, 1::2] = -1e308, 1e308  # each row constant, the patch 2e308 wide
    with pytest.raises(InputError, match="'imgs' patch 1 spans -1e\\+308 to 1e\\+308, wider"):
        load_labeled_patches(_write(tmp_path, imgs=x, masks=Y2), "imgs", "masks")
