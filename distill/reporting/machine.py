"""The machine's side of the results: fp32 against bf16, the fp32 runs, the test suite's and every script's wall
time, and our training loop's speed against a DataLoader pipeline (replicate/benchmark.py)."""

import re
from pathlib import Path

import pandas as pd

from distill.reporting.tables import RUN_COLUMNS, Results, latest, read_csv, strip_simd, with_precision


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
        rows = with_precision(rows[rows.model == model])
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


def fp32_markdown(results: Path, summary) -> str:
    """The runs in results/mnist/fp32/ (--precision fp32), one table per preset, and every timed run of the
    README's test command (replicate/benchmark.py --test-suite)."""
    runs, fp32 = read_csv(results / "mnist" / "fp32" / "runs.csv", RUN_COLUMNS), "Not run yet.\n"
    if runs is not None:
        fp32 = "\n".join(summary(Results(latest(runs)), preset) for preset in runs.preset.unique())
    required = ["command", "precision", "summary", "wall_minutes", "device", "git_commit"]
    timed = read_csv(results / "benchmark" / "test_suite.csv", required)
    if timed is None:
        return f"{fp32}\nTest suite: not timed yet.\n"
    devices = "; ".join(sorted(set(timed.device)))
    lines = [f"{fp32}\nREADME's test command (`benchmark.py --test-suite`) on {devices}:\n"]
    lines += [
        "| precision | OpenMP wait policy | MNIST | outcome | wall time (min) | commit |",
        "|---|---|---|---|---:|---|",
    ]
    policy = timed.get("wait_policy", pd.Series(index=timed.index, dtype=object)).fillna("not logged")
    for r, waited in zip(timed.itertuples(), policy):
        lines.append(f"| {r.precision} | {waited} | {r.data} | {r.summary} | {r.wall_minutes:.1f} | {r.git_commit} |")
    return "\n".join(lines) + "\n"


def wall_times_markdown(walls: pd.DataFrame) -> str:
    """Every logged invocation (``wall_times``): command, device and precision (where the row logged it), time."""
    lines = ["| `python replicate/…` | device | wall time (min) |", "|---|---|---:|"]
    precision = walls.get("precision", pd.Series(index=walls.index, dtype=object))
    for r, p in zip(walls.itertuples(), precision):
        device = strip_simd(r.device if pd.isna(p) else f"{r.device}, {p}")
        command = shown(r.command).removeprefix("python replicate/")  # the header says it once
        lines.append(f"| `{command}` | {device} | {r.wall_minutes:.1f} |")  # commit: in the CSV
    return "\n".join(lines) + "\n"


def threads_markdown(results: Path) -> str:
    """A teacher epoch under each thread policy, idle and beside a busy process (replicate/threads.py)."""
    rows = read_csv(results / "benchmark" / "threads.csv", ["policy", "load", "epoch_seconds", "times_idle", "device"])
    if rows is None:
        return "Not measured yet: `python replicate/threads.py`.\n"
    rows = rows[rows.finished_at == rows.finished_at.iloc[-1]] if "finished_at" in rows else rows  # the latest run
    lines = [f"A teacher epoch (600 steps, fp32) on {'; '.join(sorted(set(rows.device)))}:\n"]
    lines += ["| threads and wait policy | load | s / epoch | × idle |", "|---|---|---:|---:|"]
    lines += [f"| {r.policy} | {r.load} | {r.epoch_seconds:.1f} | {r.times_idle:.2f}× |" for r in rows.itertuples()]
    idle, loaded = rows[rows.load == "idle"], rows[rows.load != "idle"]
    fastest, steadiest = idle.loc[idle.epoch_seconds.idxmin()], loaded.loc[loaded.times_idle.idxmin()]
    return "\n".join(lines) + (
        f"\n\nFastest when idle: {fastest.policy}; least slowed beside a busy process: {steadiest.policy} "
        f"({steadiest.times_idle:.2f}× its idle time). One timed run per cell.\n"
    )


