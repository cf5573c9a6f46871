"""§3's reduced transfer sets: no 3s at all, or only 7s and 8s, and the bias offset that repairs them.

The teacher saw every digit. The student (800-800, T = 20, as in the headline experiment) learns only from
the teacher's soft targets on a transfer set that lacks some classes, so it never sees a 3 — yet the
teacher's soft targets on other digits say how much each image looks like a 3. What the student gets wrong
is mostly calibration: its output bias for the classes it never saw (or saw too much) is off. The paper
adds an offset to those biases (+3.5 for class 3; −7.6 for 7 and 8), "chosen to optimise test performance".

We sweep the offset on the test set as the paper did (test-optimal), and also choose it without test data:
the offset at which the student's mean predicted probability of those classes, over the training images,
equals their frequency in the training labels (prior matching).
"""

import copy
from dataclasses import dataclass
from functools import partial

import torch

from distill.core.models import MLP
from distill.core.train import count_errors, predict_logits
from distill.lab.experiment import Experiment
from distill.lab.presets import MnistPreset
from distill.lab.run import Run
from distill.reporting.plots import BLUE, GREEN, GREY, ORANGE, plt
from distill.reporting.tables import Results, devices_of, mean_sd


@dataclass(frozen=True)
class TransferSetExperiment:
    name: str
    title: str  # what the transfer set is, in words
    kept_classes: tuple[int, ...]  # digits in the transfer set
    offset_classes: tuple[int, ...]  # digits whose output bias gets the offset
    offsets: tuple[float, float]  # sweep range, in steps of 0.1
    published_offset: float  # what the paper added to those biases
    published: dict[str, float]  # the paper's numbers, by runs.csv column (offset_*: at its offset)

    @property
    def error_column(self) -> str:
        """The paper gives omit3's errors as a count and only78's as a percentage."""
        return "test_error_pct" if "test_error_pct" in self.published else "test_errors"

    @property
    def unit(self) -> str:
        return "test error %" if self.error_column == "test_error_pct" else "test errors"

    def quantities(self) -> list[tuple[str, str, float | None]]:
        """(label, runs.csv column, published value or None) of every number reported for this experiment."""
        error, unit, published, classes = self.error_column, self.unit, self.published, self.classes
        prior = (
            f"offset chosen without test data: the student's mean probability of {classes} over all the training "
            f"images (those left out of its transfer set too) set to {classes}'s share of the training labels"
        )
        return [
            (f"{unit}, no offset", error, published.get(error)),
            (f"errors on test {classes}s, no offset", "class_errors", published.get("class_errors")),
            (
                f"offset on the bias of {classes}, chosen on test (as the paper)",
                "test_optimal_offset",
                self.published_offset,
            ),
            (f"{unit} at the offset chosen on test", f"test_optimal_{error}", published.get(f"offset_{error}")),
            (
                f"errors on test {classes}s at that offset",
                "test_optimal_class_errors",
                published.get("offset_class_errors"),
            ),
            (
                f"test {classes}s right at that offset (%)",
                "test_optimal_class_correct_pct",
                published.get("class_correct_pct"),
            ),
            (prior, "prior_offset", None),
            (f"{unit} at that offset", f"prior_{error}", None),
            (f"errors on test {classes}s at that offset", "prior_class_errors", None),
        ]

    @property
    def classes(self) -> str:
        return " and ".join(map(str, self.offset_classes))


OMIT3 = TransferSetExperiment(
    "omit3",
    "a transfer set without 3s (omit3), and the bias offset of 3",
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
    "only78",
    "a transfer set of only 7s and 8s (only78), and the bias offsets of 7 and 8",
    kept_classes=(7, 8),
    offset_classes=(7, 8),
    offsets=(-15.0, 3.0),
    published_offset=-7.6,
    published={"test_error_pct": 47.3, "offset_test_error_pct": 13.2},
)


def transfer_mask(labels: torch.Tensor, classes: tuple[int, ...]) -> torch.Tensor:
    """True where the label is one of ``classes``: a transfer set's images, or the test images of the offset classes."""
    return torch.isin(labels, torch.tensor(classes, device=labels.device))


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
    for offset in (round(low + step / 10, 1) for step in range(round((high - low) * 10) + 1)):
        wrong = offset_logits(logits, experiment.offset_classes, offset).argmax(1) != labels
        rows.append({"offset": offset, "test_errors": int(wrong.sum()), "class_errors": int(wrong[in_classes].sum())})
    return rows


