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
and refreshes the headline table in README.md (between its headline markers).
An experiment without rows is shown as "not run" and its figure is skipped with a note.
Running it twice on the same CSVs gives the same files.

    python replicate/figures.py
"""

import csv
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
import pandas as pd
import torch

from distill.cli import ScriptParser, fail, require_writable
from distill.data import DATA_DIR_ENV, DataUnavailable, load_mnist, resolve_data_dir
from distill.illustrations import plot_dark_knowledge, plot_logit_matching_limit
from distill.mnist import PUBLISHED_TEST_ERRORS
from distill.presets import MNIST_PRESETS
from distill.tables import (
    MODELS,
    cifar_markdown,
    headline,
    headline_rows,
    latest,
    mean_sd,
    preset_summary,
    study_cells,
    study_markdown,
    temperature_markdown,
    transfer_markdown,
    with_accuracy,
    with_precision,
)
from distill.teacher_cache import load_teacher, teacher_key
from distill.temperature_sweep import COLLAPSED_ERRORS, verdict
from distill.train import predict_logits
from distill.transfer_sets import TRANSFER_SET_EXPERIMENTS

LABELS = {
    "teacher": "teacher 1200-1200\n(dropout, jitter)",
    "baseline": "student 800-800\nalone",
    "distilled": "student 800-800\ndistilled, T=20",
}
plt.rcParams.update({"figure.dpi": 110})


def read_csv(path: Path, required: list[str]) -> pd.DataFrame:
    """A results CSV with the columns this script needs; otherwise one sentence naming the file and the
    first bad line or column.

    append_rows writes every field of every row, so a line with a different number of
    fields than the header is a truncated or garbled row; pandas would pad a short one
    with NaN, and a non-numeric value would turn its column into text.
    """
    with open(path, newline="") as f:
        reader = csv.reader(f, strict=True)  # strict: an unclosed quote is an error, not the rest of the file
        try:
            header = next(reader, None)
            lines = []  # the file's line number of each data row, for the messages below
            for fields in reader:
                if not fields:
                    continue  # a blank line, which pandas skips too
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
        if column.endswith(("errors", "seed", "epoch", "minutes", "offset", "pct", "seconds", "speedup", "bound")):
            text = table[column]
            garbage = pd.to_numeric(text, errors="coerce").isna() & text.notna()  # empty cells are allowed
            if garbage.any():
                row = garbage.to_numpy().argmax()  # the first one
                fail(f"{path}, line {lines[row]}: column '{column}' holds {text.iloc[row]!r}, not a number.")
    return table


def study_rows(results: Path) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The validation study's teachers and students (results/mnist/study), or None if it has not run."""
    folder = results / "mnist" / "study"
    if not (folder / "distillation_tuning.csv").exists():
        return None
    rows = read_csv(folder / "distillation_tuning.csv", ["model", "seed", "val_errors"])
    teachers = rows[rows.model == "teacher"]
    if (folder / "teacher_tuning.csv").exists():
        teachers = pd.concat([teachers, read_csv(folder / "teacher_tuning.csv", ["model", "seed", "val_errors"])])
    return teachers, rows[rows.model != "teacher"]


def plot_study(study: tuple[pd.DataFrame, pd.DataFrame] | None, path: Path) -> str:
    if study is None:
        return f"{path.name}: skipped, no validation study logged"
    cells = [study_cells(rows, stage).assign(stage=stage) for stage, rows in zip(("teacher", "students"), study)]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [1, 1.3]})
    for ax, stage_cells in zip(axes, cells):
        stage_cells = stage_cells.iloc[::-1]  # the start on top
        for y, cell in enumerate(stage_cells.itertuples()):
            errors = [float(e) for e in cell.per_seed.split(", ")]
            ax.scatter(errors, [y] * len(errors), color="black", s=10, zorder=3)
            ax.plot([cell.mean] * 2, [y - 0.3, y + 0.3], color="#3b75af", lw=2)
        start = stage_cells["mean"][stage_cells.change == ""]
        if len(start):
            ax.axvline(start.iloc[0], color="#999999", ls=":", lw=1)
        labels = [c.replace(" (departs from §3)", "*") or "start" for c in stage_cells.change]
        ax.set_yticks(range(len(stage_cells)), labels, fontsize=7)
        ax.set_xlabel("validation errors (of 10,000)")
        ax.set_title(f"{stage_cells.stage.iloc[0]}: one change at a time (bar: mean; dots: seeds)", fontsize=8)
    save(fig, path)
    return ""


