"""The whole test config through a real one-node SLURM (tools/slurm/start.sh), with the
cluster profile profiles/slurm and snakemake-executor-plugin-slurm.

Shown here:
- every job of the DAG (all but the local ``all``) went through sbatch: each has a SLURM job
  id in Snakemake's output, a SLURM log, and a COMPLETED record in SLURM's job-completion
  log, under this run's id and working directory;
- no SLURM daemon or srun ever listens on anything but 127.0.0.1 (``ss -ltn`` polled
  every 0.1 s from before the start to the end of the run);
- the results equal a local run's (workflow_state.completed_test_run): the same files
  under results/, and every file equal except those that record wall-clock time
  (workflow_state.CLOCK_FILES). A job may get other thread counts under SLURM than in the
  local run (``spare_cores`` gives a local job one core fewer than ``--cores``), and float
  sums then round differently: tensors, arrays, CSV and JSON numbers and metrics values are
  compared within ACROSS_THREADS, figures within workflow_state.FIGURE_PIXEL_SHARE of their
  pixels; in each metrics.json every key is the same, timings (CLOCK_KEY) excepted.

Skipped only when the SLURM binaries are absent (.ci/run installs them with
tools/slurm/install.sh). Starting the daemons needs root.
"""

import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import REPO, run_snakemake
from workflow_state import TEST_CONFIG, compare_runs, completed_test_run, executed_rules

SLURM_BINARIES = ("slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "munged")
MISSING = [b for b in SLURM_BINARIES if shutil.which(b) is None]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"SLURM binaries absent ({', '.join(MISSING)}): run tools/slurm/install.sh",
    ),
]

STATE = Path(os.environ.get("XAI_SLURM_DIR", REPO / "slurm" / "run"))  # as tools/slurm/start.sh
JOBCOMP = STATE / "logs" / "jobcomp.log"
# float32 results of runs whose jobs had other thread counts (reduction order differs)
ACROSS_THREADS = {"rtol": 1e-4, "atol": 1e-6}


class ListenWatch(threading.Thread):
    """Poll ``ss -Hltn``; collect every listening address not there at the start."""

    def __init__(self):
        super().__init__(daemon=True)
        self.before = self._listening()
        self.seen: set[str] = set()
        self.polls = 0
        self._halt = threading.Event()

    @staticmethod
    def _listening() -> set[str]:
        out = subprocess.run(["ss", "-Hltn"], capture_output=True, text=True, check=True).stdout
        return {line.split()[3] for line in out.splitlines() if line.strip()}

    def run(self):
        while not self._halt.is_set():
            self.seen |= self._listening() - self.before
            self.polls += 1
            time.sleep(0.1)

    def stop(self) -> set[str]:
        self._halt.set()
        self.join(timeout=10)
        return self.seen


def _slurm_ports() -> set[int]:
    conf = (STATE / "slurm.conf").read_text()
    ports = {
        int(re.search(rf"^{key}=(\d+)", conf, re.M).group(1))
        for key in ("SlurmctldPort", "SlurmdPort")
    }
    low, high = map(int, re.search(r"^SrunPortRange=(\d+)-(\d+)", conf, re.M).groups())
    return ports | set(range(low, high + 1))


@pytest.fixture(scope="module")
def slurm_cluster():
    """A running one-node SLURM; stopped afterwards only if this fixture started it."""
    already = subprocess.run(["scontrol", "ping"], capture_output=True, text=True).returncode == 0
    watch = ListenWatch()
    watch.start()
    start = subprocess.run(
        [str(REPO / "tools/slurm/start.sh")], capture_output=True, text=True, timeout=120
    )
    assert start.returncode == 0, start.stdout + start.stderr
    yield watch
    watch.stop()
    if not already:
        pids = _daemon_pids()
        ports = _slurm_ports()
        subprocess.run([str(REPO / "tools/slurm/stop.sh")], check=True, timeout=120)
        # stopped exactly what it started: those daemons are gone, their ports closed
        assert not [pid for pid in pids.values() if Path(f"/proc/{pid}").exists()], pids
        assert not {a for a in ListenWatch._listening() if int(a.rsplit(":", 1)[1]) in ports}
        assert not (STATE / "slurmctld.pid").exists()


