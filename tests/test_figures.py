"""figures.py turns CSV rows into the summary table and PNGs, and rejects malformed CSVs clearly."""

import pandas as pd
import pytest

from tests.conftest import load_script


def write_fixture(results):
    (results / "mnist").mkdir(parents=True)
    runs = [
        {"run_id": f"{model}{seed}", "experiment": "main", "model": model, "preset": "paper", "eval_split": "test",
         "test_errors": errors, "seed": seed, "train_seconds": 60.0, "device": "cpu (test)",
         "finished_at": f"2026-01-0{seed + 1}T00:{minute}:00+00:00"}
        for model, minute, per_seed in (("teacher", 10, (70, 80)), ("baseline", 12, (140, 150)),
                                        ("distilled", 15, (90, 100)))
        for seed, errors in enumerate(per_seed)
    ]  # fmt: skip
    pd.DataFrame(runs).to_csv(results / "mnist" / "runs.csv", index=False)
    epochs = [
        {"run_id": r["run_id"], "model": r["model"], "epoch": e, "test_errors": r["test_errors"] + 10 * (3 - e)}
        for r in runs
        for e in (1, 2, 3)
    ]
    pd.DataFrame(epochs).to_csv(results / "mnist" / "epochs.csv", index=False)


def elsewhere(tmp_path, results) -> list[str]:
    """Arguments that keep every output of figures.py inside the test's folder, never the repository's files."""
    return ["--results", str(results), "--figures", str(tmp_path / "f"), "--readme", "none", "--reproduce", "none"]


def test_summary_and_figures_from_fixture(tmp_path):
    results, figures = tmp_path / "results", tmp_path / "figures"
    write_fixture(results)
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- headline:start -->\nold\n<!-- headline:end -->\nrest\n")
    reproduce = tmp_path / "REPRODUCE.md"
    reproduce.write_text("a\n<!-- reproduce-mnist:start -->\nold\n<!-- reproduce-mnist:end -->\nb\n")
    args = [
        "--results",
        str(results),
        "--figures",
        str(figures),
        "--readme",
        str(readme),
        "--reproduce",
        str(reproduce),
    ]
    assert load_script("figures").main(args) == 0
    assert "old" not in reproduce.read_text() and "75.0 ± 7.1" in reproduce.read_text()
    summary = (results / "SUMMARY.md").read_text()
    assert "| teacher | 67 | 75.0 ± 7.1 (n=2) | +8.0 | 70, 80 |" in summary
    assert "| baseline | 146 | 145.0 ± 7.1 (n=2) | -1.0 |" in summary
    assert "| distilled | 74 | 95.0 ± 7.1 (n=2) | +21.0 |" in summary
    assert "(alone − distilled)/(alone − teacher): 71 %, 71 % (published: 91 %)" in summary
    assert "seed 0: 6.0 min; seed 1: 6.0 min" in summary  # from the teacher's start to the last finish
    for name in ("mnist_headline.png", "mnist_learning_curves.png"):
        assert (figures / name).stat().st_size > 10_000
    text = readme.read_text()
    assert "old" not in text and "75.0 ± 7.1" in text and text.startswith("intro") and text.endswith("rest\n")
    first = (figures / "mnist_headline.png").read_bytes()
    assert load_script("figures").main(args) == 0
    assert (figures / "mnist_headline.png").read_bytes() == first  # same CSVs, same files


def test_missing_experiment_is_shown_as_not_run(tmp_path):
    results = tmp_path / "results"
    write_fixture(results)
    runs = pd.read_csv(results / "mnist" / "runs.csv")
    runs[runs.model != "distilled"].to_csv(results / "mnist" / "runs.csv", index=False)
    assert load_script("figures").main(elsewhere(tmp_path, results)) == 0
    assert "| distilled | 74 | not run |" in (results / "SUMMARY.md").read_text()


@pytest.mark.parametrize("damage, message", [("drop", "has no column 'test_errors'"), ("garble", "non-numeric")])
def test_malformed_csv_names_file_and_column(tmp_path, damage, message):
    results = tmp_path / "results"
    write_fixture(results)
    runs = pd.read_csv(results / "mnist" / "runs.csv")
    if damage == "drop":
        runs = runs.drop(columns="test_errors")
    else:
        runs["test_errors"] = runs["test_errors"].astype(str)
        runs.loc[0, "test_errors"] = "lots"
    runs.to_csv(results / "mnist" / "runs.csv", index=False)
    with pytest.raises(SystemExit) as raised:
        load_script("figures").main(elsewhere(tmp_path, results))
    assert message in str(raised.value) and "runs.csv" in str(raised.value)
