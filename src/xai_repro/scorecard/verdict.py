"""Judge each reference row against a run's metrics: the scorecard's verdicts.

A row is *not run at this scale* when its study is not in the run, the run's config is not
among the row's ``configs``, or the metric is absent (or null) in ``metrics.json``; *not
comparable* when the row says why the numbers cannot be compared; otherwise *reproduced* or
*deviates* by its tolerance.
"""

import math

from xai_repro.common import InputError

REPRODUCED, DEVIATES = "reproduced", "deviates"
NOT_COMPARABLE, NOT_RUN = "not comparable", "not run at this scale"
VERDICTS = (REPRODUCED, DEVIATES, NOT_COMPARABLE, NOT_RUN)
_MISSING = object()


def lookup(metrics: dict, dotted: str):
    """The value at ``dotted`` ("a.b.0.c"; integers index lists) or None when absent."""
    value = metrics
    for key in dotted.split("."):
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif (
            isinstance(value, list)
            and key.lstrip("-").isdigit()
            and -len(value) <= int(key) < len(value)
        ):
            value = value[int(key)]
        else:
            return None
    return value


def _numbers(value, what: str) -> list[float]:
    """``value`` (a number or a list of numbers) as a flat list of floats."""
    items = value if isinstance(value, list) else [value]
    if not items or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in items):
        raise InputError(f"{what}: expected a number or a list of numbers, got {value!r}")
    return [float(v) for v in items]


def fmt(value) -> str:
    """A compact, stable text form of a number or a list of numbers."""
    if value is None:
        return "—"
    if isinstance(value, list):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:.4g}"


def tolerance_text(tolerance: dict) -> str:
    """``{"abs": 0.01}`` -> "± 0.01", ``{"range": [0, 1]}`` -> "in [0, 1]", and so on."""
    ((kind, bound),) = tolerance.items()
    if kind == "range":
        return f"in [{fmt(bound[0])}, {fmt(bound[1])}]"
    if kind == "rel":
        return f"± {fmt(100 * bound)} %"
    return {"abs": "± ", "min": "≥ ", "max": "≤ "}[kind] + fmt(bound)


def within(values: list[float], reference, tolerance: dict) -> tuple[bool, str]:
    """Whether every value meets the tolerance, and the measured margin as text."""
    ((kind, bound),) = tolerance.items()
    if kind in ("abs", "rel"):
        refs = _numbers(reference, "reference")
        if len(refs) == 1 and len(values) > 1:
            refs = refs * len(values)
        if len(refs) != len(values):
            raise InputError(f"{len(values)} values but {len(refs)} reference numbers")
        diff = max(abs(v - r) for v, r in zip(values, refs, strict=True))
        if kind == "abs":
            return diff <= bound, f"|ours − reference| = {fmt(diff)}"
        scale = max(abs(r) for r in refs)
        rel = diff / scale if scale else math.inf
        return rel <= bound, f"relative difference {fmt(100 * rel)} %"
    lo, hi = bound if kind == "range" else (-math.inf, math.inf)
    lo, hi = (bound, hi) if kind == "min" else (lo, bound) if kind == "max" else (lo, hi)
    ok = all(lo <= v <= hi for v in values)
    shown = fmt(values if len(values) > 1 else values[0])
    return ok, f"ours {shown} {'meets' if ok else 'misses'} {tolerance_text(tolerance)}"


def judge(row: dict, study: str, metrics: dict | None, run: str, source: str) -> dict:
    """One scorecard row: the claim, our value (and spread), the reference, the verdict.

    ``metrics`` is the study's metrics.json (None when the study is not in the run), ``run``
    the run's config name, ``source`` the metrics file's path (named in errors).
    """
    value = None if metrics is None else lookup(metrics, row["metric"])
    spread = None
    if metrics is not None and row.get("spread"):
        spread = lookup(metrics, row["spread"])
    out = {
        "id": row["id"],
        "study": study,
        "claim": row["claim"],
        "metric": row["metric"],
        "value": value,
        "spread": spread,
        "reference": row["reference"],
        "source": row["source"],
        "tolerance": tolerance_text(row["tolerance"]),
    }
    if metrics is None:
        return {**out, "verdict": NOT_RUN, "why": f"{study} is not among this run's studies"}
    if run not in row["configs"]:  # our number, at another scale, is not shown beside it
        where = ", ".join(row["configs"])
        out.update(value=None, spread=None)
        return {**out, "verdict": NOT_RUN, "why": f"comparable at {where}; this run is {run}"}
    if value is None:
        return {**out, "verdict": NOT_RUN, "why": f"{row['metric']} absent from {source}"}
    if row.get("not_comparable"):
        return {**out, "verdict": NOT_COMPARABLE, "why": row["not_comparable"]}
    values = _numbers(value, f"{source}: {row['metric']} (reference {row['id']})")
    try:
        ok, margin = within(values, row["reference"], row["tolerance"])
    except InputError as err:
        raise InputError(f"{source}: {row['metric']} (reference {row['id']}): {err}") from err
    return {**out, "verdict": REPRODUCED if ok else DEVIATES, "why": margin}


def build_scorecard(references: dict, metrics: dict, run: str, studies: list, known: list) -> dict:
    """The whole scorecard.

    ``references``: study -> rows (from :func:`load_references`); ``metrics``: study ->
    (metrics dict, its path) for the studies in the run; ``run``: the config name;
    ``studies``: the run's studies; ``known``: every study the workflow has, in order.
    """
    rows = []
    for study in known:
        got = metrics.get(study) if study in studies else None
        data, path = got if got else (None, f"results/{study}/metrics.json")
        rows += [judge(row, study, data, run, path) for row in references.get(study, [])]
    unknown = sorted(set(references) - set(known))
    if unknown:
        raise InputError(f"references for unknown studies {unknown}; known: {known}")
    return {
        "config": run,
        "studies": list(studies),
        "counts": {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS},
        "studies_without_references": [s for s in known if s not in references],
        "rows": rows,
    }
