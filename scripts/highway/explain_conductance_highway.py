"""Rule ``explain_conductance_highway``: per-neuron layer conductance of each action's Q-value
on the notebook's 7 layers, over at most ``attribution_states`` of the trained agent's pooled
states (evenly spread over its episodes) (trained, untrained, difference), and the neuron conductance (per
input feature) of the most conductive neuron of the last hidden layer for each action.
Completeness, per layer set that cuts every path to Q: |sum of conductances - Q gap| summed
over states and actions, relative to the summed |Q gap| (conductance_completeness_gap).

Writes the conductance and neuron_conductance figures and the conductance JSON.
"""

import matplotlib.pyplot as plt
import numpy as np

from xai_repro.common import save_figure, seed_everything, write_json
from xai_repro.highway.attribution import (
    completeness_gaps,
    layer_conductances,
    neuron_conductance,
    q_gap,
    top_neurons,
)
from xai_repro.highway.data import MODELS, load_analysis_inputs, run_analysis_rule
from xai_repro.highway.network import ACTIONS, FEATURES
from xai_repro.highway.plots import grouped_bars, triplet_rows
from xai_repro.highway.states import mean_interval, spread_subset


def main(models, states, figures, out_path, *, seed, conductance_steps, attribution_states):
    seed_everything(seed)
    nets, st, x = load_analysis_inputs(models, states)
    keep = spread_subset(st["episode"], attribution_states)
    x, episode, rng = x[keep], st["episode"][keep], np.random.default_rng(seed)
    per_state = {m: layer_conductances(nets[m], x, conductance_steps) for m in MODELS}
    cond = {m: {k: v.mean(axis=1) for k, v in per_state[m].items()} for m in MODELS}
    gaps = {m: np.stack([q_gap(nets[m], x, a) for a in range(len(ACTIONS))]) for m in MODELS}
    completeness = {m: completeness_gaps(per_state[m], gaps[m]) for m in MODELS}
    layers = list(cond["trained"])
    rows = [(name, cond["trained"][name], cond["untrained"][name]) for name in layers]
    fig = triplet_rows(
        rows, "layer conductance per neuron (columns) and action (rows)", None, ACTIONS
    )
    save_figure(fig, figures["conductance"])

    last = layers[-2]  # the last hidden layer (the one before the Q head)
    per_feature = {}
    for m in MODELS:
        module = dict(nets[m].named_modules())[last]
        per_feature[m] = [
            neuron_conductance(nets[m], x, module, n, a, conductance_steps).tolist()
            for a, n in enumerate(top_neurons(cond[m], last))
        ]
    fig, axes = plt.subplots(1, len(ACTIONS), figsize=(5 * len(ACTIONS), 3.6))
    for a, action in enumerate(ACTIONS):
        grouped_bars(
            axes[a],
            FEATURES,
            {m: per_feature[m][a] for m in MODELS},
            "conductance (sum over vehicles)",
        )
        axes[a].set_title(f"{action}: top neuron of {last}", fontsize=9)
    fig.tight_layout()
    save_figure(fig, figures["neuron_conductance"])

    result = {
        "layer_conductance": {
            m: {
                name: {
                    "per_neuron": c.tolist(),
                    "total": c.sum(axis=1).tolist(),
                }
                for name, c in cond[m].items()
            }
            for m in MODELS
        },
        "q_gap_mean": {m: gaps[m].mean(axis=1).tolist() for m in MODELS},
        "q_gap_mean_ci95": {m: mean_interval(gaps[m].T, episode, rng)[1] for m in MODELS},
        "conductance_states": len(x),
        "conductance_completeness_gap": completeness,
        "conductance_completeness_gap_max": max(max(c.values()) for c in completeness.values()),
        "neuron_conductance": {
            m: {"layer": last, "neurons": top_neurons(cond[m], last), "per_feature": per_feature[m]}
            for m in MODELS
        },
    }
    write_json(out_path, result)


if __name__ == "__main__":
    run_analysis_rule(main, snakemake)  # noqa: F821
