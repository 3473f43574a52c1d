"""Provenance in the built article: under every web figure, in the PDF, in chapter 9."""

from __future__ import annotations

import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from databook.figures import git_state
from tests.conftest import chapter_figures

pytestmark = pytest.mark.build

REPOSITORY = "https://github.com/databook-org/databook"


class _Figures(HTMLParser):
    """Each <figure class="figure">: its image and the links of its provenance block."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[dict] = []
        self.depth = 0
        self.in_provenance = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "figure":
            self.depth += 1
            if self.depth == 1 and attrs.get("class") == "figure":
                self.figures.append({"images": [], "links": [], "provenance": False})
        if not self.figures or self.depth == 0:
            return
        current = self.figures[-1]
        if tag == "img":
            current["images"].append(attrs.get("src", ""))
        if tag == "div" and "provenance" in (attrs.get("class") or "").split():
            current["provenance"] = True
            self.in_provenance = True
        if tag == "a" and self.in_provenance:
            current["links"].append(attrs.get("href", ""))

    def handle_endtag(self, tag):
        if tag == "figure" and self.depth:
            self.depth -= 1
            self.in_provenance = False


def _records(root: Path) -> dict[str, dict]:
    return {
        p.name.removesuffix(".provenance.json"): json.loads(p.read_text())
        for p in (root / "figures").glob("*.provenance.json")
    }


def test_every_web_figure_has_its_provenance_line(built_article, root):
    commit, _ = git_state(root)
    shown = set()
    for page in built_article.html.glob("*.html"):
        parser = _Figures()
        parser.feed(page.read_text(encoding="utf-8"))
        for figure in parser.figures:
            if not any(re.search(r"build/fig_\w+", src) for src in figure["images"]):
                continue
            assert figure["provenance"], f"{page.name}: a figure without provenance"
            (link,) = figure["links"]
            match = re.fullmatch(
                re.escape(f"{REPOSITORY}/blob/{commit}/figures_src/") + r"(fig_\w+)\.py", link
            )
            assert match, link
            shown.add(match.group(1))
    assert shown == chapter_figures(root)


def test_pdf_names_script_and_commit_under_every_figure(built_article, root):
    text = subprocess.run(
        ["pdftotext", str(built_article.pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    # pdftotext may put a running header or a table between the note's label and its
    # text when a figure floats to the top of a page: check both parts, and their count.
    text = " ".join(text.split())
    commit, _ = git_state(root)
    figures = chapter_figures(root)
    for name in figures:
        assert f"figures_src/{name}.py @ {commit[:7]}" in text, name
    assert text.count("source:") >= len(figures)


def test_methods_chapter_has_the_table_of_every_figure(built_article, root):
    html = (built_article.html / "09-methods.html").read_text(encoding="utf-8")
    for name, record in _records(root).items():
        assert f"{name}.py" in html
        assert record["outputs"][0]["sha256"][:12] in html
