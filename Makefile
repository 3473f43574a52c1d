# databook: the only entry points a newcomer needs.
#   make article   build the figures, the web site (_build/html) and the PDF (_build/exports)
#   make test      run the test suite (builds the article once inside the tests)
# Both create .venv from environment.lock first, and install Debian packages if missing.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.databook-installed
UV_COMPILE := uv pip compile pyproject.toml --extra build --extra test --extra bench \
	--python-version 3.11 --python-platform x86_64-manylinux_2_28 --generate-hashes \
	-o environment.lock

.PHONY: article test venv system-article system-test lock lint release-check clean

article: venv system-article
	$(BIN)/databook build

test: venv system-test
	$(BIN)/python -m pytest

venv: $(STAMP)

$(STAMP): environment.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r environment.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

system-article:
	@scripts/system-deps.sh article

system-test:
	@scripts/system-deps.sh test

# Regenerate environment.lock after changing dependencies in pyproject.toml.
lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/$(UV_COMPILE)

# Before tagging vX.Y.Z: one version everywhere, metadata in step, image pinned, tree clean.
#   make release-check [TAG=vX.Y.Z]
release-check: venv
	$(BIN)/python scripts/release_check.py $(if $(TAG),--tag $(TAG))

lint: venv
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf _build figures
