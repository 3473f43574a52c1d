"""Shared fixtures: the project root and one article build per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@dataclass
class Build:
    html: Path
    pdf: Path
    log: str


@pytest.fixture(scope="session")
def built_article() -> Build:
    """Run `databook build` once (as `make article` does) and hand its outputs to tests."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, "-m", "databook.cli", "build"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"databook build failed:\n{log[-4000:]}"
    return Build(
        html=ROOT / "_build" / "html", pdf=ROOT / "_build" / "exports" / "databook.pdf", log=log
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
    from databook.demo.generate import ensure

    paths = ensure(load_lock(ROOT / "assets.lock"), cache_dir())
    return Demo(paths, json.loads(paths["demo-ground-truth"].read_text()))
