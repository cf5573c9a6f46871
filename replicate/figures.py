"""Tables and figures from the logged CSVs: no training, no data set needed.

Reads <results>/mnist/*.csv and <results>/cifar10/runs.csv and writes
    results/SUMMARY.md      per experiment (distill/experiments/): published | measured | difference, its figures
    figures/*.png           every experiment's figures, the validation study's, and two illustrations of §2
and refreshes the generated blocks of README.md and REPRODUCE.md (between their start and end markers).
An experiment without rows is shown as "not run" and its figure is skipped with a note.
Running it twice on the same CSVs gives the same files.

    python replicate/figures.py
"""

import sys
from pathlib import Path

import torch

from distill.core.data import DATA_DIR_ENV, DataUnavailable, load_mnist, resolve_data_dir
from distill.core.train import predict_logits
from distill.experiments import EXPERIMENTS, headline
from distill.lab.cli import ScriptParser, fail, require_writable, run
from distill.lab.presets import MNIST_PRESETS
from distill.lab.run import Run
from distill.lab.store import Store
from distill.reporting import machine, study
from distill.reporting.illustrations import plot_dark_knowledge, plot_logit_matching_limit
from distill.reporting.plots import plt, save
from distill.reporting.tables import RUN_COLUMNS, BadResults, Results, devices_of, glance_markdown, read_csv


def plot_limit() -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    plot_logit_matching_limit(ax, [1, 1.5, 2, 3, 5, 8, 12, 20, 30, 50, 80, 130, 200])
    return fig


def plot_teacher_soft_targets(data_dir: str | None, cache_dir: Path) -> plt.Figure | str:
    """The paper preset's seed-0 teacher on a few test digits, at T = 1 and 20 (needs MNIST and the kept teacher)."""
    root = resolve_data_dir(data_dir)
    if not (root / "MNIST" / "raw").is_dir():
        return f"MNIST not found under {root} (set --data-dir or ${DATA_DIR_ENV})"
    try:
        data = load_mnist(root, torch.device("cpu"))
    except DataUnavailable as error:  # an illustration only: the tables and other figures are still made
        return str(error)
    run = Run("paper", 0, data.splits(), cache_dir, cache=Store(cache_dir, kept=True))
    stage = MNIST_PRESETS["paper"].teacher
    state = run.slot(run.cache, "teacher", stage, {}, data.train, None, 0).load(torch.device("cpu"))
    if state is None or "row" not in state:
        return f"no kept paper-preset teacher for seed 0 in {cache_dir}"
    teacher = stage.build()
    teacher.load_state_dict(state["model"])
    images = data.test.images[[int((data.test.labels == digit).nonzero()[0]) for digit in (2, 3, 4, 7, 9)]]
    return plot_dark_knowledge(images, predict_logits(teacher, images))


def replace_blocks(text: str, blocks: dict[str, str]) -> str:
    """``text`` with each generated block it has, between <!-- name:start --> and <!-- name:end -->, replaced."""
    for name, block in blocks.items():
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        if start in text:
            before, rest = text.split(start, 1)
            text = f"{before}{start}\n{block}{end}{rest.split(end, 1)[1]}"
    return text


