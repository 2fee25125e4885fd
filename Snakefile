# xai-repro: four explainable-AI studies reproduced end to end.
# This file is a table of contents: configuration, validation, the studies' rules.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/duffing.smk"
include: "rules/cfrl.smk"
include: "rules/diffig.smk"
include: "rules/highway.smk"
include: "rules/scorecard.smk"


if config.get("bench", False):

    include: "rules/bench.smk"


rule all:
    default_target: True
    input:
        all_targets(),
