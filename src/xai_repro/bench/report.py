"""Benchmark numbers and their rendering: repeat timing and statistics, rows (ours beside a
baseline, ratio, goal, verdict), scaling curves, the machine, the markdown and the figure."""

import contextlib
import math
import os
import platform
import time
from collections.abc import Callable, Sequence
from importlib import metadata

import numpy as np

PACKAGES = ("numpy", "scipy", "numba", "shap", "tensorflow", "keras", "torch", "alibi", "captum")
PACKAGES += ("stable-baselines3", "highway-env", "gymnasium", "snakemake")


def interleaved(runs: dict, repeats: int, per=None, clock=time.perf_counter) -> dict:
    """``clock`` seconds of each call in ``runs`` (name -> fn), the variants interleaved per
    repeat so that each sees the same machine load; divided by ``per[name]`` items if given."""
    out = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            start = clock()
            fn()
            out[name].append((clock() - start) / (per or {}).get(name, 1))
    return out


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    """Wall seconds of each of ``repeats`` calls of ``fn``."""
    return interleaved({"fn": fn}, repeats)["fn"]


def seconds_per_item(fn: Callable[[object], object], items: Sequence, repeats: int) -> list:
    """Per repeat: wall seconds of ``fn`` over every item, divided by the number of items."""
    return interleaved({"x": lambda: [fn(item) for item in items]}, repeats, {"x": len(items)})["x"]


def summary(values: Sequence[float]) -> dict:
    """min, median and max of repeated measurements, and how many there were."""
    arr = np.asarray(list(values), dtype=np.float64)
    if arr.size == 0 or not np.isfinite(arr).all():
        raise ValueError(f"need at least one finite value, got {values!r}")
    stats = {"min": arr.min(), "median": np.median(arr), "max": arr.max()}
    return {k: float(v) for k, v in stats.items()} | {"n": int(arr.size)}


def ratio(fast: dict, slow: dict, *, higher_is_better: bool) -> dict:
    """How many times better ``fast`` is than ``slow`` (two summaries): for rates fast/slow,
    for costs slow/fast; ``low`` pairs the worst of ``fast`` with the best of ``slow``."""
    a, b = (fast, slow) if higher_is_better else (slow, fast)
    return dict(median=a["median"] / b["median"], low=a["min"] / b["max"], high=a["max"] / b["min"])


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
        return "met" if value <= t else f"missed: {value:.3g} > {t:.3g} ({value / t:.2f}x limit)"
    raise ValueError(f"goal needs 'min' or 'max', got {goal!r}")


def fit_exponent(sizes: Sequence[float], costs: Sequence[float]) -> float:
    """Growth exponent b of cost ~ a * size**b: least squares on log-log (>= 2 distinct sizes)."""
    sizes, costs = np.asarray(sizes, dtype=np.float64), np.asarray(costs, dtype=np.float64)
    if sizes.shape != costs.shape or len(np.unique(sizes)) < 2:
        raise ValueError("need costs at two or more distinct sizes")
    if not (np.isfinite(both := np.r_[sizes, costs]).all() and (both > 0).all()):
        raise ValueError("sizes and costs must be finite and positive")
    return float(np.polyfit(np.log(sizes), np.log(costs), 1)[0])


def _side(side) -> dict:
    """(label, values) or an existing {"label", "min", "median", "max", "n"} summary."""
    if isinstance(side, tuple):
        return {"label": side[0], **summary(side[1])}
    return {k: side[k] for k in ("label", "min", "median", "max", "n")}


def make_row(row_id, what, unit, ours, baseline=None, *, higher_is_better=True, **kw) -> dict:
    """One benchmark row. ``ours``/``baseline``: (label, [value per repeat]) or a summary;
    ``kw``: ``goal`` ({min: x} or {max: x}), ``notes``, ``extra`` (raw numbers).

    With a baseline the goal applies to the median ratio (ours over the baseline, "times
    better"); without one, to the median of ours.
    """
    row = {"id": row_id, "what": what, "unit": unit, "ours": _side(ours), "baseline": None}
    row.update(higher_is_better=higher_is_better, ratio=None, goal=kw.get("goal"))
    value = row["ours"]["median"]
    if baseline is not None:
        row["baseline"] = _side(baseline)
        row["ratio"] = ratio(row["ours"], row["baseline"], higher_is_better=higher_is_better)
        value = row["ratio"]["median"]
    row.update(verdict=verdict(value, row["goal"]), notes=kw.get("notes", ""))
    return row | {"extra": kw.get("extra") or {}}


def make_curve(curve_id: str, what: str, size_name: str, points: dict, note: str = "") -> dict:
    """A scaling curve: ``points`` maps size -> seconds per repeat; fits cost ~ size**b."""
    sizes = sorted(points)
    seconds = [summary(points[s]) for s in sizes]
    exponent = fit_exponent(sizes, [s["median"] for s in seconds]) if len(sizes) > 1 else None
    curve = {"id": curve_id, "what": what, "size_name": size_name, "sizes": sizes}
    return curve | {"seconds": seconds, "exponent": exponent, "note": note}


