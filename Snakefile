# xai-repro: four explainable-AI studies reproduced end to end.
# This file is a table of contents: the run sheet, each run's studies, downloads, scorecard.
import glob

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"


# each run (each seed of a seeds run): the studies' rules (rules/run.smk) at its config,
# under results/<run>/ (results/<run>/seed<k>/), named <run>__<rule> (<run>_seed<k>__<rule>)
for _name, _run_config in INSTANCES.items():
    workflow.module(
        name=f"run_{_name}",
        snakefile="rules/run.smk",
        config=_run_config,
        replace_prefix={
            f"{top}/": f"{top}/{run_folder(_name)}/" for top in RUN_FOLDERS
        },
    )
    workflow.userule(
        rules=["*"],
        from_module=f"run_{_name}",
        exclude_rules=[],
        name_modifier=f"{_name}__*",
        lineno=1,
    )(lambda: None)


include: "rules/scorecard.smk"
include: "rules/stability.smk"


rule all:
    default_target: True
    input:
        # each run module's namespace (run_<name>) lists its final outputs
        [
            in_run(path, name)
            for name in INSTANCES
            for path in globals()[f"run_{name}"].all_targets()
        ],
        rules.build_scorecard.output,
        SEEDS_FIGURES,
        STABILITY_TARGETS,
