"""The built site in headless Chromium, served over HTTP on 127.0.0.1, as a reader sees it."""

from __future__ import annotations

import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import chapter_figures

pytestmark = [pytest.mark.build, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site_url(built_article):
    handler = functools.partial(_Quiet, directory=str(built_article.html))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Debian chromium is not installed (scripts/system-deps.sh test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, timeout=60_000)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, site_url):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.failures = []
    page.on("console", lambda m: m.type == "error" and page.failures.append(m.text))
    page.on("requestfailed", lambda r: page.failures.append(f"failed {r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and page.failures.append(f"{r.status} {r.url}"))
    # Nothing may leave the machine: abort any request that is not to our server.
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(site_url) or route.request.url.startswith("data:")
            else (page.failures.append(f"external {route.request.url}"), route.abort())
        ),
    )
    yield page
    context.close()


def test_reader_goes_from_index_to_chapter(page, site_url, root):
    page.goto(f"{site_url}/index.html")
    page.get_by_role("link", name="Introduction: from spikes to stimulus-locked responses").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/00-introduction.html")
    # Numbered as the PDF numbers its section: "1 Introduction: ...".
    assert (
        page.locator("h1").inner_text()
        == "1 Introduction: from spikes to stimulus-locked responses"
    )
    assert page.failures == []
    shots = root / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "00-introduction.png"), full_page=True)


def test_equation_is_typeset_with_katex_fonts(page, site_url):
    page.goto(f"{site_url}/00-introduction.html")
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready.then(() => true)")
    equation = page.locator("#eq-psth")
    assert equation.locator(".katex-html").count() == 1
    family = equation.locator(".katex").first.evaluate("e => getComputedStyle(e).fontFamily")
    assert "KaTeX_Main" in family
    assert page.evaluate("document.fonts.check('16px KaTeX_Main')")
    assert page.evaluate(
        "[...document.fonts].some(f => f.family.includes('KaTeX') && f.status === 'loaded')"
    )
    number = equation.locator(".eq-number")
    assert number.is_visible() and number.inner_text() == "(1)"
    # The MathML copy is there for screen readers but visually hidden by KaTeX's CSS.
    mathml_box = equation.locator(".katex-mathml").first.bounding_box()
    assert mathml_box["width"] <= 1 and mathml_box["height"] <= 1
    assert page.failures == []


def test_figure_loads_and_citation_jumps_to_reference(page, site_url):
    page.goto(f"{site_url}/00-introduction.html")
    page.wait_for_load_state("networkidle")
    img = page.locator("#fig-psth-primer img")
    img.scroll_into_view_if_needed()
    assert img.evaluate("i => i.complete && i.naturalWidth") == 900
    assert img.get_attribute("alt").startswith("Raster of one simulated neuron")
    page.locator('a.cite[href="#cite-Siegle2021"]').first.click()
    assert page.url.endswith("#cite-Siegle2021")
    assert "Survey of spiking" in page.locator("#cite-Siegle2021").inner_text()
    # The citation shows its reference on hover.
    page.locator('a.cite[href="#cite-Siegle2021"]').first.hover()
    popup = page.locator('.preview[role="tooltip"]')
    popup.wait_for(state="visible")
    assert "Survey of spiking" in popup.inner_text()
    assert page.failures == []


