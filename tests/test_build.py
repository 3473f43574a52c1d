"""The article built end to end: web pages and PDF, checked as a reader would."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.build

CHAPTER_TITLE = "Introduction: from spikes to stimulus-locked responses"


def _chapters(root: Path) -> list[Path]:
    return sorted((root / "chapters").glob("[0-9][0-9]-*.md"))


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.images: list[str] = []
        self.styles: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "link" and attrs.get("rel") == "stylesheet":
            self.styles.append(attrs["href"])


def _parse(path: Path) -> _Collect:
    parser = _Collect()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _pdftotext(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_site_has_index_and_one_page_per_chapter(built_article, root):
    html = built_article.html
    assert (html / "index.html").is_file()
    pages = {p.name for p in html.glob("*.html")} - {"index.html", "404.html", "search.html"}
    assert pages == {f"{c.stem}.html" for c in _chapters(root)}
    index = (html / "index.html").read_text(encoding="utf-8")
    assert CHAPTER_TITLE in index
    assert 'href="00-introduction.html"' in index


def test_every_local_link_image_and_stylesheet_resolves(built_article):
    html = built_article.html
    for page in html.glob("*.html"):
        parsed = _parse(page)
        for href in parsed.links:
            if href.startswith(("http://", "https://", "mailto:")):
                continue
            target, _, fragment = href.partition("#")
            target_page = html / target if target else page
            assert target_page.is_file(), f"{page.name}: link to missing {href}"
            if fragment and target_page.suffix == ".html":
                assert fragment in _parse(target_page).ids, f"{page.name}: dangling #{fragment}"
        for src in parsed.images + parsed.styles:
            assert (html / src).is_file(), f"{page.name}: missing {src}"


def test_chapter_page_renders_math_citations_figure_and_computed_values(built_article):
    page = (built_article.html / "00-introduction.html").read_text(encoding="utf-8")
    # Equation: KaTeX markup with its number, and the in-text reference to it.
    assert re.search(r'<div class="math-display" id="eq-psth">.*class="katex', page, re.S)
    assert '<span class="eq-number">(1)</span>' in page
    assert re.search(r'href="#eq-psth"[^>]*>\(1\)</a>', page)
    # Citations resolved to author-year text linking to a reference entry with its DOI.
    assert re.search(
        r'<a class="cite" href="#cite-Siegle2021"[^>]*>Siegle <em>et al\.</em>, 2021</a>', page
    )
    assert 'id="cite-Siegle2021"' in page and "10.1038/s41586-020-03171-x" in page
    # Figure with number and caption; the image is the built figure.
    assert re.search(r'<figure class="figure" id="fig-psth-primer">', page)
    assert "Figure\u00a01:" in page
    # Executed cell output and inline computed values agree.
    out = re.search(r"evoked (\d+\.\d) spikes/s \(planted 40\), baseline (\d+\.\d)", page)
    assert out, "executed cell output missing"
    evoked, baseline = map(float, out.groups())
    assert abs(evoked - 40) < 2 and abs(baseline - 5) < 0.5
    computed = re.findall(r'<span class="computed">([\d.]+)</span>', page)
    assert computed == [out.group(1), out.group(2)]
    assert "??" not in page


def test_web_figure_is_the_built_figure(built_article, root):
    from databook.figures import sha256_file

    parsed = _parse(built_article.html / "00-introduction.html")
    # One figure; its hover preview (a <template>) shows the same file.
    assert len(set(parsed.images)) == 1
    assert sha256_file(built_article.html / parsed.images[0]) == sha256_file(
        root / "figures" / "fig_psth_primer.png"
    )


def test_pdf_has_title_resolved_citation_figure_and_no_unresolved_refs(built_article):
    text = _pdftotext(built_article.pdf)
    flat = " ".join(text.split())
    assert CHAPTER_TITLE in flat
    assert "(Siegle et al., 2021)" in flat
    assert "Survey of spiking in the mouse visual system reveals functional hierarchy" in flat
    assert "??" not in text
    assert "Figure 1:" in flat and "Equation (1)" in flat
    images = subprocess.run(
        ["pdfimages", "-list", str(built_article.pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert len(images) >= 1, "the figure is not embedded in the PDF"
    width, height = map(int, images[0].split()[3:5])
    from PIL import Image

    with Image.open(built_article.html.parent.parent / "figures" / "fig_psth_primer.png") as png:
        assert (width, height) == png.size, "embedded figure is not the 200-dpi PNG"
    assert width == 900


def test_pdf_fonts_are_embedded_outlines(built_article):
    fonts = subprocess.run(
        ["pdffonts", str(built_article.pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert fonts
    for line in fonts:
        assert "Type 3" not in line, f"bitmap font in PDF: {line}"
        assert " yes " in line, f"font not embedded: {line}"


def test_second_build_rebuilds_no_figure(built_article, root):
    import subprocess as sp
    import sys

    proc = sp.run(
        [sys.executable, "-m", "databook.cli", "build"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    assert "0 figure(s) built" in proc.stdout
    assert "cached notebook outputs" in proc.stdout + proc.stderr


def test_citation_cff_is_in_step_with_myst_yml(built_article, root):
    built = (root / "_build" / "exports" / "CITATION.cff").read_text(encoding="utf-8")
    committed = (root / "CITATION.cff").read_text(encoding="utf-8")
    assert committed == built, "CITATION.cff is stale: copy _build/exports/CITATION.cff over it"


def test_provenance_records_every_figure(built_article, root):
    from databook.figures import verify

    assert verify(root / "figures", root / "figures_src") == []
    record = json.loads((root / "figures" / "fig_psth_primer.provenance.json").read_text())
    assert record["script"] == "figures_src/fig_psth_primer.py"
    assert record["data_mode"] == "demo"


def test_pdf_tools_are_installed():
    for tool in ("pdftotext", "pdfimages", "pdffonts"):
        assert shutil.which(tool), f"{tool} missing: run scripts/system-deps.sh test"


def test_no_process_outlives_the_build(built_article):
    """mystmd's Jupyter server and kernels used to stay behind with parent 1."""
    assert built_article.survivors == []


