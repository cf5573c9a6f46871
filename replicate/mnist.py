"""Hinton, Vinyals & Dean (2015) §3 on MNIST: 67 / 146 / 74 test errors.

Published (test errors out of 10,000):
    teacher   784-1200-1200-10, dropout + max-norm, inputs jittered ±2 px   67
    baseline  784-800-800-10, no regularisation                            146
    distilled the same student trained on the teacher's soft targets, T=20  74

This script trains the three models for each seed, prints published vs
measured, and appends one row per model to <out>/runs.csv (learning curves to
<out>/epochs.csv). Times on a 2-core CPU: see REPRODUCE.md.

    python replicate/mnist.py                     # paper preset, seed 0
    python replicate/mnist.py --preset quick      # the effect in minutes
    python replicate/mnist.py --seeds 0 1 2 --data-dir /path/to/data
"""

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from distill.cli import add_common_arguments, setup  # noqa: E402
from distill.mnist import run_main  # noqa: E402
from distill.presets import MNIST_PRESETS  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser, MNIST_PRESETS, default_out="results/mnist")
    parser.add_argument(
        "--temperature", type=float, default=None, help="T of the soft targets (default: the preset's, 20)"
    )
    parser.add_argument(
        "--hard-weight",
        type=float,
        default=None,
        help="weight of the true-label term next to the T²-scaled soft term (default: the preset's)",
    )
    parser.add_argument(
        "--validation",
        type=int,
        default=0,
        metavar="N",
        help="hold out the last N training images and report errors on them instead of on the test set "
        "(for tuning without test data; default 0: train on all 60,000, report test errors)",
    )
    parser.add_argument(
        "--retrain-teacher", action="store_true", help="train a new teacher even if an identical one is cached"
    )
    parser.add_argument(
        "--models",
        nargs="+",
        choices=["teacher", "baseline", "distilled"],
        default=["teacher", "baseline", "distilled"],
        help="which models to train; the teacher is always trained or loaded from the cache (default: all three)",
    )
    args = parser.parse_args(argv)
    preset = MNIST_PRESETS[args.preset]
    if args.temperature is not None:
        if args.temperature <= 0:
            parser.error(f"--temperature must be > 0, got {args.temperature}")
        preset = dataclasses.replace(preset, temperature=args.temperature)
    if args.hard_weight is not None:
        if args.hard_weight < 0:
            parser.error(f"--hard-weight must be >= 0, got {args.hard_weight}")
        preset = dataclasses.replace(preset, hard_weight=args.hard_weight)
    data = setup(args)
    run_main(
        data,
        preset,
        args.preset,
        args.seeds,
        Path(args.out),
        validation=args.validation,
        cache_dir=Path(args.cache_dir),
        retrain_teacher=args.retrain_teacher,
        models=tuple(args.models),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
