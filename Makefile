# smmdesk — every target creates .venv if it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test lint format install install-test browser pdf-libs bench messages clean audit

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed pdf-libs

install-test: $(VENV)/.installed-test browser pdf-libs

# Browser tests drive Debian's chromium; Playwright's own browser download cannot work offline.
browser:
	@command -v chromium >/dev/null 2>&1 && command -v xgettext >/dev/null 2>&1 || { \
	  echo "installing chromium and gettext (Debian packages) for the browser and i18n tests"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium gettext >/dev/null; }

# The weekly report's PDF (WeasyPrint) needs Pango, and a font with Cyrillic and Slovak letters.
pdf-libs:
	@{ ldconfig -p | grep -q 'libpangoft2-1.0' && fc-list 2>/dev/null | grep -qi dejavu; } || { \
	  echo "installing Pango and DejaVu fonts (Debian packages) for PDF reports"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fontconfig >/dev/null; }

run: install
	$(BIN)/smmdesk migrate
	$(BIN)/smmdesk demo
	$(BIN)/smmdesk serve

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install-test lint
	$(BIN)/pytest

# Known vulnerabilities in the installed packages (pip-audit against PyPI's advisory data). Fails on any,
# and on packages it could not check; pass AUDIT_FLAGS=--allow-unaudited to only list those.
audit: install-test
	$(BIN)/python .ci/audit.py $(AUDIT_FLAGS)

# Regenerate the message catalogues after changing strings (needs GNU gettext), then compile them.
messages: install-test
	cd smmdesk && SMMDESK_DATA_DIR=$$(mktemp -d) ../$(BIN)/django-admin makemessages -l ru -l sk \
	  --settings=smmdesk.settings --ignore 'tests/*' --ignore '*/tests/*' --no-obsolete
	$(BIN)/python -m smmdesk.lib.compilemessages

bench: install
	$(BIN)/smmdesk bench --help

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
