"""§3's reduced transfer sets: no 3s at all, or only 7s and 8s, and the bias offset that repairs them.

The teacher saw every digit. The student (800-800, T = 20, as in the headline
experiment) learns only from the teacher's soft targets on a transfer set that
lacks some classes, so it never sees a 3 — yet the teacher's soft targets on
other digits say how much each image looks like a 3. What the student gets
wrong is mostly a matter of calibration: its output bias for the classes it
never saw (or saw too much) is off. The paper adds an offset to those biases
(+3.5 for class 3; −7.6 for 7 and 8), "chosen to optimise test performance".

We sweep the offset on the test set as the paper did (labelled test-optimal),
and also choose it without test data: the offset at which the student's mean
predicted probability of those classes, over the training images, equals their
frequency in the training labels (prior matching; no test image is used).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from distill.models import MLP
from distill.presets import MnistPreset
from distill.run import Run, log_once
from distill.train import count_errors, predict_logits


@dataclass(frozen=True)
class TransferSetExperiment:
    name: str
    kept_classes: tuple[int, ...]  # digits in the transfer set
    offset_classes: tuple[int, ...]  # digits whose output bias gets the offset
    offsets: tuple[float, float]  # sweep range, in steps of 0.1
    published_offset: float  # what the paper added to those biases
    published: dict[str, float]  # the paper's numbers, see PUBLISHED below

    @property
    def error_column(self) -> str:
        """The paper gives omit3's errors as a count and only78's as a percentage."""
        return "test_error_pct" if "test_error_pct" in self.published else "test_errors"

    @property
    def unit(self) -> str:
        return "test error %" if self.error_column == "test_error_pct" else "test errors"

    def quantities(self) -> list[tuple[str, str, float | None]]:
        """(label, runs.csv column, published value or None) of every number reported for this experiment."""
        error, unit, published = self.error_column, self.unit, self.published
        classes = " and ".join(map(str, self.offset_classes))
        return [
            (f"{unit}, no offset", error, published.get(error)),
            (f"errors on test {classes}s, no offset", "class_errors", published.get("class_errors")),
            (f"offset on the bias of {classes}, chosen on test (as the paper)", "test_optimal_offset",
             self.published_offset),
            (f"{unit} at the offset chosen on test", f"test_optimal_{error}", published.get(f"offset_{error}")),
            (f"errors on test {classes}s at that offset", "test_optimal_class_errors",
             published.get("offset_class_errors")),
            (f"test {classes}s right at that offset (%)", "test_optimal_class_correct_pct",
             published.get("class_correct_pct")),
            ("offset chosen without test data (prior matching)", "prior_offset", None),
            (f"{unit} at the prior-matching offset", f"prior_{error}", None),
            (f"errors on test {classes}s at that offset", "prior_class_errors", None),
        ]  # fmt: skip


OMIT3 = TransferSetExperiment(
    name="omit3",
    kept_classes=(0, 1, 2, 4, 5, 6, 7, 8, 9),
    offset_classes=(3,),
    offsets=(-2.0, 10.0),
    published_offset=3.5,
    published={
        "test_errors": 206,
        "class_errors": 133,
        "offset_test_errors": 109,
        "offset_class_errors": 14,
        "class_correct_pct": 98.6,
    },
)
ONLY78 = TransferSetExperiment(
    name="only78",
    kept_classes=(7, 8),
    offset_classes=(7, 8),
    offsets=(-15.0, 3.0),
    published_offset=-7.6,
    published={"test_error_pct": 47.3, "offset_test_error_pct": 13.2},
)
TRANSFER_SET_EXPERIMENTS = {e.name: e for e in (OMIT3, ONLY78)}


def transfer_mask(labels: torch.Tensor, kept_classes: tuple[int, ...]) -> torch.Tensor:
    """True for the training images whose label is one of ``kept_classes``."""
    return torch.isin(labels, torch.tensor(kept_classes, device=labels.device))


def with_bias_offset(model: MLP, classes: tuple[int, ...], offset: float) -> MLP:
    """A copy of ``model`` whose output biases of ``classes`` are raised by ``offset`` (lowered if negative)."""
    shifted = copy.deepcopy(model)
    with torch.no_grad():
        shifted.output_layer.bias[list(classes)] += offset
    return shifted


def offset_logits(logits: torch.Tensor, classes: tuple[int, ...], offset: float) -> torch.Tensor:
    """The logits ``with_bias_offset`` would give: an output bias is added to every image's logit."""
    shifted = logits.clone()
    shifted[:, list(classes)] += offset
    return shifted


