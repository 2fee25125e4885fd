"""Helpers shared by every script of the workflow.

Nothing here is study-specific: logging into the rule's log file, thread limits,
seeding, atomic writes and clear input errors. Scripts import it as ``_helpers``
(Snakemake puts ``scripts/`` on ``sys.path``; pytest does so through pyproject.toml).
"""

import contextlib
import json
import logging
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)

_NOISY_LOGGERS = ("shap", "numba", "matplotlib", "PIL", "h5py", "absl", "tensorflow", "jax")


class InputError(ValueError):
    """A bad input file or parameter; the message names the file or key."""


def setup_logging(log_path: str | os.PathLike | None = None, level: int = logging.INFO):
    """Log to ``log_path`` (and stderr); capture warnings and uncaught exceptions.

    Returns the root logger. Calling it twice replaces the handlers, so tests may
    call ``main()`` repeatedly.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    for handler in handlers:
        handler.setFormatter(fmt)
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in _NOISY_LOGGERS:  # their INFO lines drown the job's own progress
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.captureWarnings(True)

    def _excepthook(exc_type, exc, tb):
        if not issubclass(exc_type, KeyboardInterrupt):
            root.critical("uncaught exception", exc_info=(exc_type, exc, tb))
        sys.__excepthook__(exc_type, exc, tb)

    sys.excepthook = _excepthook
    return root


def limit_threads(n: int) -> None:
    """Use at most ``n`` threads in every numerical library of this process.

    Sets the environment for libraries imported later, limits BLAS/OpenMP pools
    already loaded (threadpoolctl), and torch/TensorFlow if they are imported.
    On a 2-core machine two torch threads made a tiny MLP 100x slower than one.
    """
    n = max(1, int(n))
    for var in _THREAD_ENV_VARS:
        os.environ[var] = str(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        pass
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        torch.set_num_threads(n)
        with contextlib.suppress(RuntimeError):  # only settable before first use
            torch.set_num_interop_threads(n)
    if "numba" in sys.modules:
        # not through NUMBA_NUM_THREADS: numba re-reads it when compiling and refuses a
        # value other than the size of its already-launched pool
        numba = sys.modules["numba"]
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    if "tensorflow" in sys.modules:
        tf = sys.modules["tensorflow"]
        with contextlib.suppress(RuntimeError):  # only settable before TF initializes
            tf.config.threading.set_intra_op_parallelism_threads(n)
            tf.config.threading.set_inter_op_parallelism_threads(n)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and, where imported, torch and TensorFlow."""
    import numpy as np

    random.seed(seed)
    np.random.seed(seed % 2**32)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(seed)
    if "keras" in sys.modules:
        with contextlib.suppress(AttributeError):
            sys.modules["keras"].utils.set_random_seed(seed)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only on success.

    A failure (or a kill) never leaves a half-written file under ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.",
        suffix=suffix if suffix is not None else path.suffix,
        dir=path.parent,
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _to_builtin(obj: Any) -> Any:
    """Turn NumPy scalars and arrays into JSON-serialisable Python objects."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _to_builtin(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_builtin(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _to_builtin(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically (NaN and inf become null)."""
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(_to_builtin(obj), indent=2, sort_keys=False) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file; a missing or malformed file raises InputError naming it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: not valid JSON ({err})") from err


def read_csv(path: str | os.PathLike, columns: list[str] | None = None, text=(), **kwargs):
    """Read a CSV with pandas, checking it before anyone computes with it.

    A missing file, a parse error, a missing column, or an empty or non-numeric value in
    a requested column (other than those named in ``text``) raises InputError naming
    the file.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        frame = pd.read_csv(path, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: not a readable CSV file ({err})") from err
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise InputError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
        if frame[columns].isna().any().any():
            raise InputError(f"{path}: empty values in columns {columns}")
        bad = [c for c in columns if c not in text and not pd.api.types.is_numeric_dtype(frame[c])]
        if bad:
            raise InputError(f"{path}: non-numeric values in column(s) {bad}")
    return frame


def write_csv(path: str | os.PathLike, frame, **kwargs) -> None:
    """Write a pandas DataFrame as CSV, atomically."""
    kwargs.setdefault("index", False)
    with atomic_output(path) as tmp:
        frame.to_csv(tmp, **kwargs)


def save_figure(fig, path: str | os.PathLike, dpi: int = 120) -> None:
    """Save a matplotlib figure atomically and close it."""
    import matplotlib.pyplot as plt

    with atomic_output(path) as tmp:
        fig.savefig(
            tmp, dpi=dpi, bbox_inches="tight", format=Path(path).suffix.lstrip(".") or "png"
        )
    plt.close(fig)


def torch_load_checked(path: str | os.PathLike, map_location: str = "cpu") -> Any:
    """Load a torch checkpoint with ``weights_only=True``; anything else is an InputError.

    A file that is missing, truncated, not a torch file, or that carries code
    (a pickle of arbitrary objects) is refused with a message naming the file.
    """
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: checkpoint not found")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise InputError(
            f"{path}: refused to load: not a weights-only torch checkpoint "
            f"(it may carry code, or be corrupt): {str(err).splitlines()[0]}"
        ) from err
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        raise InputError(f"{path}: not a readable torch checkpoint ({err})") from err
