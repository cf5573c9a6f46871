"""Checkpoints: a killed run, rerun, ends exactly where the uninterrupted one does; other configs are refused."""

import io
import os
import signal
import subprocess
import sys

import pytest
import torch

from distill.core.losses import hard_loss
from distill.core.models import MLP
from distill.core.train import TrainConfig, train
from distill.lab import store
from tests.conftest import REPO, load_script, read_rows


def _train_tiny(epochs_run: int, resume: dict | None = None) -> tuple[MLP, list[dict], list[dict]]:
    """A dropout + jitter + max-norm net on random data: every source of randomness the teacher has."""
    torch.manual_seed(1)
    images, labels = torch.rand(300, 28, 28), torch.randint(0, 10, (300,))
    model = MLP((32, 32), input_dropout=0.2, hidden_dropout=0.5)
    cfg = TrainConfig(epochs=4, batch_size=50, lr=0.05, max_norm=1.0, jitter=2)
    saved = []

    def save(state: dict) -> None:  # through bytes, as a file on disk would be
        buffer = io.BytesIO()
        torch.save(state, buffer)
        saved.append(torch.load(io.BytesIO(buffer.getvalue()), weights_only=True))
        if len(saved) + (len(resume["history"]) if resume else 0) == epochs_run:
            raise KeyboardInterrupt  # the user's Ctrl-C right after the checkpoint of that epoch

    try:
        history, _ = train(model, images, lambda z, i: hard_loss(z, labels[i]), cfg, lambda m: {}, "tiny", resume, save)
    except KeyboardInterrupt:
        history = []
    return model, history, saved


