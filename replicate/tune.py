"""How the settings of the presets were chosen: sweeps on a validation split.

The paper gives no optimiser settings. This script holds out the last 10,000
training images, trains on the other 50,000 and reports errors on the held-out
images only; the test set is never touched. Two sweeps:

    # teachers: one per combination of the --teacher-* values given (the others: the preset's)
    python replicate/tune.py --preset paper --teacher-epochs 150 300 --teacher-max-norm 3.5 3.873
    # the 2012 dropout recipe's momentum, rising from 0.5 to 0.99 over the first 100 epochs
    python replicate/tune.py --preset paper --teacher-momentum 0.99 --teacher-momentum-ramp 100 --teacher-lr 0.5
    # students distilled from the preset's teacher (trained once, then cached; --students with one
    # value per --teacher-* flag: from that teacher instead), one per
    # combination of the settings given; a hard weight < 0 means "labels only" (the student alone)
    python replicate/tune.py --preset paper --temperature 4 8 20 --hard-weight -1 0 0.1 --epochs 50
    # the §2.1 limit for reference: logit matching instead of the soft term
    python replicate/tune.py --preset paper --soft-term logits
    # diagnostic, departs from §3: distil on the training images plus 9 jittered copies
    python replicate/tune.py --preset paper --jittered-copies 9
    # students distilled from an ensemble of 10 students alone (the first §4 arm; the lr of §5's source arm)
    python replicate/tune.py --preset paper --ensemble --lr 0.1 0.03 0.01 --epochs 50 \\
        --out results/mnist/ensemble_tuning

Every seed of --seeds runs the whole sweep; the students of a seed start from the
same initial weights whatever their settings (Run.fit seeds each model). Several
processes may log to one folder at once; they share a cached teacher once one of
them has trained it.

Rows go to <out>/teacher_tuning.csv and <out>/distillation_tuning.csv.
"""

import itertools
import math
import sys
from pathlib import Path

from distill.core.data import with_jittered_copies
from distill.core.losses import logit_matching_loss, soft_loss
from distill.core.train import predict_logits
from distill.experiments.ensemble import ensemble_logits, use_ensemble
from distill.lab.cli import ScriptParser, add_common_arguments, resolve_precisions, run, setup
from distill.lab.hardware import PRECISION_CHOICES
from distill.lab.presets import MNIST_PRESETS
from distill.lab.run import Run
from distill.lab.store import Store
from distill.reporting.study import changed, start

# the teacher's TrainConfig fields that --teacher-lr, --teacher-max-norm, ... sweep, and their types
TEACHER_AXES = {"lr": float, "epochs": int, "max_norm": float, "momentum": float, "momentum_ramp": int}
SOFT_TERMS = {"kl": soft_loss, "logits": logit_matching_loss}  # §2's soft term, and its high-T limit (§2.1)
# the students' axes, each defaulting to where the study started in the preset: flag -> (type, help)
STUDENT_AXES = {
    "lr": (float, "students' peak learning rates"),
    "hard_weight": (float, "hard-term weights in [0, 1]; < 0: labels only"),
    "temperature": (float, "temperatures"),
    "batch_size": (int, "batch sizes"),
    "epochs": (int, "student epochs"),
}


