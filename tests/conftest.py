import csv
import importlib.util
import os
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    """The real MNIST: $KD_DATA_DIR (set by .ci/run), else the workplace's ../shared/data."""
    root = Path(os.environ.get("KD_DATA_DIR") or REPO.parent / "shared" / "data")
    if not (root / "MNIST" / "raw").is_dir():
        pytest.skip(f"real MNIST not found under {root}/MNIST/raw (set KD_DATA_DIR)")
    return root


def load_script(name: str):
    """Import replicate/<name>.py as a module, so tests call its main(argv) in-process."""
    spec = importlib.util.spec_from_file_location(f"{name}_script", REPO / "replicate" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_rows(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))
