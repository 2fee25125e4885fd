"""A reference row over the seeds of a seeds run: mean, 95 % interval, three-outcome verdict.

Each seed is judged alone first (:func:`~xai_repro.scorecard.verdict.judge`); a row that is
not run or not comparable at one seed keeps that verdict. Otherwise the seeds' numbers give,
element by element:

- a **continuous** value: the mean and Student's t interval over the seeds,
  mean ± t(0.975, n−1) · s / √n (s the seeds' sample standard deviation). With 3 to 5 seeds a
  percentile bootstrap cannot reach beyond the seeds' own range, which holds the median of a
  symmetric distribution only 1 − 2 · 0.5ⁿ of the time (75 % for 3 seeds, 94 % for 5): the
  t interval keeps its 95 % under normal seed-to-seed variation and widens honestly when
  seeds are few.
- a **rate** (:func:`rate_counts`: its object in metrics.json also gives the trials and the
  successes, or the trials of a metric named "...rate"): the Clopper-Pearson interval
  of the pooled counts (successes and trials summed over the seeds), widened to the t interval
  of the seeds' rates (clipped to [0, 1]) where that is wider. Pooled counts alone assume every
  seed has the same rate and ignore the spread between trainings; the t interval alone has
  zero width when the seeds agree exactly.

The verdict compares the intervals with the row's tolerance, seen as the set of accepted
values: *reproduced* / *met* when every element's interval lies within it, *deviates* /
*missed* when some element's interval lies wholly outside it, *inconclusive* otherwise. An
inconclusive row carries the number of seeds that would decide it at the observed spread:
n* = min { n > n₀ : h(n) < d }, with h(n) = t(0.975, n−1) · s / √n (for a rate, the larger
of that and the Clopper-Pearson half-width at n times the mean trials), and d the distance
from the mean to the nearest bound of the tolerance, the largest n* over the elements that
straddle; none when the mean sits on a bound.
"""

import math
import re
from pathlib import Path

from scipy import stats

from xai_repro.common import InputError
from xai_repro.scorecard.verdict import (
    INCONCLUSIVE,
    NOT_COMPARABLE,
    OUTCOMES,
    as_numbers,
    fmt,
    judge,
    lookup,
    tolerance_text,
)

LEVEL = 0.95
TRIALS_KEYS = ("n", "episodes")  # where a rate's object gives its number of trials
MAX_SEEDS = 10_000  # seeds_to_decide beyond this reads "none"
_SEED_FOLDER = re.compile(r"^seed([0-9]+)$")
T_METHOD = "Student t over seeds"
RATE_METHOD = "Clopper-Pearson on pooled counts, widened to Student t over seeds"


def t_half_width(sd: float, n: int) -> float:
    """Half-width of the 95 % t interval of the mean of ``n`` values of sample sd ``sd``."""
    return float(stats.t.ppf(0.5 + LEVEL / 2, n - 1)) * sd / math.sqrt(n)


def t_interval(values: list[float]) -> tuple[float, float, float, float]:
    """(mean, low, high, sample sd) of ``values`` (at least 2): the 95 % t interval."""
    n = len(values)
    mean = math.fsum(values) / n
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    h = t_half_width(sd, n)
    return mean, mean - h, mean + h, sd


def clopper_pearson(successes: int, trials: int) -> tuple[float, float]:
    """The exact (Clopper-Pearson) 95 % interval of a binomial rate."""
    alpha = 1 - LEVEL
    lo = 0.0 if successes == 0 else stats.beta.ppf(alpha / 2, successes, trials - successes + 1)
    hi = (
        1.0
        if successes == trials
        else stats.beta.ppf(1 - alpha / 2, successes + 1, trials - successes)
    )
    return float(lo), float(hi)


