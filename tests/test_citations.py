"""Citations: written one way per meaning in the chapters, rendered one way on the web."""

from __future__ import annotations

import re
from pathlib import Path

from databook.site.ast import Renderer

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]-*.md"))

#: A citation role of any kind: {cite}, {cite:p}, {cite:t}, {cite:ps}, ...
_ROLE = re.compile(r"\{cite(?::(\w+))?\}`([^`]*)`")
#: A narrative citation written as MyST's ``@key`` (not an e-mail address or decorator).
_AT = re.compile(r"(?<![\w@`.])@([A-Za-z][\w-]*\d{4}[a-z]?)\b")


def _prose(text: str) -> str:
    """The chapter without fenced code (where ``@`` and braces mean other things)."""
    return re.sub(r"^(`{3,}|~{3,}).*?^\1\s*$", "", text, flags=re.S | re.M)


def _bib_entries() -> dict[str, str]:
    text = (ROOT / "references.bib").read_text(encoding="utf-8")
    starts = [(m.start(), m.group(1)) for m in re.finditer(r"^@\w+\{([^,]+),", text, re.M)]
    ends = [s for s, _ in starts[1:]] + [len(text)]
    return {key: text[start:end] for (start, key), end in zip(starts, ends, strict=True)}


def test_chapters_cite_parenthetically_with_cite_p_and_narratively_with_at():
    """One source form per meaning, so the web and the PDF print each kind the same way:
    ``{cite:p}`` for "(Author, Year)", ``@key`` for "Author (Year)"."""
    odd = []
    for chapter in CHAPTERS:
        prose = _prose(chapter.read_text(encoding="utf-8"))
        for match in _ROLE.finditer(prose):
            if match.group(1) != "p":
                odd.append(f"{chapter.name}: {match.group(0)}")
        for link in re.findall(r"\]\((https?://(?:dx\.)?doi\.org/[^)]+)\)", prose):
            odd.append(f"{chapter.name}: raw DOI link {link} (cite the reference instead)")
    assert odd == [], "citations written in another form:\n" + "\n".join(odd)


def test_every_cited_key_is_in_the_bibliography_with_a_doi():
    entries = _bib_entries()
    cited = set()
    for chapter in CHAPTERS:
        prose = _prose(chapter.read_text(encoding="utf-8"))
        for match in _ROLE.finditer(prose):
            cited |= {key.strip() for key in match.group(2).split(",")}
        cited |= set(_AT.findall(prose))
    assert cited, "no citation found in the chapters"
    assert sorted(cited - set(entries)) == []
    no_doi = [key for key, body in entries.items() if not re.search(r"\bdoi\s*=\s*\{10\.", body)]
    assert no_doi == [], f"bibliography entries without a DOI: {no_doi}"


def test_narrative_cite_renders_the_same_bare_or_grouped():
    """mystmd gives ``@key`` as a bare cite and ``{cite:t}`` as a narrative group."""
    cite = {
        "type": "cite",
        "label": "A2020",
        "kind": "narrative",
        "children": [{"type": "text", "value": "A (2020)"}],
    }
    group = {"type": "citeGroup", "kind": "narrative", "children": [cite]}

    def render(node):
        return Renderer(asset_url=str, page_url=str).render(node)

    assert render(cite) == render(group)
    assert render(cite) == (
        '<span class="cite-group narrative"><a class="cite" href="#cite-A2020">A (2020)</a></span>'
    )


def test_pdf_bibliography_style_abbreviates_every_given_name():
    """references.bib mixes full given names and initials; the web (APA) prints initials
    for all, and so must the PDF (abbrvnat), or those entries look unlike the others."""
    template = (ROOT / "templates" / "latex" / "template.tex").read_text(encoding="utf-8")
    assert re.findall(r"\\bibliographystyle\{(\w+)\}", template) == ["abbrvnat"]
