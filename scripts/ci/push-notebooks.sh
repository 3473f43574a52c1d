#!/usr/bin/env bash
# Publish the chapters as notebooks on their own branch, for Colab's Launch link (Colab
# opens .ipynb files from GitHub only; the chapters are MyST Markdown).
#   scripts/ci/push-notebooks.sh SOURCES_DIR REMOTE_URL BRANCH
# SOURCES_DIR is the built site's _sources/ (the renderer writes NN-slug.ipynb there); the
# branch gets one commit with chapters/NN-slug.ipynb, replacing what it held.
set -euo pipefail
sources=$1
remote=$2
branch=$3
shopt -s nullglob
notebooks=("$sources"/[0-9][0-9]-*.ipynb)
[ ${#notebooks[@]} -gt 0 ] || { echo "no chapter notebooks in $sources" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git -C "$work" init --quiet --initial-branch="$branch"
mkdir "$work/chapters"
cp "${notebooks[@]}" "$work/chapters/"
printf '%s\n' "# Notebooks of the databook chapters" "" \
  "Generated from chapters/*.md on the main branch by the Publish site workflow, for" \
  "Colab's Launch link. Edit the Markdown chapters on main, not these files." > "$work/README.md"
git -C "$work" add README.md chapters
git -C "$work" -c user.name="databook-bot" -c user.email="databook-bot@users.noreply.github.com" \
  commit --quiet -m "Notebooks of the chapters at ${GITHUB_SHA:-local build}"
git -C "$work" push --quiet --force "$remote" "HEAD:refs/heads/$branch"
echo "pushed ${#notebooks[@]} notebooks to $branch"
