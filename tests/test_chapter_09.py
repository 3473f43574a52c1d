"""Chapter 9 (Methods): its table and numbers come from the figures' provenance records."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from databook.figures import run_figures

sys.path.insert(0, str(Path(__file__).parent))
from chapter_cells import run_chapter

SCRIPT = """
import os, pathlib
OUTPUTS = ["{name}.txt"]
block = b"x" * ({mib} << 20)
pathlib.Path(os.environ["DATABOOK_FIGURE_DIR"], "{name}.txt").write_text("{name}")
"""


@pytest.fixture(scope="module")
def methods_project(root, tmp_path_factory) -> Path:
    """A project with two figures' records and this project's citation files and lock
    (the Simulation section reads the demo through it)."""
    project = tmp_path_factory.mktemp("methods") / "p"
    (project / "figures_src").mkdir(parents=True)
    for name in ("myst.yml", "CITATION.cff", "Dockerfile", "assets.lock"):
        shutil.copy(root / name, project / name)
    for name, mib in (("fig_light", 1), ("fig_heavy", 200)):
        (project / "figures_src" / f"{name}.py").write_text(SCRIPT.format(name=name, mib=mib))
    lock = root / "environment.lock"
    run_figures(project / "figures_src", project / "figures", environment_lock=lock, jobs=1)
    return project


def _run_methods(root: Path, project: Path, monkeypatch, **env: str | None) -> tuple[dict, str]:
    """Execute chapter 9's cells in ``project`` with ``env``; its namespace and printed text."""
    monkeypatch.setenv("DATABOOK_ROOT", str(project))
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        namespace = run_chapter(root / "chapters" / "09-methods.md")
    return namespace, out.getvalue()


def test_chapter_numbers_are_those_of_the_records(root, methods_project, monkeypatch):
    project = methods_project
    records = {
        p.name.removesuffix(".provenance.json"): json.loads(p.read_text())
        for p in (project / "figures").glob("*.provenance.json")
    }
    namespace, _ = _run_methods(root, project, monkeypatch)
    assert namespace["n_figures"] == 2
    assert namespace["heaviest"] == "fig_heavy.py"
    assert namespace["max_peak_mib"] == records["fig_heavy"]["peak_memory_mib"] >= 200
    total = sum(r["wall_time_s"] for r in records.values())
    assert abs(namespace["total_wall_s"] - total) < 1e-9
    table = namespace["table"]
    assert (
        table.loc["fig_light.py", "output sha256"]
        == (records["fig_light"]["outputs"][0]["sha256"][:12])
    )
    assert table.loc["fig_light.py", "inputs"] == "none (simulated in the script)"
    assert namespace["versions"] == records["fig_light"]["packages"]


def test_chapter_is_in_the_toc_and_both_exports_after_chapter_8(root):
    config = yaml.safe_load((root / "myst.yml").read_text())["project"]
    toc = [entry["file"] for entry in config["toc"]]
    assert toc.index("chapters/09-methods.md") == toc.index("chapters/08-cells-across-days.md") + 1
    for export in config["exports"]:
        if "articles" in export:
            articles = export["articles"]
            assert articles.index("chapters/09-methods.md") > articles.index(
                "chapters/08-cells-across-days.md"
            )


DIGEST = "ghcr.io/databook-org/databook@sha256:" + "5a" * 32


def _bibtex_version(printed: str) -> str:
    entry = re.search(r"^@software\{(\S+),\n(.*?)^\}$", printed, flags=re.M | re.S)
    assert entry, f"no BibTeX entry in the chapter's output:\n{printed}"
    return re.search(r"^\s+version\s*=\s*\{(.*)\},$", entry.group(2), flags=re.M).group(1)


@pytest.mark.parametrize(
    ("env", "built_in"),
    [
        ({"DATABOOK_IMAGE_DIGEST": DIGEST, "DATABOOK_CONTAINER": "1"}, DIGEST),
        (
            {"DATABOOK_IMAGE_DIGEST": None, "DATABOOK_CONTAINER": None},
            "built outside the container",
        ),
    ],
    ids=["in-the-image", "on-a-host"],
)
def test_how_to_cite_names_the_version_and_the_image(
    root, methods_project, monkeypatch, env, built_in
):
    namespace, printed = _run_methods(root, methods_project, monkeypatch, **env)
    config = yaml.safe_load((root / "myst.yml").read_text())["project"]
    version = next(e["version"] for e in config["exports"] if e.get("format") == "cff")
    assert _bibtex_version(printed) == version == namespace["cite"].version
    assert f"@software{{databook-v{version}," in printed
    assert f"title   = {{{config['title']}}}," in printed
    assert re.search(rf"^this build:\s+{re.escape(built_in)}$", printed, flags=re.M), printed
    from_line = next(
        line for line in (root / "Dockerfile").read_text().splitlines() if line.startswith("FROM ")
    )
    base = re.search(r"^base image:\s+(\S+)$", printed, flags=re.M).group(1)
    assert from_line == f"FROM {base}" and "@sha256:" in base


def test_how_to_cite_reruns_when_the_image_changes(root):
    """mystmd reuses a chapter's cached outputs unless a variable it depends on changed."""
    import jupytext

    meta = jupytext.read(root / "chapters" / "09-methods.md").metadata
    assert {"DATABOOK_IMAGE_DIGEST", "DATABOOK_CONTAINER"} <= set(meta["execute"]["depends_on_env"])
