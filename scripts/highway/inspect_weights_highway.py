"""Rule ``inspect_weights_highway``: products of consecutive weight matrices, (W1 W0)^T, of the
ego and others embeddings (input feature x neuron) and of the output MLP (attention-output
unit x neuron), trained vs untrained.

Writes the weights figure and the weights JSON (per input feature, the norm of its row).
"""

import numpy as np

from xai_repro.common import save_figure, seed_everything, write_json
from xai_repro.highway.data import MODELS, load_nets, run_analysis_rule
from xai_repro.highway.inspection import weight_products
from xai_repro.highway.network import FEATURES
from xai_repro.highway.plots import triplet_rows


def main(models, states, figures, out_path, *, seed):
    seed_everything(seed)
    nets = load_nets(models)
    prods = {m: weight_products(nets[m]) for m in MODELS}
    rows = [
        (
            name,
            prods["trained"][name],
            prods["untrained"][name],
            FEATURES if name.endswith("embedding") else None,
        )
        for name in prods["trained"]
    ]
    fig = triplet_rows(rows, "(W1 W0)^T: input (rows) x second-layer neuron (columns)")
    save_figure(fig, figures["weights"])
    result = {
        "weight_products": {
            m: {
                name: {"feature_norm": np.linalg.norm(p, axis=1).tolist()}
                for name, p in prods[m].items()
                if name.endswith("embedding")
            }
            for m in MODELS
        }
    }
    write_json(out_path, result)


if __name__ == "__main__":
    run_analysis_rule(main, snakemake)  # noqa: F821
