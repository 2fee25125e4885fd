"""Rule ``ablate_highway``: mean-ablate each attention head, one at a time (its output replaced
by its mean over the trained rollout's states: zeroing it would take the network off its input
distribution, and with one head remove the whole attention output), and remove the vehicle the
ego attends to most; measured on the trained rollout's states (greedy-action change rate,
mean |dQ|) and over seeded episodes (return change, crash and arrival rates), for both
networks.

Writes the ablation figure and the ablation JSON.
"""

import logging

from xai_repro.common import save_figure, seed_everything, write_json
from xai_repro.highway.data import MODELS, load_analysis_inputs, run_analysis_rule
from xai_repro.highway.env import set_fast_path
from xai_repro.highway.evaluation import episode_outcome, episode_records
from xai_repro.highway.intervention import (
    ablated_policy,
    ablation_on_states,
    ablation_variants,
    head_means,
)
from xai_repro.highway.plots import metric_panels

log = logging.getLogger(__name__)


def main(models, rollouts, figures, out_path, *, seed, ablation_episodes, order, fast_env=True):
    set_fast_path(fast_env)
    seed_everything(seed)
    nets, _, x = load_analysis_inputs(models, rollouts)
    seeds = [seed + 50_000 + i for i in range(ablation_episodes)]
    kinds = ablation_variants(nets["trained"].config["heads"])
    abl = {}
    for m in MODELS:
        net = nets[m]
        means = head_means(net, x)
        base = episode_outcome(episode_records(ablated_policy(net), seeds, order))
        abl[m] = {f"intact_{k}": v for k, v in base.items()}
        for name, kw in kinds.items():
            kw = dict(kw, means=means) if "heads" in kw else kw
            run = episode_outcome(episode_records(ablated_policy(net, **kw), seeds, order))
            abl[m][name] = {
                **ablation_on_states(
                    net, x, kw.get("heads", ()), "heads" not in kw, kw.get("means")
                ),
                **run,
                "return_change": run["mean_return"] - base["mean_return"],
                "episodes": len(seeds),
            }
            log.info("ablation %s %s: %s", m, name, abl[m][name])
    panels = [
        ("action_change_rate", "greedy action change rate (rollout states)"),
        ("return_change", f"mean return change ({len(seeds)} episodes)"),
        ("crash_rate", "crash rate"),
        ("arrival_rate", "arrival rate"),
    ]
    save_figure(metric_panels(abl, list(kinds), panels), figures["ablation"])
    write_json(out_path, {"ablation": abl})


if __name__ == "__main__":
    run_analysis_rule(main, snakemake)  # noqa: F821
