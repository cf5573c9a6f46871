"""§4 (Table 1) on MNIST: the knowledge of an ensemble of ten nets, distilled into one net.

In the paper, 10 speech models with the baseline's architecture and training raised test frame accuracy from 58.9 %
to 61.1 % as an ensemble; one model distilled from it reached 60.8 %: 86 % of the gain kept. No speech model fits its
700M frames; here the members are 800-800 nets with the teacher's dropout and max-norm (presets.EnsembleRecipe), so
that they too do not memorise their training images. The ensemble predicts with the mean of their softmax outputs, as
in §4; its soft targets at T are the mean of their softmax outputs at T. The distilled net and its control (the same
net on the labels alone) have the members' architecture and training but no dropout: all chosen on validation.

Probabilities, not logits, are averaged at T: that is the ensemble's own prediction, softened. Written as the
logits v = T·log(mean_k softmax(z_k / T)), for which softmax(v / T) is exactly that mean, they feed the same loss.
"""

import hashlib
import math

import pandas as pd
import torch

from distill.core.train import ModelStage, count_errors, predict_logits
from distill.lab.experiment import Experiment
from distill.lab.presets import MnistPreset
from distill.lab.results import provenance
from distill.lab.run import Run
from distill.reporting import study
from distill.reporting.plots import BLUE, ORANGE, plt
from distill.reporting.tables import (
    Results,
    bootstrap_ratio,
    devices_of,
    diverged_note,
    kept_share,
    latest,
    mean_sd,
    percentages,
    pooled_sd,
    preset_note,
    with_interval,
)

MEMBERS = 10
PUBLISHED_ACCURACY = {"single": 58.9, "ensemble": 61.1, "distilled": 60.8}  # Table 1, test frame accuracy (%)
PUBLISHED_KEPT = kept_share(*PUBLISHED_ACCURACY.values())  # 86 % of the ensemble's gain
# a member is the paper's "baseline", one net on the labels; the control, the distilled net's recipe on the labels
MODELS = ("baseline", "ensemble", "distilled", "control")
LABELS = {"distilled": "distilled from it", "control": "control: its recipe on the labels"}
METRICS = {"errors": 1, "nll": 4}  # the metrics of the evaluated split, and the digits they are shown with


def ensemble_logits(member_logits: list[torch.Tensor], temperature: float) -> torch.Tensor:
    """Logits v whose softmax at T is the members' mean softmax at T, v = T·log(mean_k softmax(z_k / T)), computed
    in log space: an unregularised member's probabilities of the unlikely classes underflow to 0, and log 0 would
    make the soft term nan."""
    log_probabilities = torch.stack([torch.log_softmax(z / temperature, dim=1) for z in member_logits])
    return temperature * (torch.logsumexp(log_probabilities, dim=0) - math.log(len(member_logits)))


def use_ensemble(run: Run, member_stage: ModelStage, temperature: float) -> tuple:
    """Train the members (seeds 10·seed … 10·seed + 9; or load the kept ones), log the ensemble's errors, and make it
    the run's teacher at T. Return the members' logits on the training and evaluated images, for another T."""
    members = [
        run.fit_cached("baseline", member_stage, {"member": k}, seed=MEMBERS * run.seed + k) for k in range(MEMBERS)
    ]
    trained = run.rows[-MEMBERS:]  # a rerun loads the same members, so their run_ids, and so the ensemble's, stay
    logits = tuple([predict_logits(m, split.images) for m in members] for split in run.splits())
    # the ensemble's own prediction: its members' mean softmax at T = 1
    predicted = ensemble_logits(logits[1], 1.0)
    errors = count_errors(predicted, run.eval_split.labels)
    run_id = hashlib.sha256("".join(r["run_id"] for r in trained).encode()).hexdigest()[:12]
    name, first = run.eval_name, trained[0]
    copied = ("epochs", "precision", "input_dropout", "hidden_dropout", "cfg_jitter", "cfg_max_norm")
    row = {"run_id": run_id, "experiment": run.experiment, "model": "ensemble", "seed": run.seed}
    row |= {"preset": run.preset_name, "hidden": f"{MEMBERS} × {first['hidden']}", "eval_split": name}
    row |= {**{k: first[k] for k in copied}, **run.scored(errors), f"{name}_nll": run.nll(predicted)}
    row |= {"members": MEMBERS, "train_seconds": round(sum(r["train_seconds"] for r in trained), 1)}
    run.log({**row, **provenance(run.eval_split.images.device)})
    print(f"ensemble of {MEMBERS} seed {run.seed}: {name} errors {errors}", flush=True)
    run.teach_with(run_id, *(ensemble_logits(z, temperature) for z in logits))
    return logits


