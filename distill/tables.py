"""Every results table, built once from the logged rows: the scripts print it, figures.py writes it.

Each function takes rows as a pandas DataFrame, as read from a results CSV, and returns markdown, which reads
well in a terminal too. A script's own rows go through ``frame`` first, to be typed as their CSV is.
"""

from __future__ import annotations

import io
import math
import re

import pandas as pd

from distill.ensemble import MEMBERS as ENSEMBLE_MEMBERS
from distill.ensemble import PUBLISHED_ACCURACY as ENSEMBLE_PUBLISHED
from distill.few_data import PUBLISHED_ACCURACY as FEW_DATA_PUBLISHED
from distill.mnist import PUBLISHED_TEST_ERRORS
from distill.presets import PAPER, MnistPreset
from distill.temperature_sweep import COLLAPSED_ERRORS, verdict
from distill.transfer_sets import TRANSFER_SET_EXPERIMENTS

MODELS = list(PUBLISHED_TEST_ERRORS)
# a rerun of the same configuration and seed replaces the earlier row in every table (the CSV keeps both)
CONFIG_COLUMNS = (
    "experiment model hidden temperature hard_weight soft_term data_share seed preset eval_split epochs precision"
).split()


def frame(rows: list[dict]) -> pd.DataFrame:
    """A script's rows typed as their CSV is: written as CSV text and read back."""
    return pd.read_csv(io.StringIO(pd.DataFrame(rows).to_csv(index=False)))


def rows_of(runs: pd.DataFrame, experiment: str, preset: str, model: str | None = None) -> pd.DataFrame:
    rows = runs[(runs.experiment == experiment) & (runs.preset == preset)]
    return rows if model is None else rows[rows.model == model]


def headline_rows(runs: pd.DataFrame, preset: str, eval_name: str = "test") -> pd.DataFrame:
    """The headline's rows of a preset on one split: its students, and each seed's teacher whichever
    experiment happened to train it (a cached teacher keeps the tag of its first run)."""
    runs = runs[(runs.preset == preset) & (runs.eval_split == eval_name)]
    is_teacher, is_main = runs.model == "teacher", runs.experiment == "main"
    # one teacher per seed: a seed whose students' teacher is tagged "main" counts no other experiment's teacher
    other_teacher = is_teacher & ~is_main & runs.seed.isin(runs.seed[is_teacher & is_main])
    return runs[(is_main | is_teacher) & ~other_teacher]


def preset_summary(runs: pd.DataFrame, preset: str, eval_name: str = "test") -> str:
    """Published next to measured for one preset, the gap closed, and the training time of each complete seed.
    On a validation split the difference is left out: the paper reports test errors only."""
    caption = "MNIST test errors (of 10,000)" if eval_name == "test" else "MNIST validation errors (held-out images)"
    lines = [
        f"{caption}, `{preset}` preset, mean ± sd over seeds; {devices_of(runs, preset)}.\n",
        "| model | published | measured | difference | per seed | train time (min) |",
        "|---|---:|---:|---:|---|---:|",
    ]
    rows = headline_rows(runs, preset, eval_name).sort_values("seed")
    for model, published in PUBLISHED_TEST_ERRORS.items():
        runs_of_model = rows[rows.model == model]
        errors = runs_of_model[f"{eval_name}_errors"]
        if errors.empty:
            lines.append(f"| {model} | {published} | not run | | | |")
            continue
        digits = 1 if len(errors) > 1 else 0  # one seed: its error count, 3752 rather than 3752.0
        difference = f"{errors.mean() - published:+.{digits}f}" if eval_name == "test" else "n/a"
        seeds, minutes = ", ".join(str(int(e)) for e in errors), runs_of_model.train_seconds.mean() / 60
        lines.append(f"| {model} | {published} | {mean_sd(errors)} | {difference} | {seeds} | {minutes:.1f} |")
    # the share of the student-alone-to-teacher gap that distillation closes, per seed (§3: (146−74)/(146−67) = 91 %)
    errors, gap = rows.pivot_table(index="seed", columns="model", values=f"{eval_name}_errors"), ""
    if set(MODELS) <= set(errors.columns):
        errors = errors.dropna()
        per_seed = percentages((errors.baseline - errors.distilled) / (errors.baseline - errors.teacher))
        gap = f"Gap closed by distillation, (alone − distilled)/(alone − teacher): {per_seed} (published: 91 %).\n"
    # a seed's training time counts once it has all three models: the teacher and both students
    complete = [f"{g.train_seconds.sum() / 60:.1f}" for _, g in rows.groupby("seed") if set(MODELS) <= set(g.model)]
    wall = f"Training time per seed (all three models, no evaluation): {', '.join(complete) or '—'} min.\n"
    return "\n".join(lines) + f"\n\n{gap}\n{wall}"


