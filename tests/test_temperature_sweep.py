"""The temperature × size verdicts are records of what the numbers say, either way, rendered to prose once."""

import pandas as pd
import pytest

from distill.experiments.temperature import TEMPERATURES, collapse_notes, verdicts


def rows_for(hidden: str, errors_by_t: dict, spread: float) -> pd.DataFrame:
    """Two seeds per T, ``spread`` apart, plus a student trained alone."""
    rows = [{"model": "baseline", "hidden": hidden, "temperature": None, "test_errors": 500, "seed": 0}]
    for t, errors in errors_by_t.items():
        for seed, shift in enumerate((-spread / 2, spread / 2)):
            rows.append({"model": "distilled", "hidden": hidden, "temperature": t, "test_errors": errors + shift,
                         "seed": seed})  # fmt: skip
    return pd.DataFrame(rows)


def test_small_student_claim_holds_only_when_2_5_to_4_clearly_wins():
    clear = {t: (300 if 2.5 <= t <= 4 else 340) for t in TEMPERATURES}
    (verdict,) = verdicts(rows_for("30-30", clear, spread=4))
    assert (verdict.claim, verdict.best_t, verdict.margin, verdict.n, verdict.holds) == ("small", 2.5, 40, 2, True)
    assert verdict.bound == pytest.approx(2 * 2 * 2**0.5 * (1 / 2 + 1 / 2) ** 0.5)  # 2 s.e.; the seed sd is 2·√2
    assert verdict.sentence().startswith("30-30: best T = 2.5") and "HOLDS" in verdict.sentence()
    # the same lead, but seeds that disagree by far more than the lead: not significant
    (verdict,) = verdicts(rows_for("30-30", clear, spread=80))
    assert verdict.margin == 40 and verdict.holds is False and "does NOT hold" in verdict.sentence()
    # the best temperature outside the range
    (verdict,) = verdicts(rows_for("30-30", {**clear, 8.0: 290}, spread=4))
    assert verdict.best_t == 8 and verdict.other_t == 8 and verdict.margin == -10 and verdict.holds is False


def test_large_student_claim_compares_all_temperatures_from_8_up():
    flat = {t: (200 if t < 8 else 150 + (t == 10)) for t in TEMPERATURES}
    (verdict,) = verdicts(rows_for("800-800", flat, spread=6))
    assert (verdict.claim, verdict.margin, verdict.holds) == ("flat", 1.0, True)
    assert "spans 1.0 errors" in verdict.sentence()
    (verdict,) = verdicts(rows_for("800-800", {**flat, 20.0: 180}, spread=6))
    assert verdict.margin == 30 and verdict.holds is False


def test_one_seed_judges_nothing():
    rows = pd.DataFrame(
        [
            {"model": "distilled", "hidden": "300-300", "temperature": t, "test_errors": 100, "seed": 0}
            for t in TEMPERATURES
        ]
    )
    (verdict,) = verdicts(rows)
    assert verdict.claim == "" and verdict.holds is None and "one seed only" in verdict.sentence()


def test_a_collapsed_student_is_named_and_left_out_of_the_verdict():
    clear = {t: (300 if 2.5 <= t <= 4 else 340) for t in TEMPERATURES}
    rows = rows_for("30-30", clear, spread=4)
    dead = rows.index[(rows.temperature == 20.0) & (rows.seed == 1)]
    rows.loc[dead, "test_errors"] = 8990
    (verdict,) = verdicts(rows)
    assert verdict.holds  # one dead student does not swamp the seed spread
    assert collapse_notes(rows) == [
        "30-30 at T = 20 seed 1 collapsed (8990 errors, over half the test set) and is left out above."
    ]
