"""Tables and figures from the logged CSVs: no training, no data set needed.

Reads results/mnist/runs.csv and epochs.csv and writes
    results/SUMMARY.md                 published | measured (mean ± sd, n) | difference
    figures/mnist_headline.png         test errors per model, seeds as dots, published marked
    figures/mnist_learning_curves.png  test errors per epoch of the three models
and refreshes the headline table in README.md (between its headline markers).
Running it twice on the same CSVs gives the same files.

    python replicate/figures.py
"""

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from distill.mnist import PUBLISHED_TEST_ERRORS  # noqa: E402

MODELS = list(PUBLISHED_TEST_ERRORS)
LABELS = {
    "teacher": "teacher 1200-1200\n(dropout, jitter)",
    "baseline": "student 800-800\nalone",
    "distilled": "student 800-800\ndistilled, T=20",
}
plt.rcParams.update({"figure.dpi": 110})


def read_csv(path: Path, required: list[str]) -> pd.DataFrame:
    """A results CSV with the columns this script needs; a clear error naming file and column if not."""
    table = pd.read_csv(path)
    for column in required:
        if column not in table.columns:
            sys.exit(f"error: {path} has no column '{column}'")
        if column.endswith(("errors", "seed", "epoch")) and not pd.api.types.is_numeric_dtype(table[column]):
            sys.exit(f"error: {path}: column '{column}' holds non-numeric values")
    return table


def headline(runs: pd.DataFrame, preset: str) -> pd.DataFrame:
    """One line per model: published, measured mean ± sd over seeds, difference."""
    main = runs[(runs.experiment == "main") & (runs.preset == preset) & (runs.eval_split == "test")]
    main = main.drop_duplicates("run_id")
    lines = []
    for model in MODELS:
        errors = main[main.model == model].test_errors
        lines.append(
            {
                "model": model,
                "published": PUBLISHED_TEST_ERRORS[model],
                "n": len(errors),
                "mean": errors.mean() if len(errors) else float("nan"),
                "sd": errors.std() if len(errors) > 1 else float("nan"),
                "seeds": ", ".join(str(int(e)) for e in errors),
                "train_minutes": main[main.model == model].train_seconds.mean() / 60,
            }
        )
    return pd.DataFrame(lines)