def devices_of(runs: pd.DataFrame, preset: str, experiments: tuple[str, ...] = ("main",)) -> str:
    """Where the rows ran and in which precision, e.g. "AMD EPYC (AVX2), 2 threads, fp32"."""
    selected = with_precision(runs[(runs.preset == preset) & runs.experiment.isin(experiments)])
    return "; ".join(sorted(set(selected.device.fillna("?") + ", " + selected.precision))) or "no runs"


def with_precision(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with a ``precision`` column for every row: rows logged before it existed read it from
    ``cfg_bf16`` (True: bf16; False or absent: fp32)."""
    logged = table["precision"] if "precision" in table else pd.Series(pd.NA, index=table.index, dtype=object)
    bf16 = table["cfg_bf16"].astype(str) == "True" if "cfg_bf16" in table else pd.Series(False, index=table.index)
    return table.assign(precision=logged.fillna(bf16.map({True: "bf16", False: "fp32"})))


def latest(runs: pd.DataFrame) -> pd.DataFrame:
    runs = with_precision(runs)
    if "soft_term" in runs:  # §2's soft term: unnamed in the oldest rows, "paper" in later ones
        soft_term = runs.soft_term.fillna("soft_loss").replace({"paper": "soft_loss"})
        runs = runs.assign(soft_term=soft_term.where(runs.temperature.notna(), runs.soft_term))
    keys = [c for c in CONFIG_COLUMNS if c in runs.columns]
    return runs.drop_duplicates("run_id").drop_duplicates(keys, keep="last")


def mean_sd(values: pd.Series, digits: int = 1) -> str:
    if values.empty:
        return "not run"
    if len(values) == 1 and digits == 1 and float(values.iloc[0]).is_integer():  # one error count: 98, not 98.0
        return f"{values.iloc[0]:.0f} (n=1)"
    spread = f" ± {values.std():.{digits}f}" if len(values) > 1 else ""
    return f"{values.mean():.{digits}f}{spread} (n={len(values)})"


def transfer_markdown(runs: pd.DataFrame, preset: str, experiments: tuple = tuple(TRANSFER_SET_EXPERIMENTS),
                      brief: bool = False) -> str:  # fmt: skip
    """omit3 and only78: published | measured | difference for each number of the paper, and our extras (``brief``:
    only the offset found without test data, and its errors)."""
    lines = ["| experiment | quantity | published | measured | difference |", "|---|---|---:|---:|---:|"]
    brief_extras = {"prior_offset", "prior_test_errors", "prior_test_error_pct"}
    for name in experiments:
        rows = rows_of(runs, name, preset, "distilled")
        for label, column, published in TRANSFER_SET_EXPERIMENTS[name].quantities():
            if brief and published is None and column not in brief_extras:
                continue
            shown = "—" if published is None else f"{published:g}"
            if rows.empty or column not in rows:
                lines.append(f"| {name} | {label} | {shown} | not run | |")
                continue
            measured = rows[column].astype(float)
            difference = "" if published is None else f"{measured.mean() - published:+.1f}"
            lines.append(f"| {name} | {label} | {shown} | {mean_sd(measured)} | {difference} |")
    device = devices_of(runs, preset, experiments)
    return f"`{preset}` preset, mean ± sd over seeds; {device}.\n\n" + "\n".join(lines) + "\n"


def errors_or_diverged(errors, digits: int = 0) -> str:
    """E.g. "104, diverged": each value of ``errors``, or "diverged" where it is nan (a run that diverged)."""
    return ", ".join("diverged" if math.isnan(e) else f"{e:.{digits}f}" for e in errors)


def widths_of(rows: pd.DataFrame) -> list[str]:
    """The student sizes among ``rows``, smallest first, e.g. ["30-30", "300-300", "800-800"]."""
    return sorted(rows.hidden.unique(), key=lambda h: int(h.split("-")[0]))


def temperature_markdown(runs: pd.DataFrame, preset: str, with_verdict: bool = True) -> str:
    """Test errors per student size (columns) and T (rows), and (``with_verdict``) the verdict on the paper's two
    claims."""
    rows = rows_of(runs, "temperature", preset)
    if rows.empty:
        return "Temperature × student size: not run.\n"
    widths = widths_of(rows)

    def line(label: str, cells: pd.DataFrame) -> str:
        return f"| {label} | " + " | ".join(mean_sd(cells[cells.hidden == h].test_errors) for h in widths) + " |"

    lines = ["| T | " + " | ".join(widths) + " |", "|---:|" + "---:|" * len(widths)]
    lines.append(line("student alone", rows[rows.model == "baseline"]))
    distilled = rows[(rows.model == "distilled") & (rows.test_errors < COLLAPSED_ERRORS)]  # collapsed: named below
    temperatures = distilled.temperature.astype(float)
    lines += [line(f"{t:g}", distilled[temperatures == t]) for t in sorted(temperatures.unique())]
    paper = (
        "Paper: with ≥ 300 units per layer all T above 8 give fairly similar results; "
        "with 30 units T in 2.5–4 works significantly better than higher or lower T."
    )
    claims = [c for c in verdict(rows.to_dict("records")) if with_verdict or " best T = " not in c]  # collapses stay
    claims = "\n".join(f"- {claim}" for claim in claims)
    device = devices_of(runs, preset, ("temperature",))
    header = f"Test errors, `{preset}` preset, mean ± sd over seeds; {device}.\n\n"
    return header + "\n".join(lines) + (f"\n\n{paper}" if with_verdict else "") + f"\n\n{claims}\n"


def with_accuracy(cifar: pd.DataFrame) -> pd.DataFrame:
    """CIFAR-10 rows with test accuracy, and the teacher (no recipe: it serves both) labelled "shared".
    Rows logged before the tutorial recipe got its name call it "seed"."""
    recipe = cifar.recipe if "recipe" in cifar else pd.Series("", index=cifar.index)
    recipe = recipe.fillna("shared").replace({"seed": "tutorial"})
    return cifar.assign(accuracy=100 - cifar.test_error_pct.astype(float), recipe=recipe)


def cifar_markdown(cifar: pd.DataFrame | None) -> str:
    if cifar is None or cifar.empty:
        return "CIFAR-10: not run.\n"
    lines = ["| preset | recipe | model | epochs | test accuracy (%) | device |", "|---|---|---|---:|---:|---|"]
    cifar = with_accuracy(cifar)
    for (preset, recipe, model, epochs), group in cifar.groupby(["preset", "recipe", "model", "epochs"], sort=False):
        devices = ", ".join(sorted(group.device.unique()))
        lines.append(f"| {preset} | {recipe} | {model} | {epochs} | {mean_sd(group.accuracy, 2)} | {devices} |")
    return "\n".join(lines) + "\n"


# The recipe the validation study started from (replicate/validation_study.sh), and how each setting is named
STUDY_START = {
    "teacher": {"epochs": 150, "cfg_lr": 0.05, "cfg_max_norm": 3.5, "cfg_momentum": 0.9, "cfg_momentum_ramp": 0},
    "students": {
        "teacher_epochs": 150, "model": "distilled", "temperature": 20.0, "hard_weight": 0.1, "cfg_lr": 0.1,
        "epochs": 50, "cfg_batch_size": 100, "soft_term": "soft_loss", "jittered_copies": 0,
    },
}  # fmt: skip
ALONE_FACTOR = "student alone (labels only), lr, epochs"


def kept_settings(preset: MnistPreset = PAPER) -> dict:
    """What the paper preset kept of each setting the study varied, in STUDY_START's shape: its teacher's, and its
    headline students' (the distilled one's; under "alone", the student alone's lr and epochs)."""
    teacher, student, alone = preset.teacher.train, preset.headline_distilled.train, preset.headline_baseline.train
    return {
        "teacher": {"epochs": teacher.epochs, "cfg_lr": teacher.lr, "cfg_max_norm": teacher.max_norm,
                    "cfg_momentum": teacher.momentum, "cfg_momentum_ramp": teacher.momentum_ramp},
        "students": {"teacher_epochs": teacher.epochs, "temperature": preset.temperature,
                     "hard_weight": preset.hard_weight, "cfg_lr": student.lr, "epochs": student.epochs,
                     "cfg_batch_size": student.batch_size, "soft_term": "soft_loss", "jittered_copies": 0,
                     "alone": f"{alone.lr:g}, {alone.epochs}"},
    }  # fmt: skip


SETTING_NAMES = {
    "teacher_epochs": "teacher epochs", "epochs": "epochs", "cfg_lr": "lr", "cfg_max_norm": "max-norm",
    "cfg_momentum": "momentum", "cfg_momentum_ramp": "ramp epochs", "temperature": "T", "hard_weight": "hard weight",
    "cfg_batch_size": "batch", "soft_term": "soft term", "jittered_copies": "jittered copies",
}  # fmt: skip


def shown_setting(value) -> str:
    value = {"soft_loss": "T²·KL (§2)", "logit_matching_loss": "logit matching (§2.1)"}.get(value, value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def numbers_first(value: str) -> list[tuple]:
    """A sort key for a setting's shown values, e.g. "0.03, 150" before "0.1, 50": each part as a number where it
    is one, and numbers before words."""
    key = []
    for part in value.split(", "):
        try:
            key.append((0, float(part), ""))
        except ValueError:
            key.append((1, 0.0, part))
    return key


def study_change_pairs(row: pd.Series, start: dict) -> list[tuple[str, str, str]]:
    """(column, name, value) of each setting a study row changed from the start; [] for the start itself."""
    if row.get("model") == "baseline":
        return [("alone", ALONE_FACTOR, f"{row.cfg_lr:g}, {row.epochs}")]
    return [
        (column, SETTING_NAMES[column], shown_setting(value) + (" (departs from §3)" * (column == "jittered_copies")))
        for column, begun in start.items()
        if column != "model" and (value := row.get(column)) is not None and not pd.isna(value) and value != begun
    ]


def study_cells(rows: pd.DataFrame, stage: str) -> pd.DataFrame:
    """One line per cell of the study: the settings it changed from the start (``columns``; their names, ``factor``;
    their shown values, ``value``; both, ``change``, e.g. "lr 0.03, epochs 150"; all "" for the start itself), its
    validation errors per seed in seed order (nan: diverged) and their mean."""
    pairs = rows.apply(study_change_pairs, axis=1, start=STUDY_START[stage])
    joined = lambda i: pairs.map(lambda p: ", ".join(pair[i] for pair in p))
    change = pairs.map(lambda p: ", ".join(f"{name} {value}" for _, name, value in p))
    rows = rows.assign(columns=joined(0), factor=joined(1), value=joined(2), change=change)
    cells = rows.sort_values("seed", kind="stable").groupby(["columns", "factor", "value", "change"], sort=False)
    return cells.val_errors.agg(mean="mean", per_seed=list).reset_index()


def study_panels(teachers: pd.DataFrame, students: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """(title, stage, rows): the teachers, then the students of each machine's teachers. Each machine trained its
    own teachers (the same recipe, other rounding), so a student cell is compared with the start of its machine."""
    machine = students.device.map(lambda device: "GPU" if str(device).startswith("NVIDIA") else "CPU")
    return [("teacher", "teacher", teachers)] + [
        (f"students of {name}-trained teachers", "students", rows)
        for name, rows in students.groupby(machine, sort=False)
    ]


def without_simd(device: str) -> str:
    """E.g. "AMD EPYC, 2 threads": a CPU's SIMD level is long and the same on every row (REPRODUCE names it once)."""
    return re.sub(r" \(AVX[^)]*\)", "", device)


def study_markdown(teachers: pd.DataFrame, students: pd.DataFrame) -> str:
    """The validation study: per panel its start's validation errors (of 10,000; the mean over seeds, then each seed's);
    per factor, its value at the start, the values tried with their errors, and the value the paper preset kept."""
    devices = "; ".join(sorted({without_simd(device) for device in set(teachers.device) | set(students.device)}))
    lines = [f"Validation errors, mean (per seed), on the last 10,000 training images; {devices}.\n"]
    lines += ["| models | factor | start | tried | kept |", "|---|---|---|---|---|"]
    for title, stage, rows in study_panels(teachers, students):
        start, kept, cells = STUDY_START[stage], kept_settings()[stage], study_cells(rows, stage)
        at_start = " ".join(cells_errors(cells[cells.factor == ""])) or "not run"
        title = f"{title}; start: {at_start}"
        for (columns, factor), tried in cells[cells.factor != ""].groupby(["columns", "factor"], sort=False):
            begun = ", ".join(shown_setting(start[c]) for c in columns.split(", ") if c in start) or "—"
            tried = tried.iloc[sorted(range(len(tried)), key=lambda i: numbers_first(tried.value.iloc[i]))]
            values = "; ".join(f"{value}: {errors}" for value, errors in zip(tried.value, cells_errors(tried)))
            adopted = ", ".join(shown_setting(kept[c]) for c in columns.split(", "))
            lines.append(f"| {title} | {factor} | {begun} | {values} | {adopted} |")
            title = ""  # once per panel: the rows below it belong to it
    return "\n".join(lines) + "\n"


def cells_errors(cells: pd.DataFrame) -> list[str]:
    """E.g. "104.5 (109, 100)" for each cell: its mean validation errors and each seed's; "diverged (2 seeds)" for a
    cell whose every seed diverged."""
    return [
        f"diverged ({len(per_seed)} seed{'s' * (len(per_seed) > 1)})"
        if math.isnan(mean)
        else f"{mean:.1f} ({errors_or_diverged(per_seed)})"
        for mean, per_seed in zip(cells["mean"], cells.per_seed)
    ]


def kept_share(alone: float, better: float, distilled: float) -> float:
    """The share of better's gain over alone that distilled keeps: 1 when it matches better, 0 when it matches alone."""
    return (distilled - alone) / (better - alone)


ENSEMBLE_KEPT = kept_share(*ENSEMBLE_PUBLISHED.values())  # Table 1: 86 % of the ensemble's gain kept
FEW_DATA_RECOVERED = kept_share(*(FEW_DATA_PUBLISHED[k] for k in ("hard, 3 %", "hard, 100 %", "soft, 3 %")))  # 87 %


def percentages(shares: pd.Series) -> str:
    """E.g. "80 %, 84 %": one share per seed."""
    return ", ".join(f"{100 * k:.0f} %" for k in shares)


def share_sentence(what: str, published: float, measured: pd.Series, missing: str = "not run") -> str:
    """E.g. "what: published 86 %, measured 80 %, 84 % per seed (mean 82 %, difference -4 points)."; ``missing``
    stands for the measured shares where there are none."""
    if not len(measured):
        return f"\n{what}: published {100 * published:.0f} %, measured: {missing}.\n"
    mean = f" (mean {100 * measured.mean():.0f} %, difference {100 * (measured.mean() - published):+.0f} points)"
    return f"\n{what}: published {100 * published:.0f} %, measured {percentages(measured)} per seed{mean}.\n"


def ensemble_errors(runs: pd.DataFrame, preset: str) -> dict[str, pd.Series]:
    """Test errors of the single nets (every member), the ensembles and the nets distilled from them, each indexed
    by its ensemble's seed."""
    rows = rows_of(runs, "ensemble", preset)
    rows = rows.assign(ensemble_seed=rows.seed.where(rows.model != "baseline", rows.seed // ENSEMBLE_MEMBERS))
    return {  # a diverged distilled net (no errors) is left out here and named in ensemble_markdown
        m: rows[rows.model == m].set_index("ensemble_seed").test_errors.dropna()
        for m in ("baseline", "ensemble", "distilled")
    }


def ensemble_kept(errors: dict[str, pd.Series]) -> pd.Series:
    """Per ensemble seed, the share of the ensemble's gain over its mean single net that the distilled net keeps."""
    singles = errors["baseline"].groupby(level=0).mean()
    return pd.Series(kept_share(singles, errors["ensemble"], errors["distilled"])).dropna()


def ensemble_markdown(runs: pd.DataFrame, preset: str) -> str:
    """§4, Table 1: single nets, their ensemble, and the net distilled from it; the share of the gain kept."""
    rows = rows_of(runs, "ensemble", preset)
    if rows.empty:
        return "Ensemble: not run.\n"
    errors, diverged = ensemble_errors(runs, preset), diverged_note(rows)
    trained = mean_sd(errors["distilled"]) if len(errors["distilled"]) else ""
    distilled = "; ".join(filter(None, [trained, diverged])) or "not run"
    missing = "none, the distilled net diverged" if diverged and not trained else "not run"
    return "\n".join([
        f"`{preset}` preset; {devices_of(runs, preset, ('ensemble',))}. Published: Table 1, speech test frame "
        "accuracy (%); measured: MNIST test errors, mean ± sd.\n",
        "| model | published | measured |", "|---|---:|---:|",
        f"| single net (800-800 alone) | {ENSEMBLE_PUBLISHED['single']} | {mean_sd(errors['baseline'])} nets |",
        f"| ensemble of {ENSEMBLE_MEMBERS} | {ENSEMBLE_PUBLISHED['ensemble']} | {mean_sd(errors['ensemble'])} |",
        f"| one net distilled from it | {ENSEMBLE_PUBLISHED['distilled']} | {distilled} |",
        share_sentence("Share of the ensemble's gain over a single net that distillation keeps", ENSEMBLE_KEPT,
                       ensemble_kept(errors), missing),
    ])  # fmt: skip


def diverged_note(rows: pd.DataFrame) -> str:
    """E.g. "diverged (seed 1 in epoch 1)" for the rows whose training diverged; "" if none did."""
    if "diverged_in_epoch" not in rows:  # no run of these diverged, or none logged divergence
        return ""
    diverged = rows[rows.diverged_in_epoch.notna()]
    pairs = [f"seed {seed} in epoch {epoch:.0f}" for seed, epoch in zip(diverged.seed, diverged.diverged_in_epoch)]
    return f"diverged ({', '.join(pairs)})" if pairs else ""


def ensemble_tuning_markdown(rows: pd.DataFrame | None) -> str:
    """The ensemble student's settings, chosen on validation (tune.py --ensemble): validation errors of the single
    nets, of their ensembles, and of each setting of the net distilled from them."""
    if rows is None or rows.empty:
        return "Ensemble student on validation: not run.\n"
    rows = rows.sort_values("seed")
    members = rows[(rows.model == "baseline") & rows.member.notna()] if "member" in rows else rows.iloc[:0]
    ensembles = rows[rows.model == "ensemble"].val_errors
    lines = [
        f"Validation errors (last 10,000 training images); {'; '.join(sorted(set(rows.device)))}.\n",
        "| model | T | hard weight | lr | epochs | validation errors per ensemble seed | mean |",
        "|---|---:|---:|---:|---:|---|---:|",
        f"| single nets (800-800 alone) | | | | | | {mean_sd(members.val_errors)} |",
        f"| ensemble of {ENSEMBLE_MEMBERS} | | | | | {errors_or_diverged(ensembles)} | {mean_sd(ensembles)} |",
    ]
    students = rows[rows.model == "distilled"]
    for (T, w, lr, epochs), cell in students.groupby(["temperature", "hard_weight", "cfg_lr", "epochs"]):
        errors = cell.val_errors
        mean = "diverged" if errors.isna().all() else mean_sd(errors.dropna())
        lines.append(
            f"| distilled from it | {T:g} | {w:g} | {lr:g} | {epochs} | {errors_or_diverged(errors)} | {mean} |"
        )
    return "\n".join(lines) + "\n"


def few_data_cells(runs: pd.DataFrame, preset: str) -> dict[str, pd.DataFrame]:
    """§5's three students: hard targets on 3 % of the images, soft targets on them, hard targets on all."""
    rows = rows_of(runs, "fewdata", preset)
    share = rows.data_share if "data_share" in rows else pd.Series("", index=rows.index)
    return {
        "hard, 3 %": rows[(rows.model == "baseline") & (share == "3%")],
        "soft, 3 %": rows[rows.model == "distilled"],
        "hard, 100 %": rows[(rows.model == "baseline") & (share == "100%")],
    }


def few_data_recovered(cells: dict[str, pd.DataFrame]) -> pd.Series:
    """Per seed, the share of the gap between 3 % and 100 % of the data (hard targets) that soft targets recover."""
    errors = {name: cell.set_index("seed").test_errors for name, cell in cells.items()}
    return pd.Series(kept_share(errors["hard, 3 %"], errors["hard, 100 %"], errors["soft, 3 %"])).dropna()


def few_data_markdown(runs: pd.DataFrame, preset: str) -> str:
    """§5, Table 5: the student on 3 % of the images with hard or soft targets, and on all of them; final and best."""
    if rows_of(runs, "fewdata", preset).empty:
        return "Learning from 3 % of the data: not run.\n"
    cells = few_data_cells(runs, preset)
    lines = [
        f"`{preset}` preset; {devices_of(runs, preset, ('fewdata',))}. Published: Table 5, speech test frame accuracy "
        "(%); measured: MNIST test errors after the last epoch, and at the best epoch (reported, not chosen).\n",
        "| student | published | measured, last epoch | best epoch's | best epoch |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, cell in cells.items():
        best = mean_sd(cell.best_test_errors) if "best_test_errors" in cell else "—"
        epoch = mean_sd(cell.best_epoch, 0) if "best_epoch" in cell else "—"
        lines.append(f"| {name} | {FEW_DATA_PUBLISHED[name]} | {mean_sd(cell.test_errors)} | {best} | {epoch} |")
    what = "Share of the 3 % → 100 % gap (hard targets) that soft targets on 3 % recover"
    lines.append(share_sentence(what, FEW_DATA_RECOVERED, few_data_recovered(cells)))
    return "\n".join(lines) + "\n"


def logit_matching_markdown(runs: pd.DataFrame, preset: str) -> str:
    """§2.1: students distilled at rising T against the one trained by logit matching, same weights at the start."""
    rows = rows_of(runs, "logits", preset, "distilled")
    if rows.empty:
        return "Logit matching: not run.\n"
    lines = [
        f"`{preset}` preset; {devices_of(runs, preset, ('logits',))}. MNIST test errors; the distilled students' "
        "centred test logits against the logit-matching student's (RMS difference, top-1 agreement). §2.1 gives no "
        "number.\n",
        "| student | T | test errors | logit RMS difference | agreement (%) |",
        "|---|---:|---:|---:|---:|",
    ]
    matched = rows[rows.soft_term == "logit_matching_loss"]
    lines.append(f"| logit matching (the §2.1 limit) | — | {mean_sd(matched.test_errors)} | 0 | 100 |")
    distilled = rows[rows.soft_term != "logit_matching_loss"]
    for t, at_t in distilled.groupby(distilled.temperature.astype(float)):
        rms, agreement = mean_sd(at_t.logit_rms_to_matching, 2), mean_sd(100 * at_t.agreement_with_matching, 2)
        lines.append(f"| distilled | {t:g} | {mean_sd(at_t.test_errors)} | {rms} | {agreement} |")
    return "\n".join(lines) + "\n"