def precision_markdown(results: Path) -> str:
    """fp32 against bf16 on the validation split: the same configuration, seed and initial weights in both.

    Teachers: every (preset, lr, seed) trained in both precisions. Students: every distilled
    configuration trained in both precisions from the same teacher. The verdict compares the mean
    paired difference with two standard errors of it.
    """
    parts = []
    for name, model, key in (
        ("teacher_tuning", "teacher", ["preset", "cfg_lr", "epochs"]),
        ("distillation_tuning", "distilled", ["preset", "cfg_lr", "epochs", "temperature", "hard_weight"]),
    ):
        path = results / "mnist" / "tuning" / f"{name}.csv"
        if not path.exists():
            continue
        rows = with_precision(read_csv(path, ["model", "epochs", "cfg_lr", "val_errors", "seed"]))
        rows = rows[rows.model == model].drop_duplicates([*key, "seed", "precision"], keep="last")
        for settings, group in rows.groupby(key, sort=False):
            paired = group.pivot_table(index="seed", columns="precision", values="val_errors").dropna()
            if not {"fp32", "bf16"} <= set(paired.columns) or len(paired) < 2:
                continue
            kl = group.set_index(["seed", "precision"])
            described = ", ".join(f"{k.removeprefix('cfg_')} {v}" for k, v in zip(key, settings))
            lines = [f"{model} ({described}), validation errors:\n"]
            header = "| seed | fp32 | bf16 | bf16 − fp32 |"
            has_kl = "transfer_kl" in kl and kl.transfer_kl.notna().any()
            if has_kl:
                header += " KL fp32 (transfer / val) | KL bf16 (transfer / val) |"
            lines += [header, "|---:|---:|---:|---:|" + ("---|---|" if has_kl else "")]
            for seed, r in paired.iterrows():
                line = f"| {seed} | {r.fp32:.0f} | {r.bf16:.0f} | {r.bf16 - r.fp32:+.0f} |"
                if has_kl:
                    line += "".join(
                        f" {kl.transfer_kl[(seed, p)]:.2g} / {kl.val_kl[(seed, p)]:.2g} |" for p in ("fp32", "bf16")
                    )
                lines.append(line)
            difference = paired.bf16 - paired.fp32
            margin = 2 * difference.std() / len(difference) ** 0.5
            lines.append(f"| mean | {paired.fp32.mean():.1f} | {paired.bf16.mean():.1f} | {difference.mean():+.1f} |")
            within = abs(difference.mean()) <= margin
            lines.append(
                f"\nbf16 − fp32: {difference.mean():+.1f} errors on average over {len(difference)} seeds, two "
                f"standard errors {margin:.1f}: {'within noise' if within else 'a difference beyond noise'}.\n"
            )
            parts.append("\n".join(lines))
    return "\n".join(parts) or "Not run yet: `python replicate/tune.py --precision fp32 bf16 …`.\n"


def fp32_markdown(results: Path) -> str:
    """The runs in results/mnist/fp32/ (--precision fp32), one table per preset."""
    path = results / "mnist" / "fp32" / "runs.csv"
    if not path.exists():
        return "Not run yet.\n"
    runs = latest(read_csv(path, ["run_id", "experiment", "model", "preset", "eval_split", "test_errors", "seed"]))
    return "\n".join(preset_summary(runs, preset) for preset in runs.preset.unique())


def shown(command: str) -> str:
    """A logged command as the reader should type it: the data folder of the machine that ran it, which
    changes no result, becomes DATA (whatever folder --data-dir names on the reader's machine)."""
    return re.sub(r"--data-dir \S+", "--data-dir DATA", command)


