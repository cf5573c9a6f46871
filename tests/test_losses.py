"""The §2 objective against its formulas: values, gradients, the T² factor and the §2.1 limit."""

import math

import pytest
import torch
import torch.nn.functional as F

from distill.core.losses import (
    distillation_loss,
    kl_divergence,
    logit_matching_loss,
    soft_loss,
    softmax_with_temperature,
)
from distill.experiments.cifar10 import tutorial_soft_loss

N_CLASSES = 10


def reference_soft_cross_entropy(z, v, T):
    """−Σ p_i log q_i for one example, with plain math, from the paper's §2."""
    p = [math.exp(x / T) for x in v]
    q = [math.exp(x / T) for x in z]
    p = [x / sum(p) for x in p]
    q = [x / sum(q) for x in q]
    return -sum(pi * math.log(qi) for pi, qi in zip(p, q)), p, q


def test_softmax_with_temperature_matches_formula():
    z = torch.tensor([1.0, 2.0, -3.0], dtype=torch.float64)
    for T in (1.0, 4.0, 20.0):
        expected = torch.exp(z / T) / torch.exp(z / T).sum()
        torch.testing.assert_close(softmax_with_temperature(z, T), expected)
    # high T flattens towards uniform; T = 1 is the ordinary softmax
    assert softmax_with_temperature(z, 1000.0).max() - 1 / 3 < 1e-3
    torch.testing.assert_close(softmax_with_temperature(z, 1.0), torch.softmax(z, 0))


def test_soft_loss_value_is_T2_times_cross_entropy_minus_teacher_entropy():
    z = [0.5, -1.0, 3.0, 0.0]
    v = [2.0, 0.1, -0.7, 1.5]
    T = 3.0
    ce, p, _ = reference_soft_cross_entropy(z, v, T)
    entropy = -sum(pi * math.log(pi) for pi in p)
    value = soft_loss(torch.tensor([z]), torch.tensor([v]), T).item()
    assert value == pytest.approx(T**2 * (ce - entropy), rel=1e-5)


def test_kl_is_zero_only_when_student_equals_teacher():
    v = torch.randn(8, N_CLASSES)
    assert kl_divergence(v, v, 20.0).item() == pytest.approx(0.0, abs=1e-6)
    # adding a constant to every logit changes no probability
    assert kl_divergence(v + 5.0, v, 20.0).item() == pytest.approx(0.0, abs=1e-6)
    assert kl_divergence(torch.randn(8, N_CLASSES), v, 20.0).item() > 1e-4


def test_gradient_is_one_over_T_times_q_minus_p():
    """§2.1: ∂C/∂z_i = (1/T)(q_i − p_i) for the cross-entropy at temperature T (before T²)."""
    z = torch.randn(1, N_CLASSES, dtype=torch.float64, requires_grad=True)
    v = torch.randn(1, N_CLASSES, dtype=torch.float64)
    for T in (1.0, 2.5, 20.0):
        (grad,) = torch.autograd.grad(kl_divergence(z, v, T), z)
        q, p = torch.softmax(z / T, -1), torch.softmax(v / T, -1)
        torch.testing.assert_close(grad, (q - p).detach() / T)
        (grad_scaled,) = torch.autograd.grad(soft_loss(z, v, T), z)
        torch.testing.assert_close(grad_scaled, T * (q - p).detach())


def test_gradient_is_averaged_over_the_batch():
    z = torch.randn(4, N_CLASSES, requires_grad=True)
    v = torch.randn(4, N_CLASSES)
    (grad,) = torch.autograd.grad(soft_loss(z, v, 5.0), z)
    q, p = torch.softmax(z / 5.0, -1), torch.softmax(v / 5.0, -1)
    torch.testing.assert_close(grad, 5.0 * (q - p).detach() / 4)


def test_T_squared_keeps_the_gradient_size_across_temperatures():
    z = torch.randn(64, N_CLASSES, requires_grad=True)
    v = 3 * torch.randn(64, N_CLASSES)
    norms = {}
    for T in (5.0, 10.0, 20.0, 50.0):
        (grad,) = torch.autograd.grad(soft_loss(z, v, T), z)
        norms[T] = grad.norm().item()
    assert max(norms.values()) / min(norms.values()) < 1.35
    # without the T² factor the same gradients shrink like 1/T²: 100× from T = 5 to T = 50
    unscaled = {T: norms[T] / T**2 for T in norms}
    assert unscaled[5.0] / unscaled[50.0] > 70


def test_high_temperature_limit_is_logit_matching():
    """§2.1: for T ≫ logits and zero-mean logits, ∂C/∂z_i → (z_i − v_i)/(N T²)."""
    z = torch.randn(1, N_CLASSES, dtype=torch.float64)
    v = torch.randn(1, N_CLASSES, dtype=torch.float64)
    z, v = (z - z.mean()).requires_grad_(), v - v.mean()
    errors = []
    for T in (2.0, 10.0, 100.0, 1000.0):
        (grad,) = torch.autograd.grad(kl_divergence(z, v, T), z)
        matching = (z - v).detach() / (N_CLASSES * T**2)
        errors.append(((grad - matching).norm() / matching.norm()).item())
    assert errors == sorted(errors, reverse=True), errors  # closer as T grows
    assert errors[-1] < 1e-3 and errors[0] > 1e-2


