"""Tables and figures from the logged CSVs: no training, no data set needed.

Reads results/mnist/{runs,epochs,offset_sweeps}.csv and results/cifar10/runs.csv and writes
    results/SUMMARY.md                 per experiment: published | measured (mean ± sd, n) | difference
    figures/mnist_headline.png         test errors per model, seeds as dots, published marked
    figures/mnist_learning_curves.png  test errors per epoch of the three models
    figures/mnist_offsets.png          omit3 / only78: test errors vs the bias offset
    figures/mnist_temperature.png      test errors vs T for each student size
    figures/cifar10.png                test accuracy per recipe and model
    figures/validation_study.png       the study behind the paper preset: validation errors per change
    figures/logit_matching_limit.png   §2.1: the soft gradient approaches logit matching as T grows
    figures/dark_knowledge.png         the seed-0 teacher's probabilities at T = 1 and 20 (needs MNIST + cache)
and refreshes the generated blocks of README.md and REPRODUCE.md (between their start and end markers).
An experiment without rows is shown as "not run" and its figure is skipped with a note.
Running it twice on the same CSVs gives the same files.

    python replicate/figures.py
"""

import csv
import math
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
import pandas as pd
import torch

from distill import tables
from distill.cli import ScriptParser, fail, require_writable
from distill.data import DATA_DIR_ENV, DataUnavailable, load_mnist, resolve_data_dir
from distill.illustrations import plot_dark_knowledge, plot_logit_matching_limit
from distill.mnist import PUBLISHED_TEST_ERRORS
from distill.presets import MNIST_PRESETS
from distill.teacher_cache import load_teacher, teacher_key
from distill.temperature_sweep import COLLAPSED_ERRORS, verdict
from distill.train import predict_logits
from distill.transfer_sets import TRANSFER_SET_EXPERIMENTS

RUN_COLUMNS = ["run_id", "experiment", "model", "preset", "eval_split", "test_errors", "seed"]
NUMERIC_SUFFIXES = ("errors", "seed", "epoch", "minutes", "offset", "pct", "seconds", "speedup", "bound")
LABELS = {
    "teacher": "teacher 1200-1200\n(dropout, jitter)",
    "baseline": "student 800-800\nalone",
    "distilled": "student 800-800\ndistilled, T=20",
}
BLUE, ORANGE = "#3b75af", "#d1603d"
plt.rcParams.update({"figure.dpi": 110, "axes.titlesize": 9, "legend.frameon": False})


def read_csv(path: Path, required: list[str]) -> pd.DataFrame | None:
    """A results CSV with the columns this script needs, or None where it does not exist; otherwise exit with one
    sentence naming the file and the first bad line or column. Every row is logged whole: a line with more or fewer
    fields than the header is truncated or garbled (pandas would pad a short one with NaN), as is text in a numeric
    column."""
    if not path.exists():
        return None
    with open(path, newline="") as f:
        reader = csv.reader(f, strict=True)  # strict: an unclosed quote is an error, not the rest of the file
        try:
            header = next(reader, None)
            lines = []  # the file's line number of each data row, for the messages below
            for fields in filter(None, reader):  # blank lines skipped, as pandas does
                if len(fields) != len(header):
                    fail(
                        f"{path}, line {reader.line_num}: {len(fields)} fields where the header has {len(header)}, "
                        "a truncated or garbled row; delete that line or rerun the experiment that wrote it."
                    )
                lines.append(reader.line_num)
        except (UnicodeDecodeError, csv.Error) as error:
            fail(f"{path}, line {reader.line_num}: {error}; fix or delete that line.")
    if header is None:
        fail(f"{path} is empty; delete it or rerun the experiment that writes it.")
    table = pd.read_csv(path)
    for column in required:
        if column not in table.columns:
            fail(f"{path} has no column '{column}'.")
        if column.endswith(NUMERIC_SUFFIXES):
            text = table[column]
            garbage = pd.to_numeric(text, errors="coerce").isna() & text.notna()  # empty cells are allowed
            if garbage.any():
                row = garbage.to_numpy().argmax()  # the first one
                fail(f"{path}, line {lines[row]}: column '{column}' holds {text.iloc[row]!r}, not a number.")
    return table


