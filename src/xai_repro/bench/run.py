"""``python -m xai_repro.bench`` (``make bench``): every row side by side in one run ->
``<out-dir>/results.{md,json}`` and ``scaling.png``. First the workflow rows (each
``--workflow`` config run by Snakemake in a throw-away copy), then each study's kernel group
in a fresh process of its own (TensorFlow, numba and torch state must not leak) on the models
under ``--results`` (a run's ``results/<run>``; default: the last workflow copy's). A group
that fails is listed under "Not measured"; the others still report.
"""

import argparse
import csv
import importlib
import json
import logging
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import yaml

from xai_repro.bench.report import machine, make_row, plot_scaling, render_markdown

log = logging.getLogger(__name__)

# study -> the module whose measure(cfg, results, repeats, quick) gives its rows and curves,
# in run order. A study without a module here simply has no kernel rows.
GROUPS = {study: f"xai_repro.bench.{study}" for study in ("duffing", "cfrl", "highway", "diffig")}
# the workflow's sources, copied (without results) for a throw-away run
PARTS = set("Snakefile rules scripts src pyproject.toml config envs report profiles".split())


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def groups_for(studies) -> list[str]:
    """The kernel groups of ``studies``, in run order."""
    return [group for group in GROUPS if group in studies]


def check_complete(results: dict) -> dict:
    """``results`` if every group measured and a curve came out, else a RuntimeError."""
    if results["failures"]:
        failed = "; ".join(f"{k}: {v}" for k, v in results["failures"].items())
        raise RuntimeError(f"benchmark groups failed ({failed})")
    if not results["curves"]:
        raise RuntimeError("no scaling curve was measured")
    return results


def measure_group(module: str, cfg: dict, results, *, repeats, quick, threads) -> dict:
    """``module``'s measure on its study's config section ``cfg``: {"rows", "curves"}."""
    from xai_repro.common import limit_threads, seed_everything

    os.environ.update(SDL_VIDEODRIVER="offscreen", TF_CPP_MIN_LOG_LEVEL="2", TQDM_DISABLE="1")
    limit_threads(threads)
    seed_everything(cfg["seed"])
    return importlib.import_module(module).measure(cfg, results, repeats, quick)


def read_benchmarks(directory) -> dict[str, dict]:
    """Every Snakemake benchmark ``.tsv`` under ``directory`` (with Snakemake's header) as
    {relative path: {"s", "cpu_time"}} from its last line."""
    out = {}
    for path in sorted(Path(directory).rglob("*.tsv")):
        rows = list(csv.DictReader(path.read_text().splitlines(), delimiter="\t"))
        if rows and {"s", "cpu_time"} <= set(rows[0]):
            last = {k: float(rows[-1][k]) for k in ("s", "cpu_time")}
            out[str(path.relative_to(directory))] = last
    return out


def config_rows(repo, workdir, config: str, cores: int) -> list[dict]:
    """The workflow's sources under ``repo`` copied to ``workdir`` and run there on ``config``:
    rows of its wall, and of the CPU the jobs' benchmark records and the OS count over
    cores x wall. RuntimeError with Snakemake's output's tail on failure."""

    def ignore(folder, names):  # everything but the sources, and Python's caches
        top = Path(folder).resolve() == Path(repo).resolve()
        return [n for n in names if n == "__pycache__" or (top and n not in PARTS)]

    shutil.copytree(repo, workdir, ignore=ignore)
    env = dict(os.environ, PYTHONPATH=str(Path(workdir) / "src"), SDL_VIDEODRIVER="offscreen")
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(cores), "--configfile", config]
    usage, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
        raise RuntimeError(f"snakemake on {config} failed in {workdir}:\n{tail}")
    cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    jobs, name = read_benchmarks(Path(workdir) / "benchmarks"), Path(config).stem
    slow = sorted(jobs.items(), key=lambda kv: -kv[1]["s"])[:5]
    slowest = "; ".join(f"{Path(k).stem} {v['s']:.0f}/{v['cpu_time']:.0f}" for k, v in slow)
    recorded = sum(j["cpu_time"] for j in jobs.values())
    rows = [
        make_row(
            f"workflow.{name}.wall",
            f"{name} config wall at --cores {cores} ({len(jobs)} jobs)",
            "s",
            ("snakemake", [wall]),
            notes=f"slowest jobs (wall/CPU s): {slowest}",
            extra={"jobs": jobs},
        )
    ]
    notes = {
        "efficiency": "jobs' cpu_time from benchmarks/**.tsv (sampled: long jobs under-counted)",
        "utilisation": "CPU s from the OS of Snakemake and every process under it",
    }
    for what, seconds in (("efficiency", recorded), ("utilisation", cpu)):
        ours = (f"{seconds:.0f} CPU s / ({cores} x {wall:.0f} s)", [seconds / (cores * wall)])
        row_id, goal = f"workflow.{name}.{what}", {"min": 0.9}
        rows.append(
            make_row(row_id, f"{name} config {what}", "share", ours, goal=goal, notes=notes[what])
        )
    return rows


