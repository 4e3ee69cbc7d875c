# CallDeck: `make demo` serves the demo on http://127.0.0.1:8000, `make test` runs the suite,
# `make check` runs the linters. Each target builds only what is missing or out of date.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

export CALLDECK_VAR_DIR ?= $(CURDIR)/var
HOST ?= 127.0.0.1
PORT ?= 8000

# apt-get needs root; elsewhere sudo, if there is one. APT_UPDATED=1 (set by .ci/run)
# skips `apt-get update` when the package lists were refreshed once already.
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)
APT_INSTALL = $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends
APT_UPDATE = if [ "$${APT_UPDATED:-}" != 1 ]; then $(SUDO) apt-get update; fi

# The demo runs with its built-in secret key and without DEBUG, as it would be served.
DEMO_ENV := CALLDECK_DEMO=true DEBUG=false

.PHONY: help venv demo test check messages compilemessages gettext browser-deps bench-pacing

help:
	@echo "make demo       serve the demo on http://$(HOST):$(PORT) (logins are printed first)"
	@echo "make test       run the test suite (CI=true also installs Chromium and CJK fonts)"
	@echo "make check      ruff, ruff format, mypy, and the dialer/ import boundary"
	@echo "make messages   update the zh_Hans and en message catalogues"
	@echo "make bench-pacing  run the pacing benchmark grid (bench/pacing) into bench/results/pacing.md"
	@echo "make venv       create .venv and install the project"

venv: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(CALLDECK_VAR_DIR):
	mkdir -p $@

gettext:
	@if ! command -v msgfmt >/dev/null; then \
		echo "Installing gettext (msgfmt) for the message catalogues"; \
		$(APT_UPDATE); \
		$(APT_INSTALL) gettext; \
	fi

compilemessages: venv gettext
	@mkdir -p locale
	$(DEMO_ENV) $(PY) manage.py compilemessages --ignore='$(VENV)' --ignore=var -v 0

messages: venv gettext
	@mkdir -p locale
	$(DEMO_ENV) $(PY) manage.py makemessages -l zh_Hans -l en \
		--ignore='$(VENV)/*' --ignore='var/*' --ignore='tests/*' --ignore='bench/*' \
		--ignore='build/*' --no-obsolete

demo: venv compilemessages | $(CALLDECK_VAR_DIR)
	$(DEMO_ENV) $(PY) manage.py migrate --noinput -v 0
	$(DEMO_ENV) $(PY) manage.py collectstatic --noinput -v 0
	$(DEMO_ENV) $(PY) manage.py load_demo
	@echo
	@echo "CallDeck demo: http://$(HOST):$(PORT)/  (Django admin: /ops/admin/, Ctrl-C to stop)"
	$(DEMO_ENV) CALLDECK_EMBEDDED_DIALER=true CALLDECK_EMBEDDED_WORKER=true exec $(VENV)/bin/daphne -b $(HOST) -p $(PORT) calldeck.asgi:application

# In CI the browser tests must run, never skip: install what they need.
browser-deps:
	@if [ "$${CI:-}" = true ] && ! dpkg-query -W -f='$${Status}\n' chromium fonts-noto-cjk 2>/dev/null \
			| grep -c 'install ok installed' | grep -qx 2; then \
		echo "CI: installing chromium and fonts-noto-cjk for the browser tests"; \
		$(APT_UPDATE); \
		$(APT_INSTALL) chromium fonts-noto-cjk; \
	fi

test: venv compilemessages browser-deps | $(CALLDECK_VAR_DIR)
	@status=0; $(PY) -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then \
		echo "pytest collected no tests (exit 5): treated as a failure." >&2; \
	fi; \
	exit $$status

check: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(DEMO_ENV) $(VENV)/bin/mypy calldeck dialer
	@if grep -rnE --include='*.py' '^\s*(import|from)\s+(django|calldeck)\b' dialer/; then \
		echo "dialer/ must not import django or calldeck (see docs/architecture.md)." >&2; \
		exit 1; \
	fi
	@echo "dialer/ imports neither django nor calldeck."

# The predictive-dialing benchmark of PACING.md: every scenario of bench/pacing with every
# policy, 3 seeds on 2 processes (about 15 minutes on 2 free cores). Writes
# bench/results/pacing.md, and per scenario a JSON and a plot under bench/results/pacing/.
bench-pacing: venv
	$(PY) -m dialer.sim grid bench/pacing --seeds 3 --jobs 2 --out bench/results
