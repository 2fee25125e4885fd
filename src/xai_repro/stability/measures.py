"""Agreement of two attribution vectors, and its summary over every pair of training seeds.

A vector is a ``pandas.Series`` of floats indexed by named entries (e.g. ``"SLOWER/x"``);
two vectors are compared over the entries that are finite in both (an entry one seed did not
produce, such as a point its surrogate did not explain, is left out). Pure functions, no I/O.

- Rank correlation: Spearman's rho (``scipy.stats.spearmanr``). Ties get their average rank,
  so rho is Pearson's correlation of the average ranks. It is undefined (``None``) over fewer
  than 3 shared entries or when either vector is constant over them: no ranking to compare.
- Top-k overlap: the share of the k entries of largest |value| that both vectors share. The
  top-k set of a vector holds every entry whose |value| is at least its k-th largest, so a tie
  at the boundary enters whole and the set may exceed k; the overlap is
  |A ∩ B| / max(|A|, |B|), which is |A ∩ B| / k without ties. It is undefined (``None``) when
  either |vector| is constant over the shared entries (every entry is "top").
"""

import itertools
import math

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

# below this many shared entries a rank correlation is not reported
MIN_ENTRIES = 3


def shared(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The values of ``a`` and ``b`` on the entries finite in both, in ``a``'s order."""
    frame = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner")
    frame = frame[np.isfinite(frame["a"]) & np.isfinite(frame["b"])]
    return frame["a"].to_numpy(float), frame["b"].to_numpy(float)


def _constant(x: np.ndarray) -> bool:
    return x.size == 0 or bool(np.all(x == x[0]))


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman's rho of two equally long vectors (entries already shared); ``None`` when
    undefined (fewer than MIN_ENTRIES entries, or a constant vector)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"rank_correlation: shapes {a.shape} and {b.shape} differ or are not 1-D")
    if a.size < MIN_ENTRIES or _constant(a) or _constant(b):
        return None
    return float(spearmanr(a, b).statistic)


def top_k(x: np.ndarray, k: int) -> set[int]:
    """Positions of the entries of largest |value|: every one at least the k-th largest."""
    magnitude = np.abs(np.asarray(x, float))
    k = min(k, magnitude.size)
    threshold = np.sort(magnitude)[::-1][k - 1]
    return set(np.flatnonzero(magnitude >= threshold).tolist())


def top_k_overlap(a: np.ndarray, b: np.ndarray, k: int) -> float | None:
    """|top-k(a) ∩ top-k(b)| / max of the two sets' sizes (k without ties); ``None`` when
    either |vector| is constant or there are no entries."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"top_k_overlap: shapes {a.shape} and {b.shape} differ or are not 1-D")
    if k < 1:
        raise ValueError(f"top_k_overlap: k = {k}, must be at least 1")
    if _constant(np.abs(a)) or _constant(np.abs(b)):
        return None
    top_a, top_b = top_k(a, k), top_k(b, k)
    return len(top_a & top_b) / max(len(top_a), len(top_b))


def k_for(n_entries: int, fraction: float) -> int:
    """k for a vector of ``n_entries``: ``fraction`` of them, rounded up, at least 1."""
    return max(1, math.ceil(fraction * n_entries))


def compare(a: pd.Series, b: pd.Series, top_k_fraction: float) -> dict:
    """Spearman's rho and top-k overlap of two named vectors over their shared entries, with
    the number of entries, k, and the overlap two random rankings share on average (k / n)."""
    x, y = shared(a, b)
    if x.size == 0:
        return {"entries": 0, "k": None, "spearman": None, "top_k_overlap": None, "chance": None}
    k = k_for(x.size, top_k_fraction)
    return {
        "entries": int(x.size),
        "k": k,
        "spearman": rank_correlation(x, y),
        "top_k_overlap": top_k_overlap(x, y, k),
        "chance": k / x.size,
    }


def summary(values) -> dict:
    """Mean, min and max of the defined values (``None`` left out) and how many there were."""
    defined = [v for v in values if v is not None]
    if not defined:
        return {"mean": None, "min": None, "max": None, "n": 0, "undefined": len(values)}
    return {
        "mean": float(np.mean(defined)),
        "min": float(np.min(defined)),
        "max": float(np.max(defined)),
        "n": len(defined),
        "undefined": len(values) - len(defined),
    }


def pairwise(by_seed: dict, top_k_fraction: float) -> dict:
    """Every pair of seeds compared (``by_seed``: seed -> vector), and the summary over pairs:
    Spearman and top-k overlap, each with mean, min, max, ``n`` defined pairs and
    ``undefined`` ones; ``pairs`` all pairs; ``chance`` the mean k / n."""
    if len(by_seed) < 2:
        raise ValueError(f"pairwise: {len(by_seed)} seed(s), need at least 2")
    per_pair = [
        {"seeds": [s, t], **compare(by_seed[s], by_seed[t], top_k_fraction)}
        for s, t in itertools.combinations(by_seed, 2)
    ]
    chance = [p["chance"] for p in per_pair]
    return {
        "pairs": len(per_pair),
        "spearman": summary([p["spearman"] for p in per_pair]),
        "top_k_overlap": summary([p["top_k_overlap"] for p in per_pair]),
        "chance_top_k_overlap": summary(chance)["mean"],
        "per_pair": per_pair,
    }


def against_reference(by_seed: dict, reference_by_seed: dict, top_k_fraction: float) -> dict:
    """Each seed's vector against its own reference (e.g. the same seed's untrained network):
    Spearman and top-k overlap summarised over seeds, with the per-seed values."""
    per_seed = {
        seed: compare(by_seed[seed], reference_by_seed[seed], top_k_fraction) for seed in by_seed
    }
    return {
        "seeds": len(per_seed),
        "spearman": summary([c["spearman"] for c in per_seed.values()]),
        "top_k_overlap": summary([c["top_k_overlap"] for c in per_seed.values()]),
        "per_seed": per_seed,
    }
