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


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--students", "--teacher-epochs", "150", "300"], "one teacher"),
        (["--jittered-copies", "-1"], "--jittered-copies"),
        (["--soft-term", "mse"], "invalid choice"),
    ],
)
def test_bad_study_flags_are_one_line_errors(flags, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        load_script("tune").main(["--preset", "smoke", "--device", "cpu", *flags])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.slow
def test_logit_matching_and_the_jittered_transfer_set_are_logged_as_such(mnist_root, tmp_path):
    common = ["--preset", "smoke", "--data-dir", str(mnist_root), "--out", str(tmp_path), "--device", "cpu"]
    flags = ["--students", "--teacher-epochs", "1", "--epochs", "2", "--soft-term", "kl", "logits"]
    assert load_script("tune").main(common + flags + ["--jittered-copies", "0", "1"]) == 0
    teacher, *students = read_rows(tmp_path / "distillation_tuning.csv")
    assert teacher["model"] == "teacher" and teacher["epochs"] == "1"  # --students --teacher-epochs: its teacher
    logged = [(r["soft_term"], r["jittered_copies"], r["train_size"], r["epochs"]) for r in students]
    assert logged == [
        ("soft_loss", "", "1600", "2"),
        ("logit_matching_loss", "", "1600", "2"),
        ("soft_loss", "1", "3200", "1"),  # twice the images in as many steps: half the epochs
        ("logit_matching_loss", "1", "3200", "1"),
    ]


@pytest.mark.slow
def test_a_diverging_setting_is_logged_as_such_and_the_sweep_goes_on(mnist_root, tmp_path):
    common = ["--preset", "smoke", "--data-dir", str(mnist_root), "--out", str(tmp_path), "--device", "cpu"]
    flags = ["--students", "--teacher-epochs", "1", "--epochs", "2", "--lr", "1e30", "0.1"]
    assert load_script("tune").main(common + flags) == 0
    _, diverged, fine = read_rows(tmp_path / "distillation_tuning.csv")
    assert diverged["diverged_in_epoch"] == "1" and diverged["val_errors"] == "nan"
    assert fine["diverged_in_epoch"] == "" and 0 < int(fine["val_errors"]) < 2000
