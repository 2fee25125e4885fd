"""A bench group module for tests/test_bench_rule.py: its rows say what config section and
results the child process saw; "fail" in the section makes it raise. It lives in tests/,
which pytest puts on the path, so the spawned children import it by name."""

from xai_repro.bench.report import make_curve, make_row


def measure(cfg, results, repeats, quick):
    if cfg.get("fail"):
        raise ValueError("planted failure")
    seen = f"seed {cfg['seed']} results {results} quick {quick}"
    row = make_row("fake." + str(cfg["seed"]), "a fake row", "s", ("x", [1.0]), notes=seen)
    curve = make_curve("fake.curve", "fake", "n", {1: [0.1] * repeats, 10: [1.0] * repeats})
    return {"rows": [row], "curves": [curve]}
