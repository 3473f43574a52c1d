"""Planted bugs in databook.assets that tests/test_assets.py must catch."""

F = "src/databook/assets.py"
T = "tests/test_assets.py::"

MUTATIONS = [
    {
        "name": "assets-quiet-fetch-still-logs",
        "file": F,
        "old": "    if not progressbar:  # quiet",
        "new": "    if False:  # quiet",
        "tests": [T + "test_fetch_without_progressbar_is_quiet"],
    },
]