def test_suite_markdown(results: Path) -> str:
    """Every timed run of the README's test command (replicate/benchmark.py --test-suite)."""
    path = results / "benchmark" / "test_suite.csv"
    if not path.exists():
        return "Test suite: not timed yet.\n"
    runs = read_csv(path, ["command", "precision", "summary", "wall_minutes", "device", "git_commit"])
    lines = [
        "| test command | precision | MNIST | outcome | wall time (min) | device | commit |",
        "|---|---|---|---|---:|---|---|",
    ]
    lines += [
        f"| `{shown(r.command)}` | {r.precision} | {r.data} | {r.summary} | {r.wall_minutes:.1f} | {r.device} "
        f"| {r.git_commit} |"
        for r in runs.itertuples()
    ]
    return "\n".join(lines) + "\n"


def wall_times_markdown(results: Path) -> str:
    """Every logged invocation of the replicate/ scripts: command, device, commit, wall time."""
    lines = ["| command | device | commit | wall time (min) |", "|---|---|---|---:|"]
    for path in sorted(results.glob("*/wall_times.csv")) + sorted(results.glob("*/*/wall_times.csv")):
        table = read_csv(path, ["command", "wall_minutes", "device", "git_commit"])
        for r in table.itertuples():
            lines.append(f"| `{shown(r.command)}` | {r.device} | {r.git_commit[:7]} | {r.wall_minutes:.1f} |")
    return "\n".join(lines) + "\n"


def benchmark_markdown(results: Path) -> str:
    """The latest replicate/benchmark.py run: epoch times of both pipelines against the GEMM bound, and the
    teacher's test errors after a short run in fp32 and in bf16. Earlier runs stay in benchmark.csv."""
    path = results / "benchmark" / "benchmark.csv"
    if not path.exists():
        return "Not run yet: `python replicate/benchmark.py --bf16`.\n"
    columns = ["benchmark_id", "model", "precision", "pipeline", "epoch_seconds", "speedup", "gemm_bound_seconds"]
    provenance = ["device", "command", "git_commit", "torch_version", "finished_at"]
    timings = read_csv(path, [*columns, "times_gemm_bound", *provenance])
    accuracy_csv = path.with_name("bf16_accuracy.csv")
    accuracy = read_csv(accuracy_csv, ["benchmark_id", "precision", "seed", "epochs", "test_errors"]) if (
        accuracy_csv.exists()) else None  # fmt: skip
    parts = []
    for device, rows in timings[timings.benchmark_id == timings.benchmark_id.iloc[-1]].groupby("device"):
        first = rows.iloc[0]
        parts += [
            f"`{shown(first.command)}` on {device} (torch {first.torch_version}, commit {first.git_commit}, "
            f"{first.finished_at}). *Ceiling*: (GEMM bound + best DataLoader − ours) / GEMM bound, an estimate of "
            "the speed-up our loop would have if the model step both pipelines share cost only its GEMMs.\n",
            "| model | precision | pipeline | s / epoch | × best DataLoader | GEMM bound (s) | × bound | ceiling |",
            "|---|---|---|---:|---:|---:|---:|---:|",
        ]
        ceiling = rows.get("shared_step_ceiling", pd.Series(index=rows.index, dtype=float))  # older runs lack it
        parts += [
            f"| {r.model} | {r.precision} | {r.pipeline} | {r.epoch_seconds:.2f} | {r.speedup:.2f}× | "
            f"{r.gemm_bound_seconds:.2f} | {r.times_gemm_bound:.2f}× | "
            f"{'—' if pd.isna(ceiling[r.Index]) else f'{ceiling[r.Index]:.2f}×'} |"
            for r in rows.itertuples()
        ]
        short_runs = None if accuracy is None else accuracy[accuracy.benchmark_id == first.benchmark_id]
        if short_runs is not None and not short_runs.empty:
            errors = short_runs.pivot_table(index="seed", columns="precision", values="test_errors")
            errors = errors.reindex(columns=["fp32", "bf16"])  # NaN where one precision is missing
            parts += [
                f"\nTeacher test errors after {short_runs.epochs.iloc[0]} epochs of its paper recipe, same seeds in "
                "both precisions:\n",
                "| seed | fp32 | bf16 | bf16 − fp32 |",
                "|---:|---:|---:|---:|",
                *(
                    f"| {seed} | {r.fp32:.0f} | {r.bf16:.0f} | {r.bf16 - r.fp32:+.0f} |"
                    for seed, r in errors.iterrows()
                ),
                f"| mean | {errors.fp32.mean():.1f} | {errors.bf16.mean():.1f} | "
                f"{errors.bf16.mean() - errors.fp32.mean():+.1f} |",
            ]
        parts.append("")
    return "\n".join(parts)


