"""Rule ``inspect_circuits_highway``: the attention layer's QK and OV circuits per head
(trained, untrained, difference) and the ego's attention statistics of both networks on the
trained agent's pooled states, with episode-bootstrap 95 % intervals.

Writes the circuits figure and the circuits JSON (attention statistics, circuit norms).
"""

import numpy as np
import torch

from xai_repro.common import save_figure, seed_everything, write_json
from xai_repro.highway.data import MODELS, load_analysis_inputs, run_analysis_rule
from xai_repro.highway.inspection import ego_attention_per_state, qk_ov_circuits
from xai_repro.highway.plots import triplet_rows
from xai_repro.highway.states import with_interval


def _attention(net, x, episode, rng):
    """The ego's attention statistics of ``net`` on states ``x``, with their intervals."""
    with torch.no_grad():
        att = net.get_attention_matrix(x)[:, :, 0, :].numpy()  # (states, heads, entities)
    self_att, entropy = ego_attention_per_state(att)
    return {
        **with_interval("ego_self_attention", self_att, episode, rng),
        **with_interval("entropy", entropy, episode, rng),
    }


def main(models, states, figures, out_path, *, seed):
    seed_everything(seed)
    nets, st, x = load_analysis_inputs(models, states)
    rng = np.random.default_rng(seed)
    circ = {m: qk_ov_circuits(nets[m]) for m in MODELS}
    rows = [
        (f"head {h} {kind.upper()}", circ["trained"][h][kind], circ["untrained"][h][kind])
        for h in range(len(circ["trained"]))
        for kind in ("qk", "ov")
    ]
    save_figure(triplet_rows(rows, "attention circuits in embedding space"), figures["circuits"])
    result = {
        "attention": {m: _attention(nets[m], x, st["episode"], rng) for m in MODELS},
        "circuit_frobenius_norm": {
            m: [{k: float(np.linalg.norm(c[k])) for k in ("qk", "ov")} for c in circ[m]]
            for m in MODELS
        },
    }
    write_json(out_path, result)


if __name__ == "__main__":
    run_analysis_rule(main, snakemake)  # noqa: F821
