# One run: the studies' rules at the run's config. rules/common.smk instantiates this file
# once per run of config/runs.yaml (once per seed of a seeds run), as a module whose
# results/, logs/ and benchmarks/ paths Snakemake moves under <run>/ (<run>/seed<k>/).
# Shared by every study: config validation, wildcard
# constraints, target lists.
import functools
import glob
import os

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from xai_repro.common.runs import benchmarks, in_run, logs, module_inputs

validate(config, "../config/schema/config.schema.yaml")

STUDIES = config["studies"]
# Every study the workflow has (the schema's list), in the scorecard's order.
with open(f"{workflow.basedir}/config/schema/config.schema.yaml") as _schema:
    KNOWN_STUDIES = yaml.safe_load(_schema)["properties"]["studies"]["items"]["enum"]
# The run's name (rules/common.smk sets it: a run of config/runs.yaml, <run>_seed<k> for a
# seed of a seeds run, or a --configfile run). Snakemake moves this run's results/, logs/
# and benchmarks/ paths under its folder (<run>/, <run>/seed<k>/) for input, output, log and
# benchmark; run_path() does it for a path passed otherwise (params).
RUN = config["run"]
# Each rules/<study>.smk registers its final outputs here (metrics.json and figures).
STUDY_TARGETS = {}
# Opt-in outputs beyond the studies' (rules/bench.smk adds the kernel benchmarks' when asked).
EXTRA_TARGETS = []
# Job priorities, for a run on few cores (docs/benchmarks.md, "The default reproduction,
# timed"): train_highway 50 (the long pole starts first), the highway jobs after it 40-45,
# the other studies' long jobs and the jobs they wait for LONG_JOB, every short job 0. Long
# jobs first, so that short ones fill both cores at the end instead of one long job alone.
LONG_JOB = 10


wildcard_constraints:
    seed=r"\d+",


def all_targets():
    """The final outputs of every study named in config['studies']."""
    studies = [path for study in STUDIES for path in STUDY_TARGETS[study]]
    return [*studies, *EXTRA_TARGETS]


def run_path(path):
    """``path`` (results/..., logs/... or benchmarks/...) in this run's folder, for params."""
    return in_run(path, RUN)


# the science modules a rule's script imports, as its inputs (xai_repro.common.runs)
modules = functools.partial(module_inputs, workflow.basedir)


def spare_cores(n):
    """``n`` threads, but one fewer than a local run's ``--cores`` so other jobs run beside.

    A cluster run has no local core budget (workflow.cores is undefined): ``n`` there.
    """
    try:
        cores = workflow.cores
    except WorkflowError:
        return n
    return max(1, min(n, cores - 1))


include: "duffing.smk"
include: "duffing_analyses.smk"
include: "cfrl.smk"
include: "cfrl_figures.smk"
include: "diffig.smk"
include: "diffig_analyses.smk"
include: "highway.smk"
include: "highway_analyses.smk"


if config.get("bench", False):

    include: "bench.smk"
