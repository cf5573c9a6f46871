"""The validation study behind the paper preset: one setting changed at a time, scored on held-out training images;
and, apart, how §4's ensemble recipe was chosen (``ensemble_recipe``).

replicate/tune.py logs, with each row, the settings it changed from the study's start (``factor``, ``value``; ""
for the start itself) and the epochs of the teacher its students learnt from (``teacher_epochs``). The table and the
figure group the rows by those columns.
"""

import math
from pathlib import Path

import pandas as pd

from distill.lab.presets import PAPER, MnistPreset
from distill.reporting.plots import BLUE, plt
from distill.reporting.tables import (
    BadResults,
    devices_of,
    errors_or_diverged,
    mean_sd,
    pooled_sd,
    read_csv,
    strip_simd,
)

ALONE = "student alone (labels only), lr, epochs"  # one factor: the student alone's schedule
NAMES = {
    "teacher_epochs": "teacher epochs",
    "epochs": "epochs",
    "cfg_lr": "lr",
    "cfg_max_norm": "max-norm",
    "cfg_momentum": "momentum",
    "cfg_momentum_ramp": "ramp epochs",
    "temperature": "T",
    "hard_weight": "hard weight",
    "cfg_batch_size": "batch",
    "soft_term": "soft term",
    "jittered_copies": "jittered copies",
}
COLUMNS = {name: column for column, name in NAMES.items()}


def settings(preset: MnistPreset, students) -> dict:
    """What the study varied, per panel: the preset's teacher, and ``students`` (a preset's Students)."""
    teacher, student, alone = preset.teacher.train, students.distilled.train, students.alone.train
    teacher_panel = {"epochs": teacher.epochs, "cfg_lr": teacher.lr, "cfg_max_norm": teacher.max_norm}
    teacher_panel |= {"cfg_momentum": teacher.momentum, "cfg_momentum_ramp": teacher.momentum_ramp}
    panel = {"teacher_epochs": teacher.epochs, "temperature": preset.temperature, "hard_weight": preset.hard_weight}
    panel |= {"cfg_lr": student.lr, "epochs": student.epochs, "cfg_batch_size": student.batch_size}
    panel |= {"soft_term": "soft_loss", "jittered_copies": 0, "alone": f"{alone.lr:g}, {alone.epochs}"}
    return {"teacher": teacher_panel, "students": panel}


def start(preset: MnistPreset) -> dict:
    """The settings the study started from: the preset's teacher, and its ``study_start`` students (whose schedule
    alone is a factor of its own, shown with no start)."""
    begun = settings(preset, preset.study_start)
    del begun["students"]["alone"]
    return begun


def kept() -> dict:
    """What the paper preset kept of each setting the study varied: its teacher's, and its headline students'."""
    return settings(PAPER, PAPER.students)


