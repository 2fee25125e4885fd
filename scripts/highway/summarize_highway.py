"""Rule ``summarize_highway``: collects evaluation, training, benchmark and the analysis rules'
JSON files into ``results/highway/metrics.json``."""

from xai_repro.common import read_json, setup_logging, write_json
from xai_repro.highway.summary import build_metrics, merge_analyses


def main(evaluation, train_stats, benchmark, analyses, out_path, pretrained=None):
    metrics = build_metrics(
        read_json(evaluation),
        read_json(train_stats),
        read_json(benchmark) if benchmark else None,
        merge_analyses({p: read_json(p) for p in analyses}) if analyses else None,
        source=evaluation,
        pretrained=read_json(pretrained) if pretrained else None,
    )
    write_json(out_path, metrics)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    main(
        sm.input.evaluation,
        sm.input.train_stats,
        sm.input.get("benchmark"),
        list(sm.input.get("analyses", [])),
        sm.output.metrics,
        sm.input.get("pretrained") or None,
    )
