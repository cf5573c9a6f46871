"""omit3 / only78: the transfer-set filters and the bias offset that repairs the student (§3)."""

import pytest
import torch

from distill.core.data import load_mnist
from distill.core.models import MLP
from distill.core.train import predict_logits
from distill.experiments.transfer_sets import (
    OMIT3,
    ONLY78,
    best_offset_on_test,
    offset_logits,
    prior_matching_offset,
    sweep,
    transfer_mask,
    with_bias_offset,
)


def test_filters_on_the_real_training_labels(mnist_root):
    labels = load_mnist(mnist_root, torch.device("cpu")).train.labels
    counts = torch.bincount(labels, minlength=10)
    without_3 = labels[transfer_mask(labels, OMIT3.kept_classes)]
    assert 3 not in without_3.tolist() and len(without_3) == 60_000 - counts[3] == 53_869
    assert torch.equal(torch.bincount(without_3, minlength=10), counts * (torch.arange(10) != 3))
    only_78 = labels[transfer_mask(labels, ONLY78.kept_classes)]
    assert set(only_78.unique().tolist()) == {7, 8}
    assert len(only_78) == counts[7] + counts[8] == 6265 + 5851


def test_bias_offset_changes_exactly_the_chosen_biases_and_the_logits_by_the_offset():
    model = MLP((16,))
    shifted = with_bias_offset(model, (7, 8), -7.6)
    before, after = model.output_layer.bias, shifted.output_layer.bias
    assert torch.allclose(after[[7, 8]], before[[7, 8]] - 7.6)
    untouched = [c for c in range(10) if c not in (7, 8)]
    assert torch.equal(after[untouched], before[untouched])
    hidden, hidden_shifted = model.hidden_layers()[0], shifted.hidden_layers()[0]
    assert torch.equal(hidden.weight, hidden_shifted.weight) and torch.equal(hidden.bias, hidden_shifted.bias)
    assert torch.equal(model.output_layer.weight, shifted.output_layer.weight)
    images = torch.rand(64, 28, 28)
    z, z_shifted = predict_logits(model, images), predict_logits(shifted, images)
    assert torch.allclose(z_shifted, offset_logits(z, (7, 8), -7.6), atol=1e-5)
    assert torch.equal(predict_logits(model, images), z)  # the original model is left as it was


def test_raising_a_bias_only_moves_predictions_to_that_class():
    z = torch.randn(1000, 10)
    before = z.argmax(1)
    after = offset_logits(z, (3,), 2.0).argmax(1)
    changed = before != after
    assert changed.any() and (after[changed] == 3).all()  # new predictions are all 3s
    assert (after[before == 3] == 3).all()  # and no 3 is lost


def test_sweep_counts_errors_and_the_test_optimal_offset_is_its_minimum():
    # a student that never predicts 3 by a margin of 2.95: raising the class-3 bias by 3.0 repairs it
    labels = torch.arange(100) % 10
    z = torch.nn.functional.one_hot(labels, 10).float() * 5.0
    z[labels == 3, 3] = 2.05
    z[labels == 3, 0] = 5.0
    rows = sweep(z, labels, OMIT3)
    by_offset = {r["offset"]: r for r in rows}
    assert by_offset[0.0] == {"offset": 0.0, "test_errors": 10, "class_errors": 10}
    assert by_offset[3.0] == {"offset": 3.0, "test_errors": 0, "class_errors": 0}
    assert by_offset[10.0]["test_errors"] == 90  # too much: everything becomes a 3
    assert rows[0]["offset"] == OMIT3.offsets[0] and rows[-1]["offset"] == OMIT3.offsets[1]
    assert best_offset_on_test(rows) == 3.0  # the smallest |offset| among the tied minima (3.0 … 4.9)


def test_prior_matching_offset_gives_the_target_mean_probability():
    z = torch.randn(2000, 10) * 3
    z[:, 3] -= 4  # class 3 is under-predicted
    offset = prior_matching_offset(z, (3,), 0.1)
    mass = offset_logits(z, (3,), offset).softmax(1)[:, 3].mean()
    assert offset > 0 and mass == pytest.approx(0.1, abs=1e-3)
    offset_78 = prior_matching_offset(z + 8 * torch.nn.functional.one_hot(torch.tensor(7), 10), (7, 8), 0.2)
    assert offset_78 < 0
