"""How fast is one epoch, and how far from the hardware's limit? (Not part of the tests.)

For the teacher (784-1200-1200-10: dropout, ±2 px jitter, max-norm) and the
distilled student (784-800-800-10, soft targets at T = 20), epochs of the
60,000 MNIST training images at batch 100 are timed (median of --epochs) with

    ours        the training loop of distill/train.py: every image already a tensor
                on the device, a batch is a slice of a randperm, jitter is one gather
    dataloader  the conventional pipeline doing the same work: torchvision's MNIST with
                transforms.RandomCrop(28, padding=2) (the same ±2 px shifts) and ToTensor,
                a shuffling DataLoader, and the same model, optimiser, loss and max-norm

and compared with the matrix-multiply bound: the time the epoch's GEMMs alone
take (forward, and backward to the weights and hidden units), measured at the
same shapes and precision. Both pipelines run the same model step (dropout,
GEMMs, optimiser, max-norm), so a leaner step shortens the DataLoader's epoch as
much as ours; what the DataLoader adds is per-image work. The *shared-step
ceiling*, (GEMM bound + DataLoader − ours) / GEMM bound, estimates the speed-up
ours would have if that shared step cost only its GEMMs (it counts our own small
data work, a slice and a gather, as part of the step, and assumes the DataLoader's
work adds to the step's rather than overlapping it, true with 0 workers).
With --bf16 every timing is repeated under bf16 autocast, and the teacher is
trained for a short, fixed run in both precisions to show what bf16 does to its
test errors.

    python replicate/benchmark.py --bf16                   # CPU or GPU, whichever --device auto picks
    python replicate/benchmark.py --device cpu --workers 0 2
    KD_PRECISION=fp32 python replicate/benchmark.py --test-suite   # wall time of README's test command

Rows (with provenance) go to <out>/benchmark.csv; replicate/figures.py shows
them in REPRODUCE.md.
"""

import dataclasses
import math
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import torch

from distill.cli import ScriptParser, setup
from distill.data import DATA_DIR_ENV, resolve_data_dir
from distill.hardware import PRECISION_ENV, choose_precision, device_name
from distill.losses import distillation_loss, hard_loss
from distill.models import apply_max_norm
from distill.presets import PAPER
from distill.results import REPO_ROOT, append_rows, provenance
from distill.train import count_errors, learning_rate, predict_logits, train

MODELS = {"teacher": PAPER.teacher, "student": PAPER.distilled}


def stage_for(model: str, bf16: bool, epochs: int = 1):
    stage = MODELS[model]
    return stage.with_train(bf16=bf16, epochs=epochs)


def loss_for(model: str, labels: torch.Tensor, v: torch.Tensor):
    """(logits, indices) -> loss: the teacher's on labels, the student's §2 loss on soft targets."""
    if model == "teacher":
        return lambda z, i: hard_loss(z, labels[i])
    return lambda z, i: distillation_loss(z, v[i], labels[i], PAPER.temperature, PAPER.hard_weight)


def ours(model: str, bf16: bool, data, v: torch.Tensor, epochs: int) -> float:
    """Median seconds per epoch of distill/train.py over ``epochs`` epochs (evaluation excluded)."""
    stage = stage_for(model, bf16, epochs)
    torch.manual_seed(0)
    net = stage.build().to(data.train.images.device)
    loss = loss_for(model, data.train.labels, v)
    warm_up(net, data.train.images[:1000], loss, stage)
    history, _ = train(net, data.train.images, loss, stage.train, lambda m: {}, f"ours {model}")
    return statistics.median(h["epoch_seconds"] for h in history)


def warm_up(net, images, loss, stage) -> None:
    """A few steps first, so that one-off costs (allocator, kernel selection) are not timed."""
    short = dataclasses.replace(stage.train, epochs=1, warmup=0.5)
    train(net, images, loss, short, lambda m: {}, "warm-up")


