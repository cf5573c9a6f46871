"""One seed of an experiment: train models through the one loop, log each as a CSV row, compare with the teacher.

A *stage* (presets.Stage, presets.ConvStage) says what to build and how to train it; Run trains it on the
training split, evaluates it on the evaluated split every epoch, and appends its row (result + configuration
+ provenance) to runs.csv and its learning curve to epochs.csv as soon as it has finished. Given a checkpoint
folder, each model's training state is saved every epoch and a rerun resumes from it (checkpoint.py).
"""

import csv
import math
import uuid
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from distill.checkpoint import Checkpoints
from distill.data import Split
from distill.losses import distillation_loss, hard_loss, kl_divergence, soft_loss
from distill.results import append_rows, provenance
from distill.teacher_cache import load_teacher, save_teacher, split_fingerprint, teacher_key
from distill.train import ModelStage, TrainingDiverged, count_errors, predict_logits, train


class Run:
    """The models of one seed, tagged with the experiment; the tuning sweeps log to CSVs of their own (``log``)."""

    def __init__(self, preset_name: str, seed: int, train_split: Split, eval_split: Split, eval_name: str, out: Path,
                 experiment: str = "main", log: str = "runs", checkpoints: Checkpoints | None = None):  # fmt: skip
        self.preset_name, self.seed, self.experiment, self.checkpoints = preset_name, seed, experiment, checkpoints
        self.runs_csv = out / f"{log}.csv"
        self.epochs_csv = out / ("epochs.csv" if log == "runs" else f"{log}_epochs.csv")
        self.train_split, self.eval_split, self.eval_name = train_split, eval_split, eval_name
        self.teacher_logits: tuple[torch.Tensor, torch.Tensor] | None = None  # v on (train, eval), once known
        # the teacher (or ensemble) whose v the students learn from (part of their checkpoints' identity)
        self.teacher_run_id = ""
        self.rows: list[dict] = []

    def label_loss(self, split: Split | None = None):
        """Loss on the true labels alone of ``split`` (default: the training split), for the teacher and the students
        alone: (logits, batch indices into the split) -> loss."""
        labels = (split or self.train_split).labels
        return lambda z, index: hard_loss(z, labels[index])

    def use_teacher(self, stage: ModelStage, cache_dir: Path, retrain: bool) -> nn.Module:
        """Train this seed's teacher (or load it from the cache, if an identical one was trained before) and
        compute its logits v on the training and evaluated images: once, in eval mode (no dropout), on the
        un-jittered images. These are the soft targets of every student distilled in this run."""
        teacher = self.fit_cached("teacher", stage, cache_dir, retrain)
        self.teacher_run_id = self.rows[-1]["run_id"]
        self.teacher_logits = tuple(predict_logits(teacher, s.images) for s in (self.train_split, self.eval_split))
        return teacher

    def fit_cached(self, model_name: str, stage: ModelStage, cache_dir: Path, retrain: bool,
                   columns: dict | None = None, seed: int | None = None) -> nn.Module:  # fmt: skip
        """``fit`` on the labels, or load the identical model trained before (same stage, seed and training images)
        from ``cache_dir`` and log its stored row: for the models that teach (a teacher, an ensemble's members)."""
        seed = self.seed if seed is None else seed
        key = teacher_key(stage, seed, self.train_split)
        path = Path(cache_dir) / f"{model_name}-{key}.pt"
        model = stage.build().to(self.train_split.images.device)
        row = None if retrain else load_teacher(path, key, model)
        if row is None:
            model = self.fit(model_name, stage, self.label_loss(), columns, seed=seed)
            save_teacher(path, key, model, self.rows[-1])
        else:
            self.checkpoint(model_name, stage, columns or {}, self.train_split, None, seed)  # a killed run's: deleted
            self.log(row)  # every results folder lists the models its students learnt from
            errors = row[f"{self.eval_name}_errors"]
            print(f"{model_name} seed {seed}: loaded from {path}: {self.eval_name} errors {errors}")
        return model

    def distill(self, stage: ModelStage, temperature: float, hard_weight: float,
                transfer: tuple[Split, torch.Tensor] | None = None, after_training=None, soft_weight: float = 1.0,
                soft_term=soft_loss, columns: dict | None = None, **fit_options) -> nn.Module:  # fmt: skip
        """Train a student on soft_weight·T²·KL(p‖q) + hard_weight·CE(labels) over the transfer set (§2). ``transfer``:
        the images the student learns from and the teacher's v on them (default: all training images, as in the headline
        experiment). ``soft_term``: the soft term, logged by name. ``fit_options``: passed on to ``fit``."""
        if self.teacher_logits is None:
            raise RuntimeError("use_teacher() or use_ensemble() must come before distill()")
        split, v = transfer or (self.train_split, self.teacher_logits[0])
        weights = {"hard_weight": hard_weight, "soft_weight": soft_weight}
        loss = lambda z, i: distillation_loss(z, v[i], split.labels[i], temperature, **weights, soft_term=soft_term)
        columns = {"temperature": temperature, **weights, "soft_term": soft_term.__name__, **(columns or {})}
        return self.fit("distilled", stage, loss, columns, (split, v), after_training, temperature, **fit_options)

    def fit(self, model_name: str, stage: ModelStage, loss_fn, columns: dict | None = None,
            transfer: tuple[Split, torch.Tensor] | None = None, after_training=None,
            kl_temperature: float | None = None, seed: int | None = None,
            log_train_errors: bool = False, log_divergence: bool = False) -> nn.Module:  # fmt: skip
        """Train one model on ``transfer`` (default: all training images), log its row and curve, return it.

        ``after_training(model)`` may return more columns for the row (e.g. the bias-offset results).
        ``kl_temperature``: the T at which the model's KL to the teacher is logged (every epoch, and at the end on both
        splits); students alone get their experiment's T, so that their KL is comparable with the distilled students'.
        None: no KL (the teacher itself). ``seed``: of the initial weights and batches, if not the run's (the members
        of an ensemble). ``log_train_errors``: log the errors on the training images too, every epoch (overfitting?).
        ``log_divergence``: a diverged loss is logged as a row without errors (a sweep's result) instead of raised.
        """
        if kl_temperature is not None and self.teacher_logits is None:
            raise RuntimeError("a KL to the teacher needs use_teacher() or use_ensemble() first")
        split, v = transfer or (self.train_split, None)
        columns = columns or {}
        seed = self.seed if seed is None else seed
        torch.manual_seed(seed)  # same seed per stage: both students start from the same weights
        device = split.images.device
        model = stage.build().to(device)
        description = f"{model_name} {stage.columns()['hidden']} seed {seed}"
        checkpoint = self.checkpoint(model_name, stage, columns, split, kl_temperature, seed)
        resume = checkpoint.load(device) if checkpoint else None
        run_id = resume["run_id"] if resume else uuid.uuid4().hex[:12]  # a resumed stage keeps its run_id
        save = (lambda state: checkpoint.save({**state, "run_id": run_id})) if checkpoint else None

        def evaluate(model: nn.Module) -> dict:  # per epoch: errors on the evaluated split, and the KL at T if given
            logits = predict_logits(model, self.eval_split.images)
            metrics = {f"{self.eval_name}_errors": count_errors(logits, self.eval_split.labels)}
            if kl_temperature is not None:
                metrics[f"{self.eval_name}_kl"] = kl_divergence(logits, self.teacher_logits[1], kl_temperature).item()
            if log_train_errors:
                metrics["train_errors"] = count_errors(predict_logits(model, split.images), split.labels)
            return metrics

        try:
            history, seconds = train(
                model, split.images, loss_fn, stage.train, evaluate, description, resume=resume, save=save
            )
        except TrainingDiverged as error:
            if not log_divergence:
                raise
            history, seconds = [{"epoch": error.epoch, f"{self.eval_name}_errors": math.nan}], math.nan
            columns = {**columns, "diverged_in_epoch": error.epoch}
        errors = history[-1][f"{self.eval_name}_errors"]
        best = min(history, key=lambda h: h[f"{self.eval_name}_errors"])  # reported, never used to choose a model
        row = {
            "run_id": run_id, "experiment": self.experiment, "model": model_name, **stage.columns(),
            "temperature": "", "hard_weight": "", **columns,
            "seed": seed, "preset": self.preset_name, "epochs": stage.train.epochs,
            "precision": "bf16" if stage.train.bf16 else "fp32", "eval_split": self.eval_name, "train_size": len(split),
            f"{self.eval_name}_errors": errors,
            f"{self.eval_name}_error_pct": round(100 * errors / len(self.eval_split), 3),
            f"best_{self.eval_name}_errors": best[f"{self.eval_name}_errors"], "best_epoch": best["epoch"],
            "train_seconds": round(seconds, 1),
            **self.agreement_with_teacher(model, split.images, v, kl_temperature),
            **(after_training(model) if after_training else {}),
            **{f"cfg_{k}": v for k, v in asdict(stage.train).items() if k != "epochs"},
            **provenance(device),
        }  # fmt: skip
        # once per run_id: a rerun after a crash between the two appends completes the logs, not doubles them
        self.log(row)
        identity = {"run_id": run_id, "model": model_name, "seed": seed, "preset": self.preset_name}
        log_once(self.epochs_csv, [{**identity, **h} for h in history])
        print(f"{description}: {self.eval_name} errors {errors} (trained in {seconds:.0f} s)", flush=True)
        return model

    def log(self, row: dict) -> None:
        """Append ``row`` to runs.csv (once per run_id) and to this run's rows."""
        log_once(self.runs_csv, [row])
        self.rows.append(row)

    def checkpoint(self, model_name: str, stage: ModelStage, columns: dict, split: Split, kl_temperature, seed: int):
        """This stage's checkpoint, fingerprinted by everything that determines its training and its logs; None
        without a checkpoint folder. Deleted when the command has finished (Checkpoints.remove_used)."""
        if self.checkpoints is None:
            return None
        fingerprint = {
            "stage": asdict(stage),
            "loss": columns,
            "teacher": self.teacher_run_id if model_name != "teacher" else "",
            "kl_temperature": kl_temperature,  # of the logged KL
            "device": split.images.device.type,  # random number streams differ between CPU and CUDA
            "train": split_fingerprint(split),
            "eval": {"name": self.eval_name, **split_fingerprint(self.eval_split)},
        }
        # its name tells it apart from the other stages of one command, e.g. main-paper-seed0-teacher-1200-1200
        name = [self.experiment, self.preset_name, f"seed{seed}", model_name, stage.columns()["hidden"]]
        if "temperature" in columns:
            name.append(f"T{columns['temperature']:g}")
        name += [columns[key] for key in ("recipe", "data_share") if key in columns]
        if columns.get("soft_term", "soft_loss") != "soft_loss":
            name.append(columns["soft_term"])
        return self.checkpoints.stage("-".join(name), fingerprint)

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
