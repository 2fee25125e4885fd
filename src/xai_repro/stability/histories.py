"""Each study's training history, read by path and format, as curves in named panels.

A reader takes one seed's study folder (``results/<run>/seed<k>/<study>/``) and returns the
curves of one history file, each a :class:`Curve` in a fixed :class:`Panel`, so every seed's
curve of a quantity lands in the same panel. The files are the studies' own outputs
(docs/<study>.md); this module reads them without importing any study:

- duffing ``models/history.csv``: the surrogate's training and validation loss per epoch
  (early stopping may end two seeds at different epochs).
- cfrl ``models/classifier.json`` (``history``: training loss and validation accuracy per
  epoch), ``models/autoencoder.json`` (``loss_per_epoch``), ``training_log.csv`` (CFRL's mean
  reward and actor, critic and sparsity losses every ``log_every`` steps) and
  ``models/fit.json`` (``validation``: validity on held-out images every ``validation.every``
  steps).
- diffig ``models/gru_history.csv`` (the GRU's mean return per DAgger iteration),
  ``models/{obs,hx}_qbn_history.csv`` (reconstruction MSE and the return with the QBN
  inserted, per evaluated epoch) and ``models/mmn_history.csv`` (the MMN's return per
  fine-tuning step; step 0 is before any).
- highway writes no per-step history. Its SB3 checkpoints ``checkpoints/dqn_<n>_steps.zip``
  (every ``train.checkpoint_every`` steps) hold the returns and lengths of the last 100
  training episodes (``ep_info_buffer``, epsilon-greedy), read from the zip's ``data`` member
  without SB3. The history file is ``models/train_stats.json`` (the training's length): a
  checkpoint beyond it, left by an earlier and longer training, is left out.
"""

import base64
import binascii
import collections
import io
import json
import pickle
import re
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from xai_repro.common import InputError, read_csv, read_json


class Panel(NamedTuple):
    title: str
    x_label: str
    y_label: str
    log_y: bool = False


class Curve(NamedTuple):
    panel: Panel
    x: np.ndarray  # increasing
    y: np.ndarray  # finite, as long as x
    source: str  # file and key or column, relative to the study folder


def _finite(panel: Panel, x, y, source: str) -> Curve:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    order = np.argsort(x[keep], kind="stable")
    return Curve(panel, x[keep][order], y[keep][order], source)


def _csv(folder: Path, name: str, x: str, panels: dict[str, Panel]) -> list[Curve]:
    """One curve per column of ``panels`` against column ``x``; empty cells are left out."""
    path = folder / name
    frame = read_csv(path, columns=[x])
    missing = [c for c in panels if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
    return [
        _finite(panel, frame[x], pd.to_numeric(frame[c], errors="coerce"), f"{name} ({c})")
        for c, panel in panels.items()
    ]


def _list(data, key: str, path) -> list:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, list):
        raise InputError(f"{path}: {key!r} is missing or not a list")
    return value


def _per_epoch(panel: Panel, values: list, source: str) -> Curve:
    """A list of one value per epoch (a null left out), against epochs 1, 2, ..."""
    y = [np.nan if v is None else v for v in values]
    return _finite(panel, np.arange(1, len(values) + 1), y, source)


EPOCH, STEP = "epoch", "training step"
DUFFING_LOSS = {
    "loss": Panel("surrogate: training loss", EPOCH, "MSE", log_y=True),
    "val_loss": Panel("surrogate: validation loss", EPOCH, "MSE", log_y=True),
}
CFRL_LOG = {
    "reward": Panel("CFRL: mean reward (training validity)", STEP, "share valid"),
    "actor_loss": Panel("CFRL: actor loss", STEP, "loss"),
    "critic_loss": Panel("CFRL: critic loss", STEP, "loss", log_y=True),
    "sparsity_loss": Panel("CFRL: sparsity loss", STEP, "loss"),
}
CFRL_VALIDITY = Panel("CFRL: validity on held-out images", STEP, "share valid")
CLASSIFIER = {
    "loss": Panel("classifier: training loss", EPOCH, "cross-entropy", log_y=True),
    "val_accuracy": Panel("classifier: validation accuracy", EPOCH, "accuracy"),
}
AUTOENCODER = Panel("autoencoder: training loss", EPOCH, "loss")
RETURN = "mean return"


def duffing_history(folder: Path, name: str) -> list[Curve]:
    return _csv(folder, name, "epoch", DUFFING_LOSS)


def cfrl_classifier(folder: Path, name: str) -> list[Curve]:
    path = folder / name
    history = read_json(path).get("history")
    if not isinstance(history, dict):
        raise InputError(f"{path}: 'history' is missing or not an object")
    return [
        _per_epoch(panel, _list(history, key, path), f"{name} (history.{key})")
        for key, panel in CLASSIFIER.items()
    ]


def cfrl_autoencoder(folder: Path, name: str) -> list[Curve]:
    path = folder / name
    losses = _list(read_json(path), "loss_per_epoch", path)
    return [_per_epoch(AUTOENCODER, losses, f"{name} (loss_per_epoch)")]


def cfrl_training_log(folder: Path, name: str) -> list[Curve]:
    return _csv(folder, name, "step", CFRL_LOG)


