"""Determinism and offline operation, from one extra run: a clean copy of the workflow runs
the test config with networking removed (``unshare -n``: a new network namespace with no
interface up), and its results are compared with the pytest invocation's first run (with network,
workflow_state.completed_test_run).

- The offline run completes (nothing downloads: datasets, weights and environments are local).
- Every file under results/ is byte-identical — JSON, CSV, NPZ (fixed member dates in
  write_npz), figures (no version or date metadata in save_figure) — except the clock
  outputs listed with why in workflow_state.CLOCK_FILES; metrics.json files equal key by key
  except timing keys; torch checkpoints tensor by tensor (their archives name members after
  a random temporary file). NPZ files are also compared array by array.
"""

import shutil
import subprocess
import sys
import time

import pytest

from conftest import copy_workflow, run_snakemake
from workflow_state import TEST_CONFIG, compare_runs, completed_test_run

OFFLINE = ("unshare", "-n")


def _can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run([*OFFLINE, "true"], capture_output=True).returncode == 0


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not _can_unshare(), reason="unshare -n not permitted here (needs root)"),
]


def test_network_namespace_has_no_network():
    probe = "import socket; socket.create_connection(('1.1.1.1', 53), timeout=3)"
    proc = subprocess.run([*OFFLINE, sys.executable, "-c", probe], capture_output=True, text=True)
    assert proc.returncode != 0 and "unreachable" in proc.stderr.lower(), proc.stderr


def test_offline_run_is_identical_to_the_first(tmp_path):
    first = completed_test_run()
    second = copy_workflow(tmp_path / "workflow")
    start = time.perf_counter()
    run_snakemake(second, "--cores", "2", "--configfile", TEST_CONFIG, prefix=OFFLINE)
    print(f"offline run of the test config: {time.perf_counter() - start:.0f} s")
    diff = compare_runs(second, first)
    print(f"byte-identical: {diff['identical']} of {diff['total']} files")
    print(f"clock outputs (excluded): {diff['clock']}")
    print(f"same tensors: {diff['same_tensors']}")
    # a differing .npz is unexplained unless workflow_state.same_arrays finds every non-clock
    # array equal (dtype, values, NaN positions)
    print(f"same arrays: {diff['same_arrays']}")
    assert not diff["only_in_one"], diff["only_in_one"]
    assert not diff["unexplained"], f"differ between two runs: {diff['unexplained']}"
    assert not diff["changed_metrics"], diff["changed_metrics"]
