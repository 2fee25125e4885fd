"""The states every analysis reads (``rollout.collect_states``: many seeded greedy episodes of
the trained agent, pooled, with each state's episode), and 95 % intervals over them.

States of one episode are not independent draws, so an interval of a per-state mean or rate
resamples whole episodes (a cluster bootstrap); a rate over episodes gets its Wilson interval
(``pretrained.wilson_interval``).
"""

import numpy as np

from xai_repro.common import InputError
from xai_repro.highway.pretrained import bootstrap_mean_interval, wilson_interval

STATE_KEYS = ("obs", "episode", "actions")
EPISODE_KEYS = ("episode_seeds", "episode_returns", "episode_crashed", "episode_arrived")


def load_states(path):
    """The pooled states written by collect_states_highway, {key: array}; InputError names
    the file when it is unreadable or lacks a key, or when an episode index is out of range."""
    try:
        with np.load(path) as data:
            out = {k: data[k] for k in data.files}
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{path}: not a readable states .npz ({exc})") from exc
    missing = [k for k in (*STATE_KEYS, *EPISODE_KEYS) if k not in out]
    if missing:
        raise InputError(f"{path}: states file has no {missing}")
    n = len(out["episode_seeds"])
    if not len(out["obs"]) or out["episode"].min() < 0 or out["episode"].max() >= n:
        raise InputError(f"{path}: no states, or episode indices outside 0..{n - 1}")
    return out


def spread_subset(episode, k):
    """Indices of states spread over the episodes: each episode gives ``k`` times its share
    of the states, rounded down, at least one (so at most ``k`` + episodes in all, usually
    somewhat fewer than ``k``), evenly spaced within it; all states when there are at most
    ``k``."""
    episode = np.asarray(episode)
    n = len(episode)
    if k >= n:
        return np.arange(n)
    keep = []
    for e in np.unique(episode):
        members = np.flatnonzero(episode == e)
        share = max(1, k * len(members) // n)
        keep.append(members[np.unique(np.linspace(0, len(members) - 1, share).round().astype(int))])
    return np.sort(np.concatenate(keep))


def episode_bootstrap(stat, episode, rng, resamples=1000, level=0.95):
    """Percentile interval of ``stat(indices)`` (a float or an array) over resamples of whole
    episodes: each resample draws as many episodes as there are, with replacement, and passes
    the indices of their states. Returns [lo, hi] for a float, else nested lists (..., 2)."""
    episode = np.asarray(episode)
    ids = np.unique(episode)
    members = [np.flatnonzero(episode == e) for e in ids]
    draws = rng.integers(0, len(ids), size=(resamples, len(ids)))
    values = np.stack(
        [np.asarray(stat(np.concatenate([members[j] for j in d])), dtype=float) for d in draws]
    )
    tail = (1 - level) / 2 * 100
    ci = np.moveaxis(np.percentile(values, [tail, 100 - tail], axis=0), 0, -1)
    return ci.tolist()


def mean_interval(values, episode, rng, resamples=1000):
    """Mean over states of per-state ``values`` (S, ...) and its episode-bootstrap 95 %
    interval: (mean as float or list, interval [lo, hi] or nested (..., 2) lists)."""
    values = np.asarray(values, dtype=float)
    episode = np.asarray(episode)
    ids, inverse = np.unique(episode, return_inverse=True)
    sums = np.zeros((len(ids), *values.shape[1:]))
    np.add.at(sums, inverse, values)
    counts = np.bincount(inverse, minlength=len(ids)).astype(float)
    draws = rng.integers(0, len(ids), size=(resamples, len(ids)))
    means = sums[draws].sum(1) / counts[draws].sum(1).reshape(-1, *[1] * (values.ndim - 1))
    ci = np.moveaxis(np.percentile(means, [2.5, 97.5], axis=0), 0, -1)
    return values.mean(0).tolist(), ci.tolist()


def with_interval(key, values, episode, rng):
    """{key: mean, key_ci95: interval} of per-state ``values`` (mean_interval)."""
    mean, ci = mean_interval(values, episode, rng)
    return {key: mean, f"{key}_ci95": ci}


def episodes_summary(states, rng):
    """What the analysed episodes were: their number, the number of states, crash and arrival
    rates with Wilson 95 % intervals, and the mean return with a bootstrap 95 % interval."""
    n = len(states["episode_seeds"])
    crashes, arrivals = int(states["episode_crashed"].sum()), int(states["episode_arrived"].sum())
    returns = np.asarray(states["episode_returns"], dtype=float)
    return {
        "episodes": n,
        "states": int(len(states["obs"])),
        "seeds": [int(s) for s in states["episode_seeds"]],
        "crash_rate": crashes / n,
        "crash_rate_ci95": wilson_interval(crashes, n),
        "arrival_rate": arrivals / n,
        "arrival_rate_ci95": wilson_interval(arrivals, n),
        "mean_return": float(returns.mean()),
        "return_ci95": bootstrap_mean_interval(returns, rng),
    }