def cfrl_validation(folder: Path, name: str) -> list[Curve]:
    path = folder / name
    rows = _list(read_json(path), "validation", path)
    if not all(isinstance(r, dict) and {"step", "validity"} <= set(r) for r in rows):
        raise InputError(f"{path}: every 'validation' entry needs 'step' and 'validity'")
    steps, validity = [r["step"] for r in rows], [r["validity"] for r in rows]
    return [_finite(CFRL_VALIDITY, steps, validity, f"{name} (validation)")]


def diffig_gru(folder: Path, name: str) -> list[Curve]:
    panel = Panel("GRU policy: mean return per DAgger iteration", "iteration", RETURN)
    return _csv(folder, name, "iteration", {"mean_return": panel})


def diffig_qbn(kind: str):
    def read(folder: Path, name: str) -> list[Curve]:
        panels = {
            "mse": Panel(f"{kind} QBN: reconstruction loss", EPOCH, "MSE", log_y=True),
            "mean_return": Panel(f"{kind} QBN inserted: mean return", EPOCH, RETURN),
        }
        return _csv(folder, name, "epoch", panels)

    return read


def diffig_mmn(folder: Path, name: str) -> list[Curve]:
    panel = Panel("MMN fine-tuning: mean return (step 0: before)", "fine-tuning step", RETURN)
    return _csv(folder, name, "step", {"mean_return": panel})


# an SB3 checkpoint zip of train_highway, named by its env step
CHECKPOINT = re.compile(r"^dqn_(\d+)_steps\.zip$")
HIGHWAY_PANELS = {
    "r": Panel("DQN: mean return of the last 100 training episodes", "env step", RETURN),
    "l": Panel("DQN: mean length of the last 100 training episodes", "env step", "steps"),
}


class _EpisodeUnpickler(pickle.Unpickler):
    """SB3 stores ``ep_info_buffer`` as a pickled deque of {r, l, t} dicts; nothing else is
    let through (a numpy scalar in case an environment returns one)."""

    ALLOWED = {
        ("collections", "deque"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not an episode record")
        return super().find_class(module, name)


def checkpoint_episodes(path) -> tuple[int, list[dict]]:
    """(env steps, the last training episodes' {r, l, ...} records) of an SB3 checkpoint zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            data = json.loads(archive.read("data"))
        steps = int(data["num_timesteps"])
        blob = base64.b64decode(data["ep_info_buffer"][":serialized:"])
        episodes = _EpisodeUnpickler(io.BytesIO(blob)).load()
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile, binascii.Error) as err:
        raise InputError(f"{path}: not a readable SB3 checkpoint ({err!r})") from err
    except pickle.UnpicklingError as err:
        raise InputError(f"{path}: ep_info_buffer is not an episode buffer ({err})") from err
    if not isinstance(episodes, collections.deque) or not all(
        isinstance(e, dict) and {"r", "l"} <= set(e) for e in episodes
    ):
        raise InputError(f"{path}: ep_info_buffer is not a deque of episode records")
    return steps, list(episodes)


def highway_checkpoints(folder: Path, name: str) -> list[Curve]:
    total = read_json(folder / name).get("total_steps")
    if not isinstance(total, int):
        raise InputError(f"{folder / name}: 'total_steps' is missing or not an integer")
    rows = {key: ([], []) for key in HIGHWAY_PANELS}
    checkpoints = folder / "checkpoints"
    files = sorted(checkpoints.glob("dqn_*_steps.zip")) if checkpoints.is_dir() else []
    for path in files:
        if not CHECKPOINT.match(path.name) or int(CHECKPOINT.match(path.name)[1]) > total:
            continue
        steps, episodes = checkpoint_episodes(path)
        for key, (x, y) in rows.items():
            x.append(steps)
            y.append(np.mean([e[key] for e in episodes]) if episodes else np.nan)
    source = "checkpoints/dqn_<n>_steps.zip (ep_info_buffer.{})"
    return [_finite(HIGHWAY_PANELS[k], x, y, source.format(k)) for k, (x, y) in rows.items()]


# study -> history file (relative to a seed's study folder) -> its reader
READERS = {
    "duffing": {"models/history.csv": duffing_history},
    "cfrl": {
        "models/classifier.json": cfrl_classifier,
        "models/autoencoder.json": cfrl_autoencoder,
        "training_log.csv": cfrl_training_log,
        "models/fit.json": cfrl_validation,
    },
    "diffig": {
        "models/gru_history.csv": diffig_gru,
        "models/obs_qbn_history.csv": diffig_qbn("observation"),
        "models/hx_qbn_history.csv": diffig_qbn("hidden-state"),
        "models/mmn_history.csv": diffig_mmn,
    },
    "highway": {"models/train_stats.json": highway_checkpoints},
}


def read_history(study: str, folder, name: str) -> list[Curve]:
    """The curves of history file ``name`` of one seed's ``study`` folder."""
    readers = READERS.get(study, {})
    if name not in readers:
        raise InputError(
            f"{study}: no reader for the history file {name!r} (known: {sorted(readers)})"
        )
    try:
        return readers[name](Path(folder), name)
    except InputError:
        raise
    except (TypeError, ValueError) as err:
        raise InputError(f"{Path(folder) / name}: non-numeric values ({err})") from err
