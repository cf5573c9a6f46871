"""Every hyper-parameter of the experiments, in one place.

``paper`` is the recipe meant to reach the published numbers of §3; ``quick`` shows the effect in minutes on a 2-core
CPU; ``smoke`` runs in seconds for the tests. Architecture and regularisers follow the paper; the optimiser settings
are ours (the paper gives none), chosen on a validation split, never on the test set (REPRODUCE.md).
"""

from dataclasses import dataclass, fields, replace

from distill.core.models import MLP, ConvNet
from distill.core.train import TrainConfig


class _Trained:
    train: TrainConfig

    def with_train(self, **changes):
        """This stage with some of its training settings changed, e.g. ``stage.with_train(epochs=3)``."""
        return replace(self, train=replace(self.train, **changes))


@dataclass(frozen=True)
class Stage(_Trained):
    """One model of the experiment: its architecture, its regularisers and its optimisation."""

    hidden: tuple[int, ...]  # hidden layer widths
    train: TrainConfig
    input_dropout: float = 0.0  # probability of dropping an input pixel
    hidden_dropout: float = 0.0  # probability of dropping a hidden unit

    def build(self) -> MLP:
        return MLP(self.hidden, input_dropout=self.input_dropout, hidden_dropout=self.hidden_dropout)

    def columns(self) -> dict:
        """The architecture as logged in runs.csv."""
        hidden = "-".join(map(str, self.hidden))
        return {"hidden": hidden, "input_dropout": self.input_dropout, "hidden_dropout": self.hidden_dropout}


@dataclass(frozen=True)
class Students(_Trained):
    """The 800-800 student's two schedules: on the labels alone, and distilled."""

    alone: Stage
    distilled: Stage

    def with_train(self, **changes):
        return Students(self.alone.with_train(**changes), self.distilled.with_train(**changes))


@dataclass(frozen=True)
class EnsembleRecipe(_Trained):
    """§4: ten members from different seeds, the ensemble of their mean softmax, one net distilled from it.

    The members are 800-800 nets with the teacher's regularisers, so that, as the paper's speech models, they do not
    memorise the transfer set; the distilled net has their architecture and training, on the un-jittered images, with
    or without their dropout."""

    member: Stage
    temperature: float  # T of the ensemble's soft targets
    hard_weight: float  # weight of the true-label term (§2)
    distilled_dropout: bool = True  # the distilled net keeps the members' dropout (False: max-norm alone)

    def with_train(self, **changes):
        return replace(self, member=self.member.with_train(**changes))

    def distilled(self) -> Stage:
        stage = self.member.with_train(jitter=0)
        return stage if self.distilled_dropout else replace(stage, input_dropout=0.0, hidden_dropout=0.0)


@dataclass(frozen=True)
class MnistPreset:
    teacher: Stage  # §3: 784-1200-1200-10, dropout, max-norm, ±2 px jitter
    students: Students  # §3: 784-800-800-10, no regularisation; the headline's schedules
    # the schedules the validation study started from: the other experiments' committed rows were run with them
    study_start: Students
    ensemble: EnsembleRecipe  # §4
    temperature: float = 20.0  # T of the soft targets (§3: T = 20)
    hard_weight: float = 0.1  # weight of the true-label term against the T²-scaled soft term (§2)
    # lr of a student distilled from a net trained alone (§5's full-data source), whose sharp targets made lr 0.1
    # diverge; chosen on validation with an ensemble of such nets (results/mnist/ensemble_tuning)
    sharp_targets_lr: float = 0.03
    train_subset: int | None = None  # use only the first n training images (smoke tests)

    def held_out(self) -> int:
        """How many of the last training images the validation sweeps score on: 10,000, or a fifth of a subset."""
        return 10_000 if self.train_subset is None else self.train_subset // 5


