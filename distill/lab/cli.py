"""Command-line flags shared by the replicate/ scripts, and the device and data set-up behind them."""

import argparse
import ctypes
import os
import sys
import time
from pathlib import Path

import torch

from distill.core.data import DATA_DIR_ENV, DEFAULT_DATA_DIR, Dataset, DataUnavailable, existing_data_dir, load_mnist
from distill.core.train import Progress, TrainingDiverged
from distill.lab.hardware import PRECISION_CHOICES, PRECISION_ENV, choose_precision, device_name
from distill.lab.results import git_commit, log_wall_time, record_invocation
from distill.lab.store import Store, UnreadableState


class ScriptParser(argparse.ArgumentParser):
    """argparse's parser with the script's docstring as help, and mistakes reported in one line (argparse's
    usage text before the error is a dozen lines that bury the one that matters; --help still shows it)."""

    def __init__(self, description: str, script: str):
        super().__init__(
            description=description, prog=Path(script).name, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        self.script = script

    def parse_args(self, args=None, namespace=None):
        """Parse, and record the invocation for the rows' provenance (results.command_line)."""
        parsed = super().parse_args(args, namespace)
        record_invocation(self.script, sys.argv[1:] if args is None else list(args))
        return parsed

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n(run with --help for the options)\n")


class _SingleSeed(argparse.Action):
    def __call__(self, parser, namespace, value, option_string=None):
        setattr(namespace, self.dest, [value])


def add_common_arguments(
    parser: argparse.ArgumentParser,
    presets: dict,
    default_out: str,
    resumable: bool = True,
    sweep: bool = False,
    preset_help: str = "paper: the recipe meant to reach the published numbers; quick: the effect in minutes",
) -> None:
    """The flags every script shares; ``sweep``: --precision takes several values (a tuning axis)."""
    default_precision = os.environ.get(PRECISION_ENV) or "auto"
    add = parser.add_argument
    add(
        "--preset",
        choices=list(presets),
        default="paper",
        help=f"{preset_help}; smoke: seconds, for tests (default: paper)",
    )
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds to run, one after another (default: 0)")
    seeds.add_argument("--seed", type=int, dest="seeds", action=_SingleSeed, help="a single seed (same as --seeds N)")
    add(
        "--device",
        choices=["auto", "cpu", "cuda"],
        default="auto",
        help="where to train; auto picks cuda when available (default: auto)",
    )
    add(
        "--data-dir",
        help="folder holding MNIST/raw/ or cifar-10-batches-py/ (downloaded there if missing); "
        f"default: ${DATA_DIR_ENV} if set, else {DEFAULT_DATA_DIR}",
    )
    add(
        "--out",
        default=default_out,
        help=f"folder the CSV logs are appended to (default: {default_out}, which git "
        "ignores; the committed results are written only when asked, e.g. --out results/mnist)",
    )
    add(
        "--precision",
        choices=PRECISION_CHOICES,
        nargs="+" if sweep else None,
        default=[default_precision] if sweep else default_precision,
        help=("one run per value given; " if sweep else "")
        + "number format of the forward pass; auto: bf16 where the hardware multiplies it natively (a GPU of "
        f"compute capability 8.0+, a CPU with AMX or AVX512-BF16), fp32 elsewhere (default: ${PRECISION_ENV} "
        "if set, else auto)",
    )
    add("--cache-dir", help="where trained teachers and ensemble members are saved and reused (default: <out>/cache)")
    if resumable:
        add(
            "--fresh",
            action="store_true",
            help="train every model from its first epoch, ignoring (and "
            "overwriting) the checkpoints that an interrupted run left in <out>/checkpoints/ (default: resume "
            "from them); a kept teacher is still loaded (--retrain-teacher retrains it)",
        )
        add(
            "--retrain-teacher",
            action="store_true",
            help="train a new teacher (and ensemble members) even if identical ones are kept in --cache-dir",
        )


def setup(args: argparse.Namespace, load=load_mnist) -> Dataset:
    """Pick the device and the precision, check the output folders, and ``load`` the data set onto the device.
    ``args.precision`` is resolved in place ("auto" becomes "fp32" or "bf16"; a list, each of its values), with one line
    saying why; ``args.cache_dir`` defaults to <out>/cache. Whatever can be wrong before training ends the program here,
    with one sentence."""
    git_commit()  # pin the code version now, before hours of training
    # Subnormal floats (below 1.2e-38) turn up in the students' gradients, and x86 CPUs handle them slowly, in
    # microcode. Set before any computation, so that every number of a run is computed the same way.
    torch.set_flush_denormal(True)
    reuse_freed_memory()
    if args.device == "cuda" and not torch.cuda.is_available():
        fail("--device cuda was asked for, but this PyTorch sees no CUDA GPU; use --device cpu or auto.")
    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device)
    if getattr(args, "cache_dir", "") is None:
        args.cache_dir = str(Path(args.out) / "cache")
    try:
        root = existing_data_dir(args.data_dir)
        for name in ("out", "cache_dir"):  # the folders this script writes to
            if hasattr(args, name):
                require_writable(Path(getattr(args, name)), "--" + name.replace("_", "-"))
        data = load(root, device)
    except DataUnavailable as error:
        fail(str(error))
    if hasattr(args, "precision"):  # said once everything is in place: an error stays the only line
        print(f"device: {device_name(device)}; OpenMP wait policy {os.environ.get('OMP_WAIT_POLICY')}", flush=True)
        args.precision = resolve_precisions(args.precision, device)
    return data


