"""Workflow rows: wall of a config at --cores N in a throw-away copy of the workflow,
parallel efficiency (jobs' CPU seconds over cores x wall: from its benchmarks/**.tsv, as the
issue defines it, and exactly from the OS), core utilisation (Snakemake's CPU included),
per-job start-up (job start to the first line its script logs), no-op rerun and DAG build
(``snakemake -n`` with nothing built) times.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import REPO

from xai_repro.bench.report import make_row
from xai_repro.bench.workflow import read_benchmarks, startup_seconds

PARTS = ("Snakefile", "rules", "scripts", "src", "pyproject.toml", "config", "envs", "report")
PARTS += ("profiles",)
LAUNCHER = str(Path(__file__).with_name("snakemake_rusage.py"))


def copy_workflow(dest: Path) -> Path:
    """The workflow's sources (no results) in ``dest``; its src/ runs via PYTHONPATH."""
    skip = shutil.ignore_patterns("__pycache__")
    dest.mkdir(parents=True, exist_ok=True)
    for part in PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, dest / part, ignore=skip)
        elif source.exists():
            shutil.copy2(source, dest / part)
    return dest


def snakemake(workdir: Path, *args: str, log_name: str) -> tuple[float, str, dict]:
    """Run snakemake in ``workdir``; (wall seconds, merged output, CPU seconds from the OS:
    {"snakemake_cpu_s": its own process, "jobs_cpu_s": every process under it})."""
    env = dict(
        os.environ,
        PYTHONPATH=str(workdir / "src"),
        SDL_VIDEODRIVER="offscreen",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    usage_file = workdir / f"bench_{log_name}.rusage.json"
    usage_file.unlink(missing_ok=True)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, LAUNCHER, str(usage_file), *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    output = proc.stdout + proc.stderr
    (workdir / f"bench_{log_name}.out").write_text(output)
    if proc.returncode != 0 or not usage_file.is_file():
        tail = "\n".join(output.splitlines()[-15:])
        raise RuntimeError(f"snakemake {' '.join(args)} failed in {workdir}:\n{tail}")
    return wall, output, json.loads(usage_file.read_text())


def run_config(workdir: Path, config: str, cores: int, repeats: int) -> list[dict]:
    """Rows of one config: DAG build, full run, efficiency, start-up, no-op rerun."""
    name = Path(config).stem
    cfg = ("--configfile", config)
    dag = [snakemake(workdir, "-n", "--cores", str(cores), *cfg, log_name="dag")[0]]
    dag += [snakemake(workdir, "-n", "--cores", str(cores), *cfg, log_name="dag")[0]]
    wall, output, usage = snakemake(workdir, "--cores", str(cores), *cfg, log_name=f"run_{name}")
    jobs = read_benchmarks(workdir / "benchmarks")
    starts = startup_seconds(output, workdir)
    noop = [
        snakemake(workdir, "--cores", str(cores), *cfg, log_name="noop")[0]
        for _ in range(max(2, repeats))
    ]
    worst = sorted(starts.items(), key=lambda kv: -kv[1])[:5]
    slow = sorted(jobs.items(), key=lambda kv: -kv[1]["s"])[:5]
    rows = [
        make_row(
            f"workflow.{name}.wall",
            f"{name} config wall at --cores {cores} ({len(jobs)} jobs)",
            "s",
            {"label": "snakemake", "values": [wall]},
            notes="slowest jobs (wall/CPU s): "
            + "; ".join(f"{Path(k).stem} {v['s']:.0f}/{v['cpu_time']:.0f}" for k, v in slow),
            extra={"jobs": jobs},
        ),
        *cpu_rows(name, cores, wall, jobs, usage),
        make_row(
            f"workflow.{name}.noop",
            f"{name} config no-op rerun (everything up to date)",
            "s",
            {"label": "snakemake", "values": noop},
        ),
        make_row(
            f"workflow.{name}.dag",
            f"{name} config DAG build (snakemake -n, nothing built yet)",
            "s",
            {"label": "snakemake -n", "values": dag},
        ),
    ]
    if starts:  # jobs that logged a line
        rows.insert(
            2,
            make_row(
                f"workflow.{name}.startup",
                f"{name} config per-job start-up (job start to first log line; 1 s resolution)",
                "s",
                {"label": f"{len(starts)} jobs", "values": list(starts.values())},
                notes="largest: " + "; ".join(f"{Path(k).stem} {v:.0f}" for k, v in worst),
                extra={"startup": starts},
            ),
        )
    return rows


def cpu_rows(name: str, cores: int, wall: float, jobs: dict, usage: dict) -> list[dict]:
    """Parallel efficiency from the jobs' benchmark records (the issue's measure) and from the
    OS (the same quantity, exact), and core utilisation with Snakemake's own CPU."""
    recorded = sum(j["cpu_time"] for j in jobs.values())
    exact, own = usage["jobs_cpu_s"], usage["snakemake_cpu_s"]
    load1, _, load15 = os.getloadavg()
    share = f"the records hold {recorded / exact:.1%} of the jobs' CPU"

    def row(suffix: str, what: str, cpu: float, notes: str) -> dict:
        return make_row(
            f"workflow.{name}.{suffix}",
            f"{name} config {what} / (cores x wall)",
            "share",
            {
                "label": f"{cpu:.0f} CPU s / ({cores} x {wall:.0f} s)",
                "values": [cpu / (cores * wall)],
            },
            goal={"min": 0.9},
            notes=notes,
            extra={"recorded_jobs_cpu_s": recorded, **usage},
        )

    return [
        row(
            "efficiency",
            "parallel efficiency: jobs' CPU s from benchmarks/**.tsv",
            recorded,
            f"Snakemake samples a job's CPU every 0.5 s for ~15 s, then every 30 s, and misses "
            f"what it spends after the last sample ({share}; workflow.record_bias measures the "
            f"miss on jobs of known CPU). Load average after the run {load1:.1f} (1 min) / "
            f"{load15:.1f} (15 min): on a shared machine wall and efficiency measure the machine",
        ),
        row(
            "efficiency_exact",
            "parallel efficiency: jobs' CPU s from the OS",
            exact,
            "user + system CPU of every process under Snakemake (its jobs and their "
            f"subprocesses; ~0.2 s of ILP scheduling): the efficiency's quantity, exact; {share}",
        ),
        row(
            "utilisation",
            "core utilisation: CPU s of Snakemake and all its processes",
            exact + own,
            f"Snakemake's own process (DAG, scheduling, job set-up) used {own:.0f} CPU s",
        ),
    ]