def markdown(table: pd.DataFrame, preset: str, device: str) -> str:
    rows = [
        f"MNIST test errors (of 10,000), `{preset}` preset, mean ± sd over seeds; {device}.",
        "",
        "| model | published | measured | difference | per seed | train time (min) |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for line in table.itertuples():
        if line.n == 0:
            rows.append(f"| {line.model} | {line.published} | not run | | | |")
            continue
        spread = f" ± {line.sd:.1f}" if line.n > 1 else ""
        rows.append(
            f"| {line.model} | {line.published} | {line.mean:.1f}{spread} (n={line.n}) | "
            f"{line.mean - line.published:+.1f} | {line.seeds} | {line.train_minutes:.1f} |"
        )
    return "\n".join(rows) + "\n"


def preset_summary(runs: pd.DataFrame, preset: str) -> str:
    """The markdown table of one preset, the gap closed, and the wall time of each seed."""
    table = markdown(headline(runs, preset), preset, devices_of(runs, preset))
    wall = f"Wall time per seed (≈, all three models): {seed_wall_minutes(runs, preset)}.\n"
    return f"{table}\n{gap_closed(runs, preset)}\n{wall}"


def gap_closed(runs: pd.DataFrame, preset: str) -> str:
    """Share of the student-alone-to-teacher gap that distillation closes, per seed (§3: (146−74)/(146−67) = 91 %)."""
    main = runs[(runs.experiment == "main") & (runs.preset == preset) & (runs.eval_split == "test")]
    errors = main.drop_duplicates("run_id").pivot_table(index="seed", columns="model", values="test_errors")
    if not set(MODELS) <= set(errors.columns):
        return ""
    errors = errors.dropna()
    share = (errors.baseline - errors.distilled) / (errors.baseline - errors.teacher)
    per_seed = ", ".join(f"{100 * v:.0f} %" for v in share)
    return f"Gap closed by distillation, (alone − distilled)/(alone − teacher): {per_seed} (published: 91 %).\n"


def devices_of(runs: pd.DataFrame, preset: str) -> str:
    selected = runs[(runs.preset == preset) & (runs.experiment == "main")]
    return ", ".join(sorted(selected.device.dropna().unique())) or "no runs"


def seed_wall_minutes(runs: pd.DataFrame, preset: str) -> str:
    """≈ wall time of each seed: from its teacher's start (finish minus training time) to its last model's finish."""
    main = runs[(runs.experiment == "main") & (runs.preset == preset)].drop_duplicates("run_id")
    spans = []
    for seed, group in main.groupby("seed"):
        finished = pd.to_datetime(group.finished_at)
        teacher = group[group.model == "teacher"]
        if teacher.empty or len(group) < 3:
            continue
        start = pd.to_datetime(teacher.finished_at.iloc[0]) - pd.Timedelta(seconds=float(teacher.train_seconds.iloc[0]))
        spans.append(f"seed {seed}: {(finished.max() - start).total_seconds() / 60:.1f} min")
    return "; ".join(spans) or "no complete seed"


def tuning_markdown(results: Path) -> str:
    """The validation-split sweeps (replicate/tune.py), one line per trained model."""
    lines = ["| sweep | model | epochs | lr | hard weight | bf16 | val errors | KL to teacher (transfer / val) |"]
    lines.append("|---|---|---:|---:|---:|---|---:|---|")
    for name in ("teacher_tuning", "distillation_tuning"):
        path = results / "mnist" / "tuning" / f"{name}.csv"
        if not path.exists():
            lines.append(f"| {name} | not run | | | | | | |")
            continue
        for r in read_csv(path, ["model", "epochs", "cfg_lr", "val_errors"]).itertuples():
            kl = getattr(r, "transfer_kl", float("nan"))
            kl_text = f"{kl:.2g} / {r.val_kl:.2g}" if pd.notna(kl) else ""
            weight = "" if pd.isna(getattr(r, "hard_weight", float("nan"))) else f"{r.hard_weight:g}"
            settings = f"{r.epochs} | {r.cfg_lr:g} | {weight} | {r.cfg_bf16}"
            lines.append(f"| {name} | {r.model} | {settings} | {r.val_errors} | {kl_text} |")
    return "\n".join(lines) + "\n"


def plot_headline(runs: pd.DataFrame, table: pd.DataFrame, preset: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    main = runs[(runs.experiment == "main") & (runs.preset == preset) & (runs.eval_split == "test")]
    for x, line in enumerate(table.itertuples()):
        errors = main[main.model == line.model].test_errors
        ax.bar(x - 0.2, line.published, width=0.4, color="#bbbbbb", label="published" if x == 0 else None)
        ax.bar(x + 0.2, line.mean, width=0.4, color="#3b75af", label="measured (mean)" if x == 0 else None)
        ax.scatter([x + 0.2] * len(errors), errors, color="black", s=12, zorder=3, label="seeds" if x == 0 else None)
        ax.text(x - 0.2, line.published + 2, str(line.published), ha="center", va="bottom", fontsize=8)
        if line.n:
            ax.text(x + 0.2, line.mean + 2, f"{line.mean:.0f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(table)), [LABELS[m] for m in table.model], fontsize=8)
    ax.set_ylabel("test errors (of 10,000)")
    ax.set_title(f"MNIST, §3 of Hinton et al. (2015): published vs measured ({preset} preset)", fontsize=9)
    ax.legend(fontsize=8, frameon=False)
    save(fig, path)


def plot_learning_curves(runs: pd.DataFrame, epochs: pd.DataFrame, preset: str, path: Path) -> None:
    main = runs[(runs.experiment == "main") & (runs.preset == preset) & (runs.eval_split == "test")]
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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", default="results", help="folder with mnist/runs.csv (default: results)")
    parser.add_argument("--figures", default="figures", help="folder the PNGs go to (default: figures)")
    parser.add_argument("--preset", default="paper", help="which preset's runs to summarise (default: paper)")
    parser.add_argument("--readme", default="README.md", help="README whose headline block is refreshed")
    parser.add_argument("--reproduce", default="REPRODUCE.md", help="REPRODUCE.md whose MNIST block is refreshed")
    args = parser.parse_args(argv)
    results, figures = Path(args.results), Path(args.figures)
    runs_csv = results / "mnist" / "runs.csv"
    if not runs_csv.exists():
        sys.exit(f"error: {runs_csv} does not exist; run replicate/mnist.py first")
    runs = read_csv(runs_csv, ["run_id", "experiment", "model", "preset", "eval_split", "test_errors", "seed"])
    epochs = read_csv(results / "mnist" / "epochs.csv", ["run_id", "model", "epoch", "test_errors"])
    figures.mkdir(parents=True, exist_ok=True)
    table = headline(runs, args.preset)
    summary = preset_summary(runs, args.preset)
    (results / "SUMMARY.md").write_text("# Results\n\n## MNIST §3, headline\n\n" + summary)
    plot_headline(runs, table, args.preset, figures / "mnist_headline.png")
    plot_learning_curves(runs, epochs, args.preset, figures / "mnist_learning_curves.png")
    reproduce = Path(args.reproduce)
    if reproduce.exists() and "<!-- reproduce-mnist:start -->" in reproduce.read_text():
        block = (
            f"{summary}\n"
            f"Validation sweeps behind the optimiser settings (last 10,000 training images held out):\n\n"
            f"{tuning_markdown(results)}"
        )
        text = replace_block(reproduce.read_text(), block, "reproduce-mnist")
        if "<!-- reproduce-quick:start -->" in text:
            text = replace_block(text, preset_summary(runs, "quick"), "reproduce-quick")
        reproduce.write_text(text)
    readme = Path(args.readme)
    if readme.exists() and "<!-- headline:start -->" in readme.read_text():
        block = summary + "\n![headline](figures/mnist_headline.png)\n"
        readme.write_text(replace_block(readme.read_text(), block, "headline"))
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