def resolve_precisions(requested: str | list[str], device: torch.device) -> str | list[str]:
    """``--precision`` with "auto" resolved for ``device``, printing each choice and its reason once."""
    if isinstance(requested, list):
        return list(dict.fromkeys(resolve_precisions(p, device) for p in requested))
    try:
        precision, reason = choose_precision(requested, device)
    except ValueError:  # argparse checks the flag's values, not a default from the environment
        fail(f"${PRECISION_ENV} is {requested!r}; set it to one of {', '.join(PRECISION_CHOICES)}, or unset it.")
    print(reason, flush=True)
    return precision


def reuse_freed_memory() -> None:
    """Make glibc keep freed blocks of up to 32 MiB (above a step's largest tensor) for reuse instead of handing them
    back to the kernel, which then page-faults on every step (REPRODUCE.md measures it). Nothing is computed
    differently; a no-op where there is no glibc."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the malloc this process uses, if it has mallopt
    except (OSError, AttributeError):  # macOS, Windows, musl
        return
    mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD (glibc's <malloc.h>): blocks below 32 MiB come from the heap, not mmap
    mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD: and freeing them does not shrink the heap


def run_resumably(args: argparse.Namespace, experiments):
    """Return ``experiments((checkpoints, cache))``: each student's state saved every epoch to <out>/checkpoints/, each
    teacher's to --cache-dir, so that rerunning an interrupted command resumes it; the students' states are deleted
    once the command has finished. A diverged loss or an unreadable state ends the program with one sentence."""
    checkpoints = Store(Path(args.out) / "checkpoints", fresh=args.fresh)
    try:
        result = experiments((checkpoints, Store(Path(args.cache_dir), fresh=args.fresh, kept=True)))
    except TrainingDiverged as error:
        fail(f"{error}. The rows logged before it are kept.", status=1)
    except UnreadableState as error:
        fail(str(error))
    checkpoints.remove_used()
    return result


def require_writable(folder: Path, flag: str) -> None:
    """Write a file in ``folder`` (made for the probe, then removed again), so that an output that cannot be written
    ends the program before training (a probe rather than os.access: it also catches read-only mounts, full disks);
    the folders are left as they were."""
    if folder.exists() and not folder.is_dir():
        fail(f"{folder} is a file, not a folder; give a folder with {flag}.")
    made = [parent for parent in [folder, *folder.parents] if not parent.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".write-probe").write_bytes(b"")
        (folder / ".write-probe").unlink()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        fail(f"cannot write to the folder {folder} ({reason}); give another folder with {flag}.")
    finally:
        for parent in made:  # innermost first; only the empty folders made here
            if parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()


def finish(args: argparse.Namespace, started: float, device: torch.device, experiment: str, flag: str) -> None:
    """After a script's tables: a smoke run's warning, its wall time logged to <out>/wall_times.csv and printed."""
    if args.preset == "smoke":  # its numbers test the code, not the paper
        print(
            "\nsmoke preset: 2 epochs on a small slice of the data, only to check that everything runs. These "
            "numbers mean nothing (a distilled student worse than the student alone is normal here); use --preset "
            "quick or paper for results."
        )
    minutes = (time.perf_counter() - started) / 60
    log_wall_time(
        args.out,
        minutes,
        device,
        experiment=experiment,
        preset=args.preset,
        seeds=" ".join(map(str, args.seeds)),
        precision=args.precision,
    )
    print(f"\n{flag}, preset {args.preset}, seeds {args.seeds}: {minutes:.1f} min wall time")


def run(main) -> int:
    """``main()``, with Ctrl-C reported in one line (what was interrupted, and how to resume) and exit status 130."""
    try:
        return main()
    except KeyboardInterrupt:
        doing = f" during {Progress.now}" if Progress.now else ""
        print(
            f"\ninterrupted{doing}; run the same command again to resume from the last finished epoch.", file=sys.stderr
        )
        return 130


def fail(message: str, status: int = 2) -> None:
    """Print an error for a person, not a traceback, and exit (status 2 for bad input, as argparse does)."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(status)