def study_rows(results: Path) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The validation study's teachers and students (results/mnist/study), or None if it has not run. A student's
    teacher is the one its command names (--teacher-epochs; without it, the study's start), trained on the machine
    the student ran on. The rows' order says nothing: a cached teacher's row is logged only by the first command
    that reads it in a folder. A teacher retrained with the same settings and seed counts once (its latest row)."""
    path = results / "mnist" / "study" / "distillation_tuning.csv"
    required = ["model", "seed", "val_errors", "command", "device"]
    rows = read_csv(path, required)
    if rows is None:
        return None
    teachers = pd.concat([rows[rows.model == "teacher"], read_csv(path.with_name("teacher_tuning.csv"), required)])
    settings = ["seed", "device", "epochs", *tables.STUDY_START["teacher"]]
    teachers = teachers.drop_duplicates([c for c in dict.fromkeys(settings) if c in teachers], keep="last")
    students = rows[rows.model != "teacher"]
    other_teacher = students.command.str.contains(r"--teacher-(?!epochs|precision)")
    if other_teacher.any():
        command = students.command[other_teacher].iloc[0]
        fail(f"{path}: '{command}' changes its teacher in more than epochs, which the study's tables do not show.")
    named = students.command.str.extract(r"--teacher-epochs[= ](\d+)")[0].astype(float)
    teacher_epochs = named.fillna(tables.STUDY_START["students"]["teacher_epochs"]).astype(int)
    return teachers, students.assign(teacher_epochs=teacher_epochs)


def fp32_bf16_lines(errors: pd.DataFrame, kl: pd.DataFrame | None = None) -> list[str]:
    """Table lines of each seed's errors in fp32 and bf16 (``errors``: one row per seed) and their means; with
    ``kl`` (rows indexed by seed and precision), the KL to the teacher on the transfer and validation sets too."""
    lines = ["| seed | fp32 | bf16 | bf16 − fp32 |", "|---:|---:|---:|---:|"]
    if kl is not None:
        lines = [lines[0] + " KL fp32 (transfer / val) | KL bf16 (transfer / val) |", lines[1] + "---|---|"]
    for seed, r in errors.iterrows():
        line = f"| {seed} | {r.fp32:.0f} | {r.bf16:.0f} | {r.bf16 - r.fp32:+.0f} |"
        if kl is not None:
            line += "".join(f" {kl.transfer_kl[seed, p]:.2g} / {kl.val_kl[seed, p]:.2g} |" for p in ("fp32", "bf16"))
        lines.append(line)
    mean = errors.mean()
    return lines + [f"| mean | {mean.fp32:.1f} | {mean.bf16:.1f} | {mean.bf16 - mean.fp32:+.1f} |"]


def precision_markdown(results: Path) -> str:
    """fp32 against bf16 on the validation split, for every teacher (preset, lr) and distilled configuration
    trained in both from the same seeds (and teacher); the verdict compares the mean paired difference with
    two standard errors of it."""
    parts, required = [], ["model", "epochs", "cfg_lr", "val_errors", "seed"]
    for name, model, key in (
        ("teacher_tuning", "teacher", ["preset", "cfg_lr", "epochs"]),
        ("distillation_tuning", "distilled", ["preset", "cfg_lr", "epochs", "temperature", "hard_weight"]),
    ):
        rows = read_csv(results / "mnist" / "tuning" / f"{name}.csv", required)
        if rows is None:
            continue
        rows = tables.with_precision(rows[rows.model == model])
        for settings, group in rows.drop_duplicates([*key, "seed", "precision"], keep="last").groupby(key, sort=False):
            paired = group.pivot_table(index="seed", columns="precision", values="val_errors").dropna()
            if not {"fp32", "bf16"} <= set(paired.columns) or len(paired) < 2:
                continue
            kl = group.set_index(["seed", "precision"])
            has_kl = "transfer_kl" in kl and kl.transfer_kl.notna().any()
            table = "\n".join(fp32_bf16_lines(paired, kl if has_kl else None))
            described = ", ".join(f"{k.removeprefix('cfg_')} {v}" for k, v in zip(key, settings))
            difference = paired.bf16 - paired.fp32
            margin = 2 * difference.std() / len(difference) ** 0.5
            noise = "within noise" if abs(difference.mean()) <= margin else "a difference beyond noise"
            parts.append(
                f"{model} ({described}), validation errors:\n\n{table}\n\nbf16 − fp32: {difference.mean():+.1f} "
                f"errors on average over {len(difference)} seeds, two standard errors {margin:.1f}: {noise}.\n"
            )
    return "\n".join(parts) or "Not run yet: `python replicate/tune.py --precision fp32 bf16 …`.\n"


def shown(command: str) -> str:
    """A logged command as the reader should type it: the data folder of the machine that ran it, which
    changes no result, becomes DATA (whatever folder --data-dir names on the reader's machine)."""
    return re.sub(r"--data-dir \S+", "--data-dir DATA", command)


def fp32_markdown(results: Path) -> str:
    """The runs in results/mnist/fp32/ (--precision fp32), one table per preset, and every timed run of the
    README's test command (replicate/benchmark.py --test-suite)."""
    runs, fp32 = read_csv(results / "mnist" / "fp32" / "runs.csv", RUN_COLUMNS), "Not run yet.\n"
    if runs is not None:
        runs = tables.latest(runs)
        fp32 = "\n".join(tables.preset_summary(runs, preset) for preset in runs.preset.unique())
    required = ["command", "precision", "summary", "wall_minutes", "device", "git_commit"]
    timed = read_csv(results / "benchmark" / "test_suite.csv", required)
    if timed is None:
        return f"{fp32}\nTest suite: not timed yet.\n"
    devices = "; ".join(sorted(set(timed.device)))
    lines = [f"{fp32}\nREADME's test command (`benchmark.py --test-suite`) on {devices}:\n"]
    lines += ["| precision | MNIST | outcome | wall time (min) | commit |", "|---|---|---|---:|---|"]
    for r in timed.itertuples():
        lines.append(f"| {r.precision} | {r.data} | {r.summary} | {r.wall_minutes:.1f} | {r.git_commit} |")
    return "\n".join(lines) + "\n"


def wall_times_markdown(results: Path) -> str:
    """Every logged invocation of the replicate/ scripts (superseded ones aside): command, device and precision
    (where the row logged it), time."""
    lines = ["| `python replicate/…` | device | wall time (min) |", "|---|---|---:|"]
    paths = sorted(results.glob("*/wall_times.csv")) + sorted(results.glob("*/*/wall_times.csv"))
    for path in [p for p in paths if p.parent.name != "superseded"]:
        table = read_csv(path, ["command", "wall_minutes", "device", "git_commit"])
        precision = table.get("precision", pd.Series(index=table.index, dtype=object))
        for r, p in zip(table.itertuples(), precision):
            device = tables.without_simd(r.device if pd.isna(p) else f"{r.device}, {p}")
            command = shown(r.command).removeprefix("python replicate/")  # the header says it once
            lines.append(f"| `{command}` | {device} | {r.wall_minutes:.1f} |")  # commit: in the CSV
    return "\n".join(lines) + "\n"


def benchmark_markdown(results: Path) -> str:
    """The latest replicate/benchmark.py run: epoch times of both pipelines against the GEMM bound, and the
    teacher's test errors after a short run in fp32 and in bf16. Earlier runs stay in benchmark.csv."""
    columns = ["benchmark_id", "model", "precision", "pipeline", "epoch_seconds", "speedup", "gemm_bound_seconds"]
    provenance = ["device", "command", "git_commit", "torch_version", "finished_at"]
    timings = read_csv(results / "benchmark" / "benchmark.csv", [*columns, "times_gemm_bound", *provenance])
    if timings is None:
        return "Not run yet: `python replicate/benchmark.py --bf16`.\n"
    accuracy_columns = ["benchmark_id", "precision", "seed", "epochs", "test_errors"]
    accuracy = read_csv(results / "benchmark" / "bf16_accuracy.csv", accuracy_columns)
    parts = []
    for device, rows in timings[timings.benchmark_id == timings.benchmark_id.iloc[-1]].groupby("device"):
        first = rows.iloc[0]
        ceiling = rows.get("shared_step_ceiling", pd.Series(index=rows.index, dtype=float))  # older runs lack it
        parts += [
            f"`{shown(first.command)}` on {device} (torch {first.torch_version}, commit {first.git_commit}, "
            f"{first.finished_at}). *Ceiling*: (GEMM bound + best DataLoader − ours) / GEMM bound, an estimate of "
            "the speed-up our loop would have if the model step both pipelines share cost only its GEMMs.\n",
            "| model | precision | pipeline | s / epoch | × best DataLoader | GEMM bound (s) | × bound | ceiling |",
            "|---|---|---|---:|---:|---:|---:|---:|",
            *(f"| {r.model} | {r.precision} | {r.pipeline} | {r.epoch_seconds:.2f} | {r.speedup:.2f}× | "
              f"{r.gemm_bound_seconds:.2f} | {r.times_gemm_bound:.2f}× | "
              f"{'—' if pd.isna(ceiling[r.Index]) else f'{ceiling[r.Index]:.2f}×'} |" for r in rows.itertuples()),
        ]  # fmt: skip
        short_runs = pd.DataFrame() if accuracy is None else accuracy[accuracy.benchmark_id == first.benchmark_id]
        if not short_runs.empty:
            errors = short_runs.pivot_table(index="seed", columns="precision", values="test_errors")
            parts += [
                f"\nTeacher test errors after {short_runs.epochs.iloc[0]} epochs of its paper recipe, same seeds in "
                "both precisions:\n",
                *fp32_bf16_lines(errors.reindex(columns=["fp32", "bf16"])),  # NaN where one is missing
            ]
        parts.append("")
    return "\n".join(parts)


GLANCE_HEADER = "| result | published | measured (mean ± sd, n seeds) |\n|---|---|---|"


def glance_markdown(runs: pd.DataFrame, cifar: pd.DataFrame | None, preset: str, shown_preset: dict) -> str:
    """The other results in one short table for the README: published next to measured."""
    lines = [GLANCE_HEADER]
    for name, experiment in TRANSFER_SET_EXPERIMENTS.items():
        rows = tables.rows_of(runs, name, preset, "distilled")
        error, unit, published = experiment.error_column, experiment.unit, experiment.published
        if rows.empty:
            lines.append(f"| {name}: {unit} | {published[error]} | not run |")
            continue
        mean_sd_of = lambda column: tables.mean_sd(rows[column].astype(float))
        lines += [
            f"| {name}: {unit}, no bias offset | {published[error]} | {mean_sd_of(error)} |",
            f"| {name}: {unit}, offset chosen on test | {published[f'offset_{error}']} (offset "
            f"{experiment.published_offset:+g}) | {mean_sd_of(f'test_optimal_{error}')} "
            f"(offset {mean_sd_of('test_optimal_offset').split(' (')[0]}) |",
            f"| {name}: {unit}, offset chosen without test data | — | "
            f"{mean_sd_of(f'prior_{error}')} (offset {mean_sd_of('prior_offset').split(' (')[0]}) |",
        ]
    sweep = tables.rows_of(runs, "temperature", preset)
    claims = verdict(sweep.to_dict("records")) if len(sweep) else ["not run"]
    # the glance keeps each width's best T and whether the claim held; SUMMARY.md has the reasons
    held = lambda claim: f"{claim.split(' (')[0]}, claim {'holds' if 'HOLDS' in claim else 'does not hold'}"
    short = [held(claim) for claim in claims if " best T = " in claim] or claims
    lines.append(f"| temperature × size | 30 units: T 2.5–4 best; ≥ 300: all T above 8 similar | {'; '.join(short)} |")
    lines += glance_other_claims(runs, shown_preset)
    measured = "not run on real CIFAR-10 yet (see REPRODUCE.md)" if cifar is None or cifar.empty else "see SUMMARY"
    lines.append(f"| CIFAR-10 tutorial example | no accuracy given | {measured} |")
    return "\n".join(lines) + "\n"


def glance_other_claims(runs: pd.DataFrame, shown_preset: dict) -> list[str]:
    """§4's ensemble, §5's 3 % and §2.1's limit, each in one line: the share kept or recovered, or the trend (the
    preset is named where it is not the paper's)."""
    lines = []
    named = {e: "" if p == "paper" else f" (`{p}` preset)" for e, p in shown_preset.items()}
    for experiment, claim, published, shares in (
        ("ensemble", "§4 ensemble → one net: share of its gain kept", tables.ENSEMBLE_KEPT,
         tables.ensemble_kept(tables.ensemble_errors(runs, shown_preset["ensemble"]))),
        ("fewdata", "§5 soft targets on 3 % of the data: share of the gap recovered", tables.FEW_DATA_RECOVERED,
         tables.few_data_recovered(tables.few_data_cells(runs, shown_preset["fewdata"]))),
    ):  # fmt: skip
        measured = f"{tables.percentages(shares)}{named[experiment]}" if len(shares) else "not run"
        lines.append(f"| {claim} | {100 * published:.0f} % | {measured} |")
    rows = tables.rows_of(runs, "logits", shown_preset["logits"], "distilled")
    has_rms = "logit_rms_to_matching" in rows
    rms = rows.groupby(rows.temperature.astype(float)).logit_rms_to_matching.mean() if has_rms else []
    trend = ", ".join(f"T {t:g}: {r:.2f}" for t, r in dict(rms).items() if not math.isnan(r))
    trend = f"{trend}{named['logits']}" if trend else "not run"
    lines.append(f"| §2.1 high T → logit matching: RMS logit difference | shrinks as T grows | {trend} |")
    return lines


def plot_headline(runs: pd.DataFrame, preset: str) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    main = tables.headline_rows(runs, preset)
    for x, (model, published) in enumerate(PUBLISHED_TEST_ERRORS.items()):
        errors = main[main.model == model].test_errors
        ax.bar(x - 0.2, published, width=0.4, color="#bbbbbb", label="published" if x == 0 else None)
        ax.bar(x + 0.2, errors.mean(), width=0.4, color=BLUE, label="measured (mean)" if x == 0 else None)
        ax.scatter([x + 0.2] * len(errors), errors, color="black", s=12, zorder=3, label="seeds" if x == 0 else None)
        ax.text(x - 0.2, published + 2, str(published), ha="center", va="bottom", fontsize=8)
        if len(errors):  # above the highest seed, so that the dots never cover it
            ax.text(x + 0.2, errors.max() + 3, f"{errors.mean():.0f}", ha="center", va="bottom", fontsize=8)
    highest = max(max(PUBLISHED_TEST_ERRORS.values()), main.test_errors.max() if len(main) else 0)
    title = f"MNIST, §3 of Hinton et al. (2015): published vs measured ({preset} preset)"
    ax.set(ylim=(0, highest * 1.15), ylabel="test errors (of 10,000)", title=title)  # room above the tallest label
    ax.set_xticks(range(len(tables.MODELS)), [LABELS[m] for m in tables.MODELS], fontsize=8)
    ax.legend(fontsize=8, loc="upper right")  # above the distilled student's short bars, below the tallest label
    return fig


def plot_learning_curves(runs: pd.DataFrame, epochs: pd.DataFrame | None, preset: str) -> plt.Figure | str:
    if epochs is None:
        return "no epochs.csv"
    curves = epochs[epochs.run_id.isin(tables.headline_rows(runs, preset).run_id)]
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for model, color in zip(tables.MODELS, ("#444444", ORANGE, BLUE)):
        for i, (_, run) in enumerate(curves[curves.model == model].groupby("run_id", sort=True)):
            ax.plot(run.epoch, run.test_errors, color=color, lw=1, alpha=0.8, label=model if i == 0 else None)
        ax.axhline(PUBLISHED_TEST_ERRORS[model], color=color, ls=":", lw=1)
    ax.set(yscale="log", xlabel="epoch", ylabel="test errors (log scale)")
    ax.set_title("Learning curves; dotted: published final errors")
    ax.legend(fontsize=8)
    return fig


def plot_offsets(runs: pd.DataFrame, sweeps: pd.DataFrame | None, preset: str) -> plt.Figure | str:
    """Test errors vs offset for omit3 and only78, the published and the chosen offsets marked."""
    if sweeps is None or sweeps.empty:
        return "no offset sweeps logged"
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, (name, experiment) in zip(axes, TRANSFER_SET_EXPERIMENTS.items()):
        rows = tables.rows_of(runs, name, preset, "distilled")
        for i, (_, curve) in enumerate(sweeps[sweeps.run_id.isin(rows.run_id)].groupby("seed")):
            ax.plot(curve.offset, curve.test_errors, color=BLUE, lw=1, label="seeds" if i == 0 else None)
        offset = experiment.published_offset
        ax.axvline(offset, color="#444444", ls=":", label=f"published {offset:+g}")
        for column, color, label in (("test_optimal_offset", ORANGE, "chosen on test"),
                                     ("prior_offset", "#2a9d5c", "prior matching (no test data)")):  # fmt: skip
            for j, chosen in enumerate(rows[column].astype(float)):
                ax.axvline(chosen, color=color, lw=0.8, label=label if j == 0 else None)
        classes = " and ".join(map(str, experiment.offset_classes))
        ax.set(xlabel=f"offset added to the output bias of {classes}", ylabel="test errors (log scale)", yscale="log")
        ax.set_title(f"{name}: transfer set of digits {''.join(map(str, experiment.kept_classes))}")
        ax.legend(fontsize=7)
    return fig


def plot_temperature(runs: pd.DataFrame, preset: str) -> plt.Figure | str:
    rows = tables.rows_of(runs, "temperature", preset, "distilled")
    rows = rows[rows.test_errors < COLLAPSED_ERRORS]
    if rows.empty:
        return "no temperature sweep logged"
    alone = tables.rows_of(runs, "temperature", preset, "baseline")
    widths = tables.widths_of(rows)
    fig, axes = plt.subplots(1, len(widths), figsize=(3.2 * len(widths), 3.2), squeeze=False)
    for ax, hidden in zip(axes[0], widths):
        at_width = rows[rows.hidden == hidden].assign(T=lambda d: d.temperature.astype(float))
        stats = at_width.groupby("T").test_errors.agg(["mean", "std"]).reset_index()
        ax.errorbar(stats["T"], stats["mean"], yerr=stats["std"].fillna(0), marker="o", ms=3, capsize=2, lw=1)
        ax.scatter(at_width["T"], at_width.test_errors, s=6, color="black", zorder=3)
        alone_errors = alone[alone.hidden == hidden].test_errors
        if len(alone_errors):
            ax.axhline(alone_errors.mean(), color=ORANGE, ls="--", lw=1, label="student alone")
            ax.legend(fontsize=7)
        if hidden.startswith("30-"):
            ax.axvspan(2.5, 4, color="#dddddd", label="paper: best 2.5–4")
        ax.set(xscale="log", xlabel="temperature T", ylabel="test errors", title=f"student {hidden}")
        ax.set_xticks([1, 2, 4, 8, 20], ["1", "2", "4", "8", "20"])
    fig.suptitle("Temperature × student size (mean ± sd over seeds; dots: seeds)", fontsize=9)
    return fig


def plot_cifar(cifar: pd.DataFrame | None) -> plt.Figure | str:
    if cifar is None or cifar.empty:
        return "no CIFAR-10 rows"
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    labels, cells = [], tables.with_accuracy(cifar).groupby(["preset", "recipe", "model"], sort=False).accuracy
    for x, ((preset, recipe, model), values) in enumerate(cells):
        ax.bar(x, values.mean(), color=BLUE)
        ax.scatter([x] * len(values), values, color="black", s=10, zorder=3)
        labels.append(f"{preset}\n{recipe}\n{model}")
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set(ylabel="test accuracy (%)", title="CIFAR-10 tutorial example: per recipe and model")
    return fig


def plot_study(study: tuple[pd.DataFrame, pd.DataFrame] | None) -> plt.Figure | str:
    if study is None:
        return "no validation study logged"
    panels = tables.study_panels(*study)
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.8))
    for ax, (title, stage, rows) in zip(axes, panels):
        cells = tables.study_cells(rows, stage)
        # from the bottom up: the diverged cells, the others by falling mean, the start on top
        cells = cells.assign(after_start=cells.factor != "")
        cells = cells.sort_values(["after_start", "mean"], ascending=False, na_position="first")
        for y, cell in enumerate(cells.itertuples()):
            ax.scatter(cell.per_seed, [y] * len(cell.per_seed), color="black", s=10, zorder=3)  # nan: not drawn
            ax.plot([cell.mean] * 2, [y - 0.3, y + 0.3], color=BLUE, lw=2)
        start = cells["mean"][cells.factor == ""]
        if len(start):
            ax.axvline(start.iloc[0], color="#999999", ls=":", lw=1)
        labels = [change.replace(" (departs from §3)", "*") or "start" for change in cells.change]
        ax.set_yticks(range(len(cells)), labels, fontsize=7)
        ax.set_xlabel("validation errors (of 10,000)")
        ax.set_title(f"{title}\none change at a time (bar: mean; dots: seeds)", fontsize=8)
    return fig


