"""The built site in headless Chromium, served over HTTP on 127.0.0.1, as a reader sees it."""

from __future__ import annotations

import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

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
    page.on("requestfailed", lambda r: page.failures.append(f"failed {r.url}"))
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
    assert (
        page.locator("h1").inner_text() == "Introduction: from spikes to stimulus-locked responses"
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
    assert page.failures == []
