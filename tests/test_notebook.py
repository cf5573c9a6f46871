"""The teaching notebook runs top to bottom on the real MNIST, and is committed without outputs."""

import json
import re

import pytest

from tests.conftest import REPO

NOTEBOOK = REPO / "notebooks" / "distillation.ipynb"


def test_committed_without_outputs():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert len(code) >= 8
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)


def test_runs_top_to_bottom_and_shows_the_effect(mnist_root, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("KD_DATA_DIR", str(mnist_root))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, if any cell fails
    printed = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs)
    errors = {name: int(n) for name, n in re.findall(r"(student alone|student distilled): (\d+) test errors", printed)}
    assert errors["student distilled"] < errors["student alone"]  # §3's effect, on 10,000 training images
    assert "3s in the transfer set: 0" in printed
    on_threes = [int(n) for n in re.findall(r"on 3s (\d+)", printed)]
    before = int(re.search(r"of which on the 1010 test 3s: (\d+)", printed).group(1))
    assert min(on_threes) < before  # raising the class-3 bias recovers 3s
