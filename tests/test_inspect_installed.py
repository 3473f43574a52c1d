"""`databook inspect FILE` outside a clone of the project: the chapters' parameter cells
come from ``src/databook/chapter_parameters.json``, installed with the package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from databook import run
from databook.cli import main
from tests.conftest import ROOT

ALM = ROOT.parent / "shared/data/dandi/000006/sub-anm372904/sub-anm372904_ses-20170619.nwb"
DATABOOK = Path(sys.executable).with_name("databook")


def test_the_installed_parameters_are_the_chapters():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from chapter_parameters import render
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    assert run.PARAMETERS_FILE.read_text(encoding="utf-8") == render(ROOT / "chapters"), (
        "src/databook/chapter_parameters.json differs from the chapters' parameter cells: "
        "run .venv/bin/python scripts/chapter_parameters.py"
    )


def _inspect_elsewhere(tmp_path: Path, target: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABOOK_ROOT"}
    env["PYTHONWARNINGS"] = "ignore::UserWarning"  # the spike-time repair note
    return subprocess.run(
        [str(DATABOOK), "inspect", target], cwd=tmp_path, env=env, capture_output=True,
        text=True, timeout=300, check=False,
    )  # fmt: skip


def test_inspect_runs_outside_the_project_with_the_same_verdicts(tmp_path, demo):
    if not ALM.is_file():
        pytest.skip(f"{ALM} (a copy of a published DANDI asset) is absent")
    outside = _inspect_elsewhere(tmp_path, str(ALM))
    assert outside.returncode == 0, outside.stderr
    assert "chapters (as installed; no project here):" in outside.stdout
    inside = CliRunner().invoke(main, ["inspect", str(ALM)])
    assert inside.exit_code == 0, inside.output
    verdicts = [line for line in inside.output.splitlines() if line.startswith("  0")]
    assert len(verdicts) == 8
    assert [line for line in outside.stdout.splitlines() if line.startswith("  0")] == verdicts


def test_a_demo_file_outside_the_project(tmp_path, demo):
    # The demo's planted parameters (chapter 2's between(-10, 10), chapter 8's paths) run
    # from the installed cells as from the chapters.
    outside = _inspect_elsewhere(tmp_path, str(demo.paths["demo-ecephys"]))
    assert outside.returncode == 0, outside.stderr
    inside = CliRunner().invoke(main, ["inspect", str(demo.paths["demo-ecephys"])])
    tail = inside.output.split("chapters:\n", 1)[1]
    assert outside.stdout.split("no project here):\n", 1)[1] == tail


def test_a_named_root_that_is_no_project_is_still_an_error(tmp_path):
    result = CliRunner().invoke(main, ["inspect", "--root", str(tmp_path), "x.nwb"])
    assert result.exit_code == 1 and "no databook project" in result.output
