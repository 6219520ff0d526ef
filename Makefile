# Two commands for a fresh clone:  `make run`  (demo app on :5000)  and  `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := PIFA_ENV=development $(BIN)/flask --app app:create_app
STAMP := $(VENV)/.installed

.PHONY: run test setup i18n i18n-check lint clean-db

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)
	$(BIN)/pybabel compile -d translations --use-fuzzy=false >/dev/null 2>&1 || $(BIN)/pybabel compile -d translations

run: setup
	$(FLASK) db upgrade
	$(FLASK) pifa sync-roles
	$(FLASK) pifa seed-demo
	PIFA_ENV=development $(BIN)/python run.py

# Two pytest-xdist workers (TEST_WORKERS=0 for one process); a file's tests stay together.
TEST_WORKERS ?= 2
test: setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Extract every string, update both catalogs, fill English from the source text, compile.
i18n: $(STAMP)
	$(BIN)/python tools/i18n.py update

# Fails when the code has a string the catalogs lack, or a catalog entry is empty/fuzzy.
i18n-check: $(STAMP)
	$(BIN)/python tools/i18n.py check

lint: $(STAMP)
	$(BIN)/ruff check .

clean-db:
	rm -f instance/pifa.db
