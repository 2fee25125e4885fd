"""Attribution stability and training curves over training seeds (an aggregator: it imports
only common).

``measures``: rank correlation and top-k overlap of two vectors, pairwise over seeds;
``readers``: each study's attribution outputs, read by path, as named vectors; ``measure``:
one study's stability beside its metrics.json sanity checks, and its figure; ``histories``:
each study's training history files, read by path, as curves; ``curves``: every seed's
curves of a study, the band over seeds, and their figure.
"""

from xai_repro.stability.curves import band, training_curves, training_figure
from xai_repro.stability.measure import measure, stability_figure
from xai_repro.stability.measures import pairwise, rank_correlation, top_k_overlap

__all__ = [
    "band",
    "measure",
    "pairwise",
    "rank_correlation",
    "stability_figure",
    "top_k_overlap",
    "training_curves",
    "training_figure",
]