def glance_markdown(runs: pd.DataFrame, cifar: pd.DataFrame | None, preset: str) -> str:
    """The other results in one short table for the README: published next to measured."""
    lines = ["| result | published | measured (mean ± sd, n seeds) |", "|---|---|---|"]
    for name, experiment in TRANSFER_SET_EXPERIMENTS.items():
        rows = runs[(runs.experiment == name) & (runs.preset == preset) & (runs.model == "distilled")]
        error, unit, published = experiment.error_column, experiment.unit, experiment.published
        if rows.empty:
            lines.append(f"| {name}: {unit} | {published[error]} | not run |")
            continue
        offsets = {c: mean_sd(rows[f"{c}_offset"].astype(float)).split(" (")[0] for c in ("test_optimal", "prior")}
        lines += [
            f"| {name}: {unit}, no bias offset | {published[error]} | {mean_sd(rows[error].astype(float))} |",
            f"| {name}: {unit}, offset chosen on test | {published[f'offset_{error}']} (offset "
            f"{experiment.published_offset:+g}) | {mean_sd(rows[f'test_optimal_{error}'].astype(float))} "
            f"(offset {offsets['test_optimal']}) |",
            f"| {name}: {unit}, offset chosen without test data | — | "
            f"{mean_sd(rows[f'prior_{error}'].astype(float))} (offset {offsets['prior']}) |",
        ]
    sweep = runs[(runs.experiment == "temperature") & (runs.preset == preset)]
    claims = verdict(sweep.to_dict("records")) if len(sweep) else ["not run"]
    # the glance keeps each width's best T and whether the claim held; SUMMARY.md has the reasons
    short = [
        f"{claim.split(' (')[0]}, claim {'holds' if 'HOLDS' in claim else 'does not hold'}"
        for claim in claims
        if " best T = " in claim
    ] or claims
    lines.append(f"| temperature × size | 30 units: T 2.5–4 best; ≥ 300: all T above 8 similar | {'; '.join(short)} |")
    measured = "not run on real CIFAR-10 yet (see REPRODUCE.md)" if cifar is None or cifar.empty else "see SUMMARY"
    lines.append(f"| CIFAR-10 tutorial example | no accuracy given | {measured} |")
    return "\n".join(lines) + "\n"


def plot_offsets(runs: pd.DataFrame, sweeps: pd.DataFrame | None, preset: str, path: Path) -> str:
    """Test errors vs offset for omit3 and only78, the published and the chosen offsets marked."""
    if sweeps is None or sweeps.empty:
        return f"{path.name}: skipped, no offset sweeps logged"
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, (name, experiment) in zip(axes, TRANSFER_SET_EXPERIMENTS.items()):
        rows = runs[(runs.experiment == name) & (runs.preset == preset) & (runs.model == "distilled")]
        curves = sweeps[sweeps.run_id.isin(rows.run_id)]
        for i, (_, curve) in enumerate(curves.groupby("seed")):
            ax.plot(curve.offset, curve.test_errors, color="#3b75af", lw=1, label="seeds" if i == 0 else None)
        ax.axvline(
            experiment.published_offset, color="#444444", ls=":", label=f"published {experiment.published_offset:+g}"
        )
        for column, color, label in (("test_optimal_offset", "#d1603d", "chosen on test"),
                                     ("prior_offset", "#2a9d5c", "prior matching (no test data)")):  # fmt: skip
            for j, offset in enumerate(rows[column].astype(float)):
                ax.axvline(offset, color=color, lw=0.8, label=label if j == 0 else None)
        classes = " and ".join(map(str, experiment.offset_classes))
        ax.set_xlabel(f"offset added to the output bias of {classes}")
        ax.set_ylabel("test errors (log scale)")
        ax.set_yscale("log")
        ax.set_title(f"{name}: transfer set of digits {''.join(map(str, experiment.kept_classes))}", fontsize=9)
        ax.legend(fontsize=7, frameon=False)
    save(fig, path)
    return ""


