"""Rule ``explain_cfrl``: counterfactuals of test images toward every class, in one batch, timed.

Reads ``dataset.npz``, the classifier, the autoencoder and the CFRL actor; picks
``n_instances`` test images (seeded) and asks CFRL for a counterfactual of each toward
each of the 10 classes. The whole batch is explained ``repeats`` times after one
untimed warm-up call (TensorFlow traces its functions on the first call). Writes
``cfrl.npz`` (x, test_index, y_true, y_pred, and per counterfactual: instance, target,
x_cf, cf_pred) and ``cfrl_timing.json`` (seconds per batch and per counterfactual).
"""

import logging

import numpy as np

from xai_repro.cfrl.data import load_explained
from xai_repro.cfrl.explainer import explain_all_targets, load_cfrl
from xai_repro.cfrl.metrics import timing_stats
from xai_repro.common import limit_threads, setup_logging, write_json, write_npz

log = logging.getLogger(__name__)


def main(
    dataset_npz,
    classifier_path,
    autoencoder_path,
    actor_path,
    cf_npz,
    timing_json,
    *,
    explain,
    **settings,
):
    """``settings``: seed, image_size, autoencoder, cfrl (the rule's params besides explain)."""
    data, test_index = load_explained(dataset_npz, explain["n_instances"], settings["seed"])
    predictor, explainer = load_cfrl(
        classifier_path, autoencoder_path, actor_path=actor_path, **settings
    )
    x = data["x_test"][test_index]
    index, targets, x_cf, seconds, warmup = explain_all_targets(
        explainer, x, batch_size=explain["batch_size"], repeats=explain["repeats"]
    )
    n_cf = len(targets)
    per_cf = seconds / n_cf
    log.info(
        "%d counterfactuals (%d images x 10 targets): median %.4f s per batch, %.2e s each "
        "(warm-up call %.2f s)",
        n_cf,
        len(x),
        np.median(seconds),
        np.median(per_cf),
        warmup,
    )
    cf_pred = predictor(x_cf).argmax(axis=1)
    y_pred = predictor(x).argmax(axis=1)
    log.info("validity %.3f", np.mean(cf_pred == targets))
    write_npz(
        cf_npz,
        x=x,
        test_index=test_index,
        y_true=data["y_test"][test_index],
        y_pred=y_pred,
        instance=index,
        target=targets,
        x_cf=x_cf,
        cf_pred=cf_pred,
    )
    write_json(
        timing_json,
        {
            "n_counterfactuals": n_cf,
            "batch_size": explain["batch_size"],
            "seconds_per_batch": timing_stats(seconds),
            "seconds_per_counterfactual": timing_stats(per_cf),
            "warmup_seconds": warmup,
        },
    )


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    i = sm.input
    main(i.dataset, i.classifier, i.autoencoder, i.actor, *sm.output, **sm.params)
