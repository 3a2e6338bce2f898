# fleetops.ecs_anywhere developer entry points. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
# The working tree is exposed as fleetops.ecs_anywhere through a link in this path.
COLLECTIONS_ROOT := $(VENV)/collections
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS_ROOT)
export PATH := $(BIN):$(PATH)
HOSTS ?= 3

.PHONY: help host-deps venv sanity lint docs unit build test demo lab-up lab-down

help:
	@echo "make demo   - bring up the lab and roll ECS Anywhere out on it"
	@echo "make test   - everything CI runs (sanity, lint, unit, lab suites)"
	@echo "make venv | sanity | lint | docs | unit | build | lab-up HOSTS=N | lab-down"

$(BIN)/activate: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements-dev.txt
	mkdir -p $(COLLECTIONS_ROOT)/ansible_collections/fleetops
	ln -sfn $(CURDIR) $(COLLECTIONS_ROOT)/ansible_collections/fleetops/ecs_anywhere
	touch $@

venv: $(BIN)/activate

host-deps:
	hack/host-deps.sh

sanity: venv
	hack/sanity.sh

lint: venv
	$(BIN)/ansible-lint --profile production
	$(BIN)/antsibull-changelog lint
	$(BIN)/python hack/role-docs.py --check

# docs/roles/*.md from each role's meta/argument_specs.yml.
docs: venv
	$(BIN)/python hack/role-docs.py

unit: venv
	$(BIN)/pytest tests/unit

build: venv
	hack/check-build.sh

# pytest runs last so that CI's output ends with its summary line. Two xdist workers: the fleet suites in two
# lanes, each on its own lab, and the other tests wherever a worker is free (tests/conftest.py).
# sanity, lint and build are independent: they run side by side, each one's output kept together.
test: host-deps venv
	$(MAKE) -j3 --output-sync=target sanity lint build
	$(BIN)/pytest -n 2 --no-loadscope-reorder --durations=25 tests/unit $(wildcard tests/lab)

demo: venv host-deps
	$(BIN)/python -m lab demo --hosts 3

lab-up: venv
	$(BIN)/python -m lab up --hosts $(HOSTS)

lab-down: venv
	$(BIN)/python -m lab down
