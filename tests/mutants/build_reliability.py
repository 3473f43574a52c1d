"""Planted bugs in what a killed build leaves (issue 17) and in `databook diff REF`."""

A = "src/databook/article.py"
G = "src/databook/gitref.py"
TR = "tests/test_reliability.py::"
TG = "tests/test_gitref.py::"

MUTATIONS = [
    {
        "name": "killed-build-orphans-left-running",
        "file": A,
        "old": "        end_processes_with_token(_LOCK_VARIABLE, str(path.resolve()))\n",
        "new": "",
        "tests": [TR + "test_the_next_build_ends_what_a_killed_build_left_running"],
    },
    {
        "name": "killed-build-staging-kept",
        "file": A,
        "old": "    shutil.rmtree(staging(project), ignore_errors=True)\n",
        "new": "",
        "tests": [TR + "test_a_killed_builds_unpublished_output_is_cleared_and_never_published"],
    },
    {
        "name": "killed-build-torn-cache-trusted",
        "file": A,
        "old": "            path.unlink(missing_ok=True)\n",
        "new": "",
        "tests": [TR + "test_a_killed_builds_unpublished_output_is_cleared_and_never_published"],
    },
    {
        "name": "publish-merges-into-the-old-site",
        "file": A,
        "old": "    if target.exists():\n        target.rename(trash)\n    new.rename(target)\n",
        "new": "    shutil.copytree(new, target, dirs_exist_ok=True)\n",
        "tests": [TR + "test_publish_swaps_the_finished_folder_in_and_drops_the_old_one"],
    },
    {
        "name": "site-renders-into-mystmd-html",
        "file": "src/databook/site/render.py",
        "old": 'os.environ.get("DATABOOK_SITE_OUT") or ',
        "new": "",
        "tests": [TR + "test_site_renders_into_the_folder_the_build_names"],
    },
    {
        "name": "mystmd-outlives-a-killed-build",
        "file": "src/databook/_process.py",
        "old": "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)",
        "new": "ctypes.CDLL(None, use_errno=True).getpid()",
        "tests": ["tests/test_process.py::test_child_dies_with_a_sigkilled_parent_only_when_asked"],
    },
    {
        "name": "diff-only-ignored",
        "file": "src/databook/provenance.py",
        "old": "        old = {k: v for k, v in old.items() if k in only}\n",
        "new": "",
        "tests": ["tests/test_provenance.py::test_diff_only_compares_the_named_figures"],
    },
    {
        "name": "diff-ref-worktree-not-removed",
        "file": G,
        "old": (
            '            _git(root, "worktree", "remove", "--force", str(tree))\n'
            "        shutil.rmtree(holder, ignore_errors=True)\n"
        ),
        "new": "            pass\n",
        "tests": [TG + "test_worktree_is_removed_when_the_build_fails_or_is_interrupted"],
    },
    {
        "name": "diff-ref-built-with-the-working-tree-library",
        "file": G,
        "old": '[str(tree / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]',
        "new": '[*filter(None, [os.environ.get("PYTHONPATH")])]',
        "tests": [TG + "test_each_ref_is_built_with_its_own_library_code"],
    },
    {
        "name": "diff-ref-unknown-ref-unnamed",
        "file": G,
        "old": "if proc.returncode != 0 or not proc.stdout.strip():",
        "new": "if False:",
        "tests": [TG + "test_an_unknown_ref_is_named"],
    },
]
