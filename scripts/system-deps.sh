#!/usr/bin/env bash
# Install the Debian packages a target needs, only when something is missing.
#   scripts/system-deps.sh article   TeX Live for the PDF (pdflatex, latexmk, Latin Modern)
#   scripts/system-deps.sh test      the above, plus Chromium, poppler-utils and libatomic1
#                                    (Playwright's node) for the tests
#   scripts/system-deps.sh container the above, plus make and git: what the Dockerfile installs
# This is the only list of Debian packages in the repository (tests/test_release.py checks
# that the Dockerfile, the Makefile and the workflows call this script instead of repeating it).
# As root with apt-get it installs; otherwise it prints the exact command and fails.
set -euo pipefail

target=${1:-article}
tex_packages=(texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended lmodern latexmk)
test_packages=(chromium poppler-utils libatomic1)
container_packages=(make git)

missing=()
have_tex() {
  command -v latexmk >/dev/null && command -v pdflatex >/dev/null && command -v kpsewhich >/dev/null \
    && [ -n "$(kpsewhich lmodern.sty)" ] && [ -n "$(kpsewhich natbib.sty)" ]
}
have_tex || missing+=("${tex_packages[@]}")
if [ "$target" = container ]; then
  # make and git: the package name is the command name.
  for tool in "${container_packages[@]}"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
fi
if [ "$target" = test ] || [ "$target" = container ]; then
  command -v chromium >/dev/null || missing+=(chromium)
  command -v pdftotext >/dev/null && command -v pdffonts >/dev/null || missing+=(poppler-utils)
  # Playwright's bundled node (the browser tests' driver) links libatomic.so.1.
  /sbin/ldconfig -p 2>/dev/null | grep -q 'libatomic\.so\.1 ' || missing+=(libatomic1)
elif [ "$target" != article ]; then
  echo "usage: $0 article|test|container" >&2
  exit 2
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [ "$target" = container ]; then
    apt-get clean
    rm -rf /var/lib/apt/lists/*
  fi
else
  echo "Missing system packages for '$target'. Install them with:" >&2
  echo "  sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
