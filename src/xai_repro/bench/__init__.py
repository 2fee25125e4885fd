"""Benchmarks: the studies' kernels (one module per study, ``measure``) and the workflow
itself, side by side with their baselines; ``python -m xai_repro.bench`` runs them all."""
