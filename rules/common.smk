# Shared by every study: config validation, wildcard constraints, target lists.
import glob
import os

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

validate(config, "../config/schema/config.schema.yaml")

STUDIES = config["studies"]
# Every study the workflow has (the schema's list), in the scorecard's order.
with open(f"{workflow.basedir}/config/schema/config.schema.yaml") as _schema:
    KNOWN_STUDIES = yaml.safe_load(_schema)["properties"]["studies"]["items"]["enum"]
# The run's config name: `name:` if a config sets it, else the stem of the last
# --configfile (config/test.yaml -> test), else "config". The scorecard compares a
# reference row only at the config names it lists (config/references/<study>.yaml).
RUN_NAME = (
    config.get("name")
    or os.path.splitext(
        os.path.basename(
            (workflow.config_settings.configfiles or ["config/config.yaml"])[-1]
        )
    )[0]
)
REFERENCE_FILES = sorted(glob.glob("config/references/*.yaml"))
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
    return [*studies, "results/scorecard.json", "results/scorecard.md", *EXTRA_TARGETS]


def modules(*names):
    """The science modules a rule's script imports (directly or not), as its inputs.

    ``names`` are dotted paths inside the ``xai_repro`` package (``"duffing.ode"``).
    Snakemake's code trigger sees only the rule's own script: without these inputs,
    editing src/xai_repro/<study>/*.py would rerun nothing. tests/test_layout.py checks
    that each list equals the script's imports, followed transitively.
    """
    # relative to the working directory: Snakemake records each job's set of input paths,
    # and an absolute path would make a moved or copied workflow rerun everything
    return [
        os.path.relpath(f"{workflow.basedir}/src/xai_repro/{name.replace('.', '/')}.py")
        for name in names
    ]


def spare_cores(n):
    """``n`` threads, but one fewer than a local run's ``--cores`` so other jobs run beside.

    A cluster run has no local core budget (workflow.cores is undefined): ``n`` there.
    """
    try:
        cores = workflow.cores
    except WorkflowError:
        return n
    return max(1, min(n, cores - 1))