def main(argv=None) -> int:
    parser = ScriptParser(__doc__, __file__)
    add_common_arguments(parser, MNIST_PRESETS, default_out="runs/mnist/tuning", resumable=False, sweep=True)
    parser.set_defaults(preset="quick")
    add = parser.add_argument
    for field, kind in TEACHER_AXES.items():
        add(
            "--teacher-" + field.replace("_", "-"),
            type=kind,
            nargs="+",
            help=f"sweep the teacher's {field} instead of students",
        )
    add(
        "--students",
        action="store_true",
        help="sweep students even though --teacher-* flags are given: one value each, the teacher they learn from",
    )
    for field, (kind, what) in STUDENT_AXES.items():
        add("--" + field.replace("_", "-"), type=kind, nargs="+", help=f"{what} (default: the preset's study start)")
    add("--soft-term", choices=SOFT_TERMS, nargs="+", default=["kl"], help="kl: T²·KL(p‖q) (§2); logits: §2.1's limit")
    add(
        "--jittered-copies",
        type=int,
        nargs="+",
        default=[0],
        help="distil on the training images plus this many "
        "jittered copies, in as many SGD steps (a diagnostic that departs from §3; default 0)",
    )
    add("--ensemble", action="store_true", help="students learn from an ensemble of 10 students alone")
    add(
        "--teacher-precision",
        choices=PRECISION_CHOICES,
        default="auto",
        help="precision of the teacher (or the ensemble's members) the students learn from (default: auto)",
    )
    args = parser.parse_args(argv)
    preset = MNIST_PRESETS[args.preset]
    begun = start(preset)
    for field in STUDENT_AXES:  # the defaults: where the study started, in this preset
        if getattr(args, field) is None:
            setattr(args, field, [begun["students"]["cfg_" + field if field in ("lr", "batch_size") else field]])
    if not all(0 < t < math.inf for t in args.temperature):  # written so that nan fails too
        parser.error(f"--temperature values must be > 0 and finite, got {args.temperature}")
    if not all(w <= 1 for w in args.hard_weight):  # < 0 is allowed: it means "labels only"
        parser.error(f"--hard-weight values must be at most 1 (or < 0 for labels only), got {args.hard_weight}")
    if min(args.jittered_copies) < 0:
        parser.error(f"--jittered-copies values must be >= 0, got {args.jittered_copies}")
    teacher_axes = {field: values for field in TEACHER_AXES if (values := getattr(args, f"teacher_{field}"))}
    if args.ensemble and (teacher_axes or max(args.jittered_copies)):
        parser.error(
            "--ensemble combines with neither --teacher-* nor --jittered-copies: its members are students alone"
        )
    if args.students and any(len(values) > 1 for values in teacher_axes.values()):
        parser.error("--students learn from one teacher: give each --teacher-* flag a single value")
    data = setup(args)
    teacher_precision = resolve_precisions(args.teacher_precision, data.train.images.device)
    splits = data.splits(preset.train_subset, validation=preset.held_out())
    sweep_teachers = teacher_axes and not args.students
    log = "teacher_tuning" if sweep_teachers else "distillation_tuning"
    # what the students learn from: the teacher (with --students: of the --teacher-* values), or the ensemble's members
    source = preset.study_start.alone if args.ensemble else preset.teacher
    teacher_stage = source.with_train(
        **{f: values[0] for f, values in teacher_axes.items()}, precision=teacher_precision
    )
    cache = Store(Path(args.cache_dir), kept=True)
    teacher_settings = lambda train: {"model": "teacher", **{f"cfg_{k}": getattr(train, k) for k in TEACHER_AXES}}
    teacher_changes = lambda train: changed(teacher_settings(train) | {"epochs": train.epochs}, begun["teacher"])
    for seed in args.seeds:
        run = Run(f"tune-{args.preset}", seed, splits, args.out, log, log, cache=cache)
        if sweep_teachers:
            for values in itertools.product(*teacher_axes.values(), args.precision):
                stage = preset.teacher.with_train(**dict(zip(teacher_axes, values[:-1])), precision=values[-1])
                run.fit("teacher", stage, run.label_loss(), teacher_changes(stage.train))
            continue
        if args.ensemble:
            member_logits = use_ensemble(run, teacher_stage, 1.0)
            ensemble_id = run.teacher_run_id
        else:
            teacher = run.use_teacher(teacher_stage, teacher_changes(teacher_stage.train))
        axes = ("jittered_copies", "soft_term", "lr", "hard_weight", "temperature", "batch_size", "epochs", "precision")
        grid = itertools.product(*(vars(args)[axis] for axis in axes))
        for copies, soft_term, lr, w, T, batch_size, epochs, precision in grid:
            if args.ensemble:
                run.teach_with(ensemble_id, *(ensemble_logits(z, T) for z in member_logits))
            student, transfer = preset.study_start.distilled, None
            student = student.with_train(lr=lr, batch_size=batch_size, epochs=epochs, precision=precision)
            if copies:
                split = with_jittered_copies(splits.train, copies, preset.teacher.train.jitter, seed)
                transfer = split, predict_logits(teacher, split.images)
                student = student.with_train(epochs=max(1, round(epochs / (copies + 1))))  # as many SGD steps
            settings = {"model": "baseline" if w < 0 else "distilled", "teacher_epochs": teacher_stage.train.epochs}
            settings |= {"temperature": T, "hard_weight": w, "cfg_lr": lr, "epochs": student.train.epochs}
            settings |= {"cfg_batch_size": batch_size, "soft_term": SOFT_TERMS[soft_term].__name__}
            study = changed({**settings, "jittered_copies": copies}, begun["students"])
            columns = {"teacher_epochs": teacher_stage.train.epochs, **study}
            if w < 0:
                run.fit("baseline", student, run.label_loss(), columns, kl_temperature=T)
                continue
            columns = {"jittered_copies": copies, **columns} if copies else columns
            # a diverging setting is a result: logged, and the sweep goes on
            run.distill(student, T, w, transfer, soft_term=SOFT_TERMS[soft_term], columns=columns, log_divergence=True)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
