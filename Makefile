# KongfuMall: every target installs what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: run test unit venv up down status demo bench bench-floor bench-compare chaos contracts clean k8s tools

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

venv: $(STAMP)

## The embedded default: all services in one process, SQLite under var/, on http://127.0.0.1:8000
run: venv
	$(BIN)/kongfu run --fake-providers

## Everything: starts Kafka and PostgreSQL, runs unit, contract, integration and e2e tests, stops both
test: venv tools
	@bash -c 'trap "deploy/local/stack.sh down" EXIT; deploy/local/stack.sh up && $(BIN)/pytest $(PYTEST_ARGS)'

## Only the tests that need neither Kafka nor PostgreSQL
unit: venv tools
	$(BIN)/pytest tests/unit tests/contract $(PYTEST_ARGS)

## Local stack for development: Kafka + PostgreSQL, then each service as its own process
up: venv
	deploy/local/stack.sh up
	deploy/local/services.sh start

down:
	-deploy/local/services.sh stop
	deploy/local/stack.sh down

status:
	deploy/local/stack.sh status
	deploy/local/services.sh status

## Against a running platform (make run, or make up with STACK=1): one order through every step
demo: venv
	$(BIN)/python -m kongfu.demo $(if $(STACK),--stack,)

## On the local stack: CPU per lifecycle per process (idle subtracted), rates, latency, baselines, replay, embedded (docs/performance.md; make down stops it)
bench: venv
	deploy/local/stack.sh up
	$(BIN)/python -m kongfu.bench $(BENCH_ARGS)

## On the local stack: what a lifecycle's operations (requests, transactions, hops) cost at their least, against the platform's CPU
bench-floor: venv
	deploy/local/stack.sh up
	$(BIN)/python -m kongfu.bench_floor $(BENCH_ARGS)

## On the local stack: this checkout's bench against another revision's, in turns (make bench-compare BASE=<revision>),
## or both driven at once, services' CPU only (BENCH_ARGS=--side-by-side)
bench-compare: venv
	deploy/local/stack.sh up
	$(BIN)/python -m kongfu.bench_compare --base $(BASE) $(BENCH_ARGS)

## On the local stack: lifecycles under a fault schedule, then the verdict table (make chaos CHAOS_ARGS="--lifecycles 10000")
chaos: venv
	deploy/local/stack.sh up
	$(BIN)/kongfu chaos $(CHAOS_ARGS)

## Cluster manifests that follow the code (topics, ACLs, Deployments per role, Ingress, alerts)
k8s: venv
	$(BIN)/kongfu k8s generate

## kustomize, promtool and the Strimzi CRD validators for the deploy/k8s checks (tests/tools.sh)
tools:
	tests/tools.sh

contracts: venv
	$(BIN)/kongfu contracts export
	$(BIN)/kongfu contracts check

clean: down
	rm -rf var
