"""Rule ``evaluate_gru`` (``diffig.gru_only``): greedy returns of the GRU alone.

Reads ``gru.pt``; writes ``gru_returns.json`` with the GRU's mean, std and every return over
``episodes`` seeded episodes and its ``hidden_state_agreement`` (as ``evaluate_mmn``).
"""

from xai_repro.common import limit_threads, seed_everything, setup_logging, write_json
from xai_repro.diffig.io import load_gru
from xai_repro.diffig.networks import MMNet
from xai_repro.diffig.rollouts import evaluate_networks
from xai_repro.diffig.tasks import get_task


def main(gru_pt, returns_json, *, seed, evaluation, env, max_steps):
    seed_everything(seed)
    task = get_task(env, max_steps)
    nets = {"gru": MMNet(load_gru(gru_pt, task))}
    out = evaluate_networks(
        nets, task, evaluation["episodes"], evaluation["seed"], agreement_seed=seed
    )
    write_json(returns_json, out)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.gru, sm.output.returns, **sm.params)
