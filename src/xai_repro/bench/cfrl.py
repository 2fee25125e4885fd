"""CFRL rows: seconds per counterfactual against alibi's ``Counterfactual`` (the study's
optimization baseline), CFRL fit steps/s with the PyTorch vs the TensorFlow backend, and the
cost of one explain call against its number of counterfactuals; on the workflow's trained
classifier, autoencoder and actor (TensorFlow backend) in ``<results>/cfrl``."""

import inspect
from pathlib import Path

import numpy as np

from xai_repro.bench.report import make_curve, make_row, timed
from xai_repro.cfrl.baseline import counterfactual_settings
from xai_repro.cfrl.data import explained_indices, load_dataset
from xai_repro.cfrl.explainer import build_explainer, load_cfrl
from xai_repro.cfrl.metrics import baseline_pairs, expand_targets
from xai_repro.cfrl.models import build_keras_autoencoder, build_torch_autoencoder
from xai_repro.cfrl.timing import time_side_by_side


def per_counterfactual_row(cfg: dict, art: Path, x, predictor, repeats: int, quick: bool):
    """``xai_repro.cfrl.timing.time_side_by_side``: CFRL's whole batch against the first
    ``2 if quick else 4`` images' alibi searches, in alternating rounds (one per repeat)."""
    y_pred = predictor(x[: 2 if quick else 4]).argmax(axis=1)
    instance, target = baseline_pairs(y_pred, cfg["baseline"]["targets_per_image"], cfg["seed"])
    x_rep, _, targets = expand_targets(x)
    settings = dict(seed=cfg["seed"], image_size=x.shape[1], autoencoder=cfg["autoencoder"])
    names = ("classifier", "autoencoder", "actor")
    paths = {f"{m}_path": str(art / f"models/{m}.npz") for m in names}
    times = time_side_by_side(
        x_rep,
        targets,
        x[: len(y_pred)],
        instance,
        target,
        **paths,
        cfrl_settings=dict(settings, cfrl=cfg["cfrl"]),
        search_settings=counterfactual_settings(cfg["baseline"]),
        image_size=x.shape[1],
        batch_size=cfg["explain"]["batch_size"],
        rounds=min(max(repeats, 2), len(target)),
    )
    return make_row(
        "cfrl.seconds_per_counterfactual",
        "seconds per counterfactual (one thread each, alternating rounds)",
        "s",
        {"label": f"CFRL ({len(targets)} cfs per call)", **times["cfrl"]["wall"]},
        {"label": f"alibi Counterfactual ({len(target)} searches)", **times["baseline"]["wall"]},
        higher_is_better=False,
        goal={"min": 1000},
        notes="same images, classifier and seeded non-own targets; validity: the study's metrics",
        extra={"cpu": {k: v["cpu"] for k, v in times.items()}},
    )


def fit_steps_row(cfg: dict, x_train, predictor, repeats: int, quick: bool):
    """Steps/s of CounterfactualRL.fit on each backend (fresh autoencoders: speed only)."""
    import keras

    size, steps = x_train.shape[1], 100 if quick else 400
    latent, hidden = cfg["autoencoder"]["latent_dim"], cfg["autoencoder"]["hidden_dim"]
    accepted = set(inspect.signature(build_explainer).parameters) - {"backend"}
    params = {k: v for k, v in cfg["cfrl"].items() if k in accepted}
    params.update(train_steps=steps, exploration_steps=min(params["exploration_steps"], steps // 4))
    params.update(
        update_after=min(params["update_after"], steps // 10), latent_dim=latent, seed=cfg["seed"]
    )
    autoencoders = {
        "tensorflow": lambda: build_keras_autoencoder(keras, size, latent, hidden),
        "pytorch": lambda: build_torch_autoencoder(size, latent, hidden),
    }
    rates = {backend: [] for backend in autoencoders}
    for _ in range(repeats):  # alternating; fresh explainers, built outside the timing
        for backend, build in autoencoders.items():
            explainer = build_explainer(predictor, *build(), backend=backend, **params)
            rates[backend] += [steps / s for s in timed(lambda e=explainer: e.fit(X=x_train), 1)]
    return make_row(
        "cfrl.fit_steps_per_s",
        f"CFRL fit steps/s ({steps} steps incl. TF tracing; batch {params['batch_size']})",
        "steps/s",
        ("PyTorch", rates["pytorch"]),
        ("TensorFlow", rates["tensorflow"]),
        notes=f"ratio = PyTorch over TensorFlow (workflow default backend: {cfg['cfrl']['backend']})",
    )


def batch_curve(cfg: dict, art: Path, x, repeats: int, quick: bool) -> dict:
    path = {m: art / f"models/{m}.npz" for m in ("classifier", "autoencoder", "actor")}
    kw = {k: cfg[k] for k in ("autoencoder", "cfrl", "seed")} | {"actor_path": path["actor"]}
    _, explainer = load_cfrl(path["classifier"], path["autoencoder"], image_size=x.shape[1], **kw)
    x_rep, _, targets = expand_targets(x)
    sizes = [1, 10, 100, 1000] if quick else [1, 10, 100, 1000, 10_000]
    reps = -(-max(sizes) // len(x_rep))
    X, T = np.concatenate([x_rep] * reps), np.concatenate([targets] * reps)
    points = {}
    for n in sizes:
        explainer.explain(X[:n], Y_t=T[:n], batch_size=n)  # trace this shape
        points[n] = timed(lambda n=n: explainer.explain(X[:n], Y_t=T[:n], batch_size=n), repeats)
    return make_curve("cfrl.explain_batch", "CFRL explain call", "counterfactuals", points)


def measure(cfg: dict, results, repeats: int, quick: bool):
    """The CFRL group's rows and curve."""
    from xai_repro.cfrl.models import keras_predictor, load_classifier

    if (backend := cfg["cfrl"]["backend"]) != "tensorflow":
        raise ValueError(f"cfrl.cfrl.backend is {backend}: the rows read the tensorflow models")
    art = Path(results) / "cfrl"
    data = load_dataset(art / "data/dataset.npz")
    x = data["x_test"][explained_indices(data, cfg["explain"]["n_instances"], cfg["seed"], art)]
    predictor = keras_predictor(load_classifier(art / "models/classifier.npz", x.shape[1]))
    rows = [
        per_counterfactual_row(cfg, art, x, predictor, repeats, quick),
        fit_steps_row(cfg, data["x_train"], predictor, repeats, quick),
    ]
    return {"rows": rows, "curves": [batch_curve(cfg, art, x, repeats, quick)]}
