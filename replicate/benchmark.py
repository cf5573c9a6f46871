"""How fast is one epoch, and how far from the hardware's limit? (Not part of the tests.)

For the teacher (784-1200-1200-10: dropout, ±2 px jitter, max-norm) and the distilled student (784-800-800-10,
soft targets at T = 20), epochs of the 60,000 MNIST training images at batch 100 are timed (median of --epochs) in

    ours        distill/core/train.py's loop: every image already a tensor on the device, a batch is a slice of a
                randperm, jitter is one gather
    dataloader  the conventional pipeline doing the same work: torchvision's MNIST with RandomCrop(28, padding=2)
                (the same ±2 px shifts) and ToTensor, a shuffling DataLoader, the same model, optimiser, loss, max-norm

against the GEMM bound: the time the epoch's matrix multiplies alone take (forward, and backward to the weights and
hidden units) at the same shapes and precision. Both pipelines run the same model step (dropout, GEMMs, optimiser,
max-norm), so a leaner step shortens both epochs alike; what the DataLoader adds is per-image work. The *shared-step
ceiling*, (GEMM bound + DataLoader − ours) / GEMM bound, estimates the speed-up ours would have if that step cost
only its GEMMs (counting our slice and gather in the step, and the DataLoader's work as adding to the step's, not
overlapping it: true with 0 workers). --precision fp32 bf16 repeats every timing under bf16 autocast, and trains the
teacher briefly in both precisions to show what bf16 does to its test errors. Rows, with provenance, go to
<out>/benchmark.csv, bf16_accuracy.csv and test_suite.csv; replicate/figures.py shows them in REPRODUCE.md.

    python replicate/benchmark.py --precision fp32 bf16                 # CPU or GPU, whichever --device auto picks
    python replicate/benchmark.py --device cpu --workers 0 2
    KD_PRECISION=fp32 python replicate/benchmark.py --test-suite   # wall time of README's test command
"""

import math
import os
import statistics
import subprocess
import time
import uuid
from pathlib import Path

import torch
from torchvision import datasets, transforms

from distill.core.data import DATA_DIR_ENV, Split, resolve_data_dir
from distill.core.losses import distillation_loss, hard_loss
from distill.core.train import PRECISIONS, count_errors, learning_rate, predict_logits, sgd, sgd_step, train
from distill.lab.cli import ScriptParser, resolve_precisions, run, setup
from distill.lab.hardware import PRECISION_ENV, choose_precision, device_name
from distill.lab.presets import PAPER
from distill.lab.results import REPO_ROOT, append_rows, provenance

MODELS = {"teacher": PAPER.teacher, "student": PAPER.study_start.distilled}
TEST_COMMAND = "ruff check . && ruff format --check . && python -m pytest -q tests"  # as in README and CI


def loss_for(model: str, v: torch.Tensor | None):
    """(logits, labels, indices) -> loss: the teacher's on the labels, the student's §2 loss on v[indices] too."""
    if model == "teacher":
        return lambda z, labels, i: hard_loss(z, labels)
    return lambda z, labels, i: distillation_loss(z, v[i.to(v.device)], labels, PAPER.temperature, PAPER.hard_weight)


def train_ours(model: str, precision: str, split: Split, v: torch.Tensor | None, epochs: int, description: str, seed=0):
    """``model``'s paper recipe, ``epochs`` long, trained on ``split`` by distill/core/train.py: the net and its log."""
    stage = MODELS[model].with_train(precision=precision, epochs=epochs)
    torch.manual_seed(seed)
    net, loss = stage.build().to(split.images.device), loss_for(model, v)
    batch_loss = lambda z, i: loss(z, split.labels[i], i)
    return net, train(net, split.images, batch_loss, stage.train, lambda _: {}, description)[0]


