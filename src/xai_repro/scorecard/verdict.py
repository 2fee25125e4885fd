"""Judge each reference row against a run's metrics: the scorecard's verdicts.

A row's ``kind`` chooses its words: a published or derived number is *reproduced* or
*deviates*, a goal of this project is *met* or *missed*. Before that, a row is *not run at
this scale* when its study is not in the run or the run's config is not among the row's
``configs`` (or its metric is absent under the setting its ``absent_when`` names), and *not
comparable* when the row has no metric, says why the numbers cannot be compared, or the
study wrote null. Any other metric path absent from ``metrics.json`` at a config the row
lists is an error naming the row: a misspelt path must not pass as "not run".

A row of a seeds run (:mod:`~xai_repro.scorecard.seeds`) has a third outcome, *inconclusive*:
the interval over the seeds straddles the tolerance.
"""

import math

from xai_repro.common import InputError

KINDS = ("published", "derived", "goal")
REPRODUCED, DEVIATES, MET, MISSED = "reproduced", "deviates", "met", "missed"
NOT_COMPARABLE, NOT_RUN = "not comparable", "not run at this scale"
INCONCLUSIVE = "inconclusive"  # a seeds run's interval straddles the tolerance
# who wrote the metrics.json a row was read from, a row's and a run's ``built_by`` (None:
# none was read); the run of a row without a metric
THIS, EARLIER = "this invocation", "earlier invocation"
ANY_RUN = "any run"
VERDICTS = (REPRODUCED, DEVIATES, MET, MISSED, INCONCLUSIVE, NOT_COMPARABLE, NOT_RUN)
# kind -> (verdict within tolerance, verdict outside it)
OUTCOMES = {
    "published": (REPRODUCED, DEVIATES),
    "derived": (REPRODUCED, DEVIATES),
    "goal": (MET, MISSED),
}


ABSENT = object()  # lookup's default when a path is not in the metrics


def lookup(metrics: dict, dotted: str, default=None):
    """The value at ``dotted`` ("a.b.0.c"; integers index lists), ``default`` when the path
    is absent (a present null is returned as None)."""
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
            return default
    return value


def as_numbers(value, what: str) -> list[float]:
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
        refs = as_numbers(reference, "reference")
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
    """One scorecard row: its kind, the claim, our value (and spread), the reference, the
    verdict and why.

    ``metrics`` is the study's metrics.json (None when the study is not in the run), ``run``
    the run's config name, ``source`` the metrics file's path (named in errors). Raises
    :class:`InputError` naming the row when its metric (or spread) path is absent at a config
    the row lists.
    """
    out = {
        "id": row["id"],
        "kind": row["kind"],
        "study": study,
        "claim": row["claim"],
        "metric": row["metric"],
        "value": None,
        "spread": None,
        "reference": row["reference"],
        "source": row["source"],
        "tolerance": tolerance_text(row["tolerance"]) if row.get("tolerance") else "—",
        # a seeds run's rows (xai_repro.scorecard.seeds): the seeds, the 95 % interval of
        # the mean over them and its method, and each seed's value and verdict
        "seeds": None,
        "interval": None,
        "interval_method": None,
        "seeds_to_decide": None,
        "accepted": None,
        "per_seed": None,
    }
    if metrics is None:
        return {**out, "verdict": NOT_RUN, "why": f"{study} is not among this run's studies"}
    if row["metric"] is None:  # a published number the workflow computes nothing beside
        return {**out, "verdict": NOT_COMPARABLE, "why": row["not_comparable"]}
    if run not in row["configs"]:  # our number, at another scale, is not shown beside it
        where = ", ".join(row["configs"])
        return {**out, "verdict": NOT_RUN, "why": f"comparable at {where}; this run is {run}"}
    for key in ("metric", "spread"):
        path = row.get(key)
        if path and lookup(metrics, path, ABSENT) is ABSENT:
            if row.get("absent_when"):  # the row names the setting that leaves it out
                why = f"{path} not written: {row['absent_when']}"
                return {**out, "verdict": NOT_RUN, "why": why}
            raise InputError(
                f"{source}: reference {row['id']}: {key} {path!r} is not in this file "
                f"(config {run} is among the row's configs)"
            )
    value = out["value"] = lookup(metrics, row["metric"])
    out["spread"] = lookup(metrics, row["spread"]) if row.get("spread") else None
    if row.get("not_comparable"):
        return {**out, "verdict": NOT_COMPARABLE, "why": row["not_comparable"]}
    if value is None:
        why = f"{row['metric']} is null in {source}: the run computed no value"
        return {**out, "verdict": NOT_COMPARABLE, "why": why}
    values = as_numbers(value, f"{source}: {row['metric']} (reference {row['id']})")
    try:
        ok, margin = within(values, row["reference"], row["tolerance"])
    except InputError as err:
        raise InputError(f"{source}: {row['metric']} (reference {row['id']}): {err}") from err
    passed, failed = OUTCOMES[row["kind"]]
    return {**out, "verdict": passed if ok else failed, "why": margin}


def count(rows: list[dict]) -> dict:
    """Verdict counts: ``{"all": {verdict: n}, "<kind>": {verdict: n}, ...}``, every kind
    and every verdict present (zeros included)."""
    groups = {"all": rows, **{k: [r for r in rows if r["kind"] == k] for k in KINDS}}
    return {
        g: {v: sum(r["verdict"] == v for r in rs) for v in VERDICTS} for g, rs in groups.items()
    }


def kind_text(kind: str, got: dict) -> str:
    """One kind's verdict counts as text, e.g. "4 of 6 reproduced (1 deviates, 1
    inconclusive); 3 not comparable; 19 not run at this scale" ("of N" counts the rows
    compared); "" when the kind has no rows."""
    if not any(got.values()):
        return ""
    passed, failed = OUTCOMES[kind]
    compared = got[passed] + got[failed] + got.get(INCONCLUSIVE, 0)
    line = f"{got[passed]} of {compared} {passed}" if compared else "none compared"
    others = [f"{got[v]} {v}" for v in (failed, INCONCLUSIVE) if got.get(v)]
    if others:
        line += f" ({', '.join(others)})"
    rest = [f"{got[v]} {v}" for v in (NOT_COMPARABLE, NOT_RUN) if got[v]]
    return "; ".join([line, *rest])


def headline(counts: dict) -> list[str]:
    """One line per kind that has rows, e.g. "published: 4 of 5 reproduced (1 deviates);
    3 not comparable; 19 not run at this scale"; ``counts`` as :func:`count` gives them."""
    return [
        f"{kind}: {kind_text(kind, counts[kind])}" for kind in KINDS if any(counts[kind].values())
    ]
