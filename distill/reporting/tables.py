"""The logged rows as tables: reading and checking a results folder, selecting rows, writing numbers.

Every experiment builds its tables from these (distill/experiments/); they return markdown, which reads well in a
terminal too.
"""

import csv
import functools
import io
import math
import re
from dataclasses import MISSING, dataclass, fields
from pathlib import Path

import pandas as pd
import torch

from distill.core.train import TrainConfig
from distill.lab.results import REPO_ROOT

# what makes two rows the same run (a rerun replaces the earlier row in the tables; the CSV keeps both): these and
# every cfg_* column, i.e. all the settings a row logs
IDENTITY = (
    "experiment model hidden input_dropout hidden_dropout temperature hard_weight soft_weight soft_term data_share "
    "recipe member seed preset eval_split train_size epochs precision"
).split()
RUN_COLUMNS = ["run_id", "experiment", "model", "preset", "eval_split", "test_errors", "seed"]  # of every runs.csv
NUMERIC_SUFFIXES = ("errors", "seed", "epoch", "minutes", "offset", "pct", "seconds", "speedup", "bound")


class BadResults(ValueError):
    """A results file that cannot be read as logged; the message names the file and the line."""


@dataclass
class Results:
    """A results folder's MNIST rows (``runs``: the latest row of each configuration), learning curves and offset
    sweeps, and its CIFAR-10 rows; or a script's own rows (``of_rows``)."""

    runs: pd.DataFrame
    epochs: pd.DataFrame | None = None
    sweeps: pd.DataFrame | None = None
    cifar: pd.DataFrame | None = None
    superseded: pd.DataFrame | None = None  # rows whose settings the presets no longer use (mnist/superseded/)
    folder: Path | None = None  # where they were read from: some tables read more of it

    @classmethod
    def of_rows(cls, rows: list[dict]) -> "Results":
        table = frame(rows)
        return cls(runs=table, cifar=table if "recipe" in table else None)

    @classmethod
    def read(cls, folder: Path) -> "Results":
        mnist = folder / "mnist"
        runs = read_csv(mnist / "runs.csv", RUN_COLUMNS)
        if runs is None:
            raise BadResults(f"{mnist / 'runs.csv'} does not exist; run replicate/mnist.py first.")
        cifar = read_csv(folder / "cifar10" / "runs.csv", ["run_id", "model", "preset", "test_error_pct"])
        return cls(
            runs=latest(runs),
            epochs=read_csv(mnist / "epochs.csv", ["run_id", "model", "epoch", "test_errors"]),
            sweeps=read_csv(mnist / "offset_sweeps.csv", ["run_id", "seed", "offset", "test_errors"]),
            cifar=None if cifar is None else latest(cifar),
            superseded=read_csv(mnist / "superseded" / "runs.csv", RUN_COLUMNS),
            folder=folder,
        )

    @staticmethod
    @functools.cache  # read once per process: `--experiment all` compares every experiment with them
    def committed() -> "Results | None":
        """The rows committed with this repository (results/), to compare a run with; None where there are none."""
        try:
            return Results.read(REPO_ROOT / "results")
        except BadResults:
            return None

    def compare(self, experiment, preset: str) -> str:
        """Published | ours (the committed rows) | yours (these rows) for ``experiment`` at ``preset``."""
        ours = Results.committed()
        lines = experiment.glance(ours, preset) if ours is not None else []
        return comparison(lines, experiment.glance(self, preset), f"committed rows, `{preset}` preset")

    def rows(self, experiment: str, preset: str, model: str | None = None) -> pd.DataFrame:
        runs = self.runs
        rows = runs[(runs.experiment == experiment) & (runs.preset == preset)]
        return rows if model is None else rows[rows.model == model]


def frame(rows: list[dict]) -> pd.DataFrame:
    """A script's rows typed as their CSV is: written as CSV text and read back."""
    return with_precision(pd.read_csv(io.StringIO(pd.DataFrame(rows).to_csv(index=False))))


