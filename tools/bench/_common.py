"""Shared plumbing of the benchmark row programs: paths, config, rule-script imports, output.

Each ``rows_<group>.py`` runs in its own process (TensorFlow graph mode, numba threads and
torch threads must not leak between groups) and writes {"rows": [...], "curves": [...]}.
"""

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TQDM_DISABLE", "1")


def use_rule_scripts(*studies: str) -> None:
    """Make ``scripts/<study>/`` importable (as pytest does), to reuse the rules' timers."""
    for study in studies:
        path = str(REPO / "scripts" / study)
        if path not in sys.path:
            sys.path.insert(0, path)


def load_config(path) -> dict:
    import yaml

    with open(path) as fh:
        return yaml.safe_load(fh)


def parse_args(doc: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("--out", required=True, help="JSON file for this group's rows and curves")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="smaller sizes (validation runs)")
    p.add_argument("--config", default=str(REPO / "config" / "config.yaml"))
    p.add_argument("--artifacts", default=None, help="workflow directory with results/")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--baseline-json", default=None)
    return p.parse_args()


def write_group(path, rows: list, curves: list, **extra) -> None:
    Path(path).write_text(json.dumps({"rows": rows, "curves": curves, **extra}, indent=1))
