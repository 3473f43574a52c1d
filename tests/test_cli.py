"""The databook command: arguments reach the library; failures are clean messages."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from databook import cli


def _project(tmp_path, script: str):
    (tmp_path / "myst.yml").write_text("version: 1\n")
    (tmp_path / "figures_src").mkdir()
    (tmp_path / "figures_src" / "fig_x.py").write_text(script)
    (tmp_path / "environment.lock").write_text("")
    return tmp_path


WRITES = (
    "import os, pathlib\nOUTPUTS = ['x.txt']\n"
    "out = pathlib.Path(os.environ['DATABOOK_FIGURE_DIR'], 'x.txt')\n"
    "out.write_text(os.environ['DATABOOK_DATA'])\n"
)


def test_figures_then_verify(tmp_path):
    root = _project(tmp_path, WRITES)
    runner = CliRunner()
    result = runner.invoke(cli.main, ["figures", "--root", str(root), "--data", "dandi"])
    assert result.exit_code == 0, result.output
    assert "1 figure(s) built, 0 up to date" in result.output
    assert (root / "figures" / "x.txt").read_text() == "dandi"
    assert runner.invoke(cli.main, ["verify", "--root", str(root)]).exit_code == 0
    (root / "figures" / "x.txt").write_text("changed")
    result = runner.invoke(cli.main, ["verify", "--root", str(root)])
    assert result.exit_code == 1
    assert "x.txt: sha256" in result.output


def test_failing_figure_is_a_clean_error(tmp_path):
    root = _project(tmp_path, "OUTPUTS = ['x.txt']\nraise SystemExit('no data for fig_x')\n")
    result = CliRunner().invoke(cli.main, ["figures", "--root", str(root)])
    assert result.exit_code == 1
    assert "Error: 1 figure script(s) failed" in result.output
    assert "no data for fig_x" in result.output
    assert "Traceback" not in result.output


def test_outside_a_project_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABOOK_ROOT", raising=False)
    result = CliRunner().invoke(cli.main, ["verify", "--root", str(tmp_path)])
    assert result.exit_code == 1
    assert f"no databook project (myst.yml + figures_src/) in {tmp_path}" in result.output


def test_console_script_and_fast_import():
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import databook"],
        capture_output=True,
        text=True,
        check=True,
    )
    heavy = [m for m in ("numpy", "matplotlib", "pynwb", "h5py") if f" {m}\n" in proc.stderr]
    assert heavy == [], f"import databook pulled in {heavy}"
    help_text = subprocess.run(
        [sys.executable, "-m", "databook.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("build", "figures", "verify"):
        assert command in help_text


def test_build_in_dandi_mode_refuses_unpinned_inputs_before_running(tmp_path):
    root = _project(tmp_path, "OUTPUTS = ['x.txt']\nINPUTS = ['allen']\nraise SystemExit(1)\n")
    (root / "assets.lock").write_text(
        '[[asset]]\nkey = "allen"\ndandiset = "000021"\npath = "sub-1/sub-1_ses-2.nwb"\n'
    )
    result = CliRunner().invoke(cli.main, ["build", "--root", str(root), "--data", "dandi"])
    assert result.exit_code == 1
    assert "allen (000021/?/sub-1/sub-1_ses-2.nwb) is not pinned" in result.output
    assert "databook pin 000021/VERSION/sub-1/sub-1_ses-2.nwb --key allen" in result.output
    assert not (root / "figures").exists()
