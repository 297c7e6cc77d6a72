# Everything a fresh machine needs is installed by the `venv` target.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROTOS := $(wildcard protos/llmops/v1/*.proto)
GEN_OUT := clients/python/src
PROTOC = $(BIN)/python -m grpc_tools.protoc -I protos

.PHONY: venv gen gen-check api-baseline lint run test test-faults tools node-deps demo

venv: $(STAMP)

# torch first and alone: `torch==2.13.0` resolves to the CPU build here, while
# letting pip pick it among the lock's other pins can pull the CUDA wheels.
$(STAMP): requirements.lock pyproject.toml clients/python/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e clients/python -e .
	touch $@

gen: $(STAMP)
	$(PROTOC) --python_out=$(GEN_OUT) --grpc_python_out=$(GEN_OUT) --pyi_out=$(GEN_OUT) $(PROTOS)

# Regenerate into a scratch folder and fail if the committed code differs.
gen-check: $(STAMP)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PROTOC) --python_out=$$tmp --grpc_python_out=$$tmp --pyi_out=$$tmp $(PROTOS) && \
	diff -r -x __init__.py -x __pycache__ -x '*.typed' $$tmp/llmops/v1 $(GEN_OUT)/llmops/v1 && \
	echo "generated code is up to date"

# The released API that `buf breaking` (tests/unit/test_api_contract.py) compares with.
# Refresh only for a deliberate, announced change.
api-baseline: $(STAMP)
	$(BIN)/buf build --exclude-source-info -o api/llmops-v1.image.json

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/buf lint

run: $(STAMP)
	$(BIN)/python -m services.run

# The suite watching a few thousand calls through the wrapped openai SDK, then a report.
demo: $(STAMP)
	$(BIN)/python bench/demo.py

# System tools pip cannot install: promtool and prometheus (tests/deploy, tests/e2e), and
# Go with the protoc plugins and grpc-go sources (tests/e2e/test_go_client.py).
tools:
	bash scripts/install-tools.sh

# The Node client's dependencies, exactly as locked (tests/e2e/test_node_client.py runs them).
NODE_DIR := clients/node
node-deps: $(NODE_DIR)/node_modules/.package-lock.json

$(NODE_DIR)/node_modules/.package-lock.json: $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund

test: $(STAMP) tools node-deps
	$(MAKE) gen-check
	$(BIN)/pytest tests -q -m "not faults"

# The slow fault-injection and fuzzing suite (tests/faults, marker "faults"); CI runs it too.
test-faults: $(STAMP) tools
	$(BIN)/pytest tests -q -m faults
