# Every target creates .venv itself, so a fresh clone needs only Python 3.11 and `make`.
PYTHON    ?= $(shell command -v python3.11 || command -v python3)
VENV      := .venv
PY        := $(VENV)/bin/python
PIP_PIN   := pip==26.3
STAMP     := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: venv install demo test lint bench clean constraints

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q $(PIP_PIN)

# Reinstall whenever the package metadata or the pins change.
$(STAMP): $(PY) pyproject.toml constraints.txt
	$(PY) -m pip install -q -c constraints.txt -e ".[test]"
	touch $(STAMP)

venv install: $(STAMP)

demo: $(STAMP)
	$(PY) scripts/demo.py

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m pip install -q -c constraints.txt ruff mypy
	$(PY) -m ruff check airflow_provider_wa_phones tests example_dags scripts
	$(PY) -m ruff format --check airflow_provider_wa_phones tests example_dags scripts

bench: $(STAMP)
	$(PY) benchmarks/run.py

# Re-resolve the pins from the registry (a deliberate, reviewed change).
constraints:
	rm -rf build/constraints-venv
	$(PYTHON) -m venv build/constraints-venv
	build/constraints-venv/bin/pip install -q $(PIP_PIN)
	build/constraints-venv/bin/pip install -q -e ".[test]" ruff mypy
	{ echo "# Pinned versions for a reproducible install: pip install -c constraints.txt -e '.[test]'"; \
	  echo "# Regenerate with: make constraints (installs unpinned into a scratch venv and freezes it)."; \
	  build/constraints-venv/bin/pip freeze --exclude-editable | sort -f; } > constraints.txt

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache .airflow-home
