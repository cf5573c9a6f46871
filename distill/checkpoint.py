"""Per-epoch training state on disk, so that a killed run resumes where it stopped.

Each training stage of a command (one model of one seed) has one checkpoint file in ``<out>/checkpoints/``,
rewritten atomically at the end of every epoch: weights, optimiser (momentum buffers), the random number
generators, the epochs' logs (hence the schedule's step), and the stage's run_id. Rerunning the same command
loads it and continues with the next epoch; on the CPU the resumed stage ends bit-for-bit where the
uninterrupted one would have. A stage whose last epoch is saved is not trained again: only its final
evaluation and logging are repeated, and rows already in a CSV (same run_id) are not appended twice. Once the
whole command has finished, its checkpoints are deleted: the results are in the CSVs, the teachers in the cache.
"""

import json
from pathlib import Path

import torch

from distill.results import write_atomically


class CheckpointMismatch(RuntimeError):
    """A checkpoint of the same stage name was saved by a run with another configuration."""


class StageCheckpoint:
    """The checkpoint of one stage. ``fingerprint`` is everything that determines its training; a file
    saved under another fingerprint is never resumed from (CheckpointMismatch)."""

    def __init__(self, path: Path, fingerprint: dict, fresh: bool = False):
        self.path, self.fresh = path, fresh
        self.fingerprint = json.dumps(fingerprint, sort_keys=True, default=str)  # compared as text

    def load(self, device: torch.device) -> dict | None:
        """The saved state, or None when there is none (or ``fresh``)."""
        if self.fresh or not self.path.exists():
            return None
        try:
            state = torch.load(self.path, map_location=device, weights_only=True)
        except Exception as error:  # not a checkpoint of ours: say which file, do not guess
            raise CheckpointMismatch(
                f"{self.path} is not a readable checkpoint ({type(error).__name__}); delete it, or add --fresh"
            ) from error
        if state.get("fingerprint") != self.fingerprint:
            raise CheckpointMismatch(
                f"{self.path} was saved by a run with a different configuration "
                f"({_differences(state.get('fingerprint'), self.fingerprint)}); rerun that run's command to "
                "finish it, or add --fresh to start this one from scratch"
            )
        return state

    def save(self, state: dict) -> None:
        write_atomically(self.path, lambda f: torch.save({**state, "fingerprint": self.fingerprint}, f))


class Checkpoints:
    """The checkpoint folder of one command; ``fresh`` ignores (and overwrites) whatever is in it."""

    def __init__(self, folder: Path, fresh: bool = False):
        self.folder, self.fresh = Path(folder), fresh
        self.used: list[Path] = []

    def stage(self, name: str, fingerprint: dict) -> StageCheckpoint:
        """The checkpoint of stage ``name``, to be deleted when this command has finished (remove_used)."""
        self.used.append(self.folder / f"{name}.pt")
        return StageCheckpoint(self.used[-1], fingerprint, self.fresh)

    def remove_used(self) -> None:
        """After a command has finished: its stages are logged, their checkpoints are no longer needed."""
        for path in self.used:
            path.unlink(missing_ok=True)
            path.with_name(path.name + ".tmp").unlink(missing_ok=True)  # left by a save that was killed
        if self.folder.is_dir() and not any(self.folder.iterdir()):
            self.folder.rmdir()


def _differences(saved: str | None, wanted: str) -> str:
    """The first three settings in which two fingerprints differ, as 'name: saved → wanted'."""
    if saved is None:
        return "no configuration stored"
    old, new = _flatten(json.loads(saved)), _flatten(json.loads(wanted))
    keys = sorted(old.keys() | new.keys(), key=lambda k: (k.endswith("_sum"), k))  # checksums say least: last
    changed = [f"{k}: {old.get(k)} → {new.get(k)}" for k in keys if old.get(k) != new.get(k)]
    return ", ".join(changed[:3]) + (", …" if len(changed) > 3 else "")


def _flatten(settings: dict, prefix: str = "") -> dict:
    """{"a": {"b": 1}} -> {"a.b": 1}"""
    flat = {}
    for key, value in settings.items():
        flat.update(_flatten(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key: value})
    return flat


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
