"""The workflow rows: a config run by Snakemake in a throw-away copy of the workflow, and what
the run leaves: jobs' start times in Snakemake's output, the first line of each job's log,
the per-job benchmark ``.tsv`` files.

Per-job start-up is the time from Snakemake starting a job (its "[date]" line) to the first
line the job's script logs (after its imports): both have 1-second resolution.
"""

import csv
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from xai_repro.bench.report import make_row

_STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
_RULE = re.compile(r"^(?:local)?rule (\w+):$")
_LOG = re.compile(r"^\s+log: (\S+)")
_LOG_TIME = re.compile(r"^(\d\d):(\d\d):(\d\d) ")
# the workflow's sources, copied (without results) for a throw-away run
PARTS = ("Snakefile", "rules", "scripts", "src", "pyproject.toml", "config", "envs", "report")


def job_starts(snakemake_output: str) -> list[dict]:
    """Every job Snakemake started: {"rule", "log" (its first log file or None), "start"}."""
    jobs, stamp, current = [], None, None
    for line in snakemake_output.splitlines():
        if m := _STAMP.match(line.strip()):
            stamp, current = datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y"), None
        elif (m := _RULE.match(line)) and stamp is not None:
            current = {"rule": m.group(1), "log": None, "start": stamp}
            jobs.append(current)
        elif current is not None and current["log"] is None and (m := _LOG.match(line)):
            current["log"] = m.group(1).rstrip(",")
    return jobs


def first_log_time(log_text: str, after: datetime) -> datetime | None:
    """Time of the first "HH:MM:SS ..." line of a job log, on or after ``after``'s day."""
    for line in log_text.splitlines():
        if m := _LOG_TIME.match(line):
            h, mi, s = (int(g) for g in m.groups())
            t = after.replace(hour=h, minute=mi, second=s)
            return t + timedelta(days=1) if t < after - timedelta(hours=12) else t  # midnight
    return None


def startup_seconds(snakemake_output: str, workdir) -> dict[str, float]:
    """Seconds from job start to its first log line, per job log path (jobs that logged)."""
    out = {}
    for job in job_starts(snakemake_output):
        path = Path(workdir) / (job["log"] or "")
        first = path.is_file() and first_log_time(path.read_text(errors="replace"), job["start"])
        if first:
            out[job["log"]] = (first - job["start"]).total_seconds()
    return out


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


def run_snakemake(workdir, *args: str) -> tuple[float, str, float]:
    """``snakemake *args`` in ``workdir``: (wall s, merged output, CPU s from the OS of
    Snakemake and every process under it). RuntimeError with the output's tail on failure."""
    env = dict(os.environ, PYTHONPATH=str(Path(workdir) / "src"), SDL_VIDEODRIVER="offscreen")
    before, start = _children_cpu(), time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )
    wall, cpu, output = (
        time.perf_counter() - start,
        _children_cpu() - before,
        proc.stdout + proc.stderr,
    )
    if proc.returncode != 0:
        tail = "\n".join(output.splitlines()[-15:])
        raise RuntimeError(f"snakemake {' '.join(args)} failed in {workdir}:\n{tail}")
    return wall, output, cpu


def config_rows(workdir, config: str, cores: int, repeats: int) -> list[dict]:
    """Rows of one config run in ``workdir``: wall, parallel efficiency from the jobs'
    benchmark records, CPU use from the OS, per-job start-up, no-op rerun, DAG build."""
    name, run = Path(config).stem, ("--cores", str(cores), "--configfile", config)
    dag = [run_snakemake(workdir, "-n", *run)[0] for _ in range(2)]
    wall, output, cpu = run_snakemake(workdir, *run)
    jobs, starts = read_benchmarks(Path(workdir) / "benchmarks"), startup_seconds(output, workdir)
    noop = [run_snakemake(workdir, *run)[0] for _ in range(max(2, repeats))]
    recorded = sum(j["cpu_time"] for j in jobs.values())
    slow = sorted(jobs.items(), key=lambda kv: -kv[1]["s"])[:5]
    worst = sorted(starts.items(), key=lambda kv: -kv[1])[:5]
    row = f"workflow.{name}."

    def share(what, seconds, notes):
        values = {
            "label": f"{seconds:.0f} CPU s / ({cores} x {wall:.0f} s)",
            "values": [seconds / (cores * wall)],
        }
        return make_row(
            row + what, f"{name} config {what}", "share", values, goal={"min": 0.9}, notes=notes
        )

    slowest = "; ".join(f"{Path(k).stem} {v['s']:.0f}/{v['cpu_time']:.0f}" for k, v in slow)
    rows = [
        make_row(
            row + "wall",
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
        make_row(
            row + "noop",
            f"{name} config no-op rerun (everything up to date)",
            "s",
            {"label": "snakemake", "values": noop},
        ),
        make_row(
            row + "dag",
            f"{name} config DAG build (snakemake -n, nothing built)",
            "s",
            {"label": "snakemake -n", "values": dag},
        ),
    ]
    if starts:
        largest = "; ".join(f"{Path(k).stem} {v:.0f}" for k, v in worst)
        what = f"{name} config per-job start-up (job start to first log line; 1 s resolution)"
        values = {"label": f"{len(starts)} jobs", "values": list(starts.values())}
        rows.insert(3, make_row(row + "startup", what, "s", values, notes=f"largest: {largest}"))
    return rows
