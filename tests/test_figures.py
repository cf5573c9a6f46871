"""figures.py turns CSV rows into the summary table and PNGs, and rejects malformed CSVs clearly."""

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import load_script, read_rows


def write_fixture(results):
    (results / "mnist").mkdir(parents=True)
    runs = [
        {"run_id": f"{model}{seed}", "experiment": "main", "model": model, "preset": "paper", "eval_split": "test",
         "test_errors": errors, "seed": seed, "train_seconds": 60.0, "device": "cpu (test)",
         "finished_at": f"2026-01-0{seed + 1}T00:{minute}:00+00:00"}
        for model, minute, per_seed in (("teacher", 10, (70, 80)), ("baseline", 12, (140, 150)),
                                        ("distilled", 15, (90, 100)))
        for seed, errors in enumerate(per_seed)
    ]  # fmt: skip
    runs[1]["experiment"] = "omit3"  # seed 1's teacher was trained by another experiment, then cached
    pd.DataFrame(runs).to_csv(results / "mnist" / "runs.csv", index=False)
    epochs = [
        {"run_id": r["run_id"], "model": r["model"], "epoch": e, "test_errors": r["test_errors"] + 10 * (3 - e)}
        for r in runs
        for e in (1, 2, 3)
    ]
    pd.DataFrame(epochs).to_csv(results / "mnist" / "epochs.csv", index=False)


def elsewhere(tmp_path, results) -> list[str]:
    """Arguments that keep every output of figures.py inside the test's folder, never the repository's files."""
    return ["--results", str(results), "--figures", str(tmp_path / "f"), "--readme", "none", "--reproduce", "none"]


@pytest.mark.slow
def test_summary_and_figures_from_fixture(tmp_path):
    results, figures = tmp_path / "results", tmp_path / "figures"
    write_fixture(results)
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- headline:start -->\nold\n<!-- headline:end -->\nrest\n")
    reproduce = tmp_path / "REPRODUCE.md"
    reproduce.write_text("a\n<!-- reproduce-mnist:start -->\nold\n<!-- reproduce-mnist:end -->\nb\n")
    args = [
        "--results",
        str(results),
        "--figures",
        str(figures),
        "--readme",
        str(readme),
        "--reproduce",
        str(reproduce),
    ]
    assert load_script("figures").main(args) == 0
    assert "old" not in reproduce.read_text() and "75.0 ± 7.1" in reproduce.read_text()
    summary = (results / "SUMMARY.md").read_text()
    assert "| teacher | 67 | 75.0 ± 7.1 (n=2) | +8.0 | 70, 80 |" in summary
    assert "| student alone | 146 | 145.0 ± 7.1 (n=2) | -1.0 |" in summary
    assert "| distilled student | 74 | 95.0 ± 7.1 (n=2) | +21.0 |" in summary
    assert "(alone − distilled)/(alone − teacher): 71 %, 71 % (published: 91 %)" in summary
    assert "Training time per seed (all three models, no evaluation): 3.0, 3.0 min." in summary  # 60 s each
    for name in ("mnist_headline.png", "mnist_learning_curves.png"):
        assert (figures / name).stat().st_size > 10_000
    text = readme.read_text()
    assert "old" not in text and "75.0 ± 7.1" in text and text.startswith("intro") and text.endswith("rest\n")
    first = (figures / "mnist_headline.png").read_bytes()
    assert load_script("figures").main(args) == 0
    assert (figures / "mnist_headline.png").read_bytes() == first  # same CSVs, same files


def test_missing_experiment_is_shown_as_not_run(tmp_path):
    results = tmp_path / "results"
    write_fixture(results)
    runs = pd.read_csv(results / "mnist" / "runs.csv")
    runs[runs.model != "distilled"].to_csv(results / "mnist" / "runs.csv", index=False)
    assert load_script("figures").main(elsewhere(tmp_path, results)) == 0
    assert "| distilled student | 74 | not run |" in (results / "SUMMARY.md").read_text()


