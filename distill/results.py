"""Results as tidy CSV rows with their provenance, appended and never overwritten."""

from __future__ import annotations

import csv
import functools
import io
import os
import platform
import shlex
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parent.parent


@functools.cache  # read once, when the first row is made: later commits must not relabel a run in progress
def git_commit(root: Path = REPO_ROOT) -> str:
    """The checkout's commit, with '-dirty' when tracked code differs from it; 'unknown' outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        # results/ is data this code appends to while it runs, not code: it never makes a commit "dirty"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def provenance(device: torch.device) -> dict:
    """What every row records about where and when it was produced."""
    return {
        "device": device_name(device),
        "torch_version": str(torch.__version__),  # plain str: TorchVersion does not unpickle safely
        "git_commit": git_commit(),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def append_rows(path: Path, rows: list[dict]) -> None:
    """Append ``rows`` to the CSV at ``path``, creating it with a header if needed.

    Earlier rows are kept. If the rows bring new columns, the file is rewritten
    with the union of columns (to a temporary file, then renamed, so a crash
    leaves either the old file or the new one). A plain append is one write call.
    """
    if not rows:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    old_rows: list[dict] = []
    if path.exists() and path.stat().st_size > 0:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            old_columns = list(reader.fieldnames or [])
            if set(columns) <= set(old_columns):
                _write(path, old_columns, rows, mode="a", header=False)
                return
            old_rows = list(reader)
        columns = list(dict.fromkeys(old_columns + columns))
    temporary = path.with_suffix(path.suffix + ".tmp")
    _write(temporary, columns, old_rows + rows, mode="w", header=True)
    os.replace(temporary, path)


def _write(path: Path, columns: list[str], rows: list[dict], mode: str, header: bool) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    with open(path, mode, newline="") as f:
        f.write(buffer.getvalue())
        f.flush()
        os.fsync(f.fileno())


def log_wall_time(out: Path, script: str, argv: list[str], minutes: float, device: torch.device, **fields) -> None:
    """One row per invocation of a replicate/ script: the exact command and how long it took end to end."""
    command = shlex.join(["python", f"replicate/{script}", *argv])
    row = {"command": command, **fields, "wall_minutes": round(minutes, 2), **provenance(device)}
    append_rows(Path(out) / "wall_times.csv", [row])