class Indexed(torch.utils.data.Dataset):
    """A torchvision data set whose items also carry their index, to look up the teacher's logits."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        image, label = self.dataset[index]
        return image, label, index


def dataloader(
    model: str, bf16: bool, data_dir: Path, device: torch.device, v: torch.Tensor, workers: int, epochs: int
) -> float:
    """Median seconds per epoch of the conventional pipeline, doing what ours does step for step."""
    from torchvision import datasets, transforms

    stage = stage_for(model, bf16)
    cfg = stage.train
    augment = [transforms.RandomCrop(28, padding=cfg.jitter)] if cfg.jitter else []
    dataset = datasets.MNIST(str(data_dir), train=True, transform=transforms.Compose([*augment, transforms.ToTensor()]))
    loader = torch.utils.data.DataLoader(
        Indexed(dataset),
        batch_size=cfg.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        persistent_workers=workers > 0,  # started once, not once per epoch
    )
    torch.manual_seed(0)
    net = stage.build().to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov, fused=True)
    total_steps = epochs * len(loader)
    step, seconds = 0, []
    for _ in range(epochs):
        if step == 0:  # a few untimed steps first (workers started, allocator warm), as ours gets
            for _, (images, _labels, _index) in zip(range(10), loader):
                net(images.to(device)).sum().backward()
            optimizer.zero_grad(set_to_none=True)
        started = time.perf_counter()
        for images, labels, index in loader:
            images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(cfg, step, total_steps)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                logits = net(images)
            if model == "teacher":
                loss = hard_loss(logits, labels)
            else:
                loss = distillation_loss(logits, v[index.to(device)], labels, PAPER.temperature, PAPER.hard_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if cfg.max_norm is not None:
                apply_max_norm(net, cfg.max_norm)
            step += 1
        loss.item()  # waits for the GPU
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def gemm_bound(model: str, bf16: bool, device: torch.device, n_images: int, repeats: int = 50) -> tuple[float, float]:
    """(seconds, GFLOP) of the epoch's matrix multiplies alone, timed at the model's shapes.

    Per Linear layer of n_in → n_out and a batch of B: forward B·n_in·n_out
    multiply-adds, the weight gradient as many, and the input gradient as many
    again, except for the first layer (the images need no gradient).
    """
    cfg = MODELS[model].train
    dtype = torch.bfloat16 if bf16 else torch.float32
    widths = (28 * 28, *MODELS[model].hidden, 10)
    batch = cfg.batch_size
    layers = [(torch.randn(batch, n_in, device=device, dtype=dtype), torch.randn(n_out, n_in, device=device,
              dtype=dtype), torch.randn(batch, n_out, device=device, dtype=dtype))
              for n_in, n_out in zip(widths[:-1], widths[1:])]  # fmt: skip

    def one_step():
        for i, (x, w, grad_out) in enumerate(layers):
            torch.nn.functional.linear(x, w)  # forward
            grad_out.t() @ x  # weight gradient
            if i > 0:
                grad_out @ w  # input gradient

    for _ in range(5):
        one_step()
    synchronize(device)
    started = time.perf_counter()
    for _ in range(repeats):
        one_step()
    synchronize(device)
    steps = n_images // batch
    seconds = (time.perf_counter() - started) / repeats * steps
    flop = sum(
        2 * batch * n_in * n_out * (3 if i > 0 else 2) for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:]))
    )
    return seconds, flop * steps / 1e9


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def short_run_errors(bf16: bool, data, epochs: int, seed: int) -> int:
    """Test errors of the teacher after ``epochs`` epochs (its paper-preset recipe, shortened)."""
    stage = stage_for("teacher", bf16, epochs)
    torch.manual_seed(seed)
    net = stage.build().to(data.train.images.device)
    train(net, data.train.images, loss_for("teacher", data.train.labels, None), stage.train, lambda m: {}, "short run")
    return count_errors(predict_logits(net, data.test.images), data.test.labels)


def main(argv=None) -> int:
    parser = ScriptParser(__doc__)
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="(default: auto)")
    parser.add_argument(
        "--data-dir", default=None, help=f"folder holding MNIST/raw/ (default: ${DATA_DIR_ENV} or ./data)"
    )
    parser.add_argument("--bf16", action="store_true", help="also time bf16 autocast, and compare its accuracy")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[0, 2], help="DataLoader worker counts to try (default: 0 2)"
    )
    parser.add_argument(
        "--epochs", type=int, default=3, help="epochs timed per pipeline; the median is reported (default: 3)"
    )
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS), help="(default: both)")
    parser.add_argument(
        "--accuracy-epochs", type=int, default=3, help="length of the fp32-vs-bf16 teacher run (default: 3)"
    )
    parser.add_argument("--accuracy-seeds", type=int, nargs="+", default=[0, 1, 2], help="its seeds (default: 0 1 2)")
    parser.add_argument(
        "--out", default="results/benchmark", help="folder of benchmark.csv (default: results/benchmark)"
    )
    parser.add_argument(
        "--test-suite",
        action="store_true",
        help="instead: time the README's test command, with this environment (KD_PRECISION, KD_DATA_DIR), "
        "and log it to <out>/test_suite.csv",
    )
    args = parser.parse_args(argv)
    if args.test_suite:
        return time_test_suite(Path(args.out))
    if min(args.workers) < 0:
        parser.error("--workers must be >= 0")
    if args.epochs < 1 or args.accuracy_epochs < 1:
        parser.error("--epochs and --accuracy-epochs must be >= 1")
    data = setup(args)
    device = data.train.images.device
    if args.bf16:  # timed whatever the hardware; says whether bf16 is native here, or will be slow
        print(choose_precision("bf16", device)[1])
    data_dir = resolve_data_dir(args.data_dir)
    command = " ".join(["python replicate/benchmark.py", *(sys.argv[1:] if argv is None else argv)])
    identity = {"benchmark_id": uuid.uuid4().hex[:12], "command": command}
    timings = time_pipelines(args.models, args.bf16, args.workers, args.epochs, data, data_dir)
    append_rows(Path(args.out) / "benchmark.csv", [{**identity, **r, **provenance(device)} for r in timings])
    accuracy = []
    if args.bf16:
        accuracy = [
            {"model": "teacher", "precision": "bf16" if bf16 else "fp32", "epochs": args.accuracy_epochs,
             "seed": seed, "test_errors": short_run_errors(bf16, data, args.accuracy_epochs, seed)}
            for seed in args.accuracy_seeds for bf16 in (False, True)
        ]  # fmt: skip
        rows = [{**identity, **r, **provenance(device)} for r in accuracy]
        append_rows(Path(args.out) / "bf16_accuracy.csv", rows)
    print_summary(timings, accuracy, device)
    return 0


TEST_COMMAND = "ruff check . && ruff format --check . && python -m pytest -q tests"  # as in README and CI


def time_test_suite(out: Path) -> int:
    """Run the README's test command from the repository root, and log its wall time and outcome."""
    started = time.perf_counter()
    done = subprocess.run(TEST_COMMAND, shell=True, cwd=REPO_ROOT, capture_output=True, text=True)
    minutes = (time.perf_counter() - started) / 60
    summary = (done.stdout.strip().splitlines() or [""])[-1]  # pytest's last line: "97 passed in 312.0s"
    cpu = torch.device("cpu")
    row = {
        "command": TEST_COMMAND, "exit_status": done.returncode, "summary": summary, "wall_minutes": round(minutes, 2),
        "precision": choose_precision(os.environ.get(PRECISION_ENV) or "auto", cpu)[0],
        "data": "MNIST" if os.environ.get(DATA_DIR_ENV) or (REPO_ROOT / "data").is_dir() else "none",
        **provenance(cpu),
    }  # fmt: skip
    append_rows(out / "test_suite.csv", [row])
    print(f"{TEST_COMMAND}\n  {summary}, exit status {done.returncode}: {minutes:.1f} min on {row['device']}")
    return done.returncode


