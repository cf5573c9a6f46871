import csv
import importlib.util
import os
from pathlib import Path

import pytest
import torch

from distill.core.data import DATA_DIR_ENV, DEFAULT_DATA_DIR

REPO = Path(__file__).resolve().parent.parent

MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
_skipped_for_data: list[str] = []  # the tests that found no MNIST, reported at the end of the run


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    """The real MNIST, where the scripts look for it: $KD_DATA_DIR if set, else ./data of the repository."""
    root = Path(os.environ.get(DATA_DIR_ENV) or REPO / DEFAULT_DATA_DIR)
    raw = root / "MNIST" / "raw"
    if not all((raw / name).exists() or (raw / f"{name}.gz").exists() for name in MNIST_FILES):
        pytest.skip(f"no MNIST in {raw}")
    return root


def pytest_runtest_logreport(report):
    if report.skipped and "no MNIST in" in str(report.longrepr):
        _skipped_for_data.append(report.nodeid)


def pytest_terminal_summary(terminalreporter):
    """Say loudly, last, that the tests on the real data did not run, and how to give them MNIST."""
    if not _skipped_for_data:
        return
    terminalreporter.section("MNIST NOT FOUND", sep="!", red=True, bold=True)
    where = os.environ.get(DATA_DIR_ENV) or REPO / DEFAULT_DATA_DIR
    terminalreporter.line(
        f"{len(_skipped_for_data)} tests on the real MNIST were SKIPPED: no MNIST/raw/ files in {where}.\n"
        "Give them MNIST in one of two ways, then rerun:\n"
        f"  - have it downloaded into {REPO / DEFAULT_DATA_DIR} by a first run with network access, e.g.\n"
        "    python replicate/mnist.py --preset smoke --out /tmp/kd-smoke (from the repository root), or\n"
        f"  - point ${DATA_DIR_ENV} at a folder holding MNIST/raw/ with the four canonical files.",
        red=True,
        bold=True,
    )


def load_script(name: str):
    """Import replicate/<name>.py as a module, so tests call its main(argv) in-process."""
    spec = importlib.util.spec_from_file_location(f"{name}_script", REPO / "replicate" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_rows(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))
