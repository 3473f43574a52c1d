"""Planted bugs in Colab's launch link and the notebooks branch it opens."""

MUTATIONS = [
    {
        "name": "colab-opens-the-markdown-branch",
        "file": "src/databook/site/render.py",
        "old": '"Colab": f"/github/{slug}/blob/{quoted(notebooks)}/{quoted(notebook)}",',
        "new": '"Colab": f"/github/{slug}/blob/{quoted(branch)}/{quoted(notebook)}",',
        "tests": ["tests/test_site_launch.py::test_myst_yml_configures_binder_colab_and_dandi_hub"],
    },
    {
        "name": "notebooks-branch-keeps-removed-chapters",
        "file": "scripts/ci/push-notebooks.sh",
        "old": 'git -C "$work" init --quiet --initial-branch="$branch"',
        "new": 'git -C "$work" init --quiet --initial-branch="$branch"\n'
        'git -C "$work" fetch --quiet "$remote" "$branch" 2>/dev/null && '
        'git -C "$work" reset --quiet --hard FETCH_HEAD || true',
        "tests": ["tests/test_release.py::test_notebooks_branch_holds_the_chapters_colab_opens"],
    },
]
