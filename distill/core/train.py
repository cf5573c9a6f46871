"""The one training loop every model in this repository goes through.

Per step: learning rate from the schedule → batch (slice of a randperm, jittered if asked) → forward
(bf16 autocast if asked) → loss → step → max-norm projection. Per epoch: evaluate, log, hand the training
state to ``save`` (for resuming), update the progress line. Training time is measured apart from evaluation.
"""

import math
import sys
import time
from dataclasses import dataclass
from typing import Protocol

import torch
from tqdm import tqdm

from distill.core.data import jitter
from distill.core.models import apply_max_norm

PRECISIONS = ("fp32", "bf16")


class TrainingDiverged(RuntimeError):
    """The loss is no longer a finite number: nothing after this epoch would be worth logging."""

    def __init__(self, message: str, epoch: int):
        super().__init__(message)
        self.epoch = epoch


@dataclass(frozen=True)
class TrainConfig:
    """How one model is optimised. Defaults are not the paper's: the presets set every value."""

    epochs: int
    batch_size: int = 100  # images per step (the 2012 dropout recipe used 100)
    lr: float = 0.1  # peak learning rate of SGD
    momentum: float = 0.9  # SGD momentum (Nesterov unless nesterov=False)
    warmup: float = 0.02  # fraction of all steps with a linear warm-up from 0 to lr
    max_norm: float | None = None  # bound on each hidden unit's incoming weight norm (teacher only)
    jitter: int = 0  # random translation of every image by up to this many pixels in x and y (teacher only)
    precision: str = "fp32"  # "bf16": bf16 autocast for the forward pass; weights and the optimiser stay float32
    nesterov: bool = True  # Nesterov momentum (False: the classical momentum of torch.optim.SGD's default)
    schedule: str = "warmup-linear"  # "warmup-linear": warm-up, then linear decay to 0; "constant": lr throughout
    drop_last: bool = True  # drop each epoch's last, partial batch (False: train on it too, as a DataLoader does)
    # > 0: the 2012 dropout recipe's momentum (Hinton et al. 2012), rising linearly from 0.5 to ``momentum``
    # over this many epochs, each step scaled by (1 − momentum) so that the ramp does not multiply the
    # effective learning rate lr / (1 − momentum) a hundredfold
    momentum_ramp: int = 0

    def __post_init__(self):
        if self.schedule not in ("warmup-linear", "constant"):
            raise ValueError(f"schedule must be 'warmup-linear' or 'constant', got {self.schedule!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")


class ModelStage(Protocol):
    """One model of an experiment: what to build (``build``), how to log it (``columns``), how to train it."""

    train: TrainConfig

    def build(self) -> torch.nn.Module: ...

    def columns(self) -> dict: ...


def learning_rate(cfg: TrainConfig, step: int, total_steps: int) -> float:
    """The "warmup-linear" schedule: linear warm-up to ``cfg.lr``, then linear decay to 0 at the last step."""
    if cfg.schedule == "constant":
        return cfg.lr
    warmup_steps = max(1, round(cfg.warmup * total_steps))
    if step < warmup_steps:
        return cfg.lr * (step + 1) / warmup_steps
    return cfg.lr * (total_steps - step) / (total_steps - warmup_steps)


def momentum_at(cfg: TrainConfig, epoch: int) -> float:
    """The momentum of ``epoch`` (from 1): constant, or the 2012 ramp from 0.5 to ``cfg.momentum``."""
    if cfg.momentum_ramp == 0:
        return cfg.momentum
    return 0.5 + (cfg.momentum - 0.5) * min(1.0, (epoch - 1) / cfg.momentum_ramp)


@torch.no_grad()
def predict_logits(model: torch.nn.Module, images: torch.Tensor, batch_size: int = 5000) -> torch.Tensor:
    """The model's logits in eval mode (no dropout), float32, in batches to bound memory."""
    was_training = model.training
    model.eval()
    logits = torch.cat([model(images[i : i + batch_size]).float() for i in range(0, len(images), batch_size)])
    model.train(was_training)
    return logits


def count_errors(logits: torch.Tensor, labels: torch.Tensor) -> int:
    return int((logits.argmax(dim=1) != labels).sum())


