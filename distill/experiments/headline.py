"""§3 of the paper on MNIST: teacher, student alone, and the student distilled at T = 20 (67 / 146 / 74 errors).

For each seed: train the teacher (dropout, max-norm, jitter) → compute its logits v on the un-jittered training
images once, in eval mode → train the student on the labels alone → train the same student, from the same initial
weights and on the same batches, on T²·KL(p‖q) + w·CE(labels).
"""

import math
import statistics

import pandas as pd

from distill.lab.experiment import Experiment
from distill.lab.presets import PAPER, MnistPreset
from distill.lab.run import Run
from distill.reporting.plots import BLUE, GREY, ORANGE, plt
from distill.reporting.study import COLUMNS, NAMES, cells, kept, panels, shown, start
from distill.reporting.tables import Results, devices_of, latest, mean_sd, percentages, with_interval

PUBLISHED_TEST_ERRORS = {"teacher": 67, "baseline": 146, "distilled": 74}  # §3
SHOWN_AS = {"teacher": "teacher", "baseline": "student alone", "distilled": "distilled student"}  # rows: "baseline"
MODELS = list(PUBLISHED_TEST_ERRORS)
LABELS = {
    "teacher": "teacher 1200-1200\n(dropout, jitter)",
    "baseline": "student 800-800\nalone",
    "distilled": "student 800-800\ndistilled, T=20",
}


def run_seed(run: Run, preset: MnistPreset, models: tuple[str, ...] = tuple(MODELS)) -> None:
    """The students of ``models`` for one seed, after its teacher."""
    if "baseline" in models:
        run.fit("baseline", preset.students.alone, run.label_loss(), kl_temperature=preset.temperature)
    if "distilled" in models:
        run.distill(preset.students.distilled, preset.temperature, preset.hard_weight)


def headline_rows(runs: pd.DataFrame, preset: str, eval_name: str = "test") -> pd.DataFrame:
    """The headline's rows of a preset on one split: its students, and each seed's teacher whichever experiment
    happened to train it (a kept teacher keeps the tag of its first run)."""
    runs = runs[(runs.preset == preset) & (runs.eval_split == eval_name)]
    is_teacher, is_main = runs.model == "teacher", runs.experiment == "main"
    # one teacher per seed: a seed whose students' teacher is tagged "main" counts no other experiment's teacher
    other_teacher = is_teacher & ~is_main & runs.seed.isin(runs.seed[is_teacher & is_main])
    return runs[(is_main | is_teacher) & ~other_teacher]


def summary(results: Results, preset: str, eval_name: str = "test") -> str:
    """Published next to measured, the gap closed, and the training time of each complete seed. On a validation
    split the difference is left out: the paper reports test errors only."""
    runs = results.runs
    caption = "MNIST test errors (of 10,000)" if eval_name == "test" else "MNIST validation errors (held-out images)"
    devices = devices_of(runs[(runs.preset == preset) & (runs.experiment == "main")])
    lines = [
        f"{caption}, `{preset}` preset, mean ± sd over seeds; {devices}.\n",
        "| model | published | measured | difference | per seed | train time (min) |",
        "|---|---:|---:|---:|---|---:|",
    ]
    rows = headline_rows(runs, preset, eval_name).sort_values("seed")
    for model, published in PUBLISHED_TEST_ERRORS.items():
        of_model = rows[rows.model == model]
        errors = of_model[f"{eval_name}_errors"]
        if errors.empty:
            lines.append(f"| {SHOWN_AS[model]} | {published} | not run | | | |")
            continue
        digits = 1 if len(errors) > 1 else 0  # one seed: its error count, 74 rather than 74.0
        difference = f"{errors.mean() - published:+.{digits}f}" if eval_name == "test" else "n/a"
        seeds, minutes = ", ".join(str(int(e)) for e in errors), of_model.train_seconds.mean() / 60
        lines.append(
            f"| {SHOWN_AS[model]} | {published} | {mean_sd(errors)} | {difference} | {seeds} | {minutes:.1f} |"
        )
    # the share of the student-alone-to-teacher gap that distillation closes, per seed (§3: (146−74)/(146−67) = 91 %)
    errors, gap = rows.pivot_table(index="seed", columns="model", values=f"{eval_name}_errors"), ""
    if set(MODELS) <= set(errors.columns):
        errors = errors.dropna()
        per_seed = percentages((errors.baseline - errors.distilled) / (errors.baseline - errors.teacher))
        gap = f"Gap closed by distillation, (alone − distilled)/(alone − teacher): {per_seed} (published: 91 %).\n"
    complete = [f"{g.train_seconds.sum() / 60:.1f}" for _, g in rows.groupby("seed") if set(MODELS) <= set(g.model)]
    wall = f"Training time per seed (all three models, no evaluation): {', '.join(complete) or '—'} min.\n"
    return "\n".join(lines) + f"\n\n{gap}\n{wall}"


