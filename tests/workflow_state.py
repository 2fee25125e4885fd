"""What a run of the workflow did, or would do: for tests/test_slurm.py and test_incremental.py.

- ``planned_jobs``: the jobs a dry-run would run, as a Counter of rule names.
- ``executed_rules``: the same from a real run's output (its "rule X:" job headers).
- ``snapshot``: path -> (size, mtime_ns, sha256) of every file under results/, to show
  which files a run rewrote and that two runs wrote identical bytes.
- ``compare_runs``: two finished runs' results, file by file, clock outputs (CLOCK_FILES,
  each with why) and torch archives (tensor by tensor) told apart from real differences;
  exact, or within a stated tolerance for runs that may round differently.
- ``completed_test_run``: one local run of the whole test config per pytest invocation,
  copied (with mtimes and Snakemake's metadata) for each test that needs a finished
  workflow, so the suite pays for the run once.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import math
import re
import shutil
import tempfile
import time
from collections import Counter
from fnmatch import fnmatch
from pathlib import Path

from conftest import copy_workflow, run_snakemake

TEST_CONFIG = "config/test.yaml"
# a run's rules are named <run>__<rule> (rules/runs.smk); the workflow's own have no run
_RULE_HEADER = re.compile(r"^(?:local)?rule (?:(\w+?)__)?(\w+):\s*$", re.MULTILINE)


def executed_jobs(output: str) -> Counter:
    """(run, rule) -> number of jobs in a (dry-)run's output (run "" for the workflow's own
    rules, e.g. build_scorecard), from its "rule X:" headers (not ``all``)."""
    jobs = Counter(_RULE_HEADER.findall(output))
    jobs.pop(("", "all"), None)
    return jobs


def executed_rules(output: str) -> Counter:
    """Rule -> number of jobs in a (dry-)run's output, whatever their run (not ``all``)."""
    jobs = Counter()
    for (_, rule), n in executed_jobs(output).items():
        jobs[rule] += n
    return jobs


def planned_jobs(workdir: Path, *args: str) -> Counter:
    """The jobs ``snakemake --dry-run`` would run now (empty if nothing is to be done)."""
    proc = run_snakemake(workdir, "--dry-run", "--configfile", TEST_CONFIG, *args)
    jobs = executed_rules(proc.stdout)
    assert jobs or "Nothing to be done" in proc.stdout, proc.stdout[-3000:]
    return jobs


def study_rules(study: str, repo: Path) -> set[str]:
    """The names of the ``rule <name>:`` heads in rules/<study>.smk and rules/<study>_*.smk."""
    files = [repo / "rules" / f"{study}.smk", *(repo / "rules").glob(f"{study}_*.smk")]
    text = "\n".join(path.read_text() for path in files)
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
    """A workflow copy on which the whole test config ran locally (once per pytest invocation)."""
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


# Outputs that record wall-clock time, so differ between any two runs (globs under results/),
# each with why. Everything else two runs of the same config write must be identical.
CLOCK_FILES = {
    "*/metrics.json": "holds timings; compared key by key, timing keys (CLOCK_KEY) excluded",
    "*timing*.json": "seconds per explanation (cfrl baseline and CFRL timings)",
    "*benchmark*.json": "speed measurements (highway training steps/s)",
    "*.keras": "a zip archive whose members carry the time they were written; the surrogate's "
    "predictions (test_predictions.csv) and metrics are compared instead",
    "cfrl/models/fit.json": "seconds, steps_per_second of the CFRL fit",
    "cfrl/models/autoencoder.json": "cpu_seconds of the autoencoder's training (its test and "
    "validation errors are compared in metrics.json)",
    "cfrl/training_log.csv": "a wall-clock column",
    "cfrl/figures/training_curves.png": "plots the reward against fit seconds (wall clock)",
    "highway/models/train_stats.json": "wall_s, env_steps_per_s",
    "highway/checkpoints/*": "SB3 zip archives carry their write time (resume state, not results)",
}
CLOCK_KEY = re.compile(
    r"second|per_s\b|per_s_|(^|[._])wall_s\b|speedup|time|elapsed|duration|^benchmark\.|^speed\."
)


