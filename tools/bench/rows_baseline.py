"""alibi's Counterfactual (the CFRL study's optimization baseline) timed per search, in its
own process: it needs TensorFlow 1 graph mode with tf-keras, set before TF is imported.

Reuses the rule ``search_baseline_counterfactuals``'s ``graph_mode_keras`` and ``search``
with the config's baseline settings and seeded non-own targets (``baseline_pairs``), on
the first images CFRL explains;
writes {"seconds": summary per search, "validity", "found_share", "n"}.
"""

import json
from pathlib import Path

from _common import load_config, parse_args, use_rule_scripts

from xai_repro.bench.stats import summary

use_rule_scripts("cfrl")
from search_baseline_counterfactuals import graph_mode_keras, search  # noqa: E402


def main() -> None:
    args = parse_args(__doc__)
    _, keras = graph_mode_keras()
    from xai_repro.cfrl.data import explained_indices, load_dataset
    from xai_repro.cfrl.metrics import baseline_pairs, validity
    from xai_repro.cfrl.models import build_classifier, load_weights, set_keras_weights
    from xai_repro.common import limit_threads, seed_everything

    limit_threads(args.threads)
    cfg = load_config(args.config)["cfrl"]
    art = Path(args.artifacts) / "results/cfrl"
    data = load_dataset(art / "data/dataset.npz")
    index = explained_indices(data, cfg["explain"]["n_instances"], cfg["seed"], art)
    n = 2 if args.quick else 4
    x = data["x_test"][index[:n]]
    seed_everything(cfg["seed"])
    model = build_classifier(keras, x.shape[1], probabilities=True)
    weights = art / "models/classifier.npz"
    set_keras_weights(model, load_weights(weights), weights)
    per_image = cfg["baseline"]["targets_per_image"]
    y_pred = model.predict(x, verbose=0).argmax(axis=1)
    instance, target = baseline_pairs(y_pred, per_image, cfg["seed"])
    not_settings = ("n_instances", "targets_per_image", "shards")
    settings = {k: v for k, v in cfg["baseline"].items() if k not in not_settings}
    x_cf, found, seconds, setup = search(model, x, instance, target, settings=settings)
    valid = validity(model.predict(x_cf, verbose=0).argmax(axis=1), target)
    out = {
        "seconds": summary(seconds),
        "setup_seconds_per_target": summary(setup),
        "validity": valid,
        "found_share": float(found.mean()),
        "n": int(len(seconds)),
        "settings": settings,
    }
    Path(args.out).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
