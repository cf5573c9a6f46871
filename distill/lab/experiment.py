"""What one claim of the paper declares, in one place: how to run a seed, and how to report it.

Each module of distill/experiments/ builds one ``Experiment``; the list in distill/experiments/__init__.py registers
it with replicate/mnist.py (or its own script), replicate/figures.py and the tests.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from distill.lab.run import Run


def use_preset_teacher(run, preset) -> None:
    """The students of most experiments learn from the preset's teacher, trained once per seed and then kept."""
    run.use_teacher(preset.teacher)


@dataclass(frozen=True)
class Experiment:
    name: str  # --experiment NAME, and the experiment column of runs.csv
    title: str  # the paper's section and claim: a heading in results/SUMMARY.md
    run_seed: Callable  # (run, preset): train one seed's models, after ``teach``
    table: Callable  # (results, preset) -> markdown: published against measured
    glance: Callable  # (results, preset) -> [(result, published, measured)]: README's lines, and a run's comparison
    figures: dict[str, Callable] = field(default_factory=dict)  # PNG name -> (results, preset) -> figure, or why none
    teach: Callable = use_preset_teacher  # (run, preset): what the seed's students learn from
    script: str = "mnist"  # the replicate/ script that runs it


def run_seeds(experiment: Experiment, preset_name: str, preset, args, splits, stores, retrain: bool, **options):
    """Each of ``args.seeds`` in turn: the seed's teacher, then its models (``options`` go to ``run_seed``); return
    every row they logged. ``stores``: where the students' states go, and where teachers are kept."""
    rows = []
    for seed in args.seeds:
        run = Run(preset_name, seed, splits, args.out, experiment.name, "runs", *stores, retrain)
        experiment.teach(run, preset)
        experiment.run_seed(run, preset, **options)
        rows += run.rows
    return rows