def sweep(logits: torch.Tensor, labels: torch.Tensor, experiment: TransferSetExperiment) -> list[dict]:
    """Test errors (all, and on the offset classes) for each offset of the sweep range, 0.1 apart."""
    low, high = experiment.offsets
    in_classes = transfer_mask(labels, experiment.offset_classes)
    rows = []
    for step in range(round((high - low) * 10) + 1):
        offset = round(low + step / 10, 1)
        predictions = offset_logits(logits, experiment.offset_classes, offset).argmax(1)
        wrong = predictions != labels
        rows.append({"offset": offset, "test_errors": int(wrong.sum()), "class_errors": int(wrong[in_classes].sum())})
    return rows


def best_offset_on_test(sweep_rows: list[dict]) -> float:
    """The offset with the fewest test errors (the paper's choice); ties go to the smallest |offset|."""
    return min(sweep_rows, key=lambda r: (r["test_errors"], abs(r["offset"])))["offset"]


def prior_matching_offset(train_logits: torch.Tensor, classes: tuple[int, ...], frequency: float) -> float:
    """The offset at which the mean predicted probability of ``classes`` over ``train_logits`` equals ``frequency``.

    That mean grows monotonically with the offset, so bisection finds it. Uses
    no test image and no training label beyond the class frequency.
    """

    def mass(offset: float) -> float:
        probabilities = offset_logits(train_logits, classes, offset).softmax(1)
        return float(probabilities[:, list(classes)].sum(1).mean())

    low, high = -50.0, 50.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if mass(middle) < frequency else (low, middle)
    return round((low + high) / 2, 2)


def offset_study(
    student: MLP,
    experiment: TransferSetExperiment,
    train_images: torch.Tensor,
    train_labels: torch.Tensor,
    test_images: torch.Tensor,
    test_labels: torch.Tensor,
) -> tuple[dict, list[dict]]:
    """The student's test errors before and after each offset choice (row columns), and the sweep itself."""
    classes = experiment.offset_classes
    logits = predict_logits(student, test_images)
    in_classes = transfer_mask(test_labels, classes)
    sweep_rows = sweep(logits, test_labels, experiment)
    frequency = float(transfer_mask(train_labels, classes).float().mean())
    chosen = {
        "test_optimal": best_offset_on_test(sweep_rows),
        "prior": prior_matching_offset(predict_logits(student, train_images), classes, frequency),
    }
    columns = {
        "offset_classes": " ".join(map(str, classes)),
        "class_test_count": int(in_classes.sum()),
        "class_errors": count_errors(logits[in_classes], test_labels[in_classes]),
        "class_train_frequency": round(frequency, 4),
    }
    for name, offset in chosen.items():
        # the adjusted model itself, not the logits: the offset is a change of two (or one) biases
        shifted = predict_logits(with_bias_offset(student, classes, offset), test_images)
        errors = count_errors(shifted, test_labels)
        columns[f"{name}_offset"] = offset
        columns[f"{name}_test_errors"] = errors
        columns[f"{name}_test_error_pct"] = round(100 * errors / len(test_labels), 3)
        class_errors = count_errors(shifted[in_classes], test_labels[in_classes])
        columns[f"{name}_class_errors"] = class_errors
        columns[f"{name}_class_correct_pct"] = round(100 * (1 - class_errors / columns["class_test_count"]), 2)
    return columns, sweep_rows


def run_transfer_set(run: Run, preset: MnistPreset, experiment: TransferSetExperiment) -> dict:
    """Distil the student on the reduced transfer set, study the offset, log row and sweep; return the row."""
    train, test = run.train_split, run.eval_split
    sweep_rows: list[dict] = []

    def study(student: MLP) -> dict:
        columns, rows = offset_study(student, experiment, train.images, train.labels, test.images, test.labels)
        sweep_rows.extend(rows)
        return columns

    mask = transfer_mask(train.labels, experiment.kept_classes)
    # as many SGD steps as the headline student, whatever the transfer set's size: 50 epochs of the
    # 12,116 sevens and eights are a fifth of them, and a warm-up (2 % of the steps) too short for lr 0.1
    stage = preset.distilled
    epochs = round(stage.train.epochs * len(train) / int(mask.sum()))
    stage = stage.with_train(epochs=epochs)
    run.distill(stage, preset.temperature, preset.hard_weight, run.teacher_targets(mask), after_training=study)
    row = run.rows[-1]
    identity = {"run_id": row["run_id"], "experiment": experiment.name, "seed": run.seed, "preset": run.preset_name}
    log_once(run.runs_csv.parent / "offset_sweeps.csv", [{**identity, **r} for r in sweep_rows])
    return row
