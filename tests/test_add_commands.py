"""The one-off fill of missing commands takes each from the one invocation of the same code running at the time."""

import pandas as pd

from tests.conftest import load_script, read_rows


def test_a_missing_command_comes_from_the_invocation_running_then_and_nothing_else_changes(tmp_path, capsys):
    runs = [
        {
            "run_id": "a",
            "experiment": "omit3",
            "model": "distilled",
            "seed": 1,
            "preset": "paper",
            "test_errors": 130,
            "command": "",
            "git_commit": "c1",
            "finished_at": "2026-11-23T17:52:00+00:00",
        },
        {
            "run_id": "b",
            "experiment": "only78",
            "model": "distilled",
            "seed": 1,
            "preset": "paper",
            "test_errors": 2000,
            "command": "",
            "git_commit": "c1",
            "finished_at": "2026-11-23T17:55:00+00:00",
        },
        {
            "run_id": "c",
            "experiment": "main",
            "model": "teacher",
            "seed": 0,
            "preset": "quick",
            "test_errors": 98,
            "command": "",
            "git_commit": "c0-dirty",
            "finished_at": "2026-11-23T15:09:30+00:00",
        },  # no invocation logged
        {
            "run_id": "d",
            "experiment": "main",
            "model": "teacher",
            "seed": 3,
            "preset": "paper",
            "test_errors": 69,
            "command": "python replicate/mnist.py --seeds 3",
            "git_commit": "c1",
            "finished_at": "2026-11-23T17:53:00+00:00",
        },
    ]
    pd.DataFrame(runs).to_csv(tmp_path / "runs.csv", index=False)
    invocations = [  # two commands of one commit, one after the other
        {
            "command": "python replicate/mnist.py --experiment omit3 --seed 1",
            "git_commit": "c1",
            "finished_at": "2026-11-23T17:52:54+00:00",
            "wall_minutes": 2.29,
        },
        {
            "command": "python replicate/mnist.py --experiment only78 --seed 1",
            "git_commit": "c1",
            "finished_at": "2026-11-23T17:55:45+00:00",
            "wall_minutes": 2.79,
        },
    ]
    pd.DataFrame(invocations).to_csv(tmp_path / "wall_times.csv", index=False)
    before = read_rows(tmp_path / "runs.csv")
    assert load_script("add_commands").main(["--folder", str(tmp_path)]) == 0
    after = read_rows(tmp_path / "runs.csv")
    assert [r["command"] for r in after] == [
        "python replicate/mnist.py --experiment omit3 --seed 1",
        "python replicate/mnist.py --experiment only78 --seed 1",
        "",
        "python replicate/mnist.py --seeds 3",
    ]
    assert [{k: v for k, v in r.items() if k != "command"} for r in after] == [
        {k: v for k, v in r.items() if k != "command"} for r in before
    ]
    assert "no command found: main teacher seed 0 (quick), commit c0-dirty" in capsys.readouterr().out