def damage_csv(results, damage):
    """Break one results CSV the way a crash, a bad merge or a hand edit might; return the file."""
    runs = results / "mnist" / "runs.csv"
    lines = runs.read_text().splitlines(keepends=True)
    if damage == "column missing":
        pd.read_csv(runs).drop(columns="test_errors").to_csv(runs, index=False)
    elif damage == "not a number":
        lines[2] = lines[2].replace(",80,", ",lots,")  # seed 1's teacher
        runs.write_text("".join(lines))
    elif damage == "last line cut":
        runs.write_text("".join(lines)[:-40])  # the last two fields gone, the one before cut short
    elif damage == "too many fields":
        lines[4] = lines[4].rstrip("\n") + ",extra\n"
        runs.write_text("".join(lines))
    else:  # a wall-times file, read only for REPRODUCE.md
        (results / "mnist" / "wall_times.csv").write_text('command,wall_minutes\npython x,1.5\npython y,"1\n')
        return results / "mnist" / "wall_times.csv"
    return runs


@pytest.mark.parametrize(
    "damage, message",
    [
        ("column missing", "has no column 'test_errors'"),
        ("not a number", "line 3: column 'test_errors' holds 'lots', not a number"),
        ("last line cut", "line 7: 8 fields where the header has 10"),
        ("too many fields", "line 5: 11 fields where the header has 10"),
        ("wall times", "wall_times.csv, line 3: unexpected end of data"),
    ],
)
def test_a_malformed_csv_is_named_and_nothing_is_written(tmp_path, damage, message, capsys):
    results = tmp_path / "results"
    write_fixture(results)
    (results / "SUMMARY.md").write_text("earlier summary\n")
    reproduce = tmp_path / "REPRODUCE.md"
    reproduce.write_text("<!-- reproduce-wall-times:start -->\nx\n<!-- reproduce-wall-times:end -->\n")
    bad = damage_csv(results, damage)
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    args = elsewhere(tmp_path, results)
    args[args.index("--reproduce") + 1] = str(reproduce)
    with pytest.raises(SystemExit) as raised:
        load_script("figures").main(args)
    assert raised.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: {bad}") and message in line
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == before


def test_an_unwritable_figures_folder_is_named_and_nothing_is_written(tmp_path, capsys):
    results = tmp_path / "results"
    write_fixture(results)
    (tmp_path / "f").write_text("a file where the figures folder should be")
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    with pytest.raises(SystemExit) as raised:
        load_script("figures").main(elsewhere(tmp_path, results))  # --figures tmp_path/f
    assert raised.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert f"{tmp_path / 'f'} is a file, not a folder" in line and "--figures" in line
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == before


def write_experiment_fixture(results):
    """omit3 / only78 with their offset sweeps, a two-seed temperature sweep, CIFAR-10 rows, wall times."""
    common = {"preset": "paper", "eval_split": "test", "device": "cpu (test)", "train_seconds": 1.0}
    rows, sweeps = [], []
    for seed in (0, 1):
        for name, base, best, prior in (("omit3", 150, 1.5, 2.0), ("only78", 2000, -5.0, -4.5)):
            run_id = f"{name}{seed}"
            rows.append({**common, "run_id": run_id, "experiment": name, "model": "distilled", "hidden": "800-800",
                         "seed": seed, "test_errors": base + seed * 10, "test_error_pct": (base + seed * 10) / 100,
                         "class_errors": 60, "test_optimal_offset": best, "test_optimal_test_errors": base // 2,
                         "test_optimal_test_error_pct": base / 200, "test_optimal_class_correct_pct": 98.0,
                         "prior_offset": prior, "prior_test_errors": base // 2 + 5,
                         "prior_test_error_pct": base / 200 + 0.05})  # fmt: skip
            sweeps += [{"run_id": run_id, "seed": seed, "offset": o / 10, "test_errors": base - o} for o in range(10)]
        for width, t, errors in (
            ("30-30", 3.0, 230),
            ("30-30", 20.0, 330),
            ("800-800", 3.0, 120),
            ("800-800", 20.0, 95),
        ):
            rows.append({**common, "run_id": f"t{seed}{width}{t}", "experiment": "temperature",
                         "model": "distilled", "hidden": width, "temperature": t, "seed": seed,
                         "test_errors": errors + 2 * seed})  # fmt: skip
    existing = pd.read_csv(results / "mnist" / "runs.csv")
    pd.concat([existing, pd.DataFrame(rows)]).to_csv(results / "mnist" / "runs.csv", index=False)
    pd.DataFrame(sweeps).to_csv(results / "mnist" / "offset_sweeps.csv", index=False)
    (results / "cifar10").mkdir()
    cifar = [{"run_id": f"c{m}", "model": m, "recipe": r, "preset": "quick", "epochs": 3, "test_error_pct": e,
              "device": "cpu (test)", "seed": 0} for m, r, e in (("teacher", "", 40.0), ("distilled", "seed", 50.0),
                                                                  ("baseline", "corrected", 45.0))]  # fmt: skip
    pd.DataFrame(cifar).to_csv(results / "cifar10" / "runs.csv", index=False)
    wall = {"command": "python replicate/mnist.py --experiment all", "wall_minutes": 42.5, "device": "cpu (test)",
            "torch_version": "2.x", "git_commit": "abc", "finished_at": "2026-01-01T00:00:00+00:00"}  # fmt: skip
    pd.DataFrame([wall]).to_csv(results / "mnist" / "wall_times.csv", index=False)


