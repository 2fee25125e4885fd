"""Snakemake's command line, run in this process, that writes at exit where the CPU went:
Snakemake's own process (DAG, scheduling, bookkeeping) and every process under it, from the
OS (``getrusage``; children count once they have exited and been waited for, which Snakemake
does for every job).

    python tools/bench/snakemake_rusage.py OUT.json --cores 2 --configfile ...

The children are the jobs (their shell, script and the script's own subprocesses) plus
the ILP scheduler's CBC solver, which costs ~3.5 ms CPU per scheduling round here (50 solves
of an 8-job problem, measured): ~0.2 s over a 45-job run, so the children measure the jobs'
CPU exactly, where the ``benchmark:`` records sample it.
"""

import atexit
import json
import resource
import sys
import time
from pathlib import Path


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    out, args = Path(sys.argv[1]), sys.argv[2:]
    start = time.perf_counter()

    def write() -> None:
        usage = {"snakemake_cpu_s": _cpu(resource.RUSAGE_SELF)}
        usage.update(jobs_cpu_s=_cpu(resource.RUSAGE_CHILDREN))
        usage["wall_s"] = time.perf_counter() - start
        out.write_text(json.dumps(usage))

    atexit.register(write)
    from snakemake.cli import main as snakemake_main

    sys.argv = ["snakemake", *args]
    snakemake_main()


if __name__ == "__main__":
    main()
