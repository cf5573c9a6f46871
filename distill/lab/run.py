"""One seed of an experiment: train models through the one loop, log each as a CSV row, compare with the teacher.

A *stage* (presets.Stage, presets.ConvStage) says what to build and how to train it; Run trains it on the training
split, evaluates it on the evaluated split every epoch, and appends its row (result + configuration + provenance) to
runs.csv and its learning curve to epochs.csv as soon as it has finished. Each model's training state is saved every
epoch (store.py), so that a rerun resumes it.
"""

import csv
import math
import uuid
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from distill.core.data import Split, Splits
from distill.core.losses import distillation_loss, hard_loss, kl_divergence, soft_loss
from distill.core.train import ModelStage, TrainingDiverged, count_errors, predict_logits, train
from distill.lab.results import append_rows, provenance
from distill.lab.store import Slot, Store, split_fingerprint


class Run:
    """The models of one seed, tagged with the experiment. ``checkpoints``: where the students' states go (None: not
    saved); ``cache``: where the models that teach are kept; ``retrain``: train those again even if kept."""

    def __init__(
        self,
        preset_name: str,
        seed: int,
        splits: Splits,
        out: Path,
        experiment: str = "main",
        log: str = "runs",
        checkpoints: Store | None = None,
        cache: Store | None = None,
        retrain: bool = False,
    ):
        self.preset_name, self.seed, self.experiment, self.out = preset_name, seed, experiment, Path(out)
        self.runs_csv = self.out / f"{log}.csv"
        self.epochs_csv = self.out / ("epochs.csv" if log == "runs" else f"{log}_epochs.csv")
        self.train_split, self.eval_split, self.eval_name = splits.train, splits.eval, splits.eval_name
        self.checkpoints, self.cache, self.retrain = checkpoints, cache or Store(self.out / "cache", kept=True), retrain
        self.teacher_logits: tuple[torch.Tensor, torch.Tensor] | None = None  # v on (train, eval), once known
        self.teacher_run_id = ""  # of the teacher (or ensemble) the students learn from
        self.rows: list[dict] = []

    def label_loss(self, split: Split | None = None):
        """Loss on the true labels of ``split`` (default: the training split): (logits, batch indices) -> loss."""
        labels = (split or self.train_split).labels
        return lambda z, index: hard_loss(z, labels[index])

    def use_teacher(self, stage: ModelStage, columns: dict | None = None, model_name: str = "teacher") -> nn.Module:
        """Train this seed's teacher (or load the kept one) and make its logits v on the un-jittered training and
        evaluated images, in eval mode, the soft targets of every student distilled in this run."""
        teacher = self.fit_cached(model_name, stage, columns)
        self.teach_with(self.rows[-1]["run_id"], *(predict_logits(teacher, s.images) for s in self.splits()))
        return teacher

    def teach_with(self, run_id: str, v_train: torch.Tensor, v_eval: torch.Tensor) -> None:
        """Make ``v`` (logits on the training and evaluated images) the soft targets of the students to come."""
        self.teacher_run_id, self.teacher_logits = run_id, (v_train, v_eval)

    def splits(self) -> tuple[Split, Split]:
        return self.train_split, self.eval_split

    def fit_cached(self, model_name: str, stage: ModelStage, columns: dict | None = None, seed: int | None = None):
        """``fit`` on the labels, or load the identical model kept by an earlier command and log its stored row: for
        the models that teach (a teacher, an ensemble's members)."""
        seed = self.seed if seed is None else seed
        slot = self.slot(self.cache, model_name, stage, columns or {}, self.train_split, None, seed)
        model = stage.build().to(self.train_split.images.device)
        state = None if self.retrain else slot.load(self.train_split.images.device)
        if state is None or "row" not in state:
            return self.fit(model_name, stage, self.label_loss(), columns, seed=seed, slot=slot, keep=True)
        model.load_state_dict(state["model"])
        self.log(state["row"])  # every results folder lists the models its students learnt from
        errors = state["row"][f"{self.eval_name}_errors"]
        print(f"{model_name} seed {seed}: loaded from {slot.path}: {self.eval_name} errors {errors}")
        return model

    def distill(
        self,
        stage: ModelStage,
        temperature: float,
        hard_weight: float,
        transfer: tuple[Split, torch.Tensor] | None = None,
        after_training=None,
        soft_weight: float = 1.0,
        soft_term=soft_loss,
        columns: dict | None = None,
        **fit_options,
    ) -> nn.Module:
        """Train a student on soft_weight·T²·KL(p‖q) + hard_weight·CE(labels) over the transfer set (§2): ``transfer``
        is the images and the teacher's v on them (default: all training images). ``fit_options`` go to ``fit``."""
        if self.teacher_logits is None:
            raise RuntimeError("use_teacher() or teach_with() must come before distill()")
        split, v = transfer or (self.train_split, self.teacher_logits[0])
        weights = {"hard_weight": hard_weight, "soft_weight": soft_weight}
        loss = lambda z, i: distillation_loss(z, v[i], split.labels[i], temperature, **weights, soft_term=soft_term)
        columns = {"temperature": temperature, **weights, "soft_term": soft_term.__name__, **(columns or {})}
        return self.fit("distilled", stage, loss, columns, (split, v), after_training, temperature, **fit_options)

    def fit(
        self,
        model_name: str,
        stage: ModelStage,
        loss_fn,
        columns: dict | None = None,
        transfer: tuple[Split, torch.Tensor] | None = None,
        after_training=None,
        kl_temperature: float | None = None,
        seed: int | None = None,
        log_train_errors: bool = False,
        log_divergence: bool = False,
        slot: Slot | None = None,
        keep: bool = False,
    ) -> nn.Module:
        """Train one model on ``transfer`` (default: all training images), log its row and curve, return it.

        ``after_training(model)`` may return more columns for the row. ``kl_temperature``: the T at which the model's KL
        to the teacher is logged (None: no KL, for the teacher itself). ``seed``: of the initial weights and batches, if
        not the run's. ``log_train_errors``: errors on the training images too, every epoch. ``log_divergence``: a
        diverged loss is logged as a row without errors instead of raised. ``keep``: the final state stays in ``slot``.
        """
        if kl_temperature is not None and self.teacher_logits is None:
            raise RuntimeError("a KL to the teacher needs use_teacher() or teach_with() first")
        split, v = transfer or (self.train_split, None)
        columns, seed = columns or {}, self.seed if seed is None else seed
        torch.manual_seed(seed)  # same seed per stage: both students start from the same weights
        device = split.images.device
        model = stage.build().to(device)
        description = f"{model_name} {stage.columns()['hidden']} seed {seed}"
        if slot is None and self.checkpoints is not None:
            slot = self.slot(self.checkpoints, model_name, stage, columns, split, kl_temperature, seed)
        resume = slot.load(device) if slot else None
        resume = None if resume and "row" in resume else resume  # a kept model asked to be trained again
        run_id = resume["run_id"] if resume else uuid.uuid4().hex[:12]  # a resumed model keeps its run_id
        # the threads of each part of a model's training, a resumed one's too: a row never claims one count for all
        threads = [*(resume or {}).get("threads", []), torch.get_num_threads()]
        threads = threads[:-1] if len(threads) > 1 and threads[-1] == threads[-2] else threads
        if len(threads) > 1:
            print(f"note: {description} resumes on {threads[-1]} threads, its earlier epochs ran on {threads[-2]}")
        save = (lambda state: slot.save({**state, "run_id": run_id, "threads": threads})) if slot else None

        def evaluate(model: nn.Module) -> dict:  # per epoch: errors on the evaluated split, and the KL at T if given
            logits = predict_logits(model, self.eval_split.images)
            metrics = {f"{self.eval_name}_errors": count_errors(logits, self.eval_split.labels)}
            if kl_temperature is not None:
                metrics[f"{self.eval_name}_kl"] = kl_divergence(logits, self.teacher_logits[1], kl_temperature).item()
            if log_train_errors:
                metrics["train_errors"] = count_errors(predict_logits(model, split.images), split.labels)
            return metrics

        try:
            history, seconds = train(model, split.images, loss_fn, stage.train, evaluate, description, resume, save)
        except TrainingDiverged as error:
            if not log_divergence:
                raise
            history, seconds = [{"epoch": error.epoch, f"{self.eval_name}_errors": math.nan}], math.nan
            columns = {**columns, "diverged_in_epoch": error.epoch}
        name = self.eval_name
        errors = history[-1][f"{name}_errors"]
        best = min(history, key=lambda h: h[f"{name}_errors"])  # reported, never used to choose a model
        # the row: what was trained, its result, how closely it matches its teacher, then its settings and provenance
        row = {"run_id": run_id, "experiment": self.experiment, "model": model_name, **stage.columns()}
        row |= {"temperature": "", "hard_weight": "", **columns, "seed": seed, "preset": self.preset_name}
        row |= {"epochs": stage.train.epochs, "precision": stage.train.precision, "eval_split": name}
        row |= {"train_size": len(split), **self.scored(errors), f"{name}_nll": self.nll(model, math.isnan(errors))}
        row |= {f"best_{name}_errors": best[f"{name}_errors"]}
        row |= {
            "best_epoch": best["epoch"],
            "train_seconds": round(seconds, 1),
            "threads": " then ".join(map(str, threads)),
        }
        row |= self.agreement_with_teacher(model, split.images, v, kl_temperature)
        row |= after_training(model) if after_training else {}
        row |= {f"cfg_{k}": v for k, v in asdict(stage.train).items() if k not in ("epochs", "precision")}
        row |= provenance(device)
        if keep:
            slot.keep(model, row)
        self.log(row)
        identity = {"run_id": run_id, "model": model_name, "seed": seed, "preset": self.preset_name}
        log_once(self.epochs_csv, [{**identity, **h} for h in history])
        print(f"{description}: {name} errors {errors} (trained in {seconds:.0f} s)", flush=True)
        return model

    def scored(self, errors: int, prefix: str | None = None) -> dict:
        """E.g. {"test_errors": 74, "test_error_pct": 0.74}: errors on the evaluated split, as a count and in %."""
        prefix = prefix or self.eval_name
        return {f"{prefix}_errors": errors, f"{prefix}_error_pct": round(100 * errors / len(self.eval_split), 3)}

    def nll(self, model_or_logits, diverged: bool = False) -> float:
        """The cross-entropy (negative log-likelihood at T = 1) of the evaluated split's labels: finer than an error
        count where two models differ by a few errors."""
        if diverged:
            return math.nan
        logits = (
            model_or_logits
            if torch.is_tensor(model_or_logits)
            else predict_logits(model_or_logits, self.eval_split.images)
        )
        return round(hard_loss(logits, self.eval_split.labels).item(), 5)

    def log(self, row: dict) -> None:
        """Append ``row`` to runs.csv (once per run_id: a rerun completes the logs, never doubles them)."""
        log_once(self.runs_csv, [row])
        self.rows.append(row)

    def log_table(self, name: str, rows: list[dict]) -> None:
        """Append ``rows`` to <out>/<name>.csv, each tagged with the last model's run_id, experiment, seed, preset."""
        identity = {k: self.rows[-1][k] for k in ("run_id", "experiment", "seed", "preset")}
        log_once(self.out / f"{name}.csv", [{**identity, **r} for r in rows])

    def slot(self, store: Store, model_name, stage, columns: dict, split: Split, kl_temperature, seed: int) -> Slot:
        """A model's state file in ``store``, named by everything that determines its training and its row."""
        shared = store is self.cache  # a teacher is shared by every experiment and preset that asks for it
        return store.slot(
            model_name,
            {
                "model": model_name,
                "stage": asdict(stage),
                "loss": columns,
                "seed": seed,
                "teacher": "" if shared else self.teacher_run_id,
                "kl_temperature": kl_temperature,  # of the logged KL
                "device": split.images.device.type,  # random number streams differ between CPU and CUDA
                "train": split_fingerprint(split),
                "eval": {"name": self.eval_name, **split_fingerprint(self.eval_split)},
                **({} if shared else {"experiment": self.experiment, "preset": self.preset_name}),
            },
        )

    def agreement_with_teacher(self, student: nn.Module, transfer_images, v_transfer, temperature) -> dict:
        """How closely a student matches its teacher: KL(p‖q) at T, and top-1 agreement, on both splits."""
        if temperature is None:
            return {}
        metrics = {}
        for split_name, images, v in (
            ("transfer", transfer_images, self.teacher_logits[0] if v_transfer is None else v_transfer),
            (self.eval_name, self.eval_split.images, self.teacher_logits[1]),
        ):
            z = predict_logits(student, images)
            metrics[f"{split_name}_kl"] = round(kl_divergence(z, v, temperature).item(), 6)
            metrics[f"{split_name}_agreement"] = round((z.argmax(1) == v.argmax(1)).float().mean().item(), 6)
        return metrics


def log_once(path: Path, rows: list[dict]) -> None:
    """Append ``rows`` (all of one run_id) unless that run_id is already in the CSV at ``path``."""
    if path.exists():
        with open(path, newline="") as f:
            if any(logged.get("run_id") == rows[0]["run_id"] for logged in csv.DictReader(f)):
                return
    append_rows(path, rows)
