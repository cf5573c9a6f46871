"""§3's temperature × student size: which T suits a small student, and which a large one.

The paper: "When the distilled net had 300 or more units in each of its two hidden layers, all temperatures above 8
gave fairly similar results. But when this was radically reduced to 30 units per layer, temperatures in the range
2.5 to 4 worked significantly better than higher or lower temperatures." Each width gets a student alone (for
reference) and one distilled student per temperature, from the same teacher.
"""

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, replace

import pandas as pd

from distill.lab.experiment import Experiment
from distill.lab.presets import MnistPreset
from distill.lab.run import Run
from distill.reporting.plots import ORANGE, plt
from distill.reporting.tables import Results, devices_of, mean_sd

TEMPERATURES = (1.0, 2.0, 2.5, 3.0, 4.0, 5.0, 8.0, 10.0, 20.0)
WIDTHS = (30, 300, 800)
SMALL_STUDENT_BEST = (2.5, 4.0)  # the range the paper found best for 30 units
LARGE_STUDENT_FLAT_FROM = 8.0  # "all temperatures above 8 gave fairly similar results" (≥ 300 units)
COLLAPSED_ERRORS = 5000  # half the test set wrong: the student died (all ReLUs off), it did not learn badly
PAPER_CLAIM = (
    "Paper: with ≥ 300 units per layer all T above 8 give fairly similar results; "
    "with 30 units T in 2.5–4 works significantly better than higher or lower T."
)


def run_seed(run: Run, preset: MnistPreset) -> None:
    """Per width: a student alone, then one student distilled at each temperature."""
    for width in WIDTHS:
        alone = replace(preset.study_start.alone, hidden=(width, width))
        run.fit("baseline", alone, run.label_loss(), kl_temperature=preset.temperature)
        for temperature in TEMPERATURES:
            run.distill(replace(preset.study_start.distilled, hidden=(width, width)), temperature, preset.hard_weight)


@dataclass(frozen=True)
class Part:
    """One comparison behind the paper's claim for a student size: a difference of two cells' mean errors
    (``margin``) against two standard errors of it (``bound``, from the pooled seed sd), a rough 95 % interval."""

    against: str  # the other cell, e.g. "T = 8"; for a spread, "T = 10 to 8"
    margin: float  # better: the other cell − the best cell in 2.5–4; similar: the spread of the T ≥ 8 means
    bound: float
    similar: bool = False  # a claim of no difference: it holds when the spread stays within the bound

    @property
    def holds(self) -> bool:
        return self.margin <= self.bound if self.similar else self.margin > self.bound

    def text(self) -> str:
        return f"{self.against} ({self.margin:+.1f} ± {self.bound:.1f})"


@dataclass(frozen=True)
class Verdict:
    """The paper's claim for one student size, measured: the best T and each comparison behind the claim (none
    judged with one seed per cell)."""

    hidden: str
    best_t: float
    best_mean: float
    n: int  # seeds of the fullest cell
    sd: float  # the seed-to-seed sd, pooled over this width's distilled cells
    parts: tuple[Part, ...] = ()

    def held(self, holds: bool) -> list[Part]:
        return [part for part in self.parts if part.holds == holds]

    def sentence(self) -> str:
        text = f"{self.hidden}: best T = {self.best_t:g} ({self.best_mean:.1f} errors, n={self.n} seeds, "
        text += f"seed sd {self.sd:.1f})"
        if not self.parts:
            return text + ("; one seed only, so no claim is judged." if self.sd == 0 else ".")
        listed = lambda parts: ", ".join(part.text() for part in parts)
        if self.parts[0].similar:
            found = "within" if self.parts[0].holds else "beyond"
            return f"{text}; the T ≥ 8 means span {listed(self.parts)} errors, {found} 2 s.e.: " + (
                f"{'no difference' if self.parts[0].holds else 'a difference'} found at n = {self.n}."
            )
        lines = [text + "; errors of each T outside 2.5–4 less the best T inside it, ± 2 s.e."]
        lines += [f"more errors beyond 2 s.e. at {listed(self.held(True))}"] if self.held(True) else []
        lines += [f"within 2 s.e. at {listed(self.held(False))}"] if self.held(False) else []
        return "; ".join(lines) + f": the claim holds against {self.beaten()}."

    def glance(self) -> str:
        """E.g. "30-30: T 2.5–4 beats T = 8, 10, 20, not T = 1, 2, 5 (n = 3)"."""
        if not self.parts:
            return f"{self.hidden}: not judged"
        if self.parts[0].similar:
            return f"{self.hidden}: T ≥ 8 {'within' if self.parts[0].holds else 'beyond'} 2 s.e. (n = {self.n})"
        return f"{self.hidden}: T 2.5–4 beats {self.beaten()}"

    def beaten(self) -> str:
        """E.g. "T = 8, 10, 20, not T = 1, 2, 5 (n = 3)": the cells the best T in 2.5–4 beats beyond 2 s.e., and not."""
        temperatures = lambda holds: ", ".join(p.against.removeprefix("T = ") for p in self.held(holds)) or "none"
        return f"T = {temperatures(True)}, not T = {temperatures(False)} (n = {self.n})"


