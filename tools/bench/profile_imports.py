"""Start-up cost of every rule script: wall seconds to import it in a fresh interpreter
(its module-level imports, what a job pays before its first line of work) and which heavy
libraries that import pulls in. Writes a JSON list and prints a markdown table.

    .venv/bin/python tools/bench/profile_imports.py --out benchmarks/imports.json
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from _common import REPO

HEAVY = ("tensorflow", "keras", "torch", "alibi", "shap", "captum", "stable_baselines3")
HEAVY += ("highway_env", "numba", "matplotlib", "pandas", "scipy", "sklearn", "lime")
PROBE = """
import json, sys, time
sys.path.insert(0, {folder!r})
t = time.perf_counter()
import {module}
dt = time.perf_counter() - t
print(json.dumps([dt, [m for m in {heavy!r} if m in sys.modules]]))
"""


def probe(script: Path, repeats: int) -> dict:
    best, heavy = float("inf"), []
    for _ in range(repeats):
        code = PROBE.format(folder=str(script.parent), module=script.stem, heavy=HEAVY)
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            return {"script": str(script.relative_to(REPO)), "error": proc.stderr[-300:]}
        dt, heavy = json.loads(proc.stdout.strip().splitlines()[-1])
        best = min(best, dt)
    return {"script": str(script.relative_to(REPO)), "import_s": best, "heavy": heavy}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--repeats", type=int, default=1)
    args = p.parse_args()
    scripts = sorted((REPO / "scripts").glob("*/*.py"))
    results = [probe(s, args.repeats) for s in scripts]
    Path(args.out).write_text(json.dumps(results, indent=1))
    print("| script | import s (min) | heavy libraries loaded at import |\n|---|---|---|")
    for r in sorted(results, key=lambda r: -r.get("import_s", 0)):
        if "error" in r:
            print(f"| {r['script']} | error | {r['error'].splitlines()[-1]} |")
        else:
            print(f"| {r['script']} | {r['import_s']:.1f} | {', '.join(r['heavy'])} |")


if __name__ == "__main__":
    main()
