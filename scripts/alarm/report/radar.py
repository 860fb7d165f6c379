"""Per-task accuracy of every model on one radar, like the paper's Figure 3 (AIR-Bench).

Where AIR-Bench Foundation was not scored (the default configuration), the
synthetic benchmark's sub-categories stand in, and the title says so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from alarm.files import atomic_path
from alarm.report.tables import Scores, display, model_order

# (benchmark, breakdown, title) in order of preference.
SOURCES = (
    ("airbench_foundation", "task_name", "AIR-Bench Foundation: accuracy per task (%)"),
    (
        "synthetic",
        "sub-category",
        "Synthetic benchmark: accuracy per sub-category (%); AIR-Bench was not scored",
    ),
)


def radar_series(scores: Scores) -> tuple[str, dict[str, dict[str, float]]]:
    """The title and, per model, accuracy per axis, from the first benchmark scored."""
    for benchmark, breakdown, title in SOURCES:
        ours = scores.get(benchmark, {})
        if ours:
            series = {
                model: {
                    group: values["accuracy"]
                    for group, values in ours[model]["breakdowns"][breakdown].items()
                }
                for model in model_order(ours)
            }
            return title, series
    return "No per-task scores in this run", {}


def plot_radar(title: str, series: dict[str, dict[str, float]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes_names = sorted({axis for values in series.values() for axis in values})
    fig = plt.figure(figsize=(9, 9))
    ax = fig.add_subplot(projection="polar")
    if axes_names:
        angles = np.linspace(0, 2 * np.pi, len(axes_names), endpoint=False)
        closed = np.append(angles, angles[0])
        for model, values in series.items():
            radii = [values.get(axis, 0.0) for axis in axes_names]
            ax.plot(closed, [*radii, radii[0]], linewidth=1.5, label=display(model))
            ax.fill(closed, [*radii, radii[0]], alpha=0.05)
        ax.set_xticks(angles)
        ax.set_xticklabels([a.replace("_", " ") for a in axes_names], fontsize=8)
        ax.set_ylim(0, 100)
        ax.legend(loc="upper right", bbox_to_anchor=(1.3, 1.1), fontsize=8)
    ax.set_title(title, pad=30)
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
