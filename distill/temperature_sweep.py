"""§3's temperature × student size: which T suits a small student, and which a large one.

The paper: "When the distilled net had 300 or more units in each of its two hidden layers, all temperatures
above 8 gave fairly similar results. But when this was radically reduced to 30 units per layer, temperatures
in the range 2.5 to 4 worked significantly better than higher or lower temperatures."

Each width gets a student trained alone (for reference) and one distilled student per temperature, from the
same teacher, with the preset's student recipe. The verdict compares means over seeds against the
seed-to-seed spread and says plainly whether each claim holds on our runs.
"""

import math
import statistics
from collections import defaultdict
from dataclasses import replace

from distill.presets import MnistPreset
from distill.run import Run

TEMPERATURES = (1.0, 2.0, 2.5, 3.0, 4.0, 5.0, 8.0, 10.0, 20.0)
WIDTHS = (30, 300, 800)
SMALL_STUDENT_BEST = (2.5, 4.0)  # the range the paper found best for 30 units
LARGE_STUDENT_FLAT_FROM = 8.0  # "all temperatures above 8 gave fairly similar results" (≥ 300 units)


def run_temperature_sweep(run: Run, preset: MnistPreset) -> list[dict]:
    """Per width: a student alone, then one student distilled at each temperature; return their rows."""
    first = len(run.rows)
    for width in WIDTHS:
        alone = replace(preset.baseline, hidden=(width, width))
        run.fit("baseline", alone, run.label_loss(), kl_temperature=preset.temperature)
        for temperature in TEMPERATURES:
            run.distill(replace(preset.distilled, hidden=(width, width)), temperature, preset.hard_weight)
    return run.rows[first:]


COLLAPSED_ERRORS = 5000  # half the test set wrong: the student died (all ReLUs off), it did not learn badly


def verdict(rows: list[dict]) -> list[str]:
    """One plain sentence per width: best T, and whether the paper's claim for that size holds.

    "Significantly better" / "similar" use a rough two-standard-error rule: two cells' means differ when they are more
    than 2·s·√(1/n_a + 1/n_b) apart, s being the seed-to-seed sd pooled over that width's distilled cells (0 with one
    seed) and n_a, n_b their seeds. Students that collapsed to a constant prediction say nothing about T: they are left
    out, but named.
    """
    collapsed = [r for r in rows if r["model"] == "distilled" and float(r["test_errors"]) >= COLLAPSED_ERRORS]
    lines = []
    for hidden in dict.fromkeys(r["hidden"] for r in rows):
        seeds = defaultdict(list)  # T -> errors of each seed
        for r in rows:
            if r["hidden"] == hidden and r["model"] == "distilled" and r not in collapsed:
                seeds[float(r["temperature"])].append(float(r["test_errors"]))
        if not seeds:
            continue
        means = {t: statistics.mean(v) for t, v in seeds.items()}
        groups = [v for v in seeds.values() if len(v) > 1]
        dof = sum(len(v) - 1 for v in groups)
        sd = math.sqrt(sum(statistics.variance(v) * (len(v) - 1) for v in groups) / dof) if dof else 0.0

        def margin(t_a: float, t_b: float) -> float:
            """Two standard errors of the difference between two cells' means."""
            return 2 * sd * math.sqrt(1 / len(seeds[t_a]) + 1 / len(seeds[t_b]))

        best = min(means, key=means.get)
        n = max(len(v) for v in seeds.values())
        text = f"{hidden}: best T = {best:g} ({means[best]:.1f} errors, n={n} seeds, seed sd {sd:.1f})"
        width = int(hidden.split("-")[0])
        inside = {t: m for t, m in means.items() if SMALL_STUDENT_BEST[0] <= t <= SMALL_STUDENT_BEST[1]}
        outside = {t: m for t, m in means.items() if t not in inside}
        high = {t: m for t, m in means.items() if t >= LARGE_STUDENT_FLAT_FROM}
        if sd == 0:
            text += "; one seed only, so no claim is judged."
        elif width <= 30 and inside and outside:
            t_in, t_out = min(inside, key=inside.get), min(outside, key=outside.get)
            lead, bound = outside[t_out] - inside[t_in], margin(t_in, t_out)
            text += (
                f"; best T in 2.5–4 beats the best T outside it (T = {t_out:g}) by {lead:.1f} errors, 2-s.e. "
                f"margin {bound:.1f}: the paper's claim (2.5–4 significantly better) "
                f"{'HOLDS' if lead > bound else 'does NOT hold'} on these runs."
            )
        elif width >= 300 and len(high) > 1:
            t_low, t_high = min(high, key=high.get), max(high, key=high.get)
            spread, bound = high[t_high] - high[t_low], margin(t_low, t_high)
            text += (
                f"; T ≥ {LARGE_STUDENT_FLAT_FROM:g} spans {spread:.1f} errors, 2-s.e. margin {bound:.1f}: the "
                f"paper's claim (all T above 8 similar) {'HOLDS' if spread <= bound else 'does NOT hold'}"
                " on these runs."
            )
        lines.append(text)
    for r in collapsed:
        seed = f" seed {r['seed']}" if "seed" in r else ""
        lines.append(
            f"{r['hidden']} at T = {float(r['temperature']):g}{seed} collapsed ({float(r['test_errors']):.0f} errors, "
            "over half the test set) and is left out above."
        )
    return lines
