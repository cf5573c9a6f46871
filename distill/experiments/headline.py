"""§3 of the paper on MNIST: teacher, student alone, and the student distilled at T = 20 (67 / 146 / 74 errors).

For each seed: train the teacher (dropout, max-norm, jitter) → compute its logits v on the un-jittered training
images once, in eval mode → train the student on the labels alone → train the same student, from the same initial
weights and on the same batches, on T²·KL(p‖q) + w·CE(labels).
"""

import pandas as pd

from distill.lab.experiment import Experiment
from distill.lab.presets import MnistPreset
from distill.lab.run import Run
from distill.reporting.plots import BLUE, GREY, ORANGE, plt
from distill.reporting.tables import Results, devices_of, mean_sd, percentages

PUBLISHED_TEST_ERRORS = {"teacher": 67, "baseline": 146, "distilled": 74}  # §3
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
            lines.append(f"| {model} | {published} | not run | | | |")
            continue
        digits = 1 if len(errors) > 1 else 0  # one seed: its error count, 74 rather than 74.0
        difference = f"{errors.mean() - published:+.{digits}f}" if eval_name == "test" else "n/a"
        seeds, minutes = ", ".join(str(int(e)) for e in errors), of_model.train_seconds.mean() / 60
        lines.append(f"| {model} | {published} | {mean_sd(errors)} | {difference} | {seeds} | {minutes:.1f} |")
    # the share of the student-alone-to-teacher gap that distillation closes, per seed (§3: (146−74)/(146−67) = 91 %)
    errors, gap = rows.pivot_table(index="seed", columns="model", values=f"{eval_name}_errors"), ""
    if set(MODELS) <= set(errors.columns):
        errors = errors.dropna()
        per_seed = percentages((errors.baseline - errors.distilled) / (errors.baseline - errors.teacher))
        gap = f"Gap closed by distillation, (alone − distilled)/(alone − teacher): {per_seed} (published: 91 %).\n"
    complete = [f"{g.train_seconds.sum() / 60:.1f}" for _, g in rows.groupby("seed") if set(MODELS) <= set(g.model)]
    wall = f"Training time per seed (all three models, no evaluation): {', '.join(complete) or '—'} min.\n"
    return "\n".join(lines) + f"\n\n{gap}\n{wall}"


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


EXPERIMENT = Experiment(
    name="main",
    title="MNIST §3, headline",
    run_seed=run_seed,
    table=summary,
    glance=lambda results, preset: [],  # README shows the whole table above the glance
    figures={"mnist_headline.png": plot_headline, "mnist_learning_curves.png": plot_learning_curves},
)
