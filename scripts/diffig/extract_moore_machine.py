"""Rule ``extract_moore_machine``: the Moore machine of the MMN, minimized and run as a table.

Reads ``mmn.pt``; writes ``moore_machine.json`` (``raw`` and ``minimized`` machines:
states, observations, actions per state, transitions; ``table_returns`` of the minimized
machine executed as a lookup table over ``episodes`` seeded episodes) and
``transitions_raw.csv`` / ``transitions_minimized.csv`` (state, observation, next state,
action of the next state).
"""

import pandas as pd

from xai_repro.common import limit_threads, seed_everything, setup_logging, write_csv, write_json
from xai_repro.diffig.io import load_mmn
from xai_repro.diffig.moore_machine import (
    extract_moore_machine,
    minimize_moore_machine,
    run_machine,
)
from xai_repro.diffig.tasks import get_task


def transition_table(machine: dict) -> pd.DataFrame:
    rows = [
        {
            "state": int(s),
            "observation": int(o),
            "next_state": int(n),
            "action": machine["actions"][int(n)],
        }
        for s, d in machine["transitions"].items()
        for o, n in d.items()
    ]
    return pd.DataFrame(rows, columns=["state", "observation", "next_state", "action"])


def main(
    mmn_pt, machine_json, raw_csv, minimized_csv, *, seed, machine, evaluation, env, max_steps
):
    seed_everything(seed)
    task = get_task(env, max_steps)
    mmn = load_mmn(mmn_pt, task=task).eval()
    raw = extract_moore_machine(mmn, episodes=machine["episodes"], seed=seed, task=task)
    minimized = minimize_moore_machine(raw, restarts=machine["minimize_restarts"], seed=seed)
    returns = run_machine(
        raw, minimized, mmn, episodes=evaluation["episodes"], seed=evaluation["seed"], task=task
    )
    write_csv(raw_csv, transition_table(raw))
    write_csv(minimized_csv, transition_table(minimized))
    write_json(
        machine_json,
        {
            "raw": raw,
            "minimized": minimized,
            "table_returns": {
                "mean": float(returns.mean()),
                "std": float(returns.std()),
                "returns": returns.tolist(),
            },
        },
    )


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.mmn, sm.output.machine, sm.output.raw, sm.output.minimized, **sm.params)