def test_build_prints_what_the_user_can_use(built_article):
    assert "Content server started" not in built_article.log
    assert "http://127.0.0.1:3100" not in built_article.log
    assert "web site: " in built_article.log
    assert "serve it: python3 -m http.server -d " in built_article.log
    assert "PDF:      " in built_article.log


def test_site_ships_downloads_404_favicon_and_search_index(built_article, root):
    html = built_article.html
    for name in ("404.html", "search.html", "_static/favicon.svg", "_static/site.js"):
        assert (html / name).is_file(), name
    index = json.loads((html / "search-index.json").read_text(encoding="utf-8"))
    assert {r["page"] for r in index} == {f"{c.stem}.html" for c in _chapters(root)}
    for chapter in _chapters(root):
        copied = html / "_sources" / chapter.name
        assert copied.read_bytes() == chapter.read_bytes()
        notebook = json.loads((html / "_sources" / f"{chapter.stem}.ipynb").read_text())
        assert any(c["cell_type"] == "code" for c in notebook["cells"])
        page = (html / f"{chapter.stem}.html").read_text(encoding="utf-8")
        assert f'href="_sources/{chapter.stem}.ipynb"' in page
        assert f"/edit/main/chapters/{chapter.name}" in page
    footer = (html / "index.html").read_text(encoding="utf-8")
    assert "</a>.Code" not in footer and "</a>. Code" in footer


def _chapter_title(chapter: Path) -> str:
    match = re.search(r"^# (.+)$", chapter.read_text(encoding="utf-8"), re.M)
    return match.group(1).strip()


def test_pdf_reads_as_an_article(built_article, root):
    """Title page, abstract, version, ISO date, every chapter, availability statement."""
    first = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(built_article.pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    page1 = " ".join(first.split())
    assert page1.startswith("databook: reproducible systems neuroscience from the DANDI Archive")
    assert "Abstract A reproducible article that teaches" in page1
    assert re.search(r"Version \d+\.\d+\.\d+ · 2026-11-23", page1), page1[:400]
    # The authors of myst.yml, as they are: no invented names, no placeholder text.
    assert "The databook authors" in page1 and "Placeholder" not in page1
    flat = " ".join(_pdftotext(built_article.pdf).split())
    for number, chapter in enumerate(_chapters(root), start=1):
        assert f"{number} {_chapter_title(chapter)}" in flat, chapter.name
    assert "Data and code availability" in flat
    shots = root / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(built_article.pdf),
            str(shots / "pdf-page-1"),
        ],
        check=True,
    )


