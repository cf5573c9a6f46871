"""MNIST as tensors on the training device, and the teacher's input jitter (§3).

The whole data set, 60,000 + 10,000 images of 28×28 bytes (about 55 MB as float32), is loaded once through
torchvision's ``datasets.MNIST`` (which parses the IDX files and checks the download's md5 sums), scaled to
[0, 1] and kept on the device. Batches are slices of a ``randperm``; no DataLoader.
"""

import contextlib
import hashlib
import io
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import torch

DATA_DIR_ENV = "KD_DATA_DIR"
DEFAULT_DATA_DIR = "./data"


class DataUnavailable(RuntimeError):
    """The data set is neither on disk nor downloadable; the message says how to fix it."""


def resolve_data_dir(flag_value: str | None) -> Path:
    """The data root: ``--data-dir`` wins, then $KD_DATA_DIR, then ./data."""
    return Path(flag_value or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def existing_data_dir(flag_value: str | None) -> Path:
    """``resolve_data_dir``, where a folder named by --data-dir or $KD_DATA_DIR must exist already (torchvision
    would create a mistyped folder and download into it); only the default ./data is made for a first download."""
    root = resolve_data_dir(flag_value)
    if root.is_dir() or root == Path(DEFAULT_DATA_DIR):
        return root
    source = "--data-dir" if flag_value else f"${DATA_DIR_ENV}"
    raise DataUnavailable(
        f"the data folder {root} (from {source}) does not exist; create it to have the data downloaded there, "
        "or fix the path."
    )


@dataclass
class Split:
    """Images as float32 (MNIST: (n, 28, 28) in [0, 1]; CIFAR-10: (n, 3, 32, 32)) and int64 labels, shape (n,)."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: torch.Tensor | slice) -> "Split":
        return Split(self.images[index], self.labels[index])

    def first(self, n: int | None) -> "Split":
        """The first ``n`` examples, or all of them when ``n`` is None (the presets' ``train_subset``)."""
        return self if n is None else self.subset(slice(0, n))


@dataclass
class Dataset:
    """A training and a test split, both on the training device."""

    train: Split
    test: Split

    def splits(self, train_subset: int | None = None, validation: int = 0) -> "Splits":
        """What a run trains on (the first ``train_subset`` training images, or all) and what it is scored on: the
        test set, or the last ``validation`` of those training images, held out for tuning without the test set."""
        train = self.train.first(train_subset)
        if not validation:
            return Splits(train, self.test, "test")
        n = len(train) - validation
        return Splits(train.subset(slice(0, n)), train.subset(slice(n, None)), "val")


@dataclass
class Splits:
    train: Split
    eval: Split
    eval_name: str  # "test", or "val" for held-out training images


def torchvision_download(make_dataset, missing: str, fix: str):
    """``make_dataset()`` (a torchvision data set with download=True), or DataUnavailable in one sentence:
    torchvision's prints of download attempts and mirror failures are swallowed, leaving our one line."""
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return make_dataset()
    except Exception as error:  # URLError, RuntimeError(md5), OSError, ...
        raise DataUnavailable(f"{missing} and could not be downloaded ({type(error).__name__}); {fix}") from error


def load_mnist(root: Path, device: torch.device) -> Dataset:
    """Load MNIST from ``root/MNIST/raw`` (downloading there if missing), onto ``device``; DataUnavailable with
    a one-sentence fix when the files are absent and cannot be downloaded (no network), or are corrupt."""
    from torchvision import datasets  # imported here: it is slow, and only this needs it

    raw = Path(root) / "MNIST" / "raw"
    check_mnist_files(raw, datasets.MNIST.resources)
    fix = (
        f"put the four MNIST .gz files there, or point --data-dir or ${DATA_DIR_ENV} at a folder that holds MNIST/raw/."
    )
    if any((Path(root) / name).exists() for name, _ in datasets.MNIST.resources):  # the files' own folder was given
        fix = f"{root} holds the MNIST files themselves: point --data-dir or ${DATA_DIR_ENV} two folders up, at the "
        fix += "folder that holds MNIST/raw/."
    before = set(Path(root).rglob("*")) if Path(root).is_dir() else set()
    splits = []
    try:
        for is_train in (True, False):
            dataset = torchvision_download(
                lambda: datasets.MNIST(root=str(root), train=is_train, download=True), f"MNIST is not in {raw}", fix
            )
            splits.append(
                Split(dataset.data.to(device=device, dtype=torch.float32).div_(255), dataset.targets.to(device))
            )
    except DataUnavailable:  # leave the data folder as it was: no empty MNIST/raw/, no partial download
        for path in sorted(set(Path(root).rglob("*")) - before, key=lambda p: len(p.parts), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
        raise
    return Dataset(*splits)


def check_mnist_files(raw: Path, resources: list[tuple[str, str]]) -> None:
    """DataUnavailable naming the first damaged file in ``raw`` (``resources``: torchvision's (name.gz, md5) list);
    absent files are left to the download. torchvision checks a .gz's md5 only when it downloads, and reads an extracted
    IDX file without checking its length: a truncated file would fail later with a reshape error that names no file."""
    for name, md5 in resources:
        archive = raw / name
        if archive.exists() and hashlib.md5(archive.read_bytes()).hexdigest() != md5:
            raise DataUnavailable(
                f"{archive} is truncated or corrupt (its md5 is not MNIST's); delete it to have it downloaded "
                "again, or copy a good one there."
            )
    for name, _ in resources:
        extracted = raw / name.removesuffix(".gz")
        if extracted.exists() and extracted.stat().st_size != _idx_size(extracted):
            raise DataUnavailable(
                f"{extracted} is truncated or corrupt (its size does not match its IDX header); delete it to have "
                "it extracted again from its .gz or downloaded, or copy a good one there."
            )


def _idx_size(path: Path) -> int:
    """The size an IDX file of unsigned bytes must have: its 4-byte magic (0, 0, 0x08, number of
    dimensions), one big-endian int32 per dimension, then one byte per value; -1 for a broken header."""
    with open(path, "rb") as f:
        header = f.read(16)  # the magic and at most 3 dimensions
    ndim = header[3] if len(header) >= 4 and header[:3] == b"\x00\x00\x08" else 0
    if not 1 <= ndim <= 3 or len(header) < 4 + 4 * ndim:
        return -1
    return 4 + 4 * ndim + math.prod(struct.unpack(f">{ndim}I", header[4 : 4 + 4 * ndim]))


def jitter(images: torch.Tensor, max_shift: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Translate each image by its own random (dx, dy), |dx|, |dy| <= max_shift pixels (§3).

    ``images``: (B, H, W). Pixels shifted in from outside are 0 (MNIST's background). One gather for the whole batch
    instead of a Python loop over images: output pixel (i, j) of image b is pixel (i + dy_b, j + dx_b) of its
    zero-padded copy.
    """
    if max_shift == 0:
        return images
    batch, height, width = images.shape
    padded_width = width + 2 * max_shift
    padded = torch.nn.functional.pad(images, (max_shift,) * 4).view(batch, (height + 2 * max_shift) * padded_width)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, batch, 1, 1), generator=generator, device=images.device)
    rows = torch.arange(height, device=images.device).view(1, height, 1) + dy  # (B, H, 1): source rows
    cols = torch.arange(width, device=images.device).view(1, 1, width) + dx  # (B, 1, W): source columns
    source = (rows * padded_width + cols).view(batch, height * width)  # flat index into padded
    return padded.gather(1, source).view(batch, height, width)


def with_jittered_copies(split: Split, copies: int, max_shift: int, seed: int) -> Split:
    """``split`` followed by ``copies`` translated copies of it, each image shifted as ``jitter`` does. The copies are
    drawn once, from ``seed``, so that a teacher's logits can be computed on them beforehand: a fixed, enlarged transfer
    set. §3 distils on the un-jittered images only; this is a diagnostic that departs from it (tune.py
    --jittered-copies)."""
    generator = torch.Generator(device=split.images.device).manual_seed(seed)
    shifted = [jitter(split.images, max_shift, generator) for _ in range(copies)]
    return Split(torch.cat([split.images, *shifted]), split.labels.repeat(copies + 1))