@pytest.mark.slow
def test_every_experiment_gets_its_table_and_figure(tmp_path):
    results = tmp_path / "results"
    write_fixture(results)
    write_experiment_fixture(results)
    reproduce = tmp_path / "REPRODUCE.md"
    reproduce.write_text(
        "".join(f"<!-- {b}:start -->\nx\n<!-- {b}:end -->\n" for b in ("reproduce-wall-times", "reproduce-omit3"))
    )
    args = elsewhere(tmp_path, results)
    args[args.index("--reproduce") + 1] = str(reproduce)
    assert load_script("figures").main(args + ["--data-dir", str(tmp_path / "no-data")]) == 0
    summary = (results / "SUMMARY.md").read_text()
    assert "| omit3 | test errors, no offset | 206 | 155.0 ± 7.1 (n=2) | -51.0 |" in summary
    assert "| only78 | test error %, no offset | 47.3 | 20.1 ± 0.1 (n=2) | -27.2 |" in summary
    assert (
        "| omit3 | offset on the bias of 3, chosen on test (as the paper) | 3.5 | 1.5 ± 0.0 (n=2) | -2.0 |" in summary
    )
    assert "| 3 | 231.0 ± 1.4 (n=2) | 121.0 ± 1.4 (n=2) |" in summary
    assert "30-30: best T = 3" in summary and "800-800: best T = 20" in summary
    assert "| quick | tutorial | distilled | 3 | 50.00 (n=1) |" in summary  # an old row's "seed", renamed
    for name in ("mnist_offsets_omit3", "mnist_offsets_only78", "mnist_temperature", "cifar10", "logit_matching_limit"):
        assert (tmp_path / "f" / f"{name}.png").stat().st_size > 10_000
    assert not (tmp_path / "f" / "dark_knowledge.png").exists()  # no MNIST here: skipped, with a note
    text = reproduce.read_text()
    assert "`mnist.py --experiment all` | cpu (test) | 42.5 |" in text
    assert "| omit3 | test errors, no offset | 206 | 155.0 ± 7.1 (n=2) | -51.0 |" in text


def test_the_speed_section_shows_the_latest_benchmark_run(tmp_path):
    results = tmp_path / "results"
    write_fixture(results)
    (results / "benchmark").mkdir()
    provenance = {"device": "cpu (test)", "command": "python replicate/benchmark.py --bf16", "git_commit": "abc",
                  "torch_version": "2.x", "finished_at": "2026-01-01T00:00:00+00:00"}  # fmt: skip
    timings = [
        {"benchmark_id": run, "model": "teacher", "precision": precision, "pipeline": pipeline,
         "epoch_seconds": seconds, "speedup": round(12.0 / seconds, 2), "gemm_bound_seconds": 4.0,
         "times_gemm_bound": seconds / 4.0, "shared_step_ceiling": 2.0, **provenance}
        for run, scale in (("run1", 1.0), ("run2", 1.1))
        for precision, pipeline, seconds in (("fp32", "ours", 8.0 * scale), ("fp32", "dataloader, 0 workers", 12.0),
                                             ("bf16", "ours", 6.0 * scale), ("bf16", "dataloader, 0 workers", 12.0))
    ]  # fmt: skip
    pd.DataFrame(timings).to_csv(results / "benchmark" / "benchmark.csv", index=False)
    accuracy = [
        {"benchmark_id": "run2", "precision": precision, "seed": seed, "epochs": 3, "test_errors": errors, **provenance}
        for seed, (fp32, bf16) in enumerate(((235, 250), (237, 229)))
        for precision, errors in (("fp32", fp32), ("bf16", bf16))
    ]
    pd.DataFrame(accuracy).to_csv(results / "benchmark" / "bf16_accuracy.csv", index=False)
    args = elsewhere(tmp_path, results)
    assert load_script("figures").main([*args, "--data-dir", str(tmp_path / "no-data")]) == 0
    block = (results / "SUMMARY.md").read_text().split("## Speed")[1]
    assert "| teacher | fp32 | ours | 8.80 | 1.36× | 4.00 | 2.20× | 2.00× |" in block  # run2, the latest
    assert "| teacher | fp32 | ours | 8.00 |" not in block
    assert "| 0 | 235 | 250 | +15 |" in block and "| mean | 236.0 | 239.5 | +3.5 |" in block


