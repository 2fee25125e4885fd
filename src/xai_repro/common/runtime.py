"""Per-job runtime set-up shared by every rule script: logging into the rule's log,
thread limits, seeds. Nothing here is study-specific."""

import contextlib
import logging
import os
import random
import sys
from pathlib import Path

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
    # torch last: the libraries above may reset the OpenMP thread count torch reports
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        torch.set_num_threads(n)
        with contextlib.suppress(RuntimeError):  # only settable before first use
            torch.set_num_interop_threads(n)


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


DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> str:
    """The torch device of a device setting: "auto" is CUDA when torch sees a GPU, else the
    CPU; "cpu" and "cuda" (or "cuda:<n>") are taken as they are, and "cuda" without a visible
    GPU is an error (a requested GPU that would silently sit idle)."""
    import torch

    base = str(name).split(":", 1)[0]
    if base not in DEVICES:
        raise ValueError(f"device {name!r}: not one of {DEVICES} (or cuda:<n>)")
    if base == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if base == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r}: torch sees no CUDA GPU (use 'auto' or 'cpu')")
    return str(name)