def _version(name: str) -> str | None:
    with contextlib.suppress(metadata.PackageNotFoundError):
        return metadata.version(name)
    return None


def machine() -> dict:
    """Cores, CPU model, memory and package versions of this machine."""
    model = platform.processor() or "unknown"
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as fh:
        model = next(line.split(":", 1)[1].strip() for line in fh if "model name" in line)
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(memory, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {name: _version(name) for name in PACKAGES},
    }


def _fmt(x) -> str:
    if x is None or isinstance(x, str):
        return x or "–"
    if x != 0 and (abs(x) >= 1e4 or abs(x) < 1e-2):
        return f"{x:.2e}"
    return f"{x:.3g}"


def _triple(s: dict | None) -> str:
    if s is None:
        return "–"
    low, mid, high = (_fmt(s[k]) for k in ("min", "median", "max"))
    return f"{s['label']}: {low} / **{mid}** / {high} (n={s['n']})"


def _table(header: list[str], cells: list[list]) -> str:
    lines = [header, ["---"] * len(header), *cells]
    return "\n".join("| " + " | ".join(map(str, line)) + " |" for line in lines)


def rows_table(rows: list[dict]) -> str:
    """Markdown table of benchmark rows (min / median / max of each side, ratio, verdict)."""
    cells = []
    for r in rows:
        rat, goal = r["ratio"], r["goal"]
        rat_s = f"{_fmt(rat['median'])}x [{_fmt(rat['low'])}, {_fmt(rat['high'])}]" if rat else "–"
        if goal:
            sign, target = (">=", goal["min"]) if "min" in goal else ("<=", goal["max"])
            goal = f"{sign} {_fmt(target)}{'x' if rat else ''}"
        row = [f"`{r['id']}` {r['what']}", r["unit"], _triple(r["ours"]), _triple(r["baseline"])]
        cells.append(row + [rat_s, goal or "–", r["verdict"], r["notes"]])
    header = "row|unit|ours: min / **median** / max|baseline: min / **median** / max"
    return _table((header + "|ratio median [worst, best]|goal|verdict|notes").split("|"), cells)


def curves_table(curves: list[dict]) -> str:
    """Markdown table of scaling curves: sizes, median seconds, fitted exponent."""
    header = ["curve", "sizes", "median seconds at each size", "growth exponent b (cost ~ n^b)"]
    cells = [
        [
            f"`{c['id']}` {c['what']}",
            f"{c['size_name']}: " + ", ".join(map(_fmt, c["sizes"])),
            ", ".join(_fmt(s["median"]) for s in c["seconds"]),
            _fmt(c["exponent"]),
            c["note"],
        ]
        for c in curves
    ]
    return _table(header + ["note"], cells)


def render_markdown(results: dict) -> str:
    """benchmarks/results.md from the results dict (machine, rows, curves, failures)."""
    m, r = results["machine"], results
    versions = ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
    parts = [
        f"# Benchmarks\n\nRun {r['started']} – {r['finished']} UTC, repeats {r['repeats']}. "
        f"Machine: {m['cores']} cores, {m['cpu_model']}, {m['memory_gib']} GiB, Python "
        f"{m['python']}; load average at start {r['load_start']}, at end {r['load_end']}.",
        f"Packages: {versions}.\n\nAbsolute times vary with the machine's load (the load "
        "averages above); rely on the ratios, which come from runs interleaved in one process.",
        f"## Rows\n\n{rows_table(r['rows'])}",
        f"## Scaling\n\n{curves_table(r['curves'])}",
        "Figure: `scaling.png` (log-log, median seconds per call against size, min-max bars).",
    ]
    failed = "\n".join(f"- `{k}`: {v}" for k, v in r["failures"].items())
    return "\n\n".join(parts + ([f"## Not measured\n\n{failed}"] if failed else [])) + "\n"


def plot_scaling(curves: list[dict], path) -> None:
    """Log-log panels of cost against size, one per curve, with min-max bars and exponent."""
    from matplotlib.figure import Figure  # no pyplot: no backend, no global state

    cols = min(3, max(1, len(curves)))
    rows = -(-max(1, len(curves)) // cols)
    fig = Figure(figsize=(4.2 * cols, 3.4 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, c in zip(axes.flat, curves, strict=False):
        med = [s["median"] for s in c["seconds"]]
        bars = [[s[k] for s in c["seconds"]] for k in ("min", "max")]
        ax.errorbar(c["sizes"], med, yerr=np.abs(np.subtract(bars, med)), marker="o", capsize=3)
        ax.set(xscale="log", yscale="log", xlabel=c["size_name"], ylabel="seconds")
        ax.set_title(f"{c['what']}\nb = {_fmt(c['exponent'])}", fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
    for ax in list(axes.flat)[len(curves) :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
