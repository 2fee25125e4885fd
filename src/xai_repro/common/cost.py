"""Each run's cost from its rules' resources, read off Snakemake's dry run of the whole run.

For every job of a run (``snakemake --dry-run --forceall --config runs=<run>``): threads,
``runtime`` (minutes) and ``mem_mb`` as the rules request them. Core-hours are the sum of
threads x runtime: an upper bound, since a rule's runtime is its time limit on a cluster,
not a measurement. Peak memory is the largest request; the longest job the largest runtime.

``--measured`` checks the requests against a finished run instead: each job's peak
resident memory from its benchmark file (``max_rss``, summed over the job's processes)
must stay within ``HEADROOM`` of its ``mem_mb``. A cluster's cgroup also counts page cache
and kills the job at ``mem_mb``, so a request without headroom fails there and not on a
laptop. Exit status 1 lists the jobs that lack it.

    python -m xai_repro.common.cost [--runs all] [--measured]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

_JOB = re.compile(r"^(?:local)?rule (\w+):\s*$")
_THREADS = re.compile(r"^\s+threads: (\d+)\s*$")
_RESOURCES = re.compile(r"^\s+resources: (.*)$")
_BENCHMARK = re.compile(r"^\s+benchmark: (\S+)\s*$")
# the largest share of its mem_mb request a job's measured max_rss may use
HEADROOM = 0.75


def parse_jobs(output: str) -> list[dict]:
    """One record per job of a dry run's output: run, rule, threads, runtime, mem_mb."""
    jobs, job = [], None
    for line in output.splitlines():
        if match := _JOB.match(line):
            name = match.group(1)
            run, _, rule = name.rpartition("__")
            job = {
                "run": run,
                "rule": rule,
                "threads": 1,
                "runtime": 0,
                "mem_mb": 0,
                "benchmark": None,
            }
            if name != "all":
                jobs.append(job)
        elif job and (match := _THREADS.match(line)):
            job["threads"] = int(match.group(1))
        elif job and (match := _BENCHMARK.match(line)):
            job["benchmark"] = match.group(1)
        elif job and (match := _RESOURCES.match(line)):
            for item in match.group(1).split(", "):
                key, _, value = item.partition("=")
                if key in ("runtime", "mem_mb") and value.isdigit():
                    job[key] = int(value)
    return jobs


def summarize(jobs: list[dict]) -> dict[str, dict]:
    """Run -> jobs, core-hours, peak memory (GB) and the longest job (rule, minutes)."""
    out = {}
    for run in dict.fromkeys(j["run"] for j in jobs):
        mine = [j for j in jobs if j["run"] == run]
        longest = max(mine, key=lambda j: j["runtime"])
        out[run or "(workflow)"] = {
            "jobs": len(mine),
            "core_hours": sum(j["threads"] * j["runtime"] for j in mine) / 60,
            "peak_mem_gb": max(j["mem_mb"] for j in mine) / 1024,
            "longest_job": (longest["rule"], longest["runtime"]),
        }
    return out


def table(summary: dict[str, dict]) -> str:
    head = "| run | jobs | core-hours (upper bound) | peak memory | longest job |"
    lines = [head, "|---|---|---|---|---|"]
    for run, s in summary.items():
        rule, minutes = s["longest_job"]
        lines.append(
            f"| {run} | {s['jobs']} | {s['core_hours']:.1f} | {s['peak_mem_gb']:.1f} GB "
            f"| {rule} ({minutes} min) |"
        )
    return "\n".join(lines)


def max_rss_mb(benchmark: Path) -> float:
    """The largest ``max_rss`` (MB) over the repeats of a Snakemake benchmark file."""
    lines = benchmark.read_text().splitlines()
    if len(lines) < 2:
        raise ValueError(f"{benchmark}: no measurement below the header")
    column = lines[0].split("\t").index("max_rss")
    values = [line.split("\t")[column] for line in lines[1:]]
    # Snakemake writes "NA" when a job ended before its first sample
    return max((float(v) for v in values if v != "NA"), default=0.0)


def memory_use(jobs: list[dict], root: Path) -> list[dict]:
    """Each job with a benchmark file under ``root``: its measured max_rss beside mem_mb."""
    out = []
    for job in jobs:
        path = root / job["benchmark"] if job["benchmark"] else None
        if path and path.exists() and job["mem_mb"]:
            rss = max_rss_mb(path)
            out.append({**job, "max_rss_mb": rss, "share": rss / job["mem_mb"]})
    return out


def lacking_headroom(measured: list[dict], headroom: float = HEADROOM) -> list[dict]:
    return [m for m in measured if m["share"] > headroom]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", default="all", help="runs of config/runs.yaml (default: all)")
    parser.add_argument(
        "--measured",
        action="store_true",
        help=f"check each finished job's max_rss against {HEADROOM:.0%} of its mem_mb",
    )
    parser.add_argument("--configfile", help="an ad-hoc run's config file instead of --runs")
    args = parser.parse_args(argv)
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    cmd = [snakemake, "--dry-run", "--forceall"]
    cmd += (
        ["--configfile", args.configfile] if args.configfile else ["--config", f"runs={args.runs}"]
    )
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        print(proc.stdout[-3000:])
        return proc.returncode
    jobs = parse_jobs(proc.stdout)
    if not args.measured:
        print(table(summarize(jobs)))
        return 0
    measured = memory_use(jobs, Path.cwd())
    print(f"{len(measured)} finished jobs measured")
    bad = lacking_headroom(measured)
    for m in bad:
        print(
            f"{m['run']}__{m['rule']}: max_rss {m['max_rss_mb']:.0f} MB is {m['share']:.0%} "
            f"of mem_mb={m['mem_mb']} ({m['benchmark']})"
        )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
