"""§3 of the paper on MNIST: teacher, student alone, and the student distilled at T = 20.

For each seed: train the teacher (dropout, max-norm, jitter) → compute its logits v on the un-jittered
training images once, in eval mode → train the student on the labels alone (baseline) → train the same
student, from the same initial weights and on the same batches, on T²·CE(p, q) + w·CE(labels) (distilled).
Each model appends one row to runs.csv and its learning curve to epochs.csv as soon as it has finished.
"""

from distill.data import Dataset, Split
from distill.presets import MnistPreset
from distill.run import Run

PUBLISHED_TEST_ERRORS = {"teacher": 67, "baseline": 146, "distilled": 74}  # §3


def split_for_run(data: Dataset, preset: MnistPreset, validation: int) -> tuple[Split, Split, str]:
    """The training images and the split that is evaluated: the test set, or the last
    ``validation`` training images (held out, for tuning without looking at test)."""
    train_split = data.train.first(preset.train_subset)
    if validation:
        n = len(train_split) - validation
        return train_split.subset(slice(0, n)), train_split.subset(slice(n, None)), "val"
    return train_split, data.test, "test"


def run_main(run: Run, preset: MnistPreset, models: tuple[str, ...]) -> list[dict]:
    """The students of ``models`` for one seed, after its teacher (``run.use_teacher``); return all the run's rows."""
    if "baseline" in models:
        baseline = preset.headline_baseline or preset.baseline
        run.fit("baseline", baseline, run.label_loss(), kl_temperature=preset.temperature)
    if "distilled" in models:
        run.distill(preset.headline_distilled or preset.distilled, preset.temperature, preset.hard_weight)
    return run.rows
