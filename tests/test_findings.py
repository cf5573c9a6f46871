"""The generated findings and §4's paired differences are the committed rows' own numbers, with their selection."""

from pathlib import Path

import pandas as pd

from distill.experiments import ensemble, headline
from distill.reporting import study
from distill.reporting.tables import Results

RESULTS = Path(__file__).resolve().parent.parent / "results"


def test_the_300_epoch_teacher_is_the_five_gpu_seeds_of_the_superseded_rows():
    results = Results.read(RESULTS)
    (_, longer, *_) = headline.findings(results, study.read(RESULTS))
    rows = pd.read_csv(RESULTS / "mnist" / "superseded" / "runs.csv")
    gpu = rows[(rows.model == "teacher") & (rows.epochs == 300) & rows.device.str.startswith("NVIDIA")].test_errors
    assert len(gpu) == 5 and f"made {gpu.mean():.1f} ± {gpu.std():.1f} (n=5) test errors on one GPU" in longer
    cpu = rows[(rows.model == "teacher") & (rows.epochs == 300) & ~rows.device.str.startswith("NVIDIA")]
    assert len(cpu) == 1  # the CPU's seed 0 is not mixed in
    seen = rows[(rows.model == "distilled") & (rows.finished_at < "2026-11-26T04")].sort_values("finished_at")
    assert (
        f"scored on test ({seen.test_errors.iloc[-1]} errors, seed 0" in longer
        and "test score was seen first" in longer
    )


def test_the_ensembles_gains_and_share_are_the_rows_own_numbers():
    results = Results.read(RESULTS)
    rows = results.rows("ensemble", "paper")
    members = rows[rows.model == "baseline"].assign(ensemble=lambda r: r.seed // 10).groupby("ensemble")
    by_seed = lambda model, column: rows[rows.model == model].set_index("seed")[column]
    table, (glance,) = ensemble.table(results, "paper"), ensemble.glance(results, "paper")
    assert members.ngroups >= 3  # the claim is made over three ensembles at least
    cells = lambda label: next(line for line in table.splitlines() if line.startswith(f"| {label} |")).split(" | ")
    for column, (metric, digits) in enumerate((("test_errors", 1), ("test_nll", 4)), start=2):
        gain = members[metric].mean() - by_seed("ensemble", metric)
        kept = members[metric].mean() - by_seed("distilled", metric)
        assert cells("ensemble − its members' mean, paired")[column].startswith(f"{-gain.mean():+.{digits}f} ± ")
        assert cells("distilled − its members' mean, paired")[column].startswith(f"{-kept.mean():+.{digits}f} ± ")
        one_member = members[metric].var().mean() ** 0.5
        shown = f"{100 * kept.mean() / gain.mean():.0f} % [" if gain.mean() > 3 * one_member else "undefined: the gain"
        assert shown in glance[2].split(";")[metric == "test_nll"]


def test_the_ensemble_recipe_is_what_its_validation_rows_choose():
    from distill.lab.presets import PAPER

    rows = pd.read_csv(RESULTS / "mnist" / "ensemble_validation" / "ensemble_validation.csv")
    members = rows[(rows.model == "baseline") & rows.member.notna()]
    ensembles = rows[rows.model == "ensemble"].set_index(["cfg_jitter", "epochs"]).val_nll
    one_member = members.groupby(["cfg_jitter", "epochs"]).val_nll
    in_sd = ((one_member.mean() - ensembles) / one_member.std()).dropna()  # the NLL gain, in sd of one member
    shortest = min(epochs for _, epochs in in_sd[in_sd > 3].index)
    jitter = in_sd.xs(shortest, level="epochs").idxmax()
    assert (PAPER.ensemble.member.train.epochs, PAPER.ensemble.member.train.jitter) == (shortest, jitter)
    best = rows[rows.model == "distilled"].sort_values("val_nll").iloc[0]  # the distilled net of lowest NLL
    recipe = PAPER.ensemble
    assert (best.temperature, best.hard_weight, best.input_dropout > 0) == (
        recipe.temperature,
        recipe.hard_weight,
        recipe.distilled_dropout,
    )
