"""CSV logging: rows are appended, never overwritten; new columns widen the file."""

import csv
from pathlib import Path

import pytest

from distill.lab.results import append_rows, git_commit, provenance


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_rows_append_and_keep_earlier_ones(tmp_path):
    path = tmp_path / "runs.csv"
    append_rows(path, [{"model": "teacher", "test_errors": 70}])
    append_rows(path, [{"model": "baseline", "test_errors": 140}])
    assert [r["model"] for r in read(path)] == ["teacher", "baseline"]


def test_new_columns_widen_the_file_without_losing_rows(tmp_path):
    path = tmp_path / "runs.csv"
    append_rows(path, [{"model": "teacher", "test_errors": 70}])
    append_rows(path, [{"model": "distilled", "test_errors": 80, "temperature": 20}])
    rows = read(path)
    assert list(rows[0]) == ["model", "test_errors", "temperature"]
    assert rows[0]["temperature"] == "" and rows[1]["temperature"] == "20"
    assert not (tmp_path / "runs.csv.tmp").exists()


def test_provenance_names_the_environment():
    import re
    from datetime import datetime, timedelta, timezone

    import torch

    from distill.lab.hardware import cpu_model

    row = provenance(torch.device("cpu"))
    assert row["torch_version"] == torch.__version__
    threads = torch.get_num_threads()
    assert row["device"].startswith(f"{cpu_model()} (") and row["device"].endswith(
        f"{threads} thread{'s' * (threads != 1)}"
    )
    assert re.fullmatch(r"[0-9a-f]{12}(-dirty)?", row["git_commit"])  # this checkout is a git repository
    finished = datetime.fromisoformat(row["finished_at"])
    assert timedelta(0) <= datetime.now(timezone.utc) - finished < timedelta(minutes=1)


def test_a_commit_given_in_the_environment_is_recorded_and_the_command_names_the_script(monkeypatch):
    from distill.lab.results import command_line, record_invocation

    monkeypatch.setenv("KD_GIT_COMMIT", "0123456789ab")
    git_commit.cache_clear()
    try:
        assert git_commit() == "0123456789ab"
    finally:
        git_commit.cache_clear()
    record_invocation(str(Path(__file__).resolve().parent.parent / "replicate" / "tune.py"), ["--seeds", "0"])
    assert command_line() == "python replicate/tune.py --seeds 0"


def test_appending_results_or_editing_docs_does_not_make_the_commit_dirty_but_editing_code_does(tmp_path):
    import subprocess

    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True)

    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "runs.csv").write_text("a\n")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "first")
    (tmp_path / "README.md").write_text("old\n")
    git("add", "README.md")
    git("commit", "-qm", "docs")
    (tmp_path / "results" / "runs.csv").write_text("a\n1\n")  # a run appended its row
    (tmp_path / "README.md").write_text("new\n")  # and the docs were edited meanwhile
    assert not git_commit.__wrapped__(tmp_path).endswith("-dirty")
    (tmp_path / "code.py").write_text("x = 2\n")
    assert git_commit.__wrapped__(tmp_path).endswith("-dirty")


@pytest.mark.parametrize("step", ["os.fsync", "os.replace"])
def test_a_crash_while_appending_leaves_the_file_as_it_was(step, tmp_path, monkeypatch):
    path = tmp_path / "runs.csv"
    append_rows(path, [{"model": "teacher", "test_errors": 70}])
    before = path.read_bytes()

    def killed(*args):
        raise KeyboardInterrupt  # stands in for a kill or power cut at that step

    monkeypatch.setattr(step, killed)
    with pytest.raises(KeyboardInterrupt):
        append_rows(path, [{"model": "baseline", "test_errors": 140}])
    assert path.read_bytes() == before and [r["model"] for r in read(path)] == ["teacher"]
    assert list(tmp_path.iterdir()) == [path]  # the half-done temporary file is gone too


def test_a_stale_temporary_file_from_a_killed_writer_is_harmless(tmp_path):
    path = tmp_path / "runs.csv"
    append_rows(path, [{"model": "teacher", "test_errors": 70}])
    (tmp_path / "runs.csv.tmp").write_text("model,test_err")  # cut off mid-write
    append_rows(path, [{"model": "baseline", "test_errors": 140}])
    assert read(path) == [{"model": "teacher", "test_errors": "70"}, {"model": "baseline", "test_errors": "140"}]
    assert list(tmp_path.iterdir()) == [path]
