"""The distillation objective of §2, written term by term.

Notation of the paper: z are the student's logits, v the teacher's, T the temperature, q = softmax(z/T) the
student's soft predictions and p = softmax(v/T) the teacher's soft targets.

    soft term  C_soft = T² · mean_batch[ −Σ_i p_i log q_i ]      (cross-entropy at temperature T;
                                                               computed as T²·KL(p‖q), same gradient)
    hard term  C_hard = mean_batch[ −log softmax(z)_y ]          (ordinary cross-entropy, T = 1)
    loss       C = soft_weight · C_soft + hard_weight · C_hard   (soft_weight 1 on MNIST)

Why T²: ∂(−Σ p log q)/∂z_i = (1/T)(q_i − p_i) (§2.1), and for high T that is ≈ (z_i − v_i)/(N T²) with N
classes: the soft gradients shrink as 1/T². Multiplying by T² keeps their size when T changes, so the
relative weight of the two terms does not silently depend on T. The paper puts "a considerably lower weight"
on the hard term, hence a small ``hard_weight``.
"""

import torch
import torch.nn.functional as F


def softmax_with_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """q_i = exp(z_i/T) / Σ_j exp(z_j/T)  (§2). T = 1 is the ordinary softmax."""
    return F.softmax(logits / temperature, dim=-1)


def kl_divergence(z: torch.Tensor, v: torch.Tensor, temperature: float) -> torch.Tensor:
    """Mean over the batch of KL(p‖q) = Σ_i p_i (log p_i − log q_i) at temperature T.

    Zero exactly when the student's softened predictions equal the teacher's, so it also measures how well a student
    has matched its teacher. Computed in float32, also under bf16 autocast.
    """
    z, v = at_least_float32(z), at_least_float32(v)
    log_p = F.log_softmax(v / temperature, dim=-1)  # teacher's soft targets, in logs
    log_q = F.log_softmax(z / temperature, dim=-1)  # student's soft predictions, in logs
    return (log_p.exp() * (log_p - log_q)).sum(dim=-1).mean()


def soft_loss(z: torch.Tensor, v: torch.Tensor, temperature: float) -> torch.Tensor:
    """The soft term: T² · KL(p‖q), averaged over the batch.

    KL(p‖q) = CE(p, q) − H(p): it differs from the paper's cross-entropy only by the teacher's entropy, a constant for
    the student, so the gradients are identical, ∂/∂z_i = T² · (1/T)(q_i − p_i). Unlike the cross-entropy it reaches 0
    when the student matches, which makes the logged loss readable.
    """
    return temperature**2 * kl_divergence(z, v, temperature)


def logit_matching_loss(z: torch.Tensor, v: torch.Tensor, temperature: float) -> torch.Tensor:
    """Caruana et al.'s logit matching, the high-T limit of the soft term (§2.1): ½·mean_i((z_i − v_i)²).

    With zero-mean logits, ∂(T²·C_soft)/∂z_i → (z_i − v_i)/N as T → ∞, which is the gradient of (1/2N)·Σ_i (z_i − v_i)²;
    both logits are centred first, as §2.1 assumes. Written to that scale, it can stand in for ``soft_loss`` with the
    same hard-term weight. ``temperature`` is unused: it is the limit.
    """
    z, v = at_least_float32(z), at_least_float32(v)
    centred = (z - z.mean(dim=-1, keepdim=True)) - (v - v.mean(dim=-1, keepdim=True))
    return 0.5 * centred.pow(2).mean(dim=-1).mean()


def hard_loss(z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The hard term: ordinary cross-entropy with the true labels at T = 1, averaged over the batch."""
    return F.cross_entropy(at_least_float32(z), labels)


def distillation_loss(
    z: torch.Tensor,
    v: torch.Tensor,
    labels: torch.Tensor,
    temperature: float,
    hard_weight: float,
    soft_weight: float = 1.0,
    soft_term=soft_loss,
) -> torch.Tensor:
    """C = soft_weight·T²·KL(p‖q) + hard_weight·CE(labels, softmax(z)): §2's objective up to a constant.

    MNIST uses soft_weight 1 and a small hard_weight; the CIFAR-10 example weighs the two terms alpha and 1 − alpha, and
    ``soft_term(z, v, T)`` swaps in the tutorial's soft term (experiments/cifar10.py).
    """
    return soft_weight * soft_term(z, v, temperature) + hard_weight * hard_loss(z, labels)


def at_least_float32(x: torch.Tensor) -> torch.Tensor:
    """bf16 logits from autocast are promoted; float64 (the gradient tests) is kept."""
    return x.to(torch.promote_types(x.dtype, torch.float32))
