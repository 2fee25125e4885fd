"""Rule ``plot_moore_machine``: the extracted Moore machine drawn as a graph.

Reads ``moore_machine.json``; writes ``moore_machine_raw.png`` and
``moore_machine_minimized.png``: states on a circle (colour: the action emitted;
for CartPole 0 = push left, 1 = push right), one arrow per (state, next state) labelled with the
observations that cause it (labels omitted when the graph is too dense to read).
"""

from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from xai_repro.common import read_json, save_figure, setup_logging  # noqa: E402

MAX_LABELLED_EDGES = 40
# CartPole's actions; other tasks' actions are shown by index
ACTION_LABELS = {0: "action 0 (CartPole: push left)", 1: "action 1 (CartPole: push right)"}


def _machine_figure(machine: dict, title: str):
    states = sorted(int(s) for s in machine["actions"])
    n = len(states)
    angle = {s: 2 * np.pi * i / max(n, 1) for i, s in enumerate(states)}
    pos = {s: (np.cos(a), np.sin(a)) for s, a in angle.items()}
    edges = defaultdict(list)
    for s, d in machine["transitions"].items():
        for o, t in d.items():
            edges[(int(s), int(t))].append(int(o))
    fig, ax = plt.subplots(figsize=(8, 8))
    label = len(edges) <= MAX_LABELLED_EDGES
    for (s, t), obs in edges.items():
        (x0, y0), (x1, y1) = pos[s], pos[t]
        if s == t:
            ax.add_patch(plt.Circle((x0 * 1.12, y0 * 1.12), 0.07, fill=False, lw=0.7))
            if label:
                ax.text(x0 * 1.25, y0 * 1.25, ",".join(map(str, obs[:6])), fontsize=7, ha="center")
            continue
        ax.annotate(
            "",
            xy=(x1, y1),
            xytext=(x0, y0),
            arrowprops={
                "arrowstyle": "->",
                "lw": 0.6,
                "shrinkA": 10,
                "shrinkB": 10,
                "connectionstyle": "arc3,rad=0.15",
            },
        )
        if label:
            ax.text((2 * x0 + x1) / 3, (2 * y0 + y1) / 3, ",".join(map(str, obs[:6])), fontsize=7)
    colors = plt.get_cmap("tab10").colors
    for s in states:
        ax.scatter(*pos[s], s=400, color=colors[machine["actions"][s] % 10], zorder=3)
        ax.text(*pos[s], str(s), ha="center", va="center", fontsize=8, zorder=4)
    for a in sorted(set(machine["actions"].values())):
        ax.scatter([], [], color=colors[a % 10], label=ACTION_LABELS.get(a, f"action {a}"))
    ax.legend(loc="upper right")
    ax.set_title(
        f"{title}: {n} states, {machine['n_observations']} observations"
        + ("" if label else " (edge labels omitted)")
    )
    ax.set_xlim(-1.4, 1.4)
    ax.set_ylim(-1.4, 1.4)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def main(machine_json, raw_png, minimized_png):
    data = read_json(machine_json)
    for key, path, title in (
        ("raw", raw_png, "Extracted"),
        ("minimized", minimized_png, "Minimized"),
    ):
        machine = data[key]
        machine["actions"] = {int(k): v for k, v in machine["actions"].items()}
        save_figure(_machine_figure(machine, title), path)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    main(sm.input.machine, sm.output.raw, sm.output.minimized)
