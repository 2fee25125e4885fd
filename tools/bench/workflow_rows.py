"""Workflow rows: wall of a config at --cores N in a throw-away copy of the workflow,
parallel efficiency (jobs' CPU seconds from its benchmarks/**.tsv over cores x wall),
per-job start-up (job start to the first line its script logs), no-op rerun and DAG build
(``snakemake -n`` with nothing built) times.
"""

import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import REPO

from xai_repro.bench.report import make_row
from xai_repro.bench.workflow import efficiency, read_benchmarks, startup_seconds

PARTS = ("Snakefile", "rules", "scripts", "src", "pyproject.toml", "config", "envs", "report")
PARTS += ("profiles",)
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


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


def snakemake(workdir: Path, *args: str, log_name: str) -> tuple[float, str, float]:
    """Run snakemake in ``workdir``; (wall seconds, merged output, CPU seconds of snakemake and
    every process under it, from the OS: user + system of the waited-for children)."""
    env = dict(
        os.environ,
        PYTHONPATH=str(workdir / "src"),
        SDL_VIDEODRIVER="offscreen",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [SNAKEMAKE, *args], cwd=workdir, env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    output = proc.stdout + proc.stderr
    (workdir / f"bench_{log_name}.out").write_text(output)
    if proc.returncode != 0:
        tail = "\n".join(output.splitlines()[-15:])
        raise RuntimeError(f"snakemake {' '.join(args)} failed in {workdir}:\n{tail}")
    return wall, output, cpu


def run_config(workdir: Path, config: str, cores: int, repeats: int) -> tuple[list, dict]:
    """Rows of one config: DAG build, full run, efficiency, start-up, no-op rerun."""
    name = Path(config).stem
    cfg = ("--configfile", config)
    dag = [snakemake(workdir, "-n", "--cores", str(cores), *cfg, log_name="dag")[0]]
    dag += [snakemake(workdir, "-n", "--cores", str(cores), *cfg, log_name="dag")[0]]
    wall, output, os_cpu = snakemake(workdir, "--cores", str(cores), *cfg, log_name=f"run_{name}")
    jobs = read_benchmarks(workdir / "benchmarks")
    eff = efficiency(jobs, cores, wall)
    cpu = sum(j["cpu_time"] for j in jobs.values())
    starts = startup_seconds(output, workdir)
    noop = [
        snakemake(workdir, "--cores", str(cores), *cfg, log_name="noop")[0]
        for _ in range(max(2, repeats))
    ]
    worst = sorted(starts.items(), key=lambda kv: -kv[1])[:5]
    slow = sorted(jobs.items(), key=lambda kv: -kv[1]["s"])[:5]
    load1, _, load15 = os.getloadavg()
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
        make_row(
            f"workflow.{name}.efficiency",
            f"{name} config parallel efficiency: CPU s / (cores x wall)",
            "share",
            {"label": f"{cpu:.0f} CPU s / ({cores} x {wall:.0f} s)", "values": [eff]},
            goal={"min": 0.9},
            notes=f"load average after the run {load1:.1f} (1 min) / {load15:.1f} (15 min): on a "
            "shared machine the jobs get a fraction of the cores, so wall and efficiency then "
            "measure the machine, not the workflow",
        ),
        make_row(
            f"workflow.{name}.utilisation",
            f"{name} config core utilisation from the OS: CPU s of snakemake and all its "
            "processes / (cores x wall)",
            "share",
            {
                "label": f"{os_cpu:.0f} CPU s / ({cores} x {wall:.0f} s)",
                "values": [os_cpu / (cores * wall)],
            },
            goal={"min": 0.9},
            notes=f"{os_cpu - cpu:.0f} CPU s are in no job's benchmark record: Snakemake's own "
            "process (DAG, scheduling, job set-up) and job CPU its sampled records miss",
            extra={"os_cpu_s": os_cpu, "jobs_cpu_s": cpu},
        ),
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
    return rows, {"wall": wall, "efficiency": eff, "cpu_seconds": cpu}
