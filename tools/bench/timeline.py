"""Where a finished workflow run spent its wall: every job's start, end, threads, wall and CPU
seconds (Snakemake's output + the run's ``benchmarks/**.tsv``), the seconds at each number of
running jobs, and the parallel efficiency.

    snakemake --cores 2 ... 2>&1 | tee run.log
    python tools/bench/timeline.py run.log --workdir . --cores 2

Snakemake's stamps have 1-second resolution: read the table as a profile.
"""

import argparse
from pathlib import Path

from xai_repro.bench.workflow import busy_seconds, efficiency, job_starts, read_benchmarks


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("log", help="Snakemake's output of the run (stdout and stderr)")
    p.add_argument("--workdir", default=".", help="the run's directory (its benchmarks/)")
    p.add_argument("--cores", type=int, default=2)
    args = p.parse_args()
    jobs = [j for j in job_starts(Path(args.log).read_text()) if j["rule"] != "all"]
    done = [j for j in jobs if j["end"] is not None]
    if not done:
        raise SystemExit(f"{args.log}: no finished job found")
    t0 = min(j["start"] for j in done)
    wall = (max(j["end"] for j in done) - t0).total_seconds()
    tsv = read_benchmarks(Path(args.workdir) / "benchmarks")
    by_log = {Path(k).with_suffix("").as_posix(): v for k, v in tsv.items()}
    print(f"{'start':>6} {'end':>6} {'thr':>3} {'wall':>6} {'cpu':>7}  job")
    for j in sorted(done, key=lambda j: j["start"]):
        start = (j["start"] - t0).total_seconds()
        end = (j["end"] - t0).total_seconds()
        key = Path(j["log"] or "").with_suffix("").as_posix().removeprefix("logs/")
        cpu = by_log.get(key, {}).get("cpu_time", float("nan"))
        print(f"{start:6.0f} {end:6.0f} {j['threads']:3d} {end - start:6.0f} {cpu:7.1f}  {key}")
    print(f"\nwall (first start to last end): {wall:.0f} s")
    for running, seconds in sorted(busy_seconds(done).items()):
        print(f"  {running} job(s) running: {seconds:6.0f} s")
    print(f"efficiency (sum of cpu_time / cores x wall): {efficiency(tsv, args.cores, wall):.3f}")


if __name__ == "__main__":
    main()
