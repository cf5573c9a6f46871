"""§4 (Table 1) on MNIST: the knowledge of an ensemble of ten nets, distilled into one net.

In the paper, 10 speech models with the baseline's architecture and training raised test frame accuracy from
58.9 % (one model) to 61.1 % (their ensemble); one model distilled from the ensemble reached 60.8 %: it kept 86 %
of the ensemble's gain. Here the members are 10 students alone (800-800, §3's student-alone recipe) from
different seeds. The ensemble predicts with the arithmetic mean of their softmax outputs, as in §4, and its soft
targets at T are the mean of their softmax outputs at T; one 800-800 net is distilled on them with §3's recipe
but lr 0.03 (the preset's ``ensemble_lr``), chosen on validation. The members are kept like teachers
(Run.fit_cached); tune.py --ensemble uses the same ensemble to choose the distilled net's settings on validation.

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
from distill.reporting.plots import BLUE, ORANGE, plt
from distill.reporting.tables import (
    T_975,
    Results,
    devices_of,
    errors_or_diverged,
    kept_share,
    mean_sd,
    percentages,
    preset_note,
    read_csv,
    share_sentence,
    standard_error,
    with_interval,
)

MEMBERS = 10
PUBLISHED_ACCURACY = {"single": 58.9, "ensemble": 61.1, "distilled": 60.8}  # Table 1, test frame accuracy (%)
PUBLISHED_KEPT = kept_share(*PUBLISHED_ACCURACY.values())  # 86 % of the ensemble's gain


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
    name = run.eval_name
    row = {"run_id": run_id, "experiment": run.experiment, "model": "ensemble"}
    row |= {"hidden": f"{MEMBERS} × {member_stage.columns()['hidden']}", "seed": run.seed, "preset": run.preset_name}
    row |= {"epochs": trained[0]["epochs"], "precision": trained[0]["precision"], "eval_split": name}
    row |= {k: v for k, v in trained[0].items() if k in ("input_dropout", "hidden_dropout", "cfg_jitter", "cfg_max_norm")}
    row |= {f"{name}_nll": run.nll(predicted)}
    row |= {
        **run.scored(errors),
        "members": MEMBERS,
        "train_seconds": round(sum(r["train_seconds"] for r in trained), 1),
    }
    run.log({**row, **provenance(run.eval_split.images.device)})
    print(f"ensemble of {MEMBERS} seed {run.seed}: {name} errors {errors}", flush=True)
    run.teach_with(run_id, *(ensemble_logits(z, temperature) for z in logits))
    return logits


def teach(run: Run, preset: MnistPreset) -> None:
    use_ensemble(run, preset.ensemble.member, preset.ensemble.temperature)


def run_seed(run: Run, preset: MnistPreset) -> None:
    """§4 for one seed: one net distilled from the run's ensemble at the recipe's T. A diverging distilled net is
    logged as such: a result of its own."""
    recipe = preset.ensemble
    run.distill(recipe.distilled(), recipe.temperature, recipe.hard_weight, log_divergence=True)


def ensemble_errors(results: Results, preset: str) -> dict[str, pd.Series]:
    """Test errors of the single nets (every member), the ensembles and the nets distilled from them, each indexed
    by its ensemble's seed."""
    rows = results.rows("ensemble", preset)
    rows = rows.assign(ensemble_seed=rows.seed.where(rows.model != "baseline", rows.seed // MEMBERS))
    return {  # a diverged distilled net (no errors) is left out here and named in the table
        m: rows[rows.model == m].set_index("ensemble_seed").test_errors.dropna()
        for m in ("baseline", "ensemble", "distilled")
    }


def kept(errors: dict[str, pd.Series]) -> pd.Series:
    """Per ensemble seed, the share of the ensemble's gain over its mean single net that the distilled net keeps."""
    singles = errors["baseline"].groupby(level=0).mean()
    return pd.Series(kept_share(singles, errors["ensemble"], errors["distilled"])).dropna()


def paired(errors: dict[str, pd.Series]) -> dict[str, pd.Series]:
    """Per ensemble seed, the ensemble's and the distilled net's errors less the mean of its members (negative: fewer
    errors than one net)."""
    members = errors["baseline"].groupby(level=0).mean()
    return {model: (errors[model] - members).dropna() for model in ("ensemble", "distilled")}


def share_defined(differences: dict[str, pd.Series]) -> bool:
    """A share of the ensemble's gain is reported only where that gain exceeds three standard errors of it and its
    95 % interval excludes zero: a ratio whose denominator is within noise is itself noise."""
    gain = -differences["ensemble"]
    return len(gain) > 1 and gain.mean() > max(3, T_975[min(len(gain), len(T_975)) - 1]) * standard_error(gain)


def share_or_why_not(errors: dict[str, pd.Series], missing: str) -> str:
    differences = paired(errors)
    what = "Share of the ensemble's gain over a single net that distillation keeps"
    if share_defined(differences) or not len(differences["distilled"]):
        return share_sentence(what, PUBLISHED_KEPT, kept(errors), missing)
    gain = -differences["ensemble"]
    return (
        f"\n{what}: published {100 * PUBLISHED_KEPT:.0f} %; undefined here: the ensemble's gain over its members, "
        f"{with_interval(gain)} errors, is not clear of noise (above three standard errors, its interval above "
        "zero), so a ratio over it would measure noise. The paired differences above are the result.\n"
    )


def diverged_note(rows: pd.DataFrame) -> str:
    """E.g. "diverged (seed 1 in epoch 1)" for the rows whose training diverged; "" if none did."""
    if "diverged_in_epoch" not in rows:
        return ""
    diverged = rows[rows.diverged_in_epoch.notna()]
    pairs = [f"seed {seed} in epoch {epoch:.0f}" for seed, epoch in zip(diverged.seed, diverged.diverged_in_epoch)]
    return f"diverged ({', '.join(pairs)})" if pairs else ""


def table(results: Results, preset: str) -> str:
    """Table 1: single nets, their ensemble, the net distilled from it, the share of the gain kept; and the
    distilled net's settings, chosen on validation (tune.py --ensemble)."""
    rows = results.rows("ensemble", preset)
    if rows.empty:
        return "Ensemble: not run.\n"
    errors, diverged = ensemble_errors(results, preset), diverged_note(rows)
    trained = mean_sd(errors["distilled"]) if len(errors["distilled"]) else ""
    distilled = "; ".join(filter(None, [trained, diverged])) or "not run"
    missing = "none, the distilled net diverged" if diverged and not trained else "not run"
    differences = paired(errors)
    ensemble_gain = PUBLISHED_ACCURACY["ensemble"] - PUBLISHED_ACCURACY["single"]  # points of accuracy: up is better
    distilled_gain = PUBLISHED_ACCURACY["distilled"] - PUBLISHED_ACCURACY["single"]
    text = "\n".join(
        [
            f"`{preset}` preset; {devices_of(rows)}. Published: Table 1, speech test frame accuracy (%); "
            "measured: MNIST test errors, mean ± sd.\n",
            "| model | published | measured |",
            "|---|---:|---:|",
            f"| single net (800-800 alone) | {PUBLISHED_ACCURACY['single']} | {mean_sd(errors['baseline'])} nets |",
            f"| ensemble of {MEMBERS} | {PUBLISHED_ACCURACY['ensemble']} | {mean_sd(errors['ensemble'])} |",
            f"| one net distilled from it | {PUBLISHED_ACCURACY['distilled']} | {distilled} |",
            *(
                f"| {model} − its members' mean, paired | +{gain:.1f} | {with_interval(differences[model])} |"
                for model, gain in (("ensemble", ensemble_gain), ("distilled", distilled_gain))
            ),
            share_or_why_not(errors, missing),
        ]
    )
    if results.folder is None:  # a script's own rows
        return text
    return f"{text}\nThe distilled net's settings, chosen on validation (`replicate/tune.py --ensemble`):\n\n" + (
        tuning_table(results)
    )


def tuning_table(results: Results) -> str:
    """Validation errors of the single nets, of their ensembles, and of each setting of the net distilled from them."""
    path = results.folder / "mnist" / "ensemble_tuning" / "distillation_tuning.csv" if results.folder else None
    columns = ["model", "seed", "val_errors", "device", "temperature", "hard_weight", "cfg_lr", "epochs"]
    rows = read_csv(path, columns) if path else None
    if rows is None or rows.empty:
        return "Ensemble student on validation: not run.\n"
    rows = rows.sort_values("seed")
    members = rows[(rows.model == "baseline") & rows.member.notna()] if "member" in rows else rows.iloc[:0]
    ensembles = rows[rows.model == "ensemble"].val_errors
    lines = [
        f"Validation errors (last 10,000 training images); {'; '.join(sorted(set(rows.device)))}.\n",
        "| model | T | hard weight | lr | epochs | validation errors per ensemble seed | mean |",
        "|---|---:|---:|---:|---:|---|---:|",
        f"| single nets (800-800 alone) | | | | | | {mean_sd(members.val_errors)} |",
        f"| ensemble of {MEMBERS} | | | | | {errors_or_diverged(ensembles)} | {mean_sd(ensembles)} |",
    ]
    students = rows[rows.model == "distilled"]
    for (T, w, lr, epochs), cell in students.groupby(["temperature", "hard_weight", "cfg_lr", "epochs"]):
        errors = cell.val_errors
        mean = "diverged" if errors.isna().all() else mean_sd(errors.dropna())
        lines.append(
            f"| distilled from it | {T:g} | {w:g} | {lr:g} | {epochs} | {errors_or_diverged(errors)} | {mean} |"
        )
    return "\n".join(lines) + "\n"


def glance(results: Results, preset: str) -> list[tuple[str, str, str]]:
    errors = ensemble_errors(results, preset)
    differences, shares = paired(errors), kept(errors)
    measured = f"{percentages(shares)}{preset_note(preset)}" if len(shares) else "not run"
    if len(shares) and not share_defined(differences):
        measured = (
            f"undefined, the ensemble's gain being within noise; ensemble − members "
            f"{with_interval(differences['ensemble'])}, distilled − members {with_interval(differences['distilled'])} "
            f"errors{preset_note(preset)}"
        )
    return [("§4 ensemble → one net: share of its gain kept", f"{100 * PUBLISHED_KEPT:.0f} %", measured)]


def plot(results: Results, preset: str) -> plt.Figure | str:
    """Per ensemble seed: its ten members, their mean, the ensemble and the net distilled from it."""
    errors = ensemble_errors(results, preset)
    if errors["ensemble"].empty:
        return "no run of --experiment ensemble logged"
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    seeds = sorted(errors["ensemble"].index)
    for x, seed in enumerate(seeds):
        members = errors["baseline"].loc[[seed]]
        first = lambda label: label if x == 0 else None
        ax.scatter([x - 0.2] * len(members), members, color="grey", s=10, label=first("members"))
        ax.plot([x - 0.32, x - 0.08], [members.mean()] * 2, color="black", lw=1.5, label=first("members' mean"))
        ax.scatter(x, errors["ensemble"][seed], color=BLUE, marker="s", label=first("ensemble"))
        if seed in errors["distilled"]:
            ax.scatter(x + 0.2, errors["distilled"][seed], color=ORANGE, marker="D", label=first("distilled from it"))
    ax.set_xticks(range(len(seeds)), [f"ensemble seed {s}" for s in seeds])
    ax.set(ylabel="MNIST test errors", title=f"§4 on MNIST: ten students alone, their ensemble, one net ({preset})")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))  # beside the axes: it covers no dot
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
