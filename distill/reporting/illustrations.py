"""Two pictures of §2 that need no training run: the dark knowledge in a teacher's soft
targets, and distillation turning into logit matching as T grows (§2.1).

Used by replicate/figures.py and by the teaching notebook, so both show the same thing.
"""

import matplotlib.pyplot as plt
import torch

from distill.core.losses import soft_loss, softmax_with_temperature


def logit_matching_gap(temperatures: list[float], n_classes: int = 10, seed: int = 0) -> list[float]:
    """Per T, the relative difference ‖∂C/∂z − (z − v)/(N T²)‖ / ‖(z − v)/(N T²)‖ for zero-mean logits: ∂C/∂z of the
    soft cross-entropy at T (§2.1), by autograd, against its high-T limit. C is the un-scaled per-example
    cross-entropy; soft_loss carries the T² factor, divided out here."""
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(256, n_classes, generator=generator, dtype=torch.float64) * 3
    v = torch.randn(256, n_classes, generator=generator, dtype=torch.float64) * 3
    z, v = z - z.mean(1, keepdim=True), v - v.mean(1, keepdim=True)  # §2.1 assumes zero-mean logits
    gaps = []
    for t in temperatures:
        exact = z.clone().requires_grad_(True)
        (soft_loss(exact, v, t) / t**2 * len(z)).backward()  # per-example gradient, not batch mean
        limit = (z - v) / (n_classes * t**2)
        gaps.append(float((exact.grad - limit).norm() / limit.norm()))
    return gaps


def plot_logit_matching_limit(ax, temperatures: list[float]) -> None:
    gaps = logit_matching_gap(temperatures)
    ax.loglog(temperatures, gaps, marker="o", ms=3, label="distillation gradient vs logit matching")
    one_over_t = [gaps[-1] * temperatures[-1] / t for t in temperatures]
    ax.loglog(temperatures, one_over_t, ls=":", color="grey", label="∝ 1/T")
    ax.set(xlabel="temperature T", ylabel="relative difference of the gradients")
    ax.set_title("§2.1: (1/T)(q − p) → (z − v)/(N T²) as T grows (logits of size ~3)", fontsize=9)
    ax.legend(fontsize=8, frameon=False)


def plot_dark_knowledge(images: torch.Tensor, teacher_logits: torch.Tensor, temperatures=(1.0, 20.0)):
    """One row per digit: the image, then the teacher's class probabilities at each temperature."""
    size = (2.2 + 2.6 * len(temperatures), 1.3 * len(images))
    fig, axes = plt.subplots(len(images), 1 + len(temperatures), figsize=size, squeeze=False)
    for row, (image, logits) in enumerate(zip(images, teacher_logits)):
        axes[row, 0].imshow(image.cpu().numpy(), cmap="gray_r")  # numpy: matplotlib warns on tensors
        axes[row, 0].axis("off")
        for column, t in enumerate(temperatures, start=1):
            ax = axes[row, column]
            probabilities = softmax_with_temperature(logits, t).cpu().numpy()
            ax.bar(range(10), probabilities, color="#3b75af")
            ax.set_ylim(0, 1.05 if t == 1 else float(probabilities.max()) * 1.15)
            ax.set_xticks(range(10))
            ax.tick_params(labelsize=6)
            if row == 0:
                ax.set_title(f"teacher's p at T = {t:g}", fontsize=8)
    fig.suptitle(
        "Dark knowledge: at T = 1 the teacher is sure; at T = 20 it says what else each digit resembles", fontsize=8
    )
    return fig
