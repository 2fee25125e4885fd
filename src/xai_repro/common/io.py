"""Input and output shared by every study: clear input errors and atomic writes.

Every writer goes through :func:`atomic_output`, so a failed or killed job never leaves a
half-written file under its output path; every reader raises :class:`InputError` naming
the file.
"""

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class InputError(ValueError):
    """A bad input file or parameter; the message names the file or key."""


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


def _parse_file(path, parse, errors, kind: str) -> Any:
    """``parse(text of path)``; a missing file or a parse error raises InputError naming it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        return parse(path.read_text())
    except errors as err:
        raise InputError(f"{path}: not valid {kind} ({err})") from err


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file; a missing or malformed file raises InputError naming it."""
    return _parse_file(path, json.loads, json.JSONDecodeError, "JSON")


def read_yaml(path: str | os.PathLike) -> Any:
    """Read a YAML file (safe loader); a missing or malformed file raises InputError naming it."""
    import yaml

    return _parse_file(path, yaml.safe_load, yaml.YAMLError, "YAML")


def read_valid_yaml(path: str | os.PathLike, schema_path: str | os.PathLike, what: str) -> Any:
    """Read a YAML file and validate it against a JSON schema; every violation is listed in
    one InputError naming the file and ``what`` it should be (e.g. "run sheet")."""
    import jsonschema

    data = read_yaml(path) or {}
    validator = jsonschema.Draft202012Validator(read_yaml(schema_path))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors]
        raise InputError(f"{path}: invalid {what}:\n  " + "\n  ".join(lines))
    return data


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


# No version string or date in a figure's file: two runs of the same science give the same
# bytes (tests/test_determinism.py). Keys per format, as matplotlib's savefig accepts them.
FIGURE_METADATA = {
    "png": {"Software": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
    "svg": {"Creator": None, "Date": None},
}


def save_figure(fig, path: str | os.PathLike, dpi: int = 120) -> None:
    """Save a matplotlib figure atomically, without version or date metadata, and close it."""
    import matplotlib.pyplot as plt

    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    # svg.hashsalt: SVG element ids are random otherwise
    with atomic_output(path) as tmp, plt.rc_context({"svg.hashsalt": "xai-repro"}):
        fig.savefig(
            tmp, dpi=dpi, bbox_inches="tight", format=fmt, metadata=FIGURE_METADATA.get(fmt)
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


def write_npz(path: str | os.PathLike, compressed: bool = True, **arrays) -> None:
    """Write NumPy arrays to an ``.npz`` file (no pickles), atomically.

    Like ``np.savez[_compressed]``, but every member carries a fixed date, so the same
    arrays give the same bytes (NumPy stamps each member with the time of writing).
    """
    import zipfile

    import numpy as np

    method = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with atomic_output(path) as tmp, zipfile.ZipFile(tmp, "w", compression=method) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def read_npz(path: str | os.PathLike, keys=None) -> dict:
    """Read an ``.npz`` file (no pickles) into a dict of arrays.

    A missing or unreadable file, or a missing key of ``keys``, raises InputError naming it.
    """
    import zipfile

    import numpy as np

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise InputError(f"{path}: not a readable .npz file ({err})") from err
    missing = [k for k in (keys or ()) if k not in arrays]
    if missing:
        raise InputError(f"{path}: missing array(s) {missing}; found {sorted(arrays)}")
    return arrays
