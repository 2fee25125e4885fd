"""Rule ``ablate_highway``: mean-ablate each attention head, one at a time (its output replaced
by its mean over the trained agent's pooled states: zeroing it would take the network off its input
distribution, and with one head remove the whole attention output), and remove the vehicle the
ego attends to most; measured on the trained agent's pooled states (greedy-action change rate,
mean |dQ|, episode-bootstrap 95 % intervals) and over seeded episodes (return change with a
paired bootstrap interval, crash and arrival rates with Wilson intervals), for both networks.

Writes the ablation figure and the ablation JSON.
"""

import logging

import numpy as np

from xai_repro.common import save_figure, seed_everything, write_json
from xai_repro.highway.data import MODELS, load_analysis_inputs, run_analysis_rule
from xai_repro.highway.env import set_fast_path
from xai_repro.highway.evaluation import episode_outcome, episode_records, outcome_intervals
from xai_repro.highway.intervention import (
    ablated_policy,
    ablation_per_state,
    ablation_variants,
    head_means,
)
from xai_repro.highway.plots import metric_panels
from xai_repro.highway.states import with_interval

log = logging.getLogger(__name__)


def main(models, states, figures, out_path, *, seed, ablation_episodes, observation, fast_env=True):
    set_fast_path(fast_env)
    seed_everything(seed)
    nets, st, x = load_analysis_inputs(models, states)
    rng, episode = np.random.default_rng(seed), st["episode"]
    seeds = [seed + 50_000 + i for i in range(ablation_episodes)]
    kinds = ablation_variants(nets["trained"].config["heads"])
    abl = {}
    for m in MODELS:
        net = nets[m]
        means = head_means(net, x)
        intact = episode_records(ablated_policy(net), seeds, observation=observation)
        base = {**episode_outcome(intact), **outcome_intervals(intact, rng)}
        abl[m] = {f"intact_{k}": v for k, v in base.items()}
        for name, kw in kinds.items():
            kw = dict(kw, means=means) if "heads" in kw else kw
            runs = episode_records(ablated_policy(net, **kw), seeds, observation=observation)
            per = ablation_per_state(
                net, x, kw.get("heads", ()), "heads" not in kw, kw.get("means")
            )
            abl[m][name] = {
                **with_interval("action_change_rate", per["action_change"], episode, rng),
                **with_interval("mean_abs_q_change", per["abs_q_change"], episode, rng),
                **episode_outcome(runs),
                **outcome_intervals(runs, rng, intact),
                "episodes": len(seeds),
            }
            log.info("ablation %s %s: %s", m, name, abl[m][name])
    panels = [
        ("action_change_rate", "greedy action change rate (pooled states)"),
        ("return_change", f"mean return change ({len(seeds)} episodes)"),
        ("crash_rate", "crash rate"),
        ("arrival_rate", "arrival rate"),
    ]
    save_figure(metric_panels(abl, list(kinds), panels), figures["ablation"])
    write_json(out_path, {"ablation": abl})


if __name__ == "__main__":
    run_analysis_rule(main, snakemake)  # noqa: F821
