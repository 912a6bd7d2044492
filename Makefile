# Borgerservice-assistenten. Every target sets up what it needs; see `make help`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 3
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONWARNINGS := ignore::DeprecationWarning

.PHONY: help install run shell train test lint validate test-stories eval bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@python=$$(scripts/find-python310.sh) || exit 1; \
	  echo "Using $$python"; \
	  [ -x $(PY) ] || $$python -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m pip check
	@touch $@

install: $(VENV)/.installed ## Create .venv with Python 3.10 and install the pinned packages

train: install ## Train the Rasa model (only when data, domain or config changed)
	$(PY) -m bot.tools.train

run: train ## Start action server, Rasa and gateway on http://127.0.0.1:8000/
	$(PY) -m bot.tools.runner

shell: train ## Chat with the assistant in the terminal
	$(PY) -m bot.tools.runner --shell

lint: install ## ruff over the Python code
	$(BIN)/ruff check bot actions danish_nlu tests

validate: install ## rasa data validate, warnings count as errors
	$(BIN)/rasa data validate --fail-on-warning --config config.yml --domain domain.yml --data data

test-stories: train ## Test stories; any prediction error fails
	$(BIN)/rasa test core --model models/borgerservice.tar.gz --stories tests/test_stories.yml \
	  --fail-on-prediction-errors --out var/results

test: lint validate train ## Everything: lint, data validation, pytest (incl. live and browser tests), test stories
	$(PY) -m pytest
	$(MAKE) --no-print-directory test-stories

eval: train ## NLU hold-out: topic and article accuracy against the trained model
	$(PY) -m bot.tools.evaluate

bench: train ## Latency and throughput of chat turns through the gateway
	$(PY) -m bot.tools.bench

clean: ## Remove the virtual environment, models and runtime files
	rm -rf $(VENV) models var results .rasa
