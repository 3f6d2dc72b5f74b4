# Quick start: `make run` then `make test`. Needs only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export DEBUG ?= 1

.PHONY: run test install lint migrate clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/.installed

migrate: install
	$(BIN)/python manage.py migrate --no-input

# Web server and one Celery worker for both queues (scorecards and reports), then the address
# and the demo logins, last. Ctrl-C, or a SIGTERM to make or to run_demo, stops them all.
run: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py compute_scorecards
	$(BIN)/python manage.py run_demo --host $(HOST) --port $(PORT)

# Tests keep their own database and broker folder under var/test, apart from `make run`.
# Browser tests use the system Chromium, or fetch Playwright's own where there is none.
test: install
	@command -v chromium >/dev/null || [ -n "$$CHROMIUM" ] || $(BIN)/playwright install chromium
	VAR_DIR=$(CURDIR)/var/test $(BIN)/pytest $(ARGS)

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf var/test .pytest_cache
