"""Rule ``attribute_duffing``: one explainer on both models (surrogate and true ODE).

Reads ``points.csv``, ``train.csv`` (background), ``scaler.json`` and
``surrogate.keras``; writes ``attributions/<explainer>.csv``: one row per
(point, model, output) with the point's slice, value, scaled features and attr_x0,
attr_v0, attr_t; and ``attributions/<explainer>_queries.json``: per model, how many
rows the explainer asked the model about and the share outside the training range
(per scaled feature, min to max of train.csv). Both models see the same background
(``background_size`` training rows drawn with the study's seed) and the same points.
"""

import logging
import time

import pandas as pd

from xai_repro.common import (
    limit_threads,
    read_csv,
    seed_everything,
    setup_logging,
    write_csv,
    write_json,
)
from xai_repro.duffing.explain import QueryCounter, background_sample
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
    queries_json,
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
    scaler = load_scaler(scaler_json)
    Z_train = scaler.transform(read_csv(train_csv, columns=list(FEATURES))[list(FEATURES)])
    low, high = Z_train.min(axis=0), Z_train.max(axis=0)
    models = {
        "ml": keras_predictor(load_surrogate(model_path)),
        "true": TrueModel(scaler, ode, tolerances["rtol"], tolerances["atol"]).predict,
    }
    background = background_sample(Z_train, explain["background_size"], seed)
    Z = points[list(FEATURES)].to_numpy()
    frames, queries = [], {}
    for name, predict in models.items():
        counter = QueryCounter(predict, low, high)
        start = time.perf_counter()
        attributions = run_explainer(
            explainer,
            counter,
            background,
            Z,
            seed=seed,
            lime_num_samples=explain["lime_num_samples"],
            lime_sample_around=explain["lime_sample_around"],
        )
        queries[name] = counter.summary()
        log.info(
            "%s on %s model: %d points in %.1f s; %d model rows, %.1f %% outside the training range",
            explainer,
            name,
            len(Z),
            time.perf_counter() - start,
            counter.rows,
            100 * queries[name]["outside"],
        )
        frames.append(attribution_frame(points, name, attributions))
    write_csv(attributions_csv, pd.concat(frames, ignore_index=True))
    write_json(queries_json, queries)


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
        sm.output.queries,
        explainer=sm.wildcards.explainer,
        **sm.params,
    )
