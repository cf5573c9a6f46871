"""§2.1 measured: at high temperature, distillation becomes logit matching.

For zero-mean logits and T large against them, the gradient of the T²-scaled soft term tends to (z_i − v_i)/N: that
of matching the teacher's logits with a squared error (Caruana et al.). A student is trained on exactly that limit
(losses.logit_matching_loss) and, from the same initial weights and batches, students are distilled at several T: the
closer T is to the limit, the closer their centred test logits should come to the logit-matching student's.
"""

import torch

from distill.core.losses import logit_matching_loss
from distill.core.train import predict_logits
from distill.lab.experiment import Experiment
from distill.lab.presets import MnistPreset
from distill.lab.run import Run
from distill.reporting.plots import BLUE, plt
from distill.reporting.tables import Results, devices_of, mean_sd, preset_note

TEMPERATURES = (5.0, 20.0, 50.0, 100.0)


def run_seed(run: Run, preset: MnistPreset) -> None:
    """The logit-matching student, then one distilled student per T, compared with it."""
    student, test_images = preset.study_start.distilled, run.eval_split.images
    matched = run.distill(student, preset.temperature, preset.hard_weight, soft_term=logit_matching_loss)
    centred = lambda z: z - z.mean(dim=1, keepdim=True)  # softmax ignores a shift common to all classes
    reference = centred(predict_logits(matched, test_images))

    def closeness(model: torch.nn.Module) -> dict:
        z = centred(predict_logits(model, test_images))
        return {
            "logit_rms_to_matching": round((z - reference).pow(2).mean().sqrt().item(), 4),
            "agreement_with_matching": round((z.argmax(1) == reference.argmax(1)).float().mean().item(), 6),
        }

    for temperature in TEMPERATURES:
        run.distill(student, temperature, preset.hard_weight, after_training=closeness)


def distilled_rows(results: Results, preset: str):
    rows = results.rows("logits", preset, "distilled")
    return rows[rows.soft_term != "logit_matching_loss"] if "soft_term" in rows else rows


def table(results: Results, preset: str) -> str:
    """Students distilled at rising T against the one trained by logit matching, same weights at the start."""
    rows = results.rows("logits", preset, "distilled")
    if rows.empty:
        return "Logit matching: not run.\n"
    lines = [
        f"`{preset}` preset; {devices_of(rows)}. MNIST test errors; the distilled students' centred test logits "
        "against the logit-matching student's (RMS difference, top-1 agreement). §2.1 gives no number.\n",
        "| student | T | test errors | logit RMS difference | agreement (%) |",
        "|---|---:|---:|---:|---:|",
    ]
    matched = rows[rows.soft_term == "logit_matching_loss"]
    lines.append(f"| logit matching (the §2.1 limit) | — | {mean_sd(matched.test_errors)} | 0 | 100 |")
    distilled = distilled_rows(results, preset)
    for t, at_t in distilled.groupby(distilled.temperature.astype(float)):
        rms, agreement = mean_sd(at_t.logit_rms_to_matching, 2), mean_sd(100 * at_t.agreement_with_matching, 2)
        lines.append(f"| distilled | {t:g} | {mean_sd(at_t.test_errors)} | {rms} | {agreement} |")
    return "\n".join(lines) + "\n"


def glance(results: Results, preset: str) -> list[tuple[str, str, str]]:
    rows = distilled_rows(results, preset)
    rms = rows.groupby(rows.temperature.astype(float)).logit_rms_to_matching.mean() if len(rows) else {}
    trend = ", ".join(f"T {t:g}: {r:.2f}" for t, r in dict(rms).items() if r == r)  # r == r: not nan
    measured = f"{trend}{preset_note(preset)}" if trend else "not run"
    return [("§2.1 high T → logit matching: RMS logit difference", "shrinks as T grows", measured)]


def plot(results: Results, preset: str) -> plt.Figure | str:
    """How far each distilled student's logits are from the logit-matching student's, against T."""
    rows = distilled_rows(results, preset)
    if rows.empty or "logit_rms_to_matching" not in rows:
        return "no run of --experiment logits logged"
    fig, ax = plt.subplots(figsize=(4.8, 3.4))
    temperatures = rows.temperature.astype(float)
    ax.scatter(temperatures, rows.logit_rms_to_matching, color="black", s=12, zorder=3, label="seeds")
    stats = rows.groupby(temperatures).logit_rms_to_matching.agg(["mean", "min", "max"])
    ax.plot(stats.index, stats["mean"], color=BLUE, lw=1, label="mean")
    ax.fill_between(stats.index, stats["min"], stats["max"], color=BLUE, alpha=0.2, lw=0, label="seed range")
    ax.set(xscale="log", xlabel="temperature T", ylabel="RMS logit difference", ylim=(0, None))
    ax.set_xticks(stats.index, [f"{t:g}" for t in stats.index])
    ax.minorticks_off()
    ax.set_title("Distilled students against the logit-matching one (test images)")
    ax.legend(fontsize=7)
    return fig


EXPERIMENT = Experiment(
    name="logits",
    title="§2.1 on MNIST: high-T distillation becomes logit matching",
    run_seed=run_seed,
    table=table,
    glance=glance,
    figures={"mnist_logit_matching.png": plot},
)