def _daemon_pids() -> dict[str, str]:
    """name -> pid of the daemons tools/slurm/start.sh started (its pid files)."""
    return {p.stem: p.read_text().strip() for p in STATE.glob("*.pid")}


def test_start_is_idempotent(slurm_cluster):
    before = _daemon_pids()
    again = subprocess.run(
        [str(REPO / "tools/slurm/start.sh")], capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "slurmctld and slurmd already running" in again.stdout
    assert _daemon_pids() == before


def test_test_config_through_slurm_equals_local_run(slurm_cluster, workflow_copy):
    dag = run_snakemake(workflow_copy, "--dry-run", "--configfile", TEST_CONFIG)
    expected_jobs = sum(executed_rules(dag.stdout).values())

    start = time.perf_counter()
    proc = run_snakemake(
        workflow_copy,
        "--workflow-profile",
        "profiles/slurm",
        "--configfile",
        TEST_CONFIG,
        # no slurmdbd here: sacct knows nothing, squeue keeps finished jobs (MinJobAge=600)
        "--slurm-status-command",
        "squeue",
        "--slurm-init-seconds-before-status-checks",
        "2",
        "--seconds-between-status-checks",
        "2",
        "--slurm-keep-successful-logs",
        "--retries",
        "0",
        "--latency-wait",
        "5",
    )
    wall = time.perf_counter() - start
    listeners = slurm_cluster.stop()

    # every job went through sbatch, and SLURM ran each to completion
    submitted = dict(
        re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", proc.stdout)
    )
    print(f"SLURM run: {len(submitted)} jobs through sbatch in {wall:.0f} s")
    assert len(submitted) == expected_jobs, proc.stdout[-3000:]
    assert "localrule" not in proc.stdout.replace("localrule all:", "")
    records = {}
    for line in JOBCOMP.read_text().splitlines():
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        records[fields["JobId"]] = fields
    for slurm_id in submitted.values():
        record = records.get(slurm_id)
        assert record is not None, f"SLURM job {slurm_id} not in {JOBCOMP}"
        assert record["JobState"] == "COMPLETED", record
        assert Path(record["WorkDir"]).resolve() == workflow_copy.resolve(), record
        assert record["NodeList"] == "localhost", record
    assert len({records[i]["Name"] for i in submitted.values()}) == 1  # one run's jobs
    logs = list((workflow_copy / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert {p.stem for p in logs} >= set(submitted.values())

    # loopback only, all along (and the daemons' ports if they were up before the watch)
    ports = _slurm_ports()
    ours = {a for a in listeners | slurm_cluster.before if int(a.rsplit(":", 1)[1]) in ports}
    outside = sorted(a for a in ours if not a.startswith("127.0.0.1:"))
    print(
        f"listen watch: {slurm_cluster.polls} polls, {len(ours)} SLURM listening addresses,"
        f" not on loopback: {outside}"
    )
    assert ours and not outside

    # results equal a local run's, except clock outputs (workflow_state.CLOCK_FILES)
    diff = compare_runs(workflow_copy, completed_test_run(), tolerance=ACROSS_THREADS)
    print(f"bit-identical to the local run: {diff['identical']} of {diff['total']} files")
    print(f"tensors within {ACROSS_THREADS}: {diff['same_tensors']}")
    print(f"arrays within it: {diff['same_arrays']}; other files: {diff['within_tolerance']}")
    assert not diff["only_in_one"], diff["only_in_one"]
    assert not diff["unexplained"], f"differ from the local run: {diff['unexplained']}"
    assert not diff["changed_metrics"], diff["changed_metrics"]