def _close(a, b, tolerance) -> bool:
    """Equal leaves, or numbers within ``tolerance`` ({"rtol", "atol"}; None: exact)."""
    numbers = (int, float)
    if tolerance is not None and isinstance(a, list):
        same_length = isinstance(b, list) and len(a) == len(b)
        return same_length and all(_close(x, y, tolerance) for x, y in zip(a, b, strict=False))
    if tolerance is None or isinstance(a, bool) or not isinstance(a, numbers):
        return a == b
    if isinstance(b, bool) or not isinstance(b, numbers):
        return False
    return math.isclose(a, b, rel_tol=tolerance["rtol"], abs_tol=tolerance["atol"])


def same_tensors(path_a: Path, path_b: Path, tolerance: dict | None = None) -> bool:
    """Whether two torch checkpoints hold the same keys and equal tensors: bit-identical, or
    floating tensors within ``tolerance`` ({"rtol", "atol"}) when given (torch.save names its
    zip members after the temporary file it writes, so bytes differ)."""
    import torch

    def equal(a, b):
        if tolerance is None or not a.is_floating_point():
            return torch.equal(a, b)
        return torch.allclose(a, b, rtol=tolerance["rtol"], atol=tolerance["atol"], equal_nan=True)

    def walk(a, b):
        if isinstance(a, torch.Tensor):
            return (
                isinstance(b, torch.Tensor)
                and a.dtype == b.dtype
                and a.shape == b.shape
                and equal(a, b)
            )
        if isinstance(a, dict):
            return isinstance(b, dict) and a.keys() == b.keys() and all(walk(a[k], b[k]) for k in a)
        if isinstance(a, (list, tuple)):
            return type(a) is type(b) and len(a) == len(b) and all(map(walk, a, b))
        return _close(a, b, tolerance)

    load = dict(map_location="cpu", weights_only=True)
    return walk(torch.load(path_a, **load), torch.load(path_b, **load))


def same_arrays(path_a: Path, path_b: Path, tolerance: dict | None = None) -> bool:
    """Whether two .npz files hold the same arrays (same dtype and shape, equal values or
    floating values within ``tolerance``, NaN where the other has NaN), clock arrays (names
    matching CLOCK_KEY, e.g. the baseline's per-search ``seconds``) excepted."""
    import numpy as np

    def same(u, v):
        if u.dtype != v.dtype or u.shape != v.shape:
            return False
        if not np.issubdtype(u.dtype, np.inexact):
            return np.array_equal(u, v)
        if tolerance is None:
            return np.array_equal(u, v, equal_nan=True)
        return np.allclose(u, v, rtol=tolerance["rtol"], atol=tolerance["atol"], equal_nan=True)

    with np.load(path_a, allow_pickle=False) as x, np.load(path_b, allow_pickle=False) as y:
        if set(x.files) != set(y.files):
            return False
        return all(same(x[k], y[k]) for k in x.files if not CLOCK_KEY.search(k))


def same_table(path_a: Path, path_b: Path, tolerance: dict) -> bool:
    """Whether two CSV files have the same header and cells, numbers within ``tolerance``."""
    import csv

    def cell(text):
        try:
            return float(text)
        except ValueError:
            return text

    with open(path_a, newline="") as fa, open(path_b, newline="") as fb:
        a, b = list(csv.reader(fa)), list(csv.reader(fb))
    if len(a) != len(b) or any(len(r) != len(s) for r, s in zip(a, b, strict=True)):
        return False
    return all(
        _close(cell(x), cell(y), tolerance)
        for r, s in zip(a, b, strict=True)
        for x, y in zip(r, s, strict=True)
    )


