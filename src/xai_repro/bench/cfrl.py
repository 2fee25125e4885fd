"""CFRL rows: seconds per counterfactual against alibi's ``Counterfactual`` (the study's
optimization baseline, measured by ``measure_baseline`` in a TF1-graph process of its own on
the same images and seeded non-own targets), CFRL fit steps/s with the PyTorch vs the
TensorFlow backend, and the cost of one explain call against its number of counterfactuals.

Reads the workflow's trained classifier, autoencoder and actor (TensorFlow backend) from
``<results>/cfrl``.
"""

import inspect
from pathlib import Path

import numpy as np

from xai_repro.bench.report import interleaved, make_curve, make_row, summary, timed
from xai_repro.cfrl.baseline import counterfactual_settings, graph_mode_keras, search
from xai_repro.cfrl.data import explained_indices, load_dataset
from xai_repro.cfrl.explainer import build_explainer, load_cfrl
from xai_repro.cfrl.metrics import baseline_pairs, expand_targets, validity
from xai_repro.cfrl.models import build_keras_autoencoder, build_torch_autoencoder


def _first_images(cfg: dict, art: Path, n: int):
    data = load_dataset(art / "data/dataset.npz")
    index = explained_indices(data, cfg["explain"]["n_instances"], cfg["seed"], art)
    return data, data["x_test"][index[:n]]


def measure_baseline(cfg: dict, results, repeats: int, quick: bool, earlier: dict):
    """alibi's Counterfactual (``xai_repro.cfrl.baseline.search``) on the first images CFRL
    explains: {"baseline": {seconds, validity, n, settings}} for the cfrl group. TF1 graph
    mode, so it must run before TensorFlow is imported (a process of its own)."""
    from xai_repro.cfrl.models import build_classifier, load_weights, set_keras_weights

    _, keras = graph_mode_keras()
    art = Path(results) / "cfrl"
    _, x = _first_images(cfg, art, 2 if quick else 4)
    model = build_classifier(keras, x.shape[1], probabilities=True)
    weights = art / "models/classifier.npz"
    set_keras_weights(model, load_weights(weights), weights)
    y_pred = model.predict(x, verbose=0).argmax(axis=1)
    instance, target = baseline_pairs(y_pred, cfg["baseline"]["targets_per_image"], cfg["seed"])
    settings = counterfactual_settings(cfg["baseline"])
    out = search(model, x, instance, target, settings=settings)
    valid = validity(model.predict(out["x_cf"], verbose=0).argmax(axis=1), target)
    seconds = summary(out["seconds"])
    return {
        "baseline": {"seconds": seconds, "validity": valid, "n": len(target), "settings": settings}
    }


def per_counterfactual_row(cfg: dict, art: Path, baseline: dict | None, repeats: int):
    data, x = _first_images(cfg, art, cfg["explain"]["n_instances"])
    predictor, explainer = load_cfrl(
        art / "models/classifier.npz",
        art / "models/autoencoder.npz",
        image_size=data["x_test"].shape[1],
        autoencoder=cfg["autoencoder"],
        cfrl=dict(cfg["cfrl"], backend="tensorflow"),
        seed=cfg["seed"],
        actor_path=art / "models/actor.npz",
    )
    x_rep, _, targets = expand_targets(x)
    batch = cfg["explain"]["batch_size"]
    explainer.explain(x_rep, Y_t=targets, batch_size=batch)  # warm-up (tracing)
    out = {}
    run = {"cfrl": lambda: out.update(e=explainer.explain(x_rep, Y_t=targets, batch_size=batch))}
    seconds = interleaved(run, repeats, per={"cfrl": len(targets)})["cfrl"]
    x_cf = np.asarray(out["e"].data["cf"]["X"], dtype=np.float32).reshape(x_rep.shape)
    valid = validity(predictor(x_cf).argmax(axis=1), targets)
    ours = {"label": f"CFRL ({len(targets)} cfs per call)", "values": seconds}
    base, notes = None, f"validity CFRL {valid:.3f}"
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


def fit_steps_row(cfg: dict, art: Path, repeats: int, quick: bool):
    """Steps/s of CounterfactualRL.fit on each backend (fresh autoencoders: speed only)."""
    import keras

    from xai_repro.cfrl.models import keras_predictor, load_classifier

    data = load_dataset(art / "data/dataset.npz")
    size = data["x_train"].shape[1]
    predictor = keras_predictor(load_classifier(art / "models/classifier.npz", size))
    ae, steps = cfg["autoencoder"], 100 if quick else 400
    accepted = set(inspect.signature(build_explainer).parameters) - {"backend"}
    params = {k: v for k, v in cfg["cfrl"].items() if k in accepted}
    params.update(train_steps=steps, exploration_steps=min(params["exploration_steps"], steps // 4))
    params["update_after"] = min(params["update_after"], steps // 10)
    latent, hidden = ae["latent_dim"], ae["hidden_dim"]
    autoencoders = {
        "tensorflow": lambda: build_keras_autoencoder(keras, size, latent, hidden),
        "pytorch": lambda: build_torch_autoencoder(size, latent, hidden),
    }
    rates = {backend: [] for backend in autoencoders}
    settings = dict(latent_dim=latent, seed=cfg["seed"], **params)
    for _ in range(repeats):
        for backend, build in autoencoders.items():
            explainer = build_explainer(predictor, *build(), backend=backend, **settings)
            (sec,) = timed(lambda e=explainer: e.fit(X=data["x_train"]), 1)
            rates[backend].append(steps / sec)
    return make_row(
        "cfrl.fit_steps_per_s",
        f"CFRL fit steps/s ({steps} steps incl. TF tracing; batch {params['batch_size']})",
        "steps/s",
        {"label": "PyTorch", "values": rates["pytorch"]},
        {"label": "TensorFlow", "values": rates["tensorflow"]},
        notes=f"ratio = PyTorch over TensorFlow (workflow default backend: {cfg['cfrl']['backend']})",
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


def measure(cfg: dict, results, repeats: int, quick: bool, earlier: dict):
    """The CFRL group's rows and curves; ``earlier["baseline"]`` from measure_baseline."""
    if cfg["cfrl"]["backend"] != "tensorflow":
        raise ValueError(
            f"cfrl.cfrl.backend is {cfg['cfrl']['backend']}: the CFRL rows read the tensorflow models"
        )
    art = Path(results) / "cfrl"
    row, explainer, x = per_counterfactual_row(cfg, art, earlier.get("baseline"), repeats)
    curve = batch_curve(explainer, x, repeats, quick)
    return {"rows": [row, fit_steps_row(cfg, art, repeats, quick)], "curves": [curve]}
