"""replicate/benchmark.py's arithmetic: the GEMM bound's FLOP count and the soft targets the indices look up."""

import pytest
import torch

from distill.core.losses import distillation_loss, hard_loss
from distill.core.models import count_parameters
from distill.lab.presets import PAPER
from tests.conftest import load_script


def test_the_gemm_bound_counts_forward_and_backward_flops_of_every_layer_but_the_images_gradient():
    benchmark = load_script("benchmark")
    _, gflop = benchmark.gemm_bound("teacher", precision="fp32", device=torch.device("cpu"), n_images=600, repeats=1)
    weights = count_parameters(PAPER.teacher.build()) - (1200 + 1200 + 10)  # without the biases
    # forward, weight gradient and input gradient: 3 × 2 FLOPs per weight and image, except the first
    # layer's input gradient (784·1200 weights), which nothing needs
    assert gflop == pytest.approx(600 * 2 * (3 * weights - 784 * 1200) / 1e9)


def test_the_student_loss_looks_up_each_images_teacher_logits_by_its_index_and_the_teacher_loss_needs_none():
    benchmark = load_script("benchmark")
    z, v = torch.randn(4, 10), torch.randn(20, 10)  # the logits of a batch of 4, the teacher's of 20 images
    labels, index = torch.tensor([1, 2, 3, 4]), torch.tensor([7, 0, 19, 3])
    expected = distillation_loss(z, v[index], labels, PAPER.temperature, PAPER.hard_weight)
    assert torch.equal(benchmark.loss_for("student", v)(z, labels, index), expected)
    assert torch.equal(benchmark.loss_for("teacher", None)(z, labels, index), hard_loss(z, labels))


def test_bad_benchmark_flags_end_in_two_lines(capsys):
    with pytest.raises(SystemExit) as stopped:
        load_script("benchmark").main(["--workers", "-1"])
    assert stopped.value.code == 2
    error, hint = capsys.readouterr().err.strip().splitlines()
    assert error.endswith(": error: --workers must be >= 0") and hint == "(run with --help for the options)"


def test_a_bad_precision_in_the_environment_ends_the_test_suite_timing_before_it_starts(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("KD_PRECISION", "fp16")
    with pytest.raises(SystemExit) as stopped:
        load_script("benchmark").main(["--test-suite", "--out", str(tmp_path)])
    assert stopped.value.code == 2 and "$KD_PRECISION is 'fp16'" in capsys.readouterr().err
    assert not (tmp_path / "test_suite.csv").exists()