def test_logged_commands_are_shown_without_the_data_folder_of_the_machine_that_ran_them():
    from distill.reporting.machine import shown

    assert shown("python replicate/mnist.py --seed 3 --data-dir /mnt/x/data --out o") == (
        "python replicate/mnist.py --seed 3 --data-dir DATA --out o"
    )
    assert shown("python replicate/mnist.py --seed 3") == "python replicate/mnist.py --seed 3"


def test_the_study_table_names_each_change_and_compares_it_with_its_machines_start():
    from distill.lab.presets import PAPER
    from distill.reporting import study

    base = {"model": "teacher", "epochs": 150, "cfg_lr": 0.05, "cfg_max_norm": 3.5, "cfg_momentum": 0.9,
            "cfg_momentum_ramp": 0, "device": "GPU (test)"}  # fmt: skip
    teachers = pd.DataFrame(
        [{**base, "seed": s, "val_errors": e} for s, e in ((0, 78), (1, 72))]
        + [{**base, "epochs": 300, "seed": s, "val_errors": e} for s, e in ((1, 70), (0, 67))]
    )
    student = {"model": "distilled", "temperature": 20.0, "hard_weight": 0.1, "cfg_lr": 0.1, "epochs": 50,
               "cfg_batch_size": 100, "soft_term": "soft_loss", "jittered_copies": float("nan"),
               "device": "NVIDIA (test)"}  # fmt: skip
    on_cpu = {**student, "device": "CPU (test), 1 threads"}
    students = pd.DataFrame(
        [{**student, "seed": 0, "val_errors": 110}, {**student, "temperature": 8.0, "seed": 0, "val_errors": 100},
         {**student, "soft_term": "logit_matching_loss", "seed": 0, "val_errors": 120},
         {**student, "jittered_copies": 9, "epochs": 5, "seed": 0, "val_errors": 90},
         {**student, "model": "baseline", "temperature": float("nan"), "hard_weight": float("nan"), "seed": 0,
          "val_errors": 150},
         {**student, "cfg_lr": 0.3, "seed": 0, "val_errors": float("nan")},
         {**on_cpu, "seed": 0, "val_errors": 130}, {**on_cpu, "temperature": 8.0, "seed": 0, "val_errors": 128}]
    )  # fmt: skip
    start = study.start(PAPER)  # what tune.py logs with each row: the settings it changed from the study's start
    with_changes = lambda rows, panel: rows.assign(
        **pd.DataFrame([study.changed(r, start[panel]) for r in rows.to_dict("records")])
    )
    teachers, students = (
        with_changes(teachers, "teacher"),
        with_changes(students.assign(teacher_epochs=150), "students"),
    )
    text = study.markdown((teachers, students))
    # the last column: what the paper preset kept, read from it
    teacher, distilled, alone = (PAPER.teacher.train, PAPER.students.distilled.train, PAPER.students.alone.train)
    # per seed in seed order; the start's errors once, on the panel's first line
    assert f"| teacher; start: 75.0 (78, 72) | epochs | 150 | 300: 68.5 (67, 70) | {teacher.epochs} |" in text
    gpu_rows = text.split("| students of GPU-trained teachers")[1].split("| students of CPU")[0]
    assert f"|  | lr | 0.1 | 0.3: diverged (1 seed) | {distilled.lr:g} |" in gpu_rows  # panel named once
    assert "| soft term | T²·KL (§2) | logit matching (§2.1): 120.0 (120) |" in gpu_rows
    assert "| epochs, jittered copies | 50, 0 | 5, 9 (departs from §3): 90.0 (90) |" in gpu_rows
    assert (
        f"| student alone (labels only), lr, epochs | — | 0.1, 50: 150.0 (150) | {alone.lr:g}, {alone.epochs} |" in text
    )
    # the CPU's teachers differ from the GPU's: their students are compared with the CPU's own start
    cpu_panel = text.split("| students of CPU-trained teachers")[1]
    assert f"; start: 130.0 (130) | T | 20 | 8: 128.0 (128) | {PAPER.temperature:g} |" in cpu_panel
    cells = study.cells(students[students.device == "NVIDIA (test)"])
    assert cells.change.tolist()[:3] == ["", "T 8", "soft term logit matching (§2.1)"]  # the figure's labels


