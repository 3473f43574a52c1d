"""Planted bugs in what lets chapters 1 and 2 run on a reader's file."""

MUTATIONS = [
    {
        "name": "optional-need-treated-as-required",
        "file": "src/databook/chapterinputs.py",
        "old": "    if need.optional:\n        return Finding(",
        "new": "    if False:\n        return Finding(",
        "tests": ["tests/test_run_01.py::test_lfp_is_optional_for_chapter_01_and_says_so"],
    },
    {
        "name": "absent-optional-need-reported-as-found",
        "file": "src/databook/chapterinputs.py",
        "old": "        if self.absent:\n",
        "new": "        if False:\n",
        "tests": ["tests/test_run_01.py::test_lfp_is_optional_for_chapter_01_and_says_so"],
    },
    {
        "name": "access-cost-read-through-the-runs-chunk-cache",
        "file": "figures_src/fig_nwb_access_cost.py",
        "old": "os.environ.pop(assets.STREAM_CACHE_VARIABLE, None)",
        "new": "pass",
        "tests": [
            "tests/test_run_01.py::test_access_cost_is_measured_cold_under_a_shared_chunk_cache"
        ],
    },
]
