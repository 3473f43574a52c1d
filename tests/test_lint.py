"""The code style the project promises: ruff check and ruff format are clean."""

from __future__ import annotations

import subprocess
import sys


def test_ruff_check_and_format_are_clean(root):
    for args in (["check", "."], ["format", "--check", "."]):
        proc = subprocess.run(
            [sys.executable, "-m", "ruff", *args], cwd=root, capture_output=True, text=True
        )
        assert proc.returncode == 0, f"ruff {' '.join(args)}:\n{proc.stdout}{proc.stderr}"
