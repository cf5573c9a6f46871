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
from functools import partial
from pathlib import Path

from distill import tables
from distill.cifar10 import RECIPES, run_cifar10
from distill.cifar10_data import load_cifar10
from distill.cli import ScriptParser, add_common_arguments, finish, run_resumably, setup
from distill.presets import CIFAR_PRESETS, with_precision


def main(argv=None) -> int:
    parser = ScriptParser(__doc__, __file__)
    presets = "paper: the tutorial's schedule (teacher and students 10 epochs); quick: 3 epochs each"
    add_common_arguments(parser, CIFAR_PRESETS, default_out="results/cifar10", preset_help=presets)
    parser.add_argument("--recipe", choices=[*RECIPES, "both"], default="both",
                        help="which recipe's students (default: both)")  # fmt: skip
    args = parser.parse_args(argv)
    data = setup(args, load=load_cifar10)
    recipes = RECIPES if args.recipe == "both" else (args.recipe,)
    started = time.perf_counter()
    preset = with_precision(CIFAR_PRESETS[args.preset], args.precision)
    out, cache_dir = Path(args.out), Path(args.cache_dir)
    train = partial(run_cifar10, data, preset, args.preset, args.seeds, recipes, out, cache_dir, args.retrain_teacher)
    rows = run_resumably(args, train)  # train(checkpoints)
    print("\nCIFAR-10 test accuracy (%); the tutorial reports no accuracy to compare with.\n")
    print(tables.cifar_markdown(tables.frame(rows)))
    finish(args, started, data.train.images.device, f"recipe {args.recipe}", f"--recipe {args.recipe}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
