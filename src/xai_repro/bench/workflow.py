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
_JOBID = re.compile(r"^\s+jobid: (\d+)")
_THREADS = re.compile(r"^\s+threads: (\d+)")
_FINISHED = re.compile(r"^Finished jobid: (\d+)")


def job_starts(snakemake_output: str) -> list[dict]:
    """Every job Snakemake started: {"rule", "log" (first log file or None), "start",
    "jobid", "threads" (1 unless the job header says more), "end" (its "Finished jobid" stamp,
    None if it did not finish)}."""
    jobs, by_id, stamp, current = [], {}, None, None
    for line in snakemake_output.splitlines():
        m = _STAMP.match(line.strip())
        if m:
            stamp = datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
            current = None
            continue
        m = _RULE.match(line)
        if m and stamp is not None:
            current = {"rule": m.group(1), "log": None, "start": stamp, "jobid": None}
            current.update(threads=1, end=None)
            jobs.append(current)
            continue
        m = _FINISHED.match(line)
        if m and m.group(1) in by_id:
            by_id[m.group(1)]["end"] = stamp
        if current is None:
            continue
        m = _LOG.match(line)
        if m and current["log"] is None:
            current["log"] = m.group(1).rstrip(",")
        m = _JOBID.match(line)
        if m:
            current["jobid"] = m.group(1)
            by_id[m.group(1)] = current
        m = _THREADS.match(line)
        if m:
            current["threads"] = int(m.group(1))
    return jobs


def busy_seconds(jobs: list[dict]) -> dict[int, float]:
    """Seconds of the run's wall (first start to last end) at each number of running jobs.

    ``jobs`` as from :func:`job_starts` (finished jobs only are counted). With 1-second stamps
    this is a profile, not a measurement: it shows where only one job ran."""
    events = []
    for job in jobs:
        if job["end"] is not None and job["rule"] != "all":
            events += [(job["start"], 1), (job["end"], -1)]
    events.sort(key=lambda e: (e[0], e[1]))
    out, running, last = {}, 0, None
    for when, step in events:
        if last is not None and when > last:
            out[running] = out.get(running, 0.0) + (when - last).total_seconds()
        running, last = running + step, when
    return out


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
