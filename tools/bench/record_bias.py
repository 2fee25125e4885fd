"""How much of a job's CPU Snakemake's ``benchmark:`` record holds, on jobs of known CPU.

A throw-away workflow runs one job per CPU budget (each burns that many CPU seconds in a
Python loop and writes its own ``getrusage``); the row compares each job's recorded
``cpu_time`` with the CPU the job reports. Snakemake samples a job's processes every 0.5 s
for ~15 s, then every 30 s, so a job loses what it spends after its last sample.

    python tools/bench/record_bias.py --burn SECONDS OUT.json   # one job (the rule's shell)
"""

import json
import resource
import sys
import time
from pathlib import Path

from xai_repro.bench.report import make_row
from xai_repro.bench.workflow import read_benchmarks

BUDGETS = (5, 25, 40)  # CPU seconds: inside the 0.5-s sampling, just past it, 2 s before 45
SNAKEFILE = """
rule all:
    input:
        expand("burn_{{seconds}}.json", seconds={budgets}),


rule burn:
    output:
        "burn_{{seconds}}.json",
    benchmark:
        "benchmarks/burn_{{seconds}}.tsv"
    shell:
        "{python} {script} --burn {{wildcards.seconds}} {{output}}"
"""


def burn(seconds: float, out: Path) -> None:
    """Spend ``seconds`` of CPU in this process, then write what getrusage says it spent."""
    x = 0
    while time.process_time() < seconds:
        for i in range(10_000):
            x ^= i
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.write_text(json.dumps({"cpu_s": usage.ru_utime + usage.ru_stime}))


def record_bias_row(workdir: Path, run, budgets=BUDGETS) -> dict:
    """Run the throw-away workflow in ``workdir`` with ``run`` (workflow_rows.snakemake), one
    job per CPU budget in ``budgets`` (seconds)."""
    workdir.mkdir(parents=True, exist_ok=True)
    script = Path(__file__).resolve()
    text = SNAKEFILE.format(budgets=list(budgets), python=sys.executable, script=script)
    (workdir / "Snakefile").write_text(text)
    run(workdir, "--cores", "2", log_name="record_bias")
    records = read_benchmarks(workdir / "benchmarks")
    shares, parts = [], []
    for seconds in budgets:
        exact = json.loads((workdir / f"burn_{seconds}.json").read_text())["cpu_s"]
        recorded = records[f"burn_{seconds}.tsv"]["cpu_time"]
        shares.append(recorded / exact)
        parts.append(f"{exact:.1f} s job: {recorded:.1f} s recorded")
    return make_row(
        "workflow.record_bias",
        "share of a job's CPU its benchmark record holds (jobs of known CPU)",
        "share",
        {"label": f"{len(budgets)} jobs", "values": shares},
        notes="; ".join(parts) + ". The records under-count every job that runs past ~15 s",
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--burn":
        burn(float(sys.argv[2]), Path(sys.argv[3]))
    else:
        sys.exit(__doc__)