def same_json(path_a: Path, path_b: Path, tolerance: dict) -> bool:
    """Whether two JSON files have the same keys and values, numbers within ``tolerance``,
    timing keys (CLOCK_KEY) excepted."""
    x, y = (flatten(json.loads(Path(p).read_text())) for p in (path_a, path_b))
    keys = [k for k in x if not CLOCK_KEY.search(k)]
    return set(x) == set(y) and all(_close(x[k], y[k], tolerance) for k in keys)


# a figure drawn from numbers within the tolerance may move an anti-aliased edge by a pixel
FIGURE_PIXEL_SHARE = 0.005


def same_figure(path_a: Path, path_b: Path) -> bool:
    """Whether two PNG figures have the same size and differ in at most FIGURE_PIXEL_SHARE
    of their pixels."""
    import matplotlib.image as mpimg
    import numpy as np

    a, b = mpimg.imread(path_a), mpimg.imread(path_b)
    if a.shape != b.shape:
        return False
    differ = np.any(a != b, axis=-1) if a.ndim == 3 else a != b
    return float(differ.mean()) <= FIGURE_PIXEL_SHARE


def flatten(tree, prefix=""):
    """{"a.b": value} for every leaf of a nested JSON object."""
    if isinstance(tree, dict):
        out = {}
        for key, value in tree.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: tree}


def _in_run(path: str) -> str:
    """results/<run>/<study>/... -> <study>/... (results/<file> stays <file>)."""
    parts = path.split("/", 2)
    return parts[2] if len(parts) == 3 else parts[-1]


def compare_runs(mine: Path, theirs: Path, tolerance: dict | None = None) -> dict:
    """Compare two finished runs' results/ (same config): which files are bit-identical,
    which differ only as clock outputs or as torch archives of equal tensors, and which
    differ unexplained (``unexplained``, plus metrics keys in ``changed_metrics``).

    ``tolerance`` ({"rtol", "atol"}) is for runs that may round differently (other thread
    counts, another machine): tensors, arrays, CSV, JSON and metrics values then count as
    equal within it, and figures within FIGURE_PIXEL_SHARE (``within_tolerance`` lists the
    CSV, JSON and figure files so explained). None: exact, for the same settings.
    """
    a, b = snapshot(mine), snapshot(theirs)
    differ = sorted(p for p in set(a) & set(b) if a[p][2] != b[p][2])
    clock = [p for p in differ if any(fnmatch(_in_run(p), g) for g in CLOCK_FILES)]
    tensors = [
        p for p in differ if p.endswith(".pt") and same_tensors(mine / p, theirs / p, tolerance)
    ]
    arrays = [
        p for p in differ if p.endswith(".npz") and same_arrays(mine / p, theirs / p, tolerance)
    ]
    close = []
    if tolerance is not None:
        checks = {
            ".csv": lambda x, y: same_table(x, y, tolerance),
            ".json": lambda x, y: same_json(x, y, tolerance),
            ".png": same_figure,
        }
        for p in set(differ) - set(clock):
            check = checks.get(Path(p).suffix)
            if check is not None and check(mine / p, theirs / p):
                close.append(p)
    changed = []
    for rel in (p for p in a if p.endswith("/metrics.json") and p in b):
        x, y = (flatten(json.loads((root / rel).read_text())) for root in (mine, theirs))
        changed += [f"{rel}: keys {sorted(set(x) ^ set(y))}"] if set(x) != set(y) else []
        changed += [
            f"{rel}: {k}"
            for k in x
            if k in y and not CLOCK_KEY.search(k) and not _close(x[k], y[k], tolerance)
        ]
    return {
        "only_in_one": sorted(set(a) ^ set(b)),
        "identical": len(a) - len(differ),
        "total": len(a),
        "clock": clock,
        "same_tensors": tensors,
        "same_arrays": arrays,
        "within_tolerance": sorted(close),
        "unexplained": sorted(set(differ) - set(clock) - set(tensors) - set(arrays) - set(close)),
        "changed_metrics": changed,
    }
