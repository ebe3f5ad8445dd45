# Every target creates .venv itself, so a fresh clone needs only Python 3.11 and `make`.
PYTHON    ?= $(shell command -v python3.11 || command -v python3)
VENV      := .venv
PY        := $(VENV)/bin/python
PIP_PIN   := pip==26.3
STAMP     := $(VENV)/.installed
CHROMIUM  := /usr/bin/chromium
# make e2e EXECUTOR=celery: CeleryExecutor with Redis instead of LocalExecutor.
EXECUTOR  ?= local
# apt-get needs root: CI and the dev machines run as root, elsewhere ask sudo.
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
LINT_PATHS := airflow_provider_wa_phones tests example_dags scripts benchmarks docs
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: docs venv install demo test fuzz lint vulture ui ui-test e2e e2e-debs bench dist dist-check clean constraints compat compat-constraints test-pythons python-constraints

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q $(PIP_PIN)

# Reinstall whenever the package metadata or the pins change. The tool sets are dependency groups
# ([dependency-groups] in pyproject.toml, never published): pip >= 25.1 installs them with --group,
# pinned by the same constraints as the package.
$(STAMP): $(PY) pyproject.toml constraints.txt
	$(PY) -m pip install -q -c constraints.txt -e . --group test
	touch $(STAMP)

# The other tool sets, each on top of the test install: lint (ruff, mypy, vulture), ui (Playwright),
# e2e (PostgreSQL drivers, Celery), docs (Sphinx, MyST, Furo), release (twine, check-wheel-contents,
# pyroma).
$(VENV)/.installed-%: $(STAMP)
	$(PY) -m pip install -q -c constraints.txt -e . --group test --group $*
	touch $@

venv install: $(STAMP)

demo: $(STAMP)
	$(PY) scripts/demo.py

test: $(STAMP)
	$(PY) -m pytest

# The property-based tests (tests/property) with many more generated cases, new ones every run;
# failures are kept in .hypothesis/ and replayed first next time.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest tests/property

lint: $(VENV)/.installed-lint
	$(PY) -m ruff check $(LINT_PATHS)
	$(PY) -m ruff format --check $(LINT_PATHS)
	$(PY) -m mypy
	$(MAKE) --no-print-directory vulture

# Dead code: what nothing uses, read from every folder ([tool.vulture] in pyproject.toml: paths
# given here would replace its list; the names only a protocol or pytest uses are in
# tests/vulture_whitelist.py, read with the tests).
vulture: $(VENV)/.installed-lint
	$(PY) -m vulture

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

# The docs site (docs/, Sphinx): built offline with warnings as errors and every reference
# checked, then looked at in headless Chromium (screenshots in build/docs/_screenshots/).
docs: $(VENV)/.installed-docs $(VENV)/.installed-ui $(CHROMIUM)
	$(PY) scripts/docs.py

# A real deployment: PostgreSQL, api-server, scheduler, dag-processor, triggerer (and with
# EXECUTOR=celery Redis and a Celery worker) as separate processes, every DAG run; what the run
# showed is judged by pytest (tests/e2e/test_deployment.py).
e2e: $(VENV)/.installed-e2e e2e-debs
	$(PY) scripts/e2e.py --executor $(EXECUTOR)

# Debian's PostgreSQL (its server binaries live in /usr/lib/postgresql/<version>/bin, out of PATH)
# and, for Celery, Redis. Debian starts a service when its package is installed unless
# /usr/sbin/policy-rc.d forbids it (Docker images ship one that does); e2e runs private instances
# only, so forbid it during the install when nothing else does.
e2e-debs:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="postgresql"; \
	if [ "$(EXECUTOR)" = celery ] && ! command -v redis-server >/dev/null; then missing="$$missing redis-server"; fi; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) sh -c 'policy=/usr/sbin/policy-rc.d; ours=; \
	    if [ ! -e $$policy ]; then printf "#!/bin/sh\nexit 101\n" > $$policy; chmod 755 $$policy; ours=1; fi; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends '"$$missing"'; \
	    status=$$?; [ -z "$$ours" ] || rm -f $$policy; exit $$status'; \
	fi

