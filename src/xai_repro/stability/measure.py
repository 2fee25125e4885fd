"""Attribution stability of one study over training seeds: every vector compared across seeds
(xai_repro.stability.measures), beside the sanity checks the study's metrics.json already
holds, and a figure of both."""

from pathlib import Path

import numpy as np

from xai_repro.common import InputError, read_json
from xai_repro.stability.measures import against_reference, pairwise, summary
from xai_repro.stability.readers import lookup, read_cfrl, read_diffig, read_duffing, read_highway

READERS = {
    "highway": read_highway,
    "duffing": read_duffing,
    "diffig": read_diffig,
    "cfrl": read_cfrl,
}
# what each study's reference vector is (readers.Attribution.reference)
REFERENCES = {
    "highway": "the same seed's untrained (random-init) network",
    "duffing": "the true ODE's attributions at the same points",
}
# the sanity checks each study's metrics.json holds: dotted key -> what it is. Only highway
# has a parameter-randomisation check; the others get their closest existing sanity number.
SANITY = {
    "highway": {
        "randomisation_rank_correlation": "Spearman of the trained vs the untrained network's "
        "IG maps on the trained rollout's states (parameter randomisation check)",
    },
    "duffing": {
        f"attribution_rank_correlation.{{explainer}}.{output}": "Spearman of the surrogate's "
        f"vs the true model's attributions, output {output} (no randomisation check exists)"
        for output in ("xt", "vt")
    },
    "diffig": {
        "ig_completeness_relative_error": "median |sum of differential IG - output gap| "
        "relative to the gap (no randomisation check exists)",
    },
    "cfrl": {
        "cfrl.sparsity_l0": "share of pixels the valid counterfactuals change "
        "(no randomisation check exists)",
        "autoencoder_floor.sparsity_l0": "share of pixels the autoencoder alone changes",
    },
}


def sanity_keys(study: str, options: dict) -> dict[str, str]:
    """The study's sanity keys in metrics.json (duffing's per explainer), with their meaning."""
    keys = {}
    for key, meaning in SANITY[study].items():
        if "{explainer}" in key:
            for explainer in options["explainers"]:
                keys[key.format(explainer=explainer)] = meaning
        else:
            keys[key] = meaning
    return keys


def read_sanity(study: str, metrics_by_seed: dict, options: dict) -> dict:
    """Each sanity key's value per seed and its summary over seeds."""
    out = {}
    for key, meaning in sanity_keys(study, options).items():
        per_seed = {}
        for seed, path in metrics_by_seed.items():
            value = lookup(read_json(path), key, path)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise InputError(f"{path}: {key!r} is {value!r}, not a number")
            per_seed[seed] = float(value)
        out[key] = {"meaning": meaning, "per_seed": per_seed, **summary(list(per_seed.values()))}
    return out


def measure(study: str, metrics_by_seed: dict, *, top_k_fraction: float, options: dict) -> dict:
    """Stability over seeds of every attribution vector of ``study``.

    ``metrics_by_seed``: seed -> that seed's ``<study>/metrics.json`` (its folder holds the
    attribution files); ``options``: the reader's settings (duffing ``explainers``, cfrl
    ``l0_tolerance``).
    """
    if study not in READERS:
        raise InputError(f"study {study!r}: no attribution reader (known: {sorted(READERS)})")
    if len(metrics_by_seed) < 2:
        raise InputError(f"{study}: {len(metrics_by_seed)} seed(s); stability needs at least 2")
    if not 0 < top_k_fraction <= 1:
        raise InputError(f"top_k_fraction = {top_k_fraction}: must lie in (0, 1]")
    read = READERS[study]
    by_seed = {s: read(Path(p).parent, **options) for s, p in metrics_by_seed.items()}
    vectors = {}
    for name, first in next(iter(by_seed.values())).items():
        trained = {s: v[name].vector for s, v in by_seed.items()}
        entry = {
            "source": first.source,
            "entries_per_seed": {s: int(np.isfinite(v).sum()) for s, v in trained.items()},
            **pairwise(trained, top_k_fraction),
        }
        # null where the study has no reference: every vector has the same keys
        entry["reference"] = None
        if first.reference is not None:
            references = {s: v[name].reference for s, v in by_seed.items()}
            entry["reference"] = {
                **against_reference(trained, references, top_k_fraction),
                # how much the reference itself moves between seeds (a random network's
                # init; the true model's background sample and explained points)
                "between_seeds": pairwise(references, top_k_fraction),
            }
        vectors[name] = entry
    return {
        "study": study,
        "seeds": list(metrics_by_seed),
        "top_k_fraction": top_k_fraction,
        "reference": REFERENCES.get(study),
        "vectors": vectors,
        "sanity": read_sanity(study, metrics_by_seed, options),
    }


