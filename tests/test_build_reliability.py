"""A build killed in mystmd (the PDF's LaTeX run, the site render) leaves nothing partial.

Runs on a copy of the project the session's build made (figures and mystmd's execution
cache included, so the chapters are not executed again): ~3 minutes.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from databook._process import processes_with_token

pytestmark = pytest.mark.build

MARK = "DATABOOK_KILL_TEST"
WORD = "Quokkaverification"  # added to chapter 0 before the killed builds


def _copy(root: Path, into: Path) -> Path:
    skip = {root / ".git", root / "_build" / "temp", root / "_build" / "screenshots"}

    def ignore(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if Path(folder, n) in skip or n == "__pycache__"]

    shutil.copytree(root, into, ignore=ignore, symlinks=True)
    return into


def _start(project: Path, token: str, log: Path, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(project / "src"),
        "DATABOOK_ROOT": str(project),
        "PYTHONWARNINGS": "ignore",
        MARK: token,
    }
    env.pop("DATABOOK_BUILD_LOCK", None)
    with open(log, "w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "databook.cli", "build", "--root", str(project), *args],
            cwd=project,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole below
        )


def _cmdlines(token: str) -> dict[int, str]:
    found = {}
    for pid in processes_with_token(MARK, token):
        try:
            found[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
    return found


def _kill_when(build: subprocess.Popen, token: str, log: Path, pattern: str, ready=None) -> None:
    """SIGKILL the build's process group once a descendant matching ``pattern`` runs
    (and ``ready()`` holds, if given)."""
    deadline = time.monotonic() + 600
    while not any(re.search(pattern, c) for c in _cmdlines(token).values()) or (
        ready is not None and not ready()
    ):
        assert build.poll() is None, f"build ended before {pattern}:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"no {pattern} within 600 s"
        time.sleep(0.02)
    os.killpg(build.pid, signal.SIGKILL)
    build.wait(timeout=30)


def _files(folder: Path) -> dict[str, str]:
    if not folder.is_dir():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _holds(folder: Path, word: str) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and word.encode() in p.read_bytes()]


def test_sigkill_in_latex_and_in_the_site_render_leaves_nothing_partial(
    built_article, root, tmp_path
):
    project = _copy(root, tmp_path / "project")
    exports, html = project / "_build" / "exports", project / "_build" / "html"
    old_exports, old_html = _files(exports), _files(html)
    assert "databook.pdf" in old_exports and "index.html" in old_html
    chapter = project / "chapters" / "00-introduction.md"
    chapter.write_text(chapter.read_text() + f"\n\nA sentence with the word {WORD}.\n")
    tokens = []
    try:
        # 1. Killed while LaTeX makes the PDF: the published exports and site are the
        #    old complete ones; mystmd died with the build (nothing writes on).
        tokens.append(uuid.uuid4().hex)
        build = _start(project, tokens[-1], tmp_path / "latex.log")
        _kill_when(build, tokens[-1], tmp_path / "latex.log", r"\b(pdf|xe|lua)latex\b|latexmk")
        time.sleep(2)
        assert not [c for c in _cmdlines(tokens[-1]).values() if "myst" in c]
        assert _files(exports) == old_exports, "_build/exports changed by a killed build"
        assert _holds(exports, WORD) == []
        assert _files(html) == old_html
        # 2. Killed while the site is rendered, a page or more written: _build/html holds
        #    no page of the unfinished site (mystmd empties it when its site step starts).
        tokens.append(uuid.uuid4().hex)
        build = _start(project, tokens[-1], tmp_path / "site.log", "--no-pdf")
        pages = (html, project / "_build" / "staging" / "html")
        _kill_when(
            build,
            tokens[-1],
            tmp_path / "site.log",
            r"databook\.site",
            ready=lambda: any(WORD in _read(p / "00-introduction.html") for p in pages),
        )
        left = _files(html)
        assert left in ({}, old_html), f"partial site published: {sorted(left)}"
        assert _files(exports) == old_exports
        # 3. The next build recovers by itself: complete, new outputs, no leftovers.
        log = tmp_path / "next.log"
        build = _start(project, uuid.uuid4().hex, log)
        assert build.wait(timeout=900) == 0, log.read_text()[-4000:]
    finally:
        for token in tokens:
            for pid in _cmdlines(token):
                os.kill(pid, signal.SIGKILL)
    assert all(_cmdlines(t) == {} for t in tokens), "a killed build's process outlived the next"
    chapters = [p.stem + ".html" for p in (project / "chapters").glob("[0-9][0-9]-*.md")]
    site = _files(html)
    assert {"index.html", "databook.pdf", *chapters} <= set(site)
    assert WORD in (html / "00-introduction.html").read_text(encoding="utf-8")
    assert site["databook.pdf"] == _files(exports)["databook.pdf"] != old_exports["databook.pdf"]
    text = subprocess.run(
        ["pdftotext", str(exports / "databook.pdf"), "-"], capture_output=True, text=True
    ).stdout
    assert WORD in text
    assert not (project / "_build" / "staging").exists()
    assert not list((project / "_build").glob(".*.old"))
