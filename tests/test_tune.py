"""replicate/tune.py never looks at the test set and logs both sweeps."""

import pytest
import torch

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
        (["--ensemble", "--jittered-copies", "1"], "--ensemble"),
        (["--ensemble", "--teacher-epochs", "300"], "--ensemble"),
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


@pytest.mark.slow
def test_the_ensemble_student_is_swept_on_validation_from_members_trained_once(
    mnist_root, tmp_path, monkeypatch, capsys
):
    from distill.experiments.ensemble import ensemble_logits
    from distill.lab.run import Run

    tune = load_script("tune")
    members, taught = [], []  # the members' logits; (T, soft targets v on the transfer set) of each student
    use_ensemble, distill = tune.use_ensemble, Run.distill
    monkeypatch.setattr(tune, "use_ensemble", lambda *a, **k: members.append(use_ensemble(*a, **k)) or members[-1])
    monkeypatch.setattr(Run, "distill", lambda run, stage, T, *a, **k: taught.append((T, run.teacher_logits[0]))
                        or distill(run, stage, T, *a, **k))  # fmt: skip
    common = ["--preset", "smoke", "--data-dir", str(mnist_root), "--out", str(tmp_path), "--device", "cpu"]
    flags = ["--ensemble", "--epochs", "1", "--temperature", "2", "20", "--lr", "1e30", "0.1"]
    assert tune.main(common + flags) == 0
    *member_rows, ensemble, too_fast, _, t2, t20 = read_rows(tmp_path / "distillation_tuning.csv")
    assert [int(m["seed"]) for m in member_rows] == list(range(10)) and {m["member"] for m in member_rows} == set(
        "0123456789"
    )
    assert ensemble["model"] == "ensemble" and ensemble["eval_split"] == "val"
    assert too_fast["diverged_in_epoch"] == "1" and (t2["temperature"], t20["temperature"]) == ("2.0", "20.0")
    # each student learnt from the ensemble's mean softmax at its own T (§4), not at another cell's T
    assert [T for T, _ in taught] == [2, 20, 2, 20]
    for T, v in taught:
        torch.testing.assert_close(v, ensemble_logits(members[0][0], T))
    assert not torch.allclose(taught[0][1], taught[1][1])
    capsys.readouterr()
    assert tune.main(common + ["--ensemble", "--epochs", "1"]) == 0  # the members: loaded, not retrained
    assert capsys.readouterr().out.count("baseline seed") == 10
    assert len(read_rows(tmp_path / "distillation_tuning.csv")) == 16  # one new row: the new student


@pytest.mark.slow
def test_the_ensemble_recipe_is_chosen_on_validation_members_per_variant_then_the_distilled_net(
    mnist_root, tmp_path, capsys
):
    tune = load_script("tune_ensemble")
    common = ["--preset", "smoke", "--data-dir", str(mnist_root), "--out", str(tmp_path), "--device", "cpu"]
    assert tune.main(common + ["--jitter", "0", "2", "--epochs", "1"]) == 0  # members only: no --temperature
    rows = read_rows(tmp_path / "ensemble_validation.csv")
    assert [r["model"] for r in rows] == (["baseline"] * 10 + ["ensemble"]) * 2
    assert [r["cfg_jitter"] for r in rows[::11]] == ["0", "2"] and {r["eval_split"] for r in rows} == {"val"}
    assert all(r["cfg_max_norm"] == "3.5" and r["input_dropout"] == "0.2" for r in rows)  # the teacher's regularisers
    capsys.readouterr()
    assert tune.main(common + ["--jitter", "2", "--epochs", "1", "--temperature", "2", "5"]) == 0
    assert capsys.readouterr().out.count(": loaded from") == 10
    t2, t5 = read_rows(tmp_path / "ensemble_validation.csv")[22:]  # the members were loaded, so not logged again
    assert (t2["temperature"], t5["temperature"], t2["member_jitter"], t2["cfg_jitter"]) == ("2.0", "5.0", "2", "0")


@pytest.mark.parametrize("flags", [["--jitter", "-1"], ["--epochs", "0"], ["--temperature", "0"]])
def test_the_ensemble_recipe_sweep_refuses_impossible_values(flags, capsys):
    with pytest.raises(SystemExit):
        load_script("tune_ensemble").main(flags)
    assert capsys.readouterr().err.startswith("tune_ensemble.py: error: --")
