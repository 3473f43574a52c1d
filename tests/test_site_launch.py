"""The Launch menu comes from myst.yml (through mystmd's site config), on every page."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

from databook.site.render import _launch_links, launch_settings, render_site

ROOT = Path(__file__).resolve().parent.parent


def _config_from(myst: dict, pages: list[str]) -> dict:
    """What mystmd serves as ``config.json`` for these myst.yml keys (the parts we read)."""
    project = myst["project"]
    return {
        "options": dict(myst.get("site", {}).get("options") or {}),
        "projects": [
            {
                "title": project.get("title", ""),
                "github": project.get("github"),
                "license": {
                    kind: {"id": spdx, "url": f"https://spdx.org/licenses/{spdx}"}
                    for kind, spdx in project.get("license", {}).items()
                },
                "index": pages[0],
                "pages": [{"slug": slug} for slug in pages[1:]],
            }
        ],
    }


@pytest.fixture
def myst():
    return yaml.safe_load((ROOT / "myst.yml").read_text(encoding="utf-8"))


def _links(myst: dict, location: str = "chapters/05-receptive-fields.md") -> dict[str, str]:
    settings = launch_settings(_config_from(myst, ["a"]))
    return {item["name"]: item["url"] for item in _launch_links(settings, location)}


def test_myst_yml_configures_binder_colab_and_dandi_hub(myst):
    links = _links(myst)
    assert links == {
        "Binder": "https://mybinder.org/v2/gh/databook-org/databook/main"
        "?labpath=chapters/05-receptive-fields.md",
        # Colab opens .ipynb files only: pages.yml pushes the chapters' to this branch.
        "Colab": "https://colab.research.google.com/github/databook-org/databook/blob/notebooks/"
        "chapters/05-receptive-fields.ipynb",
        "DANDI Hub": "https://hub.dandiarchive.org/user-redirect/git-pull?repo="
        "https%3A%2F%2Fgithub.com%2Fdatabook-org%2Fdatabook&branch=main"
        "&urlpath=lab%2Ftree%2Fdatabook%2Fchapters%2F05-receptive-fields.md",
    }


def test_changing_myst_yml_changes_the_launch_links(myst):
    changed = copy.deepcopy(myst)
    changed["project"]["github"] = "https://github.com/someone/fork"
    options = changed["site"]["options"]
    options["launch_branch"] = "review"
    options["launch_binder"] = "https://binder.example.org/"
    options["launch_colab"] = ""
    links = _links(changed)
    assert set(links) == {"Binder", "DANDI Hub"}
    assert links["Binder"].startswith("https://binder.example.org/v2/gh/someone/fork/review?")
    assert "repo=https%3A%2F%2Fgithub.com%2Fsomeone%2Ffork&branch=review" in links["DANDI Hub"]
    del options["launch_dandihub"]
    assert set(_links(changed)) == {"Binder"}
    options["launch_colab"] = "https://colab.example.org"
    options["launch_notebooks_branch"] = "nb"
    assert _links(changed)["Colab"] == (
        "https://colab.example.org/github/someone/fork/blob/nb/chapters/05-receptive-fields.ipynb"
    )


def test_template_declares_every_launch_option_used_in_myst_yml(myst):
    """mystmd accepts a site option only if the site template declares it."""
    template = yaml.safe_load((ROOT / "templates/site/template.yml").read_text(encoding="utf-8"))
    declared = {option["id"] for option in template.get("options", [])}
    used = set(myst["site"]["options"])
    assert {
        "launch_branch",
        "launch_binder",
        "launch_colab",
        "launch_notebooks_branch",
        "launch_dandihub",
    } <= used
    assert used <= declared


def _snapshot(tmp_path: Path, myst: dict) -> tuple[Path, Path]:
    """A content-server snapshot of two chapters and a template folder with KaTeX."""
    snap = tmp_path / "snap"
    pages = ["intro", "rf"]
    (snap / "content").mkdir(parents=True)
    (snap / "config.json").write_text(json.dumps(_config_from(myst, pages)))
    root = tmp_path / "project"
    (root / "chapters").mkdir(parents=True)
    for slug, name in zip(pages, ["00-intro.md", "05-rf.md"], strict=True):
        (root / "chapters" / name).write_text(f"# {slug}\n\nText.\n")
        page = {
            "location": f"/chapters/{name}",
            "frontmatter": {"title": slug.title()},
            "mdast": {"type": "root", "children": [{"type": "text", "value": "Text."}]},
        }
        (snap / "content" / f"{slug}.json").write_text(json.dumps(page))
    template = tmp_path / "template"
    katex = template / "node_modules" / "katex" / "dist"
    (katex / "fonts").mkdir(parents=True)
    (katex / "katex.min.css").write_text("")
    return snap, template, root


def test_every_chapter_page_has_the_launch_menu_from_myst_yml(tmp_path, myst, monkeypatch):
    snap, template, root = _snapshot(tmp_path, myst)
    monkeypatch.setenv("DATABOOK_ROOT", str(root))
    monkeypatch.delenv("DATABOOK_SITE_SNAPSHOT", raising=False)
    out = tmp_path / "html"
    render_site(str(snap), out, template)
    for name in ("00-intro.md", "05-rf.md"):
        html = (out / name.replace(".md", ".html")).read_text(encoding="utf-8")
        menu = re.search(r"<summary>Launch</summary>(.*?)</details>", html, re.S)
        assert menu, f"{name}: no Launch menu"
        assert re.findall(r">([^<]+)</a>", menu.group(1)) == ["Binder", "Colab", "DANDI Hub"]
        assert f"/v2/gh/databook-org/databook/main?labpath=chapters/{name}" in menu.group(1)
        assert f"https://github.com/databook-org/databook/edit/main/chapters/{name}" in html