def plot_few_data(runs: pd.DataFrame, epochs: pd.DataFrame | None, preset: str) -> plt.Figure | str:
    """§5: test (solid) and training (dashed) errors per epoch of the students on 3 % of the images."""
    rows = tables.rows_of(runs, "fewdata", preset)
    rows = rows[rows.get("data_share", pd.Series(dtype=str)) == "3%"] if len(rows) else rows
    if rows.empty or epochs is None or "train_errors" not in epochs:
        return "no run of --experiment fewdata logged"
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for (model, color), label in zip((("baseline", ORANGE), ("distilled", BLUE)), ("hard targets", "soft targets")):
        for i, run in enumerate(rows[rows.model == model].itertuples()):
            curve = epochs[epochs.run_id == run.run_id]
            ax.plot(curve.epoch, curve.test_errors, color=color, lw=1, label=f"{label}: test" if i == 0 else None)
            ax.plot(curve.epoch, curve.train_errors * 10_000 / run.train_size, color=color, lw=1, ls="--",
                    label=f"{label}: its {run.train_size} training images" if i == 0 else None)  # fmt: skip
    ax.set_yscale("symlog", linthresh=10)  # the hard student reaches 0 training errors
    ax.set(xlabel="epoch", ylabel="errors per 10,000 images", title="The student on 3 % of MNIST: no early stopping")
    ax.legend(fontsize=7)
    return fig


