"""Rule ``train_gru_policy``: the GRU policy for CartPole by imitation of an expert.

Writes ``gru.pt`` (state_dict, MMN key format) and ``gru_history.csv`` (per iteration:
sequences, greedy return). The expert is "push right iff 3 theta + theta_dot > 0";
training is supervised on its episodes (plus DAgger data if configured) with truncated
backprop through time and gradient-norm clipping.
"""

import pandas as pd

from xai_repro.common import limit_threads, seed_everything, setup_logging, write_csv
from xai_repro.diffig.io import save_state
from xai_repro.diffig.training import train_gru_dagger


def main(gru_pt, history_csv, *, seed, gru):
    seed_everything(seed)
    net, history = train_gru_dagger(
        seed=seed,
        iterations=gru["iterations"],
        episodes_per_iteration=gru["episodes_per_iteration"],
        epochs=gru["epochs"],
        lr=gru["learning_rate"],
        eval_episodes=gru["eval_episodes"],
        memory_dropout=gru["memory_dropout"],
        stop_after=gru["stop_after"],
        truncation=gru["truncation"],
        grad_clip=gru["grad_clip"],
        dagger=gru["dagger"],
    )
    save_state(net, gru_pt)
    write_csv(history_csv, pd.DataFrame(history))


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.output.gru, sm.output.history, **sm.params)
