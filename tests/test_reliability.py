"""A build that never leaves a mess: killed figure runs, and two builds at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from databook import cli

SRC = str(Path(__file__).resolve().parents[1] / "src")
# Writes half its output, says so, then hangs: the runner is killed at that moment.
SLOW = """
import os, pathlib, time
OUTPUTS = ["fig_a.txt"]
out = pathlib.Path(os.environ["DATABOOK_FIGURE_DIR"])
(out / "fig_a.txt").write_text("half")
(out.parent / "child.pid").write_text(str(os.getpid()))
time.sleep(20)
"""
FAST = """
import os, pathlib
OUTPUTS = ["fig_a.txt"]
pathlib.Path(os.environ["DATABOOK_FIGURE_DIR"], "fig_a.txt").write_text("whole")
"""


@pytest.fixture(autouse=True)
def _no_root_from_the_environment(monkeypatch):
    """``--root`` must win: tests/mutations.py runs us with DATABOOK_ROOT set to its copy."""
    monkeypatch.delenv("DATABOOK_ROOT", raising=False)


def _project(tmp_path: Path, script: str) -> Path:
    (tmp_path / "myst.yml").write_text("version: 1\n")
    (tmp_path / "figures_src").mkdir(exist_ok=True)
    (tmp_path / "figures_src" / "fig_a.py").write_text(script)
    (tmp_path / "environment.lock").write_text("")
    (tmp_path / "assets.lock").write_text(
        '[[asset]]\nkey = "allen"\ndandiset = "000021"\npath = "a.nwb"\n'
    )
    return tmp_path


def _wait_for(path: Path, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def _start(args: list[str], root: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.Popen(
        [sys.executable, "-m", "databook.cli", *args, "--root", str(root)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_sigkill_during_a_figure_leaves_no_output_or_record_and_next_run_recovers(tmp_path):
    root = _project(tmp_path, SLOW)
    figures = root / "figures"
    runner = _start(["figures"], root)
    try:
        _wait_for(figures / "child.pid")
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
    finally:
        child = figures / "child.pid"
        if child.exists():
            os.kill(int(child.read_text()), signal.SIGKILL)
        runner.kill()
    assert not (figures / "fig_a.txt").exists()  # the half-written file stayed in staging
    assert not (figures / "fig_a.provenance.json").exists()
    assert list(figures.glob(".staging-*"))  # the killed run's leftovers ...
    (root / "figures_src" / "fig_a.py").write_text(FAST)
    result = CliRunner().invoke(cli.main, ["figures", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert (figures / "fig_a.txt").read_text() == "whole"
    record = json.loads((figures / "fig_a.provenance.json").read_text())
    assert record["outputs"][0]["bytes"] == 5
    assert not list(figures.glob(".staging-*"))  # ... are gone after the next run


def test_a_second_build_is_refused_naming_the_first_ones_pid(tmp_path):
    root = _project(tmp_path, SLOW)
    first = _start(["figures"], root)
    try:
        _wait_for(root / "figures" / "child.pid")
        result = CliRunner().invoke(cli.main, ["figures", "--root", str(root)])
        assert result.exit_code == 1
        assert f"Error: another databook build (PID {first.pid}) is running in {root}" in (
            result.output
        )
        result = CliRunner().invoke(cli.main, ["build", "--root", str(root), "--no-pdf"])
        assert f"another databook build (PID {first.pid})" in result.output
        # Killed outright, the first build releases the lock: the next one runs.
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        child = root / "figures" / "child.pid"
        if child.exists():
            os.kill(int(child.read_text()), signal.SIGKILL)
        first.kill()
    (root / "figures_src" / "fig_a.py").write_text(FAST)
    result = CliRunner().invoke(cli.main, ["figures", "--root", str(root)])
    assert result.exit_code == 0, result.output


def test_a_process_started_by_the_build_runs_inside_its_lock(tmp_path):
    """Chapter 1 refreshes its figures while mystmd executes it inside `databook build`."""
    from databook.article import project_lock
    from databook.paths import Project

    root = _project(tmp_path, FAST)

    def figures(env: dict) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "databook.cli", "figures", "--root", str(root)],
            cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    with project_lock(Project(root)):
        inherited = figures(dict(os.environ))  # what the build's children see
        stranger = figures({k: v for k, v in os.environ.items() if k != "DATABOOK_BUILD_LOCK"})
    assert inherited.returncode == 0, inherited.stdout + inherited.stderr
    assert (root / "figures" / "fig_a.txt").read_text() == "whole"
    assert stranger.returncode == 1
    assert f"another databook build (PID {os.getpid()})" in stranger.stderr


def test_two_clean_builds_in_different_folders_and_caches_are_identical(root, tmp_path):
    """Same figure bytes and the same records apart from time and memory."""
    import shutil

    records = []
    for run in ("a", "b"):
        project = tmp_path / run / "project"
        (project / "figures_src").mkdir(parents=True)
        for name in ("myst.yml", "environment.lock", "assets.lock"):
            shutil.copy2(root / name, project / name)
        shutil.copy2(root / "figures_src" / "fig_psth_primer.py", project / "figures_src")
        env = {**os.environ, "PYTHONPATH": SRC, "DATABOOK_CACHE": str(tmp_path / run / "cache")}
        proc = subprocess.run(
            [sys.executable, "-m", "databook.cli", "figures", "--root", str(project)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        record = json.loads((project / "figures" / "fig_psth_primer.provenance.json").read_text())
        assert record["wall_time_s"] > 0 and record["peak_memory_mib"] > 0
        del record["wall_time_s"], record["peak_memory_mib"]
        records.append(record)
    assert records[0] == records[1]
    shas = [
        figures_sha(tmp_path / run / "project" / "figures" / "fig_psth_primer.png")
        for run in ("a", "b")
    ]
    assert shas[0] == shas[1] == records[0]["outputs"][0]["sha256"]


def figures_sha(path: Path) -> str:
    from databook._hashing import sha256_file

    return sha256_file(path)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_next_build_ends_what_a_killed_build_left_running(tmp_path):
    """SIGKILL leaves the build's children (mystmd, kernels, a figure script) orphaned."""
    root = _project(tmp_path, SLOW)
    runner = _start(["figures"], root)
    child = root / "figures" / "child.pid"
    try:
        _wait_for(child)
        orphan = int(child.read_text())
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
        assert _alive(orphan)  # still running, and would still write into figures/
        (root / "figures_src" / "fig_a.py").write_text(FAST)
        result = CliRunner().invoke(cli.main, ["figures", "--root", str(root)])
        assert result.exit_code == 0, result.output
        assert not _alive(orphan)
    finally:
        if child.exists() and _alive(int(child.read_text())):
            os.kill(int(child.read_text()), signal.SIGKILL)
        runner.kill()