def glance(results: Results, preset: str) -> list[tuple[str, str, str]]:
    """Published against measured for each model, and the share of the gap closed."""
    rows = headline_rows(results.runs, preset)
    measured = lambda model: mean_sd(rows[rows.model == model].test_errors)
    lines = [
        (f"§3 {SHOWN_AS[model]}: test errors", f"{published}", measured(model))
        for model, published in PUBLISHED_TEST_ERRORS.items()
    ]
    errors = rows.pivot_table(index="seed", columns="model", values="test_errors")
    if set(MODELS) <= set(errors.columns) and len(errors.dropna()):
        errors = errors.dropna()
        gap = (errors.baseline - errors.distilled) / (errors.baseline - errors.teacher)
        mean = f" (mean {with_interval(100 * gap, 0, sign='', unit=' %')})" if len(gap) > 1 else ""
        lines.append(("§3 gap to the teacher closed by distillation", "91 %", percentages(gap) + mean))
    return lines


def plot_headline(results: Results, preset: str) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    main = headline_rows(results.runs, preset)
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
    ax.set_xticks(range(len(MODELS)), [LABELS[m] for m in MODELS], fontsize=8)
    ax.legend(fontsize=8, loc="upper right")  # above the distilled student's short bars, below the tallest label
    return fig


def plot_comparison(ours: Results | None, yours: Results, preset: str) -> plt.Figure:
    """Test errors per model: published, ours (the committed rows) and yours, each seed a dot."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    sources = {"ours": ours, "yours": yours}
    for x, (model, published) in enumerate(PUBLISHED_TEST_ERRORS.items()):
        ax.bar(x - 0.27, published, width=0.27, color="#bbbbbb", label="published" if x == 0 else None)
        for shift, (name, color) in zip((0, 0.27), (("ours", BLUE), ("yours", ORANGE))):
            rows = headline_rows(sources[name].runs, preset) if sources[name] is not None else None
            errors = rows[rows.model == model].test_errors if rows is not None else []
            if len(errors):
                ax.bar(x + shift, errors.mean(), width=0.27, color=color, label=f"{name} (mean)" if x == 0 else None)
                ax.scatter([x + shift] * len(errors), errors, color="black", s=8, zorder=3)
    ax.set_xticks(range(len(MODELS)), [LABELS[m] for m in MODELS], fontsize=8)
    ax.set(ylabel="test errors (of 10,000)", title=f"Your runs beside ours and the paper's ({preset} preset)")
    ax.legend(fontsize=8)
    return fig


def plot_learning_curves(results: Results, preset: str) -> plt.Figure | str:
    if results.epochs is None:
        return "no epochs.csv"
    epochs = results.epochs
    curves = epochs[epochs.run_id.isin(headline_rows(results.runs, preset).run_id)]
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for model, color in zip(MODELS, (GREY, ORANGE, BLUE)):
        for i, (_, run) in enumerate(curves[curves.model == model].groupby("run_id", sort=True)):
            ax.plot(run.epoch, run.test_errors, color=color, lw=1, alpha=0.8, label=model if i == 0 else None)
        ax.axhline(PUBLISHED_TEST_ERRORS[model], color=color, ls=":", lw=1)
    ax.set(yscale="log", xlabel="epoch", ylabel="test errors (log scale)")
    ax.set_title("Learning curves; dotted: published final errors")
    ax.legend(fontsize=8)
    return fig


def findings(results: Results, study_rows) -> list[str]:
    """README's findings on the headline and the settings behind it, each with its numbers and the rows they come
    from: the paper preset's rows, the validation study's (``study_rows``) and the superseded ones."""
    rows = headline_rows(results.runs, "paper").sort_values("seed")
    errors = rows.pivot_table(index="seed", columns="model", values="test_errors")
    if not set(MODELS) <= set(errors.columns):
        return ["The paper preset's headline has not run."]
    errors = errors.dropna()
    measured = {model: mean_sd(errors[model]) for model in MODELS}
    gap = (errors.baseline - errors.distilled) / (errors.baseline - errors.teacher)
    lines = [
        f"Teacher {measured['teacher']} and student alone {measured['baseline']} test errors land near the published "
        f"67 and 146; the distilled student, {measured['distilled']}, makes "
        f"{with_interval(errors.baseline - errors.distilled, sign='')} errors fewer than the student alone (paired by "
        "seed) "
        f"and closes {with_interval(100 * gap, 0, sign='', unit=' %')} of the gap to the teacher (per seed "
        f"{percentages(gap)}; paper 91 %) "
        f"([headline rows](results/mnist/runs.csv): `paper` preset, {devices_of(rows)})."
    ]
    if results.superseded is None or study_rows is None:
        return lines
    old = results.superseded[(results.superseded.experiment == "main") & (results.superseded.preset == "paper")]
    long = old[(old.model == "teacher") & (old.epochs == 300)]
    invocation = old.git_commit + old.command.fillna("")  # the students of a 300-epoch teacher are not the schedule's
    earlier = latest(old[~invocation.isin(invocation[long.index])])
    on_gpu = long[long.device.str.startswith("NVIDIA")]
    panel = next(cells(rows) for _, _, rows in panels(*study_rows) if "lr, epochs" in set(rows.factor))
    cell = lambda factor, value: panel[(panel.factor == factor) & (panel.value == value)]["mean"].iloc[0]
    start = panel[panel.factor == ""]["mean"].iloc[0]
    seen = old[(old.model == "distilled") & (old.epochs == 50) & old.seed.eq(0)].sort_values("finished_at")
    taught = study_rows[1][study_rows[1].teacher_epochs == 300].finished_at.max()
    lines.append(
        f"A 300-epoch teacher made {mean_sd(on_gpu.test_errors)} test errors on one GPU "
        f"({', '.join(sorted(set(on_gpu.device)))}; [superseded rows](results/mnist/superseded/runs.csv), those of "
        "settings the presets no longer use) but taught worse on the validation split: its students "
        f"{cell('teacher epochs', '300'):.1f} and "
        f"{cell('teacher epochs, lr, epochs', '300, 0.03, 150'):.1f} validation errors against "
        f"{start:.1f} and {cell('lr, epochs', '0.03, 150'):.1f} from the 150-epoch teacher (two seeds each). One of "
        f"its students was scored on test ({seen.test_errors.iloc[-1]:.0f} errors, seed 0, logged "
        f"{seen.finished_at.iloc[-1][:16]}) before the validation runs that rejected it finished "
        f"({taught[:16]}): the choice agrees with validation, but the test score was seen first."
    )
    tried = panel[(panel.factor != "") & ~panel.factor.str.contains("alone|jittered|teacher")]
    best = tried.loc[tried["mean"].idxmin()]
    alone, distilled = (
        earlier[(earlier.model == m) & (earlier.epochs == e)] for m, e in (("baseline", 40), ("distilled", 50))
    )
    bound = two_standard_errors(panel)
    lines.append(
        f"Of the {len(tried)} two-seed cells of student settings within §3's rules, the best was {best.change} "
        f"({best['mean']:.1f} validation errors against the start's {start:.1f}, a margin "
        f"{'within' if start - best['mean'] <= bound else 'beyond'} two standard errors, {bound:.1f}), the headline's "
        f"distilled schedule since. On test: {measured['distilled']} errors, against {mean_sd(distilled.test_errors)} "
        f"at lr 0.1 for 50 epochs (student alone, 40 epochs: {mean_sd(alone.test_errors)}; superseded rows of "
        f"150-epoch teachers, {devices_of(distilled)})."
    )
    return lines + [kept_at_start(study_rows)]


def two_standard_errors(of_panel: pd.DataFrame) -> float:
    """Two standard errors of a difference of two cells' two-seed means, 2·s·√(1/2 + 1/2), s pooled over the cells."""
    two_seeds = [seeds for seeds in of_panel.per_seed if len(seeds) == 2 and not any(map(math.isnan, seeds))]
    return 2 * math.sqrt(statistics.mean(statistics.variance(seeds) for seeds in two_seeds))