def train(
    model: torch.nn.Module,
    images: torch.Tensor,
    loss_fn,
    cfg: TrainConfig,
    evaluate,
    description: str,
    resume: dict | None = None,
    save=None,
    quiet: bool = False,
) -> tuple[list[dict], float]:
    """Train ``model`` on ``images`` (N, …) with ``loss_fn``; return per-epoch logs and train seconds.

    ``loss_fn(logits, batch indices)`` gets the batch's indices into ``images`` so that it can look up whatever
    targets it needs: labels, the teacher's logits, or both. ``evaluate(model)`` gives the metrics logged each
    epoch, e.g. {"test_errors": 74}. ``save(state)`` receives the training state after each epoch; ``resume``: such
    a state, and training goes on from the next epoch. ``quiet``: no progress bar or lines (the notebook).
    """
    device = images.device
    optimizer = sgd(model, cfg)
    steps_per_epoch = len(images) // cfg.batch_size if cfg.drop_last else math.ceil(len(images) / cfg.batch_size)
    total_steps = cfg.epochs * steps_per_epoch
    history, train_seconds = [], 0.0
    if resume is not None:
        model.load_state_dict(resume["model"])
        optimizer.load_state_dict(resume["optimizer"])
        set_rng_state(resume["rng"], device)
        history, train_seconds = resume["history"], resume["train_seconds"]
    done = len(history)
    step = done * steps_per_epoch  # where the learning-rate schedule is
    progress = Progress(description, cfg.epochs, done, quiet)
    for epoch in range(done + 1, cfg.epochs + 1):
        model.train()
        started = time.perf_counter()
        momentum = momentum_at(cfg, epoch)
        step_scale = 1 - momentum if cfg.momentum_ramp else 1.0
        for group in optimizer.param_groups:
            group["momentum"] = momentum
        order = torch.randperm(len(images), device=device)
        loss_sum = torch.zeros((), device=device)  # accumulated on the device: no sync per step
        for batch in order.split(cfg.batch_size)[:steps_per_epoch]:
            lr = learning_rate(cfg, step, total_steps) * step_scale
            loss = sgd_step(model, optimizer, cfg, lr, jitter(images[batch], cfg.jitter), lambda z: loss_fn(z, batch))
            loss_sum += loss.detach()
            step += 1
        mean_loss = loss_sum.item() / steps_per_epoch  # .item() synchronises CUDA before the clock stops
        if not math.isfinite(mean_loss):
            raise TrainingDiverged(
                f"{description}: the loss became {mean_loss} in epoch {epoch}; lower the learning rate "
                f"({cfg.lr}) or lengthen the warm-up",
                epoch,
            )
        epoch_seconds = time.perf_counter() - started
        train_seconds += epoch_seconds
        metrics = evaluate(model)
        history.append({"epoch": epoch, "train_loss": mean_loss, "epoch_seconds": epoch_seconds, **metrics})
        if save is not None:
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "rng": rng_state(device)}
            save({**state, "history": history, "train_seconds": train_seconds})
        progress.update(epoch, mean_loss, metrics)
    progress.bar.close()
    return history, train_seconds


def rng_state(device: torch.device) -> dict:
    """The generators a training epoch draws from: batch order, jitter and dropout masks."""
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["cpu"].cpu())
    if device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda"].cpu(), device)


def sgd(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov, fused=True)


def sgd_step(model: torch.nn.Module, optimizer, cfg: TrainConfig, lr: float, x: torch.Tensor, loss_fn) -> torch.Tensor:
    """One SGD step at learning rate ``lr``, then max-norm; also the step of benchmark.py's DataLoader pipeline, so
    that both pipelines time the same step."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=cfg.precision == "bf16"):
        logits = model(x)
    loss = loss_fn(logits)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    if cfg.max_norm is not None:
        apply_max_norm(model, cfg.max_norm)
    return loss


class Progress:
    """A tqdm bar on a terminal; in a log file, a plain line every ~2 % of the epochs."""

    now = ""  # what is being trained, e.g. "teacher 1200-1200 seed 0, epoch 12/150": for an interrupted run's message

    def __init__(self, description: str, epochs: int, done: int, quiet: bool = False):
        self.description, self.epochs, self.done, self.started = description, epochs, done, time.perf_counter()
        self.interactive, self.quiet = sys.stderr.isatty() and not quiet, quiet
        self.bar = tqdm(total=epochs, initial=done, desc=description, unit="epoch", disable=not self.interactive)
        if done:
            print(f"{description}: resumed after epoch {done}/{epochs} from its checkpoint", flush=True)

    def update(self, epoch: int, loss: float, metrics: dict) -> None:
        Progress.now = f"{self.description}, after epoch {epoch}/{self.epochs}"
        # "test_kl" is the student's KL(p‖q) to its teacher at T: say so on screen
        shown = {
            k.replace("_kl", "_kl_to_teacher"): f"{v:.4g}" if isinstance(v, float) else v for k, v in metrics.items()
        }
        self.bar.set_postfix(loss=f"{loss:.4g}", **shown)
        self.bar.update(1)
        if not self.interactive and not self.quiet and (epoch % max(1, self.epochs // 50) == 0 or epoch == self.epochs):
            elapsed = time.perf_counter() - self.started
            eta = elapsed / (epoch - self.done) * (self.epochs - epoch)
            fields = " ".join(f"{k}={v}" for k, v in shown.items())
            line = f"{self.description}: epoch {epoch}/{self.epochs} loss={loss:.4g} {fields}"
            print(f"{line} elapsed={elapsed:.0f}s eta={eta:.0f}s", flush=True)
