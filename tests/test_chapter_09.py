"""Chapter 9 (Methods): its table and numbers come from the figures' provenance records."""

from __future__ import annotations

import json

import jupytext
import yaml

from databook.figures import run_figures

SCRIPT = """
import os, pathlib
OUTPUTS = ["{name}.txt"]
block = b"x" * ({mib} << 20)
pathlib.Path(os.environ["DATABOOK_FIGURE_DIR"], "{name}.txt").write_text("{name}")
"""


def test_chapter_numbers_are_those_of_the_records(root, tmp_path, monkeypatch):
    project = tmp_path / "p"
    (project / "figures_src").mkdir(parents=True)
    (project / "myst.yml").write_text("version: 1\n")
    for name, mib in (("fig_light", 1), ("fig_heavy", 200)):
        (project / "figures_src" / f"{name}.py").write_text(SCRIPT.format(name=name, mib=mib))
    lock = root / "environment.lock"
    run_figures(project / "figures_src", project / "figures", environment_lock=lock, jobs=1)
    records = {
        p.name.removesuffix(".provenance.json"): json.loads(p.read_text())
        for p in (project / "figures").glob("*.provenance.json")
    }
    monkeypatch.setenv("DATABOOK_ROOT", str(project))
    cells = [
        c.source
        for c in jupytext.read(root / "chapters" / "09-methods.md").cells
        if c.cell_type == "code"
    ]
    namespace: dict = {}
    for source in cells:
        exec(compile(source, "09-methods", "exec"), namespace)
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