def test_a_killed_builds_unpublished_output_is_cleared_and_never_published(tmp_path):
    """What a build killed in mystmd leaves: staged site and exports, a torn cache entry."""
    from databook.article import _clear_leftovers, staging
    from databook.paths import Project

    project = Project(_project(tmp_path, FAST))
    stage = staging(project)
    (stage / "html").mkdir(parents=True)
    (stage / "html" / "00-introduction.html").write_text("<html><body>half")
    (stage / "exports").mkdir()
    (stage / "exports" / "databook.pdf").write_bytes(b"%PDF-1.7 trunc")
    (project.build / ".html.old").mkdir()
    execute = project.build / "execute"
    execute.mkdir()
    (execute / "whole.ipynb").write_text(json.dumps({"cells": [], "nbformat": 4}))
    (execute / "torn.ipynb").write_text('{"cells": [{"outputs": [{"data": {"image/png": "iVBO')
    _clear_leftovers(project)
    assert not stage.exists() and not (project.build / ".html.old").exists()
    assert sorted(p.name for p in execute.iterdir()) == ["whole.ipynb"]


def test_publish_swaps_the_finished_folder_in_and_drops_the_old_one(tmp_path):
    from databook.article import publish

    target, new = tmp_path / "html", tmp_path / "staging" / "html"
    target.mkdir()
    (target / "index.html").write_text("old")
    (target / "gone.html").write_text("old")
    new.mkdir(parents=True)
    (new / "index.html").write_text("new")
    publish(new, target)
    assert sorted(p.name for p in target.iterdir()) == ["index.html"]
    assert (target / "index.html").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["html", "staging"]
    assert not new.exists()


def test_mystmd_writes_every_export_into_staging(root):
    """The build publishes _build/exports from staging: myst.yml must send them there."""
    import yaml

    from databook.article import staging
    from databook.paths import Project

    project = Project(root)
    exports = yaml.safe_load((root / "myst.yml").read_text())["project"]["exports"]
    outputs = [root / export["output"] for export in exports]
    assert outputs and all(staging(project) / "exports" in p.parents for p in outputs)
    pdf = staging(project) / "exports" / project.pdf.name
    assert pdf in outputs


def test_mystmd_executes_the_chapters_in_parallel(root, monkeypatch):
    """One chapter per core at once (mystmd's default would run them one by one on two
    cores), or as many as DATABOOK_EXECUTE_PARALLEL says; a bad value is named."""
    from databook import article
    from databook.paths import Project

    commands = []

    def run_tree(command, **kwargs):
        commands.append(command)
        return subprocess.CompletedProcess(command, 0)

    def parallelism() -> str:
        article.run_myst(Project(root), "demo", ["--pdf"])
        command = commands.pop()
        return command[command.index("--execute-parallel") + 1]

    monkeypatch.setattr(article, "run_tree", run_tree)
    monkeypatch.setattr(article.os, "cpu_count", lambda: 3)
    monkeypatch.delenv("DATABOOK_EXECUTE_PARALLEL", raising=False)
    assert parallelism() == "3"
    monkeypatch.setenv("DATABOOK_EXECUTE_PARALLEL", "1")
    assert parallelism() == "1"
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("DATABOOK_EXECUTE_PARALLEL", bad)
        with pytest.raises(article.ArticleError, match="DATABOOK_EXECUTE_PARALLEL must be"):
            parallelism()


def test_site_renders_into_the_folder_the_build_names(monkeypatch, tmp_path):
    from databook.site import render

    seen = {}
    monkeypatch.setattr(
        render, "render_site", lambda cdn, out, tdir: seen.setdefault("out", out) and []
    )
    monkeypatch.setenv("CONTENT_CDN", "http://127.0.0.1:1")
    monkeypatch.setenv("BUILD_DIRECTORY", str(tmp_path / "html"))
    monkeypatch.setenv("DATABOOK_SITE_OUT", str(tmp_path / "staging"))
    render.main()
    assert seen["out"] == tmp_path / "staging"