def test_logit_matching_loss_is_the_high_temperature_limit_of_the_T2_scaled_soft_term():
    """§2.1 with T²: ∂(T²·KL)/∂z → (z_i − v_i)/N, the gradient of logit_matching_loss, also for uncentred logits."""
    z = (torch.randn(4, N_CLASSES, dtype=torch.float64) + 3.0).requires_grad_()  # not zero-mean: it centres them
    v = torch.randn(4, N_CLASSES, dtype=torch.float64) - 1.0
    (matching,) = torch.autograd.grad(logit_matching_loss(z, v, 20.0), z)
    errors = []
    for T in (5.0, 50.0, 5000.0):  # the error shrinks like 1/T
        (grad,) = torch.autograd.grad(soft_loss(z, v, T), z)
        errors.append(((grad - matching).norm() / matching.norm()).item())
    assert errors == sorted(errors, reverse=True) and errors[-1] < 1e-3 and errors[0] > 1e-3, errors
    centred = (z - z.mean(1, keepdim=True)) - (v - v.mean(1, keepdim=True))
    expected = (centred**2).sum(1).mean() / (2 * N_CLASSES)  # (1/2N)·Σ_i (z_i − v_i)², averaged over the batch
    assert logit_matching_loss(z, v, 1.0).item() == pytest.approx(expected.item())


def test_distillation_loss_adds_the_weighted_hard_term():
    z, v = torch.randn(16, N_CLASSES), torch.randn(16, N_CLASSES)
    labels = torch.randint(0, N_CLASSES, (16,))
    hard = F.cross_entropy(z, labels)
    for w in (0.0, 0.1, 1.0):
        expected = soft_loss(z, v, 20.0) + w * hard
        torch.testing.assert_close(distillation_loss(z, v, labels, 20.0, w), expected)


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")  # the reference: the tutorial's own KLDivLoss()
@pytest.mark.parametrize("n_classes", [10, 4])
def test_the_tutorials_soft_term_is_exactly_2_over_C_times_the_corrected_one(n_classes):
    # the tutorial: KLDivLoss() (reduction='mean': over batch × classes) · T² · 2 vs §2: KL batchmean · T²
    z, v = torch.randn(32, n_classes, dtype=torch.float64), torch.randn(32, n_classes, dtype=torch.float64) * 5
    tutorial = tutorial_soft_loss(z, v, 20.0)  # without PyTorch's warning about this reduction: it is deliberate
    reference = torch.nn.KLDivLoss()(F.log_softmax(z / 20, dim=1), F.softmax(v / 20, dim=1)) * 400 * 2
    torch.testing.assert_close(tutorial, reference)
    torch.testing.assert_close(tutorial, (2 / n_classes) * soft_loss(z, v, 20.0))


def test_alpha_weighted_loss_of_the_cifar_recipes():
    z, v = torch.randn(16, N_CLASSES), torch.randn(16, N_CLASSES)
    labels = torch.randint(0, N_CLASSES, (16,))
    corrected = distillation_loss(z, v, labels, 20.0, hard_weight=0.3, soft_weight=0.7)
    torch.testing.assert_close(corrected, 0.7 * soft_loss(z, v, 20.0) + 0.3 * F.cross_entropy(z, labels))
    tutorial = distillation_loss(z, v, labels, 20.0, hard_weight=0.3, soft_weight=0.7, soft_term=tutorial_soft_loss)
    torch.testing.assert_close(tutorial, 0.7 * 0.2 * soft_loss(z, v, 20.0) + 0.3 * F.cross_entropy(z, labels))


def test_the_ensembles_soft_targets_are_its_members_mean_softmax_at_T():
    """§4: the ensemble predicts with the arithmetic mean of its members' distributions, at T for its soft targets."""
    from distill.experiments.ensemble import ensemble_logits

    members = [torch.randn(6, N_CLASSES, dtype=torch.float64) * 3 for _ in range(4)]
    for T in (1.0, 20.0):
        v = ensemble_logits(members, T)
        mean = torch.stack([torch.softmax(z / T, dim=1) for z in members]).mean(0)
        assert torch.allclose(torch.softmax(v / T, dim=1), mean)
    # unregularised members are sure of themselves: probabilities far below float32's range, and yet finite targets
    sure = [torch.tensor([[0.0, -4000.0, -9000.0] + [-5000.0] * (N_CLASSES - 3)]) for _ in range(3)]
    v = ensemble_logits(sure, 20.0)
    assert torch.isfinite(v).all() and torch.allclose(v, sure[0])  # identical members: their own logits
    assert torch.isfinite(soft_loss(torch.zeros_like(v), v, 20.0))
