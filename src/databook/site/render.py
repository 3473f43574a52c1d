"""Render the whole site from mystmd's local content server into static files.

mystmd runs ``python -m databook.site`` with ``CONTENT_CDN`` (URL of its content
server) and ``BUILD_DIRECTORY`` (where the site goes) set; the working directory is the
template folder, whose ``node_modules/katex`` provides the math styles and fonts.
Output: ``index.html`` (title page and contents), one ``<chapter>.html`` per chapter,
``build/`` (figures and other assets) and ``_static/`` (styles, KaTeX).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2
from pygments.formatters import HtmlFormatter

from databook._atomic import atomic_path
from databook.site.ast import Renderer
from databook.site.provenance import FigureNotes

__all__ = ["Page", "SiteError", "main", "render_site"]

STATIC = Path(__file__).resolve().parent / "static"


class SiteError(RuntimeError):
    """The site could not be rendered (content server, missing page or web library)."""


@dataclass
class Page:
    slug: str
    filename: str
    title: str
    short_title: str
    description: str
    data: dict[str, Any]


def _get(base: str, path: str) -> bytes:
    url = f"{base.rstrip('/')}/{path.lstrip('/')}"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.read()
    except (urllib.error.URLError, TimeoutError) as err:
        raise SiteError(f"could not fetch {url} from mystmd's content server: {err}") from err


def _get_json(base: str, path: str) -> dict[str, Any]:
    return json.loads(_get(base, path))


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("databook.site", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _write(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _copy_katex(template_dir: Path, out: Path) -> None:
    dist = template_dir / "node_modules" / "katex" / "dist"
    if not (dist / "katex.min.css").is_file():
        raise SiteError(
            f"KaTeX styles not found in {dist}; run `npm ci` in {template_dir} "
            "(mystmd does this itself when node_modules/ is missing)"
        )
    target = out / "_static" / "katex"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(dist / "katex.min.css", target / "katex.min.css")
    shutil.copytree(dist / "fonts", target / "fonts", dirs_exist_ok=True)


def _static_assets(out: Path) -> None:
    static = out / "_static"
    static.mkdir(parents=True, exist_ok=True)
    shutil.copy2(STATIC / "style.css", static / "style.css")
    pygments_css = HtmlFormatter(style="friendly").get_style_defs("pre.code")
    _write(static / "pygments.css", pygments_css + "\n")


def _load_pages(cdn: str, project: dict[str, Any]) -> list[Page]:
    slugs = [project["index"], *(p["slug"] for p in project.get("pages", []) if "slug" in p)]
    pages = []
    for slug in slugs:
        data = _get_json(cdn, f"/content/{slug}.json")
        front = data.get("frontmatter", {})
        stem = PurePosixPath(data.get("location", slug)).stem
        filename = f"{stem}.html" if stem != "index" else "chapter-index.html"
        title = front.get("title") or slug
        pages.append(
            Page(
                slug=slug,
                filename=filename,
                title=title,
                short_title=front.get("short_title") or title,
                description=front.get("description") or "",
                data=data,
            )
        )
    return pages


def render_site(cdn: str, out: Path, template_dir: Path) -> list[Path]:
    """Render every page served at ``cdn`` into ``out``; return the files written."""
    config = _get_json(cdn, "/config.json")
    projects = config.get("projects") or []
    if not projects:
        raise SiteError("mystmd's site config lists no project; is myst.yml's toc empty?")
    project = projects[0]
    pages = _load_pages(cdn, project)
    by_slug = {p.slug: p for p in pages}
    out.mkdir(parents=True, exist_ok=True)
    assets: set[str] = set()

    def asset_url(url: str) -> str:
        if url.startswith(("http://", "https://", "data:")):
            return url
        name = PurePosixPath(url).name
        assets.add(url)
        return f"build/{name}"

    def page_url(slug: str) -> str:
        page = by_slug.get(slug)
        return page.filename if page else f"{slug}.html"

    env = _environment()
    root = os.environ.get("DATABOOK_ROOT")
    figure_note = FigureNotes.from_project(Path(root)) if root else None
    written: list[Path] = []
    site = {
        "title": project.get("title") or config.get("title") or "databook",
        "short_title": project.get("short_title") or config.get("title") or "databook",
        "subtitle": project.get("subtitle") or "",
        "description": project.get("description") or "",
        "authors": [a.get("name", "") for a in project.get("authors", [])],
        "date": project.get("date") or "",
        "license": project.get("license") or {},
        "keywords": project.get("keywords") or [],
        "pdf": "databook.pdf",
    }
    nav = [{"title": p.short_title, "href": p.filename} for p in pages]
    for number, page in enumerate(pages, start=1):
        renderer = Renderer(asset_url=asset_url, page_url=page_url, figure_note=figure_note)
        body = renderer.render(page.data["mdast"])
        cite_data = page.data.get("references", {}).get("cite", {}).get("data", {})
        references = [
            {"label": label, "html": cite_data[label]["html"]}
            for label in page.data.get("references", {}).get("cite", {}).get("order", [])
            if label in cite_data
        ]
        missing = [label for label in renderer.cited if label not in cite_data]
        if missing:
            print(f"databook.site: unresolved citations {missing} in {page.slug}", file=sys.stderr)
        html = env.get_template("page.html").render(
            site=site,
            nav=nav,
            page=page,
            number=number,
            previous=pages[number - 2] if number > 1 else None,
            next=pages[number] if number < len(pages) else None,
            body=body,
            references=references,
        )
        target = out / page.filename
        _write(target, html)
        written.append(target)
    index = env.get_template("index.html").render(site=site, nav=nav, pages=pages)
    _write(out / "index.html", index)
    written.append(out / "index.html")
    for url in sorted(assets):
        target = out / "build" / PurePosixPath(url).name
        with atomic_path(target) as tmp:
            tmp.write_bytes(_get(cdn, url))
        written.append(target)
    _static_assets(out)
    _copy_katex(template_dir, out)
    return written


def main() -> None:
    """Render from the environment mystmd provides; exit non-zero with a clear message."""
    cdn = os.environ.get("CONTENT_CDN")
    out = os.environ.get("BUILD_DIRECTORY")
    if not cdn or not out:
        sys.exit(
            "databook.site: CONTENT_CDN and BUILD_DIRECTORY must be set; this command is "
            "run by `myst build --html` through templates/site/template.yml"
        )
    try:
        written = render_site(cdn, Path(out), Path.cwd())
    except SiteError as err:
        sys.exit(f"databook.site: {err}")
    pages = sum(p.suffix == ".html" for p in written)
    print(f"databook.site: wrote {pages} HTML page(s) to {out}")
