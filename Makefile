# 普陀营商政策助手 — the habits: run, test, eval, bench, lint, train, admin-token.
SHELL := /bin/bash
VENV := .venv
RASA_VENV := .venv-rasa
PY := $(VENV)/bin/python
POLICYBOT := $(VENV)/bin/policybot
EVAL_FILE ?= ../shared/eval/dev.jsonl
VIA ?= matcher
PY_DIRS := policy_db app actions channels privacy rasa_plugins tools tests
PIP_QUIET := 2>&1 | { grep -v "is ignored" || true; }

.PHONY: setup run test test-fast compose-check eval nlu-eval bench lint train db admin-token clean

## setup: both virtual environments (a no-op when their inputs did not change)
setup: $(VENV)/.installed $(RASA_VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements/app.lock
	@PY310=$$(scripts/find-python310.sh) && { [ -x $(VENV)/bin/python ] || $$PY310 -m venv $(VENV); }
	$(VENV)/bin/python -m pip install --quiet --upgrade pip $(PIP_QUIET)
	$(VENV)/bin/python -m pip install --quiet -c requirements/app.lock -e '.[dev]' $(PIP_QUIET)
	@touch $@

$(RASA_VENV)/.installed: requirements/rasa.txt requirements/rasa.lock
	@PY310=$$(scripts/find-python310.sh) && { [ -x $(RASA_VENV)/bin/python ] || $$PY310 -m venv $(RASA_VENV); }
	$(RASA_VENV)/bin/python -m pip install --quiet --upgrade pip $(PIP_QUIET)
	$(RASA_VENV)/bin/python -m pip install --quiet -c requirements/rasa.lock -r requirements/rasa.txt $(PIP_QUIET)
	@touch $@

## db: migrate, seed when empty, export the jieba dictionary
db: $(VENV)/.installed
	$(POLICYBOT) init

## train: train the Rasa model when bot/ or the dictionary changed
train: setup db
	scripts/train-if-changed.sh

## run: everything on the embedded default (SQLite, in-memory trackers): widget + bot + API
run: train
	$(PY) tools/stack.py

## test: the whole suite (unit, SQLite + PostgreSQL, Redis, trained bot end to end)
test: lint train compose-check
	scripts/ensure-services.sh
	scripts/ensure-chromium.sh
	$(VENV)/bin/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

## compose-check: validate docker-compose.yml with .env.example (no Docker engine needed)
compose-check:
	scripts/check-compose.sh

test-fast: setup db
	$(VENV)/bin/pytest -q -m "not bot" $(PYTEST_ARGS)

## nlu-eval: intent quality: 3-fold cross-validation of bot/data, and the held-out border questions
nlu-eval: train
	@mkdir -p var
	cd bot && PYTHONPATH=$(CURDIR) ../$(RASA_VENV)/bin/rasa test nlu --nlu data --config config.yml \
	  --cross-validation --folds 3 --out ../var/nlu-cv > ../var/nlu-cv.log 2>&1 || { tail -40 ../var/nlu-cv.log; exit 1; }
	cd bot && PYTHONPATH=$(CURDIR) ../$(RASA_VENV)/bin/rasa test nlu --nlu ../eval/nlu_border.yml \
	  --model models/policybot.tar.gz --out ../var/nlu-border > ../var/nlu-border.log 2>&1 || { tail -40 ../var/nlu-border.log; exit 1; }
	$(PY) tools/nlu_report.py var/nlu-cv var/nlu-border

## eval: answer quality on EVAL_FILE through the matcher (VIA=matcher) or the bot (VIA=bot)
eval: db
ifeq ($(VIA),bot)
	$(MAKE) train
	$(PY) tools/stack.py --eval $(EVAL_FILE)
else
	$(POLICYBOT) eval $(EVAL_FILE) --via matcher
endif

## bench: search latency vs BM25 (SQLite, PostgreSQL; 100 and 10,000 measures), bot round trips, 50-session load
bench: train
	scripts/ensure-services.sh
	$(PY) tools/bench.py $(BENCH_ARGS)
	$(PY) tools/load.py --start-stack $(LOAD_ARGS)

## lint: ruff (rules and format) over the Python tree, mypy over the app-side packages (pyproject.toml)
lint: setup
	$(VENV)/bin/ruff check $(PY_DIRS)
	$(VENV)/bin/ruff format --check $(PY_DIRS)
	$(VENV)/bin/mypy

admin-token: db
	$(POLICYBOT) admin-token

clean:
	rm -rf var bot/models bot/.rasa
