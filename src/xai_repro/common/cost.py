"""Each run's cost from its rules' resources, read off Snakemake's dry run of the whole run.

For every job of a run (``snakemake --dry-run --forceall --config runs=<run>``): threads,
``runtime`` (minutes) and ``mem_mb`` as the rules request them. Core-hours are the sum of
threads x runtime: an upper bound, since a rule's runtime is its time limit on a cluster,
not a measurement. Peak memory is the largest request; the longest job the largest runtime.

    python -m xai_repro.common.cost [--runs all]
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


def parse_jobs(output: str) -> list[dict]:
    """One record per job of a dry run's output: run, rule, threads, runtime, mem_mb."""
    jobs, job = [], None
    for line in output.splitlines():
        if match := _JOB.match(line):
            name = match.group(1)
            run, _, rule = name.rpartition("__")
            job = {"run": run, "rule": rule, "threads": 1, "runtime": 0, "mem_mb": 0}
            if name != "all":
                jobs.append(job)
        elif job and (match := _THREADS.match(line)):
            job["threads"] = int(match.group(1))
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", default="all", help="runs of config/runs.yaml (default: all)")
    args = parser.parse_args(argv)
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    cmd = [snakemake, "--dry-run", "--forceall", "--config", f"runs={args.runs}"]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        print(proc.stdout[-3000:])
        return proc.returncode
    print(table(summarize(parse_jobs(proc.stdout))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
