"""A distillation tutorial's CIFAR-10 CNN example: as written, corrected, and with the baseline it lacks.

    --recipe tutorial   teacher conv 3→64 (10 epochs), student conv 3→16 distilled for ONE epoch
                        with the tutorial's loss (KLDivLoss default reduction, × T² × 2 × alpha)
    --recipe corrected  the same nets and teacher; §2's loss (KL batchmean × T², no factor 2),
                        the student distilled for as many epochs as the teacher, and the same
                        student trained alone on the labels as the baseline
    --recipe both       (default) one teacher per seed, both recipes

Both use the tutorial's data pipeline and optimiser (Normalize(0.5, 0.5), batch 128,
SGD lr 0.001 momentum 0.9, T = 20, alpha = 0.7). Rows go to <out>/runs.csv,
learning curves to <out>/epochs.csv. The tutorial reports no accuracy figures.

    python replicate/cifar10.py                          # paper preset, seed 0, downloads CIFAR-10
    python replicate/cifar10.py --preset quick --seeds 0 1 --data-dir /path/to/data
"""

import sys
import time

from distill.core.cifar10_data import load_cifar10
from distill.experiments.cifar10 import EXPERIMENT, RECIPES
from distill.lab.cli import ScriptParser, add_common_arguments, finish, run, run_resumably, setup
from distill.lab.experiment import run_seeds
from distill.lab.presets import CIFAR_PRESETS, with_precision
from distill.reporting.tables import Results


def main(argv=None) -> int:
    parser = ScriptParser(__doc__, __file__)
    presets = "paper: the tutorial's schedule (teacher and students 10 epochs); quick: 3 epochs each"
    add_common_arguments(parser, CIFAR_PRESETS, default_out="runs/cifar10", preset_help=presets)
    parser.add_argument(
        "--recipe", choices=[*RECIPES, "both"], default="both", help="which recipe's students (default: both)"
    )
    args = parser.parse_args(argv)
    data = setup(args, load=load_cifar10)
    recipes = RECIPES if args.recipe == "both" else (args.recipe,)
    started = time.perf_counter()
    preset = with_precision(CIFAR_PRESETS[args.preset], args.precision)
    splits = data.splits(preset.train_subset)
    run = lambda stores: run_seeds(
        EXPERIMENT, args.preset, preset, args, splits, stores, args.retrain_teacher, recipes=recipes
    )
    rows = run_resumably(args, run)
    print("\nCIFAR-10 test accuracy (%); the tutorial reports no accuracy to compare with.\n")
    print(EXPERIMENT.table(Results.of_rows(rows)))
    print(f"Your run beside ours:\n\n{Results.of_rows(rows).compare(EXPERIMENT, args.preset)}")
    finish(args, started, data.train.images.device, f"recipe {args.recipe}", f"--recipe {args.recipe}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
