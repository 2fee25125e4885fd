"""Rule ``benchmark_kernels`` (opt-in, ``--config bench=True``): the kernel groups of the run's
studies on its own models (no nested workflow run); writes results.json, results.md and
scaling.png (the report's "bench" category) only when every group measured."""

import shutil
import tempfile
from pathlib import Path

from xai_repro.bench.run import check_complete, groups_for, measure
from xai_repro.common import atomic_output, setup_logging


def main(out_json, out_md, out_figure, *, config, results, cores, repeats, quick):
    with tempfile.TemporaryDirectory(prefix="benchmark_kernels.") as out:
        settings = dict(config=config, results=Path(results).resolve(), cores=cores)
        groups = groups_for(list(config))
        check_complete(measure(out, groups=groups, repeats=repeats, quick=quick, **settings))
        outputs = {"results.json": out_json, "results.md": out_md, "scaling.png": out_figure}
        for name, path in outputs.items():
            with atomic_output(path) as dst:
                shutil.copyfile(Path(out) / name, dst)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    main(*sm.output, cores=sm.threads, **sm.params)
