"""Rule ``attribute_duffing``: one explainer on both models (surrogate and true ODE).

Reads ``points.csv``, ``train.csv`` (background), ``scaler.json`` and
``surrogate.keras``; writes ``attributions/<explainer>.csv``: one row per
(point, model, output) with the point's scaled features and attr_x0, attr_v0, attr_t.
Both models see the same background (``background_size`` training rows drawn with
the study's seed) and the same points.
"""

import logging
import time

import pandas as pd

from xai_repro.common import limit_threads, read_csv, seed_everything, setup_logging, write_csv
from xai_repro.duffing.explain import background_sample
from xai_repro.duffing.explain import explain as run_explainer
from xai_repro.duffing.ode import FEATURES, TrueModel, load_scaler
from xai_repro.duffing.tables import attribution_frame, read_points

log = logging.getLogger(__name__)


def main(
    points_csv,
    train_csv,
    scaler_json,
    model_path,
    attributions_csv,
    *,
    explainer,
    seed,
    ode,
    tolerances,
    explain: dict,
):
    from xai_repro.duffing.surrogate import keras_predictor, load_surrogate

    seed_everything(seed)
    points = read_points(points_csv)
    train = read_csv(train_csv, columns=list(FEATURES))
    scaler = load_scaler(scaler_json)
    models = {
        "ml": keras_predictor(load_surrogate(model_path)),
        "true": TrueModel(scaler, ode, tolerances["rtol"], tolerances["atol"]).predict,
    }
    background = background_sample(
        scaler.transform(train[list(FEATURES)].to_numpy()), explain["background_size"], seed
    )
    Z = points[list(FEATURES)].to_numpy()
    frames = []
    for name, predict in models.items():
        start = time.perf_counter()
        attributions = run_explainer(
            explainer,
            predict,
            background,
            Z,
            seed=seed,
            lime_num_samples=explain["lime_num_samples"],
        )
        log.info(
            "%s on %s model: %d points in %.1f s",
            explainer,
            name,
            len(Z),
            time.perf_counter() - start,
        )
        frames.append(attribution_frame(points, name, attributions))
    write_csv(attributions_csv, pd.concat(frames, ignore_index=True))


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(
        sm.input.points,
        sm.input.train,
        sm.input.scaler,
        sm.input.model,
        sm.output.attributions,
        explainer=sm.wildcards.explainer,
        **sm.params,
    )
