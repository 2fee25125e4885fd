"""The benchmarks' one entry point, ``python -m xai_repro.bench`` (``make bench``): every row
side by side in one run -> ``<out-dir>/results.{md,json}`` and ``scaling.png``.

First the workflow rows (each ``--workflow`` config run by Snakemake at ``--cores`` in a
throw-away copy of the workflow), then each kernel group **in its own process** (TensorFlow
graph mode, numba and torch thread pools must not leak between groups) on the trained models
under ``--results`` (default: the last workflow copy's). A group that fails is listed under
"Not measured" with its error; the others still report. The rule ``benchmark_kernels`` calls
``measure`` for the kernel groups of its run's studies.
"""

import argparse
import importlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

from xai_repro.bench.report import machine, plot_scaling, render_markdown
from xai_repro.bench.workflow import config_rows, copy_workflow

log = logging.getLogger(__name__)

# (group, its study's config section, module:function) in run order (the cfrl group reads
# the baseline's result). A study without a group here simply has no kernel rows.
GROUPS = (
    ("duffing", "duffing", "xai_repro.bench.duffing:measure"),
    ("cfrl_baseline", "cfrl", "xai_repro.bench.cfrl:measure_baseline"),
    ("cfrl", "cfrl", "xai_repro.bench.cfrl:measure"),
    ("highway", "highway", "xai_repro.bench.highway:measure"),
    ("diffig", "diffig", "xai_repro.bench.diffig:measure"),
)
CAVEAT = (
    "Absolute times vary with the machine's load (the load averages at start and end are "
    "above); rely on the ratios, which come from runs interleaved in one process."
)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def groups_for(studies) -> list[str]:
    """The kernel groups of ``studies``, in run order."""
    return [group for group, study, _ in GROUPS if study in studies]


def check_complete(results: dict) -> dict:
    """``results`` if every group measured and a curve came out, else a RuntimeError."""
    if results["failures"]:
        failed = "; ".join(f"{k}: {v}" for k, v in results["failures"].items())
        raise RuntimeError(f"benchmark groups failed ({failed})")
    if not results["curves"]:
        raise RuntimeError("no scaling curve was measured")
    return results


def measure_group(target, section, config, results, *, repeats, quick, threads, earlier):
    """One kernel group (``target``: "module:function") in this process, on the config's
    ``section``: {"rows", "curves", ...what later groups read}."""
    from xai_repro.common import limit_threads, seed_everything

    module, function = target.split(":")
    limit_threads(threads)
    cfg = yaml.safe_load(Path(config).read_text())[section]
    seed_everything(cfg["seed"])
    return getattr(importlib.import_module(module), function)(cfg, results, repeats, quick, earlier)


def _run_group(group: str, tmp: Path, earlier: dict, *, config, results, repeats, quick, threads):
    """``measure_group`` in a child process; RuntimeError with its stderr's last lines."""
    (tmp / "earlier.json").write_text(json.dumps(earlier))
    _, section, target = next(g for g in GROUPS if g[0] == group)
    cmd = [sys.executable, "-m", "xai_repro.bench", "--group", target, "--section", section]
    cmd += ["--out", str(tmp / "group.json"), "--earlier", str(tmp / "earlier.json")]
    cmd += ["--config", str(config), "--results", str(results), "--cores", str(threads)]
    cmd += ["--repeats", str(repeats)] + (["--quick"] if quick else [])
    env = dict(os.environ, SDL_VIDEODRIVER="offscreen", TF_CPP_MIN_LOG_LEVEL="2", TQDM_DISABLE="1")
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        tail = [line for line in proc.stderr.splitlines() if line.strip()][-3:]
        raise RuntimeError(f"exit {proc.returncode}: " + " | ".join(tail))
    log.info("bench: %s done in %.0f s", group, time.perf_counter() - start)
    return json.loads((tmp / "group.json").read_text())


def measure(out_dir, *, groups, config, results, cores, repeats, quick, repo=None, workflow=()):
    """Every row and curve of ``groups`` (and of the ``workflow`` configs run from ``repo``):
    writes ``out_dir``/results.json, results.md and (with curves) scaling.png; returns the
    results dict (its "failures" name each group that did not measure)."""
    out_dir, tmp = Path(out_dir), Path(tempfile.mkdtemp(prefix="xai-bench-"))
    out = {"started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"), "repeats": repeats}
    out.update(quick=quick, caveat=CAVEAT, load_start=_load(), machine=machine())
    rows, curves, failures, earlier = [], [], {}, {}
    trained = None  # the last workflow run's models (the default config's, if it ran)
    for config_file in workflow:
        name = Path(config_file).stem
        try:
            rows += config_rows(copy_workflow(repo, tmp / name), config_file, cores, repeats)
            trained = tmp / name / "results"
        except RuntimeError as err:
            failures[f"workflow.{name}"] = str(err)
    results = results or trained
    for group in groups:
        if results is None and group != "duffing":  # duffing's rows need no trained model
            failures[group] = "no trained models: give --results, or a workflow run failed"
            continue
        settings = dict(config=config, results=results, repeats=repeats, quick=quick)
        try:
            got = _run_group(
                group, tmp, earlier, threads=cores if group == "duffing" else 1, **settings
            )
        except RuntimeError as err:
            failures[group] = str(err)
            continue
        rows, curves = rows + got.pop("rows", []), curves + got.pop("curves", [])
        earlier.update(got)
    out.update(rows=rows, curves=curves, failures=failures, load_end=_load(), **earlier)
    out.update(finished=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"), results=str(results))
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
    p.add_argument("--groups", default=",".join(g for g, _, _ in GROUPS), help="kernel groups")
    p.add_argument("--results", help="a finished run's results/ (its trained models)")
    for hidden in ("--group", "--section", "--out", "--earlier"):  # a child: one group
        p.add_argument(hidden, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    settings = dict(repeats=args.repeats, quick=args.quick)
    if args.group:
        earlier = json.loads(Path(args.earlier).read_text())
        got = measure_group(
            args.group,
            args.section,
            args.config,
            args.results,
            threads=args.cores,
            earlier=earlier,
            **settings,
        )
        Path(args.out).write_text(json.dumps(got, indent=1))
        return
    if unknown := set(args.groups.split(",")) - {g for g, _, _ in GROUPS}:
        p.error(f"unknown groups {sorted(unknown)}")
    results = Path(args.results).resolve() if args.results else None
    measure(
        args.out_dir,
        groups=args.groups.split(","),
        config=Path(args.config).resolve(),
        results=results,
        cores=args.cores,
        repo=Path.cwd(),
        workflow=args.workflow,
        **settings,
    )
