"""The provenance block under each figure on the web site (databook.site.provenance)."""

from __future__ import annotations

from html.parser import HTMLParser

from databook.site.ast import Renderer
from databook.site.provenance import FigureNotes, source_url

RECORD = {
    "script": "figures_src/fig_a.py",
    "git_commit": "a" * 40,
    "git_dirty": False,
    "environment_lock_sha256": "e1" * 32,
    "inputs": [
        {
            "key": "allen",
            "sha256": "cd" * 32,
            "dandiset": "000021",
            "version": "0.2",
            "path": "s.nwb",
        }
    ],
    "outputs": [{"file": "fig_a.png", "sha256": "00" * 32, "bytes": 3}],
}
DEMO = {
    **RECORD,
    "script": "figures_src/fig_b.py",
    "inputs": [{"key": "demo-ecephys", "sha256": "ab" * 32, "dandiset": "demo", "path": "e"}],
    "outputs": [{"file": "fig_b.png", "sha256": "11" * 32, "bytes": 3}],
}


def _figure(source: str) -> dict:
    return {
        "type": "container",
        "kind": "figure",
        "children": [
            {"type": "image", "url": "/x-123.png", "urlSource": source},
            {"type": "caption", "children": [{"type": "text", "value": "Cap"}]},
        ],
    }


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.append(dict(attrs)["href"])


def _render(node, notes):
    html = Renderer(asset_url=lambda u: u, page_url=lambda s: s, figure_note=notes).render(node)
    parser = _Text()
    parser.feed(html)
    return html, " ".join("".join(parser.parts).split()), parser.links


def test_figure_shows_script_link_inputs_environment_and_full_record():
    notes = FigureNotes({"a": RECORD, "b": DEMO}, "https://github.com/o/r", "f" * 40)
    html, text, links = _render(_figure("../figures/fig_a.png"), notes)
    assert links == ["https://github.com/o/r/blob/" + "f" * 40 + "/figures_src/fig_a.py"]
    assert (
        "Made by figures_src/fig_a.py at fffffff from 000021@0.2/s.nwb (sha256 cdcdcdcdcdcd); "
        "environment e1e1e1e1e1e1." in text
    )
    assert html.index("Cap") < html.index('class="provenance"') < html.index("</figure>")
    assert "<details><summary>Full provenance record</summary>" in html
    assert "&quot;environment_lock_sha256&quot;: &quot;" + "e1" * 32 in html
    _, text, _ = _render(_figure("../figures/fig_b.png"), notes)
    assert "from simulated demo data demo-ecephys (sha256 abababababab)" in text


def test_missing_record_is_said_and_other_images_get_nothing():
    notes = FigureNotes({}, None, "unknown")
    _, text, _ = _render(_figure("../figures/fig_c.png"), notes)
    assert "No provenance record for fig_c.png." in text
    html, _, _ = _render(_figure("images/logo.png"), notes)
    assert "provenance" not in html


def test_dirty_tree_and_unknown_repository_are_said():
    notes = FigureNotes({"a": {**RECORD, "git_dirty": True}}, None, "unknown")
    _, text, links = _render(_figure("../figures/fig_a.png"), notes)
    assert links == []
    assert "Made by figures_src/fig_a.py at an unknown commit from 000021@0.2/s.nwb" in text
    assert "(figure built from a tree with uncommitted changes)." in text


def test_source_url_comes_from_pyproject(root):
    assert source_url(root) == "https://github.com/databook-org/databook"


def test_a_figure_of_a_whole_dandiset_names_it_by_version_and_keeps_each_in_the_record():
    many = [
        {"key": f"s{i}", "sha256": "cd" * 32, "dandiset": "000006", "version": "0.1",
         "path": f"sub-{i}.nwb"}
        for i in range(30)
    ]  # fmt: skip
    many.append({"key": "h", "sha256": "ee" * 32, "dandiset": "000207", "version": "0.2"})
    notes = FigureNotes({"a": {**RECORD, "inputs": many}}, None, "unknown")
    html, text, _ = _render(_figure("../figures/fig_a.png"), notes)
    assert "from 30 assets of 000006@0.1; 1 asset of 000207@0.2 (each with its path" in text
    assert "sub-29.nwb" not in text.split("Full provenance record")[0]
    assert "sub-29.nwb" in html  # in the full record