def dataloader(model: str, precision: str, data_dir: Path, device, v: torch.Tensor, workers: int, epochs: int) -> float:
    """Median seconds per epoch of the conventional pipeline, doing what ours does step for step."""
    cfg, loss_fn = MODELS[model].with_train(precision=precision).train, loss_for(model, v)
    augment = [transforms.RandomCrop(28, padding=cfg.jitter)] if cfg.jitter else []
    mnist = datasets.MNIST(str(data_dir), train=True, transform=transforms.Compose([*augment, transforms.ToTensor()]))
    loader = torch.utils.data.DataLoader(
        torch.utils.data.StackDataset(mnist, range(len(mnist))),  # items ((image, label), index): index looks up v
        batch_size=cfg.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        persistent_workers=workers > 0,  # workers started once, not per epoch
    )
    torch.manual_seed(0)
    net = MODELS[model].build().to(device)
    optimizer = sgd(net, cfg)
    for _, ((images, _), _) in zip(range(10), loader):  # untimed steps (workers started, allocator warm), as ours gets
        net(images.to(device)).sum().backward()
    seconds = []
    for epoch in range(epochs):
        started = time.perf_counter()
        for step, ((images, labels), index) in enumerate(loader, start=epoch * len(loader)):
            batch_loss = lambda z: loss_fn(z, labels.to(device, non_blocking=True), index)
            lr = learning_rate(cfg, step, epochs * len(loader))
            loss = sgd_step(net, optimizer, cfg, lr, images.to(device, non_blocking=True), batch_loss)
        loss.item()  # waits for the GPU
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def gemm_bound(
    model: str, precision: str, device: torch.device, n_images: int, repeats: int = 50
) -> tuple[float, float]:
    """(seconds, GFLOP) of the epoch's matrix multiplies alone, timed at the model's shapes."""
    batch, widths = MODELS[model].train.batch_size, (28 * 28, *MODELS[model].hidden, 10)
    tensor = lambda *shape: torch.randn(
        shape, device=device, dtype=torch.bfloat16 if precision == "bf16" else torch.float32
    )
    gemms = []  # (a, b) of each a @ b in a step: per layer the forward, the weight and the input gradient
    for i, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        x, w, grad_out = tensor(batch, n_in), tensor(n_out, n_in), tensor(batch, n_out)
        gemms += [(x, w.t()), (grad_out.t(), x)] + ([(grad_out, w)] if i > 0 else [])  # images need no gradient
    for n in (5, repeats):  # 5 untimed steps first, then the timed ones
        started = time.perf_counter()
        for a, b in gemms * n:
            a @ b
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    steps = n_images // batch
    gflop = sum(2 * a.shape[0] * a.shape[1] * b.shape[1] for a, b in gemms) * steps / 1e9
    return (time.perf_counter() - started) / repeats * steps, gflop


def time_pipelines(
    models: list[str], precisions: list[str], workers: list[int], epochs: int, data, data_dir: Path
) -> list:
    """One row per model, precision and pipeline: its median seconds per epoch, against the best DataLoader's
    and the GEMM bound."""
    device, n_images = data.train.images.device, len(data.train)
    v = torch.randn(n_images, 10, device=device) * 5  # stand-in teacher logits: their values do not change the time
    rows = []
    print(f"Seconds per epoch, median of {epochs}, on {device_name(device)}:")
    for model in models:
        for precision in precisions:
            bound, gflop = gemm_bound(model, precision, device, n_images)
            train_ours(model, precision, data.train.first(1000), v, 1, "warm-up")  # one-off costs (allocator, kernels)
            _, history = train_ours(model, precision, data.train, v, epochs, f"ours {model}")
            timed = {"ours": statistics.median(h["epoch_seconds"] for h in history)}
            for n in workers:
                timed[f"dataloader, {n} workers"] = dataloader(model, precision, data_dir, device, v, n, epochs)
            best_dataloader = min(t for name, t in timed.items() if name != "ours")  # its fastest worker count
            ceiling = (bound + best_dataloader - timed["ours"]) / bound
            for name, seconds in timed.items():
                rows.append(
                    r := {
                        "model": model,
                        "precision": precision,
                        "pipeline": name,
                        "epoch_seconds": round(seconds, 2),
                        "epochs_timed": epochs,
                        "speedup": round(best_dataloader / seconds, 2),
                        "gemm_bound_seconds": round(bound, 2),
                        "times_gemm_bound": round(seconds / bound, 2),
                        "shared_step_ceiling": round(ceiling, 2),
                        "gemm_gflop_per_epoch": round(gflop, 1),
                        "gemm_gflops": round(gflop / bound, 1),
                        "batch_size": MODELS[model].train.batch_size,
                        "threads": torch.get_num_threads(),
                    }
                )
                print(
                    f"{model:<8} {precision}  {name:<22} {seconds:6.2f} s/epoch  {r['speedup']:5.2f}× the best "
                    f"DataLoader  {r['times_gemm_bound']:5.2f}× the GEMM bound ({bound:.2f} s at "
                    f"{gflop / bound:.0f} GFLOP/s)",
                    flush=True,
                )
            print(f"{model:<8} {precision}  shared-step ceiling {ceiling:.2f}× (defined in --help)", flush=True)
    return rows


def short_runs(data, epochs: int, seeds: list[int]) -> list[dict]:
    """The teacher's test errors after ``epochs`` epochs of its paper recipe, for each seed in fp32 and in bf16."""
    rows = []
    for seed in seeds:
        for precision in ("fp32", "bf16"):
            net, _ = train_ours("teacher", precision, data.train, None, epochs, "short run", seed)
            errors = count_errors(predict_logits(net, data.test.images), data.test.labels)
            rows.append(dict(model="teacher", precision=precision, epochs=epochs, seed=seed, test_errors=errors))
    return rows


