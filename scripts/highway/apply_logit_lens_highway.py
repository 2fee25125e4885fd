"""Rule ``apply_logit_lens_highway``: the Q head applied to the ego embedding, the attention
output and each hidden layer of the output MLP, over the trained rollout's states: how often
each already picks the final greedy action, and the mean |Q_lens - Q|.

Writes the logit_lens figure and the logit-lens JSON.
"""

from xai_repro.common import save_figure, seed_everything, write_json
from xai_repro.highway.data import MODELS, load_analysis_inputs, run_analysis_rule
from xai_repro.highway.intervention import chance_agreement, logit_lens
from xai_repro.highway.plots import metric_panels


def main(models, rollouts, figures, out_path, *, seed):
    seed_everything(seed)
    nets, _, x = load_analysis_inputs(models, rollouts)
    lens = {m: logit_lens(nets[m], x) for m in MODELS}
    panels = [
        ("agreement", "agreement with the final greedy action"),
        ("mean_abs_dq", "mean |Q_lens - Q|"),
    ]
    title = "logit lens: the Q head applied to intermediate representations"
    fig = metric_panels(lens, list(lens["trained"]), panels, title)
    save_figure(fig, figures["logit_lens"])
    # the output MLP has no residual stream: its head was trained on the last layer only, so
    # the other layers' agreements are read beside what a constant guess reaches
    chance = {m: chance_agreement(nets[m], x) for m in MODELS}
    write_json(out_path, {"logit_lens": lens, "logit_lens_chance_agreement": chance})


if __name__ == "__main__":
    run_analysis_rule(main, snakemake)  # noqa: F821