def test_the_study_columns_are_added_once_from_the_logged_commands_and_no_other_value_changes(tmp_path):
    study = tmp_path / "mnist" / "study"
    study.mkdir(parents=True)
    tune = "python replicate/tune.py --preset paper --seeds 0 --students"
    rows = [
        {"model": "teacher", "epochs": 300, "cfg_lr": 0.05, "command": f"{tune} --teacher-epochs 300"},
        {"model": "distilled", "epochs": 150, "cfg_lr": 0.01, "command": f"{tune} --teacher-epochs 150 --lr 0.01"},
        {"model": "distilled", "epochs": 150, "cfg_lr": 0.03, "command": f"{tune} --teacher-epochs 300 --lr 0.03"},
        {"model": "distilled", "epochs": 50, "cfg_lr": 0.1, "command": "python replicate/tune.py --seeds 0"},
    ]
    student = {"temperature": 20.0, "hard_weight": 0.1}
    common = {"seed": 0, "val_errors": 100, "device": "CPU (test)"}
    rows = [{**row, **common, **(student if row["model"] != "teacher" else {})} for row in rows]
    pd.DataFrame(rows).to_csv(study / "distillation_tuning.csv", index=False)
    before = read_rows(study / "distillation_tuning.csv")
    add = load_script("add_study_columns").main
    assert add(["--study", str(study)]) == 0
    after = read_rows(study / "distillation_tuning.csv")
    assert [{k: r[k] for k in before[0]} for r in after] == before  # every earlier value, as it was written
    added = pd.read_csv(study / "distillation_tuning.csv")
    assert added.teacher_epochs.fillna(0).tolist() == [0, 150, 300, 150]
    assert added.factor.fillna("").tolist() == ["epochs", "lr, epochs", "teacher epochs, lr, epochs", ""]
    assert added.value.fillna("").tolist() == ["300", "0.01, 150", "300, 0.03, 150", ""]
    assert add(["--study", str(study)]) == 0 and read_rows(study / "distillation_tuning.csv") == after


def test_the_share_kept_counts_errors_and_accuracies_alike():
    from distill.reporting.tables import kept_share

    assert kept_share(58.9, 61.1, 60.8) == pytest.approx(0.8636, abs=1e-4)  # Table 1's accuracies: 86 % kept
    assert kept_share(140, 120, 125) == pytest.approx(0.75)  # errors fall as nets improve: 15 of 20 kept


def test_the_headline_counts_one_teacher_per_seed_the_one_its_students_learnt_from():
    from distill.experiments.headline import headline_rows

    def row(experiment, model, seed, errors):
        return {"experiment": experiment, "model": model, "seed": seed, "preset": "paper", "eval_split": "test",
                "test_errors": errors}  # fmt: skip

    runs = pd.DataFrame([
        row("main", "teacher", 0, 74), row("main", "distilled", 0, 90),
        row("fewdata", "teacher", 0, 71),  # a second seed-0 teacher, trained later for another experiment
        row("omit3", "teacher", 1, 75), row("main", "distilled", 1, 93),  # main reused the teacher omit3 trained
    ])  # fmt: skip
    teachers = headline_rows(runs, "paper").query("model == 'teacher'")
    assert sorted(teachers.test_errors) == [74, 75]


