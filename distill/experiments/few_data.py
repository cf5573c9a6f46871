"""§5 (Table 5) on MNIST: soft targets let a net learn from 3 % of the training set.

In the paper, a speech model trained on 3 % of the data with hard targets reached 44.5 % test frame accuracy and
needed early stopping; with the full-data model's soft targets on the same 3 % it reached 57.0 % without it; all
the data with hard targets gave 58.9 %. Here: a class-balanced 3 % of MNIST's training images (180 per class,
drawn by the seed), on which the 800-800 student learns the labels alone, or the full-data teacher's soft
targets at T with §3's small hard weight; for reference, the student alone on all the images. Each gets as many
SGD steps as the preset's ``study_start.alone`` and none is stopped early: train and test errors are logged every
epoch, and the best epoch is reported, never used to choose a model.
"""

from functools import partial

import pandas as pd
import torch

from distill.lab.experiment import Experiment
from distill.lab.presets import MnistPreset
from distill.lab.run import Run
from distill.reporting.plots import BLUE, GREY, ORANGE, plt
from distill.reporting.tables import (
    Results,
    devices_of,
    kept_share,
    mean_sd,
    percentages,
    preset_note,
    share_sentence,
    with_interval,
)

SHARE = 0.03
PUBLISHED_ACCURACY = {"hard, 3 %": 44.5, "soft, 3 %": 57.0, "hard, 100 %": 58.9}  # Table 5, test frame accuracy (%)
PUBLISHED_RECOVERED = kept_share(*(PUBLISHED_ACCURACY[k] for k in ("hard, 3 %", "hard, 100 %", "soft, 3 %")))  # 87 %


def balanced_subset(labels: torch.Tensor, share: float, seed: int) -> torch.Tensor:
    """Sorted indices of ``share`` of the images, the same number from each class, drawn by ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    labels = labels.cpu()
    per_class = round(share * len(labels) / int(labels.max() + 1))
    picked = [
        (labels == c).nonzero().flatten()[torch.randperm(int((labels == c).sum()), generator=generator)[:per_class]]
        for c in labels.unique()
    ]
    return torch.cat(picked).sort().values


FULL_DATA = {"data_share": "100%"}


def teach_from_full_data_net(run: Run, preset: MnistPreset) -> None:
    """The paper's source of soft targets: a net of the student's kind trained on all the images (labels alone),
    kept like a teacher; its row is the "hard, 100 %" cell."""
    run.use_teacher(preset.study_start.alone, FULL_DATA, model_name="baseline")


def run_seed(run: Run, preset: MnistPreset, source_alone: bool = False) -> None:
    """The student on 3 %: hard, then soft; then on 100 %, hard, unless ``source_alone``: the soft targets come from
    that very net, trained alone. Its targets are sharp: the soft student then learns at the preset's
    ``sharp_targets_lr`` (at lr 0.1 its loss became nan), and a diverged student is logged as a result."""
    alone, distilled, temperature = preset.study_start.alone, preset.study_start.distilled, preset.temperature
    index = balanced_subset(run.train_split.labels, SHARE, run.seed).to(run.train_split.labels.device)
    few, v = run.train_split.subset(index), run.teacher_logits[0][index]
    batch_size = min(alone.train.batch_size, len(few))  # the smoke preset's 3 % is smaller than a batch
    steps = alone.train.epochs * (len(run.train_split) // alone.train.batch_size)
    budget = {"epochs": max(1, round(steps / (len(few) // batch_size))), "batch_size": batch_size}
    on_few = {"columns": {"data_share": f"{100 * SHARE:g}%"}, "transfer": (few, v), "log_train_errors": True}
    run.fit("baseline", alone.with_train(**budget), run.label_loss(few), kl_temperature=temperature, **on_few)
    soft = distilled.with_train(**budget, **({"lr": preset.sharp_targets_lr} if source_alone else {}))
    run.distill(soft, temperature, preset.hard_weight, log_divergence=source_alone, **on_few)
    if not source_alone:
        run.fit("baseline", alone, run.label_loss(), FULL_DATA, kl_temperature=temperature)


def cells(results: Results, preset: str, name: str = "fewdata") -> dict[str, pd.DataFrame]:
    """§5's three students: hard targets on 3 % of the images, soft targets on them, hard targets on all."""
    rows = results.rows(name, preset)
    share = rows.data_share if "data_share" in rows else pd.Series("", index=rows.index)
    return {
        "hard, 3 %": rows[(rows.model == "baseline") & (share == "3%")],
        "soft, 3 %": rows[rows.model == "distilled"],
        "hard, 100 %": rows[(rows.model == "baseline") & (share == "100%")],
    }


def recovered(cells: dict[str, pd.DataFrame]) -> pd.Series:
    """Per seed, the share of the gap between 3 % and 100 % of the data (hard targets) that soft targets recover."""
    errors = {name: cell.set_index("seed").test_errors for name, cell in cells.items()}
    return pd.Series(kept_share(errors["hard, 3 %"], errors["hard, 100 %"], errors["soft, 3 %"])).dropna()


SOURCES = {"fewdata": "the §3 teacher", "fewdata_source": "the full-data 800-800 net"}  # the paper's: the latter