def time_pipelines(
    models: list[str], bf16_too: bool, workers: list[int], epochs: int, data, data_dir: Path
) -> list[dict]:
    """One row per (model, precision, pipeline): seconds per epoch (the median of ``epochs``), next to the
    best DataLoader and the GEMM bound."""
    device, n_images = data.train.images.device, len(data.train)
    v = torch.randn(n_images, 10, device=device) * 5  # stand-in teacher logits: their values do not change the time
    rows = []
    for model in models:
        for bf16 in (False, True) if bf16_too else (False,):
            bound, gflop = gemm_bound(model, bf16, device, n_images)
            timed = {"ours": ours(model, bf16, data, v, epochs)}
            for n in workers:
                timed[f"dataloader, {n} workers"] = dataloader(model, bf16, data_dir, device, v, n, epochs)
            best_dataloader = min(t for name, t in timed.items() if name != "ours")  # its fastest worker count
            for name, seconds in timed.items():
                rows.append({
                    "model": model, "precision": "bf16" if bf16 else "fp32", "pipeline": name,
                    "epoch_seconds": round(seconds, 2), "epochs_timed": epochs,
                    "speedup": round(best_dataloader / seconds, 2),
                    "gemm_bound_seconds": round(bound, 2), "times_gemm_bound": round(seconds / bound, 2),
                    # both pipelines run the same model step, and a leaner step speeds the DataLoader's epoch
                    # as much as ours: ours can gain about (GEMMs + the DataLoader's extra work) / GEMMs at most
                    "shared_step_ceiling": round((bound + best_dataloader - timed["ours"]) / bound, 2),
                    "gemm_gflop_per_epoch": round(gflop, 1), "gemm_gflops": round(gflop / bound, 1),
                    "batch_size": MODELS[model].train.batch_size, "threads": torch.get_num_threads(),
                })  # fmt: skip
                r = rows[-1]
                print(
                    f"{model:<8} {r['precision']}  {name:<22} {seconds:6.2f} s/epoch  "
                    f"{r['speedup']:5.2f}× the best DataLoader  "
                    f"{r['times_gemm_bound']:5.2f}× the GEMM bound ({bound:.2f} s at {gflop / bound:.0f} GFLOP/s)",
                    flush=True,
                )
    return rows


