"""The temperature × size verdicts are records of what the numbers say, either way, rendered to prose once."""

from pathlib import Path

import pandas as pd
import pytest

from distill.experiments.temperature import TEMPERATURES, collapse_notes, verdicts
from distill.reporting.tables import Results

REPO = Path(__file__).resolve().parent.parent


def rows_for(hidden: str, errors_by_t: dict, spread: float) -> pd.DataFrame:
    """Two seeds per T, ``spread`` apart, plus a student trained alone."""
    rows = [{"model": "baseline", "hidden": hidden, "temperature": None, "test_errors": 500, "seed": 0}]
    for t, errors in errors_by_t.items():
        for seed, shift in enumerate((-spread / 2, spread / 2)):
            rows.append(
                {"model": "distilled", "hidden": hidden, "temperature": t, "test_errors": errors + shift, "seed": seed}
            )
    return pd.DataFrame(rows)


def test_the_small_student_is_compared_with_every_temperature_outside_2_5_to_4():
    clear = {t: (300 if 2.5 <= t <= 4 else 340) for t in TEMPERATURES}
    (verdict,) = verdicts(rows_for("30-30", {**clear, 1.0: 302}, spread=4))
    assert verdict.best_t == 2.5 and verdict.n == 2
    assert [(p.against, p.margin) for p in verdict.parts] == [
        ("T = 1", 2),
        ("T = 2", 40),
        ("T = 5", 40),
        ("T = 8", 40),
        ("T = 10", 40),
        ("T = 20", 40),
    ]
    assert verdict.parts[0].bound == pytest.approx(2 * 2 * 2**0.5)  # 2 s.e. of a difference; the seed sd is 2·√2
    assert [p.against for p in verdict.held(False)] == ["T = 1"]  # 2 errors: within the seed spread
    assert verdict.glance() == "30-30: T 2.5–4 beats T = 2, 5, 8, 10, 20, not T = 1 (n = 2)"
    # the same lead, but seeds that disagree by far more than it: nothing is beaten
    (verdict,) = verdicts(rows_for("30-30", clear, spread=80))
    assert not verdict.held(True) and "within 2 s.e. at T = 1 (+40.0 ± 113.1)" in verdict.sentence()


def test_the_large_student_spans_its_temperatures_from_8_up():
    flat = {t: (200 if t < 8 else 150 + (t == 10)) for t in TEMPERATURES}
    (verdict,) = verdicts(rows_for("800-800", flat, spread=6))
    ((spread,),) = [verdict.parts]
    assert (spread.against, spread.margin, spread.holds) == ("T = 10 − T = 8", 1.0, True)
    assert "within 2 s.e.: no difference found at n = 2" in verdict.sentence()
    (verdict,) = verdicts(rows_for("800-800", {**flat, 20.0: 180}, spread=6))
    assert verdict.parts[0].margin == 30 and not verdict.parts[0].holds


def test_one_seed_judges_nothing():
    rows = pd.DataFrame(
        [
            {"model": "distilled", "hidden": "300-300", "temperature": t, "test_errors": 100, "seed": 0}
            for t in TEMPERATURES
        ]
    )
    (verdict,) = verdicts(rows)
    assert verdict.parts == () and "one seed only" in verdict.sentence()


def test_a_collapsed_student_is_named_and_left_out_of_the_verdict():
    clear = {t: (300 if 2.5 <= t <= 4 else 340) for t in TEMPERATURES}
    rows = rows_for("30-30", clear, spread=4)
    rows.loc[(rows.temperature == 20.0) & (rows.seed == 1), "test_errors"] = 8990
    (verdict,) = verdicts(rows)
    assert len(verdict.held(True)) == 6  # one dead student does not swamp the seed spread
    assert collapse_notes(rows) == [
        "30-30 at T = 20 seed 1 collapsed (8990 errors, over half the test set) and is left out above."
    ]


def test_the_committed_verdicts_are_the_rows_own_numbers():
    rows = Results.read(REPO / "results").rows("temperature", "paper")
    small = rows[(rows.hidden == "30-30") & (rows.model == "distilled") & (rows.test_errors < 5000)]
    means = small.groupby(small.temperature.astype(float)).test_errors.mean()
    verdict = next(v for v in verdicts(rows) if v.hidden == "30-30")
    best_inside = means[(means.index >= 2.5) & (means.index <= 4)].min()
    for part in verdict.parts:
        t = float(part.against.removeprefix("T = "))
        assert part.margin == pytest.approx(means[t] - best_inside)
    assert verdict.n == small.seed.nunique()
