"""`databook diff` with a git ref: the ref's figures are built in a temporary worktree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from databook import cli, gitref
from databook.gitref import RefError, ref_records

FIGURE = "fig_psth_primer"
ROW = f"| `{FIGURE}` | changed | script figures_src/{FIGURE}.py changed (sha256 "  # then shas


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.fixture
def repo(root, tmp_path, monkeypatch):
    """A git repository of the project's sources: a first commit, then evoked_hz 40 -> 80
    in the figure's script, then a comment added to a library module it imports."""
    repo = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(root / "src", repo / "src", ignore=ignore)
    shutil.copytree(root / "figures_src", repo / "figures_src", ignore=ignore)
    for name in ("myst.yml", "pyproject.toml", "environment.lock", "assets.lock"):
        shutil.copy2(root / name, repo / name)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "before")
    script = repo / "figures_src" / f"{FIGURE}.py"
    source = script.read_text()
    assert "evoked_hz=40.0" in source
    script.write_text(source.replace("evoked_hz=40.0", "evoked_hz=80.0"))
    _git(repo, "commit", "-q", "-am", "evoked_hz 80")
    module = repo / "src" / "databook" / "align.py"
    module.write_text(module.read_text() + "\n# a comment: same figure, new module bytes\n")
    _git(repo, "commit", "-q", "-am", "comment in align")
    # Temporary worktrees go here, so the test can see that none is left behind.
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.delenv("DATABOOK_ROOT", raising=False)
    return repo


def _no_worktree_left(repo: Path) -> None:
    assert _git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert list(Path(tempfile.gettempdir()).iterdir()) == []


def _rows(result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [line for line in result.stdout.splitlines() if line.startswith("| `")]


def test_diff_of_two_refs_names_the_one_figure_whose_script_changed(repo):
    result = CliRunner().invoke(
        cli.main, ["diff", "HEAD~2", "HEAD~1", "--only", FIGURE, "--root", str(repo)]
    )
    rows = _rows(result)
    assert len(rows) == 1 and rows[0].startswith(ROW), result.stdout
    assert "module" not in rows[0]
    before, after = (_git(repo, "rev-parse", ref).strip()[:7] for ref in ("HEAD~2", "HEAD~1"))
    assert f"### Figures: `HEAD~2 ({before})` -> `HEAD~1 ({after})`" in result.stdout
    _no_worktree_left(repo)


def test_each_ref_is_built_with_its_own_library_code(repo):
    """Only align.py changed: the ref's records must hash the ref's modules."""
    result = CliRunner().invoke(
        cli.main, ["diff", "HEAD~1", "HEAD", "--only", FIGURE, "--root", str(repo)]
    )
    assert _rows(result) == [
        f"| `{FIGURE}` | inputs only | module databook.align changed (output bytes identical) |"
    ]
    _no_worktree_left(repo)


def test_a_ref_against_the_working_tree_records(repo):
    """HEAD~2 vs the working tree's figures/ (built from HEAD): script and module."""
    # Built as a user of that checkout would: with its own library code.
    env = {**os.environ, "PYTHONPATH": str(repo / "src"), "DATABOOK_ROOT": str(repo)}
    command = [sys.executable, "-m", "databook.cli", "figures", FIGURE, "--root", str(repo)]
    built = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    result = CliRunner().invoke(
        cli.main, ["diff", "HEAD~2", str(repo / "figures"), "--only", FIGURE, "--root", str(repo)]
    )
    rows = _rows(result)
    assert len(rows) == 1 and rows[0].startswith(ROW), result.stdout
    assert rows[0].endswith("; module databook.align changed |")
    _no_worktree_left(repo)


def test_an_unknown_ref_is_named(repo):
    result = CliRunner().invoke(cli.main, ["diff", "no-such-branch", "HEAD", "--root", str(repo)])
    assert result.exit_code == 1
    assert "'no-such-branch' is neither a folder of provenance records nor a commit" in (
        result.output
    )
    _no_worktree_left(repo)


def test_worktree_is_removed_when_the_build_fails_or_is_interrupted(repo, monkeypatch):
    script = repo / "figures_src" / f"{FIGURE}.py"
    script.write_text(script.read_text() + "\nraise SystemExit('broken on purpose')\n")
    _git(repo, "commit", "-q", "-am", "broken")
    with pytest.raises(RefError, match=r"building the figures of 'HEAD' \(\w+\) failed"):
        with ref_records(repo, "HEAD", only=[FIGURE]):
            pass
    _no_worktree_left(repo)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(gitref, "run_tree", interrupted)
    with pytest.raises(KeyboardInterrupt):
        with ref_records(repo, "HEAD~2", only=[FIGURE]):
            pass
    _no_worktree_left(repo)
