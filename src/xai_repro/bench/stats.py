"""Pure pieces of the benchmarks: repeat statistics, ratios, goals, growth exponents.

No timing happens here beyond ``timed``: the row modules hand their numbers in.
"""

import math
import time
from collections.abc import Callable, Sequence

import numpy as np


def summary(values: Sequence[float]) -> dict:
    """min, median and max of repeated measurements, and how many there were."""
    arr = np.asarray(list(values), dtype=np.float64)
    if arr.size == 0 or not np.isfinite(arr).all():
        raise ValueError(f"need at least one finite value, got {values!r}")
    return {
        "min": float(arr.min()),
        "median": float(np.median(arr)),
        "max": float(arr.max()),
        "n": int(arr.size),
    }


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    """Wall seconds of ``repeats`` calls of ``fn``."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return seconds


def seconds_per_item(fn: Callable[[object], object], items: Sequence, repeats: int) -> list:
    """Per repeat: wall seconds of ``fn`` over every item, divided by the number of items."""

    def every_item():
        for item in items:
            fn(item)

    return [s / len(items) for s in timed(every_item, repeats)]


def ratio(fast: dict, slow: dict, *, higher_is_better: bool) -> dict:
    """How many times better ``fast`` is than ``slow`` (two summaries): median and worst/best.

    For rates (higher is better) that is fast/slow; for costs (seconds) slow/fast. ``low``
    pairs the worst of ``fast`` with the best of ``slow``, ``high`` the reverse.
    """
    a, b = (fast, slow) if higher_is_better else (slow, fast)
    return {
        "median": a["median"] / b["median"],
        "low": a["min"] / b["max"],
        "high": a["max"] / b["min"],
    }


def verdict(value: float | None, goal: dict | None) -> str:
    """ "met", "missed: ..." (by how much) or "no goal" for ``value`` against {min: x} / {max: x}."""
    if not goal:
        return "no goal"
    if value is None or not math.isfinite(value):
        return "not measured"
    if "min" in goal:
        t = goal["min"]
        return "met" if value >= t else f"missed: {value:.3g} < {t:.3g} ({value / t:.2f} of goal)"
    if "max" in goal:
        t = goal["max"]
        return (
            "met" if value <= t else f"missed: {value:.3g} > {t:.3g} ({value / t:.2f}x the limit)"
        )
    raise ValueError(f"goal needs 'min' or 'max', got {goal!r}")


def fit_exponent(sizes: Sequence[float], costs: Sequence[float]) -> float:
    """Growth exponent b of cost ~ a * size**b: least squares on log-log (>= 2 distinct sizes)."""
    sizes = np.asarray(sizes, dtype=np.float64)
    costs = np.asarray(costs, dtype=np.float64)
    if sizes.shape != costs.shape or len(np.unique(sizes)) < 2:
        raise ValueError("need costs at two or more distinct sizes")
    if not (np.isfinite(sizes).all() and np.isfinite(costs).all()):
        raise ValueError("sizes and costs must be finite")
    if (sizes <= 0).any() or (costs <= 0).any():
        raise ValueError("sizes and costs must be positive")
    x, y = np.log(sizes), np.log(costs)
    slope, _ = np.polyfit(x, y, 1)
    return float(slope)
