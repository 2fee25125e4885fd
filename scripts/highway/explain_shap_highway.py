"""Rule ``explain_shap_highway``: SHAP GradientExplainer (expected gradients) of the Q-network on
at most ``attribution_states`` of the trained agent's pooled states (evenly spread over its
episodes), trained vs untrained. The background is ``shap_background`` pooled states (also
spread), each explained state against them with its own presence column, so the attention mask
does not change along the paths (presence gets no attribution, as in IG).

Writes the shap figure and the shap JSON (mean |SHAP value| per action and feature, and the
efficiency gap: how far the values' sums are from Q(x) minus the background's mean Q).
"""

import numpy as np

from xai_repro.common import save_figure, seed_everything, write_json
from xai_repro.highway.attribution import shap_efficiency_gap, shap_importance, shap_values
from xai_repro.highway.data import MODELS, load_analysis_inputs, run_analysis_rule
from xai_repro.highway.network import ACTIONS, FEATURES
from xai_repro.highway.plots import triplet_rows
from xai_repro.highway.states import mean_interval, spread_subset


def main(
    models, states, figures, out_path, *, seed, shap_background, shap_samples, attribution_states
):
    seed_everything(seed)
    nets, st, pooled = load_analysis_inputs(models, states)
    background = pooled[spread_subset(st["episode"], shap_background)]
    keep = spread_subset(st["episode"], attribution_states)
    x, episode, rng = pooled[keep], st["episode"][keep], np.random.default_rng(seed)
    imp, imp_ci, gap = {}, {}, {}
    for m in MODELS:
        values, expected = shap_values(nets[m], background, x, shap_samples, seed)
        imp[m] = shap_importance(values)
        # per state, |value| summed over vehicles: (N, actions, features)
        imp_ci[m] = mean_interval(np.abs(values).sum(1).swapaxes(1, 2), episode, rng)[1]
        gap[m] = shap_efficiency_gap(nets[m], x, values, expected)
    rows = [("mean |SHAP|, sum over vehicles", imp["trained"], imp["untrained"])]
    fig = triplet_rows(
        rows, "SHAP (expected gradients, presence kept) per action", FEATURES, ACTIONS
    )
    save_figure(fig, figures["shap"])
    write_json(
        out_path,
        {
            "shap_feature_importance": {m: imp[m].tolist() for m in MODELS},
            "shap_feature_importance_ci95": imp_ci,
            "shap_states": len(x),
            "shap_efficiency_gap": gap,
            "shap_background_states": len(background),
        },
    )


if __name__ == "__main__":
    run_analysis_rule(main, snakemake)  # noqa: F821
