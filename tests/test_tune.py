"""replicate/tune.py never looks at the test set and logs both sweeps."""

import pytest

from tests.conftest import load_script, read_rows


@pytest.mark.slow
def test_sweeps_report_validation_errors_only(mnist_root, tmp_path):
    common = ["--preset", "smoke", "--data-dir", str(mnist_root), "--out", str(tmp_path), "--device", "cpu"]
    common += ["--cache-dir", str(tmp_path / "c")]
    assert load_script("tune").main(common + ["--teacher-lr", "0.05", "0.1"]) == 0
    teachers = read_rows(tmp_path / "teacher_tuning.csv")
    assert [float(r["cfg_lr"]) for r in teachers] == [0.05, 0.1]
    assert load_script("tune").main(common + ["--hard-weight", "-1", "0.1"]) == 0
    students = read_rows(tmp_path / "distillation_tuning.csv")
    assert [r["model"] for r in students] == ["teacher", "baseline", "distilled"]
    for row in teachers + students:
        assert row["eval_split"] == "val" and "test_errors" not in row and row["val_errors"] != ""
        assert int(row["train_size"]) == 1600  # smoke preset: 2,000 training images, the last fifth held out