def rate_counts(metrics: dict, dotted: str, value) -> tuple[int, int] | None:
    """(successes, trials) when the metric at ``dotted`` is a rate: its object also gives the
    trials as an integer ``n`` or ``episodes``, and either the successes as another integer
    field equal to value x trials (``{"validity": 0.96, "valid": 865, "n": 900}``) or the
    metric's name ends in "rate" and value x trials is whole (``{"crash_rate": 0.08,
    "episodes": 50}``); None otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        return None
    head, _, name = dotted.rpartition(".")
    parent = lookup(metrics, head) if head else metrics
    if not isinstance(parent, dict):
        return None
    for trials_key in TRIALS_KEYS:
        trials = parent.get(trials_key)
        if not _count(trials) or trials == 0:
            continue
        expected = value * trials
        for key, successes in parent.items():
            if key != trials_key and _count(successes) and abs(successes - expected) < 1e-6:
                return successes, trials
        if name.endswith("rate") and abs(expected - round(expected)) < 1e-6:
            return round(expected), trials
    return None


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def accepted(tolerance: dict, reference, n: int) -> list[tuple[float, float]]:
    """The tolerance as the closed set [low, high] of accepted values, per element of an
    ``n``-element metric (``rel`` scales by the largest |reference|, as ``within`` does)."""
    ((kind, bound),) = tolerance.items()
    if kind in ("abs", "rel"):
        refs = as_numbers(reference, "reference")
        refs = refs * n if len(refs) == 1 else refs
        if len(refs) != n:
            raise InputError(f"{n} values but {len(refs)} reference numbers")
        width = bound if kind == "abs" else bound * max(abs(r) for r in refs)
        return [(r - width, r + width) for r in refs]
    if kind == "range":
        lo, hi = bound
    else:
        lo, hi = (bound, math.inf) if kind == "min" else (-math.inf, bound)
    return [(float(lo), float(hi))] * n


def decide(intervals: list[tuple[float, float]], bounds: list[tuple[float, float]]) -> str:
    """ "pass" when every interval lies within its bounds, "fail" when some interval lies
    wholly outside its bounds, "open" otherwise."""
    inside = [a <= lo and hi <= b for (lo, hi), (a, b) in zip(intervals, bounds, strict=True)]
    outside = [hi < a or lo > b for (lo, hi), (a, b) in zip(intervals, bounds, strict=True)]
    if all(inside):
        return "pass"
    return "fail" if any(outside) else "open"


def seeds_needed(half_width, distance: float, n0: int) -> int | None:
    """The smallest n > ``n0`` whose ``half_width(n)`` is below ``distance`` (the mean's
    distance to the nearest tolerance bound); None when no n up to MAX_SEEDS does."""
    if not distance > 0:
        return None
    n = n0 + 1
    while n <= MAX_SEEDS:
        if half_width(n) < distance:
            return n
        n = n + 1 if n < 100 else int(n * 1.1)
    return None


def _element(values: list[float], counts: list[tuple[int, int]] | None) -> dict:
    """Mean, interval and the half-width function of one element over the seeds."""
    mean, lo, hi, sd = t_interval(values)
    if counts is None:
        return {"mean": mean, "lo": lo, "hi": hi, "half_width": lambda n: t_half_width(sd, n)}
    successes, trials = (sum(c[i] for c in counts) for i in (0, 1))
    cp_lo, cp_hi = clopper_pearson(successes, trials)
    per_seed = trials / len(counts)

    def half_width(n):
        pooled = clopper_pearson(round(mean * n * per_seed), max(1, round(n * per_seed)))
        return max(t_half_width(sd, n), mean - pooled[0], pooled[1] - mean)

    lo, hi = min(cp_lo, max(0.0, lo)), max(cp_hi, min(1.0, hi))
    return {"mean": mean, "lo": lo, "hi": hi, "half_width": half_width}


def _distance(mean: float, bounds: tuple[float, float]) -> float:
    return min(abs(mean - b) for b in bounds if math.isfinite(b))


def aggregate(row: dict, per_seed: dict[int, list[float]], counts: dict | None) -> dict:
    """Mean, interval, verdict and seeds to decide of one row over its seeds.

    ``per_seed``: seed -> the metric as a list of floats (the same length at every seed);
    ``counts``: seed -> (successes, trials) when the metric is a rate, else None."""
    seeds = sorted(per_seed)
    sizes = {len(v) for v in per_seed.values()}
    if len(sizes) != 1:
        raise InputError(f"reference {row['id']}: the seeds' metric lists differ in length")
    (size,) = sizes
    elements = [
        _element([per_seed[k][i] for k in seeds], [counts[k] for k in seeds] if counts else None)
        for i in range(size)
    ]
    intervals = [(e["lo"], e["hi"]) for e in elements]
    bounds = accepted(row["tolerance"], row["reference"], size)
    outcome = decide(intervals, bounds)
    passed, failed = OUTCOMES[row["kind"]]
    verdict = {"pass": passed, "fail": failed, "open": INCONCLUSIVE}[outcome]
    needed = None
    if outcome == "open":
        straddling = [
            (e, b)
            for e, (lo, hi), b in zip(elements, intervals, bounds, strict=True)
            if not (b[0] <= lo and hi <= b[1]) and not (hi < b[0] or lo > b[1])
        ]
        wanted = [
            seeds_needed(e["half_width"], _distance(e["mean"], b), len(seeds))
            for e, b in straddling
        ]
        needed = None if None in wanted else max(wanted)
    mean = [e["mean"] for e in elements]
    return {
        "seeds": seeds,
        "value": mean[0] if size == 1 else mean,
        "interval": list(intervals[0]) if size == 1 else [list(i) for i in intervals],
        "interval_method": RATE_METHOD if counts else T_METHOD,
        # the tolerance as accepted values per element, None for an open end (the figure)
        "accepted": [[b if math.isfinite(b) else None for b in pair] for pair in bounds],
        "verdict": verdict,
        "seeds_to_decide": needed,
        "why": _why(verdict, row, intervals, len(seeds), needed),
    }


def _why(verdict: str, row: dict, intervals, n: int, needed) -> str:
    shown = fmt([list(i) for i in intervals] if len(intervals) > 1 else list(intervals[0]))
    tol = tolerance_text(row["tolerance"])
    if verdict == INCONCLUSIVE:
        more = f"{needed} seeds would decide it" if needed else "no number of seeds decides it"
        return f"95 % interval {shown} over {n} seeds straddles {tol}: {more} at this spread"
    where = "within" if verdict == OUTCOMES[row["kind"]][0] else "outside"
    return f"95 % interval {shown} over {n} seeds lies {where} {tol}"


def judge_seeds(row: dict, study: str, per_seed: dict[int, tuple], judged_as: str) -> dict:
    """One scorecard row of a seeds run: each seed judged alone at run ``judged_as`` (the
    run whose ``configs`` the row names), then the seeds together (:func:`aggregate`).

    ``per_seed``: seed -> (metrics dict, its path). A seed whose value is null is left out
    (its verdict is kept in ``per_seed``); fewer than 2 seeds with a value is not comparable.
    """
    seeds = sorted(per_seed)
    alone = {k: judge(row, study, per_seed[k][0], judged_as, per_seed[k][1]) for k in seeds}
    out = {**alone[seeds[0]], "value": None, "spread": None}
    out["per_seed"] = [
        {"seed": k, "value": alone[k]["value"], "verdict": alone[k]["verdict"]} for k in seeds
    ]
    out["seeds"] = seeds
    numeric = [k for k in seeds if alone[k]["verdict"] in OUTCOMES[row["kind"]]]
    if not numeric:  # not run or not comparable at every seed: the first seed's reason
        return out
    if len(numeric) < 2:
        why = f"{len(numeric)} of {len(seeds)} seeds gave a number: no interval"
        return {**out, "verdict": NOT_COMPARABLE, "why": why}
    values = {
        k: as_numbers(alone[k]["value"], f"{per_seed[k][1]}: {row['metric']}") for k in numeric
    }
    counts = {k: rate_counts(per_seed[k][0], row["metric"], alone[k]["value"]) for k in numeric}
    rates = counts if all(counts.values()) else None
    try:
        result = aggregate(row, values, rates)
    except InputError as err:
        raise InputError(f"{per_seed[seeds[0]][1]}: {err}") from err
    if len(numeric) < len(seeds):
        left = [k for k in seeds if k not in numeric]
        result["why"] += f" (seeds {left} gave no number)"
    return {**out, **result}


def judge_seeded(row: dict, study: str, seed_metrics: dict, run: str, info: dict) -> dict:
    """A row at built seeds run ``run`` (``info``: its seeds and compare_as): over its seeds
    (:func:`judge_seeds`), or not run when ``study`` is not among the run's studies."""
    per_seed = seed_metrics.get((run, study))
    if per_seed is None:
        out = judge(row, study, None, run, "")
        return {**out, "seeds": info["seeds"], "why": f"{study} is not among run {run}'s studies"}
    judged_as = run if run in row["configs"] else info.get("compare_as")
    return judge_seeds(row, study, per_seed, judged_as)


def locate(path, seeded: dict) -> tuple[str, int | None, str]:
    """(run, seed, study) of a metrics.json path: results/<run>/<study>/metrics.json (seed
    None) or results/<run>/seed<k>/<study>/metrics.json of a seeds run of ``seeded``."""
    path = Path(path)
    folder = path.parent.parent
    match = _SEED_FOLDER.match(folder.name)
    if match and folder.parent.name in seeded:
        return folder.parent.name, int(match.group(1)), path.parent.name
    return folder.name, None, path.parent.name
