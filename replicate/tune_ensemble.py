"""How §4's ensemble recipe was chosen: its members' jitter and epochs, then the distilled net's T and hard weight,
on a validation split (the last 10,000 training images; the test set is never touched).

    # the members: one ensemble of 10 per combination; each member's and the ensemble's errors and NLL
    python replicate/tune_ensemble.py --preset paper --jitter 0 2 --epochs 10 20 --out results/mnist/ensemble_validation
    # the distilled net, from the chosen ensemble (its members are kept and loaded)
    python replicate/tune_ensemble.py --preset paper --jitter 0 --epochs 10 --temperature 2 5 20 --hard-weight 0.1 0.5 \
        --distilled-dropout yes no
    # the control: the distilled net's architecture and training on the labels alone (give one T)
    python replicate/tune_ensemble.py --preset paper --jitter 0 --epochs 10 --temperature 2 --hard-weight -1

The members start from the preset's recipe (800-800, the teacher's dropout and max-norm); the distilled net has the
members' architecture and training on the un-jittered images, with or without their dropout. Rows go to
<out>/ensemble_validation.csv.
"""

import dataclasses
import itertools
import sys
from pathlib import Path

from distill.experiments.ensemble import ensemble_logits, use_ensemble
from distill.lab.cli import ScriptParser, add_common_arguments, run, setup
from distill.lab.presets import MNIST_PRESETS
from distill.lab.run import Run
from distill.lab.store import Store

LOG = "ensemble_validation"


def main(argv=None) -> int:
    parser = ScriptParser(__doc__, __file__)
    add_common_arguments(parser, MNIST_PRESETS, default_out="runs/mnist/ensemble_validation", resumable=False)
    parser.set_defaults(preset="quick")
    add = parser.add_argument
    add("--jitter", type=int, nargs="+", help="members' jitter in pixels (default: the preset's)")
    add("--epochs", type=int, nargs="+", help="members' epochs (default: the preset's)")
    add("--temperature", type=float, nargs="+", default=[], help="distil at these T (default: members only)")
    add(
        "--hard-weight",
        type=float,
        nargs="+",
        help="hard-term weights of the distilled nets, < 0: the labels alone (default: the preset's)",
    )
    add(
        "--distilled-dropout",
        choices=["yes", "no"],
        nargs="+",
        help="whether the distilled net keeps the members' dropout (default: the preset's)",
    )
    args = parser.parse_args(argv)
    preset = MNIST_PRESETS[args.preset]
    recipe = preset.ensemble
    if min(args.jitter or [0]) < 0 or min(args.epochs or [1]) < 1:
        parser.error("--jitter must be >= 0 and --epochs >= 1")
    if not all(w <= 1 for w in args.hard_weight or []):
        parser.error(f"--hard-weight values must be at most 1 (or < 0 for labels only), got {args.hard_weight}")
    if not all(0 < t < 1e6 for t in args.temperature):
        parser.error(f"--temperature values must be > 0 and finite, got {args.temperature}")
    data = setup(args)
    splits = data.splits(preset.train_subset, validation=preset.held_out())
    cache = Store(Path(args.cache_dir), kept=True)
    jitters, epochs = args.jitter or [recipe.member.train.jitter], args.epochs or [recipe.member.train.epochs]
    for seed, jitter, member_epochs in itertools.product(args.seeds, jitters, epochs):
        run = Run(f"tune-{args.preset}", seed, splits, args.out, LOG, LOG, cache=cache)
        member = recipe.member.with_train(jitter=jitter, epochs=member_epochs, precision=args.precision)
        logits = use_ensemble(run, member, 1.0)
        ensemble_id = run.teacher_run_id
        dropouts = [d == "yes" for d in args.distilled_dropout or []] or [recipe.distilled_dropout]
        for T, w, dropout in itertools.product(args.temperature, args.hard_weight or [recipe.hard_weight], dropouts):
            run.teach_with(ensemble_id, *(ensemble_logits(z, T) for z in logits))
            columns = {"member_jitter": jitter, "member_epochs": member_epochs}
            student = dataclasses.replace(recipe, member=member, distilled_dropout=dropout).distilled()
            if w < 0:  # the control: the distilled net's architecture and training, on the labels alone
                run.fit("baseline", student, run.label_loss(), columns)
                continue
            run.distill(student, T, w, columns=columns, log_divergence=True)  # a diverging setting is a result
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
