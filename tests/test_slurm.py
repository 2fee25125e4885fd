"""The whole test config through a real one-node SLURM (tools/slurm/start.sh), with the
cluster profile profiles/slurm and snakemake-executor-plugin-slurm.

Shown here:
- every job of the DAG (all but the local ``all``) went through sbatch: each has a SLURM job
  id in Snakemake's output, a SLURM log, and a COMPLETED record in SLURM's job-completion
  log, under this run's id and working directory;
- no SLURM daemon or srun ever listens on anything but 127.0.0.1 (``ss -ltn`` polled
  every 0.1 s from before the start to the end of the run);
- the results equal a local run's (workflow_state.completed_test_run): the same files
  under results/, and every file bit for bit except those that record wall-clock time
  (CLOCK_FILES); in each metrics.json every key is the same and every value too, except
  timings (keys matching CLOCK_KEY); torch checkpoints (*.pt) tensor by tensor, since their
  zip members carry the temporary file's random name. Measured here: with the Duffing and CFRL studies, 32 of
  40 files were bit-identical, trained models and figures included; the other 8 differed
  only in timings (and surrogate.keras, a zip archive, in its members' timestamps).

Skipped only when the SLURM binaries are absent (.ci/run installs them with
tools/slurm/install.sh). Starting the daemons needs root.
"""

import json
import os
import re
import shutil
import subprocess
import threading
import time
from fnmatch import fnmatch
from pathlib import Path

import pytest

from conftest import REPO, run_snakemake
from workflow_state import TEST_CONFIG, completed_test_run, executed_rules, snapshot

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
# outputs that record wall-clock time, so differ between any two runs (globs under results/)
CLOCK_FILES = (
    "*/metrics.json",  # compared key by key below
    "*timing*.json",
    "*benchmark*.json",
    "*.keras",  # a zip archive: its members carry the time they were written
    "cfrl/models/fit.json",  # seconds, steps_per_second
    "cfrl/training_log.csv",  # a wall-clock column
    "highway/models/train_stats.json",  # wall_s, env_steps_per_s
    "highway/checkpoints/*",  # SB3's zip archives carry their write time (resume state, not results)
)
# metrics that are timings: any key path with one of these words
CLOCK_KEY = re.compile(
    r"second|per_s\b|per_s_|speedup|time|elapsed|duration|^benchmark\."
)  # highway: env steps/s


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

    # results equal a local run's
    local = completed_test_run()
    mine, theirs = snapshot(workflow_copy), snapshot(local)
    assert set(mine) == set(theirs)
    differ = sorted(p for p in mine if mine[p][2] != theirs[p][2])
    clock = [p for p in differ if any(fnmatch(p.removeprefix("results/"), g) for g in CLOCK_FILES)]
    # torch.save names the archive's members after the file it writes, here atomic_output's
    # random temporary name, so checkpoints are compared tensor by tensor
    same_tensors = [
        p for p in differ if p.endswith(".pt") and _same_tensors(workflow_copy / p, local / p)
    ]
    print(f"bit-identical to the local run: {len(mine) - len(differ)} of {len(mine)} files")
    print(f"same tensors, different archive names: {same_tensors}")
    unexplained = sorted(set(differ) - set(clock) - set(same_tensors))
    assert not unexplained, f"differ from the local run: {unexplained}"
    for rel in (p for p in mine if p.endswith("/metrics.json")):
        a = _flatten(json.loads((workflow_copy / rel).read_text()))
        b = _flatten(json.loads((local / rel).read_text()))
        assert set(a) == set(b), rel
        changed = [k for k in a if a[k] != b[k] and not CLOCK_KEY.search(k)]
        assert not changed, f"{rel}: {changed} differ from the local run"


def _same_tensors(path_a: Path, path_b: Path) -> bool:
    """Whether two torch checkpoints hold the same keys and bit-identical tensors."""
    import torch

    def walk(a, b):
        if isinstance(a, torch.Tensor):
            return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
        if isinstance(a, dict):
            return isinstance(b, dict) and a.keys() == b.keys() and all(walk(a[k], b[k]) for k in a)
        if isinstance(a, (list, tuple)):
            return type(a) is type(b) and len(a) == len(b) and all(map(walk, a, b))
        return a == b

    load = dict(map_location="cpu", weights_only=True)
    return walk(torch.load(path_a, **load), torch.load(path_b, **load))


def _flatten(tree, prefix=""):
    """{"a.b": value} for every leaf of a nested JSON object."""
    if isinstance(tree, dict):
        out = {}
        for key, value in tree.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: tree}