def test_training_resumed_from_an_epochs_checkpoint_ends_bit_for_bit_like_an_uninterrupted_one():
    uninterrupted, full_history, _ = _train_tiny(epochs_run=0)
    _, _, saved = _train_tiny(epochs_run=2)  # stopped after epoch 2 of 4
    assert [h["epoch"] for h in saved[-1]["history"]] == [1, 2]
    resumed, resumed_history, _ = _train_tiny(epochs_run=0, resume=saved[-1])
    for a, b in zip(uninterrupted.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert [h["train_loss"] for h in resumed_history] == [h["train_loss"] for h in full_history]
    # without the saved random state (batch order, jitter, dropout) the same resume ends elsewhere
    no_rng = {**saved[-1], "rng": {"cpu": torch.random.default_generator.get_state()}}
    diverging, _, _ = _train_tiny(epochs_run=0, resume=no_rng)
    assert not torch.equal(diverging.output_layer.weight, uninterrupted.output_layer.weight)


# Runs replicate/mnist.py and SIGKILLs it (no clean-up code runs, as in a power cut) right after
# its Nth checkpoint has been written.
KILLED_AFTER_SAVE = """
import os, signal, sys
import distill.lab.store as store
saves, original = 0, store.Slot.save
def save_then_die(self, state):
    global saves
    original(self, state)
    saves += 1
    if saves == int(os.environ["KILL_AFTER_SAVE"]):
        os.kill(os.getpid(), signal.SIGKILL)
store.Slot.save = save_then_die
sys.argv[0] = {script!r}
exec(compile(open({script!r}).read(), {script!r}, "exec"))
"""


def _mnist(tmp_path, mnist_root, name: str, kill_after_save: int = 0) -> subprocess.CompletedProcess:
    wrapper = tmp_path / "killed_after_save.py"
    wrapper.write_text(KILLED_AFTER_SAVE.format(script=str(REPO / "replicate" / "mnist.py")))
    args = ["--preset", "smoke", "--device", "cpu", "--data-dir", str(mnist_root)]
    args += ["--out", str(tmp_path / name), "--cache-dir", str(tmp_path / f"{name}-cache")]
    env = {**os.environ, "KILL_AFTER_SAVE": str(kill_after_save)}
    return subprocess.run([sys.executable, str(wrapper), *args], capture_output=True, text=True, env=env)


@pytest.mark.slow
def test_a_run_killed_three_times_and_rerun_logs_exactly_what_an_uninterrupted_run_logs(tmp_path, mnist_root):
    assert _mnist(tmp_path, mnist_root, "uninterrupted").returncode == 0
    # killed after the teacher's first epoch; then (resumed; its second epoch, then the kept teacher) after the
    # student alone's last epoch, before its row was logged; then, the teacher now kept, after the distilled
    # student's first epoch
    assert _mnist(tmp_path, mnist_root, "killed", kill_after_save=1).returncode == -signal.SIGKILL
    second = _mnist(tmp_path, mnist_root, "killed", kill_after_save=4)
    assert second.returncode == -signal.SIGKILL
    assert "teacher 1200-1200 seed 0: resumed after epoch 1/2" in second.stdout
    third = _mnist(tmp_path, mnist_root, "killed", kill_after_save=1)
    assert third.returncode == -signal.SIGKILL
    assert "baseline 800-800 seed 0: resumed after epoch 2/2" in third.stdout
    fourth = _mnist(tmp_path, mnist_root, "killed")
    assert fourth.returncode == 0, fourth.stderr
    assert "distilled 800-800 seed 0: resumed after epoch 1/2" in fourth.stdout

    expected, resumed = (read_rows(tmp_path / name / "runs.csv") for name in ("uninterrupted", "killed"))
    assert [r["model"] for r in resumed] == ["teacher", "baseline", "distilled"]  # each logged once
    for column in ("test_errors", "transfer_kl", "test_kl"):
        assert [r.get(column) for r in resumed] == [r.get(column) for r in expected]
    curve = lambda name: [(e["model"], e["epoch"], e["train_loss"]) for e in read_rows(tmp_path / name / "epochs.csv")]
    assert curve("killed") == curve("uninterrupted")  # every epoch's loss, to the last printed digit
    assert not (tmp_path / "killed" / "checkpoints").exists()  # deleted once the command has finished


@pytest.mark.slow
def test_an_unreadable_state_stops_the_script_in_one_sentence_and_a_kept_teacher_is_trained_again(
    tmp_path, mnist_root, capsys, monkeypatch
):
    out, cache = tmp_path / "results", tmp_path / "cache"
    args = ["--preset", "smoke", "--device", "cpu", "--data-dir", str(mnist_root), "--out", str(out)]
    args += ["--cache-dir", str(cache), "--models", "teacher", "baseline"]
    assert load_script("mnist").main(args) == 0
    (kept,) = cache.glob("teacher-*.pt")
    kept.write_bytes(b"not a training state")  # e.g. a copy cut short: noted, and the teacher trained again
    real_load = store.Slot.load

    def student_state_unreadable(slot, device):
        if slot.path.name.startswith("baseline-"):
            raise store.UnreadableState(f"{slot.path} is not a readable training state; delete it, or add --fresh")
        return real_load(slot, device)

    monkeypatch.setattr(store.Slot, "load", student_state_unreadable)
    with pytest.raises(SystemExit) as stopped:
        load_script("mnist").main(args)
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert f"note: ignoring the kept model {kept}" in captured.out
    (line,) = captured.err.splitlines()
    assert line.startswith("error: ") and "baseline-" in line and "--fresh" in line
    assert [r["model"] for r in read_rows(out / "runs.csv")] == ["teacher", "baseline", "teacher"]


@pytest.mark.slow
def test_ctrl_c_says_where_in_one_line_exits_130_and_leaves_the_state_to_resume_from(tmp_path, mnist_root):
    args = [sys.executable, str(REPO / "replicate" / "mnist.py"), "--preset", "smoke", "--device", "cpu"]
    args += ["--data-dir", str(mnist_root), "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")]
    run = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in run.stdout:  # interrupted once the teacher has finished its first epoch
        if "epoch 1/2" in line:
            run.send_signal(signal.SIGINT)
            break
    stderr = run.communicate(timeout=120)[1]
    assert run.returncode == 130
    (line,) = stderr.strip().splitlines()
    assert line.startswith("interrupted during teacher 1200-1200 seed 0, after epoch 1/2") and "same command" in line
    assert list((tmp_path / "cache").glob("teacher-*.pt"))  # its state, which a rerun resumes (tested above)
