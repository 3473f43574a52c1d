#!/usr/bin/env bash
# Post BODY_FILE on pull request PR, or update the earlier comment that carries the
# databook-figure-diff marker, so that a pull request has one such comment.
#   scripts/ci/post-comment.sh PR BODY_FILE        (needs gh and GH_TOKEN, pull-requests: write)
set -euo pipefail
pr=$1
body=$2
marker='<!-- databook-figure-diff -->'
grep -qF "$marker" "$body" || { echo "$body lacks the marker $marker" >&2; exit 1; }
existing=$(gh api "repos/$GITHUB_REPOSITORY/issues/$pr/comments" --paginate \
  --jq ".[] | select(.body | startswith(\"$marker\")) | .id" | head -n 1)
if [ -n "$existing" ]; then
  gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$existing" -F "body=@$body" >/dev/null
  echo "updated comment $existing on #$pr"
else
  gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$pr/comments" -F "body=@$body" >/dev/null
  echo "posted a comment on #$pr"
fi
