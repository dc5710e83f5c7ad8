# Groundswell: the two commands of a fresh machine are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
BIN := $(VENV)/bin
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

STACK ?= groundswell-dev
SAM := $(SAM_VENV)/bin/sam

.PHONY: demo test browser lint typecheck unit template sam-build benchmarks clean deploy sync logs delete audit

$(BIN)/groundswell: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

$(SAM_VENV)/bin/sam:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==1.170.0
	@touch $@

## audit: the pinned dependencies of the layer and of every function against known vulnerabilities (pip-audit;
# needs its vulnerability service, so it runs where there is internet: .github/workflows/audit.yml, weekly)
AUDITED := shared/requirements.txt $(wildcard functions/*/requirements.txt)
audit: $(BIN)/groundswell
	$(BIN)/pip install --quiet 'pip-audit==2.10.1'
	$(BIN)/pip-audit --strict --no-deps --disable-pip --progress-spinner off $(addprefix -r ,$(AUDITED))

## demo: set up, then run the listening pipeline end to end on embedded emulated AWS (no account)
demo: $(BIN)/groundswell
	$(BIN)/groundswell demo --output out/demo

## test: set up, then lint, type-check, lint the template (also SAM-translated), sam build, run the tests
# (sam build first: a test checks that the layer it ships is laid out as the tests lay it out)
test: lint typecheck template sam-build unit

# headless Chromium renders alert emails in tests/e2e/test_email_screenshot.py; without it that test is
# skipped (CI installs it in .ci/run). On Debian/Ubuntu, as root: make browser
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

## deploy: build and deploy to your AWS account (guided the first time; samconfig.toml keeps the answers)
deploy: $(SAM_VENV)/bin/sam
	$(SAM) build
	$(SAM) deploy --guided --stack-name $(STACK)

## sync: push code changes to a dev stack as you save (sam sync --watch)
sync: $(SAM_VENV)/bin/sam
	$(SAM) sync --stack-name $(STACK) --watch

## logs: follow every function's logs of the stack
logs: $(SAM_VENV)/bin/sam
	$(SAM) logs --stack-name $(STACK) --tail

## delete: delete the stack (the table is retained: DeletionPolicy Retain)
delete: $(SAM_VENV)/bin/sam
	$(SAM) delete --stack-name $(STACK)

lint: $(BIN)/groundswell
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m infra.requirements --check

typecheck: $(BIN)/groundswell
	$(BIN)/mypy shared functions infra benchmarks

unit: $(BIN)/groundswell
	$(BIN)/pytest

template: $(BIN)/groundswell $(SAM_VENV)/bin/sam
	$(BIN)/cfn-lint template.yaml
	@mkdir -p build
	$(SAM_VENV)/bin/python infra/sam_translate.py template.yaml > build/template.cfn.json
	# W1020: SAM resolves parameter defaults into Fn::Sub, leaving subs without variables
	$(BIN)/cfn-lint --ignore-checks W1020 -- build/template.cfn.json

sam-build: $(SAM_VENV)/bin/sam
	$(SAM_VENV)/bin/sam build --template-file template.yaml --build-dir build/sam

## benchmarks: print every figure the docs quote (about 25 minutes; docs/benchmarks.md lists them)
benchmarks: $(BIN)/groundswell
	$(BIN)/python -m benchmarks.sentiment_benchmark
	$(BIN)/python -m benchmarks.ingest_benchmark
	$(BIN)/python -m benchmarks.viral_burst
	$(BIN)/python -m benchmarks.cold_start
	$(BIN)/python -m benchmarks.nab_backtest
	$(BIN)/python -m benchmarks.synthetic_benchmark
	$(BIN)/python -m benchmarks.airline_backtest
	$(BIN)/python -m benchmarks.peer_benchmark
	$(BIN)/python -m benchmarks.backfill_benchmark
	$(BIN)/python -m benchmarks.drivers_benchmark
	$(BIN)/python -m benchmarks.detector_benchmark
	$(BIN)/python -m benchmarks.cost_model
	$(BIN)/python -m benchmarks.airline_replay

clean:
	rm -rf build out .aws-sam .pytest_cache .mypy_cache .ruff_cache
