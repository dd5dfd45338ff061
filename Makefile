# DeclineDesk — `make run` serves the app, `make test` runs every test. Python 3.11+ needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed-$(shell cksum requirements/lock.txt | cut -d' ' -f1)

.PHONY: install run test browser redis-server screenshots lint format messages bench soak mutate clean

install: $(STAMP)

$(STAMP): requirements/lock.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/lock.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

run: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo
	DEBUG=$${DEBUG:-1} SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} $(PY) manage.py run_all 127.0.0.1:$(PORT)

test: install browser redis-server
	$(PY) -m pytest $(PYTEST_ARGS)

# The browser tests (tests/e2e/) need Debian's Chromium, and screenshots a CJK font: installed
# with apt-get when missing and running as root, otherwise one line says what to install.
# Playwright never downloads a browser.
browser: install
	@bash .ci/ensure-system-packages chromium cjk-font

# The Redis fault test (tests/foundation/test_redis_faults.py) and `make soak` start a real
# redis-server of their own: Debian's package, installed the same way when missing.
redis-server:
	@bash .ci/ensure-system-packages redis

# PNGs of the main screens at phone and desktop size into docs/screenshots/ (shown in the
# README); makes sure a CJK font is installed first, or Chinese would render as boxes.
screenshots: install browser
	$(PY) -m pytest -q -p no:cacheprovider tests/e2e/screenshots.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Load the real stack (PostgreSQL, gunicorn, production settings) with 1,000,000 tickets and
# measure every page with wrk; writes bench/results.json and appends to bench/RESULTS.md.
bench: install
	$(PY) bench/run.py

# The production stack under a mixed load with faults on a schedule (kill -9 a worker, Redis
# paused and unreachable, PostgreSQL restarted, a connection burst), on a PostgreSQL cluster and
# a redis-server of its own; ~8 minutes at full scale. Appends to bench/RESULTS.md. Scale with
# SOAK_TICKETS, SOAK_ARTICLES, SOAK_PHASE_SECONDS, SOAK_CLIENTS… (bench/soak.py).
soak: install redis-server
	$(PY) bench/soak.py

# Mutation testing of the core-rule modules (cosmic-ray; slow, not part of `make test`): prints
# killed/survived/equivalent per module and writes bench/MUTATION.md. MUTATE_ONLY=cards,sla
# picks modules, MUTATE_SAMPLE=80 samples mutants, MUTATE_JOBS=2 runs modules side by side.
mutate: install
	$(PY) bench/mutate.py

# Re-extract and compile translations (needs GNU gettext; the compiled .mo files are committed).
messages: install
	DEBUG=1 $(PY) manage.py makemessages -l en -l zh_Hans --no-obsolete --ignore=.venv --ignore=tests
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) .pytest_cache staticfiles
