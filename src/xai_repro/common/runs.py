"""The run sheet (config/runs.yaml): which runs an invocation builds, and each run's config.

A run of the sheet is config/config.yaml with its overlay merged on top, then the
invocation's ``--config`` pairs; a ``--configfile`` run is Snakemake's own merged config. The
workflow (rules/common.smk) instantiates the studies' rules once per selected run.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

from xai_repro.common.io import InputError, read_valid_yaml, read_yaml

# config keys of the invocation, not of a run
INVOCATION_KEYS = ("runs",)
SIZES = ("laptop", "cluster")


def read_sheet(path, schema_path) -> dict[str, dict]:
    """The run sheet, validated: run name -> {overlay, size, cost}."""
    return read_valid_yaml(Path(path), Path(schema_path), "run sheet")


def merge(base: dict, overlay: dict) -> dict:
    """``base`` with ``overlay`` merged in, section by section (a copy; lists replace)."""
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def without_invocation_keys(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in INVOCATION_KEYS}


def sheet_config(name: str, sheet: dict, default_path, overrides: dict) -> dict:
    """The config of the sheet's run ``name``: defaults, its overlay, then ``overrides``."""
    config = read_yaml(Path(default_path)) or {}
    overlay = sheet[name]["overlay"]
    if os.path.normpath(overlay) != os.path.normpath(default_path):
        config = merge(config, read_yaml(Path(overlay)) or {})
    config = merge(config, without_invocation_keys(overrides))
    return {**config, "run": name}


def adhoc_name(configfile: str, config: dict, sheet: dict) -> str:
    """A ``--configfile`` run's name: the config's ``run`` key, else the sheet's run whose
    overlay is that file, else the file's stem (my_run.yaml -> my_run)."""
    by_overlay = {os.path.normpath(entry["overlay"]): n for n, entry in sheet.items()}
    stem = os.path.splitext(os.path.basename(configfile))[0]
    return config.get("run") or by_overlay.get(os.path.normpath(configfile)) or stem


def selected_names(wanted, sheet: dict, where: str) -> list[str]:
    """The sheet's runs that ``wanted`` names: a list or comma-separated names, ``all``,
    ``laptop`` or ``cluster``. An unknown name is an error naming ``where``."""
    if isinstance(wanted, str):
        wanted = [w.strip() for w in wanted.split(",")]
    names = []
    for item in [str(w) for w in wanted if str(w)]:
        if item == "all":
            names += list(sheet)
        elif item in SIZES:
            names += [n for n, entry in sheet.items() if entry["size"] == item]
        elif item in sheet:
            names.append(item)
        else:
            raise InputError(
                f"--config runs: {item!r} is not a run of {where} "
                f"({', '.join(sheet)}) nor all, {' or '.join(SIZES)}"
            )
    return list(dict.fromkeys(names))


def invocation_runs(
    sheet: dict,
    *,
    config: dict,
    configfiles: list[str],
    overrides: dict,
    default_path: str,
    where: str,
) -> dict[str, dict]:
    """Run name -> config, for the runs an invocation builds.

    ``config``: Snakemake's merged config (defaults, --configfile, --config);
    ``configfiles``: the --configfile paths; ``overrides``: the --config pairs. Without
    ``--config runs=...``: the --configfile run if there is one, else the sheet's
    ``default``. With it: those runs of the sheet, and the --configfile run besides.
    """
    adhoc = None
    if configfiles:
        name = adhoc_name(configfiles[-1], config, sheet)
        adhoc = (name, {**without_invocation_keys(config), "run": name})
    wanted = config.get("runs")
    if wanted is None:
        wanted = [] if adhoc else ["default"]
    runs = {
        n: sheet_config(n, sheet, default_path, overrides)
        for n in selected_names(wanted, sheet, where)
    }
    if adhoc:
        runs[adhoc[0]] = adhoc[1]
    return runs


# a run's paths under these folders move under <folder>/<run>/
RUN_FOLDERS = ("results", "logs", "benchmarks")


def in_run(path: str, run: str) -> str:
    """``path`` under results/, logs/ or benchmarks/ moved into run ``run``'s folder
    (results/cfrl/x -> results/<run>/cfrl/x); a path already there, or elsewhere, stays."""
    top, _, rest = str(path).partition("/")
    if top not in RUN_FOLDERS or rest.startswith(f"{run}/"):
        return str(path)
    return f"{top}/{run}/{rest}"


def module_inputs(basedir, *names) -> list[str]:
    """The science modules a rule's script imports (directly or not), as its inputs.

    ``names`` are dotted paths inside the ``xai_repro`` package (``"duffing.ode"``).
    Snakemake's code trigger sees only the rule's own script: without these inputs,
    editing src/xai_repro/<study>/*.py would rerun nothing. tests/test_layout.py checks
    that each list equals the script's imports, followed transitively. The paths are
    relative to the working directory: Snakemake records each job's set of input paths,
    and an absolute path would make a moved or copied workflow rerun everything.
    """
    return [
        os.path.relpath(f"{basedir}/src/xai_repro/{name.replace('.', '/')}.py") for name in names
    ]


def logs(name: str) -> str:
    """A rule's log, ``logs/<name>.log``; ``name`` is "<study>/<rule>" (wildcards allowed)."""
    return f"logs/{name}.log"


def benchmarks(name: str) -> str:
    """A rule's benchmark record, ``benchmarks/<name>.tsv``, named as :func:`logs`."""
    return f"benchmarks/{name}.tsv"
