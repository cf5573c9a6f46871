"""How the transfer recipe of the paper preset was chosen: a sweep on a validation split.

The paper gives no optimiser settings for the distilled student. This script
holds out the last 10,000 training images, trains a teacher on the other
50,000 (or reuses the one it saved before), then distils students with each
setting given on the command line and reports their errors on the held-out
images, their KL to the teacher and their agreement with it. The test set is
never touched. Rows go to <out>/tuning.csv.

    python replicate/tune_distillation.py --lr 0.05 0.1 0.2 --hard-weight 0 0.1 0.5 --epochs 30
"""

import argparse
import dataclasses
import itertools
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from distill.cli import add_common_arguments, setup  # noqa: E402
from distill.losses import distillation_loss  # noqa: E402
from distill.mnist import Run, build  # noqa: E402
from distill.presets import MNIST_PRESETS  # noqa: E402
from distill.train import predict_logits  # noqa: E402

VALIDATION = 10_000


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser, MNIST_PRESETS, default_out="results/mnist")
    parser.add_argument("--teacher-preset", choices=list(MNIST_PRESETS), default="quick", help="(default: quick)")
    parser.add_argument("--lr", type=float, nargs="+", default=[0.1], help="peak learning rates to try")
    parser.add_argument("--hard-weight", type=float, nargs="+", default=[0.1], help="hard-term weights to try")
    parser.add_argument("--temperature", type=float, nargs="+", default=[20.0], help="temperatures to try")
    parser.add_argument("--batch-size", type=int, nargs="+", default=[100], help="batch sizes to try")
    parser.add_argument("--epochs", type=int, nargs="+", default=[30], help="student epochs to try")
    parser.add_argument("--bf16", type=int, nargs="+", choices=[0, 1], default=[1], help="bf16 autocast off/on")
    args = parser.parse_args(argv)
    data = setup(args)
    out = Path(args.out)
    preset = MNIST_PRESETS[args.teacher_preset]
    seed = args.seeds[0]
    train_split = data.train.subset(slice(0, len(data.train) - VALIDATION))
    val_split = data.train.subset(slice(len(data.train) - VALIDATION, None))
    run = Run(f"tune-{args.preset}", seed, train_split, val_split, "val", out, experiment="tuning")

    teacher_file = out / f"tuning_teacher_{args.teacher_preset}_seed{seed}.pt"
    teacher = build(preset.teacher).to(data.train.images.device)
    if teacher_file.exists():
        teacher.load_state_dict(torch.load(teacher_file, map_location=data.train.images.device))
    else:
        labels = train_split.labels
        teacher = run.fit("teacher", preset.teacher, lambda z, i: F.cross_entropy(z.float(), labels[i]))
        torch.save(teacher.state_dict(), teacher_file)
    v_train = predict_logits(teacher, train_split.images)
    run.teacher_logits = (v_train, predict_logits(teacher, val_split.images))

    labels = train_split.labels
    grid = itertools.product(args.lr, args.hard_weight, args.temperature, args.batch_size, args.epochs, args.bf16)
    for lr, w, T, batch_size, epochs, bf16 in grid:
        run.temperature = T
        stage = dataclasses.replace(
            preset.distilled,
            train=dataclasses.replace(
                preset.distilled.train, lr=lr, batch_size=batch_size, epochs=epochs, bf16=bool(bf16)
            ),
        )
        if w < 0:  # a negative weight stands for the student alone, on labels only
            run.fit("baseline", stage, lambda z, i: F.cross_entropy(z.float(), labels[i]))
            continue
        run.fit(
            "distilled",
            stage,
            lambda z, i, T=T, w=w: distillation_loss(z, v_train[i], labels[i], T, w),
            {"temperature": T, "hard_weight": w},
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