def read_csv(path: Path, required: list[str]) -> pd.DataFrame | None:
    """A results CSV with the columns asked for, or None where it does not exist; BadResults naming the first bad
    line or column. Every row is logged whole: a line with more or fewer fields than the header is truncated or
    garbled (pandas would pad a short one with NaN), as is text in a numeric column."""
    if not path.exists():
        return None
    with open(path, newline="") as f:
        reader = csv.reader(f, strict=True)  # strict: an unclosed quote is an error, not the rest of the file
        try:
            header, lines = next(reader, None), []  # the file's line number of each data row
            for fields in filter(None, reader):  # blank lines skipped, as pandas does
                if len(fields) != len(header):
                    raise BadResults(
                        f"{path}, line {reader.line_num}: {len(fields)} fields where the header has {len(header)}, "
                        "a truncated or garbled row; delete that line or rerun the experiment that wrote it."
                    )
                lines.append(reader.line_num)
        except (UnicodeDecodeError, csv.Error) as error:
            raise BadResults(f"{path}, line {reader.line_num}: {error}; fix or delete that line.") from error
    if header is None:
        raise BadResults(f"{path} is empty; delete it or rerun the experiment that writes it.")
    table = pd.read_csv(path)
    for column in required:
        if column not in table.columns:
            raise BadResults(f"{path} has no column '{column}'.")
        if column.endswith(NUMERIC_SUFFIXES):
            text = table[column]
            garbage = pd.to_numeric(text, errors="coerce").isna() & text.notna()  # empty cells are allowed
            if garbage.any():
                row = garbage.to_numpy().argmax()  # the first one
                raise BadResults(
                    f"{path}, line {lines[row]}: column '{column}' holds {text.iloc[row]!r}, not a number."
                )
    return table


