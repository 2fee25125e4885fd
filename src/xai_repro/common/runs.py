"""The run sheet (config/runs.yaml): which runs an invocation builds, and each run's config.

A run of the sheet is config/config.yaml with its overlay merged on top, then its
``studies`` if the sheet gives them, then the invocation's ``--config`` pairs; a
``--configfile`` run is Snakemake's own merged config. A run that lists ``seeds`` is one
instance per seed, named ``<run>_seed<k>``: the run's config with every study's training seed
set to k, under results/<run>/seed<k>/ (and logs/, benchmarks/ alike). The workflow
(rules/common.smk) instantiates the studies' rules once per instance.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

from xai_repro.common.io import InputError, read_valid_yaml, read_yaml

# config keys of the invocation, not of a run
INVOCATION_KEYS = ("runs",)
SIZES = ("laptop", "cluster")
# the selection word for every run of the sheet that lists seeds
SEEDS_WORD = "seeds"
# each study's seed, set to k in seed k's config; the other seed keys stay fixed. A study's
# seed also draws some of its data and evaluation (docs/runs.md says which)
TRAINING_SEEDS = ("duffing.seed", "cfrl.seed", "diffig.seed", "highway.seed")
# an instance of a seeds run: <run>_seed<k>, a valid identifier in rule names
_INSTANCE = re.compile(r"^(?P<run>[A-Za-z0-9_\-]+)_seed(?P<seed>[0-9]+)$")


def read_sheet(path, schema_path) -> dict[str, dict]:
    """The run sheet, validated: run name -> {overlay, size, cost[, studies, seeds,
    compare_as]}. A seeds run's ``compare_as`` must be a run of the sheet without seeds."""
    sheet = read_valid_yaml(Path(path), Path(schema_path), "run sheet")
    for name, entry in sheet.items():
        other = entry.get("compare_as")
        if other is not None and ("seeds" not in entry or other not in sheet):
            raise InputError(
                f"{path}: {name}.compare_as: {other!r} must be a run of the sheet, "
                "on a run that lists seeds"
            )
        if other is not None and "seeds" in sheet[other]:
            raise InputError(f"{path}: {name}.compare_as: {other!r} lists seeds itself")
    return sheet


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
    if "studies" in sheet[name]:
        config["studies"] = list(sheet[name]["studies"])
    config = merge(config, without_invocation_keys(overrides))
    return {**config, "run": name}


def adhoc_name(configfile: str, config: dict, sheet: dict) -> str:
    """A ``--configfile`` run's name: the config's ``run`` key, else the first run of the
    sheet without seeds whose overlay is that file, else the file's stem (my_run.yaml ->
    my_run). A seeds run of the sheet, or a seed's name (<run>_seed<k>), is refused: a
    --configfile run is one seed, under results/<name>/."""
    by_overlay = {}
    for n, entry in sheet.items():
        if "seeds" not in entry:
            by_overlay.setdefault(os.path.normpath(entry["overlay"]), n)
    stem = os.path.splitext(os.path.basename(configfile))[0]
    name = config.get("run") or by_overlay.get(os.path.normpath(configfile)) or stem
    if "seeds" in sheet.get(name, {}) or _INSTANCE.match(name):
        raise InputError(
            f"{configfile}: run name {name!r} is a seeds run of the sheet or the name of one "
            f"of its seeds (<run>_seed<k>); select a seeds run with --config runs=<run>, or "
            "name this run otherwise (its `run:` key)"
        )
    return name


def selected_names(wanted, sheet: dict, where: str) -> list[str]:
    """The sheet's runs that ``wanted`` names: a list or comma-separated names, ``all``,
    ``laptop`` or ``cluster`` (the runs of that size without seeds: one training each) or
    ``seeds`` (every run that lists seeds). An unknown name is an error naming ``where``."""
    if isinstance(wanted, str):
        wanted = [w.strip() for w in wanted.split(",")]
    names = []
    for item in [str(w) for w in wanted if str(w)]:
        if item == "all":
            names += list(sheet)
        elif item in SIZES:
            names += [
                n for n, entry in sheet.items() if entry["size"] == item and "seeds" not in entry
            ]
        elif item == SEEDS_WORD:
            names += [n for n, entry in sheet.items() if "seeds" in entry]
        elif item in sheet:
            names.append(item)
        else:
            raise InputError(
                f"--config runs: {item!r} is not a run of {where} "
                f"({', '.join(sheet)}) nor all, {', '.join(SIZES)} or {SEEDS_WORD}"
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


def seed_name(run: str, seed: int) -> str:
    """The instance of seed ``seed`` of seeds run ``run``: ``<run>_seed<k>`` (rules
    ``<run>_seed<k>__<rule>``)."""
    return f"{run}_seed{seed}"


def seed_paths(seeded: dict, run: str, path: str) -> list[str]:
    """``path`` (results/<study>/...) at every seed of seeds run ``run`` of ``seeded`` (run ->
    {"seeds": [...]}), i.e. results/<run>/seed<k>/<study>/...: a rule's inputs over seeds."""
    return [in_run(path, seed_name(run, k)) for k in seeded[run]["seeds"]]


def seed_of(name: str) -> tuple[str, int] | None:
    """(run, seed) of an instance name ``<run>_seed<k>``; None for a run's own name."""
    match = _INSTANCE.match(name)
    return (match["run"], int(match["seed"])) if match else None


def seeded_config(config: dict, seed: int) -> dict:
    """``config`` (a copy) with each study's training seed (:data:`TRAINING_SEEDS`) set to
    ``seed``, for every study section the config has, and ``run`` set to the seed's name."""
    out = copy.deepcopy(config)
    for dotted in TRAINING_SEEDS:
        section, key = dotted.split(".")
        if isinstance(out.get(section), dict):
            out[section][key] = seed
    out["run"] = seed_name(config["run"], seed)
    return out


def instances(runs: dict[str, dict], sheet: dict) -> dict[str, dict]:
    """Instance name -> config: a run of ``runs`` that the sheet gives seeds becomes one
    instance per seed (:func:`seeded_config`), any other run is one instance of its name."""
    out = {}
    for name, config in runs.items():
        seeds = sheet.get(name, {}).get("seeds")
        if seeds is None:
            out[name] = config
        else:
            out.update({seed_name(name, k): seeded_config(config, k) for k in seeds})
    return out


# a run's paths under these folders move under <folder>/<run>/
RUN_FOLDERS = ("results", "logs", "benchmarks")


def run_folder(name: str) -> str:
    """The folder of an instance under results/ (and logs/, benchmarks/): ``<run>`` for a
    run, ``<run>/seed<k>`` for seed k of a seeds run (``<run>_seed<k>``)."""
    seeded = seed_of(name)
    return f"{seeded[0]}/seed{seeded[1]}" if seeded else name


def in_run(path: str, run: str) -> str:
    """``path`` under results/, logs/ or benchmarks/ moved into instance ``run``'s folder
    (:func:`run_folder`: results/cfrl/x -> results/<run>/cfrl/x, or
    results/<run>/seed<k>/cfrl/x for ``<run>_seed<k>``); a path already there, or elsewhere,
    stays."""
    folder = run_folder(run)
    top, _, rest = str(path).partition("/")
    if top not in RUN_FOLDERS or rest.startswith(f"{folder}/"):
        return str(path)
    return f"{top}/{folder}/{rest}"


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