STUDENT = Stage(hidden=(800, 800), train=TrainConfig(epochs=50, batch_size=100, lr=0.1, momentum=0.9))
PAPER = MnistPreset(
    teacher=Stage(
        hidden=(1200, 1200),
        input_dropout=0.2,  # Hinton et al. 2012: 20 % of the pixels
        hidden_dropout=0.5,  # and half of the hidden units
        # max-norm 3.5: between Srivastava et al.'s 3 and the 2012 paper's √15; 150 epochs: chosen on validation
        train=TrainConfig(epochs=150, batch_size=100, lr=0.05, momentum=0.9, max_norm=3.5, jitter=2),
    ),
    students=Students(alone=STUDENT, distilled=STUDENT.with_train(lr=0.03, epochs=150)),  # chosen on validation
    study_start=Students(alone=STUDENT.with_train(epochs=40), distilled=STUDENT),
    ensemble=EnsembleRecipe(
        member=Stage(
            hidden=(800, 800),
            input_dropout=0.2,
            hidden_dropout=0.5,
            # 10 epochs, no jitter; then T 2, hard weight 1, no dropout for the distilled net: chosen on validation
            train=TrainConfig(epochs=10, batch_size=100, lr=0.05, momentum=0.9, max_norm=3.5, jitter=0),
        ),
        temperature=2.0,
        hard_weight=1.0,
        distilled_dropout=False,
    ),
)
QUICK_STUDENTS = Students(STUDENT.with_train(epochs=20), STUDENT.with_train(epochs=20))
QUICK = replace(
    PAPER,
    teacher=PAPER.teacher.with_train(epochs=40),
    students=QUICK_STUDENTS,
    study_start=QUICK_STUDENTS,
    ensemble=PAPER.ensemble.with_train(epochs=5),
)
SMOKE_STUDENTS = QUICK_STUDENTS.with_train(epochs=2)
SMOKE = replace(
    QUICK,
    teacher=PAPER.teacher.with_train(epochs=2),
    students=SMOKE_STUDENTS,
    study_start=SMOKE_STUDENTS,
    ensemble=PAPER.ensemble.with_train(epochs=2),
    train_subset=2000,
)
MNIST_PRESETS = {"paper": PAPER, "quick": QUICK, "smoke": SMOKE}


def with_precision(preset, precision: str):
    """``preset`` (MNIST or CIFAR-10) with every model's forward pass in ``precision``, "fp32" or "bf16". The presets
    themselves say nothing about precision: it depends on the hardware (hardware.choose_precision)."""
    stages = {f.name: getattr(preset, f.name) for f in fields(preset)}
    trained = {name: s.with_train(precision=precision) for name, s in stages.items() if isinstance(s, _Trained)}
    return replace(preset, **trained)


# --- CIFAR-10: a distillation tutorial's CNN example (experiments/cifar10.py) ---------------------


@dataclass(frozen=True)
class ConvStage(_Trained):
    """One CNN of the CIFAR-10 example: conv 3×3 with ``channels`` filters → ReLU → pool → linear."""

    channels: int
    train: TrainConfig

    def build(self) -> ConvNet:
        return ConvNet(self.channels)

    def columns(self) -> dict:
        return {"hidden": f"conv{self.channels}"}


@dataclass(frozen=True)
class CifarPreset:
    teacher: ConvStage  # conv 3→64, trained 10 epochs on the labels
    tutorial_student: ConvStage  # conv 3→16, distilled for ONE epoch with the tutorial's loss
    student: ConvStage  # conv 3→16, the corrected recipe: as many epochs as the teacher, alone and distilled
    temperature: float = 20.0  # T of the tutorial
    alpha: float = 0.7  # weight of the soft term; the hard term gets 1 − alpha
    train_subset: int | None = None  # use only the first n training images (smoke tests)


# the tutorial's optimiser and data pipeline: plain SGD (momentum 0.9, no Nesterov, constant lr 0.001),
# shuffled batches of 128 with the last, partial batch kept (DataLoader's default), float32
TUTORIAL_SGD = TrainConfig(
    epochs=10, batch_size=128, lr=0.001, momentum=0.9, warmup=0.0, nesterov=False, schedule="constant", drop_last=False
)

CIFAR_PAPER = CifarPreset(
    teacher=ConvStage(64, TUTORIAL_SGD),
    student=ConvStage(16, TUTORIAL_SGD),
    tutorial_student=ConvStage(16, replace(TUTORIAL_SGD, epochs=1)),
)
CIFAR_QUICK = replace(
    CIFAR_PAPER,
    teacher=ConvStage(64, replace(TUTORIAL_SGD, epochs=3)),
    student=ConvStage(16, replace(TUTORIAL_SGD, epochs=3)),
)
CIFAR_SMOKE = replace(
    CIFAR_PAPER,
    teacher=ConvStage(64, replace(TUTORIAL_SGD, epochs=2)),
    student=ConvStage(16, replace(TUTORIAL_SGD, epochs=2)),
    train_subset=1000,
)
CIFAR_PRESETS = {"paper": CIFAR_PAPER, "quick": CIFAR_QUICK, "smoke": CIFAR_SMOKE}
