"""Rule ``summarize_duffing``: the study's headline numbers in ``metrics.json``.

Reads ``surrogate_metrics.json``, ``true_model_benchmark.json``, every
``attributions/<explainer>.csv`` and ``<explainer>_queries.json``, and
``finite_differences.csv``. The keys are documented in docs/duffing.md.
"""

from pathlib import Path

from xai_repro.common import read_json, setup_logging, write_json
from xai_repro.duffing.summary import read_queries, summarize
from xai_repro.duffing.tables import read_attributions, read_gradients


def main(
    surrogate_json, benchmark_json, attribution_csvs, query_jsons, gradients_csv, metrics_json
):
    queries = {Path(p).name.removesuffix("_queries.json"): read_queries(p) for p in query_jsons}
    metrics = summarize(
        read_json(surrogate_json),
        read_json(benchmark_json),
        read_attributions(attribution_csvs),
        read_gradients(gradients_csv),
        queries,
    )
    write_json(metrics_json, metrics)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    main(
        sm.input.surrogate,
        sm.input.benchmark,
        sm.input.attributions,
        sm.input.queries,
        sm.input.gradients,
        sm.output.metrics,
    )
