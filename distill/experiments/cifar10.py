"""A knowledge-distillation tutorial's CIFAR-10 CNN example, run as written and corrected, with the baseline it lacks.

The tutorial (a blog article introducing distillation with PyTorch code, README) trains a small CNN teacher
and distils it into a smaller one. Per seed, one teacher (conv 3→64, 10 epochs on the labels) serves both:

    tutorial   the student (conv 3→16) distilled for ONE epoch with the tutorial's loss,
               KLDivLoss()(log q, p) · T² · 2 · alpha + (1 − alpha) · CE, whose default
               reduction='mean' divides the KL by the 10 classes as well as the batch
    corrected  the student distilled with §2's loss, alpha · T² · KL(batchmean) + (1 − alpha) · CE,
               for as many epochs as the teacher, and the same student trained alone on the
               labels with that budget: the comparison that says what distillation bought

With T = 20 and alpha = 0.7 the tutorial's soft term is (2/C) = 0.2 times the corrected one
(tests/test_losses.py), so its student learns mostly from the labels. The tutorial reports no accuracy.
"""

import warnings

import pandas as pd
import torch
import torch.nn.functional as F

from distill.core.losses import at_least_float32
from distill.lab.experiment import Experiment
from distill.lab.presets import CifarPreset
from distill.lab.run import Run
from distill.reporting.plots import BLUE, plt
from distill.reporting.tables import Results, mean_sd

RECIPES = ("tutorial", "corrected")


def tutorial_soft_loss(z: torch.Tensor, v: torch.Tensor, temperature: float) -> torch.Tensor:
    """The soft term exactly as the tutorial writes it (without its alpha).

    ``nn.KLDivLoss()`` with its default reduction='mean' averages Σ p (log p − log q) over batch × classes, not over the
    batch: it is the per-example KL divided by the number of classes C. The tutorial then multiplies by T² and by an
    unexplained 2. So this term is exactly (2 / C) · losses.soft_loss — 0.2 · soft_loss on CIFAR-10 — which the tests
    check; the corrected recipe uses soft_loss.
    """
    z, v = at_least_float32(z), at_least_float32(v)
    log_q = F.log_softmax(z / temperature, dim=1)
    p = F.softmax(v / temperature, dim=1)
    with warnings.catch_warnings():  # torch warns that 'mean' is not the KL's maths: copying that is the point
        warnings.filterwarnings("ignore", "reduction: 'mean' divides the total loss")
        return F.kl_div(log_q, p, reduction="mean") * temperature**2 * 2.0


def run_seed(run: Run, preset: CifarPreset, recipes: tuple[str, ...] = RECIPES) -> None:
    """Each recipe's students, after the seed's teacher."""
    T, weights = preset.temperature, {"hard_weight": 1 - preset.alpha, "soft_weight": preset.alpha}
    if "tutorial" in recipes:
        recipe = {"recipe": "tutorial"}
        run.distill(preset.tutorial_student, T, **weights, soft_term=tutorial_soft_loss, columns=recipe)
    if "corrected" in recipes:
        recipe = {"recipe": "corrected"}
        run.fit("baseline", preset.student, run.label_loss(), recipe, kl_temperature=T)
        run.distill(preset.student, T, **weights, columns=recipe)


def with_accuracy(cifar: pd.DataFrame) -> pd.DataFrame:
    """Rows with test accuracy, and the teacher (no recipe: it serves both) labelled "shared". Rows logged before
    the tutorial recipe got its name call it "seed"."""
    recipe = cifar.recipe if "recipe" in cifar else pd.Series("", index=cifar.index)
    recipe = recipe.fillna("shared").replace({"seed": "tutorial"})
    return cifar.assign(accuracy=100 - cifar.test_error_pct.astype(float), recipe=recipe)


def table(results: Results, preset: str | None = None) -> str:
    """Test accuracy per preset, recipe and model (every preset: CIFAR-10 has few rows)."""
    if results.cifar is None or results.cifar.empty:
        return "CIFAR-10: not run.\n"
    lines = ["| preset | recipe | model | epochs | test accuracy (%) | device |", "|---|---|---|---:|---:|---|"]
    cells = with_accuracy(results.cifar).groupby(["preset", "recipe", "model", "epochs"], sort=False)
    for (preset, recipe, model, epochs), group in cells:
        devices = ", ".join(sorted(group.device.unique()))
        lines.append(f"| {preset} | {recipe} | {model} | {epochs} | {mean_sd(group.accuracy, 2)} | {devices} |")
    return "\n".join(lines) + "\n"


def glance(results: Results, preset: str) -> list[tuple[str, str, str]]:
    ran = results.cifar is not None and not results.cifar.empty
    measured = "see SUMMARY" if ran else "not run on real CIFAR-10 yet (see REPRODUCE.md)"
    return [("CIFAR-10 tutorial example", "no accuracy given", measured)]


def plot(results: Results, preset: str) -> plt.Figure | str:
    if results.cifar is None or results.cifar.empty:
        return "no CIFAR-10 rows"
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    labels, cells = [], with_accuracy(results.cifar).groupby(["preset", "recipe", "model"], sort=False).accuracy
    for x, ((preset, recipe, model), values) in enumerate(cells):
        ax.bar(x, values.mean(), color=BLUE)
        ax.scatter([x] * len(values), values, color="black", s=10, zorder=3)
        labels.append(f"{preset}\n{recipe}\n{model}")
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set(ylabel="test accuracy (%)", title="CIFAR-10 tutorial example: per recipe and model")
    return fig


EXPERIMENT = Experiment(
    name="cifar10",
    title="CIFAR-10: a distillation tutorial's CNN example",
    run_seed=run_seed,
    table=table,
    glance=glance,
    figures={"cifar10.png": plot},
    script="cifar10",
)
