"""The figures' shared look: files only, no display, and the same bytes from the same rows."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the file-only backend)

BLUE, ORANGE, GREEN, GREY = "#3b75af", "#d1603d", "#2a9d5c", "#444444"
plt.rcParams.update({"figure.dpi": 110, "axes.titlesize": 9, "legend.frameon": False})


def save(figure: plt.Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, metadata={"Software": None})  # no version stamp, so reruns give the same bytes
    plt.close(figure)
