"""Rule ``extract_moore_machine``: the Moore machine of the MMN, minimized and run as a table.

Reads ``mmn.pt``; writes ``moore_machine.json`` (``raw`` and ``minimized`` machines:
states, observations, actions per state, transitions; ``table_returns`` of the minimized
machine executed as a lookup table over the evaluation's seeded episodes, with the
observation codes per episode not seen in extraction; ``replay_returns``: the table on the
first extraction episodes, as the MMN code base's ``evaluate_fsm`` measures it) and
``transitions_raw.csv`` / ``transitions_minimized.csv`` (state, observation, next state,
action of the next state).
"""

from xai_repro.common import limit_threads, seed_everything, setup_logging, write_csv, write_json
from xai_repro.diffig.io import load_mmn
from xai_repro.diffig.moore_machine import (
    extract_moore_machine,
    minimize_moore_machine,
    run_machine,
)
from xai_repro.diffig.summary import transition_table
from xai_repro.diffig.tasks import get_task

# The MMN code base's evaluate_fsm: 3 episodes, in a fresh process seeded as generate_fsm
# was, so they start where the first 3 extraction episodes started.
REPLAY_EPISODES = 3


def main(
    mmn_pt, machine_json, raw_csv, minimized_csv, *, seed, machine, evaluation, env, max_steps
):
    seed_everything(seed)
    task = get_task(env, max_steps)
    mmn = load_mmn(mmn_pt, task=task).eval()
    raw = extract_moore_machine(mmn, episodes=machine["episodes"], seed=seed, task=task)
    minimized = minimize_moore_machine(raw, restarts=machine["minimize_restarts"], seed=seed)
    table = run_machine(
        raw, minimized, mmn, episodes=evaluation["episodes"], seed=evaluation["seed"], task=task
    )
    replay = run_machine(
        raw,
        minimized,
        mmn,
        episodes=min(REPLAY_EPISODES, machine["episodes"]),
        seed=seed,
        task=task,
    )
    write_csv(raw_csv, transition_table(raw))
    write_csv(minimized_csv, transition_table(minimized))
    write_json(
        machine_json,
        {
            "raw": raw,
            "minimized": minimized,
            "table_returns": {
                "mean": float(table["returns"].mean()),
                "std": float(table["returns"].std()),
                "returns": table["returns"].tolist(),
                "unseen_codes": table["unseen_codes"].tolist(),
                "unseen_pairs": table["unseen_pairs"].tolist(),
                "steps": table["steps"].tolist(),
            },
            "replay_returns": {
                "mean": float(replay["returns"].mean()),
                "returns": replay["returns"].tolist(),
                "unseen_codes": replay["unseen_codes"].tolist(),
            },
        },
    )


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.mmn, sm.output.machine, sm.output.raw, sm.output.minimized, **sm.params)
