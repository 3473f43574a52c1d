# syntax=docker/dockerfile:1
# The pinned container the article is built in: Debian 12 (bookworm), Python 3.11, TeX Live
# and Chromium from Debian (scripts/system-deps.sh, the one package list), every Python
# package from environment.lock by hash. Build, then get the site, PDF and figures out:
#   docker build -t databook .
#   mkdir -p _build figures && docker run --rm --network none \
#     -v "$PWD/_build:/databook/_build" -v "$PWD/figures:/databook/figures" databook
# Tests inside it: docker run --rm databook make test
#
# Base image: python:3.11.10-slim-bookworm, pinned by its manifest-list digest so that the
# same bytes are used years from now. Update tag and digest together (`make release-check`
# refuses an unpinned FROM):
#   docker buildx imagetools inspect python:3.11-slim-bookworm
FROM python:3.11.10-slim-bookworm@sha256:5148c0e4bbb64271bca1d3322360ebf4bfb7564507ae32dd639322e4952a6b16

ENV DEBIAN_FRONTEND=noninteractive \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# System packages: the same script `make article` / `make test` run on a host. Debian package
# versions are not pinned here (hadolint DL3008 does not see them, they are inside the
# script): bookworm is a stable release that only takes security fixes, and old point
# versions disappear from the mirrors, so pins would break the build rather than fix it.
# The released image's digest (attached to every GitHub release) is the exact record.
COPY scripts/system-deps.sh /usr/local/sbin/databook-system-deps
# The build runs as an ordinary user (uid 1000, `databook`); root only installs.
RUN /usr/local/sbin/databook-system-deps container \
 && useradd --create-home --uid 1000 --user-group --shell /bin/bash databook

WORKDIR /databook

# Python packages: exactly the lock (hashes required, no resolver), then a consistency check.
# This layer is cached until environment.lock changes.
COPY environment.lock ./
RUN python -m venv .venv \
 && .venv/bin/python -m pip install --no-cache-dir --require-hashes --no-deps -r environment.lock \
 && .venv/bin/python -m pip check

# cffconvert (the tests validate CITATION.cff with it) in its own environment, from its own
# lock: it needs jsonschema<4, which environment.lock's Jupyter does not allow.
COPY tools/cffconvert/cffconvert.lock tools/cffconvert/
RUN python -m venv .venv-cff \
 && .venv-cff/bin/python -m pip install --no-cache-dir --require-hashes --no-deps \
    -r tools/cffconvert/cffconvert.lock \
 && .venv-cff/bin/python -m pip check

# The project itself, without dependencies (the lock decided them).
COPY pyproject.toml README.md ./
COPY src ./src
RUN .venv/bin/python -m pip install --no-cache-dir --no-deps -e . \
 && .venv/bin/python -m pip check

# Everything else (chapters, figure scripts, templates, tests), owned by the build user so
# that it can write _build/, figures/ and templates/site/node_modules/. The venvs stay root's.
COPY --chown=1000:1000 . .
RUN chown 1000:1000 /databook \
 && touch .venv/.databook-installed .venv-cff/.databook-installed

USER 1000:1000
# DATABOOK_CONTAINER: the Methods chapter says the build ran in this image. It names the
# image's own digest only when `docker run -e DATABOOK_IMAGE_DIGEST=...` passes it (the
# workflows do): an image cannot contain its own digest, which hashes the image.
ENV DATABOOK_CACHE=/home/databook/.cache/databook \
    DATABOOK_CONTAINER=1 \
    PATH=/databook/.venv/bin:$PATH

# The site template's web libraries (KaTeX) from its package-lock.json, now, so that the
# article builds with networking disabled (`docker run --network none`).
WORKDIR /databook/templates/site
RUN npm ci --no-audit --no-fund --loglevel=error
WORKDIR /databook

CMD ["make", "article"]