def measure(out_dir, *, groups, config, results, cores, repeats, quick, repo=None, workflow=()):
    """Every row and curve of ``groups`` on ``config`` (study -> its section) and of the
    ``workflow`` configs run from ``repo``: writes ``out_dir``/results.json, results.md and
    (with curves) scaling.png; returns the results dict ("failures": the groups that failed)."""
    out_dir, tmp = Path(out_dir), Path(tempfile.mkdtemp(prefix="xai-bench-"))
    out = {"started": _now(), "repeats": repeats, "quick": quick}
    out.update(load_start=list(os.getloadavg()), machine=machine())
    rows, curves, failures, trained = [], [], {}, None
    for config_file in workflow:
        name = Path(config_file).stem
        try:
            rows += config_rows(repo, tmp / name, config_file, cores)
            # the last workflow run's models (the default config's, if it ran): results/<run>/
            trained = next(p for p in (tmp / name / "results").iterdir() if p.is_dir())
        except RuntimeError as err:
            failures[f"workflow.{name}"] = str(err)
    results = results or trained
    spawn = multiprocessing.get_context("spawn")
    for group in groups:
        if results is None and group != "duffing":  # duffing's rows need no trained model
            failures[group] = "no trained models: give --results, or a workflow run failed"
            continue
        threads, start = cores if group == "duffing" else 1, time.perf_counter()
        settings = dict(results=results, repeats=repeats, quick=quick, threads=threads)
        try:
            with ProcessPoolExecutor(1, mp_context=spawn) as pool:
                got = pool.submit(measure_group, GROUPS[group], config[group], **settings).result()
        except Exception as err:  # noqa: BLE001 (the group's own error, named in the output)
            failures[group] = f"{type(err).__name__}: {err}"
            continue
        log.info("bench: %s done in %.0f s", group, time.perf_counter() - start)
        rows, curves = rows + got["rows"], curves + got["curves"]
    out.update(rows=rows, curves=curves, failures=failures, load_end=list(os.getloadavg()))
    out.update(finished=_now(), results=str(results))
    out_dir.mkdir(parents=True, exist_ok=True)
    if curves:
        plot_scaling(curves, out_dir / "scaling.png")
    (out_dir / "results.json").write_text(json.dumps(out, indent=1))
    (out_dir / "results.md").write_text(render_markdown(out))
    log.info("bench: %s: %d rows, %d failed", out_dir / "results.md", len(rows), len(failures))
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser("python -m xai_repro.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--out-dir", default="benchmarks")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="smaller sizes, for validation")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--workflow", nargs="*", default=["config/test.yaml"], help="configs to run")
    p.add_argument("--config", default="config/config.yaml", help="the kernels' settings")
    p.add_argument("--groups", default=",".join(GROUPS), help="kernel groups (studies)")
    p.add_argument("--results", help="a finished run's results/<run>/ (its trained models)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if unknown := set(args.groups.split(",")) - set(GROUPS):
        p.error(f"unknown groups {sorted(unknown)}")
    config = yaml.safe_load(Path(args.config).read_text())
    results = Path(args.results).resolve() if args.results else None
    settings = dict(cores=args.cores, repeats=args.repeats, quick=args.quick, repo=Path.cwd())
    settings.update(groups=args.groups.split(","), config=config, workflow=args.workflow)
    measure(args.out_dir, results=results, **settings)