def print_summary(timings: list[dict], accuracy: list[dict]) -> None:
    """What the per-row lines leave out: our teacher epoch in bf16 against fp32, and the short runs' test errors."""
    ours = {r["precision"]: r["epoch_seconds"] for r in timings if r["model"] == "teacher" and r["pipeline"] == "ours"}
    if {"fp32", "bf16"} <= ours.keys():
        print(f"\nbf16 runs our teacher epoch {ours['fp32'] / ours['bf16']:.2f}× the speed of fp32")
    if accuracy:
        errors = {p: [r["test_errors"] for r in accuracy if r["precision"] == p] for p in ("fp32", "bf16")}
        difference, n = statistics.mean(errors["bf16"]) - statistics.mean(errors["fp32"]), len(errors["fp32"])
        noise = "one seed: no noise estimate"
        if n > 1:  # two standard errors of the difference of the two means, from the seeds' spread
            margin = 2 * math.sqrt(sum(statistics.variance(e) for e in errors.values()) / n)
            noise = f"{'within' if abs(difference) <= margin else 'beyond'} two standard errors, {margin:.1f}"
        print(
            f"Teacher test errors after {accuracy[0]['epochs']} epochs: fp32 {errors['fp32']}, "
            f"bf16 {errors['bf16']}; bf16 − fp32 = {difference:+.1f} on average ({noise})"
        )


def time_test_suite(out: Path) -> int:
    """Run the README's test command from the repository root, and log its wall time and outcome."""
    precision = resolve_precisions(os.environ.get(PRECISION_ENV) or "auto", torch.device("cpu"))  # a bad one: 1 line
    started = time.perf_counter()
    done = subprocess.run(TEST_COMMAND, shell=True, cwd=REPO_ROOT, capture_output=True, text=True)
    minutes = (time.perf_counter() - started) / 60
    summary = (done.stdout.strip().splitlines() or [""])[-1]  # pytest's last line: "N passed in S s"
    data = "MNIST" if os.environ.get(DATA_DIR_ENV) or (REPO_ROOT / "data").is_dir() else "none"
    # provenance's command is this script's own command line: the test command takes its place
    row = {
        "command": TEST_COMMAND,
        "exit_status": done.returncode,
        "summary": summary,
        "wall_minutes": round(minutes, 2),
        "precision": precision,
        "wait_policy": os.environ.get("OMP_WAIT_POLICY") or "OpenMP's default",
        "data": data,
        **provenance(torch.device("cpu")) | {"command": TEST_COMMAND},
    }
    append_rows(out / "test_suite.csv", [row])
    print(f"{TEST_COMMAND}\n  {summary}, exit status {done.returncode}: {minutes:.1f} min on {row['device']}")
    return done.returncode


def main(argv=None) -> int:
    parser = ScriptParser(__doc__, __file__)
    add = parser.add_argument
    add("--device", choices=["auto", "cpu", "cuda"], default="auto", help="(default: auto)")
    add("--data-dir", help=f"folder holding MNIST/raw/ (default: ${DATA_DIR_ENV} or ./data)")
    add(
        "--precision",
        nargs="+",
        choices=PRECISIONS,
        default=["fp32"],
        help="number formats of the forward pass "
        "to time; with both, the teacher's test errors are compared too (default: fp32)",
    )
    add("--workers", type=int, nargs="+", default=[0, 2], help="worker counts to try (default: 0 2)")
    add("--epochs", type=int, default=3, help="epochs timed per pipeline, median reported (default: 3)")
    add("--models", nargs="+", choices=list(MODELS), default=list(MODELS), help="(default: both)")
    add("--accuracy-epochs", type=int, default=3, help="fp32-vs-bf16 teacher run length (default: 3)")
    add("--accuracy-seeds", type=int, nargs="+", default=[0, 1, 2], help="its seeds (default: 0 1 2)")
    add(
        "--out",
        default="runs/benchmark",
        help="folder of the CSVs (default: runs/benchmark; results/benchmark holds ours)",
    )
    add(
        "--test-suite",
        action="store_true",
        help="instead: time the README's test command in this environment "
        "(KD_PRECISION, KD_DATA_DIR), and log it to <out>/test_suite.csv",
    )
    args = parser.parse_args(argv)
    if args.test_suite:
        return time_test_suite(Path(args.out))
    if min(args.workers) < 0:
        parser.error("--workers must be >= 0")
    if min(args.epochs, args.accuracy_epochs) < 1:
        parser.error("--epochs and --accuracy-epochs must be >= 1")
    data = setup(args)
    device, run_id = data.train.images.device, uuid.uuid4().hex[:12]
    both = set(args.precision) == {"fp32", "bf16"}
    if "bf16" in args.precision:  # timed whatever the hardware; says whether bf16 is native here, or will be slow
        print(choose_precision("bf16", device)[1])

    def log(name: str, rows: list[dict]) -> None:  # the run's id and command first, the rest of provenance last
        p = provenance(device)
        append_rows(Path(args.out) / name, [{"benchmark_id": run_id, "command": p["command"], **r, **p} for r in rows])

    timings = time_pipelines(
        args.models, args.precision, args.workers, args.epochs, data, resolve_data_dir(args.data_dir)
    )
    log("benchmark.csv", timings)
    accuracy = short_runs(data, args.accuracy_epochs, args.accuracy_seeds) if both else []
    log("bf16_accuracy.csv", accuracy)
    print_summary(timings, accuracy)
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
