# xai-repro: one command to reproduce, one to test. Everything runs inside .venv.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
CORES ?= 2
# RUN: a run of config/runs.yaml (make snapshot, make verify, make headline)
RUN ?= default
# every Python file of the project: the package, rule scripts, tests and tools
PY_PATHS := src scripts tests tools
export SDL_VIDEODRIVER := offscreen
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: all venv reproduce reproduce-all reproduce-seeds report test test-fast lint format lock \
	bench clean verify snapshot headline cost

all: reproduce

# The environment: torch first by its exact pin (a CPU wheel on this machine kind),
# then the complete lock with --no-deps, so pip resolves nothing on its own.
$(BIN)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --editable .
	$(BIN)/python -c "import torch, tensorflow, shap, alibi, captum, highway_env, ale_py, snakemake, xai_repro"
	touch $@

venv: $(BIN)/.installed

# The default run of config/runs.yaml (results/default/, results/scorecard.md).
reproduce: venv
	$(BIN)/snakemake --cores $(CORES) $(if $(CONFIG),--configfile $(CONFIG))

# Every laptop-sized run of config/runs.yaml side by side, and one scorecard over them.
reproduce-all: venv
	$(BIN)/snakemake --cores $(CORES) --config runs=laptop

# Every seeds run of config/runs.yaml (each seed under results/<run>/seed<k>/) and the
# scorecard over their seeds; RUNS=duffing_seeds,diffig_seeds builds only those.
reproduce-seeds: venv
	$(BIN)/snakemake --cores $(CORES) --config runs=$(or $(RUNS),seeds)

report: venv
	$(BIN)/snakemake --cores $(CORES) $(if $(CONFIG),--configfile $(CONFIG)) --report report.html

# Compare each finished run that has a snapshot (expected/<run>.json) with it, row by row
# within expected/tolerances.yaml, and print the table; RUN=<run> checks one run.
verify: venv
	$(BIN)/python -m xai_repro.scorecard.snapshot verify $(if $(filter command line,$(origin RUN)),--run $(RUN))

# Write expected/$(RUN).json from a finished run's rows of results/scorecard.json.
snapshot: venv
	$(BIN)/python -m xai_repro.scorecard.snapshot snapshot --run $(RUN)

# The README's headline table, from expected/$(RUN).json (default: the default run).
headline: venv
	$(BIN)/python -m xai_repro.scorecard.snapshot headline --run $(RUN)

# Each run's cost from its rules' resources (core-hours, peak memory, longest job).
cost: venv
	$(BIN)/python -m xai_repro.common.cost --runs $(or $(RUNS),all)

lint: venv
	$(BIN)/ruff check $(PY_PATHS)
	$(BIN)/ruff format --check $(PY_PATHS)
	$(BIN)/snakefmt --check Snakefile rules
	$(BIN)/snakemake --lint

format: venv
	$(BIN)/ruff format $(PY_PATHS)
	$(BIN)/ruff check --fix $(PY_PATHS)
	$(BIN)/snakefmt Snakefile rules

# Lints, unit tests, dry-runs of every config and the test config end to end.
test: lint
	$(BIN)/python -m pytest

# Unit tests only (no end-to-end runs of the workflow).
test-fast: venv
	$(BIN)/python -m pytest -m "not slow"

# Regenerate the lock from the current .venv (after changing requirements.in).
lock:
	$(BIN)/python -m pip freeze --exclude-editable \
		| sed -e 's/^torch==\(.*\)+cpu$$/torch==\1/' | sort -f > requirements.lock

# Benchmarks side by side (not part of `make test`; see docs/benchmarks.md): writes
# benchmarks/results.md, results.json and scaling.png. BENCH_DEFAULT=1 adds the default
# config's rows (+~16 min on 2 idle cores); BENCH_REPEATS=n sets the repeats (default 3);
# BENCH_QUICK=1 shrinks the kernel sizes (a validation run).
bench: venv
	$(BIN)/python -m xai_repro.bench --cores $(CORES) --repeats $(or $(BENCH_REPEATS),3) \
		$(if $(BENCH_DEFAULT),--workflow config/test.yaml config/config.yaml) $(if $(BENCH_QUICK),--quick)

clean:
	rm -rf results logs benchmarks .snakemake report.html

# Also the downloads (resources/): they are fetched again from config/downloads.yaml.
clean-all: clean
	rm -rf resources