def _ensemble_rows(distilled_errors, distilled_nll):
    """Three ensembles of ten members: members 140 ± 10 errors (NLL 0.05 ± 0.01), ensembles 130 errors, 0.04 NLL."""
    row = lambda model, seed, errors, nll: {
        "experiment": "ensemble", "model": model, "seed": seed, "preset": "paper", "eval_split": "test",
        "test_errors": errors, "test_nll": nll, "device": "cpu", "precision": "fp32"}  # fmt: skip
    members = [row("baseline", s, 140 + 10 * (-1) ** s, 0.05 + 0.01 * (-1) ** s) for s in range(30)]
    ensembles = [row("ensemble", s, 130, 0.04) for s in range(3)]
    students = [row("distilled", s, e, n) for s, (e, n) in enumerate(zip(distilled_errors, distilled_nll))]
    return pd.DataFrame([*members, *ensembles, *students]).assign(diverged_in_epoch=None)


def test_the_ensembles_share_is_given_only_on_a_metric_whose_gain_exceeds_three_sd_of_one_member():
    from distill.experiments import ensemble
    from distill.reporting.tables import Results

    # errors: a gain of 10 against one member's sd of 10.5, under 3 sd; NLL: a gain of 0.01, also under 3 × 0.0105
    runs = _ensemble_rows([132, 134, 136], [0.042, 0.044, 0.046])
    table = ensemble.comparison_table(runs)
    assert "| share of the gain kept | 86 % | undefined: the gain, 10.0, is under 3 sd of one member (10.5) |" in table
    assert "| ensemble − its members' mean, paired | +2.2 | -10.0 ± 0.0 (95 % interval, n=3) |" in table
    # members whose NLL varies 10× less: the NLL gain clears 3 sd, the share is the mean gain kept over the mean gain
    runs.loc[runs.model == "baseline", "test_nll"] = 0.05 + 0.001 * (-1) ** runs.seed
    share = ensemble.share_text(ensemble.scores(runs, "nll"), 4)
    # kept 0.008, 0.006, 0.004 of 0.01; with 3 seeds, the percentile bootstrap's interval is their range
    assert share == "60 % [40, 80] (bootstrap 95 % over 3 ensembles; per seed 80 %, 60 %, 40 %)"
    figure = ensemble.plot(Results(runs), "paper")
    assert len(figure.axes) == 2 * 3  # one panel per ensemble seed and metric
    assert [len(c.get_offsets()) for c in figure.axes[0].collections] == [10, 1, 1]  # members, ensemble, distilled


def test_a_diverged_ensemble_student_is_named_not_counted():
    from distill.experiments import ensemble

    runs = _ensemble_rows([132, float("nan"), 136], [0.042, float("nan"), 0.046])
    runs.loc[(runs.model == "distilled") & (runs.seed == 1), "diverged_in_epoch"] = 1
    table = ensemble.comparison_table(runs)
    assert "| one net distilled from it | 60.8 | 134.0 ± 2.8 (n=2); diverged (seed 1 in epoch 1) |" in table
    assert "| distilled − its members' mean, paired | +1.9 | -6.0 ± 25.4 (95 % interval, n=2) |" in table


def test_the_ensembles_validation_table_gives_each_variants_gain_in_standard_errors(tmp_path):
    from distill.reporting.study import ensemble_recipe

    def row(model, seed, errors, nll, jitter=0, **more):
        return {"run_id": f"{model}{seed}{jitter}{more}", "model": model, "seed": seed, "val_errors": errors,
                "val_nll": nll, "cfg_jitter": jitter, "epochs": 20, "device": "cpu", "precision": "fp32",
                **more}  # fmt: skip

    members = [row("baseline", s, 150 + s % 2, 0.05 + 0.002 * (s % 2), member=s) for s in range(10)]
    students = [row("distilled", 0, 147, 0.045, temperature=T, hard_weight=0.1, member_jitter=0, member_epochs=20,
                    input_dropout=0.2)
                for T in (2.0, 5.0)]  # fmt: skip
    folder = tmp_path / "mnist" / "ensemble_validation"
    folder.mkdir(parents=True)
    rows = pd.DataFrame([*members, row("ensemble", 0, 140, 0.046), *students])
    rows.to_csv(folder / "ensemble_validation.csv", index=False)
    table = ensemble_recipe(tmp_path)
    # gain 0.051 − 0.046 = 0.005 over one member's sd, 0.00105
    assert "| 0 | 20 | 150.5 ± 0.5 (n=10) | 0.0510 ± 0.0011 | 140 (n=1) | 0.0460 | 4.7 |" in table
    assert (
        "| 0, 20 | members | 2 | 0.1 | 147 | 0.0450 |" in table
        and "| 0, 20 | members | 5 | 0.1 | 147 | 0.0450 |" in table
    )


