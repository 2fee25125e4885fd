"""Rule ``summarize_diffig``: the study's headline numbers in ``metrics.json``.

Reads ``returns.json``, ``moore_machine.json`` and (CartPole) ``diff_ig.json``, or with
``diffig.gru_only`` the GRU's ``gru_returns.json`` alone; keys are documented in
docs/diffig.md ("metrics.json").
"""

from xai_repro.common import read_json, setup_logging, write_json
from xai_repro.diffig.summary import summarize


def main(returns_json, machine_json, metrics_json, diff_ig_json=None, *, env):
    diff_ig = read_json(diff_ig_json) if diff_ig_json else None
    machine = read_json(machine_json) if machine_json else None
    write_json(metrics_json, summarize(read_json(returns_json), machine, diff_ig, env))


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    main(
        sm.input.returns,
        sm.input.get("machine"),
        sm.output.metrics,
        sm.input.get("diff_ig"),
        **sm.params,
    )
