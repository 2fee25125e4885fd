"""Rule ``benchmark_kernels`` (opt-in, ``--config bench=True``): ``make bench``'s kernel rows
and scaling curves on this run's own trained models, for the kernel groups of the run's
studies (no nested workflow run); writes results.json, results.md and scaling.png (the
report's "bench" category) only when every group measured. Rows: docs/benchmarks.md."""

import shutil
import tempfile
from pathlib import Path

import yaml

from xai_repro.bench.run import check_complete, groups_for, measure
from xai_repro.common import atomic_output, setup_logging


def main(out_json, out_md, out_figure, *, config, studies, results, cores, repeats, quick):
    with tempfile.TemporaryDirectory(prefix="benchmark_kernels.") as tmp:
        config_path = Path(tmp) / "config.yaml"  # the run's merged config, as the groups read it
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        settings = dict(config=config_path, results=Path(results).resolve(), cores=cores)
        out = Path(tmp) / "out"
        check_complete(
            measure(out, groups=groups_for(studies), repeats=repeats, quick=quick, **settings)
        )
        for name, path in zip(
            ("results.json", "results.md", "scaling.png"),
            (out_json, out_md, out_figure),
            strict=True,
        ):
            with atomic_output(path) as dst:
                shutil.copyfile(out / name, dst)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    out = sm.output
    main(out.json, out.md, out.figure, cores=sm.threads, **sm.params)