def plot_temperature(runs: pd.DataFrame, preset: str, path: Path) -> str:
    rows = runs[(runs.experiment == "temperature") & (runs.preset == preset) & (runs.model == "distilled")]
    rows = rows[rows.test_errors < COLLAPSED_ERRORS]
    if rows.empty:
        return f"{path.name}: skipped, no temperature sweep logged"
    widths = sorted(rows.hidden.unique(), key=lambda h: int(h.split("-")[0]))
    fig, axes = plt.subplots(1, len(widths), figsize=(3.2 * len(widths), 3.2))
    for ax, hidden in zip(list(axes) if len(widths) > 1 else [axes], widths):
        at_width = rows[rows.hidden == hidden].assign(T=lambda d: d.temperature.astype(float))
        stats = at_width.groupby("T").test_errors.agg(["mean", "std"]).reset_index()
        ax.errorbar(stats["T"], stats["mean"], yerr=stats["std"].fillna(0), marker="o", ms=3, capsize=2, lw=1)
        ax.scatter(at_width["T"], at_width.test_errors, s=6, color="black", zorder=3)
        alone = runs[(runs.experiment == "temperature") & (runs.preset == preset) & (runs.model == "baseline")]
        alone = alone[alone.hidden == hidden].test_errors
        if len(alone):
            ax.axhline(alone.mean(), color="#d1603d", ls="--", lw=1, label="student alone")
            ax.legend(fontsize=7, frameon=False)
        if hidden.startswith("30-"):
            ax.axvspan(2.5, 4, color="#dddddd", label="paper: best 2.5–4")
        ax.set_xscale("log")
        ax.set_xticks([1, 2, 4, 8, 20], ["1", "2", "4", "8", "20"])
        ax.set_xlabel("temperature T")
        ax.set_ylabel("test errors")
        ax.set_title(f"student {hidden}", fontsize=9)
    fig.suptitle("Temperature × student size (mean ± sd over seeds; dots: seeds)", fontsize=9)
    save(fig, path)
    return ""


def plot_cifar(cifar: pd.DataFrame | None, path: Path) -> str:
    if cifar is None or cifar.empty:
        return f"{path.name}: skipped, no CIFAR-10 rows"
    cifar = with_accuracy(cifar)
    groups = cifar.groupby(["preset", "recipe", "model"], sort=False).accuracy
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    labels = []
    for x, ((preset, recipe, model), values) in enumerate(groups):
        ax.bar(x, values.mean(), color="#3b75af")
        ax.scatter([x] * len(values), values, color="black", s=10, zorder=3)
        labels.append(f"{preset}\n{recipe}\n{model}")
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("CIFAR-10 tutorial example: per recipe and model", fontsize=9)
    save(fig, path)
    return ""


def plot_limit(path: Path) -> str:
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    plot_logit_matching_limit(ax, [1, 1.5, 2, 3, 5, 8, 12, 20, 30, 50, 80, 130, 200])
    save(fig, path)
    return ""


DARK_KNOWLEDGE_DIGITS = (2, 3, 4, 7, 9)  # the first test image of each


def plot_teacher_soft_targets(data_dir: str | None, cache_dir: Path, path: Path) -> str:
    """The paper preset's seed-0 teacher on a few test digits, at T = 1 and T = 20 (needs MNIST and the cache)."""
    root = resolve_data_dir(data_dir)
    if not (root / "MNIST" / "raw").is_dir():
        return f"{path.name}: skipped, MNIST not found under {root} (set --data-dir or ${DATA_DIR_ENV})"
    try:
        data = load_mnist(root, torch.device("cpu"))
    except DataUnavailable as error:  # an illustration only: the tables and other figures are still made
        return f"{path.name}: skipped, {error}"
    stage = MNIST_PRESETS["paper"].teacher
    key = teacher_key(stage, 0, data.train)
    teacher = stage.build()
    if load_teacher(cache_dir / f"teacher-{key}.pt", key, teacher) is None:
        return f"{path.name}: skipped, no cached paper-preset teacher for seed 0 in {cache_dir}"
    index = [int((data.test.labels == digit).nonzero()[0]) for digit in DARK_KNOWLEDGE_DIGITS]
    images = data.test.images[index]
    save(plot_dark_knowledge(images, predict_logits(teacher, images)), path)
    return ""