def first_hour(folder: Path, results: Results) -> str:
    """README's first hour: smoke, quick and paper, each with what it shows, the numbers our rows give and their time
    on a named 2-core CPU."""
    lines = ["| step | command | what it tells you | our numbers: teacher, student alone, distilled | time (ours) |"]
    lines.append("|---|---|---|---|---|")
    smoke = read_csv(folder / "mnist" / "smoke" / "wall_times.csv", ["wall_minutes", "device", "precision"])
    last = smoke.iloc[-1] if smoke is not None else None
    took = f"{60 * last.wall_minutes:.0f} s on {last.device}, {last.precision}" if last is not None else "not timed"
    lines.append(
        f"| 1. smoke | `python replicate/mnist.py --preset smoke` | the install works | none: 2 epochs on "
        f"2,000 images, numbers that mean nothing | {took} |"
    )
    quick = read_csv(folder / "mnist" / "fp32" / "runs.csv", RUN_COLUMNS)
    wall = read_csv(folder / "mnist" / "fp32" / "wall_times.csv", ["command", "wall_minutes", "device"])
    if quick is not None and wall is not None:
        rows = headline.headline_rows(quick, "quick")
        numbers = ", ".join(f"{rows[rows.model == m].test_errors.mean():.0f}" for m in headline.MODELS)
        timed = wall[wall.command.str.contains("--preset quick")].iloc[-1]
        lines.append(
            f"| 2. quick | `python replicate/mnist.py --preset quick` | the effect: the distilled student beats "
            f"the student alone | {numbers} (one seed, fp32) | {timed.wall_minutes:.1f} min on "
            f"{timed.device}, fp32 |"
        )
    paper = headline.headline_rows(results.runs, "paper")
    per_seed = paper.groupby("seed").train_seconds.sum() / 60
    numbers = ", ".join(f"{paper[paper.model == m].test_errors.mean():.1f}" for m in headline.MODELS)
    lines.append(
        f"| 3. paper | `python replicate/mnist.py` | the replication: published 67, 146, 74 | {numbers} (mean "
        f"of {paper.seed.nunique()} seeds) | {per_seed.min():.0f}–{per_seed.max():.0f} min of training a "
        f"seed on {devices_of(paper[paper.experiment == 'main'])} |"
    )
    return "\n".join(lines) + "\n"


def compose(results: Results, study_rows, args) -> tuple[dict, dict, dict]:
    """The preset each experiment is shown at, its table, and every document's new text (path -> text)."""
    folder = Path(args.results)
    # an experiment is shown at the preset asked for, or at the quick preset where only that has run
    shown = {e.name: args.preset if len(results.rows(e.name, args.preset)) else "quick" for e in EXPERIMENTS}
    shown |= {"main": args.preset}
    tables = {e.name: e.table(results, shown[e.name]) for e in EXPERIMENTS}
    # README's glance: every result but the headline, whose own table stands above it
    glance = glance_markdown(
        [line for e in EXPERIMENTS if e.name != "main" for line in e.glance(results, shown[e.name])]
    )
    study_table = study.markdown(study_rows)
    sections = [
        "# Results\n\nGenerated by `python replicate/figures.py` from the CSVs next to this file; do not edit.\n"
    ]
    for e in EXPERIMENTS:
        preset = f", `{shown[e.name]}` preset" if e.script == "mnist" and e.name != "main" else ""
        embedded = "".join(f"\n![{name}](../figures/{name})\n" for name in e.figures)
        sections.append(f"## {e.title}{preset}\n\n{tables[e.name]}{embedded}")
    sections += [
        "## MNIST §3, the validation study behind the paper preset\n\n"
        f"{study_table}\n![validation study](../figures/validation_study.png)\n",
        "## Precision: fp32 against bf16 (validation split), and fp32 runs\n\n"
        f"{machine.precision_markdown(folder)}\n{machine.fp32_markdown(folder, headline.summary)}",
        f"## Speed: our loop against a DataLoader pipeline\n\n{machine.benchmark_markdown(folder)}",
        f"## Threads on a busy machine\n\n{machine.threads_markdown(folder)}",
    ]
    documents = {folder / "SUMMARY.md": "\n".join(sections)}  # path -> new text
    reproduce, readme = Path(args.reproduce), Path(args.readme)
    if reproduce.exists():
        walls = machine.wall_times(folder)  # every command's wall time, read once for every block that shows it
        documents[reproduce] = replace_blocks(
            reproduce.read_text(),
            {
                "reproduce-mnist": machine.time_of(walls, "main") + tables["main"],
                "reproduce-quick": machine.time_of(walls, "quick") + headline.summary(results, "quick"),
                "reproduce-study": study_table,
                "reproduce-wall-times": machine.wall_times_markdown(walls),
                "reproduce-no-command": machine.without_command(folder),
                "reproduce-threads": machine.threads_markdown(folder),
                "reproduce-total": machine.total_time(walls),
                **{
                    f"reproduce-{name}": machine.time_of(walls, name) + table
                    for name, table in tables.items()
                    if name != "main"
                },
            },
        )
    if readme.exists() and "<!-- headline:start -->" in readme.read_text():
        documents[readme] = replace_blocks(
            readme.read_text(),
            {
                "headline": tables["main"] + "\n![headline](figures/mnist_headline.png)\n",
                "glance": glance,
                "first-hour": first_hour(folder, results),
                "findings": "".join(f"- {line}\n" for line in headline.findings(results, study_rows)),
            },
        )
    return shown, tables, documents


