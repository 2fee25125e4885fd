"""What a run of the workflow did, or would do: for tests/test_slurm.py and test_incremental.py.

- ``planned_jobs``: the jobs a dry-run would run, as a Counter of rule names.
- ``executed_rules``: the same from a real run's output (its "rule X:" job headers).
- ``snapshot``: path -> (size, mtime_ns, sha256) of every file under results/, to show
  which files a run rewrote and that two runs wrote identical bytes.
- ``completed_test_run``: one local run of the whole test config per pytest session,
  copied (with mtimes and Snakemake's metadata) for each test that needs a finished
  workflow, so the suite pays for the run once.
"""

from __future__ import annotations

import atexit
import hashlib
import re
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from conftest import copy_workflow, run_snakemake

TEST_CONFIG = "config/test.yaml"
_RULE_HEADER = re.compile(r"^(?:local)?rule (\w+):\s*$", re.MULTILINE)


def executed_rules(output: str) -> Counter:
    """Rule -> number of jobs in a (dry-)run's output, from its "rule X:" headers (not ``all``)."""
    jobs = Counter(_RULE_HEADER.findall(output))
    jobs.pop("all", None)
    return jobs


def planned_jobs(workdir: Path, *args: str) -> Counter:
    """The jobs ``snakemake --dry-run`` would run now (empty if nothing is to be done)."""
    proc = run_snakemake(workdir, "--dry-run", "--configfile", TEST_CONFIG, *args)
    jobs = executed_rules(proc.stdout)
    assert jobs or "Nothing to be done" in proc.stdout, proc.stdout[-3000:]
    return jobs


def study_rules(study: str, repo: Path) -> set[str]:
    """The rule names defined in rules/<study>.smk."""
    text = (repo / "rules" / f"{study}.smk").read_text()
    return set(re.findall(r"^rule (\w+):", text, re.MULTILINE))


def snapshot(workdir: Path) -> dict[str, tuple[int, int, str]]:
    """relative path -> (size, mtime_ns, sha256) of every file under ``workdir/results``."""
    out = {}
    root = workdir / "results"
    for path in sorted(root.rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            out[str(path.relative_to(workdir))] = (stat.st_size, stat.st_mtime_ns, digest)
    return out


def clone_run(src: Path, dest: Path) -> Path:
    """Copy a finished workflow directory keeping mtimes and .snakemake metadata."""
    shutil.copytree(src, dest, symlinks=True)
    return dest


_COMPLETED: dict[str, Path] = {}


def completed_test_run() -> Path:
    """A workflow copy on which the whole test config ran locally (once per session)."""
    if "path" not in _COMPLETED:
        root = Path(tempfile.mkdtemp(prefix="xai-repro-local-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        work = copy_workflow(root / "workflow")
        start = time.perf_counter()
        proc = run_snakemake(work, "--cores", "2", "--configfile", TEST_CONFIG)
        print(f"local run of the test config: {time.perf_counter() - start:.0f} s")
        (root / "run.log").write_text(proc.stdout)
        _COMPLETED["path"] = work
    return _COMPLETED["path"]
