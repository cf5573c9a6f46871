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
    for metric, digits in (("test_errors", 1), ("test_nll", 4)):
        gain = members[metric].mean() - by_seed("ensemble", metric)
        kept = members[metric].mean() - by_seed("distilled", metric)
        assert f"| ensemble − its members' mean, paired | +2.2 | {-gain.mean():+.{digits}f} ± " in table
        assert f"| distilled − its members' mean, paired | +1.9 | {-kept.mean():+.{digits}f} ± " in table
        one_member = members[metric].var().mean() ** 0.5
        shown = f"{100 * kept.mean() / gain.mean():.0f} % [" if gain.mean() > 3 * one_member else "undefined: the gain"
        assert shown in glance[2].split(";")[metric == "test_nll"]
