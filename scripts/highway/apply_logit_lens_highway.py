"""Rule ``apply_logit_lens_highway``: the Q head applied to the ego embedding, the attention
output and each hidden layer of the output MLP, over the trained agent's pooled states: how
often each already picks the final greedy action, and the mean |Q_lens - Q|, each with its
episode-bootstrap 95 % interval, beside what a constant guess of the most frequent action
reaches.

Writes the logit_lens figure and the logit-lens JSON.
"""

import numpy as np

from xai_repro.common import save_figure, seed_everything, write_json
from xai_repro.highway.data import MODELS, load_analysis_inputs, run_analysis_rule
from xai_repro.highway.intervention import chance_guess, logit_lens_per_state
from xai_repro.highway.plots import metric_panels
from xai_repro.highway.states import with_interval


def _lens(net, x, episode, rng):
    """Per representation: agreement and mean |Q_lens - Q|, each with its interval."""
    out = {}
    for name, per in logit_lens_per_state(net, x).items():
        out[name] = {}
        for key, values in per.items():
            out[name].update(with_interval(key, values, episode, rng))
    return out


def main(models, states, figures, out_path, *, seed):
    seed_everything(seed)
    nets, st, x = load_analysis_inputs(models, states)
    rng, episode = np.random.default_rng(seed), st["episode"]
    lens = {m: _lens(nets[m], x, episode, rng) for m in MODELS}
    panels = [
        ("agreement", "agreement with the final greedy action"),
        ("mean_abs_dq", "mean |Q_lens - Q|"),
    ]
    title = "logit lens: the Q head applied to intermediate representations"
    fig = metric_panels(lens, list(lens["trained"]), panels, title)
    save_figure(fig, figures["logit_lens"])
    # the output MLP has no residual stream: its head was trained on the last layer only, so
    # the other layers' agreements are read beside what a constant guess reaches
    chance = {m: with_interval("agreement", chance_guess(nets[m], x), episode, rng) for m in MODELS}
    write_json(
        out_path,
        {
            "logit_lens": lens,
            "logit_lens_chance_agreement": {m: chance[m]["agreement"] for m in MODELS},
            "logit_lens_chance_agreement_ci95": {m: chance[m]["agreement_ci95"] for m in MODELS},
        },
    )


if __name__ == "__main__":
    run_analysis_rule(main, snakemake)  # noqa: F821
