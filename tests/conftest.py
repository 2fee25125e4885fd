"""Shared fixtures: a throw-away copy of the workflow and a snakemake runner.

Tests that run the workflow never write into the repository's own results/:
they run in a copy made under pytest's tmp_path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
WORKFLOW_PARTS = (
    "Snakefile",
    "rules",
    "scripts",
    "src",
    "pyproject.toml",
    "config",
    "envs",
    "report",
    "profiles",
    "tools",  # rule benchmark_kernels runs tools/bench/run.py
)
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
# the original authors' files (MNIST, pretrained networks), as a mirror of
# config/downloads.yaml: rule fetch reads them from here instead of the public URLs
FIXTURES = REPO.parent / "shared" / "fixtures"


def copy_workflow(dest: Path) -> Path:
    """Copy the workflow's source (not results) into ``dest`` and return it."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in WORKFLOW_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.is_file():
            shutil.copy2(src, dest / part)
    return dest


def workflow_env(workdir: Path) -> dict:
    """The environment for running the workflow copied to ``workdir``: its own ``src/``
    comes before the editable install of the repository's (PYTHONPATH precedes .pth paths),
    so a test that edits the copy's science runs the edited code; downloads come from the
    fixtures (XAI_REPRO_MIRROR) unless the caller's environment names another mirror."""
    pythonpath = os.pathsep.join(
        p for p in (str(Path(workdir).resolve() / "src"), os.environ.get("PYTHONPATH")) if p
    )
    env = dict(
        os.environ, SDL_VIDEODRIVER="offscreen", TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=pythonpath
    )
    env.setdefault("XAI_REPRO_MIRROR", str(FIXTURES))
    return env


def run_snakemake(
    workdir: Path, *args: str, check: bool = True, timeout: float = 1800, prefix=(), env=None
):
    """Run snakemake in ``workdir``; return the CompletedProcess (stdout+stderr merged).

    ``prefix`` wraps the command (e.g. ``("unshare", "-n")``: no network); ``env`` adds
    variables to the workflow's environment."""
    env = {**workflow_env(workdir), **(env or {})}
    proc = subprocess.run(
        [*prefix, SNAKEMAKE, *args],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-6000:]}")
    return proc


@pytest.fixture
def workflow_copy(tmp_path: Path) -> Path:
    """A fresh copy of the workflow in a temporary directory."""
    return copy_workflow(tmp_path / "workflow")
