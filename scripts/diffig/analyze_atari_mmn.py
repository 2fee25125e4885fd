"""Rule ``analyze_atari_mmn``: an imported Pong MMN — rollout, Moore machine, differential IG.

Reads the MMN state_dict named by ``diffig.atari.model`` (the MMN code base's format: keys
gru_net.*, obx_net.*, bhx_net.*; CUDA-saved files load on the CPU, weights_only=True).
Writes ``results/diffig/atari/metrics.json`` (return and length of a greedy episode, action
counts, machine size before and after minimization, the differential-IG completeness error
per pair, absolute and relative to |F(x_i) - F(x_j)|, with the m used) and one figure per
configured (input, baseline) pair as ``main_IG.py`` draws it: the input frame, the baseline frame, and the masked and unmasked differential-IG maps
(mean over the observation-code units that differ between input and baseline).
"""

import logging

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from xai_repro.common import (  # noqa: E402
    InputError,
    limit_threads,
    save_figure,
    seed_everything,
    setup_logging,
    write_json,
)
from xai_repro.diffig.atari import (  # noqa: E402
    ACTION_MAPS,
    ACTION_NAMES,
    load_atari_mmn,
    pong_task,
    record_episode,
)
from xai_repro.diffig.diff_ig import (  # noqa: E402
    completeness_gap,
    differential_ig,
    masked_differential_ig,
    relative_completeness_error,
)
from xai_repro.diffig.moore_machine import extract_moore_machine, minimize_moore_machine  # noqa: E402

log = logging.getLogger(__name__)


def _plot_pair(frames, maps, i, j, path):
    """Input, baseline, and the masked and unmasked maps over the input (main_IG.py's layout)."""
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.6))
    axes[0].imshow(frames[i][0], cmap="gray")
    axes[0].set_title(f"input: step {i}")
    axes[1].imshow(frames[j][0], cmap="gray")
    axes[1].set_title(f"baseline: step {j}")
    for ax, key in zip(axes[2:], ("masked", "unmasked")):
        ax.imshow(frames[i][0], cmap="gray")
        im = ax.imshow(maps[key][0], cmap="hot", alpha=0.6, interpolation="none")
        ax.set_title(f"{key} diff-IG ({maps['differing_units']} units differ)", fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.046)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    save_figure(fig, path)


def main(model_path, metrics_path, figure_paths, *, seed, atari, diff_ig, minimize_restarts):
    seed_everything(seed)
    mmn = load_atari_mmn(model_path)
    n_actions = mmn.gru_net.actor_linear.out_features
    pairs = [tuple(p) for p in atari["pairs"]]
    episode = record_episode(mmn, seed=atari["seed"], max_steps=atari["max_steps"])
    length = len(episode["actions"])
    for i, j in pairs:
        if not (0 <= i < length and 0 <= j < length):
            raise InputError(
                f"diffig.atari.pairs: ({i}, {j}) outside the recorded episode of {length} steps"
            )
    log.info("episode: return %.1f over %d steps", episode["return"], length)
    raw = extract_moore_machine(
        mmn,
        episodes=atari["machine_episodes"],
        seed=atari["seed"],
        task=pong_task(atari["max_steps"], n_actions),
    )
    minimized = minimize_moore_machine(raw, restarts=minimize_restarts, seed=seed)
    log.info(
        "machine: %d states / %d observations -> %d / %d",
        raw["n_states"],
        raw["n_observations"],
        minimized["n_states"],
        minimized["n_observations"],
    )
    results = []
    for (i, j), path in zip(pairs, figure_paths):
        maps = masked_differential_ig(
            mmn, episode["frames"], i, j, m=atari["m"], rule=diff_ig["rule"]
        )
        _, error = differential_ig(mmn, episode["frames"], i, j, m=atari["m"], rule=diff_ig["rule"])
        gap = completeness_gap(mmn, episode["frames"], i, j)
        _plot_pair(episode["frames"], maps, i, j, path)
        results.append(
            {
                "input": i,
                "baseline": j,
                "differing_units": maps["differing_units"],
                "completeness_error": error,
                "completeness_gap": gap,
                "completeness_relative_error": relative_completeness_error(error, gap),
                "masked_abs_sum": float(np.abs(maps["masked"]).sum()),
                "unmasked_abs_sum": float(np.abs(maps["unmasked"]).sum()),
            }
        )
    counts = np.bincount(episode["actions"], minlength=n_actions)
    write_json(
        metrics_path,
        {
            "episode": {"seed": atari["seed"], "return": episode["return"], "steps": length},
            "action_map": {
                name: int(env_id)
                for name, env_id in zip(ACTION_NAMES[n_actions], ACTION_MAPS[n_actions])
            },
            "action_counts": {name: int(c) for name, c in zip(ACTION_NAMES[n_actions], counts)},
            "moore_machine": {
                "episodes": atari["machine_episodes"],
                "states_before": raw["n_states"],
                "observations_before": raw["n_observations"],
                "states_after": minimized["n_states"],
                "observations_after": minimized["n_observations"],
                "observations_after_wildcard": minimized["n_observations_wildcard"],
                "action_conflicts": raw["action_conflicts"],
            },
            "diff_ig": results,
            "diff_ig_rule": {"m": atari["m"], "rule": diff_ig["rule"]},
        },
    )


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.model, sm.output.metrics, list(sm.output.figures), **sm.params)
