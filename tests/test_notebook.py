"""The teaching notebook runs top to bottom on the real MNIST, and is committed executed, its figures showing.

Its code cells are executed in order in this process, not through a Jupyter kernel:
Ctrl-C then stops the test run at once (a kernel is a separate process, which an
interrupt left running while pytest waited on it), and no kernel has to start.
"""

import contextlib
import io
import json
import re
import warnings

import matplotlib
import matplotlib.pyplot as plt
import pytest

from tests.conftest import REPO

NOTEBOOK = REPO / "notebooks" / "distillation.ipynb"


def code_cells() -> list[str]:
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    return [c for c in cells if c["cell_type"] == "code"]


def test_committed_executed_with_its_figures_and_little_text():
    cells = code_cells()
    assert all(c["execution_count"] is not None for c in cells)  # every cell ran, in order
    outputs = [o for c in cells for o in c["outputs"]]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3  # the figures, visible where it is shown
    text = "".join("".join(o.get("text", [])) for o in outputs if o["output_type"] == "stream")
    assert 0 < len(text.splitlines()) <= 15 and "Traceback" not in text
    assert all(o["output_type"] != "error" for o in outputs)


def run_notebook() -> str:
    """Execute every code cell in order, in one namespace; return what the cells printed."""
    matplotlib.use("Agg")
    namespace = {"__name__": "__main__"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "FigureCanvasAgg is non-interactive")  # plt.show() without a screen
        for number, cell in enumerate(code_cells(), 1):
            exec(compile("".join(cell["source"]), f"{NOTEBOOK.name}, code cell {number}", "exec"), namespace)
    plt.close("all")
    return printed.getvalue()


@pytest.mark.slow
def test_runs_top_to_bottom_and_shows_the_effect(mnist_root, monkeypatch):
    monkeypatch.setenv("KD_DATA_DIR", str(mnist_root))
    monkeypatch.chdir(REPO / "notebooks")  # where Jupyter starts it
    printed = run_notebook()
    assert re.search(r"^precision (fp32|bf16) ", printed, re.MULTILINE)  # the choice, said once at the top
    errors = {name: int(n) for name, n in re.findall(r"(student alone|student distilled): (\d+) test errors", printed)}
    assert errors["student distilled"] < errors["student alone"]  # §3's effect, on 10,000 training images
    assert "3s in the transfer set: 0" in printed
    on_threes = [int(n) for n in re.findall(r"on 3s (\d+)", printed)]
    before = int(re.search(r"of which on the 1010 test 3s: (\d+)", printed).group(1))
    assert min(on_threes) < before  # raising the class-3 bias recovers 3s
