"""Rule ``inspect_circuits_highway``: the attention layer's QK and OV circuits per head
(trained, untrained, difference) and the ego's attention statistics over each rollout.

Writes the circuits figure and the circuits JSON (attention statistics, circuit norms).
"""

import numpy as np

from xai_repro.common import save_figure, seed_everything, write_json
from xai_repro.highway.data import MODELS, load_analysis_inputs, run_analysis_rule
from xai_repro.highway.inspection import ego_attention_stats, qk_ov_circuits
from xai_repro.highway.plots import triplet_rows


def main(models, rollouts, figures, out_path, *, seed):
    seed_everything(seed)
    nets, rolls, _ = load_analysis_inputs(models, rollouts)
    circ = {m: qk_ov_circuits(nets[m]) for m in MODELS}
    rows = [
        (f"head {h} {kind.upper()}", circ["trained"][h][kind], circ["untrained"][h][kind])
        for h in range(len(circ["trained"]))
        for kind in ("qk", "ov")
    ]
    save_figure(triplet_rows(rows, "attention circuits in embedding space"), figures["circuits"])
    result = {
        "attention": {m: ego_attention_stats(rolls[m]["attention"]) for m in MODELS},
        "circuit_frobenius_norm": {
            m: [{k: float(np.linalg.norm(c[k])) for k in ("qk", "ov")} for c in circ[m]]
            for m in MODELS
        },
    }
    write_json(out_path, result)


if __name__ == "__main__":
    run_analysis_rule(main, snakemake)  # noqa: F821
