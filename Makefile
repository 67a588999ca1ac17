# Template repository tasks. Needs Python 3.11; uv is installed with pip if missing.
SHELL := /bin/bash
export KEDRO_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")

.PHONY: uv test-deps demo test test-fast lint sample-data clean bench

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

## uv, Chromium and ChromeDriver for the full suite (apt-get for what is missing).
test-deps:
	@bash tools/install-test-deps.sh

## Render the template with its defaults into build/demo, install it and run the whole pipeline.
demo: uv
	$(UV) run --quiet python tools/demo.py

## All tests: render every option combination, install and run the default project, run its tests.
test: test-deps
	$(UV) run pytest

## Fast tests only (render, parse, lint, refused answers): a few seconds.
test-fast: uv
	$(UV) run pytest -m "not slow"

## Lint the template's own code (the generated project's code is linted by the tests, rendered:
## ruff reads every pyproject.toml below a path, and the template's holds Jinja).
lint: uv
	$(UV) run ruff check hooks tools tests && $(UV) run ruff format --check hooks tools tests

## Speed and scale: run the default pipeline on 10k, 100k and 1M generated applicants (~10 min on 2 cores);
## results in build/bench/results (`$(UV) run python tools/bench.py --publish` writes docs/bench);
## then the default run of each problem type at 10k rows, side by side (tools/bench_problem_types.py),
## then the served model against the bare model, side by side (tools/bench_serving.py).
## `make bench ENGINE=spark`: the Spark environment at 1M and 10M rows against pandas at 1M
## (tools/bench_spark.py; needs Java 17; results in build/bench/spark).
bench: uv
	$(UV) run python tools/bench.py $(if $(ENGINE),--engine $(ENGINE))
	$(if $(ENGINE),,$(UV) run python tools/bench_problem_types.py --reuse)
	$(if $(ENGINE),,$(UV) run python tools/bench_serving.py)

## Recreate the bundled sample data and the scoring batches from their seeds.
sample-data: uv
	$(UV) run python tools/generate_sample_data.py
	$(UV) run python tools/generate_sample_data.py --shipped-batches

clean:
	rm -rf build .pytest_cache
