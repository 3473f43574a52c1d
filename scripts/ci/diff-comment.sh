#!/usr/bin/env bash
# The body of the pull-request comment: which figures changed between two sets of
# provenance records, and why (`databook diff`).
#   scripts/ci/diff-comment.sh BASE_DIR HEAD_DIR > pr-comment.md
set -euo pipefail
base=$1
head=$2
# The marker lets post-comment.sh find and update this comment instead of adding another.
echo "<!-- databook-figure-diff -->"
echo "### Figures changed by this pull request"
echo
if ! compgen -G "$base/*.provenance.json" >/dev/null; then
  echo "_No provenance from the base branch yet: every figure below is new._"
  echo
fi
# `databook diff` prints Markdown (a table of figures and reasons): rendered, not fenced.
databook diff "$base" "$head"
