# Parley: `make run` starts the demo, `make test` runs the whole suite on the real stack.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/parley
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1
PYTEST_ARGS ?=

.PHONY: run test lint format services clean messages compilemessages

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip 2>/dev/null || true
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The translations: .po files are committed, the .mo files are built here (docs/i18n.md).
PO_FILES := $(wildcard locale/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)
%.mo: %.po
	@command -v msgfmt >/dev/null || { echo "msgfmt is missing: 'make services' installs gettext" >&2; exit 1; }
	msgfmt --check-format -o $@ $<

compilemessages: $(MO_FILES)

# After marking new strings: refresh every catalogue (Python and templates, then the scripts).
messages: $(STAMP)
	$(BIN)/python manage.py makemessages --all --no-obsolete --ignore '.venv/*' --ignore 'tests/*' --ignore 'staticfiles/*' --ignore 'bench/*'
	$(BIN)/python manage.py makemessages --all --no-obsolete -d djangojs --ignore '.venv/*' --ignore 'tests/*' --ignore 'staticfiles/*' --ignore 'static/vendor/*' --ignore 'bench/*'

run: $(STAMP) compilemessages
	DEBUG=1 $(BIN)/python manage.py migrate --noinput -v 0
	DEBUG=1 $(BIN)/python manage.py run_demo

services:
	./scripts/ensure-services.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(STAMP) services compilemessages lint
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache test-artifacts
	rm -f locale/*/LC_MESSAGES/*.mo
