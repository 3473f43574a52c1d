"""Render the whole site from mystmd's local content server into static files.

mystmd runs ``python -m databook.site`` with ``CONTENT_CDN`` (URL of its content
server) and ``BUILD_DIRECTORY`` (where the site goes) set; ``DATABOOK_SITE_OUT``, set
by ``databook build``, overrides the latter with a staging folder the build publishes
when complete. The working directory is the template folder, whose
``node_modules/katex`` provides the math styles and fonts.
Output: ``index.html`` (title page and contents), one ``<chapter>.html`` per chapter,
``build/`` (figures and other assets) and ``_static/`` (styles, KaTeX).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2
from pygments.formatters import HtmlFormatter

from databook._atomic import atomic_path
from databook.site.ast import Renderer
from databook.site.previews import attach_previews, collect_targets
from databook.site.provenance import FigureNotes

__all__ = ["Page", "SiteError", "launch_settings", "main", "render_site"]

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
    stem: str = ""
    location: str = ""
    has_ipynb: bool = False
    source_url: str = ""
    edit_url: str = ""


def _get(base: str, path: str) -> bytes:
    if not base.startswith(("http://", "https://")):
        # A snapshot folder written by an earlier render (DATABOOK_SITE_SNAPSHOT).
        local = Path(base) / path.lstrip("/")
        if not local.is_file():
            raise SiteError(f"{local} missing from the site snapshot")
        return local.read_bytes()
    url = f"{base.rstrip('/')}/{path.lstrip('/')}"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            data = response.read()
    except (urllib.error.URLError, TimeoutError) as err:
        raise SiteError(f"could not fetch {url} from mystmd's content server: {err}") from err
    snapshot = os.environ.get("DATABOOK_SITE_SNAPSHOT")
    if snapshot:
        target = Path(snapshot) / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return data


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
    for name in ("style.css", "site.js", "favicon.svg"):
        shutil.copy2(STATIC / name, static / name)
    light = HtmlFormatter(style="friendly").get_style_defs("pre.code")
    dark_rules = HtmlFormatter(style="monokai").get_style_defs("pre.code")
    dark = "\n".join(
        line for line in dark_rules.splitlines() if not line.startswith(("pre {", "td.linenos"))
    )
    forced = dark.replace("pre.code", 'html[data-theme="dark"] pre.code')
    system = dark.replace("pre.code", 'html:not([data-theme="light"]) pre.code')
    css = f"{light}\n{forced}\n@media (prefers-color-scheme: dark) {{\n{system}\n}}\n"
    _write(static / "pygments.css", css)


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
                stem=PurePosixPath(filename).stem,
                location=data.get("location", "").lstrip("/"),
            )
        )
    return pages


def _project_root(template_dir: Path) -> Path:
    root = os.environ.get("DATABOOK_ROOT")
    return Path(root) if root else template_dir.resolve().parent.parent


def _repository(root: Path) -> str:
    """The repository URL from pyproject.toml's ``[project.urls] Source`` ('' if none)."""
    import tomllib

    try:
        meta = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return ""
    urls = meta.get("project", {}).get("urls", {})
    return (urls.get("Source") or urls.get("Repository") or "").rstrip("/")


def _version(root: Path) -> str:
    try:
        from importlib.metadata import version

        return version("databook")
    except Exception:  # not installed: fall back to pyproject
        import tomllib

        try:
            meta = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            return ""
        return str(meta.get("project", {}).get("version", ""))


#: Launch targets: the site option (myst.yml ``site.options``) holding each one's server.
LAUNCH_OPTIONS = {
    "Binder": "launch_binder",
    "Colab": "launch_colab",
    "DANDI Hub": "launch_dandihub",
}


