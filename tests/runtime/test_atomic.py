import pytest

from edge_runtime.atomic import atomic_path


def test_file_appears_only_when_complete(tmp_path):
    target = tmp_path / "mask.png"
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"data")
        assert tmp.suffix == ".png" and tmp.parent == tmp_path
        assert not target.exists()
    assert target.read_bytes() == b"data"
    assert [p.name for p in tmp_path.iterdir()] == ["mask.png"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_failure_keeps_the_old_file_and_leaves_no_partial(tmp_path, error):
    target = tmp_path / "model.keras"
    target.write_bytes(b"old")
    with pytest.raises(error), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise error
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]
