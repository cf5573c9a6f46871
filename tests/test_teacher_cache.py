"""Teacher re-use: the key tracks every setting that shapes the teacher; bad files are never used."""

import dataclasses

import pytest
import torch

from distill.data import Split
from distill.models import MLP
from distill.presets import MNIST_PRESETS
from distill.teacher_cache import load_teacher, save_teacher, teacher_key

STAGE = MNIST_PRESETS["smoke"].teacher
SPLIT = Split(torch.rand(50, 28, 28), torch.randint(0, 10, (50,)))


def changed_values(config):
    """Each field of a dataclass changed to some other valid value."""
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if isinstance(value, bool):
            yield field.name, not value
        elif isinstance(value, (int, float)):
            yield field.name, value + 1
        elif value is None:
            yield field.name, 2.0
        elif isinstance(value, tuple):
            yield field.name, (*value, 10)
        elif isinstance(value, str):
            yield field.name, "constant" if value != "constant" else "warmup-linear"


def test_key_changes_with_every_teacher_setting_seed_and_data():
    base = teacher_key(STAGE, 0, SPLIT)
    keys = {base}
    for name, value in changed_values(STAGE.train):
        keys.add(teacher_key(STAGE.with_train(**{name: value}), 0, SPLIT))
    for name, value in changed_values(STAGE):
        keys.add(teacher_key(dataclasses.replace(STAGE, **{name: value}), 0, SPLIT))
    n_settings = len(dataclasses.fields(STAGE.train)) + len(dataclasses.fields(STAGE)) - 1  # 'train' itself
    assert len(keys) == 1 + n_settings
    assert teacher_key(STAGE, 1, SPLIT) != base
    assert teacher_key(STAGE, 0, SPLIT.subset(slice(0, 49))) != base
    assert teacher_key(STAGE, 0, SPLIT) == base  # and stable


def test_saved_teacher_round_trips(tmp_path):
    model, copy = MLP((20,)), MLP((20,))
    path, key = tmp_path / "t.pt", teacher_key(STAGE, 0, SPLIT)
    save_teacher(path, key, model, {"run_id": "abc", "test_errors": 70})
    assert load_teacher(path, key, copy) == {"run_id": "abc", "test_errors": 70}
    for a, b in zip(model.parameters(), copy.parameters()):
        assert torch.equal(a, b)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol 4")  # from the fake checkpoint header written below
def test_corrupt_or_mismatched_files_are_not_used(tmp_path, capsys):
    model = MLP((20,))
    key = teacher_key(STAGE, 0, SPLIT)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"\x80\x04 not a checkpoint")
    assert load_teacher(corrupt, key, model) is None
    wrong_key = tmp_path / "wrong.pt"
    save_teacher(wrong_key, "0" * 16, model, {"run_id": "x"})
    assert load_teacher(wrong_key, key, model) is None
    wrong_shape = tmp_path / "shape.pt"
    save_teacher(wrong_shape, key, MLP((30,)), {"run_id": "y"})
    before = [p.clone() for p in model.parameters()]
    assert load_teacher(wrong_shape, key, model) is None
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert capsys.readouterr().out.count("ignoring the cached model") == 3
    assert load_teacher(tmp_path / "absent.pt", key, model) is None


def test_key_of_the_paper_teacher_is_stable_across_new_training_fields():
    """A TrainConfig field added later, left at its default, must not change the key: the teachers cached before
    it existed (hours of CPU each) stay valid. The value below is the key those versions computed."""
    split = Split(torch.linspace(0, 1, 50 * 28 * 28).reshape(50, 28, 28), torch.arange(50) % 10)
    assert teacher_key(MNIST_PRESETS["paper"].teacher, 0, split) == "d453bb5badf421c7"