def plot_ensemble(runs: pd.DataFrame, preset: str) -> plt.Figure | str:
    """§4: per ensemble seed, the test errors of its ten members, of the ensemble and of the net distilled from it."""
    errors = tables.ensemble_errors(runs, preset)
    if errors["ensemble"].empty:
        return "no run of --experiment ensemble logged"
    fig, ax = plt.subplots(figsize=(4.8, 3.4))
    seeds = sorted(errors["ensemble"].index)
    for x, seed in enumerate(seeds):
        members = errors["baseline"].loc[[seed]]
        ax.scatter([x - 0.2] * len(members), members, color="grey", s=10, label="members" if x == 0 else None)
        ax.scatter(x, errors["ensemble"][seed], color=BLUE, marker="s", label="ensemble" if x == 0 else None)
        if seed in errors["distilled"]:
            ax.scatter(x + 0.2, errors["distilled"][seed], color=ORANGE, marker="D",
                       label="distilled from it" if x == 0 else None)  # fmt: skip
    ax.set_xticks(range(len(seeds)), [f"ensemble seed {s}" for s in seeds])
    ax.set(ylabel="MNIST test errors", title=f"§4 on MNIST: ten students alone, their ensemble, one net ({preset})")
    ax.legend(fontsize=7, loc="upper center")  # between the seeds, where no dot is
    return fig