def test_pdf_code_keeps_its_hyphens_and_stays_in_the_margin(built_article):
    text = _pdftotext(built_article.pdf)
    assert 'asset = "demo-ecephys"' in text
    assert "demo -ecephys" not in text and "- -key" not in text
    log = (built_article.pdf.parent / "databook.log").read_text(encoding="utf-8", errors="replace")
    wide = [float(w) for w in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert [w for w in wide if w > 1.0] == [], "lines run past the margin"


def test_latex_source_zip_is_self_contained(built_article):
    import zipfile

    archive = built_article.pdf.parent / "databook-latex.zip"
    names = set(zipfile.ZipFile(archive).namelist())
    for name in ("tex/databook.tex", "tex/main.bib", "tex/databook-meta.tex", "tex/latexmkrc"):
        assert name in names, name
    assert any(n.startswith("tex/files/fig_") for n in names)
    assert (built_article.html / "databook-latex.zip").is_file()


def test_methods_page_and_pdf_say_how_to_cite_and_the_image(built_article, root):
    """Chapter 9's 'How to cite' as built: the entry of CITATION.cff and this build's image."""
    from databook.citation import bibtex, build_image, read_citation

    entry = bibtex(read_citation(root))
    image = build_image(root)  # the build inherited this process's environment
    page = (built_article.html / "09-methods.html").read_text(encoding="utf-8")
    assert entry in page, "the Methods page lacks the BibTeX entry of CITATION.cff"
    assert f"this build:  {image.image}" in page and f"base image:  {image.base}" in page
    version = read_citation(root).version
    assert f'<span class="computed">{version}</span>' in page
    flat = " ".join(_pdftotext(built_article.pdf).split())
    assert f"@software{{databook-v{version}," in flat
    assert f"version = {{{version}}}," in flat
    # a long digest wraps in the PDF's code output (with a hook arrow): compare unwrapped
    unwrapped = re.sub(r"[\s\u21aa]", "", flat)
    assert re.sub(r"\s", "", f"this build: {image.image}") in unwrapped


def test_every_citation_renders_in_one_form_and_every_reference_has_a_doi(built_article, root):
    """On every page a citation is a link inside a cite group, "(A et al., 2020; B, 2021)"
    or "A et al. (2020)"; each bibliography entry links its DOI; the PDF uses one command
    per kind of citation."""
    group = re.compile(r'<span class="cite-group (parenthetical|narrative)">(.*?)</span>')
    link = re.compile(r'<a class="cite" href="#cite-[^"]+"[^>]*>(.*?)</a>')
    odd = []
    seen = 0
    for chapter in _chapters(root):
        page = (built_article.html / f"{chapter.stem}.html").read_text(encoding="utf-8")
        body, _, references = page.partition('<section class="references"')
        grouped = 0
        for kind, inner in group.findall(body):
            texts = [re.sub(r"<[^>]+>", "", t) for t in link.findall(inner)]
            grouped += len(texts)
            form = (
                r"^[^()]+, \d{4}[a-z]?$" if kind == "parenthetical" else r"^[^()]+ \(\d{4}[a-z]?\)$"
            )
            odd += [f"{chapter.name}: {kind} {t!r}" for t in texts if not re.match(form, t)]
            if kind == "parenthetical" and not (inner.startswith("(") and inner.endswith(")")):
                odd.append(f"{chapter.name}: parenthetical group without brackets {inner!r}")
        total = len(link.findall(body))
        if total != grouped:
            odd.append(f"{chapter.name}: {total - grouped} citation(s) outside a cite group")
        seen += total
        for entry in re.findall(r'<li id="cite-[^"]+">(.*?)</li>', references, re.S):
            if 'href="https://doi.org/10.' not in entry:
                odd.append(f"{chapter.name}: reference without a DOI link: {entry[:80]}")
    assert seen > 20
    assert odd == [], "\n".join(odd)
    tex = "\n".join(
        p.read_text(encoding="utf-8") for p in (built_article.pdf.parent / "tex").glob("*.tex")
    )
    commands = set(re.findall(r"\\(cite[a-z]*)\{", tex))
    assert "citep" in commands and len(commands - {"citep"}) == 1, commands


def test_every_chapter_page_has_the_launch_menu_of_myst_yml(built_article, root):
    import yaml

    options = yaml.safe_load((root / "myst.yml").read_text(encoding="utf-8"))["site"]["options"]
    servers = {
        "Binder": options["launch_binder"],
        "Colab": options["launch_colab"],
        "DANDI Hub": options["launch_dandihub"],
    }
    for chapter in _chapters(root):
        page = (built_article.html / f"{chapter.stem}.html").read_text(encoding="utf-8")
        menu = re.search(r"<summary>Launch</summary>(.*?)</details>", page, re.S)
        assert menu, f"{chapter.name}: no Launch menu"
        links = dict(
            (name, url) for url, name in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', menu[1])
        )
        assert list(links) == list(servers), chapter.name
        for name, server in servers.items():
            assert links[name].startswith(server + "/"), (chapter.name, links[name])
        assert f"chapters/{chapter.stem}" in links["Binder"]


def test_pdf_uses_the_vector_file_of_every_figure_that_writes_one(built_article, root):
    """A figure script writing <name>.pdf beside <name>.png is vector in the PDF: its
    include points at a PDF, and its axis labels are text pdftotext can read (a raster
    figure's labels are pixels)."""
    shown = set()
    for chapter in _chapters(root):
        shown |= set(re.findall(r"\.\./figures/(fig_\w+)\.png", chapter.read_text()))
    vector = {name for name in shown if (root / "figures" / f"{name}.pdf").is_file()}
    assert "fig_rf_maps" in vector
    tex = "\n".join(
        p.read_text(encoding="utf-8") for p in (built_article.pdf.parent / "tex").glob("*.tex")
    )
    included = re.findall(r"\\includegraphics(?:\[[^\]]*\])?\{files/([^}]+)\}", tex)
    as_pdf = [n for n in included if n.endswith(".pdf")]
    # mystmd names the copy files/<first 20 characters of the name>-<hash>.<ext>
    assert {n.rsplit("-", 1)[0] for n in as_pdf} == {v[:20] for v in vector}
    for name in as_pdf:
        assert (built_article.pdf.parent / "tex" / "files" / name).is_file(), name
    text = " ".join(_pdftotext(built_article.pdf).split())
    assert "elevation y (deg)" in text  # an axis label of fig_rf_maps


# The repr of a numpy scalar: np.int64(385), np.float64(0.25), np.True_.
NUMPY_REPR = re.compile(
    r"\bnp\.(?:u?int|float)\d*\(\s*-?[\d.]+(?:e[-+]?\d+)?\s*\)|\bnp\.(?:True|False)_\b"
)


def test_no_numpy_repr_reaches_the_prose_of_any_page_or_the_pdf(built_article, root):
    """An {eval} of a numpy scalar prints "np.int64(385)" (numpy >= 2): every computed
    number in the text must be converted or formatted first."""
    found = []
    for chapter in _chapters(root):
        page = (built_article.html / f"{chapter.stem}.html").read_text(encoding="utf-8")
        # Code cells and their outputs may show reprs; prose may not.
        prose = re.sub(r"<(pre|code|script|style)\b.*?</\1>", " ", page, flags=re.S)
        found += [f"{chapter.name}: {m.group(0)}" for m in NUMPY_REPR.finditer(prose)]
    found += [f"PDF: {m.group(0)}" for m in NUMPY_REPR.finditer(_pdftotext(built_article.pdf))]
    assert found == [], found


def test_pdf_latex_log_has_no_errors(built_article):
    """LaTeX ran without an error: with one (a table whose rows have more cells than its
    header, as a two-level pandas index gives), latexmk stops after its first pass and the
    PDF keeps every citation and reference unresolved."""
    log = (built_article.pdf.parent / "databook.log").read_text(encoding="utf-8", errors="replace")
    errors = re.findall(r"^! (.*)\n(?:.*\n){0,3}?(l\.\d+.*)", log, flags=re.MULTILINE)
    assert errors == [], f"LaTeX errors (message, source line): {errors[:5]}"


#: Smallest size a figure's text may print at, points (databook.plots.MIN_PRINTED_PT).
MIN_FIGURE_PT = 7.0


def _matrix(values) -> np.ndarray:
    """A PDF matrix ``[a b c d e f]`` as 3 x 3 (row vectors: ``p' = p @ M``)."""
    a, b, c, d, e, f = (float(v) for v in values)
    return np.array([[a, b, 0.0], [c, d, 0.0], [e, f, 1.0]])


def figure_text_sizes(pdf: Path) -> list[tuple[int, str, str, float]]:
    """Every text drawn inside a figure of ``pdf``: ``(page, form name, text, printed size
    in pt)``.

    pdfTeX includes each PDF figure as a form XObject, so figure text is exactly the text
    inside form XObjects; body text (code listings, the "output" label, captions) is in
    the page's own content and is not measured. Each page's content is walked with its
    graphics state (``q``/``Q``/``cm``) to the ``Do`` that draws a form; the form's text
    is read with pypdf (font size, text matrix and the form's own CTM), and the printed
    size is the font size times the scale of text matrix x form CTM x form ``/Matrix`` x
    page CTM (the square root of the determinant, so a rotated label counts too).
    """
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    found: list[tuple[int, str, str, float]] = []
    for number, page in enumerate(reader.pages, start=1):
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources else None
        contents = page.get_contents()
        if not xobjects or contents is None:
            continue
        xobjects = xobjects.get_object()
        ctm, stack = np.eye(3), []
        for operands, operator in contents.operations:
            if operator == b"q":
                stack.append(ctm)
            elif operator == b"Q":
                ctm = stack.pop()
            elif operator == b"cm":
                ctm = _matrix(operands) @ ctm
            elif operator == b"Do" and operands[0] in xobjects:
                form = xobjects[operands[0]].get_object()
                if form.get("/Subtype") != "/Form":
                    continue
                outer = _matrix(form.get("/Matrix", [1, 0, 0, 1, 0, 0])) @ ctm

                def visit(text, cm, tm, font, size, outer=outer, where=(number, operands[0])):
                    if text.strip() and size:
                        full = _matrix(tm) @ _matrix(cm) @ outer
                        scale = abs(np.linalg.det(full[:2, :2])) ** 0.5
                        found.append((*where, text.strip(), float(size) * scale))

                page.extract_xform_text(form, visitor_text=visit)
    return found


def test_every_figure_prints_at_text_width_with_text_of_at_least_7_pt(built_article):
    """A referee measured figure text at 3.5-5.6 pt: figures were included at 0.7 of the
    line width and drawn 7.2-9 in wide. Every figure is now included at the full text
    width, and every text drawn inside a figure (ticks, labels, legends, panel letters,
    colour-bar labels, annotations, the watermark) prints at 7 pt or more."""
    tex = "\n".join(
        p.read_text(encoding="utf-8") for p in (built_article.pdf.parent / "tex").glob("*.tex")
    )
    includes = re.findall(r"\\includegraphics\[([^\]]*)\]\{files/([^}]+)\}", tex)
    assert len(includes) >= 20, f"only {len(includes)} figure inclusions in the .tex"
    for options, name in includes:
        width = re.search(r"width=([\d.]*)\\(?:linewidth|textwidth)", options)
        factor = float(width[1] or 1) if width else None
        assert factor is not None and factor >= 0.999, f"{name} included with [{options}]"
    sizes = figure_text_sizes(built_article.pdf)
    as_pdf = sum(name.endswith(".pdf") for _, name in includes)
    forms = {(page, form) for page, form, _, _ in sizes}
    assert as_pdf >= 15 and len(forms) >= as_pdf, f"{len(forms)} figures with text, {as_pdf} PDFs"
    small = [(page, text, round(pt, 2)) for page, _, text, pt in sizes if pt < MIN_FIGURE_PT]
    assert small == [], f"{len(small)} figure texts print below {MIN_FIGURE_PT} pt: {small[:20]}"
