"""The conda environments mirror the lock, and every rule names one that exists."""

import re

import yaml

from conftest import REPO


def _lock():
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        name, version = line.split("==")
        pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_lock_is_exact_and_complete():
    lock = _lock()
    assert lock["torch"] == "2.13.0"
    for line in (REPO / "requirements.in").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            assert lock[re.sub(r"[-_.]+", "-", name).lower()] == version, line
    assert "pygame" not in lock and "rl-agents" not in lock


def test_conda_envs_mirror_the_lock():
    lock = _lock()
    envs = sorted((REPO / "envs").glob("*.yaml"))
    assert envs
    for env in envs:
        spec = yaml.safe_load(env.read_text())
        pip = next(d["pip"] for d in spec["dependencies"] if isinstance(d, dict))
        assert "--editable .." in pip, f"{env.name}: does not install xai_repro"
        for req in pip:
            if req.startswith("--editable"):
                continue
            name, version = req.split("==")
            assert lock[re.sub(r"[-_.]+", "-", name).lower()] == version, f"{env.name}: {req}"


def test_every_rule_names_an_existing_conda_env():
    for smk in (REPO / "rules").glob("*.smk"):
        for env in re.findall(r'conda:\s*\n\s*"([^"]+)"', smk.read_text()):
            assert (smk.parent / env).resolve().is_file(), f"{smk.name}: {env}"
