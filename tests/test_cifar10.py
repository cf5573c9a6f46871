"""CIFAR-10: the standard python format is read right, bad data gives one sentence, and the script runs."""

import pickle

import pytest
import torch

from distill.core.cifar10_data import FOLDER, load_cifar10, write_synthetic_cifar10
from distill.core.data import DataUnavailable
from tests.conftest import load_script, read_rows


def test_batches_are_read_channel_first_and_normalised_like_the_seed(tmp_path):
    folder = write_synthetic_cifar10(tmp_path, n_train=53, n_test=7)
    data = load_cifar10(tmp_path, torch.device("cpu"))
    assert data.train.images.shape == (53, 3, 32, 32) and data.test.images.shape == (7, 3, 32, 32)
    with open(folder / "data_batch_1", "rb") as f:
        first = pickle.load(f, encoding="bytes")
    raw = torch.tensor(first[b"data"][0], dtype=torch.float32)  # 1024 red, 1024 green, 1024 blue values
    assert data.train.labels[0] == first[b"labels"][0]
    # ToTensor then Normalize(0.5, 0.5): x/255 ↦ (x/255 − 0.5)/0.5
    torch.testing.assert_close(data.train.images[0, 1, 0, 5], (raw[1024 + 5] / 255 - 0.5) / 0.5)
    torch.testing.assert_close(data.train.images[0, 2, 3, 0], (raw[2048 + 3 * 32] / 255 - 0.5) / 0.5)
    assert data.train.images.min() >= -1 and data.train.images.max() <= 1


def test_a_truncated_batch_is_one_clear_sentence(tmp_path):
    folder = write_synthetic_cifar10(tmp_path, n_train=50, n_test=10)
    (folder / "data_batch_3").write_bytes((folder / "data_batch_3").read_bytes()[:1000])
    with pytest.raises(DataUnavailable) as raised:
        load_cifar10(tmp_path, torch.device("cpu"))
    assert "data_batch_3" in str(raised.value) and "\n" not in str(raised.value)


def test_missing_data_without_network_names_the_folder_and_the_fix(tmp_path, monkeypatch):
    from torchvision import datasets

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(datasets, "CIFAR10", offline)
    with pytest.raises(DataUnavailable) as raised:
        load_cifar10(tmp_path, torch.device("cpu"))
    message = str(raised.value)
    assert str(tmp_path / FOLDER) in message and "--data-dir" in message and "\n" not in message


@pytest.mark.slow
def test_smoke_run_of_both_recipes_on_synthetic_cifar10(tmp_path, capsys):
    write_synthetic_cifar10(tmp_path / "data", n_train=1000, n_test=300)
    out = tmp_path / "results"
    args = ["--preset", "smoke", "--device", "cpu", "--data-dir", str(tmp_path / "data"), "--out", str(out)]
    assert load_script("cifar10").main(args + ["--cache-dir", str(tmp_path / "cache")]) == 0
    rows = read_rows(out / "runs.csv")
    assert [(r["model"], r["recipe"], r["hidden"]) for r in rows] == [
        ("teacher", "", "conv64"),
        ("distilled", "tutorial", "conv16"),
        ("baseline", "corrected", "conv16"),
        ("distilled", "corrected", "conv16"),
    ]
    teacher, tutorial_student, alone, corrected = rows
    assert tutorial_student["epochs"] == "1" and alone["epochs"] == corrected["epochs"] == teacher["epochs"]
    assert tutorial_student["soft_term"] == "tutorial_soft_loss" and corrected["soft_term"] == "soft_loss"
    assert float(tutorial_student["soft_weight"]) == 0.7 and float(corrected["hard_weight"]) == pytest.approx(0.3)
    assert {r["cfg_lr"] for r in rows} == {"0.001"} and {r["cfg_batch_size"] for r in rows} == {"128"}
    assert int(teacher["train_size"]) == 1000 and int(teacher["test_errors"]) < 150  # learnable: well above chance
    for column in ("device", "torch_version", "git_commit", "finished_at", "seed", "preset"):
        assert all(r[column] != "" for r in rows)
    printed = capsys.readouterr().out
    assert "CIFAR-10 test accuracy" in printed and "corrected" in printed and "tutorial" in printed
