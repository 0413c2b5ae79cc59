# Two commands set everything up: `make run` and `make test`. Each builds .venv from pinned requirements.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# checkov's pins clash with the project's: it lives in a virtualenv of its own (requirements-tools.txt).
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed

.PHONY: run test unit lint web-test fuzz bench package deploy clean venv tools token

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

$(TOOLS_STAMP): requirements-tools.txt
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install -q -r requirements-tools.txt
	touch $(TOOLS_STAMP)

venv: $(STAMP)

tools: $(TOOLS_STAMP)

# The data is kept in .local/data across restarts; `make run FRESH=1` starts empty.
run: $(STAMP)
	LAPOR_FRESH=$(FRESH) $(PY) -m chalicelib.local.stack run

# The packaging tests build the Lambda zip with chalice and pip; they run on their own, after the
# parallel suite, so they never compete with the local stacks for the machine's two cores.
# The parallel suite records every AWS call per function (tests/aws_calls.py, build/aws-calls/);
# test_package.py then checks them against each function's policy in the packaged template.
test: $(STAMP)
	rm -rf build/aws-calls
	RECORD_AWS_CALLS=1 $(PY) -m pytest -q -n 2 --dist loadgroup tests --deselect tests/integration/test_package.py
	mkdir -p build/aws-calls && touch build/aws-calls/complete
	$(PY) -m pytest -q tests/integration/test_package.py

# Browser tests of web/: Debian's Chromium + Playwright; installs what is missing
# (apt-get chromium as root, npm ci). The stack suite runs a stack of its own on free ports.
web-test: $(STAMP)
	bash tests/e2e/web/run.sh all

# A staff token for the running local stack (the web client's local sign-in): ROLE=admin|opd|opd_admin|pimpinan,
# OPD=<code> with ROLE=opd or opd_admin. Uses the project's .venv, so it works from any shell.
ROLE ?= admin
token: $(STAMP)
	@$(PY) -m chalicelib.cli token --role $(ROLE) $(if $(OPD),--opd $(OPD))

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

# schemathesis against a fresh local stack's /openapi.json: 100 cases per operation, anonymously and
# per staff role, every phase (tests/fuzz.py). FUZZ_ARGS="--seed N" reproduces a run.
fuzz: $(STAMP)
	$(PY) -m tests.fuzz --examples 100 $(FUZZ_ARGS)

# Every figure as `name: value` lines (bench/, README "Benchmarks"); ~5 minutes.
bench: $(STAMP)
	$(PY) -m bench $(BENCH_ARGS)

# ruff (ruff.toml) and mypy (mypy.ini: --strict flags on chalicelib/domain, normal mode elsewhere),
# then the field's scanners (infra/scanners.py): checkov and cfn-lint with the serverless rules on
# the packaged template (so lint packages first: build/ is not committed), bandit on the code.
# Accepted findings and their reasons: infra/scanners.yaml.
lint: $(STAMP) $(TOOLS_STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy
	STAGE=$(STAGE) $(PY) infra/package.py --stage $(STAGE)
	$(PY) infra/scanners.py --template build/sam.json

# AWS: `make package` builds build/sam.json + build/deployment.zip offline; `make deploy` uploads
# and deploys them (aws CLI, credentials, DEPLOY_BUCKET). See README, Operations.
STAGE ?= dev

package: $(STAMP)
	STAGE=$(STAGE) $(PY) infra/package.py --stage $(STAGE)

deploy: $(STAMP)
	STAGE=$(STAGE) $(PY) infra/package.py --stage $(STAGE) --strict
	STAGE=$(STAGE) infra/deploy.sh

clean:
	rm -rf $(VENV) $(TOOLS) build .local
