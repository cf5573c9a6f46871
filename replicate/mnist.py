"""Hinton, Vinyals & Dean (2015) on MNIST: every MNIST result of the paper.

Experiments (--experiment; `all` runs them in this order, sharing one teacher per seed):
    main         teacher 1200-1200 (dropout, max-norm, ±2 px jitter)        67 test errors
                 student 800-800 alone                                       146
                 the same student distilled on the teacher's T=20 targets   74
    omit3        the student's transfer set has no 3s                        206 (133 on 3s)
                 ... class-3 bias raised by 3.5 (chosen on test)             109 (98.6 % of 3s right)
    only78       the transfer set is only the 7s and 8s                      47.3 % test error
                 ... biases of 7 and 8 lowered by 7.6 (chosen on test)       13.2 %
    temperature  students of 30, 300, 800 units per layer at T = 1 … 20: 30 units best at T 2.5–4,
                 ≥ 300 units similar for all T above 8
    ensemble     §4, Table 1: 10 regularised 800-800 nets, their ensemble, one net distilled from it: 86 %
                 of the ensemble's gain kept (speech frame accuracy 58.9 → 61.1, distilled 60.8)
    fewdata      §5, Table 5: the student on 3 % of the images, hard or soft targets (44.5 / 57.0 %
                 against 58.9 % on all the data: soft targets recover 87 % of the gap), from the teacher
    fewdata_source  the same, the soft targets from the full-data 800-800 net, as in the paper
    logits       §2.1: distillation at T = 5 … 100 against logit matching, its high-T limit

Each prints published vs measured and appends one row per trained model to
<out>/runs.csv (learning curves to <out>/epochs.csv; offset sweeps to
<out>/offset_sweeps.csv; the wall time of each invocation to <out>/wall_times.csv).
A teacher is trained once per preset, seed and precision and then loaded from --cache-dir.
Times on a 2-core CPU: see REPRODUCE.md.

    python replicate/mnist.py                          # headline experiment, paper preset, seed 0
    python replicate/mnist.py --preset quick           # the effect in minutes
    python replicate/mnist.py --experiment all --seeds 0 1 --data-dir /path/to/data
"""

import dataclasses
import math
import sys
import time

from distill.experiments import EXPERIMENTS, headline
from distill.lab.cli import ScriptParser, add_common_arguments, finish, run, run_resumably, setup
from distill.lab.experiment import run_seeds
from distill.lab.presets import MNIST_PRESETS, with_precision
from distill.reporting.tables import Results

MNIST = {e.name: e for e in EXPERIMENTS if e.script == "mnist"}


def main(argv=None) -> int:
    parser = ScriptParser(__doc__, __file__)
    add_common_arguments(parser, MNIST_PRESETS, default_out="runs/mnist")
    add = parser.add_argument
    add(
        "--experiment",
        choices=[*MNIST, "all"],
        default="main",
        help="which result to reproduce (default: main, the 67 / 146 / 74 headline of §3)",
    )
    add("--temperature", type=float, help="T of the soft targets (default: the preset's, 20; §4's: its own)")
    add(
        "--hard-weight",
        type=float,
        help="weight in [0, 1] of the true-label term next to the T²-scaled soft term, "
        "whose weight is 1 (default: the preset's)",
    )
    add(
        "--validation",
        type=int,
        default=0,
        metavar="N",
        help="main experiment only: hold out the last N training "
        "images and report errors on them instead of on the test set (for tuning without test data; default 0: "
        "train on all 60,000, report test errors)",
    )
    add(
        "--models",
        nargs="+",
        choices=headline.MODELS,
        default=headline.MODELS,
        help="main experiment: which models to train; the teacher is always trained or loaded from the cache "
        "(default: all three)",
    )
    args = parser.parse_args(argv)
    if args.temperature is not None and not 0 < args.temperature < math.inf:  # written so that nan fails too
        parser.error(f"--temperature must be > 0 and finite, got {args.temperature}")
    if args.hard_weight is not None and not 0 <= args.hard_weight <= 1:
        parser.error(f"--hard-weight must be within [0, 1], got {args.hard_weight}")
    experiments = list(MNIST) if args.experiment == "all" else [args.experiment]
    if args.validation and experiments != ["main"]:
        parser.error("--validation applies to --experiment main only")
    if args.models != parser.get_default("models") and experiments != ["main"]:
        parser.error("--models applies to --experiment main only")
    if args.temperature is not None and "temperature" in experiments:
        parser.error("--temperature cannot be combined with the temperature sweep, which sets T itself")
    data = setup(args)
    changes = {name: getattr(args, name) for name in ("temperature", "hard_weight") if getattr(args, name) is not None}
    preset = dataclasses.replace(MNIST_PRESETS[args.preset], **changes)
    preset = dataclasses.replace(preset, ensemble=dataclasses.replace(preset.ensemble, **changes))  # §4's own T, weight
    preset = with_precision(preset, args.precision)
    started = time.perf_counter()
    run_resumably(args, lambda stores: run_experiments(experiments, data, preset, args, stores))
    finish(args, started, data.train.images.device, args.experiment, f"--experiment {args.experiment}")
    return 0


def run_experiments(names: list[str], data, preset, args, stores) -> None:
    """Each experiment for every seed, in order; the teacher of a seed is trained (or loaded) once."""
    splits = data.splits(preset.train_subset, args.validation)  # validation: main only
    retrain = args.retrain_teacher  # a fresh teacher once; later experiments reuse it
    for name in names:
        options = {"models": tuple(args.models)} if name == "main" else {}
        members_too = args.retrain_teacher and name == "ensemble"  # the ensemble's are retrained whatever ran before
        rows = run_seeds(MNIST[name], args.preset, preset, args, splits, stores, retrain or members_too, **options)
        retrain = retrain and name == "ensemble"
        results = Results.of_rows(rows)
        table = headline.summary(results, args.preset, splits.eval_name) if name == "main" else None
        print("\n" + (table or MNIST[name].table(results, args.preset)))
        if splits.eval_name == "test":  # yours beside ours: the committed rows of this experiment and preset
            print(f"Your run beside the published numbers and ours:\n\n{results.compare(MNIST[name], args.preset)}")


if __name__ == "__main__":
    sys.exit(run(main))