def launch_settings(config: dict[str, Any], root: Path | None = None) -> dict[str, str]:
    """Repository, branch and launch servers from mystmd's site config (``config.json``).

    They come from ``myst.yml``: the repository is ``project.github`` (a key mystmd knows),
    the branches and servers are ``site.options.launch_*`` (declared in
    ``templates/site/template.yml``). A server left empty or absent drops its button;
    without ``project.github`` the repository falls back to pyproject's ``Source``.
    """
    options = config.get("options") or {}
    projects = config.get("projects") or [{}]
    repo = str(projects[0].get("github") or "").rstrip("/")
    if not repo and root is not None:
        repo = _repository(root)
    settings = {
        "repository": repo,
        "branch": str(options.get("launch_branch") or "main"),
        "notebooks_branch": str(options.get("launch_notebooks_branch") or "notebooks"),
    }
    for option in LAUNCH_OPTIONS.values():
        settings[option] = str(options.get(option) or "").rstrip("/")
    return settings


def _launch_links(settings: dict[str, str], location: str) -> list[dict[str, str]]:
    """Binder, Colab and DANDI Hub links for a chapter of a GitHub repository."""
    repo = settings.get("repository", "")
    if not repo.startswith("https://github.com/") or not location:
        return []
    slug = repo.removeprefix("https://github.com/")
    branch = settings.get("branch") or "main"
    notebooks = settings.get("notebooks_branch") or "notebooks"
    notebook = str(PurePosixPath(location).with_suffix(".ipynb"))
    name = slug.rsplit("/", 1)[-1]
    quoted = urllib.parse.quote
    urls = {
        "Binder": f"/v2/gh/{slug}/{quoted(branch, safe='')}?labpath={quoted(location)}",
        # Colab opens notebooks only; pages.yml pushes chapters/*.ipynb to this branch.
        "Colab": f"/github/{slug}/blob/{quoted(notebooks)}/{quoted(notebook)}",
        "DANDI Hub": (
            f"/user-redirect/git-pull?repo={quoted(repo, safe='')}&branch={quoted(branch, safe='')}"
            f"&urlpath={quoted(f'lab/tree/{name}/{location}', safe='')}"
        ),
    }
    return [
        {"name": target, "url": settings[option] + urls[target]}
        for target, option in LAUNCH_OPTIONS.items()
        if settings.get(option)
    ]


def _sources(root: Path, out: Path, page: Page) -> None:
    """Copy the chapter's source into ``_sources/`` and convert it to a notebook."""
    source = root / page.location
    if not page.location or not source.is_file():
        return
    target = out / "_sources" / f"{page.stem}{source.suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
    if source.suffix == ".ipynb":
        page.has_ipynb = True
        return
    try:
        import jupytext
    except ImportError:
        return
    notebook = jupytext.read(source)
    jupytext.write(notebook, out / "_sources" / f"{page.stem}.ipynb", fmt="ipynb")
    page.has_ipynb = True


def _toc(node: dict[str, Any], chapter: int, depth: int = 3) -> list[dict[str, Any]]:
    """Section headings (depth 2..``depth``) of a page with their anchors and numbers."""
    from databook.site.ast import Renderer, plain_text

    numbers = Renderer(asset_url=str, page_url=str, chapter=chapter)
    found: list[dict[str, Any]] = []

    def walk(n: dict[str, Any]) -> None:
        if n.get("type") == "heading" and 2 <= int(n.get("depth", 0)) <= depth:
            ident = n.get("html_id") or n.get("identifier")
            number = numbers.section_number(int(n["depth"]))
            if ident:
                title = plain_text(n)
                found.append({"id": ident, "title": title, "depth": n["depth"], "number": number})
            return
        for child in n.get("children", []):
            walk(child)

    walk(node)
    return found


def _search_entries(page: Page, node: dict[str, Any]) -> list[dict[str, str]]:
    """One search record per section: page, anchor, heading and its plain text."""
    from databook.site.ast import plain_text

    entries = [{"page": page.filename, "id": "", "heading": page.title, "text": ""}]

    def walk(n: dict[str, Any]) -> None:
        if n.get("type") == "heading":
            entries.append(
                {
                    "page": page.filename,
                    "id": n.get("html_id") or n.get("identifier") or "",
                    "heading": plain_text(n),
                    "text": "",
                }
            )
            return
        if n.get("type") in ("text", "inlineCode", "code") and "value" in n:
            entries[-1]["text"] += " " + n["value"]
            return
        for child in n.get("children", []):
            walk(child)

    walk(node)
    for entry in entries:
        entry["text"] = " ".join(entry["text"].split())
    return [e for e in entries if e["text"] or e["id"] == ""]


