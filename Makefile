# Vitawell triage assistant. `make run` starts it, `make test` proves it.
SHELL := /bin/bash
VENV := .venv
TOOLS := .venv-tools
BIN := $(VENV)/bin
PY := $(BIN)/python
RASA := $(BIN)/rasa
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONUNBUFFERED := 1
export RASA_TELEMETRY_ENABLED := false

TRAINING_INPUTS := config.yml $(shell find domain data -type f -name '*.yml' 2>/dev/null)
MODEL_STAMP := models/.trained
# The clinic's own spaCy pipeline (clinic/nlu/pipeline.py), built from the lexicon in data/lookups/.
SPACY_MODEL := build/spacy-clinic
SPACY_INPUTS := $(wildcard data/lookups/*.yml) clinic/lexicon.py clinic/findings.py clinic/nlu/pipeline.py

.PHONY: help run shell test lint validate train pytest stories eval bench bench-nlu spacy clean lock node audit tools run-scaled \
  system-packages bench-scaled bench-console bench-outbox

# Debian packages (PostgreSQL, Redis, Chromium, nginx...): installed when missing as root, else the command to run.
## system-packages: install the Debian packages the assistant uses (as root), else print the apt-get command
system-packages:
	@scripts/system-packages.sh

## venv: create .venv/ from requirements.lock
venv: $(VENV)/.installed
$(VENV)/.installed: requirements.lock pyproject.toml
	@test -x $(PY) || $$(scripts/find_python310.sh) -m venv $(VENV)
	@test -x $(BIN)/uv || { $(PY) -m ensurepip >/dev/null 2>&1; $(PY) -m pip install -q --disable-pip-version-check uv==0.13.9; }
	$(BIN)/uv pip install -q --python $(PY) -r requirements.lock
	$(BIN)/uv pip install -q --python $(PY) --no-deps -e .
	@touch $@

# The chat widget's socket.io client (package-lock.json), served inside /widget.js; never committed.
## node: install the widget's socket.io client (npm ci)
node: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## lock: recompile requirements.lock from requirements.in
lock:
	$(BIN)/uv pip compile -q --python $(PY) requirements.in -o requirements.lock

## spacy: build the clinic's spaCy pipeline into build/spacy-clinic/
spacy: $(SPACY_MODEL)/meta.json
$(SPACY_MODEL)/meta.json: $(VENV)/.installed $(SPACY_INPUTS)
	$(PY) -m clinic.nlu.pipeline $(SPACY_MODEL)

## train: train the model when data, domain or config changed
train: $(MODEL_STAMP)
$(MODEL_STAMP): $(VENV)/.installed $(SPACY_MODEL)/meta.json $(TRAINING_INPUTS)
	$(RASA) train --domain domain --data data --config config.yml --out models --fixed-model-name clinic
	@touch $@

## run: set up everything, train if needed, start the assistant (Ctrl-C stops it)
run: system-packages train node
	scripts/run.sh

## shell: talk to the bot in the terminal
shell: train
	source scripts/env.sh && $(RASA) run actions --actions actions --port $$ACTION_SERVER_PORT >var/actions.log 2>&1 & \
	  trap "kill $$! 2>/dev/null" EXIT; source scripts/env.sh && \
	  $(RASA) shell --model models/clinic.tar.gz --endpoints endpoints.yml

## lint: ruff, then mypy (strict) on clinic/ and actions/ ([tool.mypy] in pyproject.toml)
lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy

## validate: rasa data validate (warnings fail)
validate: venv spacy
	$(RASA) data validate --domain domain --data data --config config.yml --fail-on-warnings

## pytest: unit + integration tests
pytest: system-packages train node
	$(BIN)/pytest -q

## stories: dialogue tests (tests/test_stories.yml)
stories: train
	$(RASA) test core --model models/clinic.tar.gz --stories tests/test_stories.yml \
	  --fail-on-prediction-errors --out results/stories

## test: set up everything, then lint, validate, audit, unit + integration tests, dialogue tests
test: system-packages lint validate audit pytest stories

# Developer tools in their own venv (pip-audit's pins conflict with Rasa's): pip-audit, py-spy.
## tools: developer tools in .venv-tools/ (pip-audit, py-spy)
tools: $(TOOLS)/.installed
$(TOOLS)/.installed: requirements-tools.lock $(VENV)/.installed
	@test -x $(TOOLS)/bin/python || $(BIN)/uv venv -q --python "$$(scripts/find_python310.sh)" $(TOOLS)
	$(BIN)/uv pip install -q --python $(TOOLS)/bin/python -r requirements-tools.lock
	@touch $@

## audit: pip-audit of requirements.lock
audit: tools
	$(PY) scripts/audit.py

# Several Rasa servers sharing PostgreSQL (tracker store, clinic database) and Redis (lock store).
## run-scaled: several Rasa servers behind nginx, PostgreSQL + Redis
run-scaled: system-packages train node
	scripts/run-scaled.sh

# Load benchmark against a stock `rasa init` assistant (not part of `make test`): results/bench.json.
## bench: load benchmark against a stock rasa init assistant: results/bench.json
bench: system-packages train
	$(PY) scripts/bench.py

# The scale-out profile through nginx, 1 then 2 Rasa servers (not part of `make test`): results/bench-scaled.json.
## bench-scaled: the scale-out profile, 1 then 2 Rasa servers: results/bench-scaled.json
bench-scaled: system-packages train node
	$(PY) scripts/bench_scaled.py

# NLU measurements (not part of `make test`): 5-fold cross-validation on data/, the held-out files
# tests/nlu_holdout.yml and tests/independent/*/nlu.yml (reports + confusion matrix in results/), a printed
# summary table; then the independent conversations replayed against real servers (results/conversations.json).
## eval: NLU cross-validation, held-out files, independent conversations: results/
eval: train
	$(RASA) test nlu --nlu data --config config.yml --cross-validation --folds 5 --out results/cv
	$(RASA) test nlu --model models/clinic.tar.gz --nlu tests/nlu_holdout.yml --out results/holdout
	$(PY) -m clinic.nlu.evaluate --results results
	$(PY) -m tests.integration.replay --results results

# The outbox under racing and dying workers (not part of `make test`): messages sent, duplicates, lost;
# results/bench-outbox.json.
## bench-outbox: the outbox under racing and dying workers: results/bench-outbox.json
bench-outbox: system-packages venv
	$(PY) scripts/bench_outbox.py

# Parse latency p50/p95 per message (in-process) and NLU training time from scratch.
## bench-nlu: parse latency p50/p95 and NLU training time
bench-nlu: train
	$(PY) -m clinic.nlu.bench --train

## clean: remove models, results, var and build
clean:
	rm -rf models results var build

# The staff console at 20,000 conversations (not part of `make test`): p50/p95 per page, results/bench-console.json.
# BENCH_CONSOLE_POSTGRES=1 runs it on a private PostgreSQL server.
## bench-console: the staff console at 20,000 conversations: results/bench-console.json
bench-console: venv
	$(PY) scripts/bench_console.py

# Every target with a `## target: description` line above it (bare `make` still installs system packages).
## help: list these targets
help:
	@sed -n 's/^## \([a-z-]*\): /\1\t/p' $(MAKEFILE_LIST) | awk -F'\t' '{printf "make %-16s %s\n", $$1, $$2}'
