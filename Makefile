# Every target creates .venv itself, so a fresh clone needs only Python 3.11 and `make`.
PYTHON    ?= $(shell command -v python3.11 || command -v python3)
VENV      := .venv
PY        := $(VENV)/bin/python
PIP_PIN   := pip==26.3
STAMP     := $(VENV)/.installed
CHROMIUM  := /usr/bin/chromium
# apt-get needs root: CI and the dev machines run as root, elsewhere ask sudo.
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
LINT_PATHS := airflow_provider_wa_phones tests example_dags scripts benchmarks
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: venv install demo test lint ui ui-test bench clean constraints

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q $(PIP_PIN)

# Reinstall whenever the package metadata or the pins change.
$(STAMP): $(PY) pyproject.toml constraints.txt
	$(PY) -m pip install -q -c constraints.txt -e ".[test]"
	touch $(STAMP)

# The optional tool sets, each on top of the test install: lint (ruff, mypy), ui (Playwright).
$(VENV)/.installed-%: $(STAMP)
	$(PY) -m pip install -q -c constraints.txt -e ".[test,$*]"
	touch $@

venv install: $(STAMP)

demo: $(STAMP)
	$(PY) scripts/demo.py

test: $(STAMP)
	$(PY) -m pytest

lint: $(VENV)/.installed-lint
	$(PY) -m ruff check $(LINT_PATHS)
	$(PY) -m ruff format --check $(LINT_PATHS)
	$(PY) -m mypy

# Debian's Chromium for the browser check (Playwright's own browser download cannot work here).
$(CHROMIUM):
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium

# Airflow's UI with this provider and connections to the sandbox, until Ctrl-C.
ui: $(VENV)/.installed-ui
	$(PY) scripts/ui.py

# Both connection forms and the Test button in headless Chromium; screenshots in build/ui-*.png.
ui-test: $(VENV)/.installed-ui $(CHROMIUM)
	$(PY) scripts/ui_test.py

bench: $(STAMP)
	$(PY) benchmarks/run.py

# Re-resolve the pins from the registry (a deliberate, reviewed change).
constraints:
	rm -rf build/constraints-venv
	$(PYTHON) -m venv build/constraints-venv
	build/constraints-venv/bin/pip install -q $(PIP_PIN)
	build/constraints-venv/bin/pip install -q -e ".[test,lint,ui,e2e]" setuptools
	{ echo "# Pinned versions for a reproducible install: pip install -c constraints.txt -e '.[test]'"; \
	  echo "# Regenerate with: make constraints (installs unpinned into a scratch venv and freezes it)."; \
	  build/constraints-venv/bin/pip freeze --all --exclude-editable | grep -v '^pip==' | sort -f; \
	} > constraints.txt

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache .airflow-home
