"""Rule ``attribute_diffig``: differential Integrated Gradients over one episode.

Reads ``mmn.pt`` and either the configured observations file (a torch-saved list of
(1, 4) tensors, as the seed's users have them) or records a greedy episode of the MMN;
writes ``diff_ig.json``: the episode's observations, the attribution (4,), completeness
error, |F(x_i) - F(x_j)| and the error relative to it of every configured (input,
baseline) pair, and a matrix over
``matrix_steps`` evenly spaced steps (every input x baseline pair).
"""

import numpy as np

from xai_repro.common import InputError, limit_threads, seed_everything, setup_logging, write_json
from xai_repro.diffig.diff_ig import (
    completeness_gap,
    differential_ig,
    relative_completeness_error,
)
from xai_repro.diffig.io import episode_observations, load_mmn
from xai_repro.diffig.rollouts import OBS_NAMES


def main(mmn_pt, diff_ig_json, *, seed, diff_ig, observations=None):
    seed_everything(seed)
    mmn = load_mmn(mmn_pt)
    obs = episode_observations(mmn, observations, diff_ig["episode_seed"])
    pairs = []
    for i, j in diff_ig["pairs"]:
        if not (0 <= i < len(obs) and 0 <= j < len(obs)):
            raise InputError(
                f"diffig.diff_ig.pairs: step pair ({i}, {j}) outside the episode of {len(obs)} steps"
            )
        attribution, error = differential_ig(mmn, obs, i, j, m=diff_ig["m"], rule=diff_ig["rule"])
        gap = completeness_gap(mmn, obs, i, j)
        pairs.append(
            {
                "input": i,
                "baseline": j,
                "attribution": attribution,
                "completeness_error": error,
                "completeness_gap": gap,
                "completeness_relative_error": relative_completeness_error(error, gap),
            }
        )
    steps = np.unique(np.linspace(0, len(obs) - 1, diff_ig["matrix_steps"]).round().astype(int))
    matrix = np.zeros((len(steps), len(steps), 4))
    errors, relative = [], []
    for a, i in enumerate(steps):
        for b, j in enumerate(steps):
            if i != j:
                matrix[a, b], err = differential_ig(
                    mmn, obs, i, j, m=diff_ig["m"], rule=diff_ig["rule"]
                )
                errors.append(err)
                relative.append(relative_completeness_error(err, completeness_gap(mmn, obs, i, j)))
    relative += [p["completeness_relative_error"] for p in pairs]
    relative = [r for r in relative if r is not None]
    write_json(
        diff_ig_json,
        {
            "features": OBS_NAMES,
            "m": diff_ig["m"],
            "rule": diff_ig["rule"],
            "observations": obs,
            "pairs": pairs,
            "matrix": {"steps": steps, "attribution": matrix},
            "completeness_error_median": float(
                np.median(errors + [p["completeness_error"] for p in pairs])
            ),
            # over the pairs whose F(x_i) - F(x_j) is not 0
            "completeness_relative_error_median": float(np.median(relative)) if relative else None,
        },
    )


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.mmn, sm.output.diff_ig, **sm.params)
