"""CSV logging: rows are appended, never overwritten; new columns widen the file."""

import csv

from distill.results import append_rows, git_commit, provenance


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
    import torch

    row = provenance(torch.device("cpu"))
    assert row["torch_version"] == torch.__version__
    assert row["device"].startswith("cpu")
    assert row["git_commit"] == git_commit() and row["git_commit"]
    assert row["finished_at"][:2] == "20"
