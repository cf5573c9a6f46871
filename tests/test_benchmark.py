"""replicate/benchmark.py's arithmetic: the GEMM bound's FLOP count and the DataLoader pipeline's indices."""

import pytest
import torch

from distill.models import count_parameters
from distill.presets import PAPER
from tests.conftest import load_script


def test_the_gemm_bound_counts_forward_and_backward_flops_of_every_layer_but_the_images_gradient():
    benchmark = load_script("benchmark")
    _, gflop = benchmark.gemm_bound("teacher", bf16=False, device=torch.device("cpu"), n_images=600, repeats=1)
    weights = count_parameters(PAPER.teacher.build()) - (1200 + 1200 + 10)  # without the biases
    # forward, weight gradient and input gradient: 3 × 2 FLOPs per weight and image, except the first
    # layer's input gradient (784·1200 weights), which nothing needs
    assert gflop == pytest.approx(600 * 2 * (3 * weights - 784 * 1200) / 1e9)


def test_the_dataloader_pipeline_hands_each_image_its_index_for_the_teacher_logits():
    benchmark = load_script("benchmark")
    images = [(torch.full((1, 28, 28), float(i)), i % 10) for i in range(5)]
    image, label, index = benchmark.Indexed(images)[3]
    assert index == 3 and label == 3 and image[0, 0, 0] == 3


def test_bad_benchmark_flags_end_in_two_lines(capsys):
    with pytest.raises(SystemExit) as stopped:
        load_script("benchmark").main(["--workers", "-1"])
    assert stopped.value.code == 2
    error, hint = capsys.readouterr().err.strip().splitlines()
    assert error.endswith(": error: --workers must be >= 0") and hint == "(run with --help for the options)"