def collapsed(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[(rows.model == "distilled") & (rows.test_errors.astype(float) >= COLLAPSED_ERRORS)]


def verdicts(rows: pd.DataFrame) -> list[Verdict]:
    """One Verdict per width. Two cells differ when their means are more than 2·s·√(1/n_a + 1/n_b) apart, s being the
    pooled seed sd. Students that collapsed to a constant prediction say nothing about T: they are left out."""
    result = []
    distilled = rows[(rows.model == "distilled") & ~rows.index.isin(collapsed(rows).index)]
    for hidden in dict.fromkeys(rows.hidden):
        seeds = defaultdict(list)  # T -> errors of each seed
        for r in distilled[distilled.hidden == hidden].itertuples():
            seeds[float(r.temperature)].append(float(r.test_errors))
        if not seeds:
            continue
        means = {t: statistics.mean(v) for t, v in seeds.items()}
        groups = [v for v in seeds.values() if len(v) > 1]
        dof = sum(len(v) - 1 for v in groups)
        sd = math.sqrt(sum(statistics.variance(v) * (len(v) - 1) for v in groups) / dof) if dof else 0.0
        bound = lambda a, b: 2 * sd * math.sqrt(1 / len(seeds[a]) + 1 / len(seeds[b]))
        best = min(means, key=means.get)
        low, high = SMALL_STUDENT_BEST
        inside = {t: m for t, m in means.items() if low <= t <= high}
        parts = []
        if sd and int(hidden.split("-")[0]) <= 30 and inside:
            t_in = min(inside, key=inside.get)
            outside = sorted(t for t in means if t not in inside)
            parts = [Part(f"T = {t:g}", means[t] - inside[t_in], bound(t_in, t)) for t in outside]
        flat = {t: m for t, m in means.items() if t >= LARGE_STUDENT_FLAT_FROM}
        if sd and int(hidden.split("-")[0]) >= 300 and len(flat) > 1:
            t_low, t_high = min(flat, key=flat.get), max(flat, key=flat.get)
            parts = [Part(f"T = {t_high:g} − T = {t_low:g}", flat[t_high] - flat[t_low], bound(t_low, t_high), True)]
        result.append(Verdict(hidden, best, means[best], max(len(v) for v in seeds.values()), sd, tuple(parts)))
    return result


def collapse_notes(rows: pd.DataFrame) -> list[str]:
    return [
        f"{r.hidden} at T = {float(r.temperature):g} seed {r.seed} collapsed ({float(r.test_errors):.0f} errors, "
        "over half the test set) and is left out above."
        for r in collapsed(rows).itertuples()
    ]


def table(results: Results, preset: str) -> str:
    """Test errors per student size (columns) and T (rows), and the verdict on the paper's two claims."""
    rows = results.rows("temperature", preset)
    rows = rows[rows.model != "teacher"]
    if rows.empty:
        return "Temperature × student size: not run.\n"
    widths = sorted(rows.hidden.unique(), key=lambda h: int(h.split("-")[0]))
    line = lambda label, cells: (
        f"| {label} | " + " | ".join(mean_sd(cells[cells.hidden == h].test_errors) for h in widths) + " |"
    )
    lines = ["| T | " + " | ".join(widths) + " |", "|---:|" + "---:|" * len(widths)]
    lines.append(line("student alone", rows[rows.model == "baseline"]))
    distilled = rows[(rows.model == "distilled") & (rows.test_errors < COLLAPSED_ERRORS)]  # collapsed: named below
    temperatures = distilled.temperature.astype(float)
    lines += [line(f"{t:g}", distilled[temperatures == t]) for t in sorted(temperatures.unique())]
    claims = "\n".join(f"- {claim}" for claim in [v.sentence() for v in verdicts(rows)] + collapse_notes(rows))
    header = f"Test errors, `{preset}` preset, mean ± sd over seeds; {devices_of(rows)}.\n\n"
    return header + "\n".join(lines) + f"\n\n{PAPER_CLAIM}\n\n{claims}\n"


def glance(results: Results, preset: str) -> list[tuple[str, str, str]]:
    rows = results.rows("temperature", preset)
    judged = [verdict.glance() for verdict in (verdicts(rows) if len(rows) else [])]
    measured = "; ".join(judged) or "not run"
    return [("temperature × size", "30 units: T 2.5–4 best; ≥ 300: all T above 8 similar", measured)]


def plot(results: Results, preset: str) -> plt.Figure | str:
    rows = results.rows("temperature", preset, "distilled")
    rows = rows[rows.test_errors < COLLAPSED_ERRORS]
    if rows.empty:
        return "no temperature sweep logged"
    alone = results.rows("temperature", preset, "baseline")
    widths = sorted(rows.hidden.unique(), key=lambda h: int(h.split("-")[0]))
    fig, axes = plt.subplots(1, len(widths), figsize=(3.2 * len(widths), 3.2), squeeze=False)
    for ax, hidden in zip(axes[0], widths):
        at_width = rows[rows.hidden == hidden].assign(T=lambda d: d.temperature.astype(float))
        stats = at_width.groupby("T").test_errors.agg(["mean", "std", "count"]).reset_index()
        ax.errorbar(stats["T"], stats["mean"], yerr=stats["std"].fillna(0), marker="o", ms=3, capsize=2, lw=1)
        ax.scatter(at_width["T"], at_width.test_errors, s=6, color="black", zorder=3)
        for cell in stats[stats["count"] < stats["count"].max()].itertuples():  # a seed left out (collapsed)
            ax.annotate(f"n={cell.count}", (cell.T, cell.mean), textcoords="offset points", xytext=(4, 4), fontsize=7)
        alone_errors = alone[alone.hidden == hidden].test_errors
        if len(alone_errors):
            ax.axhline(alone_errors.mean(), color=ORANGE, ls="--", lw=1, label="student alone")
            ax.legend(fontsize=7)
        if hidden.startswith("30-"):
            ax.axvspan(2.5, 4, color="#dddddd", label="paper: best 2.5–4")
        ax.set(xscale="log", xlabel="temperature T", ylabel="test errors", title=f"student {hidden}")
        ax.set_xticks([1, 2, 4, 8, 20], ["1", "2", "4", "8", "20"])
    fig.suptitle(
        "Temperature × student size (mean ± sd over seeds; dots: seeds; n=…: a cell with fewer seeds)", fontsize=9
    )
    return fig


EXPERIMENT = Experiment(
    name="temperature",
    title="MNIST §3, temperature × student size",
    run_seed=run_seed,
    table=table,
    glance=glance,
    figures={"mnist_temperature.png": plot},
)
