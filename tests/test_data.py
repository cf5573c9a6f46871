"""MNIST parsing, the data-directory rules, the offline message, and the §3 jitter."""

import shutil
import struct

import pytest
import torch

from distill.core.data import (
    DATA_DIR_ENV,
    DataUnavailable,
    Split,
    existing_data_dir,
    jitter,
    load_mnist,
    resolve_data_dir,
    with_jittered_copies,
)

RAW_NAMES = {
    (True, "images"): "train-images-idx3-ubyte",
    (True, "labels"): "train-labels-idx1-ubyte",
    (False, "images"): "t10k-images-idx3-ubyte",
    (False, "labels"): "t10k-labels-idx1-ubyte",
}


def write_idx(path, array: torch.Tensor):
    """IDX format: magic (0, 0, type 0x08 = ubyte, n dims), big-endian int32 sizes, then bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.dim()) + struct.pack(f">{array.dim()}i", *array.shape)
    path.write_bytes(header + array.to(torch.uint8).numpy().tobytes())


@pytest.fixture
def tiny_mnist(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    tensors = {}
    for is_train, n in ((True, 6), (False, 4)):
        images = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8)
        labels = torch.arange(n, dtype=torch.uint8) % 10
        write_idx(raw / RAW_NAMES[is_train, "images"], images)
        write_idx(raw / RAW_NAMES[is_train, "labels"], labels)
        tensors[is_train] = (images, labels)
    return tmp_path, tensors


def test_idx_files_are_parsed_into_scaled_tensors(tiny_mnist):
    root, tensors = tiny_mnist
    data = load_mnist(root, torch.device("cpu"))
    for split, is_train in ((data.train, True), (data.test, False)):
        images, labels = tensors[is_train]
        assert split.images.dtype == torch.float32 and split.images.shape == images.shape
        torch.testing.assert_close(split.images, images.float() / 255)
        assert split.labels.dtype == torch.int64
        assert split.labels.tolist() == labels.tolist()
        assert 0.0 <= split.images.min() and split.images.max() <= 1.0


def test_real_mnist_has_the_canonical_sizes(mnist_root):
    data = load_mnist(mnist_root, torch.device("cpu"))
    assert data.train.images.shape == (60000, 28, 28) and data.test.images.shape == (10000, 28, 28)
    # the canonical label counts of the test set's rarest and commonest digits
    counts = torch.bincount(data.test.labels, minlength=10)
    assert counts[3] == 1010 and counts[1] == 1135 and counts[5] == 892


def test_missing_data_without_network_raises_one_clear_sentence(tmp_path, monkeypatch):
    from torchvision import datasets

    # a closed port stands in for "no network" so the test never waits on a real one
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])
    with pytest.raises(DataUnavailable) as raised:
        load_mnist(tmp_path / "empty", torch.device("cpu"))
    message = str(raised.value)
    assert str(tmp_path / "empty" / "MNIST" / "raw") in message
    assert "--data-dir" in message and DATA_DIR_ENV in message and "\n" not in message


def test_data_dir_flag_beats_environment_beats_default(monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, "/from/env")
    assert str(resolve_data_dir("/from/flag")) == "/from/flag"
    assert str(resolve_data_dir(None)) == "/from/env"
    monkeypatch.delenv(DATA_DIR_ENV)
    assert str(resolve_data_dir(None)) == "data"


def test_only_the_default_data_folder_may_be_created(tmp_path, monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    assert str(existing_data_dir(None)) == "data"  # ./data need not exist: the first download creates it
    assert existing_data_dir(str(tmp_path)) == tmp_path
    with pytest.raises(DataUnavailable) as raised:
        existing_data_dir(str(tmp_path / "typo"))
    assert str(tmp_path / "typo") in str(raised.value) and "--data-dir" in str(raised.value)


@pytest.mark.parametrize("damage", ["truncated", "one byte changed"])
def test_a_damaged_download_is_named_before_torchvision_reads_it(damage, mnist_root, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for archive in (mnist_root / "MNIST" / "raw").glob("*.gz"):
        shutil.copy(archive, raw / archive.name)
    damaged = raw / "train-labels-idx1-ubyte.gz"
    data = bytearray(damaged.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:
        data[-10] ^= 0xFF
    damaged.write_bytes(data)
    with pytest.raises(DataUnavailable) as raised:
        load_mnist(tmp_path, torch.device("cpu"))
    message = str(raised.value)
    assert message.startswith(f"{damaged} is truncated or corrupt") and "delete it" in message and "\n" not in message
    assert sorted(p.name for p in raw.iterdir()) == sorted(p.name for p in (mnist_root / "MNIST" / "raw").glob("*.gz"))


def test_a_truncated_extracted_file_is_named(tiny_mnist):
    root, _ = tiny_mnist
    images = root / "MNIST" / "raw" / RAW_NAMES[True, "images"]
    images.write_bytes(images.read_bytes()[:-100])  # as left by an interrupted extraction
    with pytest.raises(DataUnavailable) as raised:
        load_mnist(root, torch.device("cpu"))
    message = str(raised.value)
    assert message.startswith(f"{images} is truncated or corrupt") and "delete it" in message and "\n" not in message


def shift(image: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Reference translation with zero fill: out[r, c] = image[r - dy, c - dx]."""
    out = torch.zeros_like(image)
    h, w = image.shape
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = image[
        max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def test_jitter_is_a_translation_of_the_same_image_by_at_most_two_pixels():
    images = torch.rand(200, 28, 28)
    moved = jitter(images, 2)
    seen = set()
    for original, result in zip(images, moved):  # row i stays image i, so its label still applies
        matches = [
            (dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if torch.equal(result, shift(original, dy, dx))
        ]
        assert len(matches) == 1, "not a translation by ≤ 2 px of its own image"
        seen.add(matches[0])
    assert len(seen) == 25  # every shift in [-2, 2]² occurs


def test_jitter_keeps_centred_content_whole():
    images = torch.zeros(500, 28, 28)
    images[:, 6:22, 6:22] = torch.rand(500, 16, 16)  # content with a 6-pixel margin, like MNIST's 20×20 box
    moved = jitter(images, 2)
    torch.testing.assert_close(moved.sum(dim=(1, 2)), images.sum(dim=(1, 2)))
    rows = moved.sum(dim=2).nonzero()
    assert rows[:, 1].min() >= 4 and rows[:, 1].max() <= 23
    assert torch.equal(jitter(images, 0), images)
    assert jitter(images[:0], 2).shape == (0, 28, 28)  # an empty batch stays an empty batch


def test_jittered_copies_follow_the_originals_each_a_shift_of_its_image():
    images = torch.zeros(5, 8, 8)
    images[:, 3:5, 3:5] = torch.arange(1, 6).view(5, 1, 1).float()  # a 2×2 blob, one brightness per image
    split = Split(images, torch.arange(5))
    enlarged = with_jittered_copies(split, copies=3, max_shift=2, seed=0)
    assert len(enlarged) == 20 and torch.equal(enlarged.images[:5], images)
    assert torch.equal(enlarged.labels, torch.arange(5).repeat(4))
    for copy, original in zip(enlarged.images, images.repeat(4, 1, 1)):
        rows, cols = torch.nonzero(copy, as_tuple=True)
        assert copy.sum() == original.sum()  # the whole blob, only moved
        assert abs(int(rows.min()) - 3) <= 2 and abs(int(cols.min()) - 3) <= 2
    assert not torch.equal(enlarged.images[5:], images.repeat(3, 1, 1))  # shifted, not copied
    assert torch.equal(with_jittered_copies(split, 3, 2, seed=0).images, enlarged.images)  # fixed by the seed


def test_the_3_percent_subset_is_class_balanced_sorted_and_fixed_by_the_seed():
    from distill.experiments.few_data import balanced_subset

    labels = torch.arange(10).repeat_interleave(torch.arange(100, 200, 10))  # unequal classes: 100 … 190 images
    index = balanced_subset(labels, 0.03, seed=0)
    assert torch.equal(torch.bincount(labels[index]), torch.full((10,), round(0.03 * len(labels) / 10)))
    assert torch.equal(index, index.sort().values) and len(index.unique()) == len(index)
    assert torch.equal(index, balanced_subset(labels, 0.03, seed=0))
    assert not torch.equal(index, balanced_subset(labels, 0.03, seed=1))