def best_offset_on_test(sweep_rows: list[dict]) -> float:
    """The offset with the fewest test errors (the paper's choice); ties go to the smallest |offset|."""
    return min(sweep_rows, key=lambda r: (r["test_errors"], abs(r["offset"])))["offset"]


def prior_matching_offset(train_logits: torch.Tensor, classes: tuple[int, ...], frequency: float) -> float:
    """The offset at which the mean predicted probability of ``classes`` over ``train_logits`` equals ``frequency``.
    That mean grows monotonically with the offset, so bisection finds it; no test image is used."""
    low, high = -50.0, 50.0
    for _ in range(60):
        middle = (low + high) / 2
        mass = offset_logits(train_logits, classes, middle).softmax(1)[:, list(classes)].sum(1).mean()
        low, high = (middle, high) if float(mass) < frequency else (low, middle)
    return round((low + high) / 2, 2)


def run_seed(run: Run, preset: MnistPreset, experiment: TransferSetExperiment) -> None:
    """Distil the student on the reduced transfer set, study the offset, log its row and the sweep."""
    train, test, classes = run.train_split, run.eval_split, experiment.offset_classes
    sweep_rows: list[dict] = []

    def offset_study(student: MLP) -> dict:
        """The student's test errors before and after each offset choice: columns of its row."""
        logits = predict_logits(student, test.images)
        in_classes = transfer_mask(test.labels, classes)
        sweep_rows.extend(sweep(logits, test.labels, experiment))
        frequency = float(transfer_mask(train.labels, classes).float().mean())
        prior = prior_matching_offset(predict_logits(student, train.images), classes, frequency)
        columns = {
            "offset_classes": " ".join(map(str, classes)),
            "class_test_count": int(in_classes.sum()),
            "class_errors": count_errors(logits[in_classes], test.labels[in_classes]),
            "class_train_frequency": round(frequency, 4),
        }
        for name, offset in (("test_optimal", best_offset_on_test(sweep_rows)), ("prior", prior)):
            # the adjusted model itself, not the logits: the offset is a change of two (or one) biases
            shifted = predict_logits(with_bias_offset(student, classes, offset), test.images)
            errors = count_errors(shifted, test.labels)
            class_errors = count_errors(shifted[in_classes], test.labels[in_classes])
            columns |= {
                f"{name}_offset": offset,
                **run.scored(errors, f"{name}_test"),
                f"{name}_class_errors": class_errors,
                f"{name}_class_correct_pct": round(100 * (1 - class_errors / columns["class_test_count"]), 2),
            }
        return columns

    mask = transfer_mask(train.labels, experiment.kept_classes)
    # as many SGD steps as the distilled student on all the images, whatever the transfer set's size: on the 7s and 8s
    # alone, as many epochs would be a fifth of the steps, with a warm-up too short for lr 0.1
    distilled = preset.study_start.distilled
    stage = distilled.with_train(epochs=round(distilled.train.epochs * len(train) / int(mask.sum())))
    transfer = train.subset(mask), run.teacher_logits[0][mask]  # the teacher's v on the kept images only
    run.distill(stage, preset.temperature, preset.hard_weight, transfer, after_training=offset_study)
    run.log_table("offset_sweeps", sweep_rows)


def table(results: Results, preset: str, experiment: TransferSetExperiment) -> str:
    """Published | measured | difference for each number of the paper, and our offset chosen without test data."""
    rows = results.rows(experiment.name, preset, "distilled")
    lines = ["| experiment | quantity | published | measured | difference |", "|---|---|---:|---:|---:|"]
    for label, column, published in experiment.quantities():
        shown = "—" if published is None else f"{published:g}"
        if rows.empty or column not in rows:
            lines.append(f"| {experiment.name} | {label} | {shown} | not run | |")
            continue
        measured = rows[column].astype(float)
        difference = "" if published is None else f"{measured.mean() - published:+.1f}"
        lines.append(f"| {experiment.name} | {label} | {shown} | {mean_sd(measured)} | {difference} |")
    devices = devices_of(results.rows(experiment.name, preset))
    text = f"`{preset}` preset, mean ± sd over seeds; {devices}.\n\n" + "\n".join(lines) + "\n"
    return text + (compared_with_paper(rows, experiment) if len(rows) else "")