def plot_logit_matching(runs: pd.DataFrame, preset: str) -> plt.Figure | str:
    """§2.1: how far each distilled student's logits are from the logit-matching student's, against T."""
    rows = tables.rows_of(runs, "logits", preset, "distilled")
    rows = rows[rows.get("soft_term") != "logit_matching_loss"] if len(rows) else rows
    if rows.empty or "logit_rms_to_matching" not in rows:
        return "no run of --experiment logits logged"
    fig, ax = plt.subplots(figsize=(4.8, 3.4))
    temperatures = rows.temperature.astype(float)
    ax.scatter(temperatures, rows.logit_rms_to_matching, color="black", s=12, zorder=3)
    means = rows.groupby(temperatures).logit_rms_to_matching.mean()
    ax.plot(means.index, means.values, color=BLUE, lw=1)
    ax.set(xscale="log", xlabel="temperature T", ylabel="RMS logit difference")
    ax.set_title("Distilled students against the logit-matching one\n(test images; dots: seeds)")
    return fig


def plot_limit() -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    plot_logit_matching_limit(ax, [1, 1.5, 2, 3, 5, 8, 12, 20, 30, 50, 80, 130, 200])
    return fig


def plot_teacher_soft_targets(data_dir: str | None, cache_dir: Path) -> plt.Figure | str:
    """The paper preset's seed-0 teacher on a few test digits, at T = 1 and T = 20 (needs MNIST and the cache)."""
    root = resolve_data_dir(data_dir)
    if not (root / "MNIST" / "raw").is_dir():
        return f"MNIST not found under {root} (set --data-dir or ${DATA_DIR_ENV})"
    try:
        data = load_mnist(root, torch.device("cpu"))
    except DataUnavailable as error:  # an illustration only: the tables and other figures are still made
        return str(error)
    stage = MNIST_PRESETS["paper"].teacher
    key, teacher = teacher_key(stage, 0, data.train), stage.build()
    if load_teacher(cache_dir / f"teacher-{key}.pt", key, teacher) is None:
        return f"no cached paper-preset teacher for seed 0 in {cache_dir}"
    first_of_each = [int((data.test.labels == digit).nonzero()[0]) for digit in (2, 3, 4, 7, 9)]
    images = data.test.images[first_of_each]
    return plot_dark_knowledge(images, predict_logits(teacher, images))


