"""Helpers shared by every study (the common floor: it imports no study).

``runtime``: logging into the rule's log, thread limits, seeds, the torch device. ``io``: clear input errors
and atomic writers/readers for JSON, YAML (read), CSV, NPZ, figures and torch checkpoints.
``stats``: interval estimates (``wilson_interval``).
"""

from xai_repro.common.io import (
    InputError,
    atomic_output,
    read_csv,
    read_json,
    read_npz,
    read_yaml,
    save_figure,
    torch_load_checked,
    write_csv,
    write_json,
    write_npz,
)
from xai_repro.common.runtime import (
    limit_threads,
    resolve_device,
    seed_everything,
    setup_logging,
)

__all__ = [
    "InputError",
    "atomic_output",
    "limit_threads",
    "read_csv",
    "read_json",
    "read_npz",
    "read_yaml",
    "resolve_device",
    "save_figure",
    "seed_everything",
    "setup_logging",
    "torch_load_checked",
    "write_csv",
    "write_json",
    "write_npz",
]