def plot_headline(runs: pd.DataFrame, table: pd.DataFrame, preset: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    main = headline_rows(runs, preset)
    for x, line in enumerate(table.itertuples()):
        errors = main[main.model == line.model].test_errors
        ax.bar(x - 0.2, line.published, width=0.4, color="#bbbbbb", label="published" if x == 0 else None)
        ax.bar(x + 0.2, line.mean, width=0.4, color="#3b75af", label="measured (mean)" if x == 0 else None)
        ax.scatter([x + 0.2] * len(errors), errors, color="black", s=12, zorder=3, label="seeds" if x == 0 else None)
        ax.text(x - 0.2, line.published + 2, str(line.published), ha="center", va="bottom", fontsize=8)
        if line.n:  # above the highest seed, so that the dots never cover it
            top = max(line.mean, errors.max())
            ax.text(x + 0.2, top + 3, f"{line.mean:.0f}", ha="center", va="bottom", fontsize=8)
    highest = max(table.published.max(), main.test_errors.max() if len(main) else 0)
    ax.set_ylim(0, highest * 1.15)  # room above the tallest label and for the legend
    ax.set_xticks(range(len(table)), [LABELS[m] for m in table.model], fontsize=8)
    ax.set_ylabel("test errors (of 10,000)")
    ax.set_title(f"MNIST, §3 of Hinton et al. (2015): published vs measured ({preset} preset)", fontsize=9)
    ax.legend(fontsize=8, frameon=False, loc="upper right")  # above the distilled student's short bars
    save(fig, path)


def plot_learning_curves(runs: pd.DataFrame, epochs: pd.DataFrame | None, preset: str, path: Path) -> str:
    if epochs is None:
        return f"{path.name}: skipped, no epochs.csv"
    main = headline_rows(runs, preset)
    curves = epochs[epochs.run_id.isin(main.run_id)]
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for model, color in zip(MODELS, ("#444444", "#d1603d", "#3b75af")):
        for i, (_, run) in enumerate(curves[curves.model == model].groupby("run_id", sort=True)):
            ax.plot(run.epoch, run.test_errors, color=color, lw=1, alpha=0.8, label=model if i == 0 else None)
        ax.axhline(PUBLISHED_TEST_ERRORS[model], color=color, ls=":", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("test errors (log scale)")
    ax.set_title("Learning curves; dotted: published final errors", fontsize=9)
    ax.legend(fontsize=8, frameon=False)
    save(fig, path)
    return ""


def save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})  # no version stamp, so reruns give the same bytes
    plt.close(fig)


def replace_block(text: str, block: str, name: str) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    return f"{before}{start}\n{block}{end}{after}"


