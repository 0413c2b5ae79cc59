# Two commands set everything up: `make run` and `make test`. Each builds .venv from pinned requirements.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test unit lint web-test fuzz bench package deploy clean token

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

# The data is kept in .local/data across restarts; `make run FRESH=1` starts empty.
run: $(STAMP)
	LAPOR_FRESH=$(FRESH) $(PY) -m chalicelib.local.stack run

# The packaging tests build the Lambda zip with chalice and pip; they run on their own, after the
# parallel suite, so they never compete with the local stacks for the machine's two cores.
test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadgroup tests --deselect tests/integration/test_package.py
	$(PY) -m pytest -q tests/integration/test_package.py

# Browser tests of web/ (issue 9): Debian's Chromium + Playwright; installs what is missing
# (apt-get chromium as root, npm ci). The stack suite runs a stack of its own on free ports.
web-test: $(STAMP)
	bash tests/e2e/web/run.sh all

# A staff token for the running local stack (the web client's local sign-in): ROLE=admin|opd|pimpinan,
# OPD=<code> with ROLE=opd. Uses the project's .venv, so it works from any shell.
ROLE ?= admin
token: $(STAMP)
	@$(PY) -m chalicelib.cli token --role $(ROLE) $(if $(OPD),--opd $(OPD))

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

# schemathesis against a fresh local stack's /openapi.json: 100 cases per operation, anonymously and
# per staff role, every phase (tests/fuzz.py). FUZZ_ARGS="--seed N" reproduces a run.
fuzz: $(STAMP)
	$(PY) -m tests.fuzz --examples 100 $(FUZZ_ARGS)

# Every figure of issue 8 as `name: value` lines (bench/, README "Benchmarks"); ~5 minutes.
bench: $(STAMP)
	$(PY) -m bench $(BENCH_ARGS)

# ruff (ruff.toml) and mypy (mypy.ini: --strict flags on chalicelib/domain, normal mode elsewhere).
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy

# AWS: `make package` builds build/sam.json + build/deployment.zip offline; `make deploy` uploads
# and deploys them (aws CLI, credentials, DEPLOY_BUCKET). See README, Operations.
STAGE ?= dev

package: $(STAMP)
	STAGE=$(STAGE) $(PY) infra/package.py --stage $(STAGE)

deploy: $(STAMP)
	STAGE=$(STAGE) $(PY) infra/package.py --stage $(STAGE) --strict
	STAGE=$(STAGE) infra/deploy.sh

clean:
	rm -rf $(VENV) build .local
