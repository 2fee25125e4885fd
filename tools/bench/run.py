"""``make bench``: every benchmark row side by side in one run -> benchmarks/results.{md,json}
and benchmarks/scaling.png.

First the workflow rows (how much of a job's CPU Snakemake's benchmark records hold, on
jobs of known CPU; the test config at --cores 2 in a throw-away copy; with
``--default`` also the default config, ~16 min), then each kernel group in its own process
on the trained models of that copy (the default run's if there is one): Duffing, alibi's
Counterfactual, CFRL, highway, differential IG. A group that fails is listed under "Not
measured" with its error; the others still report.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO  # noqa: E402
from record_bias import record_bias_row  # noqa: E402
from workflow_rows import copy_workflow, run_config, snakemake  # noqa: E402

from xai_repro.bench.report import machine, plot_scaling, render_markdown  # noqa: E402

GROUPS = ("duffing", "baseline", "cfrl", "highway", "diffig")
CAVEAT = (
    "Absolute times vary with the machine's load (the load averages at start and end are "
    "above); rely on the ratios, which come from runs interleaved in one process."
)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def run_group(group: str, args, artifacts: Path, tmp: Path) -> dict:
    out = tmp / f"{group}.json"
    cmd = [sys.executable, str(REPO / "tools/bench" / f"rows_{group}.py"), "--out", str(out)]
    cmd += ["--repeats", str(args.repeats), "--artifacts", str(artifacts)]
    cmd += ["--threads", str(args.cores if group == "duffing" else 1), "--config", args.config]
    if args.quick:
        cmd.append("--quick")
    if group == "cfrl" and (tmp / "baseline.json").is_file():
        cmd += ["--baseline-json", str(tmp / "baseline.json")]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    (tmp / f"{group}.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0 or not out.is_file():
        tail = [line for line in proc.stderr.splitlines() if line.strip()][-3:]
        raise RuntimeError(f"exit {proc.returncode}: " + " | ".join(tail))
    print(f"bench: {group} done in {time.perf_counter() - start:.0f} s", flush=True)
    return json.loads(out.read_text())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out-dir", default=str(REPO / "benchmarks"))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="smaller sizes, for validation")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--default", action="store_true", help="also the default config (~16 min)")
    p.add_argument("--config", default=str(REPO / "config/config.yaml"), help="kernel settings")
    p.add_argument("--groups", default=",".join(("workflow", *GROUPS)))
    p.add_argument("--artifacts", default=None, help="a finished workflow dir (skips the run)")
    p.add_argument("--keep", action="store_true", help="keep the workflow copies")
    args = p.parse_args()
    groups = args.groups.split(",")
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="xai-bench-"))
    results = {"started": now(), "repeats": args.repeats, "quick": args.quick, "caveat": CAVEAT}
    results.update(load_start=[round(x, 2) for x in os.getloadavg()], machine=machine())
    rows, curves, failures = [], [], {}
    artifacts = Path(args.artifacts) if args.artifacts else None
    configs = ["config/test.yaml"] + (["config/config.yaml"] if args.default else [])
    if "workflow" in groups:
        try:
            rows.append(record_bias_row(tmp / "record_bias", snakemake))
        except RuntimeError as err:
            failures["workflow.record_bias"] = str(err)
    for config in configs if "workflow" in groups else []:
        workdir = copy_workflow(tmp / Path(config).stem)
        try:
            rows += run_config(workdir, config, args.cores, args.repeats)
            if args.artifacts is None:
                artifacts = workdir
        except RuntimeError as err:
            failures[f"workflow.{Path(config).stem}"] = str(err)
        print(f"bench: workflow {config} done", flush=True)
    for group in [g for g in GROUPS if g in groups]:
        if artifacts is None and group != "duffing":
            failures[group] = "no trained models: the workflow run was skipped or failed"
            continue
        try:
            got = run_group(group, args, artifacts, tmp)
        except RuntimeError as err:
            failures[group] = str(err)
            continue
        rows += got.get("rows", [])
        curves += got.get("curves", [])
    results.update(rows=rows, curves=curves, failures=failures, finished=now())
    results["load_end"] = [round(x, 2) for x in os.getloadavg()]
    results["artifacts"] = str(artifacts)
    if (tmp / "baseline.json").is_file():
        results["baseline"] = json.loads((tmp / "baseline.json").read_text())
    if curves:
        plot_scaling(curves, out_dir / "scaling.png")
    (out_dir / "results.json").write_text(json.dumps(results, indent=1))
    (out_dir / "results.md").write_text(render_markdown(results))
    print(f"bench: wrote {out_dir / 'results.md'} ({len(rows)} rows, {len(failures)} failed)")
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
