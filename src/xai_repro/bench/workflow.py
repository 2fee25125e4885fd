"""Pure parsing for the workflow rows: jobs' start times from Snakemake's output, the first
line of each job's log, the per-job benchmark ``.tsv`` files, parallel efficiency.

Per-job start-up is the time from Snakemake starting a job (its "[date]" line) to the first
line the job's script logs (after its imports): both have 1-second resolution.
"""

import csv
import re
from datetime import datetime, timedelta
from pathlib import Path

_STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
_RULE = re.compile(r"^(?:local)?rule (\w+):$")
_LOG = re.compile(r"^\s+log: (\S+)")
_LOG_TIME = re.compile(r"^(\d\d):(\d\d):(\d\d) ")


def job_starts(snakemake_output: str) -> list[dict]:
    """Every job Snakemake started: {"rule", "log" (first log file or None), "start"}."""
    jobs, stamp, current = [], None, None
    for line in snakemake_output.splitlines():
        m = _STAMP.match(line.strip())
        if m:
            stamp = datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
            current = None
            continue
        m = _RULE.match(line)
        if m and stamp is not None:
            current = {"rule": m.group(1), "log": None, "start": stamp}
            jobs.append(current)
            continue
        m = _LOG.match(line)
        if m and current is not None and current["log"] is None:
            current["log"] = m.group(1).rstrip(",")
    return jobs


def first_log_time(log_text: str, after: datetime) -> datetime | None:
    """Time of the first "HH:MM:SS ..." line of a job log, on or after ``after``'s day."""
    for line in log_text.splitlines():
        m = _LOG_TIME.match(line)
        if m:
            h, mi, s = (int(g) for g in m.groups())
            t = after.replace(hour=h, minute=mi, second=s)
            if t < after - timedelta(hours=12):  # the job logged after midnight
                t += timedelta(days=1)
            return t
    return None


def startup_seconds(snakemake_output: str, workdir) -> dict[str, float]:
    """Seconds from job start to its first log line, per job log path (jobs that logged)."""
    out = {}
    for job in job_starts(snakemake_output):
        if job["log"] is None:
            continue
        path = Path(workdir) / job["log"]
        if not path.is_file():
            continue
        first = first_log_time(path.read_text(errors="replace"), job["start"])
        if first is not None:
            out[job["log"]] = (first - job["start"]).total_seconds()
    return out


def read_benchmarks(directory) -> dict[str, dict]:
    """Every Snakemake benchmark ``.tsv`` under ``directory``: {relative path: {s, cpu_time}}.

    Only the per-job files (they have Snakemake's header with ``s`` and ``cpu_time``).
    """
    out = {}
    root = Path(directory)
    for path in sorted(root.rglob("*.tsv")):
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        if not rows or "s" not in rows[0] or "cpu_time" not in rows[0]:
            continue
        last = rows[-1]
        out[str(path.relative_to(root))] = {
            "s": float(last["s"]),
            "cpu_time": float(last["cpu_time"]),
        }
    return out


def efficiency(jobs: dict[str, dict], cores: int, wall: float) -> float:
    """Sum of the jobs' CPU seconds over the core-seconds available (cores x wall)."""
    if cores <= 0 or wall <= 0:
        raise ValueError("cores and wall must be positive")
    return sum(j["cpu_time"] for j in jobs.values()) / (cores * wall)
