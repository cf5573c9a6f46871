"""replicate/mnist.py end to end: a smoke run on the real data, and its errors for a person."""

import dataclasses
import os
import shutil
import subprocess
import sys

import pytest
import torch

from distill.core.data import DATA_DIR_ENV, load_mnist
from distill.lab.presets import MNIST_PRESETS, SMOKE, Students
from tests.conftest import REPO, load_script, read_rows

REQUIRED_COLUMNS = {
    "experiment", "model", "hidden", "temperature", "hard_weight", "seed", "preset", "epochs",
    "test_errors", "test_error_pct", "train_seconds", "device", "torch_version", "git_commit", "finished_at",
}  # fmt: skip


@pytest.mark.slow
def test_smoke_run_on_real_mnist_writes_well_formed_csvs(mnist_root, tmp_path, capsys):
    out = tmp_path / "results"
    args = ["--preset", "smoke", "--seed", "3", "--device", "cpu", "--data-dir", str(mnist_root), "--out", str(out)]
    args += ["--cache-dir", str(tmp_path / "cache")]
    assert load_script("mnist").main(args) == 0
    rows = read_rows(out / "runs.csv")
    assert REQUIRED_COLUMNS <= set(rows[0])
    assert [r["model"] for r in rows] == ["teacher", "baseline", "distilled"]
    assert [r["hidden"] for r in rows] == ["1200-1200", "800-800", "800-800"]
    assert {r["seed"] for r in rows} == {"3"} and {r["preset"] for r in rows} == {"smoke"}
    for r in rows:  # the percentage is of the 10,000 test images
        assert float(r["test_error_pct"]) == pytest.approx(int(r["test_errors"]) / 100)
    assert rows[2]["temperature"] == "20.0" and rows[0]["temperature"] == ""
    # even after two epochs on 2,000 images, training on soft targets brings the student
    # much closer to its teacher than training on labels does
    assert float(rows[2]["transfer_kl"]) < 0.5 * float(rows[1]["transfer_kl"])
    epochs = read_rows(out / "epochs.csv")
    assert len(epochs) == sum(int(r["epochs"]) for r in rows)
    assert {e["run_id"] for e in epochs} == {r["run_id"] for r in rows}
    printed = capsys.readouterr().out
    assert "published" in printed and "distilled" in printed and "74" in printed

    # a second run reuses the cached teacher, appends new student rows, and keeps the first rows as they were
    assert load_script("mnist").main(args) == 0
    assert "teacher seed 3: loaded from" in capsys.readouterr().out
    again = read_rows(out / "runs.csv")
    assert again[:3] == rows and [r["model"] for r in again[3:]] == ["baseline", "distilled"]
    # same seed, same initial weights, same batches: the CPU result is reproduced exactly
    assert [r["test_errors"] for r in again[3:]] == [r["test_errors"] for r in rows[1:]]

    # a corrupt cache file is reported and rebuilt
    (cache_file,) = (tmp_path / "cache").glob("teacher-*.pt")
    cache_file.write_bytes(b"garbage")
    assert load_script("mnist").main(args + ["--models", "teacher"]) == 0
    assert "ignoring the kept model" in capsys.readouterr().out
    assert read_rows(out / "runs.csv")[-1]["model"] == "teacher"


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--temperature", "0"], "--temperature must be > 0"),
        (["--temperature", "nan"], "--temperature must be > 0"),
        (["--hard-weight", "-1"], "--hard-weight must be within [0, 1], got -1.0"),
        (["--hard-weight", "1.5"], "--hard-weight must be within [0, 1], got 1.5"),
        (["--preset", "huge"], "invalid choice: 'huge'"),
        (["--seeds"], "expected at least one argument"),
        (["--experiment", "omit3", "--models", "teacher"], "--models applies to --experiment main only"),
        (["--experiment", "all", "--temperature", "4"], "--temperature cannot be combined"),
        (["--experiment", "everything"], "invalid choice: 'everything'"),
    ],
)
def test_bad_flags_exit_2_with_a_message(flags, expected, capsys):
    with pytest.raises(SystemExit) as raised:  # in-process; the subprocess test below checks a real exit
        load_script("mnist").main(flags)
    assert raised.value.code == 2
    # the error and a hint, not argparse's usage text in front of it
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and ": error: " in lines[0] and expected in lines[0]
    assert lines[1] == "(run with --help for the options)"


