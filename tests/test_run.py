"""What a Run promises the science: the students differ only in their targets, and v is the teacher's clean output."""

import torch

from distill.core.data import Split, Splits
from distill.core.train import TrainConfig
from distill.lab import run as run_module
from distill.lab.presets import Stage
from distill.lab.run import Run

TINY = TrainConfig(epochs=1, batch_size=50, lr=0.05, max_norm=3.5, jitter=2)


def tiny_run(tmp_path) -> Run:
    generator = torch.Generator().manual_seed(0)
    train = Split(torch.rand(200, 28, 28, generator=generator), torch.randint(0, 10, (200,), generator=generator))
    test = Split(torch.rand(100, 28, 28, generator=generator), torch.randint(0, 10, (100,), generator=generator))
    return Run("tiny", 0, Splits(train, test, "test"), tmp_path)


def test_the_teachers_v_is_computed_in_eval_mode_on_unjittered_images(tmp_path):
    run = tiny_run(tmp_path)
    teacher_stage = Stage(hidden=(32, 32), input_dropout=0.2, hidden_dropout=0.5, train=TINY)
    teacher = run.use_teacher(teacher_stage)
    v_train, v_test = run.teacher_logits
    teacher.eval()
    with torch.no_grad():
        torch.testing.assert_close(v_train, teacher(run.train_split.images), rtol=0, atol=0)
        torch.testing.assert_close(v_test, teacher(run.eval_split.images), rtol=0, atol=0)
        teacher.train()  # with dropout on, the outputs would differ: the check above could fail
        assert not torch.equal(v_train, teacher(run.train_split.images))


def test_the_baseline_and_the_distilled_student_start_from_the_same_weights(tmp_path, monkeypatch):
    run = tiny_run(tmp_path)
    run.use_teacher(Stage(hidden=(32,), train=TINY))
    initial = {}
    real_train = run_module.train

    def recording_train(model, images, loss_fn, cfg, evaluate, description, *args):
        initial[description.split()[0]] = {k: t.clone() for k, t in model.state_dict().items()}
        return real_train(model, images, loss_fn, cfg, evaluate, description, *args)

    monkeypatch.setattr(run_module, "train", recording_train)
    student = Stage(hidden=(16, 16), train=TINY)
    torch.manual_seed(123)  # whatever the global state, each stage reseeds
    run.fit("baseline", student, run.label_loss(), kl_temperature=20.0)
    torch.rand(1000)  # and whatever was drawn in between
    run.distill(student, temperature=20.0, hard_weight=0.1)
    assert initial["baseline"].keys() == initial["distilled"].keys()
    for name, weights in initial["baseline"].items():
        assert torch.equal(weights, initial["distilled"][name]), name


def test_every_row_logs_the_cross_entropy_of_the_evaluated_labels(tmp_path):
    run = tiny_run(tmp_path)
    student = run.fit("baseline", Stage(hidden=(16,), train=TINY), run.label_loss())
    expected = torch.nn.functional.cross_entropy(student.eval()(run.eval_split.images), run.eval_split.labels)
    assert run.rows[-1]["test_nll"] == round(expected.item(), 5)
