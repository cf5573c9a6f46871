"""Every hyper-parameter of the MNIST experiments, in one place.

``paper`` is the recipe meant to reach the published numbers of §3; ``quick``
shows the effect in minutes on a 2-core CPU; ``smoke`` runs in seconds for the
tests. Architecture and regularisers follow the paper; the optimiser settings
are ours (the paper does not give them) and were chosen on a validation split
held out from the training set, never on the test set (REPRODUCE.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from distill.train import TrainConfig


@dataclass(frozen=True)
class Stage:
    """One model of the experiment: its architecture, its regularisers and its optimisation."""

    hidden: tuple[int, ...]  # hidden layer widths
    train: TrainConfig
    input_dropout: float = 0.0  # probability of dropping an input pixel
    hidden_dropout: float = 0.0  # probability of dropping a hidden unit


@dataclass(frozen=True)
class MnistPreset:
    teacher: Stage  # §3: 784-1200-1200-10, dropout, max-norm, ±2 px jitter
    baseline: Stage  # §3: 784-800-800-10, no regularisation at all
    distilled: Stage  # §3: the same student, trained on the teacher's soft targets
    temperature: float = 20.0  # T of the soft targets (§3: T = 20)
    hard_weight: float = 0.1  # weight of the true-label term against the T²-scaled soft term (§2)
    train_subset: int | None = None  # use only the first n training images (smoke tests)


TEACHER = (1200, 1200)
STUDENT = (800, 800)

PAPER = MnistPreset(
    teacher=Stage(
        hidden=TEACHER,
        input_dropout=0.2,  # Hinton et al. 2012: 20 % of the pixels
        hidden_dropout=0.5,  # and half of the hidden units
        train=TrainConfig(epochs=150, batch_size=100, lr=0.05, momentum=0.9, max_norm=3.5, jitter=2, bf16=True),
    ),
    baseline=Stage(hidden=STUDENT, train=TrainConfig(epochs=40, batch_size=100, lr=0.1, momentum=0.9, bf16=True)),
    distilled=Stage(hidden=STUDENT, train=TrainConfig(epochs=50, batch_size=100, lr=0.1, momentum=0.9, bf16=True)),
)

QUICK = replace(
    PAPER,
    teacher=replace(PAPER.teacher, train=replace(PAPER.teacher.train, epochs=40)),
    baseline=replace(PAPER.baseline, train=replace(PAPER.baseline.train, epochs=20)),
    distilled=replace(PAPER.distilled, train=replace(PAPER.distilled.train, epochs=20)),
)

SMOKE = replace(
    PAPER,
    teacher=replace(PAPER.teacher, train=replace(PAPER.teacher.train, epochs=2)),
    baseline=replace(PAPER.baseline, train=replace(PAPER.baseline.train, epochs=2)),
    distilled=replace(PAPER.distilled, train=replace(PAPER.distilled.train, epochs=2)),
    train_subset=2000,
)

MNIST_PRESETS = {"paper": PAPER, "quick": QUICK, "smoke": SMOKE}