def print_summary(timings: list[dict], accuracy: list[dict], device: torch.device) -> None:
    """The teacher epoch's ratios: to the best DataLoader, to the GEMM bound, bf16 to fp32; short-run test errors."""
    ours = {r["precision"]: r for r in timings if r["model"] == "teacher" and r["pipeline"] == "ours"}
    if not ours:
        return
    print(f"\nTeacher epoch, {device_name(device)}:")
    for precision, r in ours.items():
        print(
            f"  {precision}: {r['epoch_seconds']:.2f} s, {r['speedup']:.2f}× the best DataLoader, "
            f"{r['times_gemm_bound']:.2f}× its GEMM bound; {r['shared_step_ceiling']:.2f}× the DataLoader if the "
            "model step both share were its bare GEMMs"
        )
    if {"fp32", "bf16"} <= ours.keys():
        print(f"  bf16 runs {ours['fp32']['epoch_seconds'] / ours['bf16']['epoch_seconds']:.2f}× the speed of fp32")
    if accuracy:
        errors = {p: [r["test_errors"] for r in accuracy if r["precision"] == p] for p in ("fp32", "bf16")}
        difference = statistics.mean(errors["bf16"]) - statistics.mean(errors["fp32"])
        n = len(errors["fp32"])
        if n > 1:  # the standard error of the difference of the two means, from the seeds' spread
            margin = 2 * math.sqrt(sum(statistics.variance(e) for e in errors.values()) / n)
            noise = f"{'within' if abs(difference) <= margin else 'beyond'} two standard errors, {margin:.1f}"
        else:
            noise = "one seed: no noise estimate"
        print(
            f"  test errors after {accuracy[0]['epochs']} epochs: fp32 {errors['fp32']}, bf16 {errors['bf16']}; "
            f"bf16 − fp32 = {difference:+.1f} on average ({noise})"
        )


if __name__ == "__main__":
    sys.exit(main())