def compare(folder: Path) -> int:
    """Each experiment that ``folder`` has rows of, at the preset they ran: published | ours | yours; and the headline
    of the first such preset as bars."""
    try:
        yours = Results.read(folder)
    except BadResults as error:
        fail(str(error))
    ran = [
        (e, preset)
        for e in EXPERIMENTS
        for preset in dict.fromkeys(yours.runs.preset)
        if len(yours.rows(e.name, preset))
    ]
    text = "".join(f"## {e.title}, `{preset}` preset\n\n{yours.compare(e, preset)}\n" for e, preset in ran)
    require_writable(folder, "--compare")
    (folder / "comparison.md").write_text(f"# Your runs beside ours and the paper's\n\n{text}")
    presets = [preset for e, preset in ran if e is headline.EXPERIMENT]
    if presets:
        ours = Results.committed()
        save(headline.plot_comparison(ours, yours, presets[0]), folder / "comparison.png")
    print(text + f"Written: {folder / 'comparison.md'}" + (f", {folder / 'comparison.png'}" if presets else ""))
    return 0


def main(argv=None) -> int:
    parser = ScriptParser(__doc__, __file__)
    add = parser.add_argument
    add("--results", default="results", help="folder with mnist/runs.csv (default: results)")
    add("--figures", default="figures", help="folder the PNGs go to (default: figures)")
    add("--preset", default="paper", help="which preset's runs to summarise (default: paper)")
    add("--readme", default="README.md", help="README whose headline block is refreshed")
    add("--reproduce", default="REPRODUCE.md", help="REPRODUCE.md whose MNIST block is refreshed")
    add("--data-dir", help=f"MNIST for the dark-knowledge figure (default: ${DATA_DIR_ENV} or ./data)")
    add("--cache-dir", default="runs/mnist/cache", help="kept teachers (default: %(default)s)")
    add(
        "--compare",
        metavar="FOLDER",
        help="instead: your runs (FOLDER/mnist/runs.csv, e.g. runs) beside ours and the "
        "paper, in FOLDER/comparison.md and FOLDER/comparison.png; the committed files are not touched",
    )
    args = parser.parse_args(argv)
    if args.compare:
        return compare(Path(args.compare))
    folder, figures = Path(args.results), Path(args.figures)
    # every input is read and every text composed before the first file is written: bad input changes nothing
    try:
        results, study_rows = Results.read(folder), study.read(folder)
        shown, tables, documents = compose(results, study_rows, args)
    except BadResults as error:
        fail(str(error))
    require_writable(folder, "--results")
    require_writable(figures, "--figures")
    plots = {name: plot(results, shown[e.name]) for e in EXPERIMENTS for name, plot in e.figures.items()}
    plots |= {
        "validation_study.png": study.plot(study_rows),
        "logit_matching_limit.png": plot_limit(),
        "dark_knowledge.png": plot_teacher_soft_targets(args.data_dir, Path(args.cache_dir)),
    }
    for name, figure in plots.items():  # a figure, or why it was skipped
        if isinstance(figure, str):
            print(f"note: {name}: skipped, {figure}")
        else:
            save(figure, figures / name)
    for path, text in documents.items():
        path.write_text(text)
    print(tables["main"])
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
