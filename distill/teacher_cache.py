"""Trained teachers (and an ensemble's members), saved once and reused by every later run and experiment.

A cached model is fully determined by its Stage (architecture, regularisers, optimisation), the seed and the exact
training images; the cache key hashes all three. A file that does not load, or whose stored key differs from
the one asked for, is reported and retrained, never used.
"""

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import torch

from distill.data import Split
from distill.results import write_atomically
from distill.train import ModelStage

# TrainConfig fields added after the first teachers were cached: left at their defaults they stay out
# of the key, so those teachers remain valid; set to anything else they are part of it.
_LATER_FIELDS = {"nesterov": True, "schedule": "warmup-linear", "drop_last": True, "momentum_ramp": 0}


def teacher_key(stage: ModelStage, seed: int, train_split: Split) -> str:
    settings = asdict(stage)
    settings["train"] = {k: v for k, v in settings["train"].items() if k not in _LATER_FIELDS or v != _LATER_FIELDS[k]}
    split = split_fingerprint(train_split)
    fingerprint = {"stage": settings, "seed": seed, "train_size": split.pop("size"), **split}  # the first keys' names
    return hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()[:16]


def split_fingerprint(split: Split) -> dict:
    """A cheap identity of a split's images and labels (a different subset changes both sums)."""
    images_sum = round(float(split.images.cpu().double().sum()), 3)  # on the CPU: a GPU sums in another order
    return {"size": len(split), "images_sum": images_sum, "labels_sum": int(split.labels.sum())}


def save_teacher(path: Path, key: str, model: torch.nn.Module, row: dict) -> None:
    """Weights, the key they answer to, and the teacher's runs.csv row (its errors and provenance)."""
    write_atomically(path, lambda f: torch.save({"key": key, "state_dict": model.state_dict(), "row": row}, f))


def load_teacher(path: Path, key: str, model: torch.nn.Module) -> dict | None:
    """Load the weights at ``path`` into ``model`` and return the stored row; None if absent or unusable."""
    if not path.exists():
        return None
    try:
        saved = torch.load(path, map_location=next(model.parameters()).device, weights_only=True)
        if saved["key"] != key:
            raise ValueError(f"it was saved for key {saved['key']}, not {key}")
        shapes = {name: tuple(t.shape) for name, t in saved["state_dict"].items()}
        if shapes != {name: tuple(t.shape) for name, t in model.state_dict().items()}:
            raise ValueError("its tensors do not fit this architecture")  # checked first: no partial load
        model.load_state_dict(saved["state_dict"])
        return saved["row"]
    except Exception as error:  # a truncated file, another format, other shapes, a wrong key
        reason = (str(error).strip().splitlines() or [""])[0][:100]
        print(f"note: ignoring the cached model {path} ({type(error).__name__}: {reason}); training a new one")
        return None