def test_the_transfer_table_keeps_every_published_number_and_the_offset_found_without_test_data():
    from distill.experiments.transfer_sets import OMIT3, table
    from distill.reporting.tables import Results

    row = {"experiment": "omit3", "model": "distilled", "preset": "paper", "seed": 0, "eval_split": "test",
           "test_errors": 130, "class_errors": 60, "test_optimal_offset": 1.8, "test_optimal_test_errors": 100,
           "test_optimal_class_errors": 14, "test_optimal_class_correct_pct": 98.5, "prior_offset": 2.1,
           "prior_test_errors": 105, "prior_class_errors": 12, "device": "cpu", "precision": "bf16"}  # fmt: skip
    text = table(Results(pd.DataFrame([row])), "paper", OMIT3)
    published = ("| 206 | 130 (n=1) |", "| 133 | 60 (n=1) |", "| 3.5 | 1.8 (n=1) |", "| 109 | 100 (n=1) |",
                 "| 14 | 14 (n=1) |", "| 98.6 | 98.5 (n=1) |")  # fmt: skip
    assert all(cell in text for cell in published)
    assert (
        "share of the training labels | — | 2.1 (n=1) |" in text
        and "| test errors at that offset | — | 105 (n=1) |" in text
    )
    assert "| — | 12 (n=1) |" in text and "cpu, bf16" in text


def test_your_runs_are_compared_with_ours_in_your_folder_only(tmp_path):
    from tests.conftest import REPO

    yours = tmp_path / "runs"
    write_fixture(yours)  # your rows: the paper preset's headline, two seeds
    committed = {p: p.stat().st_mtime_ns for p in (REPO / "results").rglob("*") if p.is_file()}
    assert load_script("figures").main(["--compare", str(yours)]) == 0
    text = (yours / "comparison.md").read_text()
    ours = pd.read_csv(REPO / "results" / "mnist" / "runs.csv")
    teachers = ours[(ours.model == "teacher") & (ours.experiment == "main") & (ours.preset == "paper")].test_errors
    ours_cell = f"{teachers.mean():.1f} ± {teachers.std():.1f} (n={len(teachers)})"
    assert f"| §3 teacher: test errors | 67 | {ours_cell} | 75.0 ± 7.1 (n=2) |" in text
    assert (yours / "comparison.png").stat().st_size > 10_000
    assert {p: p.stat().st_mtime_ns for p in (REPO / "results").rglob("*") if p.is_file()} == committed


def test_a_scripts_rows_go_to_an_ignored_folder_unless_asked():
    from tests.conftest import REPO

    for script in ("mnist", "cifar10", "tune"):
        source = (REPO / "replicate" / f"{script}.py").read_text()
        assert 'default_out="runs/' in source, script
    assert "/runs/" in (REPO / ".gitignore").read_text().splitlines()


def test_the_committed_summary_readme_and_reproduce_are_what_the_committed_rows_give():
    from argparse import Namespace

    from distill.reporting import study
    from distill.reporting.tables import Results
    from tests.conftest import REPO

    figures = load_script("figures")
    results = REPO / "results"
    args = Namespace(
        results=str(results), preset="paper", readme=str(REPO / "README.md"), reproduce=str(REPO / "REPRODUCE.md")
    )
    _, _, documents = figures.compose(Results.read(results), study.read(results), args)
    stale = [path.name for path, text in documents.items() if Path(path).read_text() != text]
    assert not stale, f"run python replicate/figures.py: {stale} differ from what the rows give"
