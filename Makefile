# Borgerservice-assistenten. Every target sets up what it needs; see `make help`.
#
# Two environments: .venv (Python 3.12/3.13: gateway, action server, services, CLI, tests)
# and .venv-rasa (Python 3.10: the Rasa server only; training, validation and test stories).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
RASA_VENV := .venv-rasa
RASA_BIN := $(RASA_VENV)/bin
PYTHONS := 3.13 3.12
RASA_PYTHON := 3.10
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONWARNINGS := ignore::DeprecationWarning

.PHONY: help install run shell train test check lint validate test-stories test-rasa eval bench profile clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

# A venv made by another Python (e.g. the 3.10 .venv of earlier versions) is replaced.
$(VENV)/.installed: pyproject.toml scripts/find-python.sh
	@python=$$(scripts/find-python.sh $(PYTHONS)) || exit 1; \
	  if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] not in ((3, 12), (3, 13)))'; then \
	    echo "Replacing $(VENV): it is not Python 3.12/3.13"; rm -rf $(VENV); fi; \
	  [ -x $(PY) ] || { echo "Creating $(VENV) with $$python"; $$python -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m pip check
	@touch $@

$(RASA_VENV)/.installed: requirements-rasa.txt scripts/find-python.sh
	@python=$$(scripts/find-python.sh $(RASA_PYTHON)) || exit 1; \
	  if [ -x $(RASA_BIN)/python ] && ! $(RASA_BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then \
	    echo "Replacing $(RASA_VENV): it is not Python 3.10"; rm -rf $(RASA_VENV); fi; \
	  [ -x $(RASA_BIN)/python ] || { echo "Creating $(RASA_VENV) with $$python"; $$python -m venv $(RASA_VENV); }
	$(RASA_BIN)/python -m pip install --quiet --upgrade pip
	$(RASA_BIN)/python -m pip install --quiet -r requirements-rasa.txt
	$(RASA_BIN)/python -m pip check
	@touch $@

install: $(VENV)/.installed $(RASA_VENV)/.installed ## Create both environments and install the pinned packages

train: install ## Train the Rasa model (only when data, domain or config changed)
	$(PY) -m bot.tools.train

run: train ## Start action server, Rasa and gateway on http://127.0.0.1:8000/
	$(PY) -m bot.tools.runner

shell: train ## Chat with the assistant in the terminal
	$(PY) -m bot.tools.runner --shell

lint: install ## ruff over the Python code
	$(BIN)/ruff check bot actions danish_nlu rasa_sdk_plugins tests tests_rasa scripts

validate: install ## rasa data validate, warnings count as errors
	$(RASA_BIN)/rasa data validate --fail-on-warning --config config.yml --domain domain.yml --data data

test-stories: train ## Test stories; any prediction error fails
	$(RASA_BIN)/rasa test core --model models/borgerservice.tar.gz --stories tests/test_stories.yml \
	  --fail-on-prediction-errors --out var/results

check: lint ## Lint and the fast tests (no live stack, browser, PostgreSQL or slow ones), < 1 min
	$(PY) -m pytest -q -n auto -m "not live and not browser and not postgres and not slow"

test-rasa: install ## The Danish tokenizer inside Rasa's own environment
	$(RASA_BIN)/python -m pytest -q tests_rasa

test: lint validate train ## Everything: lint, data validation, pytest (incl. live and browser tests), test stories
	$(MAKE) --no-print-directory test-rasa
	$(PY) -m pytest
	$(MAKE) --no-print-directory test-stories

eval: train ## NLU hold-out: topic and article accuracy against the trained model
	$(PY) -m bot.tools.evaluate

bench: train ## Latency/throughput through the gateway vs plain Rasa, 1-40 conversations, one and two instances; var/bench/
	$(PY) -m bot.tools.bench --instances 1 2

profile: train ## Where a turn's CPU time goes in each process (py-spy); var/bench/profile-*.txt
	$(PY) -m bot.tools.bench --profile

clean: ## Remove both virtual environments, models and runtime files
	rm -rf $(VENV) $(RASA_VENV) models var results .rasa
