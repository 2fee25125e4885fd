"""``python -m xai_repro.bench``: xai_repro.bench.run.main."""

from xai_repro.bench.run import main

main()
