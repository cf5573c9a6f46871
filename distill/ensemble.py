"""§4 (Table 1) on MNIST: the knowledge of an ensemble of ten nets, distilled into one net.

In the paper, 10 speech models with the baseline's architecture and training raised test frame accuracy from
58.9 % (one model) to 61.1 % (their ensemble); one model distilled from the ensemble reached 60.8 %: it kept 86 %
of the ensemble's gain. Here the members are 10 students alone (800-800, §3's student-alone recipe) from
different seeds. The ensemble predicts with the arithmetic mean of their softmax outputs, as in §4, and its soft
targets at T are the mean of their softmax outputs at T; one 800-800 net is distilled on them with §3's recipe
but lr 0.03 instead of 0.1, at which its training diverged (presets.py). The members are cached like teachers
(Run.fit_cached); tune.py --ensemble uses the same ensemble to choose the distilled net's settings on validation.

Probabilities, not logits, are averaged at T: that is the ensemble's own prediction, softened. Written as the
logits v = T·log(mean_k softmax(z_k / T)), for which softmax(v / T) is exactly that mean, they feed the same loss.
"""

import hashlib
import math
from pathlib import Path

import torch

from distill.presets import MnistPreset
from distill.results import provenance
from distill.run import Run
from distill.train import ModelStage, count_errors, predict_logits

MEMBERS = 10
PUBLISHED_ACCURACY = {"single": 58.9, "ensemble": 61.1, "distilled": 60.8}  # Table 1, test frame accuracy (%)


def ensemble_logits(member_logits: list[torch.Tensor], temperature: float) -> torch.Tensor:
    """Logits v whose softmax at T is the members' mean softmax at T, v = T·log(mean_k softmax(z_k / T)), computed
    in log space: an unregularised member's probabilities of the unlikely classes underflow to 0, and log 0 would
    make the soft term nan."""
    log_probabilities = torch.stack([torch.log_softmax(z / temperature, dim=1) for z in member_logits])
    return temperature * (torch.logsumexp(log_probabilities, dim=0) - math.log(len(member_logits)))


def use_ensemble(run: Run, member_stage: ModelStage, temperature: float, cache_dir: Path, retrain: bool) -> tuple:
    """Train the members (seeds 10·seed … 10·seed + 9; or load them from the cache), log the ensemble's errors,
    and make it the run's teacher at T (``run.teacher_logits``: ``ensemble_logits`` on the training and evaluated
    images). Return the members' logits on both, for soft targets at another T."""
    first = len(run.rows)
    models = [
        run.fit_cached("baseline", member_stage, cache_dir, retrain, {"member": k}, seed=MEMBERS * run.seed + k)
        for k in range(MEMBERS)
    ]
    logits = tuple([predict_logits(m, split.images) for m in models] for split in (run.train_split, run.eval_split))
    # the ensemble's own prediction: its members' mean softmax at T = 1
    errors = count_errors(ensemble_logits(logits[1], 1.0), run.eval_split.labels)
    trained = run.rows[first:]  # a rerun loads the same members, so their run_ids, and so the ensemble's, stay
    hidden = f"{MEMBERS} × {member_stage.columns()['hidden']}"
    run_id = hashlib.sha256("".join(r["run_id"] for r in trained).encode()).hexdigest()[:12]
    row = {
        "run_id": run_id, "experiment": run.experiment, "model": "ensemble", "hidden": hidden,
        "seed": run.seed, "preset": run.preset_name, "epochs": trained[0]["epochs"],
        "precision": trained[0]["precision"], "eval_split": run.eval_name, f"{run.eval_name}_errors": errors,
        f"{run.eval_name}_error_pct": round(100 * errors / len(run.eval_split), 3), "members": MEMBERS,
        "train_seconds": round(sum(r["train_seconds"] for r in trained), 1),
        **provenance(run.eval_split.images.device),
    }  # fmt: skip
    run.log(row)
    print(f"ensemble of {MEMBERS} seed {run.seed}: {run.eval_name} errors {errors}", flush=True)
    run.teacher_logits = tuple(ensemble_logits(z, temperature) for z in logits)
    run.teacher_run_id = row["run_id"]
    return logits


def run_ensemble(run: Run, preset: MnistPreset) -> list[dict]:
    """§4 for one seed: one net distilled from the run's ensemble (``use_ensemble``) at the preset's T; return all the
    run's rows, members and ensemble included. A diverging distilled net is logged as such: a result of its own."""
    student = preset.distilled.with_train(lr=preset.ensemble_lr)
    run.distill(student, preset.temperature, preset.hard_weight, log_divergence=True)
    return run.rows
