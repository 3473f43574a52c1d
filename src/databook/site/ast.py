"""MyST AST (mdast as resolved by mystmd) to HTML.

One function per node type; unknown node types render their children and are reported,
so a new mystmd feature degrades to plain text instead of disappearing silently.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import Any

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

Node = dict[str, Any]

__all__ = ["Renderer", "plain_text"]


def plain_text(node: Node) -> str:
    """Concatenated text of a node, for titles and alt texts."""
    if "value" in node and node["type"] in ("text", "inlineCode"):
        return node["value"]
    return "".join(plain_text(child) for child in node.get("children", []))


def _attr_id(node: Node) -> str:
    ident = node.get("html_id") or node.get("identifier")
    return f' id="{escape(ident)}"' if ident else ""


@dataclass
class Renderer:
    """Render one page's AST; ``asset_url`` maps mystmd asset URLs to site URLs and
    ``page_url`` maps a page slug to its file (for cross-page references);
    ``figure_note``, if given, returns HTML appended inside each figure (its provenance)."""

    asset_url: Callable[[str], str]
    page_url: Callable[[str], str]
    figure_note: Callable[[Node], str] | None = None
    chapter: int | None = None
    cited: list[str] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)
    _sections: list[int] = field(default_factory=lambda: [0, 0])

    def section_number(self, depth: int) -> str:
        """Next number for a heading of ``depth`` (2 or 3), as the PDF prints it ("3.2.1")."""
        if self.chapter is None or depth not in (2, 3):
            return ""
        level = depth - 2
        self._sections[level] += 1
        self._sections[level + 1 :] = [0] * (len(self._sections) - level - 1)
        return ".".join(str(n) for n in [self.chapter, *self._sections[: level + 1]])

    def render(self, node: Node) -> str:
        handler = getattr(self, f"_{node['type']}", None)
        if handler is None:
            if node["type"] not in self.unknown:
                print(f"databook.site: no renderer for node {node['type']!r}", file=sys.stderr)
                self.unknown.add(node["type"])
            return self.children(node)
        return handler(node)

    def children(self, node: Node) -> str:
        return "".join(self.render(child) for child in node.get("children", []))

    def _wrap(self, tag: str, node: Node, attrs: str = "") -> str:
        return f"<{tag}{attrs}>{self.children(node)}</{tag}>"

    # Blocks -------------------------------------------------------------------------
    def _root(self, node: Node) -> str:
        return self.children(node)

    def _block(self, node: Node) -> str:
        kind = node.get("kind")
        cls = f' class="block {escape(kind)}"' if kind else ' class="block"'
        if kind != "notebook-code":
            return self._wrap("section", node, cls + _attr_id(node))
        # A code cell: the source folds away (open by default), its outputs stay visible.
        parts = []
        for child in node.get("children", []):
            html = self.render(child)
            if child.get("type") == "code":
                html = f'<details class="cell" open><summary>Code</summary>{html}</details>'
            parts.append(html)
        return f"<section{cls}{_attr_id(node)}>{''.join(parts)}</section>"

    def _paragraph(self, node: Node) -> str:
        return self._wrap("p", node)

    def _heading(self, node: Node) -> str:
        depth = min(int(node.get("depth", 2)) + 0, 6)
        number = node.get("enumerator") or self.section_number(depth)
        prefix = f'<span class="heading-number">{escape(number)}</span> ' if number else ""
        ident = node.get("html_id") or node.get("identifier")
        anchor = (
            f' <a class="anchor" href="#{escape(ident)}" aria-label="link">#</a>' if ident else ""
        )
        return f"<h{depth}{_attr_id(node)}>{prefix}{self.children(node)}{anchor}</h{depth}>"

    def _thematicBreak(self, node: Node) -> str:
        return "<hr>"

    def _blockquote(self, node: Node) -> str:
        return self._wrap("blockquote", node)

    def _list(self, node: Node) -> str:
        if node.get("ordered"):
            start = node.get("start")
            return self._wrap(
                "ol", node, f' start="{int(start)}"' if start not in (None, 1) else ""
            )
        return self._wrap("ul", node)

    def _listItem(self, node: Node) -> str:
        return self._wrap("li", node)

    def _code(self, node: Node) -> str:
        lang = node.get("lang") or ""
        try:
            lexer = get_lexer_by_name(lang) if lang else TextLexer()
        except ClassNotFound:
            lexer = TextLexer()
        body = highlight(node.get("value", ""), lexer, HtmlFormatter(nowrap=True))
        cls = "code executable" if node.get("executable") else "code"
        code = f'<code class="language-{escape(lang)}">{body}</code>'
        return f'<pre class="{cls}"{_attr_id(node)}>{code}</pre>'

    def _math(self, node: Node) -> str:
        body = node.get("html") or f'<span class="math-source">{escape(node["value"])}</span>'
        number = node.get("enumerator")
        tag = f'<span class="eq-number">({escape(number)})</span>' if number else ""
        return f'<div class="math-display"{_attr_id(node)}>{body}{tag}</div>'

    def _container(self, node: Node) -> str:
        kind = escape(node.get("kind", "figure"))
        note = self.figure_note(node) if self.figure_note and kind == "figure" else ""
        return f'<figure class="{kind}"{_attr_id(node)}>{self.children(node)}{note}</figure>'

    def _caption(self, node: Node) -> str:
        return self._wrap("figcaption", node)

    def _legend(self, node: Node) -> str:
        return self._wrap("div", node, ' class="legend"')

    def _captionNumber(self, node: Node) -> str:
        return self._wrap("span", node, ' class="caption-number"')

    def _image(self, node: Node) -> str:
        src = self.asset_url(node["url"])
        alt = escape(node.get("alt") or "", quote=True)
        width = f' style="width:{escape(node["width"])}"' if node.get("width") else ""
        return f'<img src="{escape(src)}" alt="{alt}" loading="lazy"{width}>'

    def _admonition(self, node: Node) -> str:
        kind = escape(node.get("kind", "note"))
        return self._wrap("aside", node, f' class="admonition {kind}"')

    def _admonitionTitle(self, node: Node) -> str:
        return self._wrap("p", node, ' class="admonition-title"')

    def _table(self, node: Node) -> str:
        # The wrapper scrolls sideways so a wide table never widens the page.
        return f'<div class="table-wrap">{self._wrap("table", node)}</div>'

    def _tableRow(self, node: Node) -> str:
        return self._wrap("tr", node)

    def _tableCell(self, node: Node) -> str:
        return self._wrap("th" if node.get("header") else "td", node)

    def _html(self, node: Node) -> str:
        return node.get("value", "")

    def _comment(self, node: Node) -> str:
        return ""

    def _outputs(self, node: Node) -> str:
        return self._wrap("div", node, ' class="outputs"')

    def _output(self, node: Node) -> str:
        data = node.get("jupyter_data") or {}
        kind = data.get("output_type")
        if kind == "stream":
            name = escape(data.get("name", ""))
            return f'<pre class="output stream {name}">{escape(_text(data.get("text")))}</pre>'
        if kind == "error":
            message = f"{data.get('ename', '')}: {data.get('evalue', '')}"
            return f'<pre class="output error">{escape(message)}</pre>'
        bundle = data.get("data") or {}
        for mime in ("image/svg+xml", "image/png", "image/jpeg", "image/gif"):
            if mime in bundle:
                entry = bundle[mime]
                path = entry.get("path") if isinstance(entry, dict) else None
                if path:
                    return f'<img class="output" src="{escape(self.asset_url(path))}" alt="">'
        if "text/html" in bundle:
            entry = bundle["text/html"]
            content = entry.get("content") if isinstance(entry, dict) else entry
            return f'<div class="output html">{_text(content)}</div>'
        if "text/plain" in bundle:
            entry = bundle["text/plain"]
            text = entry.get("content") if isinstance(entry, dict) else entry
            return f'<pre class="output">{escape(_text(text))}</pre>'
        return self.children(node)

    # Inline ------------------------------------------------------------------------
    def _text(self, node: Node) -> str:
        # " -- " and " --- " are dashes (LaTeX prints them so in the PDF); code keeps "--".
        value = node.get("value", "").replace(" --- ", " \u2014 ").replace(" -- ", " \u2013 ")
        return escape(value, quote=False)

    def _emphasis(self, node: Node) -> str:
        return self._wrap("em", node)

    def _strong(self, node: Node) -> str:
        return self._wrap("strong", node)

    def _underline(self, node: Node) -> str:
        return self._wrap("u", node)

    def _delete(self, node: Node) -> str:
        return self._wrap("del", node)

    def _subscript(self, node: Node) -> str:
        return self._wrap("sub", node)

    def _superscript(self, node: Node) -> str:
        return self._wrap("sup", node)

    def _smallcaps(self, node: Node) -> str:
        return self._wrap("span", node, ' class="smallcaps"')

    def _abbreviation(self, node: Node) -> str:
        title = f' title="{escape(node["title"])}"' if node.get("title") else ""
        return self._wrap("abbr", node, title)

    def _break(self, node: Node) -> str:
        return "<br>"

    def _inlineCode(self, node: Node) -> str:
        return f"<code>{escape(node.get('value', ''))}</code>"

    def _inlineMath(self, node: Node) -> str:
        return node.get("html") or f'<span class="math-source">{escape(node["value"])}</span>'

    def _inlineExpression(self, node: Node) -> str:
        if node.get("children"):
            return f'<span class="computed">{self.children(node)}</span>'
        result = (node.get("result") or {}).get("data", {}).get("text/plain", "")
        return f'<span class="computed">{escape(_text(result))}</span>'

    def _link(self, node: Node) -> str:
        url = node.get("url", "")
        external = url.startswith(("http://", "https://"))
        rel = ' rel="noreferrer"' if external else ""
        return self._wrap("a", node, f' href="{escape(url)}"{rel}')

    def _crossReference(self, node: Node) -> str:
        ident = node.get("html_id") or node.get("identifier", "")
        href = f"#{ident}"
        if node.get("remote") and node.get("url"):
            href = node["url"]
        elif node.get("url") and not node["url"].startswith("#"):
            slug = node["url"].lstrip("/").split("#")[0]
            href = f"{self.page_url(slug)}#{ident}"
        inner = self.children(node) or escape(node.get("enumerator") or ident)
        return f'<a class="xref {escape(node.get("kind", ""))}" href="{escape(href)}">{inner}</a>'

    def _citeGroup(self, node: Node) -> str:
        parts = [self._cite_link(child) for child in node.get("children", [])]
        if node.get("kind") == "parenthetical":
            return f'<span class="cite-group parenthetical">({"; ".join(parts)})</span>'
        return f'<span class="cite-group narrative">{", ".join(parts)}</span>'

    def _cite(self, node: Node) -> str:
        # mystmd gives ``@key`` as a bare cite and {cite:t} as a one-cite narrative group:
        # both read "Author (Year)", so both get the same markup and style.
        return f'<span class="cite-group narrative">{self._cite_link(node)}</span>'

    def _cite_link(self, node: Node) -> str:
        if node.get("type") != "cite":
            return self.render(node)
        label = node.get("label", "")
        if label and label not in self.cited:
            self.cited.append(label)
        if node.get("error"):
            return f'<span class="cite error">{escape(label)}</span>'
        return f'<a class="cite" href="#cite-{escape(label)}">{self.children(node)}</a>'

    def _footnoteReference(self, node: Node) -> str:
        ident = escape(node.get("identifier", ""))
        number = escape(str(node.get("enumerator", ident)))
        return (
            f'<sup class="footnote-ref"><a href="#fn-{ident}" id="fnref-{ident}">{number}</a></sup>'
        )

    def _footnoteDefinition(self, node: Node) -> str:
        ident = escape(node.get("identifier", ""))
        return self._wrap("div", node, f' class="footnote" id="fn-{ident}"')

    def _mystTarget(self, node: Node) -> str:
        return f"<span{_attr_id(node)}></span>"


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "".join(value)
    return "" if value is None else str(value)
