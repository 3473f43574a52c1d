"""Shared fixtures: the project root and one article build per test session."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def chapter_figures(root: Path, data_mode: str = "demo") -> set[str]:
    """Names of the built figures the chapters show in a ``data_mode`` build: every
    ``../figures/fig_*.png`` a chapter names, less the real-data (``DATA = "dandi"``)
    figures in a demo build, whose sections that build leaves out."""
    from databook.figures import discover, in_build

    named = set()
    for chapter in (root / "chapters").glob("[0-9][0-9]-*.md"):
        named |= set(re.findall(r"\.\./figures/(fig_\w+)\.png", chapter.read_text()))
    built = {s.path.stem for s in in_build(discover(root / "figures_src"), data_mode)}
    return named & built


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@dataclass
class Build:
    html: Path
    pdf: Path
    log: str
    survivors: list[str]  # processes the build started that were still alive after it


@pytest.fixture(scope="session")
def built_article() -> Build:
    """Run `databook build` once (as `make article` does) and hand its outputs to tests."""
    import shutil
    import uuid

    from databook._process import processes_with_token

    # Without mystmd's execution cache the chapters really run: a Jupyter server and
    # kernels start, and the orphan check below means something.
    shutil.rmtree(ROOT / "_build" / "execute", ignore_errors=True)
    marker = uuid.uuid4().hex  # inherited by every process the build starts
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "DATABOOK_TEST_BUILD": marker}
    proc = subprocess.run(
        [sys.executable, "-m", "databook.cli", "build"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    survivors = []
    for pid in processes_with_token("DATABOOK_TEST_BUILD", marker):
        try:
            survivors.append(
                Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            )
        except OSError:
            continue
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"databook build failed:\n{log[-4000:]}"
    return Build(
        html=ROOT / "_build" / "html",
        pdf=ROOT / "_build" / "exports" / "databook.pdf",
        log=log,
        survivors=survivors,
    )


@dataclass
class Demo:
    paths: dict[str, Path]
    truth: dict


@pytest.fixture(scope="session")
def demo() -> Demo:
    """The pinned demo dandiset (generated into the data cache if missing) and its truth."""
    import json

    from databook.assets import cache_dir, load_lock
    from databook.assets import ensure_demo as ensure

    paths = ensure(load_lock(ROOT / "assets.lock"), cache_dir())
    return Demo(paths, json.loads(paths["demo-ground-truth"].read_text()))