def test_hover_and_focus_preview_a_figure_an_equation_and_a_citation(page, site_url, root):
    """Hovering a figure reference shows that figure's image and caption; focusing a
    citation from the keyboard shows its bibliography entry; Escape hides it."""
    shots = root / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.goto(f"{site_url}/05-receptive-fields.html")
    page.wait_for_load_state("networkidle")
    popup = page.locator('.preview[role="tooltip"]')
    link = page.locator("a.xref.figure").first
    target = link.get_attribute("href").lstrip("#")
    link.scroll_into_view_if_needed()
    link.hover()
    popup.wait_for(state="visible")
    figure = page.locator(f"figure#{target}")
    assert popup.locator("img").get_attribute("src") == figure.locator("img").first.get_attribute(
        "src"
    )
    popup.locator("img").evaluate("i => i.decode()")
    assert popup.locator("img").evaluate("i => i.complete && i.naturalWidth") > 0
    caption = " ".join(figure.locator("figcaption").inner_text().split())
    assert caption[:80] in " ".join(popup.inner_text().split())
    assert link.get_attribute("aria-describedby") == "preview-popup"
    box, width = popup.bounding_box(), page.viewport_size["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    page.screenshot(path=str(shots / "preview-figure.png"))

    page.mouse.move(0, 0)
    popup.wait_for(state="detached")
    equation = page.locator("a.xref.equation").first
    equation.hover()
    popup.wait_for(state="visible")
    assert popup.locator(".katex").count() >= 1

    page.mouse.move(0, 0)
    popup.wait_for(state="detached")
    cite = page.locator('a.cite[href="#cite-Hubel1962"]').first
    cite.focus()
    popup.wait_for(state="visible")
    assert "Receptive fields, binocular interaction" in popup.inner_text()
    assert "10.1113/jphysiol.1962.sp006837" in popup.inner_text()
    page.screenshot(path=str(shots / "preview-citation.png"))
    page.keyboard.press("Escape")
    popup.wait_for(state="detached")
    assert page.failures == []


def test_without_javascript_references_are_plain_links(browser, site_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site_url}/05-receptive-fields.html")
    link = page.locator("a.xref.figure").first
    link.hover()
    assert page.locator(".preview").count() == 0
    assert not page.locator(".previews").is_visible()
    href = link.get_attribute("href")
    link.click()
    assert page.url.endswith(href)
    context.close()


def _pages(built_article):
    return ["index.html", *sorted(p.name for p in built_article.html.glob("[0-9][0-9]-*.html"))]


def test_every_page_loads_clean_at_both_widths_with_no_sideways_scroll(
    browser, site_url, built_article, root
):
    """Each page at 1280 and 390 px, light and dark: no error, no foreign request, no
    horizontal scroll; the screenshots are kept for review."""
    shots = root / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    failures = []
    for scheme in ("light", "dark"):
        for width in (1280, 390):
            context = browser.new_context(
                viewport={"width": width, "height": 900}, color_scheme=scheme
            )
            page = context.new_page()
            page.on("console", lambda m: m.type == "error" and failures.append(m.text))
            page.on("requestfailed", lambda r: failures.append(f"failed {r.url}"))
            page.on("response", lambda r: r.status >= 400 and failures.append(f"{r.url}"))
            page.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if route.request.url.startswith((site_url, "data:"))
                    else (failures.append(f"external {route.request.url}"), route.abort())
                ),
            )
            for name in _pages(built_article):
                page.goto(f"{site_url}/{name}")
                page.wait_for_load_state("networkidle")
                overflow = page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
                # Full-page shots do not scroll: load the lazy figures first.
                page.evaluate(
                    "Promise.all([...document.images].map(i => { i.loading = 'eager';"
                    " return i.decode().catch(() => null); }))"
                )
                stem = name.removesuffix(".html")
                page.screenshot(
                    path=str(shots / f"{stem}-{width}-{scheme}.png"), full_page=width == 390
                )
            context.close()
            assert failures == [], f"{scheme} {width}px: {failures}"