@pytest.mark.slow
def test_missing_data_offline_is_one_sentence_and_exit_2(tmp_path):
    # torchvision's mirrors replaced by a closed port: the run has no data and no network
    code = (
        "import runpy, sys; from torchvision import datasets; "
        "datasets.MNIST.mirrors = ['http://127.0.0.1:9/']; "
        f"sys.argv = ['mnist.py', '--preset', 'smoke', '--data-dir', {str(tmp_path)!r}, "
        f"'--out', {str(tmp_path / 'out')!r}, '--cache-dir', {str(tmp_path / 'cache')!r}]; "
        "runpy.run_path('replicate/mnist.py', run_name='__main__')"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(tmp_path) in lines[0] and "--data-dir" in lines[0]
    assert done.stdout == ""


@pytest.mark.parametrize("script, flags", [("cifar10", ["--preset", "huge"]), ("tune", ["--temperature", "0"]),
                                           ("figures", ["--bogus"])])  # fmt: skip
def test_every_script_reports_bad_flags_in_one_line_and_a_hint(script, flags, capsys):
    with pytest.raises(SystemExit) as raised:
        load_script(script).main(flags)
    assert raised.value.code == 2
    error, hint = capsys.readouterr().err.splitlines()
    assert "error: " in error and flags[-1] in error and hint == "(run with --help for the options)"


@pytest.mark.parametrize("source", ["flag", "environment"])
def test_a_data_folder_that_does_not_exist_is_not_created(source, tmp_path, monkeypatch, capsys):
    missing = tmp_path / "typo"
    monkeypatch.setenv(DATA_DIR_ENV, str(missing))
    args = ["--preset", "smoke", "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")]
    args += ["--data-dir", str(missing)] if source == "flag" else []
    with pytest.raises(SystemExit) as raised:
        load_script("mnist").main(args)
    assert raised.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert str(missing) in line and "does not exist" in line and "create it" in line
    assert ("--data-dir" if source == "flag" else "$KD_DATA_DIR") in line
    assert not missing.exists() and not (tmp_path / "out").exists()


