"""Faults on a cluster: a SLURM job that exceeds its memory or its time limit fails; Snakemake
names the rule, the SLURM job and its log, and with --show-failed-logs prints that log, where
SLURM says why ("exceeded memory limit (… > …), being killed", "CANCELLED … DUE TO TIME
LIMIT"). A rerun with the resource raised (``--set-resources``, as a user would) completes.
Without slurmdbd the plugin cannot ask sacct for the reason, so the job log is the message. A two-rule workflow of
its own, on the one-node SLURM of tests/test_slurm.py (tools/slurm/start.sh)."""

import re
import textwrap
from pathlib import Path

import pytest

from conftest import run_snakemake
from test_slurm import MISSING, slurm_cluster  # noqa: F401  (the module's fixture)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(MISSING), reason=f"SLURM binaries absent ({', '.join(MISSING)})"),
]

SNAKEFILE = textwrap.dedent(
    """
    rule hog_memory:
        output: "hog.txt"
        resources: mem_mb=400, runtime=5
        shell: "python -c 'import time; b = bytearray(1200 * 2**20); time.sleep(20)' && touch {output}"

    rule overrun_time:
        output: "slow.txt"
        resources: mem_mb=400, runtime=1
        shell: "sleep 150 && touch {output}"
    """
)
SLURM = (
    "--executor",
    "slurm",
    "--jobs",
    "2",
    "--slurm-status-command",
    "squeue",  # no slurmdbd here; squeue keeps finished jobs (MinJobAge=600)
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--seconds-between-status-checks",
    "2",
    "--latency-wait",
    "5",
    "--show-failed-logs",
)


@pytest.mark.parametrize(
    ("target", "rule", "verdict", "raise_it"),
    [
        ("hog.txt", "hog_memory", "exceeded memory limit", "hog_memory:mem_mb=3000"),
        ("slow.txt", "overrun_time", "DUE TO TIME LIMIT", "overrun_time:runtime=5"),
    ],
    ids=["memory", "time"],
)
def test_job_over_its_limit_fails_clearly_and_a_rerun_completes(
    slurm_cluster,  # noqa: F811
    tmp_path,
    target,
    rule,
    verdict,
    raise_it,
):
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    failed = run_snakemake(tmp_path, target, *SLURM, check=False, timeout=600)
    assert failed.returncode != 0, failed.stdout[-3000:]
    assert f"Error in rule {rule}" in failed.stdout, failed.stdout[-3000:]
    log = re.search(r"\(log: (\S+/slurm_logs/\S+\.log)\)", failed.stdout)
    assert log, failed.stdout[-3000:]
    assert verdict in Path(log.group(1)).read_text()  # SLURM's reason, in the job's log
    assert verdict in failed.stdout  # printed by --show-failed-logs
    assert not (tmp_path / target).exists()
    done = run_snakemake(tmp_path, target, *SLURM, "--set-resources", raise_it, timeout=900)
    assert (tmp_path / target).exists(), done.stdout[-3000:]