bench: $(STAMP)
	$(PY) benchmarks/run.py

# The sdist and the wheel in dist/, built as a release builds them (isolated, the wheel from the
# sdist) with the build backend pinned by constraints.txt.
dist: $(STAMP)
	rm -rf dist
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(PY) -m build --outdir dist .
	@ls -l dist

# The release artefacts checked as a registry would see them: built as `make dist` builds them, the
# long description rendered and the metadata validated (twine check --strict), the wheel checked for
# the usual packaging mistakes (check-wheel-contents), and the metadata rated by pyroma, which must
# give 10/10 with one test skipped: Url (a home page or project URLs). The project has no public
# repository or hosted docs yet, so pyproject.toml names no URL rather than a placeholder, and pyroma
# alone would say 9/10. Drop the skip when [project.urls] gets a real address. pyroma builds the
# metadata from the sdist in an isolated environment, whose build backend the constraints pin too.
dist-check: $(VENV)/.installed-release
	rm -rf dist
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(PY) -m build --outdir dist .
	@ls -l dist
	$(PY) -m twine check --strict dist/*
	$(VENV)/bin/check-wheel-contents dist/*.whl
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(VENV)/bin/pyroma --min 10 --skip-tests Url --file dist/*.tar.gz

# Re-resolve the pins from the registry (a deliberate, reviewed change).
constraints:
	rm -rf build/constraints-venv
	$(PYTHON) -m venv build/constraints-venv
	build/constraints-venv/bin/pip install -q $(PIP_PIN)
	build/constraints-venv/bin/pip install -q -e . --group test --group lint --group ui --group e2e \
	  --group docs --group release setuptools
	{ echo "# Pinned versions for a reproducible install: pip install -c constraints.txt -e . --group test"; \
	  echo "# Regenerate with: make constraints (installs unpinned into a scratch venv and freezes it)."; \
	  build/constraints-venv/bin/pip freeze --all --exclude-editable | grep -v '^pip==' | sort -f; \
	} > constraints.txt

# The unit and contract suites on the oldest and newest Python Airflow 3 supports (3.10, 3.13), each in
# .venv-py3.X pinned by constraints-py3.X.txt where constraints.txt does not install, else by it
# (scripts/pythons.py); about 2 minutes with warm virtualenvs. Needs those Pythons (on PATH or pyenv).
test-pythons:
	$(PYTHON) scripts/pythons.py

# Re-resolve constraints-py3.10.txt, as `constraints` does constraints.txt.
python-constraints:
	$(PYTHON) scripts/pythons.py constraints

# Every supported Airflow minor (3.0 to 3.3, latest patch each): its own virtualenv in
# build/compat/<minor>/ pinned by compat/constraints-<minor>.txt, the wheel installed, every module
# imported, provider and connection forms checked, the example DAGs run against the sandbox
# (deferrable waits included), each minor on its own Python (3.0 on 3.10 ... 3.3 on 3.13, see
# compat/README.md). MINORS="3.0 3.2" checks only those. Needs Python 3.10 to 3.13. What each
# minor showed is judged by pytest (tests/compat/test_airflow_minor.py) in this project's .venv.
compat: $(STAMP)
	$(PYTHON) scripts/compat.py run $(MINORS)

# Re-resolve compat/constraints-<minor>.txt as each minor's users got it (pip --uploaded-prior-to
# the day after its latest patch, PyPI only). A deliberate, reviewed change, like `constraints`.
compat-constraints:
	$(PYTHON) scripts/compat.py constraints $(MINORS)

clean:
	rm -rf $(VENV) .venv-py3.* build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache .airflow-home .hypothesis
