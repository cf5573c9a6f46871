"""CIFAR-10 as normalised tensors on the training device, read from the standard python format.

The format (https://www.cs.toronto.edu/~kriz/cifar.html): a folder ``cifar-10-batches-py`` with five
training batches ``data_batch_1`` … ``_5`` and ``test_batch``, each a pickled dict whose b"data" is a
(n, 3072) uint8 array (1024 red, then green, then blue values, row-major 32×32) and b"labels" a list of n
ints, plus ``batches.meta`` with the class names. When the folder is missing, torchvision downloads it
(checking the archive's md5); we then read the files ourselves, so that the small synthetic data sets written
by ``write_synthetic_cifar10`` for the tests go through the same code.

The tutorial's preprocessing: ToTensor (÷255) then Normalize(mean 0.5, std 0.5) per channel, i.e. x ↦ 2x − 1,
applied once to the whole data set.
"""

import pickle
from pathlib import Path

import numpy as np
import torch

from distill.core.data import DATA_DIR_ENV, Dataset, DataUnavailable, Split, torchvision_download

FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_BATCH = "test_batch"
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def load_cifar10(root: Path, device: torch.device) -> Dataset:
    """CIFAR-10 from ``root/cifar-10-batches-py`` (downloaded there if missing), normalised, on ``device``."""
    folder = Path(root) / FOLDER
    if not all((folder / name).exists() for name in [*TRAIN_BATCHES, TEST_BATCH]):
        from torchvision import datasets  # slow to import; only needed to download

        torchvision_download(
            lambda: datasets.CIFAR10(root=str(root), train=True, download=True),
            missing=f"CIFAR-10 is not in {folder}",
            fix=f"unpack cifar-10-python.tar.gz there, or point --data-dir or ${DATA_DIR_ENV} at the folder that "
            f"holds {FOLDER}/.",
        )
    train = _read_batches([folder / name for name in TRAIN_BATCHES], device)
    return Dataset(train, _read_batches([folder / TEST_BATCH], device))


def _read_batches(paths: list[Path], device: torch.device) -> Split:
    images, labels = [], []
    for path in paths:
        try:
            with open(path, "rb") as f:
                batch = pickle.load(f, encoding="bytes")
            data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
            batch_labels = np.asarray(batch[b"labels"], dtype=np.int64)
            if len(batch_labels) != len(data) or not ((batch_labels >= 0) & (batch_labels < 10)).all():
                raise ValueError("labels do not match the images")
        except Exception as error:  # truncated pickle, missing key, wrong size
            raise DataUnavailable(
                f"{path} is not a readable CIFAR-10 batch ({type(error).__name__}); delete {path.parent} "
                f"to download it again."
            ) from error
        images.append(torch.from_numpy(data))
        labels.append(torch.from_numpy(batch_labels))
    pixels = torch.cat(images).to(device=device, dtype=torch.float32)
    return Split(pixels.div_(255).sub_(0.5).div_(0.5), torch.cat(labels).to(device))  # Normalize(0.5, 0.5)


def write_synthetic_cifar10(root: Path, n_train: int, n_test: int, seed: int = 0) -> Path:
    """Write a learnable stand-in for CIFAR-10 in the standard format; return its folder. Each class has its own mean
    colour and its own bright 8×8 patch position; the pixels are that plus noise, so a network can learn the classes but
    not trivially. For the tests, and to time the scripts where CIFAR-10 cannot be had."""
    generator = np.random.default_rng(seed)
    colours = generator.integers(40, 216, size=(10, 3))
    folder = Path(root) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)

    def batch(n: int) -> dict:
        labels = generator.integers(0, 10, size=n)
        images = generator.normal(0, 40, size=(n, 3, 32, 32)) + colours[labels][:, :, None, None]
        for c in range(10):
            row, col = divmod(c, 4)
            images[labels == c, :, 8 * row : 8 * row + 8, 8 * col : 8 * col + 8] += 60
        data = np.clip(images, 0, 255).astype(np.uint8).reshape(n, 3072)
        return {b"data": data, b"labels": labels.tolist(), b"batch_label": b"synthetic"}

    per_batch = [n_train // 5 + (i < n_train % 5) for i in range(5)]
    for name, n in [*zip(TRAIN_BATCHES, per_batch), (TEST_BATCH, n_test)]:
        (folder / name).write_bytes(pickle.dumps(batch(n)))
    meta = {b"label_names": [c.encode() for c in CLASSES], b"num_cases_per_batch": per_batch[0]}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta))
    return folder