def kept_at_start(study_rows) -> str:
    """The study's student settings that the paper preset kept at the study's start, each with the best value tried
    and the margin it would have had to clear: two standard errors of a difference of two-seed means."""
    said, begun, adopted = [], start(PAPER)["students"], kept()["students"]
    for title, _, rows in panels(*study_rows)[1:]:
        of_panel = cells(rows)
        bound = two_standard_errors(of_panel)
        at_start = of_panel[of_panel.factor == ""]["mean"].iloc[0]
        for factor, tried in of_panel[of_panel.factor.isin(NAMES.values())].groupby("factor", sort=False):
            column = COLUMNS[factor]
            if column in begun and begun[column] == adopted[column]:
                best = tried.loc[tried["mean"].idxmin()]
                said.append(
                    f"{factor} {shown(begun[column])} (best tried on {title.removeprefix('students of ')}: "
                    f"{best.value}, {best['mean']:.1f} against {at_start:.1f}, 2 s.e. {bound:.1f})"
                )
    return (
        "Kept at the study's start, no value tried having beaten it by more than two standard errors: "
        + "; ".join(said)
        + " ([the study](REPRODUCE.md#the-validation-study-behind-the-paper-preset))."
    )


EXPERIMENT = Experiment(
    name="main",
    title="MNIST §3, headline",
    run_seed=run_seed,
    table=summary,
    glance=glance,
    figures={"mnist_headline.png": plot_headline, "mnist_learning_curves.png": plot_learning_curves},
)
