# Linli — two commands: `make run` and `make test`. Everything else is set up on the way.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT
MANAGE := $(PY) manage.py
# Apps with their own translation catalogue (app/locale/); the rest goes to locale/.
APPS := stations privacy notifications registration inquiries workspace wechat

.PHONY: run test setup venv messages compilemessages check-messages lint format migrate seed clean help fuzz bench drill drill-nodes mrz-corpus system-packages

help:
	@echo "make run   - set up everything and serve Linli on http://127.0.0.1:$(PORT) with its worker and beat"
	@echo "make test  - set up and run the whole test suite, linters and migration checks"

$(VENV)/.python:
	@PYTHON_BIN=$$(PYTHON="$(PYTHON)" bin/find-python) || exit 1; \
	  echo "Creating $(VENV) with $$PYTHON_BIN"; \
	  "$$PYTHON_BIN" -m venv $(VENV) && echo "$$PYTHON_BIN" > $@

$(VENV)/.installed: $(VENV)/.python requirements.txt requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed

compilemessages: venv
	@$(MANAGE) compilemessages --ignore=$(VENV) --ignore=node_modules --ignore=var -v 0

# Extract strings into every catalogue (maintainers; translations are committed).
messages: venv
	@$(VENV)/bin/django-admin makemessages --all --no-location --no-obsolete \
	  --ignore="$(VENV)/*" --ignore="tests/*" --ignore="var/*" --ignore="deploy/*" \
	  $(foreach app,$(APPS),--ignore="$(app)/*")
	@for app in $(APPS); do for lang in $$(ls locale); do mkdir -p $$app/locale/$$lang/LC_MESSAGES; done; \
	  (cd $$app && ../$(VENV)/bin/django-admin makemessages --all \
	  --no-location --no-obsolete --ignore="migrations/*") || exit 1; done
	@$(MAKE) --no-print-directory check-messages

# Every catalogue complete: no untranslated and no fuzzy entry.
check-messages:
	@status=0; for po in locale/*/LC_MESSAGES/*.po $(foreach app,$(APPS),$(app)/locale/*/LC_MESSAGES/*.po); do \
	  [ -f "$$po" ] || continue; \
	  stats=$$(msgfmt --statistics -o /dev/null "$$po" 2>&1); \
	  case "$$stats" in *untranslated*|*fuzzy*) echo "$$po: $$stats"; status=1;; esac; \
	done; exit $$status

migrate: venv
	@mkdir -p var
	@$(MANAGE) migrate --no-input -v 0

seed: migrate
	@$(MANAGE) seed_demo
	@$(MANAGE) seed_demo_registrations

setup: venv compilemessages migrate

# Links printed by the demo data and sent in demo emails point at this server.
run seed: export SITE_URL ?= http://127.0.0.1:$(PORT)

run: setup seed
	@echo ""
	@echo "  Linli is starting on http://127.0.0.1:$(PORT)/  (admin: http://127.0.0.1:$(PORT)/admin/)"
	@echo "  Log into the admin as 'admin' with the password printed above on the first run,"
	@echo "  or set one with: $(MANAGE) changepassword admin"
	@echo ""
	@$(VENV)/bin/honcho start -f Procfile

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: venv compilemessages check-messages
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(MANAGE) makemigrations --check --dry-run -v 1
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Benchmark and load test on PostgreSQL + Redis + gunicorn (bench/README.md); prints one
# table of ratios. BENCH_ARGS="--quick" for a short check, "--no-load" without the load test.
bench: venv compilemessages
	$(PY) bench/run.py $(BENCH_ARGS)

# Fault drills on the production settings with their own PostgreSQL database and redis-server
# (bench/README.md, "Fault drills"): one table of what residents would notice; fails when a
# goal is missed. DRILL_ARGS="--short" for the under-two-minutes form, "--report-only" to
# print without failing, "--soak-minutes 30" for the `make run` soak.
drill: venv compilemessages
	$(PY) bench/drill.py $(DRILL_ARGS)

# Two nodes that can lose one (bench/README.md, "Two nodes"): two network namespaces as hosts,
# each with gunicorn + a worker, one PostgreSQL, one Redis, S3 (moto) for private documents;
# a web node SIGKILLed, a worker kill -9, Redis restarted under load. Needs root (ip netns).
# DRILL_NODES_ARGS="--short" for the under-two-minutes form.
drill-nodes: venv compilemessages
	$(PY) bench/drill_nodes.py $(DRILL_NODES_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

# Hypothesis fuzzing of every public form (registration, update, lost link, help request,
# reply, check-in answer): LINLI_FUZZ_EXAMPLES cases per test, over 10,000 in all.
FUZZ_EXAMPLES ?= 1500
fuzz: venv compilemessages
	@echo "Fuzzing 7 public-form tests with $(FUZZ_EXAMPLES) generated cases each"
	LINLI_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/pytest -q \
	  tests/registration/test_fuzz.py tests/inquiries/test_fuzz.py

# Debian packages the tests need (chromium, tesseract, the OCR-B font): bin/install-system-packages.
system-packages:
	bin/install-system-packages

# Read the whole generated passport corpus (MRZ_CORPUS_COUNT pages from MRZ_CORPUS_SEED) and
# print the share read fully, the wrong values filled (must be 0) and the time per page.
MRZ_CORPUS_COUNT ?= 240
MRZ_CORPUS_SEED ?= 20261129
mrz-corpus: venv
	$(PY) bench/mrz_corpus.py --count $(MRZ_CORPUS_COUNT) --seed $(MRZ_CORPUS_SEED)
