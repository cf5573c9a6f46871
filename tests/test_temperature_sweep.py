"""The temperature × size verdict says what the numbers say, either way."""

from distill.temperature_sweep import TEMPERATURES, verdict


def rows_for(hidden: str, errors_by_t: dict, spread: float) -> list[dict]:
    """Two seeds per T, ``spread`` apart, plus a student trained alone."""
    rows = [{"model": "baseline", "hidden": hidden, "temperature": "", "test_errors": 500}]
    for t, errors in errors_by_t.items():
        for seed_shift in (-spread / 2, spread / 2):
            rows.append({"model": "distilled", "hidden": hidden, "temperature": t, "test_errors": errors + seed_shift})
    return rows


def test_small_student_claim_holds_only_when_2_5_to_4_clearly_wins():
    clear = {t: (300 if 2.5 <= t <= 4 else 340) for t in TEMPERATURES}
    (line,) = verdict(rows_for("30-30", clear, spread=4))
    assert line.startswith("30-30: best T = 2.5") and "HOLDS" in line
    # the same lead, but seeds that disagree by far more than the lead: not significant
    (line,) = verdict(rows_for("30-30", clear, spread=80))
    assert "does NOT hold" in line
    # the best temperature outside the range
    (line,) = verdict(rows_for("30-30", {**clear, 8.0: 290}, spread=4))
    assert "best T = 8" in line and "does NOT hold" in line


def test_large_student_claim_compares_all_temperatures_from_8_up():
    flat = {t: (200 if t < 8 else 150 + (t == 10)) for t in TEMPERATURES}
    (line,) = verdict(rows_for("800-800", flat, spread=6))
    assert "HOLDS" in line and "spans 1.0 errors" in line
    (line,) = verdict(rows_for("800-800", {**flat, 20.0: 180}, spread=6))
    assert "does NOT hold" in line


def test_one_seed_judges_nothing():
    rows = [{"model": "distilled", "hidden": "300-300", "temperature": t, "test_errors": 100} for t in TEMPERATURES]
    (line,) = verdict(rows)
    assert "one seed only" in line


def test_a_collapsed_student_is_named_and_left_out_of_the_verdict():
    clear = {t: (300 if 2.5 <= t <= 4 else 340) for t in TEMPERATURES}
    rows = rows_for("30-30", clear, spread=4)
    dead = next(r for r in rows if r["temperature"] == 20.0)
    dead.update(test_errors=8990, seed=1)
    lines = verdict(rows)
    assert "HOLDS" in lines[0]  # one dead student does not swamp the seed spread
    assert lines[1] == "30-30 at T = 20 seed 1 collapsed (8990 errors, over half the test set) and is left out above."
