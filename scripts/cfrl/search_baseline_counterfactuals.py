"""Rule ``search_baseline_counterfactuals``: the optimization baseline, alibi's ``Counterfactual``.

alibi's ``Counterfactual`` (Wachter et al.: gradient search on
lambda * (p_target - target_proba)^2 + L1 distance, with a search over lambda) builds a
TensorFlow 1 graph, so this job runs in its own process in graph mode with tf-keras
(``TF_USE_LEGACY_KERAS=1``) and the classifier rebuilt there from the same weights.
Reads ``dataset.npz`` and the classifier. The images are the first ``n_instances`` of
the test images CFRL explains (the same seeded choice); each is searched toward
``targets_per_image`` seeded classes other than its predicted class. The searches are
sharded over jobs by target class (shard k of n: targets t with t % n == k). Writes
``baseline_{shard}.npz`` (instance, target, x_cf, found, seconds, cpu_seconds) and
``baseline_{shard}_timing.json`` (seconds per search; graph construction reported apart).
The search itself is ``xai_repro.cfrl.baseline.search``.
"""

import logging

import numpy as np

from xai_repro.cfrl.baseline import counterfactual_settings, graph_mode_keras, search
from xai_repro.cfrl.data import load_explained
from xai_repro.cfrl.metrics import baseline_pairs
from xai_repro.cfrl.models import build_classifier, load_weights, set_keras_weights
from xai_repro.common import (
    InputError,
    limit_threads,
    seed_everything,
    setup_logging,
    write_json,
    write_npz,
)

log = logging.getLogger(__name__)


def main(
    dataset_npz,
    classifier_path,
    baseline_npz,
    timing_json,
    *,
    seed,
    image_size,
    n_explained,
    baseline,
    shard,
):
    n, shards = baseline["n_instances"], baseline["shards"]
    if n > n_explained:
        raise InputError(
            f"config cfrl.baseline.n_instances = {n} exceeds the {n_explained} images "
            "explained by CFRL (cfrl.explain.n_instances)"
        )
    data, index = load_explained(dataset_npz, n_explained, seed)
    x = data["x_test"][index[:n]]
    _, keras = graph_mode_keras()
    seed_everything(seed)
    model = build_classifier(keras, image_size, probabilities=True)
    set_keras_weights(model, load_weights(classifier_path), classifier_path)
    y_pred = model.predict(x, verbose=0).argmax(axis=1)
    instance, target = baseline_pairs(
        y_pred, baseline["targets_per_image"], seed, shard=int(shard), shards=shards
    )
    out = search(model, x, instance, target, settings=counterfactual_settings(baseline))
    found, seconds, setup = out["found"], out["seconds"], out["setup_seconds"]
    log.info(
        "shard %s of %d: %d searches, %.1f%% found, median %.3f s each (setup %.2f s per target)",
        shard,
        shards,
        len(seconds),
        100 * found.mean() if len(found) else float("nan"),
        np.median(seconds) if len(seconds) else float("nan"),
        np.median(setup) if len(setup) else float("nan"),
    )
    write_npz(
        baseline_npz,
        instance=instance,
        target=target,
        x_cf=out["x_cf"],
        found=found,
        seconds=seconds,
        cpu_seconds=out["cpu_seconds"],
    )
    write_json(
        timing_json,
        {
            "method": "alibi.explainers.Counterfactual (TF1 graph mode, tf-keras)",
            "n_counterfactuals": len(seconds),
            "seconds_total": float(seconds.sum() + setup.sum()),
            "setup_seconds": setup.tolist(),
        },
    )


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    args = (sm.input.dataset, sm.input.classifier, *sm.output)
    main(*args, shard=sm.wildcards.shard, **sm.params)
