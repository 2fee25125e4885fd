"""``python -m xai_repro.bench``: xai_repro.bench.run.main."""

from xai_repro.bench.run import main

if __name__ == "__main__":  # not in the kernel groups' spawned processes
    main()
