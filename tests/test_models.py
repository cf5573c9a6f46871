"""Architecture sizes of §3, dropout, and the max-norm constraint after real optimiser steps."""

import pytest
import torch
import torch.nn.functional as F

from distill.core.models import MLP, Dropout, apply_max_norm, count_parameters, drop_field, keep_mask
from distill.core.train import TrainConfig, learning_rate, momentum_at, train
from distill.lab.presets import CIFAR_PRESETS, MNIST_PRESETS


def test_parameter_counts_of_teacher_and_student():
    paper = MNIST_PRESETS["paper"]
    assert count_parameters(MLP(paper.teacher.hidden)) == 2_395_210  # 784-1200-1200-10
    assert count_parameters(MLP(paper.students.alone.hidden)) == 1_276_810  # 784-800-800-10
    assert {
        s.hidden
        for s in (paper.students.alone, paper.students.distilled, paper.study_start.alone, paper.study_start.distilled)
    } == {paper.students.alone.hidden}


def test_paper_regularisers_only_on_the_teacher():
    paper = MNIST_PRESETS["paper"]
    assert (paper.teacher.input_dropout, paper.teacher.hidden_dropout) == (0.2, 0.5)
    assert paper.teacher.train.jitter == 2 and paper.teacher.train.max_norm is not None
    for student in (*vars(paper.students).values(), *vars(paper.study_start).values()):
        assert (student.input_dropout, student.hidden_dropout) == (0.0, 0.0)
        assert student.train.jitter == 0 and student.train.max_norm is None


def test_dropout_rate_and_scaling():
    layer = Dropout(0.2)
    x = torch.ones(1000, 1000)
    y = layer(x)
    assert abs((y == 0).float().mean().item() - 0.2) < 0.005
    assert torch.all((y == 0) | torch.isclose(y, torch.tensor(1.25)))
    layer.eval()
    assert torch.equal(layer(x), x)
    with pytest.raises(ValueError):
        Dropout(1.0)


def test_dropout_fields_give_exactly_p_when_p_is_dyadic_and_within_2_to_the_minus_32_otherwise():
    assert drop_field(0.5) == (1, 1)  # one bit per unit: 63 units per random draw
    assert drop_field(0.25) == (2, 1) and drop_field(0.375) == (3, 3)
    for p in (0.2, 0.1, 0.3, 0.999):
        bits, below = drop_field(p)
        assert bits == 31 and abs(below / 2**bits - p) <= 2**-32


@pytest.mark.parametrize("p", [0.5, 0.2])
def test_every_bit_of_a_random_draw_drops_units_at_rate_p(p):
    torch.manual_seed(0)
    per_draw = 63 // drop_field(p)[0]
    keep = keep_mask((20_000, per_draw), p, torch.device("cpu"))  # row r: the units cut from draw r
    dropped = 1 - keep.float().mean(dim=0)  # per field position, over 20,000 draws
    sigma = (p * (1 - p) / 20_000) ** 0.5
    assert (dropped - p).abs().max() < 5 * sigma  # a field that is not random (e.g. a constant top bit) fails
    assert keep_mask((3, 5, 7), p, torch.device("cpu")).shape == (3, 5, 7)  # not a whole number of draws
    neighbours = torch.corrcoef(keep.float().T)
    assert (neighbours - torch.eye(per_draw)).abs().max() < 5 / 20_000**0.5  # fields of one draw are independent


def test_max_norm_clips_only_rows_above_the_radius():
    model = MLP((50, 40))
    first = model.hidden_layers()[0].weight
    with torch.no_grad():
        first[0] *= 100  # far above any radius
        first[1] = first[1] / first[1].norm() * 0.5  # below it
    small_row = first[1].clone()
    output_before = model.output_layer.weight.clone()
    apply_max_norm(model, radius=1.0)
    for layer in model.hidden_layers():
        assert layer.weight.norm(dim=1).max() <= 1.0 + 1e-5
    assert first[0].norm().item() == pytest.approx(1.0, rel=1e-5)
    assert torch.equal(first[1], small_row)
    assert torch.equal(model.output_layer.weight, output_before)  # the constraint is on hidden units only


