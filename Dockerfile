# The pinned container the article is built in: Debian 12, Python 3.11, TeX Live and
# Chromium from Debian, every Python package from environment.lock (with hashes).
#   docker build -t databook . && docker run --rm -v "$PWD/_build:/databook/_build" databook
FROM python:3.11-slim-bookworm

ENV DEBIAN_FRONTEND=noninteractive \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      make git \
      texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended lmodern latexmk \
      chromium poppler-utils \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /databook
COPY environment.lock pyproject.toml README.md ./
COPY src ./src
RUN python -m venv .venv \
 && .venv/bin/pip install --require-hashes -r environment.lock \
 && .venv/bin/pip install --no-deps -e . \
 && touch .venv/.databook-installed

COPY . .
RUN touch .venv/.databook-installed
CMD ["make", "article", "PYTHON=python3"]
