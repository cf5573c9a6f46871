"""Once: add the columns that tune.py now logs (factor, value, teacher_epochs) to the committed study CSVs.

The study's rows were logged before tune.py wrote what each row changed. This script derives those columns as the
study's tables derived them then (teacher_epochs from each student's logged command, --teacher-epochs; factor and
value from the study's start) and appends them to every row of results/mnist/study/*_tuning.csv, changing no other
value. A file that has them already is left as it is.

    python replicate/add_study_columns.py
"""

import re
import sys
from pathlib import Path

import pandas as pd

from distill.lab.cli import ScriptParser
from distill.lab.presets import PAPER
from distill.lab.results import read_rows, write_rows
from distill.reporting.study import changed, start


def add_columns(path: Path) -> bool:
    """Add factor, value (and to a student's row, teacher_epochs) to every row of ``path``; False if it had them."""
    header, rows = read_rows(path)
    if "factor" in header:
        return False
    typed = pd.read_csv(path)
    begun = start(PAPER)
    for row, settings in zip(rows, typed.to_dict("records")):
        if settings["model"] != "teacher":
            named = re.search(r"--teacher-epochs[= ](\d+)", settings.get("command") or "")
            settings["teacher_epochs"] = int(named.group(1)) if named else begun["students"]["teacher_epochs"]
            row["teacher_epochs"] = str(settings["teacher_epochs"])
        row.update(changed(settings, begun["teacher" if settings["model"] == "teacher" else "students"]))
    write_rows(path, [*header, "teacher_epochs", "factor", "value"], rows)
    return True


def main(argv=None) -> int:
    parser = ScriptParser(__doc__, __file__)
    parser.add_argument("--study", default="results/mnist/study", help="the study's folder (default: %(default)s)")
    args = parser.parse_args(argv)
    for path in sorted(Path(args.study).glob("*_tuning.csv")):
        print(f"{path}: {'columns added' if add_columns(path) else 'has them already'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
