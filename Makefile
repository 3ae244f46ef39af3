# Two commands matter: `make run` and `make test`. The rest are their parts.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
# The PostgreSQL the test suite also runs against (a unix socket, so it stays
# reachable inside the tests' loopback-only network namespace).
PG_TEST_URL ?= postgres://%2Fvar%2Frun%2Fpostgresql/meet

.PHONY: run test install install-dev sysdeps lint typecheck jstest pytest pytest-postgres messages bench clean

run: $(VENV)/.runtime
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.dev sysdeps lint typecheck jstest pytest pytest-postgres

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt node_modules/.package-lock.json bench/node/node_modules/.package-lock.json | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# The JavaScript tools (type checker, linter, axe-core for the browser tests),
# pinned in package-lock.json.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# The Socket.IO relay the signaling benchmark compares against; its smoke test
# runs inside the network namespace, where npm cannot fetch.
bench/node/node_modules/.package-lock.json: bench/node/package-lock.json
	cd bench/node && npm ci --no-audit --no-fund --loglevel=error

# Chromium, coturn and redis-server for the browser, TURN and multi-process tests.
sysdeps:
	@tests/sysdeps.sh

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	npm run --silent lint

typecheck: $(VENV)/.dev
	$(VENV)/bin/mypy .
	npm run --silent typecheck

# Unit tests of the call page's DOM-free modules (no browser).
jstest: $(VENV)/.dev
	npm test --silent

# The whole suite runs inside a loopback-only network namespace: nothing a
# test starts (daphne, Redis, coturn, Chromium and its WebRTC) can reach out.
pytest: $(VENV)/.dev
	tests/isolated.sh $(PY) -m pytest $(PYTEST_ARGS)

# Everything that touches the database again, on PostgreSQL.
pytest-postgres: $(VENV)/.dev
	$(PY) tests/postgres_ready.py "$(PG_TEST_URL)"
	DATABASE_URL="$(PG_TEST_URL)" tests/isolated.sh $(PY) -m pytest -m "not browser" -q $(PYTEST_ARGS)

# Rebuild the translation catalogs after changing user-facing text (needs gettext).
messages: $(VENV)/.dev
	DEBUG=1 $(PY) manage.py makemessages -l ko --ignore=.venv --ignore=bench --ignore=tests
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) node_modules test-artifacts .pytest_cache .mypy_cache .ruff_cache staticfiles