def teach(run: Run, preset: MnistPreset) -> None:
    use_ensemble(run, preset.ensemble.member, preset.ensemble.temperature)


def run_seed(run: Run, preset: MnistPreset) -> None:
    """§4 for one seed: one net distilled from the run's ensemble (a diverged one is logged: a result), and the control,
    the same net on the labels alone: it tells the ensemble's knowledge from what the net's own recipe does."""
    recipe = preset.ensemble  # both start from seed s's weights, as member s of ensemble 0 does (s < 10): not its data
    run.distill(recipe.distilled(), recipe.temperature, recipe.hard_weight, log_divergence=True)
    run.fit("control", recipe.distilled(), run.label_loss())


def scores(rows: pd.DataFrame, metric: str) -> dict[str, pd.Series]:
    """``metric`` ("errors" or "nll") of each model, indexed by its ensemble's seed (a member's is 10 × that + k). A
    diverged net has no score and is left out here; the table names it."""
    rows = rows.assign(ensemble_seed=rows.seed.where(rows.model != "baseline", rows.seed // MEMBERS))
    column = f"{rows.eval_split.iloc[0]}_{metric}" if len(rows) else metric
    values = rows[column] if column in rows else pd.Series(math.nan, rows.index)
    return {m: values[rows.model == m].set_axis(rows.ensemble_seed[rows.model == m]).dropna() for m in MODELS}


def paired(score: dict[str, pd.Series]) -> dict[str, pd.Series]:
    """Per ensemble seed, the ensemble's and the distilled net's score less its members' mean (< 0: better)."""
    members = score["baseline"].groupby(level=0).mean()
    return {model: (score[model] - members).dropna() for model in ("ensemble", "distilled")}


def share_defined(both: pd.DataFrame, sd: float) -> bool:
    """A share of the ensemble's gain is reported only where that gain, over two ensembles or more, exceeds three
    standard deviations of one member: the distilled net is one net, and a ratio whose denominator is within one
    net's noise is itself noise (the gain's standard error would not say how far a single net scatters)."""
    return len(both) > 1 and -both.ensemble.mean() > 3 * sd


def gains(score: dict[str, pd.Series]) -> tuple[pd.DataFrame, float]:
    """The paired differences of the ensembles that have a distilled net (whole: members, ensemble and distilled net
    together), and the pooled standard deviation of one member."""
    return pd.DataFrame(paired(score)).dropna(), pooled_sd(score["baseline"])


def share_text(score: dict[str, pd.Series], digits: int) -> str:
    """E.g. "82 % [70, 95] (bootstrap 95 % over 6 ensembles; per seed 80 %, …)", or why there is no share. The
    percentile bootstrap covers less than 95 % with few seeds (at 3 it is their range): the per-seed shares show it."""
    both, sd = gains(score)
    if both.empty:
        return "not run" if score["ensemble"].empty else "none, the distilled net diverged"
    if len(both) < 2:
        return "no share from one ensemble"
    if not share_defined(both, sd):
        return f"undefined: the gain, {-both.ensemble.mean():.{digits}f}, is under 3 sd of one member ({sd:.{digits}f})"
    share, low, high = bootstrap_ratio(both.distilled, both.ensemble)
    each = percentages(both.distilled / both.ensemble)
    interval = f"[{100 * low:.0f}, {100 * high:.0f}]"
    return f"{100 * share:.0f} % {interval} (bootstrap 95 % over {len(both)} ensembles; per seed {each})"


def verdict(rows: pd.DataFrame) -> str:
    """Which part of §4's claim, that one distilled net keeps "more than 80 %" of the ensemble's gain, holds on each
    metric: where the interval's low end clears 80 %, and by how much."""
    parts = []
    for metric in METRICS:
        both, sd = gains(scores(rows, metric))
        if not share_defined(both, sd):
            parts.append(f"on {metric}, not tested: the ensemble's gain is not above 3 sd of one member")
            continue
        share, low, _ = bootstrap_ratio(both.distilled, both.ensemble)
        holds = "holds" if low > 0.8 else "is not shown"
        beyond = "; over 100 %: the distilled net beats its ensemble, which the paper's did not" * bool(low > 1)
        parts.append(
            f"on {metric}, {holds}: {100 * share:.0f} %, low end {100 * low - 80:+.0f} points from 80 %{beyond}"
        )
    return f"Verdict (n = {rows.model.eq('ensemble').sum()} ensembles): " + "; ".join(parts) + ".\n"


def comparison_table(rows: pd.DataFrame) -> str:
    """Table 1's rows against ours on both metrics: mean ± sd, the paired differences and the share kept."""
    published, diverged = PUBLISHED_ACCURACY, diverged_note(rows)
    gain = lambda model: f"+{published[model] - published['single']:.1f}"
    difference = lambda model: lambda s, d: with_interval(paired(s)[model], d)
    entries = [
        ("one member", published["single"], lambda s, d: mean_sd(s["baseline"], d)),
        (f"ensemble of {MEMBERS}", published["ensemble"], lambda s, d: mean_sd(s["ensemble"], d)),
        (
            "one net distilled from it",
            published["distilled"],
            lambda s, d: "; ".join(filter(None, [mean_sd(s["distilled"], d), diverged])),
        ),
        ("ensemble − its members' mean, paired", gain("ensemble"), difference("ensemble")),
        ("distilled − its members' mean, paired", gain("distilled"), difference("distilled")),
        ("share of the gain kept", f"{100 * PUBLISHED_KEPT:.0f} %", share_text),
        ("control: the distilled net's recipe on the labels", "", lambda s, d: mean_sd(s["control"], d)),
        ("distilled − control, paired", "", lambda s, d: with_interval((s["distilled"] - s["control"]).dropna(), d)),
    ]
    by_metric = {metric: scores(rows, metric) for metric in METRICS}
    lines = ["| model | published (accuracy %) | errors | NLL |", "|---|---:|---:|---:|"] + [
        f"| {label} | {paper} | " + " | ".join(cell(by_metric[m], d) for m, d in METRICS.items()) + " |"
        for label, paper, cell in entries
    ]
    return "\n".join(lines) + "\n"


def per_seed_table(rows: pd.DataFrame) -> str:
    """Per ensemble seed: its members' mean ± sd, the ensemble, the distilled net and the control, on both metrics."""
    lines = ["| ensemble seed | metric | members | ensemble | distilled | control |", "|---:|---|---:|---:|---:|---:|"]
    for metric, digits in METRICS.items():
        score = scores(rows, metric)
        for seed in sorted(score["ensemble"].index):
            single = lambda m: f"{score[m][seed]:.{digits - (metric == 'errors')}f}" if seed in score[m] else "–"
            members = mean_sd(score["baseline"].loc[[seed]], digits, count=False)
            lines.append(f"| {seed} | {metric} | {members} | {' | '.join(map(single, MODELS[1:]))} |")
    return "\n".join(lines) + "\n"


def table(results: Results, preset: str) -> str:
    """Table 1 on MNIST, per seed, and the evidence behind the recipe: the validation sweep and the superseded arm."""
    rows = results.rows("ensemble", preset)
    if rows.empty:
        return "Ensemble: not run.\n"
    text = (
        f"`{preset}` preset; {devices_of(rows)}. Published: Table 1, speech test frame accuracy (%); measured: MNIST "
        "test errors and test NLL (cross-entropy at T = 1, nats per image), mean ± sd. A share is given only on a "
        "metric where the ensemble's gain exceeds three standard deviations of one member.\n\n"
        + comparison_table(rows)
        + f"\n{verdict(rows)}\n"
        + per_seed_table(rows)
    )
    if results.folder is None:  # a script's own rows
        return text
    return f"{text}\n{unregularised_arm(results, preset)}\n{study.ensemble_recipe(results.folder)}"


def unregularised_arm(results: Results, preset: str) -> str:
    """The superseded arm: members trained on the labels alone, without dropout, max-norm or jitter."""
    old = results.superseded
    rows = latest(old[(old.experiment == "ensemble") & (old.preset == preset)]) if old is not None else old
    if rows is None or rows.empty:
        return ""
    score = scores(rows, "errors")
    differences = paired(score)
    return (
        "An earlier arm, kept in `results/mnist/superseded/` unedited: members without dropout, max-norm or jitter "
        f"(800-800 students alone), which fit their training images almost exactly ({devices_of(rows)}). Test errors: "
        f"one member {mean_sd(score['baseline'])}, ensemble {mean_sd(score['ensemble'])}; ensemble − members "
        f"{with_interval(differences['ensemble'])}, distilled − members {with_interval(differences['distilled'])}; "
        f"share of the gain kept: {share_text(score, 1)}.\n"
    )


def glance(results: Results, preset: str) -> list[tuple[str, str, str]]:
    rows, what = results.rows("ensemble", preset), "§4 ensemble → one net: share of its gain kept"
    shares = [f"{metric}: {share_text(scores(rows, metric), digits)}" for metric, digits in METRICS.items()]
    return [
        (what, f"{100 * PUBLISHED_KEPT:.0f} %", ("; ".join(shares) if len(rows) else "not run") + preset_note(preset))
    ]


def plot(results: Results, preset: str) -> plt.Figure | str:
    """One panel per ensemble seed and metric: its ten members, their mean, the ensemble, the net distilled from it
    and the control; the paper's three numbers in the title."""
    rows = results.rows("ensemble", preset)
    if rows.empty:
        return "no run of --experiment ensemble logged"
    seeds = sorted(scores(rows, "errors")["ensemble"].index)
    fig, axes = plt.subplots(
        len(METRICS), len(seeds), figsize=(2.6 * len(seeds) + 1.6, 5.2), squeeze=False, sharey="row"
    )
    for row_axes, metric in zip(axes, METRICS):
        score = scores(rows, metric)
        for ax, seed in zip(row_axes, seeds):
            members = score["baseline"].loc[[seed]] if seed in score["baseline"] else pd.Series(dtype=float)
            ax.scatter([0] * len(members), members, color="grey", s=10, label="members")
            ax.plot([-0.15, 0.15], [members.mean()] * 2, color="black", lw=1.5, label="members' mean")
            ax.scatter(1, score["ensemble"][seed], color=BLUE, marker="s", label="ensemble")
            for x, model, style in ((2, "distilled", (ORANGE, "D")), (3, "control", ("grey", "x"))):
                if seed in score[model]:
                    ax.scatter(x, score[model][seed], color=style[0], marker=style[1], label=LABELS[model])
            ax.set_xticks(range(4), ["members", "ensemble", "distilled", "control"], fontsize=7, rotation=30)
            ax.set_title(f"ensemble seed {seed}", fontsize=8)
        row_axes[0].set_ylabel(f"MNIST test {'errors' if metric == 'errors' else 'NLL (nats)'}")
    axes[0][-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))  # beside the axes: it covers no dot
    paper = ", ".join(f"{k} {v}" for k, v in PUBLISHED_ACCURACY.items())
    fig.suptitle(f"§4 on MNIST ({preset}); the paper's speech frame accuracy: {paper} %", fontsize=9)
    fig.tight_layout()
    return fig


EXPERIMENT = Experiment(
    name="ensemble",
    title="§4, Table 1 on MNIST: an ensemble distilled into one net",
    run_seed=run_seed,
    table=table,
    glance=glance,
    figures={"mnist_ensemble.png": plot},
    teach=teach,
)
