"""CFRL rows: seconds per counterfactual (vs alibi's Counterfactual, measured by
rows_baseline.py in its own TF1-graph process on the same images and targets), CFRL fit
steps/s with the TensorFlow vs the PyTorch backend, and the cost of one explain call
against the number of counterfactuals in it (1..10^4).

Reads the workflow's trained classifier, autoencoder and actor (TensorFlow backend) from
``--artifacts``/results/cfrl; reuses the rule ``explain_cfrl``'s timer.
"""

import inspect
import json
from pathlib import Path

import numpy as np
from _common import load_config, parse_args, use_rule_scripts, write_group

from xai_repro.bench.report import make_curve, make_row
from xai_repro.bench.stats import timed
from xai_repro.cfrl.data import explained_indices, load_dataset
from xai_repro.cfrl.explainer import build_explainer, load_cfrl
from xai_repro.cfrl.metrics import expand_targets, validity
from xai_repro.cfrl.models import build_keras_autoencoder, build_torch_autoencoder
from xai_repro.common import limit_threads

use_rule_scripts("cfrl")

ACCEPTED = set(inspect.signature(build_explainer).parameters)


def cfrl_params(cfg: dict, backend: str) -> dict:
    """The config's cfrl section as build_explainer takes it (keys it does not know dropped:
    a schedule such as a sparsity warm-up is load_cfrl's business, not fit speed's)."""
    return {k: v for k, v in cfg["cfrl"].items() if k in ACCEPTED or k == "backend"} | {
        "backend": backend
    }


from explain_cfrl import explain_all_targets  # noqa: E402


def per_counterfactual_row(cfg, art: Path, baseline: dict | None, repeats: int):
    data = load_dataset(art / "data/dataset.npz")
    size = data["x_test"].shape[1]
    n = cfg["explain"]["n_instances"]
    x = data["x_test"][explained_indices(data, n, cfg["seed"], art)]
    cfg_tf = dict(cfg["cfrl"], backend="tensorflow")
    predictor, explainer = load_cfrl(
        art / "models/classifier.npz",
        art / "models/autoencoder.npz",
        image_size=size,
        autoencoder=cfg["autoencoder"],
        cfrl=cfg_tf,
        seed=cfg["seed"],
        actor_path=art / "models/actor.npz",
    )
    _, targets, x_cf, seconds, _ = explain_all_targets(
        explainer, x, batch_size=cfg["explain"]["batch_size"], repeats=repeats
    )
    valid = validity(predictor(x_cf).argmax(axis=1), targets)
    ours = {"label": f"CFRL ({len(targets)} cfs per call)", "values": list(seconds / len(targets))}
    base = None
    notes = f"validity CFRL {valid:.3f}"
    if baseline is not None:
        base = {"label": f"alibi Counterfactual ({baseline['n']} searches)", **baseline["seconds"]}
        notes += f", alibi {baseline['validity']:.3f} (same images, targets, classifier)"
    row = make_row(
        "cfrl.seconds_per_counterfactual",
        "seconds per counterfactual",
        "s",
        ours,
        base,
        higher_is_better=False,
        goal={"min": 1000},
        notes=notes,
        extra={"validity_cfrl": valid, "baseline": baseline},
    )
    return row, explainer, x


def fit_steps_row(cfg, art: Path, repeats: int, quick: bool):
    """Steps/s of CounterfactualRL.fit on each backend (fresh autoencoders: speed only)."""
    import keras

    from xai_repro.cfrl.models import keras_predictor, load_classifier

    data = load_dataset(art / "data/dataset.npz")
    size = data["x_train"].shape[1]
    predictor = keras_predictor(load_classifier(art / "models/classifier.npz", size))
    ae = cfg["autoencoder"]
    steps = 100 if quick else 400
    params = cfrl_params(cfg, "tensorflow")
    del params["backend"]
    params.update(train_steps=steps, exploration_steps=min(params["exploration_steps"], steps // 4))
    params["update_after"] = min(params["update_after"], steps // 10)
    rates = {"tensorflow": [], "pytorch": []}
    for _ in range(repeats):
        for backend in rates:
            if backend == "tensorflow":
                enc, dec = build_keras_autoencoder(keras, size, ae["latent_dim"], ae["hidden_dim"])
            else:
                enc, dec = build_torch_autoencoder(size, ae["latent_dim"], ae["hidden_dim"])
            explainer = build_explainer(
                predictor,
                enc,
                dec,
                backend=backend,
                latent_dim=ae["latent_dim"],
                seed=cfg["seed"],
                **params,
            )
            (sec,) = timed(lambda e=explainer: e.fit(X=data["x_train"]), 1)
            rates[backend].append(steps / sec)
    return make_row(
        "cfrl.fit_steps_per_s",
        f"CFRL fit steps/s ({steps} steps incl. TF tracing; batch {params['batch_size']})",
        "steps/s",
        {"label": "PyTorch", "values": rates["pytorch"]},
        {"label": "TensorFlow", "values": rates["tensorflow"]},
        notes="ratio = PyTorch over TensorFlow (workflow default backend: "
        f"{cfg['cfrl']['backend']})",
    )


def batch_curve(explainer, x, repeats: int, quick: bool) -> dict:
    x_rep, _, targets = expand_targets(x)
    sizes = [1, 10, 100, 1000] if quick else [1, 10, 100, 1000, 10_000]
    reps = -(-max(sizes) // len(x_rep))
    X, T = np.concatenate([x_rep] * reps), np.concatenate([targets] * reps)
    points = {}
    for n in sizes:
        explainer.explain(X[:n], Y_t=T[:n], batch_size=n)  # trace this shape
        points[n] = timed(lambda n=n: explainer.explain(X[:n], Y_t=T[:n], batch_size=n), repeats)
    return make_curve("cfrl.explain_batch", "CFRL explain call", "counterfactuals", points)


def main() -> None:
    args = parse_args(__doc__)
    limit_threads(args.threads)
    cfg = load_config(args.config)["cfrl"]
    art = Path(args.artifacts) / "results/cfrl"
    baseline = json.loads(Path(args.baseline_json).read_text()) if args.baseline_json else None
    row, explainer, x = per_counterfactual_row(cfg, art, baseline, args.repeats)
    curve = batch_curve(explainer, x, args.repeats, args.quick)
    rows = [row, fit_steps_row(cfg, art, args.repeats, args.quick)]
    write_group(args.out, rows, [curve])


if __name__ == "__main__":
    main()
