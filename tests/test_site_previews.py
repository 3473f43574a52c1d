"""Hover previews written at build time: what each link's preview holds."""

from __future__ import annotations

import re

from databook.site.ast import Renderer
from databook.site.previews import attach_previews, collect_targets


def text(value):
    return {"type": "text", "value": value}


PAGE = {
    "type": "root",
    "children": [
        {"type": "heading", "depth": 2, "identifier": "sec-maps", "children": [text("Maps")]},
        {"type": "paragraph", "children": [text("First paragraph of the maps.")]},
        {"type": "paragraph", "children": [text("Second paragraph.")]},
        {
            "type": "container",
            "kind": "figure",
            "identifier": "fig-rf",
            "children": [
                {"type": "image", "url": "/fig_rf_maps-123.png"},
                {
                    "type": "caption",
                    "children": [
                        {
                            "type": "paragraph",
                            "children": [
                                {"type": "captionNumber", "children": [text("Figure 2:")]},
                                text("Receptive-field maps."),
                            ],
                        }
                    ],
                },
            ],
        },
        {
            "type": "math",
            "identifier": "eq-g",
            "enumerator": "3",
            "value": "g",
            "html": '<span class="katex">g</span>',
        },
    ],
}


def _targets():
    return collect_targets(
        PAGE,
        lambda: Renderer(
            asset_url=lambda url: "build/" + url.rsplit("/", 1)[-1], page_url=str, chapter=5
        ),
    )


def test_targets_hold_figure_thumbnail_and_caption_equation_and_section():
    targets = _targets()
    figure = targets["fig-rf"]
    assert '<img src="build/fig_rf_maps-123.png"' in figure
    assert "Figure 2:" in figure and "Receptive-field maps." in figure
    assert '<span class="katex">g</span>' in targets["eq-g"] and "(3)" in targets["eq-g"]
    section = targets["sec-maps"]
    assert "5.1" in section and "Maps" in section
    assert "First paragraph of the maps." in section and "Second" not in section
    assert ' id="' not in figure + targets["eq-g"]  # no id twice on the page


def test_links_name_their_preview_and_the_page_carries_each_once():
    body = (
        '<p>See <a class="xref figure" href="#fig-rf">Figure 2</a> and again '
        '<a class="xref figure" href="#fig-rf">Figure 2</a>, equation '
        '<a class="xref equation" href="#eq-g">(3)</a>, a cited work '
        '<a class="cite" href="#cite-Hubel1962">Hubel &amp; Wiesel, 1962</a>, '
        '<a class="xref figure" href="other.html#fig-x">Figure 9</a> and '
        '<a class="xref figure" href="#fig-missing">Figure 7</a>.</p>'
    )
    targets = {"05-rf.html": _targets(), "other.html": {"fig-x": "<p>Other figure</p>"}}
    refs = {"Hubel1962": 'Hubel, D. H. (1962). <a href="https://doi.org/10.1113/x">10.1113/x</a>'}
    out, templates = attach_previews(body, "05-rf.html", targets, refs)
    names = re.findall(r'href="([^"]*)"(?: data-preview="([^"]*)")?', out)
    assert names == [
        ("#fig-rf", "preview-1"),
        ("#fig-rf", "preview-1"),
        ("#eq-g", "preview-2"),
        ("#cite-Hubel1962", "preview-4"),
        ("other.html#fig-x", "preview-3"),
        ("#fig-missing", ""),  # no target: stays a plain link
    ]
    assert templates.startswith('<div class="previews" hidden>')
    assert templates.count("<template") == 4
    cite = re.search(r'<template id="preview-4">(.*?)</template>', templates).group(1)
    assert "Hubel, D. H. (1962)." in cite and "<a " not in cite  # no link inside a popup
    assert "Other figure" in templates


def test_page_without_references_gets_no_preview_markup():
    out, templates = attach_previews("<p>plain</p>", "a.html", {}, {})
    assert (out, templates) == ("<p>plain</p>", "")