def test_a_corrupt_download_stops_the_script_before_training(mnist_root, tmp_path, capsys):
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(mnist_root / "MNIST" / "raw" / name, raw / name)
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes(
        (mnist_root / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz").read_bytes()[:5000]
    )
    args = ["--preset", "smoke", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as raised:
        load_script("mnist").main(args + ["--cache-dir", str(tmp_path / "cache")])
    assert raised.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "t10k-images-idx3-ubyte.gz is truncated or corrupt" in line and "delete it" in line
    assert not (tmp_path / "out").exists()  # no rows, no wall time, not even the folder


@pytest.mark.parametrize("damage", ["read-only", "through a file"])
def test_an_unwritable_out_folder_stops_the_script_before_training(damage, mnist_root, tmp_path, capsys):
    out = tmp_path / "results"
    out.mkdir()
    (out / "runs.csv").write_text("model,test_errors\nteacher,70\n")
    if damage == "read-only":
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        out.chmod(0o555)
        target = out
    else:  # fails for root too
        target = out / "runs.csv" / "more"
    args = ["--preset", "smoke", "--data-dir", str(mnist_root), "--out", str(target)]
    try:
        with pytest.raises(SystemExit) as raised:
            load_script("mnist").main(args + ["--cache-dir", str(tmp_path / "cache")])
    finally:
        out.chmod(0o755)
    assert raised.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert f"cannot write to the folder {target}" in line and "--out" in line and "Traceback" not in line
    assert (out / "runs.csv").read_text() == "model,test_errors\nteacher,70\n" and os.listdir(out) == ["runs.csv"]


def test_help_explains_every_flag():
    done = subprocess.run([sys.executable, "replicate/mnist.py", "--help"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0
    for flag in ("--preset", "--seeds", "--device", "--data-dir", "--out", "--temperature", "--hard-weight"):
        assert flag in done.stdout
    assert "KD_DATA_DIR" in done.stdout and "default: paper" in done.stdout


@pytest.mark.slow
def test_every_experiment_runs_on_real_mnist_and_reuses_one_teacher(mnist_root, tmp_path, capsys, monkeypatch):
    # the headline's students with schedules of their own, as in the paper preset: used by main, by no other experiment
    alone, distilled = SMOKE.students.alone.with_train(epochs=3), SMOKE.students.distilled.with_train(epochs=1, lr=0.03)
    preset = dataclasses.replace(SMOKE, students=Students(alone, distilled))
    monkeypatch.setitem(MNIST_PRESETS, "smoke", preset)
    out = tmp_path / "results"
    args = ["--preset", "smoke", "--experiment", "all", "--device", "cpu", "--data-dir", str(mnist_root)]
    assert load_script("mnist").main(args + ["--out", str(out), "--cache-dir", str(tmp_path / "cache")]) == 0
    printed = capsys.readouterr().out
    assert printed.count("teacher seed 0: loaded from") == 5  # trained once, for main; reused by all but the ensemble
    rows = read_rows(out / "runs.csv")
    experiments = ("main", "omit3", "only78", "temperature", "ensemble", "fewdata", "logits")
    by_experiment = {e: [r for r in rows if r["experiment"] == e] for e in experiments}
    assert [r["model"] for r in rows].count("teacher") == 1
    assert [(r["epochs"], r["cfg_lr"]) for r in by_experiment["main"][1:]] == [("3", "0.1"), ("1", "0.03")]
    elsewhere = [r for r in rows if r["experiment"] in ("temperature", "logits") and r["model"] != "teacher"]
    assert {(r["epochs"], r["cfg_lr"]) for r in elsewhere} == {("2", "0.1")}

    (omit3,) = by_experiment["omit3"]
    (only78,) = by_experiment["only78"]
    train_counts = _smoke_label_counts(mnist_root)
    assert int(omit3["train_size"]) == sum(train_counts) - train_counts[3]
    assert int(only78["train_size"]) == train_counts[7] + train_counts[8]
    assert omit3["offset_classes"] == "3" and only78["offset_classes"] == "7 8"
    assert int(omit3["class_test_count"]) == 1010 and int(only78["class_test_count"]) == 1028 + 974
    for row in (omit3, only78):
        # offset 0 is in the swept range, so the test-optimal offset can only help
        assert int(row["test_optimal_test_errors"]) <= int(row["test_errors"])
    sweeps = read_rows(out / "offset_sweeps.csv")
    omit3_sweep = [s for s in sweeps if s["run_id"] == omit3["run_id"]]
    assert len(omit3_sweep) == 121 and min(int(s["test_errors"]) for s in omit3_sweep) == int(
        omit3["test_optimal_test_errors"]
    )
    *members, ensemble, distilled, control = by_experiment["ensemble"]
    assert [int(m["seed"]) for m in members] == list(range(10)) and {m["model"] for m in members} == {"baseline"}
    assert ensemble["model"] == "ensemble" and ensemble["members"] == "10" and distilled["model"] == "distilled"
    # the distilled net and its control: the members' architecture and training, without their dropout or jitter
    shared = ("hidden", "cfg_max_norm", "cfg_lr", "epochs")
    assert [distilled[k] for k in shared] == [members[0][k] for k in shared] == [control[k] for k in shared]
    assert members[0]["input_dropout"] == "0.2" and distilled["input_dropout"] == control["input_dropout"] == "0.0"
    assert distilled["cfg_jitter"] == "0" and float(distilled["temperature"]) == SMOKE.ensemble.temperature
    assert control["model"] == "control" and control["temperature"] == ""  # the labels alone
    assert float(ensemble["test_nll"]) < sum(float(m["test_nll"]) for m in members) / 10  # Jensen: log of a mean
    hard, soft, full = by_experiment["fewdata"]
    assert (hard["data_share"], soft["data_share"], full["data_share"]) == ("3%", "3%", "100%")
    assert hard["train_size"] == soft["train_size"] == "60" and full["train_size"] == "2000"  # 3 % of the smoke set
    assert hard["epochs"] == soft["epochs"] == "40"  # as many SGD steps as the student on all of it: 2 × 20 = 40 × 1
    curves = read_rows(out / "epochs.csv")
    assert all(c["train_errors"] != "" for c in curves if c["run_id"] in (hard["run_id"], soft["run_id"]))
    matched, *distilled_at = by_experiment["logits"]
    assert matched["soft_term"] == "logit_matching_loss" and matched["logit_rms_to_matching"] == ""
    assert [float(r["temperature"]) for r in distilled_at] == [5, 20, 50, 100]
    assert all(float(r["logit_rms_to_matching"]) >= 0 for r in distilled_at)
    assert (
        "chosen on test (as the paper)" in printed
        and "offset chosen without test data" in printed
        and "206" in printed
        and "47.3" in printed
    )

    sweep = by_experiment["temperature"]
    assert len(sweep) == 3 * (1 + 9)
    assert {(r["hidden"], r["temperature"]) for r in sweep if r["model"] == "distilled"} == {
        (f"{w}-{w}", str(t)) for w in (30, 300, 800) for t in (1.0, 2.0, 2.5, 3.0, 4.0, 5.0, 8.0, 10.0, 20.0)
    }
    assert "best T =" in printed and "one seed only" in printed
    (wall,) = read_rows(out / "wall_times.csv")
    assert wall["experiment"] == "all" and float(wall["wall_minutes"]) > 0
    # main(argv) called from Python: every row still records the script's own command, not pytest's
    assert {r["command"] for r in rows} | {wall["command"]} == {wall["command"]}
    assert wall["command"].startswith("python replicate/mnist.py ") and "--experiment all" in wall["command"]


def _smoke_label_counts(mnist_root) -> list[int]:
    """Label counts of the smoke preset's training images (the first 2,000)."""
    labels = load_mnist(mnist_root, torch.device("cpu")).train.labels[:2000]
    return torch.bincount(labels, minlength=10).tolist()


@pytest.mark.slow
def test_a_rerun_of_the_ensemble_loads_its_members_and_adds_only_the_new_student_and_control(
    mnist_root, tmp_path, capsys
):
    args = ["--preset", "smoke", "--experiment", "ensemble", "--device", "cpu", "--data-dir", str(mnist_root)]
    args += ["--out", str(tmp_path / "results"), "--cache-dir", str(tmp_path / "cache")]
    assert load_script("mnist").main(args) == 0
    first = read_rows(tmp_path / "results" / "runs.csv")
    capsys.readouterr()
    assert load_script("mnist").main(args + ["--hard-weight", "0.5"]) == 0
    assert capsys.readouterr().out.count("baseline seed") == 10  # each member: "loaded from <cache>"
    rows = read_rows(tmp_path / "results" / "runs.csv")
    assert rows[: len(first)] == first and len(rows) == len(first) + 2  # the members and ensemble are logged once
    assert [r["model"] for r in rows[-2:]] == ["distilled", "control"] and rows[-2]["hard_weight"] == "0.5"


def test_an_out_that_is_a_file_is_named_as_such_and_a_new_out_folder_is_not_left_behind(mnist_root, tmp_path, capsys):
    a_file = tmp_path / "results.txt"
    a_file.write_text("not a folder")
    with pytest.raises(SystemExit) as raised:
        load_script("mnist").main(["--preset", "smoke", "--data-dir", str(mnist_root), "--out", str(a_file)])
    assert raised.value.code == 2
    assert capsys.readouterr().err.strip() == f"error: {a_file} is a file, not a folder; give a folder with --out."
    # a data failure after the output folders were checked leaves them as they were: not created
    out, cache = tmp_path / "new" / "results", tmp_path / "new" / "cache"
    with pytest.raises(SystemExit):
        load_script("mnist").main(["--data-dir", str(tmp_path), "--out", str(out), "--cache-dir", str(cache)])
    assert not (tmp_path / "new").exists()


@pytest.mark.slow
def test_a_data_folder_that_fails_its_checks_is_left_byte_for_byte_as_it_was(mnist_root, tmp_path, capsys):
    raw_files = tmp_path / "raw_files"  # the mistake: --data-dir at the files' own folder, not the one holding MNIST/
    raw_files.mkdir()
    for path in (mnist_root / "MNIST" / "raw").glob("*.gz"):
        (raw_files / path.name).write_bytes(path.read_bytes())
    before = {p: p.read_bytes() for p in raw_files.rglob("*")}
    with pytest.raises(SystemExit) as raised:
        load_script("mnist").main(["--preset", "smoke", "--data-dir", str(raw_files), "--out", str(tmp_path / "out")])
    assert raised.value.code == 2
    assert {p: p.read_bytes() for p in raw_files.rglob("*")} == before  # no empty MNIST/raw/ left inside it
    (line,) = capsys.readouterr().err.splitlines()
    assert "holds the MNIST files themselves" in line and "two folders up" in line