def replace_blocks(text: str, blocks: dict[str, str]) -> str:
    """``text`` with each generated block it has, between <!-- name:start --> and <!-- name:end -->, replaced."""
    for name, block in blocks.items():
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        if start in text:
            before, rest = text.split(start, 1)
            text = f"{before}{start}\n{block}{end}{rest.split(end, 1)[1]}"
    return text


def main(argv=None) -> int:
    parser = ScriptParser(__doc__, __file__)
    parser.add_argument("--results", default="results", help="folder with mnist/runs.csv (default: results)")
    parser.add_argument("--figures", default="figures", help="folder the PNGs go to (default: figures)")
    parser.add_argument("--preset", default="paper", help="which preset's runs to summarise (default: paper)")
    parser.add_argument("--readme", default="README.md", help="README whose headline block is refreshed")
    parser.add_argument("--reproduce", default="REPRODUCE.md", help="REPRODUCE.md whose MNIST block is refreshed")
    parser.add_argument("--data-dir", help=f"MNIST for the dark-knowledge figure (default: ${DATA_DIR_ENV} or ./data)")
    parser.add_argument("--cache-dir", default="results/mnist/cache", help="cached teachers (default: %(default)s)")
    args = parser.parse_args(argv)
    results, figures, preset = Path(args.results), Path(args.figures), args.preset
    # every input is read and every text composed before the first file is written: bad input changes nothing
    mnist = results / "mnist"
    runs = read_csv(mnist / "runs.csv", RUN_COLUMNS)
    if runs is None:
        fail(f"{mnist / 'runs.csv'} does not exist; run replicate/mnist.py first.")
    runs = tables.latest(runs)
    epochs = read_csv(mnist / "epochs.csv", ["run_id", "model", "epoch", "test_errors"])
    sweeps = read_csv(mnist / "offset_sweeps.csv", ["run_id", "seed", "offset", "test_errors"])
    cifar = read_csv(results / "cifar10" / "runs.csv", ["run_id", "model", "preset", "test_error_pct"])
    cifar = cifar if cifar is None else tables.latest(cifar)
    study = study_rows(results)
    tuning_columns = ["model", "seed", "val_errors", "device", "temperature", "hard_weight", "cfg_lr", "epochs"]
    ensemble_tuning = read_csv(mnist / "ensemble_tuning" / "distillation_tuning.csv", tuning_columns)
    # §4, §5 and §2.1: the preset asked for, or the quick preset where only it has run
    has_run = lambda experiment: len(tables.rows_of(runs, experiment, preset))
    shown_preset = {e: preset if has_run(e) else "quick" for e in ("ensemble", "fewdata", "logits")}
    summary = tables.preset_summary(runs, preset)
    transfer, temperature = tables.transfer_markdown(runs, preset), tables.temperature_markdown(runs, preset)
    study_table = "Validation study: not run.\n" if study is None else tables.study_markdown(*study)
    sections = [
        "# Results\n\nGenerated by `python replicate/figures.py` from the CSVs next to this file; do not edit.\n",
        f"## MNIST §3, headline\n\n{summary}",
        "## MNIST §3, the validation study behind the paper preset\n\n"
        f"{study_table}\n![validation study](../figures/validation_study.png)\n",
        f"## MNIST §3, transfer set without 3s (omit3) and with only 7s and 8s (only78), `{preset}` preset\n\n"
        f"{transfer}",
        f"## MNIST §3, temperature × student size, `{preset}` preset\n\n{temperature}",
        "## §4, Table 1 on MNIST: an ensemble distilled into one net\n\n"
        f"{tables.ensemble_markdown(runs, shown_preset['ensemble'])}\n"
        "![ensemble, members and the distilled net](../figures/mnist_ensemble.png)\n\n"
        "The distilled net's settings, chosen on validation (`replicate/tune.py --ensemble`):\n\n"
        f"{tables.ensemble_tuning_markdown(ensemble_tuning)}",
        "## §5, Table 5 on MNIST: soft targets from 3 % of the data\n\n"
        f"{tables.few_data_markdown(runs, shown_preset['fewdata'])}\n"
        "![learning curves on 3 % of the data](../figures/mnist_few_data.png)\n",
        "## §2.1 on MNIST: high-T distillation becomes logit matching\n\n"
        f"{tables.logit_matching_markdown(runs, shown_preset['logits'])}\n"
        "![distillation against logit matching](../figures/mnist_logit_matching.png)\n",
        f"## CIFAR-10: a distillation tutorial's CNN example\n\n{tables.cifar_markdown(cifar)}",
        "## Precision: fp32 against bf16 (validation split), and fp32 runs\n\n"
        f"{precision_markdown(results)}\n{fp32_markdown(results)}",
        f"## Speed: our loop against a DataLoader pipeline\n\n{benchmark_markdown(results)}",
    ]
    documents = {results / "SUMMARY.md": "\n".join(sections)}  # path -> new text
    reproduce, readme = Path(args.reproduce), Path(args.readme)
    if reproduce.exists():
        documents[reproduce] = replace_blocks(reproduce.read_text(), {
            "reproduce-mnist": summary,
            "reproduce-study": study_table,
            "reproduce-quick": tables.preset_summary(runs, "quick"),
            "reproduce-transfer": tables.transfer_markdown(runs, preset, brief=True),  # SUMMARY: every extra
            "reproduce-temperature": tables.temperature_markdown(runs, preset, with_verdict=False),
            "reproduce-other-claims": "\n".join([GLANCE_HEADER, *glance_other_claims(runs, shown_preset)]) + "\n",
            "reproduce-cifar10": tables.cifar_markdown(cifar),
            "reproduce-wall-times": wall_times_markdown(results),
        })  # fmt: skip
    if readme.exists() and "<!-- headline:start -->" in readme.read_text():
        documents[readme] = replace_blocks(readme.read_text(), {
            "headline": summary + "\n![headline](figures/mnist_headline.png)\n",
            "glance": glance_markdown(runs, cifar, preset, shown_preset),
        })  # fmt: skip
    require_writable(results, "--results")
    require_writable(figures, "--figures")

    plots = {
        "mnist_headline.png": plot_headline(runs, preset),
        "mnist_learning_curves.png": plot_learning_curves(runs, epochs, preset),
        "mnist_offsets.png": plot_offsets(runs, sweeps, preset),
        "mnist_temperature.png": plot_temperature(runs, preset),
        "cifar10.png": plot_cifar(cifar),
        "validation_study.png": plot_study(study),
        "mnist_ensemble.png": plot_ensemble(runs, shown_preset["ensemble"]),
        "mnist_few_data.png": plot_few_data(runs, epochs, shown_preset["fewdata"]),
        "mnist_logit_matching.png": plot_logit_matching(runs, shown_preset["logits"]),
        "logit_matching_limit.png": plot_limit(),
        "dark_knowledge.png": plot_teacher_soft_targets(args.data_dir, Path(args.cache_dir)),
    }
    for name, plot in plots.items():  # a figure, or why it was skipped
        if isinstance(plot, str):
            print(f"note: {name}: skipped, {plot}")
            continue
        plot.tight_layout()
        plot.savefig(figures / name, metadata={"Software": None})  # no version stamp, so reruns give the same bytes
        plt.close(plot)
    for path, text in documents.items():
        path.write_text(text)
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
