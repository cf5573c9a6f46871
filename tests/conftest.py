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
