#!/usr/bin/env bash
# Download the provenance records of the latest successful CI run on a branch.
#   scripts/ci/base-provenance.sh BRANCH OUTDIR      (needs gh and GH_TOKEN, actions: read)
# Leaves OUTDIR empty (and says so) when the branch has no such run yet: the comment then
# lists every figure as new.
set -euo pipefail
branch=$1
out=$2
mkdir -p "$out"
run_id=$(gh run list --repo "$GITHUB_REPOSITORY" --workflow ci.yml --branch "$branch" \
  --event push --status success --limit 1 --json databaseId --jq '.[0].databaseId // empty')
if [ -z "$run_id" ]; then
  echo "no successful CI run on $branch yet: no base provenance" >&2
  exit 0
fi
gh run download "$run_id" --repo "$GITHUB_REPOSITORY" -n provenance -D "$out"