def compared_with_paper(rows, experiment: TransferSetExperiment) -> str:
    """Whether our student is better or worse than the paper's, before and after the offset chosen on test, and what
    the rows can say about why."""
    error, unit = experiment.error_column, experiment.unit
    said = []
    before_and_after = {"before the offset": error, "after it": f"test_optimal_{error}"}
    for label, column in before_and_after.items():
        measured, published = (
            rows[column].astype(float).mean(),
            experiment.published[column.replace("test_optimal_", "offset_")],
        )
        comparison = "better" if measured < published else "worse"
        said.append(f"{comparison} than the paper's {label} ({measured:.1f} against {published:g} {unit})")
    return (
        f"\nOur student is {', and '.join(said)}, n = {len(rows)}. The rows hold no per-class biases or predictions "
        "beyond these counts, so they cannot say why.\n"
    )


def glance(results: Results, preset: str, experiment: TransferSetExperiment) -> list[tuple[str, str, str]]:
    rows = results.rows(experiment.name, preset, "distilled")
    name, error, unit, published = experiment.name, experiment.error_column, experiment.unit, experiment.published
    if rows.empty:
        return [(f"{name}: {unit}", f"{published[error]}", "not run")]
    measured = lambda column: mean_sd(rows[column].astype(float))
    offset = lambda column: mean_sd(rows[column].astype(float), count=False)
    on_test = f"{published[f'offset_{error}']} (offset {experiment.published_offset:+g})"
    return [
        (f"{name}: {unit}, no bias offset", f"{published[error]}", measured(error)),
        (
            f"{name}: {unit}, offset chosen on test",
            on_test,
            f"{measured(f'test_optimal_{error}')} (offset {offset('test_optimal_offset')})",
        ),
        (
            f"{name}: {unit}, offset chosen without test data",
            "—",
            f"{measured(f'prior_{error}')} (offset {offset('prior_offset')})",
        ),
    ]


def plot_offsets(results: Results, preset: str, experiment: TransferSetExperiment) -> plt.Figure | str:
    """Test errors against the bias offset, the published and the chosen offsets marked."""
    rows = results.rows(experiment.name, preset, "distilled")
    if results.sweeps is None or rows.empty:
        return "no offset sweeps logged"
    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    sweeps = results.sweeps
    in_unit = 100 / 10_000 if experiment.error_column == "test_error_pct" else 1  # the table's unit, of 10,000 images
    for i, (_, curve) in enumerate(sweeps[sweeps.run_id.isin(rows.run_id)].groupby("seed")):
        ax.plot(curve.offset, curve.test_errors * in_unit, color=BLUE, lw=1, label="seeds" if i == 0 else None)
    ax.axvline(experiment.published_offset, color=GREY, ls=":", label=f"published {experiment.published_offset:+g}")
    for column, color, label in (
        ("test_optimal_offset", ORANGE, "chosen on test"),
        ("prior_offset", GREEN, "prior matching (no test data)"),
    ):
        for j, chosen in enumerate(rows[column].astype(float)):
            ax.axvline(chosen, color=color, lw=0.8, label=label if j == 0 else None)
    classes = experiment.classes
    ax.set(
        xlabel=f"offset added to the output bias of {classes}", ylabel=f"{experiment.unit} (log scale)", yscale="log"
    )
    ax.set_title(f"{experiment.name}: transfer set of digits {''.join(map(str, experiment.kept_classes))}")
    ax.legend(fontsize=7)
    return fig


def experiment_of(transfer_set: TransferSetExperiment) -> Experiment:
    return Experiment(
        name=transfer_set.name,
        title=f"MNIST §3, {transfer_set.title}",
        run_seed=partial(run_seed, experiment=transfer_set),
        table=partial(table, experiment=transfer_set),
        glance=partial(glance, experiment=transfer_set),
        figures={f"mnist_offsets_{transfer_set.name}.png": partial(plot_offsets, experiment=transfer_set)},
    )


OMIT3_EXPERIMENT, ONLY78_EXPERIMENT = experiment_of(OMIT3), experiment_of(ONLY78)