def _points(ax, y, values, **style):
    defined = [v for v in values if v is not None]
    ax.scatter(defined, [y] * len(defined), **style)


def _numbers(ax, y, stats: dict):
    """The summary over seed pairs as text above the row: mean [min, max], or undefined."""
    if stats["mean"] is None:
        text = "undefined"
    else:
        text = f"{stats['mean']:.2f} [{stats['min']:.2f}, {stats['max']:.2f}]"
    ax.annotate(
        text, xy=(0.99, y + 0.3), xycoords=("axes fraction", "data"), ha="right", fontsize=7
    )


def stability_figure(result: dict):
    """Per vector: Spearman's rho and top-k overlap of every seed pair (dots; bar: mean; text:
    mean [min, max]), each seed against its reference (x) and the reference's own seed pairs
    (grey diamonds), where there is one, and the top-k overlap of random rankings (|)."""
    import matplotlib.pyplot as plt

    names = list(result["vectors"])
    fig, axes = plt.subplots(
        1, 2, figsize=(11, 1.6 + 0.15 * len(result["sanity"]) + 0.55 * len(names)), sharey=True
    )
    for y, name in enumerate(names):
        v = result["vectors"][name]
        for ax, key in zip(axes, ("spearman", "top_k_overlap")):
            values = [p[key] for p in v["per_pair"]]
            if v[key]["mean"] is not None:
                ax.barh(y, v[key]["mean"], color="tab:blue", alpha=0.3)
            _points(ax, y, values, color="tab:blue", s=18, label="seed pairs")
            _numbers(ax, y, v[key])
            if v["reference"] is not None:
                ref = [c[key] for c in v["reference"]["per_seed"].values()]
                _points(ax, y, ref, color="tab:red", marker="x", s=30, label="vs reference")
                ref = [p[key] for p in v["reference"]["between_seeds"]["per_pair"]]
                style = dict(color="grey", marker="D", s=14, label="reference's seed pairs")
                _points(ax, y - 0.25, ref, **style)
        if v["chance_top_k_overlap"] is not None:
            axes[1].scatter(v["chance_top_k_overlap"], y, color="black", marker="|", s=120)
    axes[0].set(xlim=(-1.05, 1.05), xlabel="Spearman's rho between seeds (text: mean [min, max])")
    axes[1].set(xlim=(0, 1.05), xlabel="top-k overlap between seeds (|: random rankings)")
    axes[0].set_yticks(range(len(names)), names)
    axes[0].set_ylim(-0.7, len(names) - 0.35)  # room for the numbers above the top row
    axes[0].axvline(0, color="grey", lw=0.5)
    handles, labels = axes[0].get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    axes[0].legend(unique.values(), unique.keys(), loc="lower left", fontsize=8)
    sanity = [
        f"{key} = {s['mean']:.3g}" for key, s in result["sanity"].items() if s["mean"] is not None
    ]
    seeds = ", ".join(str(s) for s in result["seeds"])
    reference = f"reference: {result['reference']}" if result["reference"] else "no reference"
    lines = [f"{result['study']}: attribution stability over seeds {seeds} ({reference})"]
    lines += ["sanity checks of metrics.json, mean over seeds:", *sanity]
    fig.suptitle("\n".join(lines), fontsize=8)
    fig.tight_layout()
    return fig
