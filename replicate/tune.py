"""How the optimiser settings of the presets were chosen: sweeps on a validation split.

The paper gives no optimiser settings. This script holds out the last 10,000
training images, trains on the other 50,000 and reports errors on the held-out
images only; the test set is never touched. Two sweeps:

    # teachers of the given preset, one per peak learning rate and precision
    python replicate/tune.py --teacher-lr 0.02 0.05 0.1
    # students distilled from that preset's teacher (trained once, then cached),
    # one per combination of the settings given; a hard weight < 0 means "labels only"
    python replicate/tune.py --lr 0.03 0.1 --hard-weight -1 0 0.1 --epochs 30
    # does the number format matter? teachers, then students of one teacher per seed
    python replicate/tune.py --teacher-lr 0.05 --precision fp32 bf16 --seeds 0 1 2
    python replicate/tune.py --preset paper --teacher-precision bf16 --precision fp32 bf16 --epochs 50 --seeds 0 1 2

Every seed of --seeds runs the whole sweep; the students of a seed start from the
same initial weights whatever their settings (Run.fit seeds each model).

Rows go to <out>/teacher_tuning.csv and <out>/distillation_tuning.csv.
"""

import itertools
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from distill.cli import ScriptParser, add_common_arguments, resolve_precisions, setup  # noqa: E402
from distill.hardware import PRECISIONS  # noqa: E402
from distill.mnist import split_for_run  # noqa: E402
from distill.presets import MNIST_PRESETS  # noqa: E402
from distill.run import Run  # noqa: E402

VALIDATION = 10_000


def main(argv=None) -> int:
    parser = ScriptParser(__doc__)
    add_common_arguments(parser, MNIST_PRESETS, default_out="results/mnist/tuning", resumable=False, sweep=True)
    parser.set_defaults(preset="quick")
    parser.add_argument("--teacher-lr", type=float, nargs="+", help="sweep the teacher's peak learning rate instead")
    parser.add_argument("--lr", type=float, nargs="+", default=[0.1], help="students' peak learning rates")
    parser.add_argument(
        "--hard-weight", type=float, nargs="+", default=[0.1], help="hard-term weights in [0, 1]; < 0: labels only"
    )
    parser.add_argument("--temperature", type=float, nargs="+", default=[20.0], help="temperatures")
    parser.add_argument("--batch-size", type=int, nargs="+", default=[100], help="batch sizes")
    parser.add_argument("--epochs", type=int, nargs="+", default=[30], help="student epochs")
    parser.add_argument(
        "--teacher-precision",
        choices=PRECISIONS,
        default="auto",
        help="precision of the teacher the students learn from (default: auto)",
    )
    args = parser.parse_args(argv)
    if not all(0 < t < math.inf for t in args.temperature):  # written so that nan fails too
        parser.error(f"--temperature values must be > 0 and finite, got {args.temperature}")
    if not all(w <= 1 for w in args.hard_weight):  # < 0 is allowed: it means "labels only"
        parser.error(f"--hard-weight values must be at most 1 (or < 0 for labels only), got {args.hard_weight}")
    data = setup(args)
    teacher_precision = resolve_precisions(args.teacher_precision, data.train.images.device)
    out, preset = Path(args.out), MNIST_PRESETS[args.preset]
    held_out = VALIDATION if preset.train_subset is None else preset.train_subset // 5  # smoke: a fifth
    train_split, val_split, _ = split_for_run(data, preset, validation=held_out)

    for seed in args.seeds:
        if args.teacher_lr:
            run = Run(f"tune-{args.preset}", seed, train_split, val_split, "val", out, *["teacher_tuning"] * 2)
            for lr, precision in itertools.product(args.teacher_lr, args.precision):
                run.fit("teacher", preset.teacher.with_train(lr=lr, bf16=precision == "bf16"), run.label_loss())
            continue
        run = Run(f"tune-{args.preset}", seed, train_split, val_split, "val", out, *["distillation_tuning"] * 2)
        teacher = preset.teacher.with_train(bf16=teacher_precision == "bf16")
        run.use_teacher(teacher, Path(args.cache_dir), retrain=False)
        grid = itertools.product(
            args.lr, args.hard_weight, args.temperature, args.batch_size, args.epochs, args.precision
        )
        for lr, w, T, batch_size, epochs, precision in grid:
            changes = {"lr": lr, "batch_size": batch_size, "epochs": epochs, "bf16": precision == "bf16"}
            stage = preset.distilled.with_train(**changes)
            if w < 0:
                run.fit("baseline", stage, run.label_loss(), kl_temperature=T)
            else:
                run.distill(stage, T, w)
    return 0


if __name__ == "__main__":
    sys.exit(main())
