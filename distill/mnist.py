"""§3 of the paper on MNIST: teacher, student alone, and the student distilled at T = 20.

For each seed: train the teacher (dropout, max-norm, jitter) → compute its
logits v on the un-jittered training images once, in eval mode → train the
student on the labels alone (baseline) → train the same student, from the same
initial weights and on the same batches, on T²·CE(p, q) + w·CE(labels)
(distilled). Each model appends one row to runs.csv and its learning curve to
epochs.csv as soon as it has finished.
"""

from __future__ import annotations

import statistics
import uuid
from dataclasses import asdict
from pathlib import Path

import torch

from distill.data import MNIST, Split
from distill.losses import distillation_loss, hard_loss, kl_divergence
from distill.models import MLP
from distill.presets import MnistPreset, Stage
from distill.results import append_rows, provenance
from distill.teacher_cache import load_teacher, save_teacher, teacher_key
from distill.train import count_errors, predict_logits, train

PUBLISHED_TEST_ERRORS = {"teacher": 67, "baseline": 146, "distilled": 74}  # §3


def split_for_run(data: MNIST, preset: MnistPreset, validation: int) -> tuple[Split, Split, str]:
    """The training images and the split that is evaluated: the test set, or the last
    ``validation`` training images (held out, for tuning without looking at test)."""
    train_split = data.train if preset.train_subset is None else data.train.subset(slice(0, preset.train_subset))
    if validation:
        n = len(train_split) - validation
        return train_split.subset(slice(0, n)), train_split.subset(slice(n, None)), "val"
    return train_split, data.test, "test"


def build(stage: Stage) -> MLP:
    return MLP(stage.hidden, input_dropout=stage.input_dropout, hidden_dropout=stage.hidden_dropout)


def run_main(
    data: MNIST,
    preset: MnistPreset,
    preset_name: str,
    seeds: list[int],
    out: Path,
    validation: int = 0,
    cache_dir: Path = Path("cache"),
    retrain_teacher: bool = False,
    models: tuple[str, ...] = ("teacher", "baseline", "distilled"),
) -> list[dict]:
    """Train (or load) the teacher, then baseline and distilled student, for each seed; return the rows."""
    train_split, eval_split, eval_name = split_for_run(data, preset, validation)
    rows = []
    for seed in seeds:
        run = Run(preset_name, seed, train_split, eval_split, eval_name, out)
        run.use_teacher(preset.teacher, cache_dir, retrain_teacher, preset.temperature)
        if "baseline" in models:
            run.fit("baseline", preset.baseline, run.label_loss())
        if "distilled" in models:
            run.distill(preset.distilled, preset.temperature, preset.hard_weight)
        rows += run.rows
    print_table(rows, eval_name)
    return rows