def test_max_norm_holds_after_every_training_step():
    torch.manual_seed(0)
    images, labels = torch.rand(256, 28, 28), torch.randint(0, 10, (256,))
    model = MLP((64, 64), input_dropout=0.2, hidden_dropout=0.5)
    cfg = TrainConfig(epochs=2, batch_size=32, lr=2.0, max_norm=0.8)  # a huge lr pushes the norms out
    norms = []

    def evaluate(m):
        norms.append(max(layer.weight.norm(dim=1).max().item() for layer in m.hidden_layers()))
        return {}

    train(model, images, lambda z, i: F.cross_entropy(z, labels[i]), cfg, evaluate, "test")
    assert max(norms) <= 0.8 + 1e-5
    assert max(norms) > 0.79  # the bound was active, not vacuous


def test_learning_rate_warms_up_then_decays_to_zero():
    cfg = TrainConfig(epochs=1, lr=0.5, warmup=0.1)
    rates = [learning_rate(cfg, step, 100) for step in range(100)]
    assert rates[0] == pytest.approx(0.05) and rates[9] == pytest.approx(0.5)
    assert max(rates) == pytest.approx(0.5)
    assert rates[-1] == pytest.approx(0.5 / 90) and all(a >= b for a, b in zip(rates[9:], rates[10:]))


def test_the_2012_momentum_ramp_rises_from_half_to_its_peak_then_stays():
    ramp = TrainConfig(epochs=100, momentum=0.99, momentum_ramp=50)
    assert [momentum_at(ramp, e) for e in (1, 26, 51, 100)] == pytest.approx([0.5, 0.745, 0.99, 0.99])
    assert momentum_at(TrainConfig(epochs=100, momentum=0.9), 1) == 0.9  # no ramp: constant


def test_with_the_ramp_each_step_is_scaled_by_one_minus_momentum():
    """The first step of SGD moves by lr·g (Nesterov: (1 + m)·lr·g); the ramp scales it by 1 − m = 0.5."""
    steps = {}
    for ramp in (0, 10):
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 2)
        before = model.weight.detach().clone()
        cfg = TrainConfig(epochs=1, batch_size=4, lr=0.1, momentum=0.5, warmup=0.0, schedule="constant",
                          momentum_ramp=ramp)  # fmt: skip
        x = torch.randn(4, 3)
        train(model, x, lambda z, i: z.pow(2).sum(), cfg, lambda m: {}, "ramp")
        steps[ramp] = model.weight.detach() - before
    assert torch.allclose(steps[10], 0.5 * steps[0])


def test_parameter_counts_of_the_cifar10_nets():
    presets = CIFAR_PRESETS["paper"]
    assert count_parameters(presets.teacher.build()) == 165_642  # conv 3→64 (1,792) + linear 16,384→10
    assert count_parameters(presets.student.build()) == 41_418  # conv 3→16 (448) + linear 4,096→10
    assert count_parameters(presets.tutorial_student.build()) == 41_418
    assert presets.teacher.build()(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_constant_schedule_and_the_seeds_optimiser():
    cfg = CIFAR_PRESETS["paper"].teacher.train
    assert [learning_rate(cfg, step, 3910) for step in (0, 1000, 3909)] == [0.001] * 3
    assert (cfg.batch_size, cfg.momentum, cfg.nesterov, cfg.drop_last, cfg.precision) == (
        128,
        0.9,
        False,
        False,
        "fp32",
    )


@pytest.mark.parametrize("drop_last, expected_batches", [(True, [32, 32, 32]), (False, [32, 32, 32, 4])])
def test_every_image_is_seen_once_per_epoch_with_the_last_batch_kept_or_dropped(drop_last, expected_batches):
    images = torch.rand(100, 28, 28)
    seen = []

    def loss(z, index):
        seen.append(index.clone())
        return z.sum() * 0

    cfg = TrainConfig(epochs=1, batch_size=32, drop_last=drop_last, schedule="constant")
    train(MLP((8,)), images, loss, cfg, lambda m: {}, "test")
    assert [len(b) for b in seen] == expected_batches
    everything = torch.cat(seen)
    assert len(everything.unique()) == len(everything)  # no image twice in an epoch
    assert (len(everything) == 100) == (not drop_last)
