"""A new experiment is one module and one line in the registry: the CLI runs it, figures.py tabulates and plots it."""

import pytest

import distill.experiments
from distill.lab.experiment import Experiment
from distill.reporting.plots import plt
from tests.conftest import load_script, read_rows


def run_seed(run, preset):  # the throw-away experiment: one student distilled at T = 5
    run.distill(preset.students.distilled, 5.0, preset.hard_weight)


def table(results, preset):
    rows = results.rows("throwaway", preset, "distilled")
    return f"throw-away table: {len(rows)} distilled student(s), errors {rows.test_errors.tolist()}\n"


def glance(results, preset):
    return [("throw-away", "—", f"{len(results.rows('throwaway', preset))} rows")]


def plot(results, preset):
    figure, ax = plt.subplots()
    ax.plot(results.rows("throwaway", preset).test_errors.tolist())
    return figure


THROWAWAY = Experiment("throwaway", "A throw-away claim", run_seed, table, glance, {"throwaway.png": plot})


def test_every_registered_experiment_declares_itself_whole():
    names = [e.name for e in distill.experiments.EXPERIMENTS]
    assert len(set(names)) == len(names)
    assert names[:6] == ["main", "omit3", "only78", "temperature", "ensemble", "fewdata"] and "logits" in names
    for experiment in distill.experiments.EXPERIMENTS:
        assert experiment.title and experiment.figures and all(name.endswith(".png") for name in experiment.figures)


@pytest.mark.slow
def test_a_registered_experiment_is_run_tabulated_and_plotted(mnist_root, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(distill.experiments, "EXPERIMENTS", [*distill.experiments.EXPERIMENTS, THROWAWAY])
    out = tmp_path / "results" / "mnist"
    args = ["--preset", "smoke", "--experiment", "throwaway", "--device", "cpu", "--data-dir", str(mnist_root)]
    assert load_script("mnist").main([*args, "--out", str(out)]) == 0
    assert "throw-away table: 1 distilled student(s)" in capsys.readouterr().out
    assert [(r["experiment"], r["model"], r["temperature"]) for r in read_rows(out / "runs.csv")] == [
        ("throwaway", "teacher", ""),
        ("throwaway", "distilled", "5.0"),
    ]
    figures = tmp_path / "figures"
    readme = tmp_path / "README.md"
    readme.write_text("<!-- headline:start -->\n<!-- headline:end -->\n<!-- glance:start -->\n<!-- glance:end -->\n")
    args = ["--results", str(tmp_path / "results"), "--figures", str(figures), "--preset", "smoke"]
    assert load_script("figures").main([*args, "--readme", str(readme), "--reproduce", "none"]) == 0
    summary = (tmp_path / "results" / "SUMMARY.md").read_text()
    assert "## A throw-away claim, `smoke` preset\n\nthrow-away table: 1 distilled student(s)" in summary
    assert "![throwaway.png](../figures/throwaway.png)" in summary
    assert "| throw-away | — | 2 rows |" in readme.read_text()
    assert (figures / "throwaway.png").stat().st_size > 5_000
