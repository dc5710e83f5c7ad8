# Groundswell: the two commands of a fresh machine are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
BIN := $(VENV)/bin
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

.PHONY: demo test browser lint typecheck unit template sam-build benchmarks clean

$(BIN)/groundswell: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

$(SAM_VENV)/bin/sam:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==1.170.0
	@touch $@

## demo: set up, then run the listening pipeline end to end on embedded emulated AWS (no account)
demo: $(BIN)/groundswell
	$(BIN)/groundswell demo --output out/demo

## test: set up, then lint, type-check, lint the template (also SAM-translated), run the tests, sam build
test: browser lint typecheck template unit sam-build

# headless Chromium renders alert emails in tests/e2e/test_email_screenshot.py (Debian's package)
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

lint: $(BIN)/groundswell
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

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

benchmarks: $(BIN)/groundswell
	$(BIN)/python -m benchmarks.sentiment_benchmark
	$(BIN)/python -m benchmarks.ingest_benchmark
	$(BIN)/python -m benchmarks.cold_start
	$(BIN)/python -m benchmarks.nab_backtest
	$(BIN)/python -m benchmarks.airline_backtest
	$(BIN)/python -m benchmarks.synthetic_benchmark
	$(BIN)/python -m benchmarks.detector_benchmark

clean:
	rm -rf build out .aws-sam .pytest_cache .mypy_cache .ruff_cache
