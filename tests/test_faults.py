"""Faults: the whole workflow killed (SIGKILL to Snakemake and every job it started) during
the highway training of a test-size run, then rerun. Nothing half-written survives the kill
under an output path; the rerun resumes from the training's last checkpoint and completes,
and its results equal an uninterrupted run's (trained network tensor by tensor, evaluation,
training statistics except the clock and the resume bookkeeping): a checkpoint holds the
environments and RNG states besides SB3's zip and replay buffer (xai_repro.highway.checkpoint).

The run is highway only, trained for FAULT_STEPS environment steps with a checkpoint every
CHECKPOINT_EVERY, and killed once the first checkpoint is completely written, so that the
kill lands between two checkpoints. Each checkpoint file is written atomically, the SB3 zip
last, so a kill while one is written leaves the previous checkpoint to resume from.
"""

import json
import os
import signal
import subprocess
import time

import pytest
import yaml

from conftest import SNAKEMAKE, copy_workflow, run_snakemake, workflow_env
from workflow_state import CLOCK_KEY, flatten, same_tensors

pytestmark = pytest.mark.slow

FAULT_STEPS, CHECKPOINT_EVERY = 160, 40
TARGETS = ("results/faults/highway/models/trained.pt", "results/faults/highway/evaluation.json")
CONFIG = "config/faults.yaml"


def _fault_workflow(path):
    work = copy_workflow(path)
    config = yaml.safe_load((work / "config" / "test.yaml").read_text())
    config["studies"] = ["highway"]
    config["highway"]["train"].update(total_steps=FAULT_STEPS, checkpoint_every=CHECKPOINT_EVERY)
    (work / CONFIG).write_text(yaml.safe_dump(config))
    return work


def _run(work, *args, **kwargs):
    # targets before --configfile, which takes every following word as a config file
    return run_snakemake(work, *args, "--cores", "2", "--configfile", CONFIG, **kwargs)


def _checkpoints(work):
    return sorted((work / "results" / "faults" / "highway" / "checkpoints").glob("dqn_*_steps.zip"))


def _complete_checkpoint(work):
    """A checkpoint is complete once its SB3 zip exists: the training writes its replay
    buffer and state first and every file atomically, the zip last."""
    return bool(_checkpoints(work))


def _alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _kill_during_training(work, timeout=1200):
    """Start the run in its own process group; SIGKILL the group once a checkpoint exists."""
    cmd = [SNAKEMAKE, *TARGETS, "--cores", "2", "--configfile", CONFIG]
    proc = subprocess.Popen(
        cmd,
        cwd=work,
        env=workflow_env(work),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while not _complete_checkpoint(work):
        assert proc.poll() is None, "the run ended before the first checkpoint"
        assert time.monotonic() < deadline, "no checkpoint in time"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # Snakemake and every job it started
    proc.wait()
    for _ in range(100):
        if not _alive(proc.pid):
            break
        time.sleep(0.1)
    assert not _alive(proc.pid), "a process of the killed run survived"
    return _checkpoints(work)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """An uninterrupted run, and a run killed after its first checkpoint and rerun."""
    root = tmp_path_factory.mktemp("faults")
    clean = _fault_workflow(root / "clean")
    _run(clean, *TARGETS)
    killed = _fault_workflow(root / "killed")
    left = _kill_during_training(killed)
    models = killed / "results" / "faults" / "highway" / "models"
    assert not (models / "trained.pt").exists(), "training output written before the kill"
    assert not list(models.glob(".*")), "a half-written temporary survived"  # atomic_output
    print(f"killed with checkpoints {[p.name for p in left]}")
    proc = _run(killed, "--rerun-incomplete", *TARGETS, check=False)
    if proc.returncode != 0 and "cannot be locked" in proc.stdout:
        _run(killed, "--unlock")  # a SIGKILLed Snakemake leaves its lock behind
        proc = _run(killed, "--rerun-incomplete", *TARGETS, check=False)
    return clean, killed, proc


def _stats(work):
    return json.loads((work / "results/faults/highway/models/train_stats.json").read_text())


def test_killed_run_resumes_from_its_checkpoint_and_completes(runs):
    clean, killed, proc = runs
    assert proc.returncode == 0, proc.stdout[-3000:]
    stats = _stats(killed)
    assert stats["resumed_from"] >= CHECKPOINT_EVERY and _stats(clean)["resumed_from"] == 0
    assert stats["resumed_from"] + stats["steps_this_run"] == FAULT_STEPS
    rel = "results/faults/highway/models/untrained.pt"
    assert same_tensors(killed / rel, clean / rel)
    assert (killed / TARGETS[1]).is_file()


def test_resumed_results_equal_an_uninterrupted_run(runs):
    clean, killed, proc = runs
    assert proc.returncode == 0, proc.stdout[-3000:]
    skip = ("resumed_from", "steps_this_run")
    a, b = (
        {k: v for k, v in flatten(_stats(w)).items() if not CLOCK_KEY.search(k) and k not in skip}
        for w in (killed, clean)
    )
    assert a == b
    rel = "results/faults/highway/models/trained.pt"
    assert same_tensors(killed / rel, clean / rel), f"{rel} differs from the uninterrupted run"
    assert json.loads((killed / TARGETS[1]).read_text()) == json.loads(
        (clean / TARGETS[1]).read_text()
    )
