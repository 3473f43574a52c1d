"""`databook diff` with a git ref: the ref's figures are built in a temporary worktree."""

from __future__ import annotations

import subprocess
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
    """A git copy of the project's committed files: one commit, then evoked_hz 40 -> 80."""
    repo = tmp_path / "repo"
    for name in _git(root, "ls-files", "-z").split("\0"):
        if name and (root / name).is_file():
            target = repo / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((root / name).read_bytes())
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "before")
    script = repo / "figures_src" / f"{FIGURE}.py"
    source = script.read_text()
    assert "evoked_hz=40.0" in source
    script.write_text(source.replace("evoked_hz=40.0", "evoked_hz=80.0"))
    _git(repo, "commit", "-q", "-am", "evoked_hz 80")
    # Temporary worktrees go here, so the test can see that none is left behind.
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.delenv("DATABOOK_ROOT", raising=False)
    return repo


def _no_worktree_left(repo: Path) -> None:
    assert _git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert list(Path(tempfile.gettempdir()).iterdir()) == []


def test_diff_of_two_refs_names_the_one_figure_whose_script_changed(repo):
    result = CliRunner().invoke(
        cli.main, ["diff", "HEAD~1", "HEAD", "--only", FIGURE, "--root", str(repo)]
    )
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if line.startswith("| `")]
    assert len(rows) == 1 and rows[0].startswith(ROW), result.stdout
    before, after = (_git(repo, "rev-parse", ref).strip()[:7] for ref in ("HEAD~1", "HEAD"))
    assert f"### Figures: `HEAD~1 ({before})` -> `HEAD ({after})`" in result.stdout
    _no_worktree_left(repo)


def test_a_ref_against_the_working_tree_records(repo):
    """HEAD~1 vs the working tree's figures/ (built from HEAD): the same one change."""
    runner = CliRunner()
    built = runner.invoke(cli.main, ["figures", FIGURE, "--root", str(repo)])
    assert built.exit_code == 0, built.output
    result = runner.invoke(
        cli.main, ["diff", "HEAD~1", str(repo / "figures"), "--only", FIGURE, "--root", str(repo)]
    )
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if line.startswith("| `")]
    assert len(rows) == 1 and rows[0].startswith(ROW), result.stdout
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
        with ref_records(repo, "HEAD~1", only=[FIGURE]):
            pass
    _no_worktree_left(repo)