def main(argv=None) -> int:
    parser = ScriptParser(__doc__)
    parser.add_argument("--results", default="results", help="folder with mnist/runs.csv (default: results)")
    parser.add_argument("--figures", default="figures", help="folder the PNGs go to (default: figures)")
    parser.add_argument("--preset", default="paper", help="which preset's runs to summarise (default: paper)")
    parser.add_argument("--readme", default="README.md", help="README whose headline block is refreshed")
    parser.add_argument("--reproduce", default="REPRODUCE.md", help="REPRODUCE.md whose MNIST block is refreshed")
    parser.add_argument(
        "--data-dir", default=None, help=f"MNIST for the dark-knowledge figure (default: ${DATA_DIR_ENV} or ./data)"
    )
    parser.add_argument(
        "--cache-dir", default="results/mnist/cache", help="cached teachers (default: results/mnist/cache)"
    )
    args = parser.parse_args(argv)
    results, figures = Path(args.results), Path(args.figures)
    # every input is read and every text composed before the first file is written: bad input changes nothing
    runs_csv = results / "mnist" / "runs.csv"
    if not runs_csv.exists():
        fail(f"{runs_csv} does not exist; run replicate/mnist.py first.")
    runs = latest(read_csv(runs_csv, ["run_id", "experiment", "model", "preset", "eval_split", "test_errors", "seed"]))
    epochs_csv = results / "mnist" / "epochs.csv"
    epochs = read_csv(epochs_csv, ["run_id", "model", "epoch", "test_errors"]) if epochs_csv.exists() else None
    sweeps_csv = results / "mnist" / "offset_sweeps.csv"
    sweeps = read_csv(sweeps_csv, ["run_id", "seed", "offset", "test_errors"]) if sweeps_csv.exists() else None
    cifar_csv = results / "cifar10" / "runs.csv"
    cifar = latest(read_csv(cifar_csv, ["run_id", "model", "preset", "test_error_pct"])) if cifar_csv.exists() else None
    table = headline(runs, args.preset)
    summary = preset_summary(runs, args.preset)
    study = study_rows(results)
    study_table = "Validation study: not run.\n" if study is None else study_markdown(*study)
    sections = [
        "# Results\n\nGenerated by `python replicate/figures.py` from the CSVs next to this file; do not edit.\n",
        f"## MNIST §3, headline\n\n{summary}",
        "## MNIST §3, the validation study behind the paper preset\n\n"
        f"{study_table}\n![validation study](../figures/validation_study.png)\n",
        f"## MNIST §3, transfer set without 3s (omit3) and with only 7s and 8s (only78), `{args.preset}` preset\n\n"
        f"{transfer_markdown(runs, args.preset)}",
        f"## MNIST §3, temperature × student size, `{args.preset}` preset\n\n{temperature_markdown(runs, args.preset)}",
        f"## CIFAR-10: a distillation tutorial's CNN example\n\n{cifar_markdown(cifar)}",
    ]
    documents = {results / "SUMMARY.md": "\n".join(sections)}  # path -> new text
    reproduce = Path(args.reproduce)
    if reproduce.exists():
        blocks = {
            "reproduce-mnist": summary,
            "reproduce-study": study_table,
            "reproduce-quick": preset_summary(runs, "quick"),
            "reproduce-precision": precision_markdown(results),
            "reproduce-fp32": fp32_markdown(results) + "\n" + test_suite_markdown(results),
            "reproduce-transfer": transfer_markdown(runs, args.preset),
            "reproduce-temperature": temperature_markdown(runs, args.preset),
            "reproduce-cifar10": cifar_markdown(cifar),
            "reproduce-wall-times": wall_times_markdown(results),
            "reproduce-benchmark": benchmark_markdown(results),
        }
        text = reproduce.read_text()
        for name, block in blocks.items():
            if f"<!-- {name}:start -->" in text:
                text = replace_block(text, block, name)
        documents[reproduce] = text
    readme = Path(args.readme)
    if readme.exists() and "<!-- headline:start -->" in readme.read_text():
        text = replace_block(readme.read_text(), summary + "\n![headline](figures/mnist_headline.png)\n", "headline")
        if "<!-- glance:start -->" in text:
            text = replace_block(text, glance_markdown(runs, cifar, args.preset), "glance")
        documents[readme] = text
    require_writable(results, "--results")
    require_writable(figures, "--figures")

    plot_headline(runs, table, args.preset, figures / "mnist_headline.png")
    notes = [
        plot_learning_curves(runs, epochs, args.preset, figures / "mnist_learning_curves.png"),
        plot_offsets(runs, sweeps, args.preset, figures / "mnist_offsets.png"),
        plot_temperature(runs, args.preset, figures / "mnist_temperature.png"),
        plot_cifar(cifar, figures / "cifar10.png"),
        plot_study(study, figures / "validation_study.png"),
        plot_limit(figures / "logit_matching_limit.png"),
        plot_teacher_soft_targets(args.data_dir, Path(args.cache_dir), figures / "dark_knowledge.png"),
    ]
    for note in filter(None, notes):
        print(f"note: {note}")
    for path, text in documents.items():
        path.write_text(text)
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
