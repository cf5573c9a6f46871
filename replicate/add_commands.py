"""Once: fill in the command of the rows logged before every row recorded it, from the wall times of the same code.

A row of <folder>/runs.csv without a command gets the command of the <folder>/wall_times.csv row that ran the same
commit (git_commit) and was running when the row was logged: its finished_at lies between that invocation's start
(its finished_at less its wall_minutes) and its end. Only empty command cells are filled; no other value changes.
Rows no invocation accounts for are listed, and stay without a command.

    python replicate/add_commands.py
"""

import sys
from datetime import datetime, timedelta
from pathlib import Path

from distill.lab.cli import ScriptParser
from distill.lab.results import read_rows, write_rows


def command_of(row: dict, invocations: list[dict]) -> str | None:
    """The command of the one invocation of the row's commit that was running when the row was logged, or None."""
    logged = datetime.fromisoformat(row["finished_at"])
    running = [
        i["command"]
        for i in invocations
        if i["git_commit"] == row["git_commit"]
        and datetime.fromisoformat(i["finished_at"]) - timedelta(minutes=float(i["wall_minutes"])) <= logged
        and logged <= datetime.fromisoformat(i["finished_at"])
    ]
    return running[0] if len(running) == 1 else None


def add_commands(folder: Path) -> list[dict]:
    """Fill the empty command cells of <folder>/runs.csv; return the rows left without one."""
    path = folder / "runs.csv"
    header, rows = read_rows(path)
    invocations = read_rows(folder / "wall_times.csv")[1]
    unknown = []
    for row in rows:
        if not row["command"]:
            row["command"] = command_of(row, invocations) or ""
            unknown += [] if row["command"] else [row]
    write_rows(path, header, rows)
    return unknown


def main(argv=None) -> int:
    parser = ScriptParser(__doc__, __file__)
    parser.add_argument(
        "--folder", default="results/mnist", help="holds runs.csv and wall_times.csv (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    for row in add_commands(Path(args.folder)):
        print(
            f"no command found: {row['experiment']} {row['model']} seed {row['seed']} ({row['preset']}), "
            f"commit {row['git_commit']}, logged {row['finished_at']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
