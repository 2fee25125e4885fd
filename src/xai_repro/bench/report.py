"""Benchmark rows, the machine they ran on, and their rendering (markdown table, figure)."""

import contextlib
import os
import platform
from importlib import metadata

from xai_repro.bench.stats import fit_exponent, ratio, summary, verdict

PACKAGES = ("numpy", "scipy", "numba", "shap", "tensorflow", "keras", "torch", "alibi", "captum")
PACKAGES += ("stable-baselines3", "highway-env", "gymnasium", "snakemake")


def _side(side: dict) -> dict:
    """{"label", "values"} or an existing {"label", "min", "median", "max", "n"} summary."""
    if "values" in side:
        return {"label": side["label"], **summary(side["values"])}
    return {k: side[k] for k in ("label", "min", "median", "max", "n")}


def make_row(row_id, what, unit, ours, baseline=None, *, higher_is_better=True, **kw) -> dict:
    """One benchmark row. ``ours``/``baseline``: {"label", "values": [per repeat]} or a summary;
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
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict:
    """Cores, CPU model, memory, load and package versions of this machine."""
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
        "load_average": list(os.getloadavg()),
        "packages": {name: _version(name) for name in PACKAGES},
    }


def _fmt(x) -> str:
    if x is None:
        return "–"
    if isinstance(x, str):
        return x
    if x == 0:
        return "0"
    if abs(x) >= 1e4 or abs(x) < 1e-2:
        return f"{x:.2e}"
    return f"{x:.3g}"


def _triple(s: dict | None) -> str:
    if s is None:
        return "–"
    return f"{_fmt(s['min'])} / **{_fmt(s['median'])}** / {_fmt(s['max'])} (n={s['n']})"


def _goal(goal: dict | None, on_ratio: bool) -> str:
    if not goal:
        return "–"
    sign, target = (">=", goal["min"]) if "min" in goal else ("<=", goal["max"])
    return f"{sign} {_fmt(target)}{'x' if on_ratio else ''}"


def rows_table(rows: list[dict]) -> str:
    """Markdown table of benchmark rows (min / median / max of each side, ratio, verdict)."""
    lines = [
        "| row | unit | ours: min / **median** / max | baseline: min / **median** / max "
        "| ratio median [worst, best] | goal | verdict | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ours = f"{r['ours']['label']}: {_triple(r['ours'])}"
        base = f"{r['baseline']['label']}: {_triple(r['baseline'])}" if r["baseline"] else "–"
        rat = r["ratio"]
        rat_s = f"{_fmt(rat['median'])}x [{_fmt(rat['low'])}, {_fmt(rat['high'])}]" if rat else "–"
        goal = _goal(r["goal"], rat is not None)
        lines.append(
            f"| `{r['id']}` {r['what']} | {r['unit']} | {ours} | {base} | {rat_s} | {goal} "
            f"| {r['verdict']} | {r['notes']} |"
        )
    return "\n".join(lines)


def curves_table(curves: list[dict]) -> str:
    """Markdown table of scaling curves: sizes, median seconds, fitted exponent."""
    lines = [
        "| curve | sizes | median seconds at each size | growth exponent b (cost ~ n^b) | note |",
        "|---|---|---|---|---|",
    ]
    for c in curves:
        sizes = ", ".join(_fmt(s) for s in c["sizes"])
        secs = ", ".join(_fmt(s["median"]) for s in c["seconds"])
        lines.append(
            f"| `{c['id']}` {c['what']} | {c['size_name']}: {sizes} | {secs} "
            f"| {_fmt(c['exponent'])} | {c['note']} |"
        )
    return "\n".join(lines)


def render_markdown(results: dict) -> str:
    """benchmarks/results.md from the results dict (machine, rows, curves, failures)."""
    m, r = results["machine"], results
    versions = ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
    parts = [
        f"# Benchmarks\n\nRun {r['started']} – {r['finished']} UTC, repeats {r['repeats']}. "
        f"Machine: {m['cores']} cores, {m['cpu_model']}, {m['memory_gib']} GiB, Python "
        f"{m['python']}; load average at start {r['load_start']}, at end {r['load_end']}.",
        f"Packages: {versions}.\n\n{r['caveat']}",
        f"## Rows\n\n{rows_table(r['rows'])}",
        f"## Scaling\n\n{curves_table(r['curves'])}",
        "Figure: `scaling.png` (log-log, median seconds per call against size, min-max bars).",
    ]
    if r["failures"]:
        parts += [
            "## Not measured\n\n" + "\n".join(f"- `{k}`: {v}" for k, v in r["failures"].items())
        ]
    return "\n\n".join(parts) + "\n"


def plot_scaling(curves: list[dict], path) -> None:
    """Log-log panels of cost against size, one per curve, with min-max bars and exponent."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(3, max(1, len(curves)))
    rows = -(-max(1, len(curves)) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    for ax, c in zip(axes.flat, curves, strict=False):
        med = [s["median"] for s in c["seconds"]]
        bars = [
            [s["median"] - s["min"] for s in c["seconds"]],
            [s["max"] - s["median"] for s in c["seconds"]],
        ]
        ax.errorbar(c["sizes"], med, yerr=bars, marker="o", capsize=3)
        ax.set(xscale="log", yscale="log", xlabel=c["size_name"], ylabel="seconds")
        b = "–" if c["exponent"] is None else f"{c['exponent']:.2f}"
        ax.set_title(f"{c['what']}\nb = {b}", fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
    for ax in list(axes.flat)[len(curves) :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