def shown(value) -> str:
    value = {"soft_loss": "T²·KL (§2)", "logit_matching_loss": "logit matching (§2.1)"}.get(value, value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def changed(row: dict, begun: dict) -> dict:
    """The ``factor`` and ``value`` columns of a row: the names and values of the settings it changed from ``begun``
    (the study's start of its panel), joined by ", "; both "" for the start itself."""
    if row.get("model") == "baseline":
        return {"factor": ALONE, "value": f"{row['cfg_lr']:g}, {row['epochs']}"}
    pairs = [
        (NAMES[column], shown(value) + " (departs from §3)" * (column == "jittered_copies"))
        for column, first in begun.items()
        if (value := row.get(column)) is not None and not pd.isna(value) and value != first
    ]
    return {"factor": ", ".join(n for n, _ in pairs), "value": ", ".join(v for _, v in pairs)}


def read(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The study's teachers and students (<folder>/mnist/study), or None if it has not run. A teacher retrained with
    the same settings and seed counts once (its latest row)."""
    path = folder / "mnist" / "study" / "distillation_tuning.csv"
    required = ["model", "seed", "val_errors", "device", "factor", "value"]
    rows = read_csv(path, required)
    if rows is None:
        return None
    students = rows[rows.model != "teacher"]
    if "teacher_epochs" not in students:
        raise BadResults(f"{path} has no column 'teacher_epochs'.")
    teachers = pd.concat([rows[rows.model == "teacher"], read_csv(path.with_name("teacher_tuning.csv"), required)])
    settings = ["seed", "device", "epochs", *start(PAPER)["teacher"]]
    return teachers.drop_duplicates([c for c in dict.fromkeys(settings) if c in teachers], keep="last"), students


def panels(teachers: pd.DataFrame, students: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """(title, panel, rows): the teachers, then the students of each machine's teachers. Each machine trained its
    own teachers (the same recipe, other rounding), so a student cell is compared with the start of its machine."""
    machine = students.device.map(lambda device: "GPU" if str(device).startswith("NVIDIA") else "CPU")
    return [("teacher", "teacher", teachers)] + [
        (f"students of {name}-trained teachers", "students", rows)
        for name, rows in students.groupby(machine, sort=False)
    ]


def cells(rows: pd.DataFrame) -> pd.DataFrame:
    """One line per cell: its factor and value, "change" (e.g. "lr 0.03, epochs 150"), the validation errors per seed
    in seed order (nan: diverged) and their mean."""
    rows = rows.assign(factor=rows.factor.fillna(""), value=rows.value.fillna("").astype(str))
    change = [
        f"{factor} {value}"
        if factor == ALONE
        else ", ".join(f"{n} {v}" for n, v in zip(factor.split(", "), value.split(", ")))
        for factor, value in zip(rows.factor, rows.value)
    ]
    rows = rows.assign(change=[c if f else "" for c, f in zip(change, rows.factor)])
    grouped = rows.sort_values("seed", kind="stable").groupby(["factor", "value", "change"], sort=False)
    return grouped.val_errors.agg(mean="mean", per_seed=list).reset_index()


def setting_columns(factor: str) -> list[str]:
    return ["alone"] if factor == ALONE else [COLUMNS[name] for name in factor.split(", ")]


def numbers_first(value: str) -> list[tuple]:
    """A sort key for a setting's shown values, e.g. "0.03, 150" before "0.1, 50": numbers before words."""
    key = []
    for part in value.split(", "):
        try:
            key.append((0, float(part), ""))
        except ValueError:
            key.append((1, 0.0, part))
    return key


def errors_of(cells: pd.DataFrame) -> list[str]:
    """E.g. "104.5 (109, 100)" per cell: its mean and each seed's errors; "diverged (2 seeds)" if all diverged."""
    return [
        f"diverged ({len(seeds)} seed{'s' * (len(seeds) > 1)})"
        if math.isnan(mean)
        else f"{mean:.1f} ({errors_or_diverged(seeds)})"
        for mean, seeds in zip(cells["mean"], cells.per_seed)
    ]


def markdown(study: tuple[pd.DataFrame, pd.DataFrame] | None) -> str:
    """Per panel its start's validation errors; per factor, its value at the start, the values tried with their
    errors, and the value the paper preset kept."""
    if study is None:
        return "Validation study: not run.\n"
    teachers, students = study
    devices = "; ".join(sorted({strip_simd(d) for d in set(teachers.device) | set(students.device)}))
    lines = [f"Validation errors, mean (per seed), on the last 10,000 training images; {devices}.\n"]
    lines += ["| models | factor | start | tried | kept |", "|---|---|---|---|---|"]
    for title, panel, rows in panels(teachers, students):
        begun, adopted, of_panel = start(PAPER)[panel], kept()[panel], cells(rows)
        title = f"{title}; start: {' '.join(errors_of(of_panel[of_panel.factor == ''])) or 'not run'}"
        for factor, tried in of_panel[of_panel.factor != ""].groupby("factor", sort=False):
            columns = setting_columns(factor)
            first = ", ".join(shown(begun[c]) for c in columns if c in begun) or "—"
            tried = tried.iloc[sorted(range(len(tried)), key=lambda i: numbers_first(tried.value.iloc[i]))]
            values = "; ".join(f"{value}: {errors}" for value, errors in zip(tried.value, errors_of(tried)))
            lines.append(
                f"| {title} | {factor} | {first} | {values} | {', '.join(shown(adopted[c]) for c in columns)} |"
            )
            title = ""  # once per panel: the rows below it belong to it
    return "\n".join(lines) + "\n"


def plot(study: tuple[pd.DataFrame, pd.DataFrame] | None) -> plt.Figure | str:
    if study is None:
        return "no validation study logged"
    of_study = [(title, cells(rows)) for title, _, rows in panels(*study)]
    heights = [len(of_panel) + 2 for _, of_panel in of_study]  # each panel as tall as its rows need
    fig, axes = plt.subplots(len(of_study), 1, figsize=(7, 0.22 * sum(heights) + 1.2), height_ratios=heights)
    for ax, (title, of_panel) in zip(axes, of_study):
        # from the bottom up: the diverged cells, the others by falling mean, the start on top
        of_panel = of_panel.assign(after_start=of_panel.factor != "")
        of_panel = of_panel.sort_values(["after_start", "mean"], ascending=False, na_position="first")
        at_start = of_panel["mean"][of_panel.factor == ""]
        for y, cell in enumerate(of_panel.itertuples()):
            ax.scatter(cell.per_seed, [y] * len(cell.per_seed), color="black", s=10, zorder=3)  # nan: not drawn
            ax.plot([cell.mean] * 2, [y - 0.3, y + 0.3], color=BLUE, lw=2)
            if math.isnan(cell.mean) and len(at_start):
                ax.text(at_start.iloc[0], y, f"diverged ({len(cell.per_seed)} seeds)", fontsize=7, va="center")
        if len(at_start):
            ax.axvline(at_start.iloc[0], color="#999999", ls=":", lw=1)
        labels = [change or "start" for change in of_panel.change]
        ax.set_yticks(range(len(of_panel)), labels, fontsize=7)
        ax.set_title(title, fontsize=8, loc="left")
    axes[-1].set_xlabel("validation errors (of 10,000)")
    fig.suptitle(
        "The validation study, one change at a time: blue bar, a cell's mean; dots, its seeds; dotted line, the start",
        fontsize=8,
    )
    return fig


def ensemble_recipe(folder: Path | None) -> str:
    """How §4's recipe was chosen (replicate/tune_ensemble.py): each variant of the members, then each setting of the
    distilled net, on validation."""
    path = folder / "mnist" / "ensemble_validation" / "ensemble_validation.csv" if folder else None
    rows = read_csv(path, ["model", "seed", "val_errors", "val_nll", "cfg_jitter", "epochs"]) if path else None
    if rows is None or rows.empty:
        return "Ensemble recipe on validation: not run.\n"
    lines = [
        f"How the recipe was chosen, on validation (last 10,000 training images; {devices_of(rows)}): the members' "
        "shortest schedule whose NLL gain exceeds 3 sd of one member, and at it the jitter of the larger gain; then "
        "the distilled net's dropout, T and hard weight of lowest NLL. The hard weight's grid ends at 1, the highest "
        "the loss allows.\n",
        "| members' jitter | epochs | one member: errors | NLL | ensemble: errors | NLL | NLL gain / sd of one |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    # a control: the distilled net's architecture and training on the labels alone, logged with its members' settings
    control = (rows.model == "baseline") & rows.get("member_jitter", pd.Series(index=rows.index)).notna()
    for (jitter, epochs), cell in rows[(rows.model != "distilled") & ~control].groupby(["cfg_jitter", "epochs"]):
        members, ensemble = cell[cell.model == "baseline"], cell[cell.model == "ensemble"]
        if ensemble.empty:  # a sweep stopped before its tenth member
            lines.append(f"| {jitter} | {epochs} | {mean_sd(members.val_errors)}, stopped | | | | |")
            continue
        gain = members.val_nll.mean() - ensemble.val_nll.mean()
        sd = pooled_sd(members.set_index(members.seed - members.member).val_nll)  # within each ensemble
        lines.append(
            f"| {jitter} | {epochs} | {mean_sd(members.val_errors)} | {mean_sd(members.val_nll, 4, False)} | "
            f"{mean_sd(ensemble.val_errors)} | {mean_sd(ensemble.val_nll, 4, False)} | {gain / sd:.1f} |"
        )
    students = rows[(rows.model == "distilled") | control].fillna({"temperature": 0, "hard_weight": -1})
    if students.empty:
        return "\n".join(lines) + "\n"
    lines += [
        "",
        "| members' jitter, epochs | dropout | T | hard weight | distilled: errors | NLL |",
        "|---|---|---:|---:|---:|---:|",
    ]
    settings = ["member_jitter", "member_epochs", "input_dropout", "temperature", "hard_weight"]
    for (jitter, epochs, dropout, T, w), cell in students.groupby(settings):
        lines.append(
            f"| {jitter:.0f}, {epochs:.0f} | {'members' if dropout else 'none'} | {f'{T:g}' if T else '–'} | "
            f"{'labels only' if w < 0 else f'{w:g}'} | "
            f"{errors_or_diverged(cell.val_errors)} | {mean_sd(cell.val_nll.dropna(), 4, False)} |"
        )
    return "\n".join(lines) + "\n"
