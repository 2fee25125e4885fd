"""Rule ``explain_ig_highway``: integrated gradients of every action's Q-value on the trained
agent's pooled states (many seeded episodes), for the trained and the untrained (random-init)
network.

Writes the |IG| and signed IG figures and ig JSON: completeness errors, signed/absolute
per-feature (with episode-bootstrap 95 % intervals) and per-slot summaries, and the
parameter-randomisation check (rank correlation of the trained and untrained attribution maps,
with its interval).
"""

import matplotlib.pyplot as plt
import numpy as np

from xai_repro.common import save_figure, seed_everything, write_json
from xai_repro.highway.attribution import (
    ig_all_actions,
    ig_summaries,
    presence_baseline,
    rank_correlation,
)
from xai_repro.highway.data import MODELS, load_analysis_inputs, run_analysis_rule
from xai_repro.highway.network import ACTIONS, FEATURES
from xai_repro.highway.plots import diverging, row_scale, triplet_rows
from xai_repro.highway.states import episode_bootstrap, mean_interval

# spearmanr over every resample: fewer resamples than a mean's interval takes
RANK_RESAMPLES = 300


def _signed_figure(summaries):
    """Signed IG per feature (rows: actions) and per vehicle slot (one panel per action); the
    trained and untrained panels of a column share one colour scale."""
    n = len(ACTIONS)
    feature_scale = row_scale([summaries[m]["signed_per_feature"] for m in MODELS])
    slot_scale = row_scale([summaries[m]["signed_per_slot"] for m in MODELS])
    fig, axes = plt.subplots(len(MODELS), n + 1, figsize=(4 * (n + 1), 3.6 * len(MODELS)))
    for r, m in enumerate(MODELS):
        s = summaries[m]
        im = diverging(
            axes[r, 0],
            s["signed_per_feature"],
            f"{m}: signed IG, sum over vehicles",
            FEATURES,
            ACTIONS,
            vmax=feature_scale,
        )
        fig.colorbar(im, ax=axes[r, 0])
        for a, action in enumerate(ACTIONS):
            slots = s["signed_per_slot"][a]
            ylabels = ["ego"] + [str(i) for i in range(1, slots.shape[0])]
            im = diverging(
                axes[r, a + 1],
                slots,
                f"{m}: {action}, per slot",
                FEATURES,
                ylabels,
                vmax=slot_scale,
            )
            fig.colorbar(im, ax=axes[r, a + 1])
    fig.suptitle("signed integrated gradients (+: pushes Q of the action up), mean over states")
    fig.tight_layout()
    return fig


def main(models, states, figures, out_path, *, seed, ig_steps):
    seed_everything(seed)
    nets, st, x = load_analysis_inputs(models, states)
    rng, episode = np.random.default_rng(seed), st["episode"]
    attr, result = {}, {"ig": {}}
    for m in MODELS:
        attr[m], err = ig_all_actions(nets[m], x, ig_steps)
        # per state (N, actions, features), summed over vehicles: what the summaries average
        signed, absolute = (np.moveaxis(a.sum(axis=2), 1, 0) for a in (attr[m], np.abs(attr[m])))
        result["ig"][m] = {
            "completeness_error_median": float(np.median(err)),
            "completeness_error_max": float(err.max()),
            **{k: v.tolist() for k, v in ig_summaries(attr[m]).items()},
            "abs_per_feature_ci95": mean_interval(absolute, episode, rng)[1],
            "signed_per_feature_ci95": mean_interval(signed, episode, rng)[1],
        }
    # the worse net's median: pooling let the untrained net's tiny errors hide the trained's
    result["ig_completeness_error_median"] = max(
        result["ig"][m]["completeness_error_median"] for m in MODELS
    )
    # over the entries where the input differs from the baseline (elsewhere IG is 0 for both)
    differs = (x != presence_baseline(x)).numpy()[None]

    def rank(idx):
        return rank_correlation(attr["trained"][:, idx], attr["untrained"][:, idx], differs[:, idx])

    result["randomisation_rank_correlation"] = rank(np.arange(len(x)))
    result["randomisation_rank_correlation_ci95"] = episode_bootstrap(
        rank, episode, rng, RANK_RESAMPLES
    )
    result["randomisation_rank_correlation_entries"] = int(differs.sum()) * len(ACTIONS)
    summaries = {m: ig_summaries(attr[m]) for m in MODELS}
    rows = [("|IG| summed over vehicles",) + tuple(summaries[m]["abs_per_feature"] for m in MODELS)]
    save_figure(
        triplet_rows(rows, "IG feature importance per action", FEATURES, ACTIONS), figures["ig"]
    )
    save_figure(_signed_figure(summaries), figures["ig_signed"])
    write_json(out_path, result)


if __name__ == "__main__":
    run_analysis_rule(main, snakemake)  # noqa: F821
