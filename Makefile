# databook: the only entry points a newcomer needs.
#   make article   build the figures, the web site (_build/html) and the PDF (_build/exports)
#   make article DATA=dandi [FROM=DIR]   the same, plus every chapter's "On real data"
#                  section from the pinned DANDI assets (downloaded, or copied from DIR;
#                  sha256-verified either way)
#   make test      run the test suite (builds the article once inside the tests)
# Both create .venv from environment.lock first, and install Debian packages if missing.
# `make test` also creates .venv-cff, cffconvert's own environment (tools/cffconvert/):
# cffconvert 2.0.0 needs jsonschema<4, which cannot share .venv with Jupyter.

PYTHON ?= python3.11
DATA ?= demo
FROM ?=
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.databook-installed
UV_COMPILE := uv pip compile pyproject.toml --extra build --extra test --extra bench \
	--python-version 3.11 --python-platform x86_64-manylinux_2_28 --generate-hashes \
	-o environment.lock
CFF_VENV := .venv-cff
CFF_LOCK := tools/cffconvert/cffconvert.lock
CFF_STAMP := $(CFF_VENV)/.databook-installed

.PHONY: article test venv venv-cff system-article system-test lock lock-cff lint release-check \
	clean

article: venv system-article
	$(BIN)/databook build --data $(DATA) $(foreach dir,$(FROM),--from $(dir))

test: venv venv-cff system-test
	$(BIN)/python -m pytest

venv: $(STAMP)

$(STAMP): environment.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r environment.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

# cffconvert in its own environment, exactly its lock (recreated when the lock changes).
venv-cff: $(CFF_STAMP)

$(CFF_STAMP): $(CFF_LOCK)
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11" >&2; exit 1; }
	rm -rf $(CFF_VENV)
	$(PYTHON) -m venv $(CFF_VENV)
	$(CFF_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(CFF_LOCK)
	$(CFF_VENV)/bin/python -m pip check
	touch $(CFF_STAMP)

system-article:
	@scripts/system-deps.sh article

system-test:
	@scripts/system-deps.sh test

# Regenerate environment.lock after changing dependencies in pyproject.toml.
lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/$(UV_COMPILE)

# Regenerate tools/cffconvert/cffconvert.lock after changing tools/cffconvert/requirements.in.
lock-cff: venv
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile tools/cffconvert/requirements.in --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --generate-hashes -o $(CFF_LOCK)

# Before tagging vX.Y.Z: one version everywhere, metadata in step, image pinned, tree clean.
#   make release-check [TAG=vX.Y.Z]
release-check: venv
	$(BIN)/python scripts/release_check.py $(if $(TAG),--tag $(TAG))

lint: venv
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf _build figures