def table(results: Results, preset: str, name: str = "fewdata") -> str:
    """Table 5: the student on 3 % of the images with hard or soft targets, and on all of them; final and best."""
    rows = results.rows(name, preset)
    if rows.empty:
        return "Learning from 3 % of the data: not run.\n"
    lines = [
        f"`{preset}` preset; {devices_of(rows)}; soft targets from {SOURCES[name]}. Published: Table 5, speech test "
        "frame accuracy (%); measured: MNIST test errors after the last epoch, and at the best epoch (reported, not "
        "chosen).\n",
        "| student | published | measured, last epoch | best epoch's | best epoch | epochs |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    of_preset = cells(results, preset, name)
    for cell_name, cell in of_preset.items():
        best = mean_sd(cell.best_test_errors) if "best_test_errors" in cell else "—"
        epoch = mean_sd(cell.best_epoch, 0) if "best_epoch" in cell else "—"
        measured = mean_sd(cell.test_errors)
        epochs = ", ".join(map(str, sorted(set(cell.epochs)))) if len(cell) else ""
        lines.append(f"| {cell_name} | {PUBLISHED_ACCURACY[cell_name]} | {measured} | {best} | {epoch} | {epochs} |")
    what = "Share of the 3 % → 100 % gap (hard targets) that soft targets on 3 % recover"
    lines.append(share_sentence(what, PUBLISHED_RECOVERED, recovered(of_preset)))
    hard = of_preset["hard, 3 %"]
    if len(hard) and "best_epoch" in hard:
        lost = hard.test_errors - hard.best_test_errors
        lines.append(
            f"Overfitting (the paper's hard-target net on 3 % needed early stopping): the student alone on 3 % was "
            f"best at epoch {', '.join(f'{e:.0f}' for e in hard.best_epoch)} of {hard.epochs.iloc[0]} (per seed); "
            f"stopping there would have saved {mean_sd(lost.astype(float))} errors, "
            + (
                "within the seed spread of its final errors: on MNIST, 3 % of the images do not show the paper's "
                "overfitting effect.\n"
                if lost.mean() <= hard.test_errors.std()
                else "beyond the seed spread of its final errors: an overfitting effect, as in the paper.\n"
            )
        )
    return "\n".join(lines) + "\n"


def glance(results: Results, preset: str, name: str = "fewdata") -> list[tuple[str, str, str]]:
    shares = recovered(cells(results, preset, name))
    mean = f" (mean {with_interval(100 * shares, 0, sign='', unit=' %')})" if len(shares) > 1 else ""
    measured = f"{percentages(shares)}{mean}{preset_note(preset)}" if len(shares) else "not run"
    claim = f"§5 soft targets on 3 % of the data, from {SOURCES[name]}: share of the gap recovered"
    return [(claim, f"{100 * PUBLISHED_RECOVERED:.0f} %", measured)]


def plot(results: Results, preset: str, name: str = "fewdata") -> plt.Figure | str:
    """Test errors per epoch of the students on 3 % of the images (left, the student alone on all of them for
    reference) and their errors on their own training images (right)."""
    all_rows = results.rows(name, preset)
    rows = all_rows[all_rows.get("data_share", pd.Series(dtype=str)) == "3%"] if len(all_rows) else all_rows
    epochs = results.epochs
    if rows.empty or epochs is None or "train_errors" not in epochs:
        return f"no run of --experiment {name} logged"
    fig, (test, train) = plt.subplots(1, 2, figsize=(9, 3.4))
    for (model, color), label in zip((("baseline", ORANGE), ("distilled", BLUE)), ("hard targets", "soft targets")):
        for i, run in enumerate(rows[rows.model == model].itertuples()):
            curve = epochs[epochs.run_id == run.run_id]
            test.plot(curve.epoch, curve.test_errors, color=color, lw=1, label=label if i == 0 else None)
            train.plot(curve.epoch, curve.train_errors, color=color, lw=1, label=label if i == 0 else None)
    full = all_rows[(all_rows.model == "baseline") & (all_rows.get("data_share") == "100%")].test_errors
    if len(full):
        test.axhline(full.mean(), color=GREY, ls=":", lw=1, label="hard targets, 100 % of the images (mean)")
    test.set(xlabel="epoch (log scale)", ylabel="test errors (of 10,000; log scale)", xscale="log", yscale="log")
    test.set_title("test images")
    images = int(rows.train_size.iloc[0])
    train.set(xlabel="epoch (log scale)", ylabel=f"errors on its {images} training images", xscale="log")
    train.set_title("its training images")
    test.legend(fontsize=7)
    fig.suptitle(f"The student on 3 % of MNIST, soft targets from {SOURCES[name]}; no early stopping", fontsize=9)
    return fig


def experiment(name: str, title: str, figure: str, **declared) -> Experiment:
    return Experiment(
        name=name,
        title=title,
        table=partial(table, name=name),
        glance=partial(glance, name=name),
        figures={figure: partial(plot, name=name)},
        **declared,
    )


EXPERIMENT = experiment(
    "fewdata", "§5, Table 5 on MNIST: soft targets from 3 % of the data", "mnist_few_data.png", run_seed=run_seed
)
SOURCE_EXPERIMENT = experiment(
    "fewdata_source",
    "§5, Table 5 on MNIST: soft targets from 3 % of the data, from the full-data net as in the paper",
    "mnist_few_data_source.png",
    run_seed=partial(run_seed, source_alone=True),
    teach=teach_from_full_data_net,
)
