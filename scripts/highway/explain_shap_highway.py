"""Rule ``explain_shap_highway``: SHAP GradientExplainer (expected gradients) of the Q-network on
the trained rollout's states, trained vs untrained. The background is the trained rollout's
states, each explained state against them with its own presence column, so the attention mask
does not change along the paths (presence gets no attribution, as in IG).

Writes the shap figure and the shap JSON (mean |SHAP value| per action and feature, and the
efficiency gap: how far the values' sums are from Q(x) minus the background's mean Q).
"""

from xai_repro.common import save_figure, seed_everything, write_json
from xai_repro.highway.attribution import shap_efficiency_gap, shap_importance, shap_values
from xai_repro.highway.data import (
    MODELS,
    load_analysis_inputs,
    rollout_states,
    run_analysis_rule,
)
from xai_repro.highway.network import ACTIONS, FEATURES
from xai_repro.highway.plots import triplet_rows


def main(models, rollouts, figures, out_path, *, seed, shap_background, shap_samples):
    seed_everything(seed)
    nets, rolls, x = load_analysis_inputs(models, rollouts)
    background = rollout_states(rolls["trained"])[:shap_background]
    imp, gap = {}, {}
    for m in MODELS:
        values, expected = shap_values(nets[m], background, x, shap_samples, seed)
        imp[m] = shap_importance(values)
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
            "shap_efficiency_gap": gap,
            "shap_background_states": len(background),
        },
    )


if __name__ == "__main__":
    run_analysis_rule(main, snakemake)  # noqa: F821