def with_precision(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with a ``precision`` for every row: rows logged before it existed read it from ``cfg_bf16``."""
    logged = table["precision"] if "precision" in table else pd.Series(pd.NA, index=table.index, dtype=object)
    bf16 = table["cfg_bf16"].astype(str) == "True" if "cfg_bf16" in table else pd.Series(False, index=table.index)
    return table.assign(precision=logged.fillna(bf16.map({True: "bf16", False: "fp32"})))


def latest(runs: pd.DataFrame) -> pd.DataFrame:
    """The latest row of each configuration (IDENTITY and every cfg_* column but the old cfg_bf16). A row logged before
    a training setting existed ran with its default, and is compared as such."""
    runs = with_precision(runs)
    defaults = {f"cfg_{f.name}": f.default for f in fields(TrainConfig) if f.default not in (MISSING, None)}
    runs = runs.assign(**{column: runs[column].fillna(value) for column, value in defaults.items() if column in runs})
    if "soft_term" in runs:  # §2's soft term, of weight 1: unnamed (and unweighted) in the oldest rows, "paper" later
        distilled = runs.temperature.notna()
        soft_term = runs.soft_term.fillna("soft_loss").replace({"paper": "soft_loss"})
        runs = runs.assign(soft_term=soft_term.where(distilled, runs.soft_term))
        if "soft_weight" in runs:
            runs = runs.assign(soft_weight=runs.soft_weight.fillna(1.0).where(distilled, runs.soft_weight))
    keys = [c for c in runs.columns if c in IDENTITY or (c.startswith("cfg_") and c != "cfg_bf16")]
    return runs.drop_duplicates("run_id").drop_duplicates(keys, keep="last")


def devices_of(rows: pd.DataFrame) -> str:
    """Where the rows ran and in which precision, e.g. "AMD EPYC (AVX2), 2 threads, fp32"."""
    devices = rows.device.fillna("?").str.replace(" 1 threads", " 1 thread")  # as rows before the grammar was fixed
    return "; ".join(sorted(set(devices + ", " + rows.precision))) or "no runs"


def mean_sd(values: pd.Series, digits: int = 1, count: bool = True) -> str:
    """E.g. "98.2 ± 3.1 (n=5)"; one error count as "98 (n=1)"; ``count``: with the "(n=…)"."""
    if values.empty:
        return "not run"
    n = f" (n={len(values)})" if count else ""
    if len(values) == 1 and digits == 1 and float(values.iloc[0]).is_integer():  # one error count: 98, not 98.0
        return f"{values.iloc[0]:.0f}{n}"
    spread = f" ± {values.std():.{digits}f}" if len(values) > 1 else ""
    return f"{values.mean():.{digits}f}{spread}{n}"


def errors_or_diverged(errors) -> str:
    """E.g. "104, diverged": each value of ``errors``, or "diverged" where it is nan (a run that diverged)."""
    return ", ".join("diverged" if math.isnan(e) else f"{e:.0f}" for e in errors)


def strip_simd(device: str) -> str:
    """E.g. "AMD EPYC, 2 threads": a CPU's SIMD level is long and the same on every row (REPRODUCE names it once)."""
    return re.sub(r" \(AVX[^)]*\)", "", device).replace(" 1 threads", " 1 thread")


T_975 = [math.nan, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228]  # Student's t, by dof


def with_interval(values: pd.Series, digits: int = 1, sign: str = "+", unit: str = "") -> str:
    """E.g. "-4.9 ± 3.1 (95 % interval, n=3)": the mean of ``values`` and its t interval over them (``sign``: "+" to
    always show the sign, "" for a magnitude; ``unit``, e.g. " %", after each number)."""
    n = len(values)
    if n < 2:
        return f"{values.mean():{sign}.{digits}f}{unit} (n={n}, no interval)" if n else "not run"
    t = T_975[n - 1] if n - 1 < len(T_975) else 1.96
    half = t * standard_error(values)
    return f"{values.mean():{sign}.{digits}f}{unit} ± {half:.{digits}f}{unit} (95 % interval, n={n})"


def standard_error(values: pd.Series) -> float:
    return float(values.std() / math.sqrt(len(values)))


def kept_share(alone: float, better: float, distilled: float) -> float:
    """The share of better's gain over alone that distilled keeps: 1 when it matches better, 0 when it matches alone."""
    return (distilled - alone) / (better - alone)


def diverged_note(rows: pd.DataFrame) -> str:
    """E.g. "diverged (seed 1 in epoch 1)" for the rows whose training diverged; "" if none did."""
    if "diverged_in_epoch" not in rows:
        return ""
    diverged = rows[rows.diverged_in_epoch.notna()]
    pairs = [f"seed {seed} in epoch {epoch:.0f}" for seed, epoch in zip(diverged.seed, diverged.diverged_in_epoch)]
    return f"diverged ({', '.join(pairs)})" if pairs else ""


def pooled_sd(values: pd.Series) -> float:
    """The standard deviation within the groups that ``values``' index names, pooled: the root of their mean variance
    (groups of equal size), e.g. of one net among the members of each ensemble."""
    return float(math.sqrt(values.groupby(level=0).var().mean()))


def bootstrap_ratio(numerator: pd.Series, denominator: pd.Series, draws: int = 10_000) -> tuple[float, float, float]:
    """mean(numerator) / mean(denominator) over paired seeds, and its 95 % bootstrap interval: the seeds resampled
    with replacement, the same draws every time."""
    picks = torch.randint(len(numerator), (draws, len(numerator)), generator=torch.Generator().manual_seed(0)).numpy()
    ratios = pd.Series(numerator.to_numpy()[picks].mean(axis=1) / denominator.to_numpy()[picks].mean(axis=1))
    return numerator.mean() / denominator.mean(), ratios.quantile(0.025), ratios.quantile(0.975)


def percentages(shares: pd.Series) -> str:
    """E.g. "80 %, 84 %": one share per seed."""
    return ", ".join(f"{100 * k:.0f} %" for k in shares)


def share_sentence(what: str, published: float, measured: pd.Series, missing: str = "not run") -> str:
    """E.g. "what: published 86 %, measured 80 %, 84 % per seed (mean 82 % ± 4 % (95 % interval, n=2), -4 points
    from the paper)."; ``missing`` stands for the measured shares where there are none."""
    if not len(measured):
        return f"\n{what}: published {100 * published:.0f} %, measured: {missing}.\n"
    mean = with_interval(100 * measured, 0, sign="", unit=" %")
    difference = f"{100 * (measured.mean() - published):+.0f} points from the paper"
    measured_text = f"measured {percentages(measured)} per seed (mean {mean}, {difference})"
    return f"\n{what}: published {100 * published:.0f} %, {measured_text}.\n"


def glance_markdown(lines: list[tuple[str, str, str]]) -> str:
    rows = [f"| {result} | {published} | {measured} |" for result, published, measured in lines]
    return "\n".join(["| result | published | measured (mean ± sd, n seeds) |", "|---|---|---|", *rows]) + "\n"


def comparison(ours: list[tuple[str, str, str]], yours: list[tuple[str, str, str]], ours_are: str) -> str:
    """Published | ours (the committed rows: ``ours_are``) | yours, result by result."""
    committed = {result: measured for result, _, measured in ours}
    rows = [
        f"| {result} | {published} | {committed.get(result, 'none')} | {measured} |"
        for result, published, measured in yours
    ]
    header = f"| result | published | ours ({ours_are}) | yours |"
    return "\n".join([header, "|---|---|---|---|", *rows]) + "\n"


def preset_note(preset: str) -> str:
    """ " (`quick` preset)" where a result is shown from another preset than the paper's."""
    return "" if preset == "paper" else f" (`{preset}` preset)"
