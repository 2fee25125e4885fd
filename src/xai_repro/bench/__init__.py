"""Benchmarks side by side with their baselines; ``python -m xai_repro.bench`` runs them."""
