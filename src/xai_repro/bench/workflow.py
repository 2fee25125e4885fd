"""The workflow rows: a config run by Snakemake in a throw-away copy of the workflow, timed
by wall clock and by the CPU the OS counts, beside the per-job benchmark ``.tsv`` records.

Rows that would time Snakemake itself (DAG build, no-op rerun) are not measured here."""

import csv
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from xai_repro.bench.report import make_row

# the workflow's sources, copied (without results) for a throw-away run
PARTS = ("Snakefile", "rules", "scripts", "src", "pyproject.toml", "config", "envs", "report")


def read_benchmarks(directory) -> dict[str, dict]:
    """Every Snakemake benchmark ``.tsv`` under ``directory`` (the per-job files: with
    Snakemake's header) as {relative path: {"s", "cpu_time"}} from its last line."""
    out = {}
    for path in sorted(Path(directory).rglob("*.tsv")):
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        if rows and {"s", "cpu_time"} <= set(rows[0]):
            key = str(path.relative_to(directory))
            out[key] = {"s": float(rows[-1]["s"]), "cpu_time": float(rows[-1]["cpu_time"])}
    return out


def copy_workflow(repo, dest) -> Path:
    """The workflow's sources under ``repo`` copied to ``dest`` (its src/ runs via PYTHONPATH)."""
    Path(dest).mkdir(parents=True, exist_ok=True)
    for part in (*PARTS, "profiles"):
        source = Path(repo) / part
        if source.is_dir():
            shutil.copytree(source, Path(dest) / part, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, Path(dest) / part)
    return Path(dest)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_snakemake(workdir, *args: str) -> tuple[float, float]:
    """``snakemake *args`` in ``workdir``: (wall s, CPU s from the OS of Snakemake and every
    process under it). RuntimeError with the output's tail on failure."""
    env = dict(os.environ, PYTHONPATH=str(Path(workdir) / "src"), SDL_VIDEODRIVER="offscreen")
    before, start = _children_cpu(), time.perf_counter()
    cmd = [sys.executable, "-m", "snakemake", *args]
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - start, _children_cpu() - before
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
        raise RuntimeError(f"snakemake {' '.join(args)} failed in {workdir}:\n{tail}")
    return wall, cpu


def config_rows(workdir, config: str, cores: int) -> list[dict]:
    """Rows of one config run in ``workdir``: wall, parallel efficiency from the jobs'
    benchmark records, CPU use from the OS."""
    name = Path(config).stem
    wall, cpu = run_snakemake(workdir, "--cores", str(cores), "--configfile", config)
    jobs = read_benchmarks(Path(workdir) / "benchmarks")
    slow = sorted(jobs.items(), key=lambda kv: -kv[1]["s"])[:5]
    slowest = "; ".join(f"{Path(k).stem} {v['s']:.0f}/{v['cpu_time']:.0f}" for k, v in slow)
    recorded = sum(j["cpu_time"] for j in jobs.values())

    def share(what, seconds, notes):
        ours = {"label": f"{seconds:.0f} CPU s / ({cores} x {wall:.0f} s)"}
        ours["values"] = [seconds / (cores * wall)]
        what_ = f"{name} config {what}"
        return make_row(
            f"workflow.{name}.{what}", what_, "share", ours, goal={"min": 0.9}, notes=notes
        )

    return [
        make_row(
            f"workflow.{name}.wall",
            f"{name} config wall at --cores {cores} ({len(jobs)} jobs)",
            "s",
            {"label": "snakemake", "values": [wall]},
            notes=f"slowest jobs (wall/CPU s): {slowest}",
            extra={"jobs": jobs},
        ),
        share(
            "efficiency",
            recorded,
            "jobs' cpu_time from benchmarks/**.tsv over cores x wall "
            "(Snakemake samples a job's CPU, so long jobs are under-counted)",
        ),
        share(
            "utilisation",
            cpu,
            "CPU s from the OS of Snakemake and every process under it "
            "over cores x wall (on a shared machine, the machine's load shows here too)",
        ),
    ]