def wall_times(results: Path) -> pd.DataFrame:
    """Every logged command of the committed results (the superseded ones aside), with its wall time and device."""
    paths = sorted(results.glob("*/wall_times.csv")) + sorted(results.glob("*/*/wall_times.csv"))
    columns = ["command", "wall_minutes", "device", "git_commit"]
    tables = [read_csv(p, columns) for p in paths if p.parent.name != "superseded"]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=columns)


PATTERNS = {  # the commands that ran an experiment alone; `all` runs count in the total only
    "main": r"mnist\.py(?!.*--experiment)(?!.*--preset (?:quick|smoke))(?!.*fp32)",
    "quick": r"mnist\.py --preset quick(?!.*--experiment)(?!.*fp32)",
    "cifar10": r"cifar10\.py",
}


def machines(walls: pd.DataFrame) -> str:
    """E.g. "AMD EPYC, 2 threads, bf16; cpu (x86_64, 2 threads), precision not logged": where and in which number
    format the commands ran."""
    precision = walls.get("precision", pd.Series(index=walls.index, dtype=object)).fillna("precision not logged")
    return "; ".join(sorted({f"{strip_simd(d)}, {p}" for d, p in zip(walls.device, precision)}))


def time_of(walls: pd.DataFrame, experiment: str) -> str:
    """E.g. "Wall time: 63.9 min over 2 commands (AMD EPYC, 2 threads)." for the commands of ``walls``
    (``wall_times``) that ran ``experiment``."""
    default = rf"^(?!.*--preset (?:quick|smoke)).*--experiment {experiment}(?: |$)"  # the paper preset's
    picked = walls[walls.command.str.contains(PATTERNS.get(experiment, default))]
    if picked.empty:
        return "Wall time: not logged.\n\n"
    commands = f"{len(picked)} command{'s' * (len(picked) > 1)}"
    return f"Wall time: {picked.wall_minutes.sum():.1f} min over {commands} ({machines(picked)}).\n\n"


def total_time(walls: pd.DataFrame) -> str:
    """The wall time of every logged command (``wall_times``), summed, and the machines they ran on."""
    return f"{walls.wall_minutes.sum() / 60:.1f} hours of wall time over {len(walls)} commands, on {machines(walls)}.\n"


def without_command(results: Path) -> str:
    """The rows of <results>/mnist/runs.csv that record no command, one line each."""
    runs = read_csv(results / "mnist" / "runs.csv", RUN_COLUMNS)
    if runs is None or "command" not in runs:
        return "- none\n"
    missing = runs[runs.command.isna()].itertuples()
    lines = [
        f"- {r.experiment}, {r.model}, seed {r.seed}, `{r.preset}`: commit {r.git_commit}, {r.finished_at}"
        for r in missing
    ]
    return "\n".join(lines or ["- none"]) + "\n"


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
        ceiling = rows.get(
            "shared_step_ceiling", pd.Series(index=rows.index, dtype=float)
        )  # absent from the first runs
        parts += [
            f"`{shown(first.command)}` on {device} (torch {first.torch_version}, commit {first.git_commit}, "
            f"{first.finished_at}). *GEMM bound*: the time the epoch's matrix multiplies (GEMMs) alone take at the "
            "same shapes and precision. *Ceiling*: (GEMM bound + best DataLoader − ours) / GEMM bound, an estimate of "
            "the speed-up our loop would have if the model step both pipelines share cost only its GEMMs.\n",
            "| model | precision | pipeline | s / epoch | × best DataLoader | GEMM bound (s) | × bound | ceiling |",
            "|---|---|---|---:|---:|---:|---:|---:|",
            *(
                f"| {r.model} | {r.precision} | {r.pipeline} | {r.epoch_seconds:.2f} | {r.speedup:.2f}× | "
                f"{r.gemm_bound_seconds:.2f} | {r.times_gemm_bound:.2f}× | "
                f"{'—' if pd.isna(ceiling[r.Index]) else f'{ceiling[r.Index]:.2f}×'} |"
                for r in rows.itertuples()
            ),
        ]
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
