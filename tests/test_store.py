"""Training states on disk: every setting names its own file, a kept teacher is reused, bad files are never used."""

import dataclasses

import pytest
import torch

from distill.core.data import Split, Splits
from distill.core.models import MLP
from distill.lab.presets import MNIST_PRESETS
from distill.lab.run import Run
from distill.lab.store import Store, UnreadableState

STAGE = MNIST_PRESETS["smoke"].teacher
SPLIT = Split(torch.rand(50, 28, 28), torch.randint(0, 10, (50,)))
CPU = torch.device("cpu")


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
        elif field.name == "precision":
            yield field.name, "bf16" if value == "fp32" else "fp32"
        elif isinstance(value, str):
            yield field.name, "constant" if value != "constant" else "warmup-linear"


def path_of(run: Run, store: Store, stage=STAGE, columns=None, seed=0, split=SPLIT):
    return run.slot(store, "teacher", stage, columns or {}, split, None, seed).path


def test_a_files_name_changes_with_every_setting_seed_data_and_loss_column(tmp_path):
    run = Run("smoke", 0, Splits(SPLIT, SPLIT, "test"), tmp_path)
    store = Store(tmp_path)
    paths = {path_of(run, store)}
    for name, value in changed_values(STAGE.train):
        paths.add(path_of(run, store, STAGE.with_train(**{name: value})))
    for name, value in changed_values(STAGE):
        paths.add(path_of(run, store, dataclasses.replace(STAGE, **{name: value})))
    n_settings = len(dataclasses.fields(STAGE.train)) + len(dataclasses.fields(STAGE)) - 1  # 'train' itself
    assert len(paths) == 1 + n_settings
    # two students of one command that differ only in the hard weight (or anything else) never share a file
    assert path_of(run, store, columns={"hard_weight": 0.1}) != path_of(run, store, columns={"hard_weight": 0.3})
    assert path_of(run, store, seed=1) != path_of(run, store)
    assert path_of(run, store, split=SPLIT.subset(slice(0, 49))) != path_of(run, store)
    assert path_of(run, store) == path_of(run, store)  # and stable


def test_a_kept_model_round_trips_and_fresh_still_loads_it_but_not_an_unfinished_one(tmp_path):
    model, copy = MLP((20,)), MLP((20,))
    slot = Store(tmp_path).slot("teacher", {"a": 1})
    slot.keep(model, {"run_id": "abc", "test_errors": 70})
    state = Store(tmp_path, fresh=True).slot("teacher", {"a": 1}).load(CPU)
    assert state["row"] == {"run_id": "abc", "test_errors": 70} and "optimizer" not in state
    copy.load_state_dict(state["model"])
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), copy.parameters()))
    unfinished = Store(tmp_path).slot("distilled", {"b": 2})
    unfinished.save({"history": [], "run_id": "x"})
    assert Store(tmp_path).slot("distilled", {"b": 2}).load(CPU)["run_id"] == "x"
    assert Store(tmp_path, fresh=True).slot("distilled", {"b": 2}).load(CPU) is None


def test_an_unreadable_file_stops_with_one_sentence_unless_fresh(tmp_path):
    slot = Store(tmp_path).slot("teacher", {"a": 1})
    slot.path.write_bytes(b"not a training state")
    with pytest.raises(UnreadableState, match="not a readable training state.*--fresh"):
        slot.load(CPU)
    assert Store(tmp_path, fresh=True).slot("teacher", {"a": 1}).load(CPU) is None


def test_remove_used_deletes_the_commands_files_and_an_empty_folder(tmp_path):
    store = Store(tmp_path / "checkpoints")
    store.slot("baseline", {"a": 1}).save({"history": []})
    store.slot("distilled", {"a": 2}).save({"history": []})
    store.remove_used()
    assert not (tmp_path / "checkpoints").exists()
