"""Rule ``explain_shap_highway``: SHAP GradientExplainer of the Q-network (background: rollout
states of both networks) on the trained rollout's states, trained vs untrained.

Writes the shap figure and the shap JSON (mean |SHAP value| per action and feature).
"""

import torch

from xai_repro.common import save_figure, seed_everything, write_json
from xai_repro.highway.attribution import shap_importance
from xai_repro.highway.data import (
    MODELS,
    load_analysis_inputs,
    rollout_states,
    run_analysis_rule,
)
from xai_repro.highway.network import ACTIONS, FEATURES
from xai_repro.highway.plots import triplet_rows


def main(models, rollouts, figures, out_path, *, seed, shap_background):
    seed_everything(seed)
    nets, rolls, x = load_analysis_inputs(models, rollouts)
    background = torch.cat([rollout_states(rolls[m]) for m in MODELS])[:shap_background]
    imp = {m: shap_importance(nets[m], background, x) for m in MODELS}
    rows = [("mean |SHAP|, sum over vehicles", imp["trained"], imp["untrained"])]
    fig = triplet_rows(rows, "SHAP (GradientExplainer) per action", FEATURES, ACTIONS)
    save_figure(fig, figures["shap"])
    write_json(out_path, {"shap_feature_importance": {m: imp[m].tolist() for m in MODELS}})


if __name__ == "__main__":
    run_analysis_rule(main, snakemake)  # noqa: F821
