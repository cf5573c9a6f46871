"""Training states on disk: a killed command resumes where it stopped, and a trained teacher is kept for reuse.

Each model has one file, named by a hash of its whole fingerprint (everything that determines its training and
its row), rewritten atomically after every epoch: weights, optimiser, random generators, the epochs' logs and the
run_id. Rerunning a command resumes each model from its file. A student's file is deleted once the command has
finished; a teacher's (or an ensemble member's) final state is kept with its row, and every later command that
asks for the same model loads it instead of training it again.
"""

import hashlib
import json
from pathlib import Path

import torch

from distill.lab.results import write_atomically


class UnreadableState(RuntimeError):
    """A state file that is not one of ours, or was cut short."""


class Slot:
    """The file of one model. ``fresh``: an unfinished state in it is ignored (and overwritten); ``forgiving``: so is
    an unreadable file, with a note (a kept teacher is trained again rather than stopping the command)."""

    def __init__(self, path: Path, fingerprint: str, fresh: bool, forgiving: bool = False):
        self.path, self.fingerprint, self.fresh, self.forgiving = path, fingerprint, fresh, forgiving

    def load(self, device: torch.device) -> dict | None:
        """The saved state (with "row" once the model has finished), or None. ``fresh``: only a finished state."""
        if not self.path.exists():
            return None
        try:
            state = torch.load(self.path, map_location=device, weights_only=True)
            if state.get("fingerprint") != self.fingerprint:  # a hash collision, or a file renamed by hand
                raise ValueError("it holds another model's state")
        except Exception as error:  # not a state of ours: say which file, do not guess
            if self.forgiving:
                reason = (str(error).strip().splitlines() or [""])[0][:100]
                print(
                    f"note: ignoring the kept model {self.path} ({type(error).__name__}: {reason}); training a new one"
                )
            if self.fresh or self.forgiving:
                return None
            raise UnreadableState(
                f"{self.path} is not a readable training state of this model ({type(error).__name__}); delete it, "
                "or add --fresh"
            ) from error
        return None if self.fresh and "row" not in state else state

    def save(self, state: dict) -> None:
        write_atomically(self.path, lambda f: torch.save({**state, "fingerprint": self.fingerprint}, f))

    def keep(self, model: torch.nn.Module, row: dict) -> None:
        """The final state: weights and row only (no optimiser), loaded by every later command."""
        self.save({"model": model.state_dict(), "row": row})


class Store:
    """The state files of one folder; ``remove_used`` deletes the students' once the command has finished.
    ``kept``: the folder of the models kept for reuse (teachers), where an unreadable file is trained again."""

    def __init__(self, folder: Path, fresh: bool = False, kept: bool = False):
        self.folder, self.fresh, self.kept, self.used = Path(folder), fresh, kept, []

    def slot(self, name: str, fingerprint: dict) -> Slot:
        text = json.dumps(fingerprint, sort_keys=True, default=str)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        self.used.append(self.folder / f"{name}-{digest}.pt")
        return Slot(self.used[-1], text, self.fresh, forgiving=self.kept)

    def remove_used(self) -> None:
        for path in self.used:
            path.unlink(missing_ok=True)
            path.with_name(path.name + ".tmp").unlink(missing_ok=True)  # left by a save that was killed
        if self.folder.is_dir() and not any(self.folder.iterdir()):
            self.folder.rmdir()


def split_fingerprint(split) -> dict:
    """A cheap identity of a split's images and labels (a different subset changes both sums)."""
    images_sum = round(float(split.images.cpu().double().sum()), 3)  # on the CPU: a GPU sums in another order
    return {"size": len(split), "images_sum": images_sum, "labels_sum": int(split.labels.sum())}