def test_nav_lists_every_chapter_in_order_and_marks_the_current_one(page, site_url, root):
    page.goto(f"{site_url}/02-alignment.html")
    hrefs = page.locator("nav.sidebar a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    chapters = sorted(p.stem + ".html" for p in (root / "chapters").glob("[0-9][0-9]-*.md"))
    assert hrefs == chapters
    current = page.locator('nav.sidebar a[aria-current="page"]')
    assert current.count() == 1 and current.get_attribute("href") == "02-alignment.html"
    # Per-page contents and the previous/next links.
    assert page.locator(".page-toc a").count() >= 3
    assert page.locator("a[rel=prev]").get_attribute("href") == "01-nwb-basics.html"
    assert page.locator("a[rel=next]").get_attribute("href") == "03-twophoton-responses.html"
    assert page.failures == []


def test_phone_menu_opens_the_chapter_list(browser, site_url):
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    page.goto(f"{site_url}/01-nwb-basics.html")
    assert not page.locator("nav.sidebar").is_visible()
    page.locator("label.nav-button").click()
    assert page.locator("nav.sidebar").is_visible()
    context.close()


def test_dark_mode_follows_the_system_and_the_toggle(browser, site_url):
    def background(page):
        return page.evaluate("getComputedStyle(document.body).backgroundColor")

    context = browser.new_context(color_scheme="light")
    page = context.new_page()
    page.goto(f"{site_url}/00-introduction.html")
    light = background(page)
    page.locator(".theme-toggle").click()
    toggled = background(page)
    assert toggled != light
    page.reload()  # the choice is remembered
    assert background(page) == toggled
    context.close()
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    page.goto(f"{site_url}/00-introduction.html")
    assert background(page) != light
    assert background(page) == toggled
    context.close()


def test_search_finds_the_only_chapter_with_a_word(page, site_url, built_article):
    import json
    import re
    from collections import defaultdict

    records = json.loads((built_article.html / "search-index.json").read_text())
    where = defaultdict(set)
    for r in records:
        for word in re.findall(r"[a-z]{9,}", (r["heading"] + " " + r["text"]).lower()):
            where[word].add(r["page"])
    unique = sorted(w for w, pages in where.items() if len(pages) == 1)
    assert len(unique) > 20
    page.goto(f"{site_url}/index.html")
    for word in unique[:: max(1, len(unique) // 3)][:3]:
        (expected,) = where[word]
        page.locator("form.search input").fill(word)
        page.locator(".search-results a.search-hit").first.wait_for()
        hits = page.locator(".search-results a.search-hit").evaluate_all(
            "as => as.map(a => a.getAttribute('href').split('#')[0])"
        )
        assert set(hits) == {expected}, f"search {word!r}: {hits}, expected {expected}"
    page.locator(".search-results a.search-hit").first.click()
    page.wait_for_load_state()
    assert page.url.split("#")[0].endswith(expected)
    assert page.failures == []


def test_code_cell_folds_and_copy_button_is_there(page, site_url):
    page.goto(f"{site_url}/00-introduction.html")
    cell = page.locator("details.cell").first
    code = cell.locator("pre.code")
    assert code.is_visible()
    assert cell.locator("button.copy").count() == 1
    cell.locator("summary").click()
    assert not code.is_visible()
    assert page.failures == []


def test_every_figure_shows_its_provenance_under_the_caption_and_expands(
    page, site_url, built_article, root
):
    """Each built figure: script link at the build's commit, inputs, environment hash,
    under the caption; its <details> opens on the full record (issue 17)."""
    import json
    import re

    from databook.figures import git_state
    from databook.site.provenance import source_url

    commit, _ = git_state(root)
    repository = source_url(root)
    records = {}
    for path in (root / "figures").glob("*.provenance.json"):
        record = json.loads(path.read_text())
        for out in record["outputs"]:
            records[out["file"].rsplit(".", 1)[0]] = record
    shown = set()
    for name in _pages(built_article):
        page.goto(f"{site_url}/{name}")
        page.wait_for_load_state("networkidle")
        figures = page.locator("figure.figure").filter(has=page.locator("img[src^='build/fig_']"))
        for i in range(figures.count()):
            figure = figures.nth(i)
            src = figure.locator("img").first.get_attribute("src")
            # mystmd keeps the first 20 characters of a file name, then "-<hash>".
            stem = re.fullmatch(r"build/(fig_\w+?)-[0-9a-f]+\.\w+", src).group(1)
            where = f"{name} {stem}"
            line = figure.locator(".provenance > p")
            assert line.is_visible(), where
            caption = figure.locator("figcaption").bounding_box()
            assert line.bounding_box()["y"] >= caption["y"] + caption["height"] - 1, where
            link = line.locator("a")
            assert link.is_visible(), where
            urls = {
                f"{repository}/blob/{commit}/{r['script']}": r
                for out, r in records.items()
                if out.startswith(stem)
            }
            record = urls[link.get_attribute("href")]
            text = " ".join(line.inner_text().split())
            assert record["environment_lock_sha256"][:12] in text, where
            for entry in record["inputs"]:
                assert entry["sha256"][:12] in text, where
                label = entry["key"] if entry.get("dandiset") == "demo" else entry["path"]
                assert label in text, where
            if not record["inputs"]:
                assert "simulated in the script" in text, where
            full = figure.locator(".provenance details pre")
            assert not full.is_visible(), where
            figure.locator(".provenance details summary").click()
            assert full.is_visible(), where
            assert json.loads(full.inner_text()) == record, where
            shown.add(Path(record["script"]).stem)
    chapters = chapter_figures(root)
    assert chapters and shown == chapters
    # Opening each record scrolls lazy images into view; moving to the next page cancels
    # those still loading (net::ERR_ABORTED), which is no fault of the site. A missing
    # file is a 404 and still fails.
    assert [f for f in page.failures if not f.endswith("(net::ERR_ABORTED)")] == []
