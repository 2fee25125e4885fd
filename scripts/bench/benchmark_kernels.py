"""Rule ``benchmark_kernels`` (opt-in, ``--config bench=True``): ``make bench``'s kernel rows
and scaling curves, measured on this run's own trained models.

Runs ``tools/bench/run.py`` for the kernel groups of the run's studies (no nested workflow
run) with the run's merged config, in a temporary folder; writes ``results/bench/
results.json``, ``results.md`` and ``scaling.png`` (the report's "bench" category) only when
every group measured. The rows and how each is measured: docs/benchmarks.md.
"""

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from xai_repro.common import atomic_output, setup_logging

log = logging.getLogger(__name__)

# run.py's kernel groups per study, in run.py's order (baseline before cfrl: cfrl reads it)
STUDY_GROUPS = (
    ("duffing", "duffing"),
    ("cfrl", "baseline"),
    ("cfrl", "cfrl"),
    ("highway", "highway"),
    ("diffig", "diffig"),
)


def kernel_groups(studies, cfrl_backend="tensorflow"):
    """The run.py groups to measure for ``studies``.

    The CFRL rows load the TensorFlow models (rows_cfrl.py, rows_baseline.py): a run with
    another backend has no such files, so its CFRL groups are left out (and said so).
    """
    groups = []
    for study, group in STUDY_GROUPS:
        if study not in studies:
            continue
        if study == "cfrl" and cfrl_backend != "tensorflow":
            log.warning("cfrl.cfrl.backend is %s: the CFRL rows need tensorflow", cfrl_backend)
            continue
        groups.append(group)
    return groups


def bench_command(run_py, *, groups, out_dir, config_path, cores, repeats, quick):
    """The run.py command line (artifacts: the working directory, i.e. this run)."""
    cmd = [sys.executable, str(run_py), "--groups", ",".join(groups), "--artifacts", "."]
    cmd += ["--out-dir", str(out_dir), "--config", str(config_path)]
    cmd += ["--cores", str(cores), "--repeats", str(repeats)]
    return cmd + (["--quick"] if quick else [])


def check_results(results_json):
    """The parsed results; a RuntimeError naming every group that did not measure."""
    results = json.loads(Path(results_json).read_text())
    if results.get("failures"):
        failed = "; ".join(f"{k}: {v}" for k, v in results["failures"].items())
        raise RuntimeError(f"benchmark groups failed ({failed}); see the rule's log")
    if not results.get("curves"):
        raise RuntimeError(f"{results_json}: no scaling curve was measured")
    return results


def main(out_json, out_md, out_figure, *, run_py, config, studies, cores, repeats, quick):
    groups = kernel_groups(studies, config.get("cfrl", {}).get("cfrl", {}).get("backend"))
    if not groups:
        raise ValueError(f"no benchmark groups for the studies {studies}")
    with tempfile.TemporaryDirectory(prefix="benchmark_kernels.") as tmp:
        config_path = Path(tmp) / "config.yaml"  # the run's merged config, as run.py reads it
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        out_dir = Path(tmp) / "out"
        cmd = bench_command(
            run_py,
            groups=groups,
            out_dir=out_dir,
            config_path=config_path,
            cores=cores,
            repeats=repeats,
            quick=quick,
        )
        log.info("running %s", " ".join(cmd))
        env = dict(os.environ, SDL_VIDEODRIVER="offscreen")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        log.info("run.py output:\n%s%s", proc.stdout, proc.stderr)
        if proc.returncode != 0:
            raise RuntimeError(f"{run_py} exited with {proc.returncode}; see the rule's log")
        results = check_results(out_dir / "results.json")
        log.info("%d rows, %d curves", len(results["rows"]), len(results["curves"]))
        names = ("results.json", "results.md", "scaling.png")
        for name, path in zip(names, (out_json, out_md, out_figure), strict=True):
            with atomic_output(path) as dst:
                shutil.copyfile(out_dir / name, dst)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    out = sm.output
    main(out.json, out.md, out.figure, run_py=sm.input.run_py, cores=sm.threads, **sm.params)
