"""Child processes: which one the kernel's OOM killer ends first."""

import pytest

from edge_runtime import processes


def test_a_process_asks_to_be_first_for_the_oom_killer(tmp_path, monkeypatch):
    score = tmp_path / "oom_score_adj"
    score.write_text("0\n")
    monkeypatch.setattr(processes, "OOM_SCORE_ADJ", score)
    assert processes.first_for_the_oom_killer() and score.read_text() == "1000"


@pytest.mark.parametrize("where", ["missing/oom_score_adj", "oom_score_adj", "a_folder"])
def test_where_there_is_no_score_none_is_made_and_it_says_so(tmp_path, monkeypatch, where):
    """Not Linux (no /proc), or a /proc/self that is a plain folder (a chroot without procfs):
    a file was made there, and the answer was yes."""
    (tmp_path / "a_folder").mkdir()
    monkeypatch.setattr(processes, "OOM_SCORE_ADJ", tmp_path / where)
    assert processes.first_for_the_oom_killer() is False
    assert not (tmp_path / "oom_score_adj").exists()


def test_a_score_that_was_not_kept_says_no(tmp_path, monkeypatch):
    """The answer is what the score reads after the write, not that the write went through
    (a kernel that takes the write but keeps its own value)."""
    score = tmp_path / "oom_score_adj"
    score.write_text("0\n")
    monkeypatch.setattr(processes, "OOM_SCORE_ADJ", score)
    monkeypatch.setattr(processes.os, "write", lambda descriptor, data: len(data))  # not kept
    assert processes.first_for_the_oom_killer() is False
    monkeypatch.undo()
    assert score.read_text() == "0\n"
