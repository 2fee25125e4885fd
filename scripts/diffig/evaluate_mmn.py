"""Rule ``evaluate_mmn``: greedy returns of the GRU and of each inserted network.

Reads ``mmn.pt``; writes ``returns.json`` with, for gru, gru_hxqbn, gru_obsqbn and mmn,
the mean, std and every return over ``episodes`` seeded episodes, and
``hidden_state_agreement``: how often the GRU's greedy action on the inputs of its own
evaluation episodes stays the same across random hidden states (its use of memory).
"""

from xai_repro.common import limit_threads, seed_everything, setup_logging, write_json
from xai_repro.diffig.io import load_mmn
from xai_repro.diffig.networks import MMNet
from xai_repro.diffig.rollouts import evaluate_networks
from xai_repro.diffig.tasks import get_task


def main(mmn_pt, returns_json, *, seed, evaluation, env, max_steps):
    seed_everything(seed)
    task = get_task(env, max_steps)
    mmn = load_mmn(mmn_pt, task=task).eval()
    nets = {
        "gru": MMNet(mmn.gru_net),
        "gru_hxqbn": MMNet(mmn.gru_net, None, mmn.bhx_net),
        "gru_obsqbn": MMNet(mmn.gru_net, mmn.obx_net, None),
        "mmn": mmn,
    }
    out = evaluate_networks(
        nets, task, evaluation["episodes"], evaluation["seed"], agreement_seed=seed
    )
    write_json(returns_json, out)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.mmn, sm.output.returns, **sm.params)
