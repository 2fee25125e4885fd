"""Rule ``time_counterfactuals``: CFRL against alibi's ``Counterfactual`` search, in one job.

Reads ``dataset.npz``, the classifier, the autoencoder and the CFRL actor. CFRL explains
the ``explain.n_instances`` explained test images toward every class (as
``explain_cfrl``); the search runs the first ``speed.n_searches`` of the baseline's
(image, target) pairs (as ``search_baseline_counterfactuals``, all shards). Each method
runs in a spawned worker process of this job, and the two alternate over
``speed.rounds`` rounds (``xai_repro.cfrl.timing``), so both are timed under the same
load. Writes ``timing.json``: wall and CPU seconds per counterfactual of both.
"""

import logging

from xai_repro.cfrl.baseline import counterfactual_settings
from xai_repro.cfrl.data import load_explained
from xai_repro.cfrl.metrics import baseline_pairs, expand_targets
from xai_repro.cfrl.models import keras_predictor, load_classifier
from xai_repro.cfrl.timing import time_side_by_side
from xai_repro.common import InputError, limit_threads, setup_logging, write_json

log = logging.getLogger(__name__)


def main(
    dataset_npz,
    classifier_path,
    autoencoder_path,
    actor_path,
    timing_json,
    *,
    seed,
    image_size,
    autoencoder,
    cfrl,
    explain,
    baseline,
    speed,
):
    data, index = load_explained(dataset_npz, explain["n_instances"], seed)
    x = data["x_test"][index]
    n_base = min(baseline["n_instances"], len(x))
    y_pred = keras_predictor(load_classifier(classifier_path, image_size))(x[:n_base])
    instance, target = baseline_pairs(y_pred.argmax(axis=1), baseline["targets_per_image"], seed)
    n = speed["n_searches"]
    if n > len(target):
        raise InputError(
            f"config cfrl.speed.n_searches = {n} exceeds the baseline's {len(target)} searches "
            "(cfrl.baseline.n_instances x targets_per_image)"
        )
    if speed["rounds"] > n:
        raise InputError(f"config cfrl.speed.rounds = {speed['rounds']} exceeds n_searches = {n}")
    x_rep, _, targets = expand_targets(x)
    times = time_side_by_side(
        x_rep,
        targets,
        x[:n_base],
        instance[:n],
        target[:n],
        classifier_path=str(classifier_path),
        autoencoder_path=str(autoencoder_path),
        actor_path=str(actor_path),
        cfrl_settings={"seed": seed, "image_size": image_size, "autoencoder": autoencoder,
                       "cfrl": cfrl},
        search_settings=counterfactual_settings(baseline),
        image_size=image_size,
        batch_size=explain["batch_size"],
        rounds=speed["rounds"],
    )  # fmt: skip
    log.info(
        "CPU s per counterfactual: CFRL %.3g, search %.3g (ratio of medians %.0f); wall: %.3g, %.3g",
        times["cfrl"]["cpu"]["median"],
        times["baseline"]["cpu"]["median"],
        times["baseline"]["cpu"]["median"] / times["cfrl"]["cpu"]["median"],
        times["cfrl"]["wall"]["median"],
        times["baseline"]["wall"]["median"],
    )
    write_json(
        timing_json,
        {
            **times,
            "n_cfrl_counterfactuals": len(targets),
            "cfrl_batch_size": explain["batch_size"],
            "n_searches": n,
            "rounds": speed["rounds"],
            "setup": "one job, two spawned single-thread workers, alternating rounds",
        },
    )


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    i = sm.input
    main(i.dataset, i.classifier, i.autoencoder, i.actor, sm.output.timing, **sm.params)