class Run:
    """The models of one seed: trains each, logs its rows, and compares students with the teacher.

    Rows go to <out>/runs.csv and learning curves to <out>/epochs.csv, tagged with
    the experiment; the tuning sweeps log to files of their own (``log``).
    """

    def __init__(
        self,
        preset_name: str,
        seed: int,
        train_split: Split,
        eval_split: Split,
        eval_name: str,
        out: Path,
        experiment: str = "main",
        log: str = "runs",
    ):
        self.preset_name, self.seed, self.experiment = preset_name, seed, experiment
        self.runs_csv = out / f"{log}.csv"
        self.epochs_csv = out / ("epochs.csv" if log == "runs" else f"{log}_epochs.csv")
        self.train_split, self.eval_split, self.eval_name = train_split, eval_split, eval_name
        self.teacher_logits: tuple[torch.Tensor, torch.Tensor] | None = None  # v on (train, eval), once known
        self.temperature = 1.0  # T at which students are compared with the teacher
        self.rows: list[dict] = []

    def evaluate(self, model: MLP) -> dict:
        """Per-epoch metrics: errors on the evaluated split and, once a teacher exists, KL to it at T."""
        logits = predict_logits(model, self.eval_split.images)
        metrics = {f"{self.eval_name}_errors": count_errors(logits, self.eval_split.labels)}
        if self.teacher_logits is not None:
            metrics[f"{self.eval_name}_kl"] = kl_divergence(logits, self.teacher_logits[1], self.temperature).item()
        return metrics

    def label_loss(self):
        """Loss on the true labels alone (teacher and student alone): (logits, batch indices) -> loss."""
        labels = self.train_split.labels
        return lambda z, index: hard_loss(z, labels[index])

    def use_teacher(self, stage: Stage, cache_dir: Path, retrain: bool, temperature: float) -> MLP:
        """Train or load this seed's teacher, and compute its logits v on the training and evaluated images.

        v is computed once, in eval mode (no dropout) and on the un-jittered
        images: these are the soft targets of every student distilled in this run.
        Students trained on labels are compared with the teacher at ``temperature``.
        """
        self.temperature = temperature
        teacher = self.teacher(stage, cache_dir, retrain)
        self.teacher_logits = (
            predict_logits(teacher, self.train_split.images),
            predict_logits(teacher, self.eval_split.images),
        )
        return teacher

    def teacher(self, stage: Stage, cache_dir: Path, retrain: bool) -> MLP:
        """The teacher of this seed: from the cache when an identical one was trained before."""
        key = teacher_key(stage, self.seed, self.train_split)
        path = Path(cache_dir) / f"teacher-{key}.pt"
        model = build(stage).to(self.train_split.images.device)
        row = None if retrain else load_teacher(path, key, model)
        if row is None:
            model = self.fit("teacher", stage, self.label_loss())
            save_teacher(path, key, model, self.rows[-1])
            return model
        # its row goes into this output's runs.csv once, so every results folder is complete
        if not self.runs_csv.exists() or row["run_id"] not in self.runs_csv.read_text():
            append_rows(self.runs_csv, [row])
        self.rows.append(row)
        print(
            f"teacher seed {self.seed}: loaded from {path}: {self.eval_name} errors {row[self.eval_name + '_errors']}"
        )
        return model

    def distill(
        self,
        stage: Stage,
        temperature: float,
        hard_weight: float,
        transfer: torch.Tensor | None = None,
        after_training=None,
    ) -> MLP:
        """Train a student on T²·KL(p‖q) + hard_weight·CE(labels) over the transfer set (§2).

        ``transfer`` selects the training images the student learns from (a boolean
        mask; default: all of them, as in the headline experiment).
        """
        if self.teacher_logits is None:
            raise RuntimeError("use_teacher() must come before distill()")
        transfer = torch.ones(len(self.train_split), dtype=torch.bool) if transfer is None else transfer
        split = self.train_split.subset(transfer.to(self.train_split.labels.device))
        v = self.teacher_logits[0][transfer.to(self.teacher_logits[0].device)]
        self.temperature = temperature
        loss = lambda z, i: distillation_loss(z, v[i], split.labels[i], temperature, hard_weight)
        columns = {"temperature": temperature, "hard_weight": hard_weight}
        return self.fit("distilled", stage, loss, columns, split, v, after_training)

    def fit(
        self,
        model_name: str,
        stage: Stage,
        loss_fn,
        columns: dict | None = None,
        transfer: Split | None = None,
        v_transfer: torch.Tensor | None = None,
        after_training=None,
    ) -> MLP:
        """Train one model on ``transfer`` (default: all training images), log its row and curve, return it.

        ``after_training(model)`` may return more columns for the row (e.g. the bias-offset results).
        """
        transfer = self.train_split if transfer is None else transfer
        torch.manual_seed(self.seed)  # same seed per stage: both students start from the same weights
        device = transfer.images.device
        model = build(stage).to(device)
        description = f"{model_name} {'-'.join(map(str, stage.hidden))} seed {self.seed}"
        history, seconds = train(model, transfer.images, loss_fn, stage.train, self.evaluate, description)
        errors = history[-1][f"{self.eval_name}_errors"]
        row = {
            "run_id": uuid.uuid4().hex[:12],
            "experiment": self.experiment,
            "model": model_name,
            "hidden": "-".join(map(str, stage.hidden)),
            "temperature": "",
            "hard_weight": "",
            **(columns or {}),
            "seed": self.seed,
            "preset": self.preset_name,
            "epochs": stage.train.epochs,
            "eval_split": self.eval_name,
            "train_size": len(transfer),
            f"{self.eval_name}_errors": errors,
            f"{self.eval_name}_error_pct": round(100 * errors / len(self.eval_split), 3),
            "train_seconds": round(seconds, 1),
            **self.agreement_with_teacher(model, transfer.images, v_transfer),
            **(after_training(model) if after_training else {}),
            **{f"cfg_{k}": v for k, v in asdict(stage.train).items() if k != "epochs"},
            "input_dropout": stage.input_dropout,
            "hidden_dropout": stage.hidden_dropout,
            **provenance(device),
        }
        append_rows(self.runs_csv, [row])
        append_rows(
            self.epochs_csv,
            [
                {"run_id": row["run_id"], "model": model_name, "seed": self.seed, "preset": self.preset_name, **h}
                for h in history
            ],
        )
        self.rows.append(row)
        print(f"{description}: {self.eval_name} errors {errors} (trained in {seconds:.0f} s)", flush=True)
        return model

    def agreement_with_teacher(self, student: MLP, transfer_images: torch.Tensor, v_transfer) -> dict:
        """How closely a student matches its teacher: KL(p‖q) at T, and top-1 agreement, on both splits."""
        if self.teacher_logits is None:
            return {}
        if v_transfer is None:  # a student trained on all training images
            v_transfer = self.teacher_logits[0]
        metrics = {}
        for split_name, images, v in (
            ("transfer", transfer_images, v_transfer),
            (self.eval_name, self.eval_split.images, self.teacher_logits[1]),
        ):
            z = predict_logits(student, images)
            metrics[f"{split_name}_kl"] = round(kl_divergence(z, v, self.temperature).item(), 6)
            metrics[f"{split_name}_agreement"] = round((z.argmax(1) == v.argmax(1)).float().mean().item(), 6)
        return metrics


def mean_sd(values: list[float]) -> str:
    if not values:
        return "not run"
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f}"


def print_table(rows: list[dict], eval_name: str) -> None:
    """Published vs measured, one line per model, mean ± sd over seeds."""
    column = f"{eval_name}_errors"
    print()
    if eval_name != "test":
        print(f"Validation errors on {rows[0]['train_size']} + held-out images; the paper reports test errors only.")
    print(f"{'model':<10} {'published':>9} {'measured (' + eval_name + ')':>22} {'difference':>10}  seeds")
    for model_name, published in PUBLISHED_TEST_ERRORS.items():
        values = [r[column] for r in rows if r["model"] == model_name]
        if not values:
            continue
        difference = f"{statistics.mean(values) - published:+.1f}" if eval_name == "test" else "n/a"
        print(f"{model_name:<10} {published:>9} {mean_sd(values):>22} {difference:>10}  {len(values)}")
