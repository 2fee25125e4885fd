"""Side-by-side benchmarks of the four studies and the workflow (an aggregator, not a study)."""
