"""Results as tidy CSV rows with their provenance, appended; earlier rows are never lost or changed."""

import contextlib
import csv
import functools
import io
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

import torch

from distill.lab.hardware import device_name

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

REPO_ROOT = Path(__file__).resolve().parents[2]


@functools.cache  # read once, when the first row is made: later commits must not relabel a run in progress
def git_commit(root: Path = REPO_ROOT) -> str:
    """The checkout's commit, with '-dirty' when tracked code differs from it. $KD_GIT_COMMIT, when set, is taken
    instead: for a copy of the repository whose git metadata (if any) is not that of the code it holds. Outside git and
    without it: 'unknown'."""
    if os.environ.get("KD_GIT_COMMIT"):
        return os.environ["KD_GIT_COMMIT"]
    git = functools.partial(subprocess.run, cwd=root, capture_output=True, text=True)
    not_code = [":(exclude)results", ":(exclude)figures", ":(exclude,glob)**/*.md"]
    try:
        commit = git(["git", "rev-parse", "--short=12", "HEAD"], check=True).stdout.strip()
        dirty = git(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", *not_code]).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


_invocation: list[str] = []  # the script and its arguments, once ScriptParser has parsed them


def record_invocation(script: str, argv: list[str]) -> None:
    """Remember how the running script was invoked, also when its main(argv) is called from Python (the tests do)."""
    _invocation[:] = [script, *argv]


def command_line() -> str:
    """How this script was run, e.g. 'python replicate/tune.py --seeds 0', the script relative to the repo."""
    script, *argv = _invocation or sys.argv
    path = Path(script)
    with contextlib.suppress(ValueError):
        path = path.resolve().relative_to(REPO_ROOT)
    return shlex.join(["python", str(path), *argv])


def provenance(device: torch.device) -> dict:
    """What every row records about where, when and by which command it was produced."""
    return {
        "command": command_line(),
        "device": device_name(device),
        "torch_version": str(torch.__version__),  # plain str: TorchVersion does not unpickle safely
        "git_commit": git_commit(),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def append_rows(path: Path, rows: list[dict]) -> None:
    """Append ``rows`` to the CSV at ``path``, creating it with a header if needed; earlier rows are kept and new
    columns widen the file. The whole file is rewritten atomically (the files are small): a row is either wholly in it
    or not at all, even if the process is killed or the power fails mid-write."""
    if not rows:
        return
    path.parent.mkdir(parents=True, exist_ok=True)  # before it is locked
    with _locked(path.parent) as folder:
        old_columns, old_rows = read_rows(path) if path.exists() else ([], [])
        write_rows(path, list(dict.fromkeys(old_columns + [key for row in rows for key in row])), old_rows + rows)
        if folder is not None:
            os.fsync(folder)  # the rename itself reaches the disk


def read_rows(path: Path) -> tuple[list[str], list[dict]]:
    """The columns and rows of the CSV at ``path``, every value as the text it was written as."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, columns: list[str], rows: list[dict]) -> None:
    """Write ``rows`` under the header ``columns`` to ``path``, atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomically(path, lambda f: f.write(buffer.getvalue().encode()))


def write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """``write(file)`` to a temporary file beside ``path`` (its folder created if need be), flushed to disk, then
    renamed over ``path``: a crash or power cut leaves the old file or the new one, never half of one."""
    temporary = path.with_name(path.name + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(temporary, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _locked(folder: Path):
    """Hold an exclusive lock on ``folder`` (two scripts logging to one folder at once: neither loses its rows);
    yield its descriptor. On Windows, which has neither folder descriptors nor fcntl: None, and no lock."""
    if fcntl is None:
        yield None
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield descriptor
    finally:
        os.close(descriptor)  # and releases the lock


def log_wall_time(out: Path, minutes: float, device: torch.device, **fields) -> None:
    """One row per invocation of a replicate/ script: the exact command and how long it took end to end."""
    row = {"command": command_line(), **fields, "wall_minutes": round(minutes, 2), **provenance(device)}
    append_rows(Path(out) / "wall_times.csv", [row])