def _cite_previews(body: str, cite_data: dict[str, Any]) -> str:
    """Give every citation link its reference as a hover preview (``title``)."""
    import html
    import re

    for label, entry in cite_data.items():
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", "", entry.get("html", ""))).split())
        if text:
            anchor = f'class="cite" href="#cite-{html.escape(label)}"'
            body = body.replace(anchor, f'{anchor} title="{html.escape(text)}"')
    return body


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
    written: list[Path] = []
    root = _project_root(template_dir)
    figure_note = FigureNotes.from_project(root) if root else None
    launch = launch_settings(config, root)
    repo = launch["repository"]
    affiliations = {a.get("id"): a.get("name", "") for a in project.get("affiliations", [])}
    site = {
        "title": project.get("title") or config.get("title") or "databook",
        "short_title": project.get("short_title") or config.get("title") or "databook",
        "subtitle": project.get("subtitle") or "",
        "description": project.get("description") or "",
        "authors": [
            {
                "name": a.get("name", ""),
                "orcid": a.get("orcid", ""),
                "affiliations": [affiliations.get(x, x) for x in a.get("affiliations", [])],
            }
            for a in project.get("authors", [])
        ],
        "date": project.get("date") or "",
        "doi": project.get("doi") or "",
        "version": _version(root),
        "license": project.get("license") or {},
        "keywords": project.get("keywords") or [],
        "pdf": "databook.pdf",
        "tex_zip": "databook-latex.zip",
        "source": repo,
    }
    nav = [{"title": p.short_title, "href": p.filename} for p in pages]
    search: list[dict[str, str]] = []
    # Every page's figures, equations and sections first: a link may point to another page.
    targets = {
        page.filename: collect_targets(
            page.data["mdast"],
            lambda n=number: Renderer(asset_url=asset_url, page_url=page_url, chapter=n),
        )
        for number, page in enumerate(pages, start=1)
    }
    for number, page in enumerate(pages, start=1):
        _sources(root, out, page)
        if repo and page.location:
            page.source_url = f"{repo}/blob/{launch['branch']}/{page.location}"
            page.edit_url = f"{repo}/edit/{launch['branch']}/{page.location}"
        renderer = Renderer(
            asset_url=asset_url, page_url=page_url, chapter=number, figure_note=figure_note
        )
        body = renderer.render(page.data["mdast"])
        search.extend(_search_entries(page, page.data["mdast"]))
        cite_data = page.data.get("references", {}).get("cite", {}).get("data", {})
        references = [
            {"label": label, "html": cite_data[label]["html"]}
            for label in page.data.get("references", {}).get("cite", {}).get("order", [])
            if label in cite_data
        ]
        body = _cite_previews(body, cite_data)
        body, previews = attach_previews(
            body,
            page.filename,
            targets,
            {label: entry.get("html", "") for label, entry in cite_data.items()},
        )
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
            previews=previews,
            references=references,
            toc=_toc(page.data["mdast"], chapter=number),
            launch=_launch_links(launch, page.location),
        )
        target = out / page.filename
        _write(target, html)
        written.append(target)
    index = env.get_template("index.html").render(site=site, nav=nav, pages=pages)
    _write(out / "index.html", index)
    written.append(out / "index.html")
    for name in ("404.html", "search.html"):
        _write(out / name, env.get_template(name).render(site=site, nav=nav))
        written.append(out / name)
    _write(out / "search-index.json", json.dumps(search, ensure_ascii=False, separators=(",", ":")))
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
    # `databook build` renders into a staging folder and publishes it when complete.
    out = os.environ.get("DATABOOK_SITE_OUT") or os.environ.get("BUILD_DIRECTORY")
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
