"""Hover previews of cross-references and citations, written into each page at build time.

Every target a link can point at (a figure, a table, an equation, a section) gets a small
HTML preview: the figure's image and caption, the typeset equation with its number, the
section's heading and first paragraph; a citation's preview is its bibliography entry.
A page carries the previews its own links need as inert ``<template>`` elements, and each
such link names its template in ``data-preview``; ``site.js`` shows the template's copy
next to the link on hover or keyboard focus. Without JavaScript nothing changes: the link
is a plain link and the templates are never displayed. Images are the site's own files,
so a preview never fetches anything from another origin.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from databook.site.ast import Renderer, plain_text

__all__ = ["attach_previews", "collect_targets"]

Node = dict[str, Any]

_ANCHOR_TAG = re.compile(r"</?a\b[^>]*>")
_ID_ATTR = re.compile(r'\s(?:id|aria-describedby)="[^"]*"')
_XREF = re.compile(r'<a class="xref ([^"]*)" href="([^"]*)">')
_CITE = re.compile(r'<a class="cite" href="#cite-([^"]+)"')


def _inert(fragment: str) -> str:
    """A fragment safe to show inside a popup: no nested links, no duplicate ids."""
    return _ID_ATTR.sub("", _ANCHOR_TAG.sub("", fragment))


def _ident(node: Node) -> str:
    return node.get("html_id") or node.get("identifier") or ""


def _first(node: Node, kind: str) -> Node | None:
    if node.get("type") == kind:
        return node
    for child in node.get("children", []):
        found = _first(child, kind)
        if found is not None:
            return found
    return None


def collect_targets(mdast: Node, make_renderer: Callable[[], Renderer]) -> dict[str, str]:
    """Preview HTML of every referenceable node of one page, keyed by its anchor id.

    ``make_renderer`` returns a fresh :class:`Renderer` set up as for the page itself
    (asset URLs, chapter number), so numbers and image paths match what the page shows.
    """
    renderer = make_renderer()
    targets: dict[str, str] = {}
    pending: list[tuple[str, str]] = []  # (id, heading HTML) waiting for a paragraph

    def walk(node: Node, in_figure: bool = False) -> None:
        kind = node.get("type")
        ident = _ident(node)
        if kind == "heading":
            depth = int(node.get("depth", 2))
            number = node.get("enumerator") or renderer.section_number(depth)
            if ident:
                title = html.escape(plain_text(node))
                prefix = f'<span class="heading-number">{html.escape(number)}</span> '
                pending.append(
                    (ident, f'<p class="preview-title">{prefix if number else ""}{title}</p>')
                )
                targets[ident] = pending[-1][1]
            return
        if kind == "paragraph" and not in_figure and pending:
            body = _inert(renderer.render(node))
            for key, head in pending:
                targets[key] = f'{head}<div class="preview-text">{body}</div>'
            pending.clear()
            return
        if kind == "container":
            if ident:
                parts = []
                image = _first(node, "image")
                if image is not None and image.get("url"):
                    src = html.escape(renderer.asset_url(image["url"]), quote=True)
                    parts.append(f'<img src="{src}" alt="" class="preview-image">')
                caption = _first(node, "caption")
                if caption is not None:
                    parts.append(
                        f'<div class="preview-caption">{_inert(renderer.render(caption))}</div>'
                    )
                targets[ident] = "".join(parts)
            return
        if kind == "math" and ident:
            targets[ident] = _inert(renderer.render(node))
            return
        for child in node.get("children", []):
            walk(child, in_figure)

    walk(mdast)
    return targets


def attach_previews(
    body: str,
    page: str,
    targets: dict[str, dict[str, str]],
    references: dict[str, str],
) -> tuple[str, str]:
    """Link each cross-reference and citation of ``body`` to its preview.

    ``page`` is this page's file name, ``targets`` maps page file -> anchor id -> preview
    HTML (from :func:`collect_targets`), ``references`` maps citation label -> entry HTML.
    Returns the body with ``data-preview`` attributes and the ``<template>`` elements the
    page must carry (empty when no link has a preview).
    """
    ids: dict[tuple[str, str], str] = {}
    templates: list[str] = []

    def template_for(key: tuple[str, str], content: str) -> str:
        if key not in ids:
            ids[key] = f"preview-{len(ids) + 1}"
            templates.append(f'<template id="{ids[key]}">{content}</template>')
        return ids[key]

    def xref(match: re.Match[str]) -> str:
        href = html.unescape(match[2])
        target_page, _, ident = href.partition("#")
        content = targets.get(target_page or page, {}).get(ident)
        if not content:
            return match[0]
        kind = html.escape(match[1].split()[0] if match[1] else "target")
        preview = template_for(
            (target_page or page, ident), f'<div class="preview-body {kind}">{content}</div>'
        )
        return f'<a class="xref {match[1]}" href="{match[2]}" data-preview="{preview}">'

    def cite(match: re.Match[str]) -> str:
        label = html.unescape(match[1])
        entry = references.get(label)
        if not entry:
            return match[0]
        preview = template_for(
            ("#cite", label), f'<div class="preview-body citation">{_inert(entry)}</div>'
        )
        return f'{match[0]} data-preview="{preview}"'

    body = _CITE.sub(cite, _XREF.sub(xref, body))
    if not templates:
        return body, ""
    return body, '<div class="previews" hidden>' + "".join(templates) + "</div>"
