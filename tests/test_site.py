"""The site renderer on mystmd AST fragments: what a reader sees for each node."""

from __future__ import annotations

import re

import pytest

from databook.site.ast import Renderer, plain_text


@pytest.fixture
def render():
    renderer = Renderer(
        asset_url=lambda url: "build/" + url.rsplit("/", 1)[-1], page_url=lambda s: f"{s}.html"
    )
    return renderer


def text(value):
    return {"type": "text", "value": value}


def test_text_is_escaped(render):
    node = {"type": "paragraph", "children": [text("a < b & <script>")]}
    assert render.render(node) == "<p>a &lt; b &amp; &lt;script&gt;</p>"


def test_numbered_equation_keeps_katex_html_and_number(render):
    node = {
        "type": "math",
        "identifier": "eq-x",
        "enumerator": "3",
        "value": "x",
        "html": '<span class="katex">x</span>',
    }
    html = render.render(node)
    assert html == (
        '<div class="math-display" id="eq-x"><span class="katex">x</span>'
        '<span class="eq-number">(3)</span></div>'
    )


def test_math_without_html_falls_back_to_source(render):
    assert "x^2" in render.render({"type": "inlineMath", "value": "x^2"})


def test_parenthetical_cite_group_and_cited_order(render):
    group = {
        "type": "citeGroup",
        "kind": "parenthetical",
        "children": [
            {"type": "cite", "label": "A2020", "children": [text("A, 2020")]},
            {"type": "cite", "label": "B2021", "children": [text("B, 2021")]},
        ],
    }
    html = render.render(group)
    assert html == (
        '<span class="cite-group parenthetical">(<a class="cite" href="#cite-A2020">A, 2020</a>; '
        '<a class="cite" href="#cite-B2021">B, 2021</a>)</span>'
    )
    assert render.cited == ["A2020", "B2021"]


def test_cross_reference_to_other_page(render):
    node = {
        "type": "crossReference",
        "kind": "figure",
        "identifier": "fig-rf",
        "url": "/receptive-fields",
        "children": [text("Figure 4")],
    }
    assert (
        render.render(node)
        == '<a class="xref figure" href="receptive-fields.html#fig-rf">Figure 4</a>'
    )


def test_figure_image_asset_url_and_caption(render):
    node = {
        "type": "container",
        "kind": "figure",
        "identifier": "fig-a",
        "children": [
            {"type": "image", "url": "/fig_a-123.png", "alt": 'a "quoted" alt'},
            {"type": "caption", "children": [{"type": "paragraph", "children": [text("Cap")]}]},
        ],
    }
    html = render.render(node)
    assert '<img src="build/fig_a-123.png" alt="a &quot;quoted&quot; alt"' in html
    assert "<figcaption><p>Cap</p></figcaption>" in html


def test_notebook_outputs(render):
    stream = {
        "type": "output",
        "jupyter_data": {"output_type": "stream", "name": "stdout", "text": "n = 3\n"},
    }
    assert render.render(stream) == '<pre class="output stream stdout">n = 3\n</pre>'
    error = {
        "type": "output",
        "jupyter_data": {"output_type": "error", "ename": "KeyError", "evalue": "'x'"},
    }
    assert "KeyError" in render.render(error)


def test_code_is_highlighted(render):
    html = render.render(
        {"type": "code", "lang": "python", "value": "import numpy", "executable": True}
    )
    assert html.startswith('<pre class="code executable"><code class="language-python">')
    assert '<span class="kn">import</span>' in html


def test_unknown_node_keeps_its_text_and_is_reported(render, capsys):
    node = {"type": "fancyNewThing", "children": [text("still readable")]}
    assert render.render(node) == "still readable"
    assert "fancyNewThing" in capsys.readouterr().err


def test_plain_text():
    assert (
        plain_text(
            {"type": "heading", "children": [text("A "), {"type": "inlineCode", "value": "b"}]}
        )
        == "A b"
    )


def _watermarked(layout, xlabel_wide):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from databook import plots

    plots.figure_style()
    fig, axes = plt.subplots(2, 2, figsize=(4.5, 4), layout=layout)
    for ax in axes.flat:
        ax.plot([0, 1], [0, 1])
        ax.set_title("a panel title that is long", loc="left")
        ax.set_xlabel("time from stimulus onset (ms)" if xlabel_wide else "t (s)")
    plots.watermark(fig, "SIMULATED DATA")
    fig.canvas.draw()
    return fig, axes


@pytest.mark.parametrize("layout", ["constrained", "tight"])
@pytest.mark.parametrize("xlabel_wide", [False, True])
def test_default_watermark_stays_clear_of_every_panel_and_label(layout, xlabel_wide):
    """The SIMULATED DATA mark must never cross data, tick labels or axis labels."""
    import matplotlib.pyplot as plt

    fig, axes = _watermarked(layout, xlabel_wide)
    renderer = fig.canvas.get_renderer()
    mark = fig.texts[-1].get_window_extent(renderer)
    for ax in axes.flat:
        assert not mark.overlaps(ax.get_tightbbox(renderer)), "watermark over a panel"
    assert fig.bbox.x0 - 1 <= mark.x0 and mark.x1 <= fig.bbox.x1 + 1, "cut off"
    assert fig.bbox.y0 - 1 <= mark.y0 and mark.y1 <= fig.bbox.y1 + 1, "cut off"
    plt.close(fig)


def test_spaced_double_hyphen_is_an_en_dash_but_code_keeps_it(render):
    para = {"type": "paragraph", "children": [text("spikes -- and more --- here")]}
    assert render.render(para) == "<p>spikes \u2013 and more \u2014 here</p>"
    assert render.render({"type": "inlineCode", "value": "a -- b"}) == "<code>a -- b</code>"


def test_code_cell_folds_but_its_output_stays_visible(render):
    block = {
        "type": "block",
        "kind": "notebook-code",
        "children": [
            {"type": "code", "lang": "python", "value": "x = 1", "executable": True},
            {"type": "outputs", "children": []},
        ],
    }
    html = render.render(block)
    assert '<details class="cell" open><summary>Code</summary><pre class="code executable">' in html
    assert html.index("</details>") < html.index('<div class="outputs">')


def test_wide_table_scrolls_in_its_own_box(render):
    table = {"type": "table", "children": [{"type": "tableRow", "children": []}]}
    assert render.render(table) == '<div class="table-wrap"><table><tr></tr></table></div>'


def test_sections_are_numbered_like_the_pdf():
    """Chapter 3's sections read 3.1, 3.2, its subsections 3.2.1, as LaTeX numbers them."""
    renderer = Renderer(asset_url=str, page_url=str, chapter=3)

    def heading(depth, title):
        return {"type": "heading", "depth": depth, "identifier": title, "children": [text(title)]}

    html = renderer.render(
        {
            "type": "root",
            "children": [
                heading(2, "a"),
                heading(3, "a1"),
                heading(2, "b"),
                heading(3, "b1"),
                heading(3, "b2"),
                heading(2, "d"),
            ],
        }
    )
    numbers = re.findall(r'<span class="heading-number">([\d.]+)</span>', html)
    assert numbers == ["3.1", "3.1.1", "3.2", "3.2.1", "3.2.2", "3.3"]
