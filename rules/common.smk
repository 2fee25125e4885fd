# The runs side by side (config/runs.yaml), and the external files they read
# (config/downloads.yaml). Each selected run is this workflow's studies at its own config
# (rules/run.smk), a module instance whose results/, logs/ and benchmarks/ paths Snakemake
# moves under <run>/, and whose rules are named <run>__<rule>; a run that lists seeds is one
# instance per seed k, under <run>/seed<k>/, its rules named <run>_seed<k>__<rule>. A module
# per instance, not a {run} wildcard: a run's config decides which rules exist (a pretrained
# GRU, an Atari analysis) and their outputs' names (cfrl's backend), which one rule set for
# every run cannot express.
import functools
import os
import re

from xai_repro.common import read_yaml, runs
from xai_repro.common.fetch import load_downloads
from xai_repro.common.runs import (
    RUN_FOLDERS,
    benchmarks,
    in_run,
    instances,
    invocation_runs,
    logs,
    module_inputs,
    read_sheet,
    run_folder,
    seed_name,
)

RUN_SHEET = "config/runs.yaml"
SHEET = read_sheet(RUN_SHEET, "config/schema/runs.schema.yaml")
# run name -> its merged config, for the runs this invocation builds
RUNS = invocation_runs(
    SHEET,
    config=config,
    configfiles=[
        os.path.relpath(f) for f in workflow.config_settings.configfiles or []
    ],
    overrides=workflow.config_settings.overwrite_config or {},
    default_path="config/config.yaml",
    where=RUN_SHEET,
)
# instance name (a run, or <run>_seed<k> of a seeds run) -> its config: one module each
INSTANCES = instances(RUNS, SHEET)
# seeds run of the sheet -> its seeds and the run it compares as
SEEDED = {
    run: {"seeds": entry["seeds"], "compare_as": entry.get("compare_as")}
    for run, entry in SHEET.items()
    if "seeds" in entry
}

# path (results/<study>/...) at every seed of a seeds run: seed_paths(run, path)
seed_paths = functools.partial(runs.seed_paths, SEEDED)
# the science modules a rule's script imports, as its inputs
modules = functools.partial(module_inputs, workflow.basedir)
DOWNLOADS_FILE = "config/downloads.yaml"
DOWNLOADS = load_downloads(DOWNLOADS_FILE, "config/schema/downloads.schema.yaml")


wildcard_constraints:
    download="|".join(re.escape(key) for key in DOWNLOADS),


rule fetch:
    output:
        "resources/{download}",
    log:
        logs("fetch/{download}"),
    benchmark:
        benchmarks("fetch/{download}")
    retries: 2
    conda:
        "../envs/common.yaml"
    threads: 1
    resources:
        mem_mb=256,
        runtime=30,
    params:
        key=lambda wildcards: wildcards.download,
        url=lambda wildcards: DOWNLOADS[wildcards.download]["url"],
        sha256=lambda wildcards: DOWNLOADS[wildcards.download]["sha256"],
    script:
        "../scripts/common/fetch.py"
