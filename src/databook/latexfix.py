"""Repair mystmd's LaTeX code listings from the chapters' own source text.

mystmd writes a code block's text into ``\\begin{verbatim}`` through its *math* escaper,
which puts a space before every ``-`` that does not follow one (``demo-ecephys`` prints
as ``demo -ecephys``, ``--key`` as ``- -key``) and strips the first line's indentation.
The change cannot be undone from the ``.tex`` alone (``a -b`` and ``a-b`` both end up
``a -b``), so each listing is matched to the code block of the chapter it came from and
replaced by that block's text. Outputs are matched to the
executed notebooks mystmd caches in ``_build/execute``. A listing that matches nothing is
left alone.

Run by ``templates/latex/latexmkrc`` before LaTeX compiles (so the PDF is right) and by
the build on the exported ``.tex`` folder: ``python -m databook.latexfix TEXDIR [ROOT]``.
"""

from __future__ import annotations

import filecmp
import json
import re
import shutil
import sys
from pathlib import Path

__all__ = [
    "code_blocks",
    "fix_file",
    "fix_tree",
    "latex_escape",
    "metadata",
    "mystmd_verbatim_text",
    "notebook_outputs",
    "use_vector_figures",
    "write_metadata",
]

_MATH_MINUS = "-\u2212\ufe63\uff0d"
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_VERBATIM = re.compile(r"(\\begin\{verbatim\}\n)(.*?)(\n\\end\{verbatim\})", re.S)


def mystmd_verbatim_text(code: str) -> str:
    """The text mystmd writes into ``verbatim`` for ``code`` (its hyphen rule and trim).

    Only the hyphen-minus family is modelled; a block with other symbols mystmd rewrites
    (arrows, Greek letters) does not match and is left as mystmd wrote it.
    """
    out: list[str] = []
    for char in code:
        if char in _MATH_MINUS:
            if not out or out[-1] != " ":
                out.append(" ")
            out.append("-")
        else:
            out.append(char)
    return "".join(out).strip()


def code_blocks(markdown: str) -> list[str]:
    """Bodies of the fenced code blocks (and ``code-cell`` directives) of a MyST page."""
    blocks: list[str] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence = match["fence"]
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i])
            i += 1
        i += 1
        # Directive options (``:tags: [...]``) are not part of the code.
        while body and re.match(r"^:[\w-]+:", body[0]):
            body.pop(0)
        if body and body[0].strip() == "---" and "---" in (line.strip() for line in body[1:]):
            end = [line.strip() for line in body].index("---", 1)
            body = body[end + 1 :]
        blocks.append("\n".join(body).strip("\n"))
    return blocks


def notebook_outputs(notebook: dict) -> list[str]:
    """Text outputs (streams and ``text/plain`` results) of an executed notebook."""
    texts: list[str] = []
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            values = [output.get("text"), (output.get("data") or {}).get("text/plain")]
            for value in values:
                if isinstance(value, list):
                    value = "".join(value)
                if isinstance(value, str) and value.strip():
                    texts.append(value.strip("\n"))
    return texts


def _table(texts: list[str]) -> dict[str, str]:
    table: dict[str, str] = {}
    for text in texts:
        if text.isascii():
            table.setdefault(mystmd_verbatim_text(text), text)
    return table


def _originals(sources: list[Path], notebooks: list[Path]) -> tuple[dict, dict]:
    """(code, outputs): mystmd's verbatim text -> the original, for each kind."""
    code: list[str] = []
    outputs: list[str] = []
    for source in sources:
        code += code_blocks(source.read_text(encoding="utf-8"))
    for path in notebooks:
        try:
            outputs += notebook_outputs(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return _table(code), _table(outputs)


def fix_file(tex: Path, code: dict[str, str], outputs: dict[str, str] | None = None) -> int:
    """Restore every listing of ``tex`` that matches a source block or an output, and put
    outputs in the ``dboutput`` environment; return how many listings changed."""
    outputs = outputs or {}
    text = tex.read_text(encoding="utf-8")
    count = 0

    def repl(match: re.Match[str]) -> str:
        nonlocal count
        body = match[2]
        if body in outputs and body not in code:
            count += 1
            return f"\\begin{{dboutput}}\n{outputs[body]}\n\\end{{dboutput}}"
        original = code.get(body)
        if original is None or original == body:
            return match[0]
        count += 1
        return match[1] + original + match[3]

    fixed = _VERBATIM.sub(repl, text)
    if count:
        tex.write_text(fixed, encoding="utf-8")
    return count


_SPECIAL = {c: "\\" + c for c in "&%$#_{}"}
_SPECIAL.update({"~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"})


def latex_escape(text: str) -> str:
    """``text`` as LaTeX prints it literally (the ten special characters escaped)."""
    return "".join(_SPECIAL.get(c, c) for c in text)


def metadata(root: Path) -> dict[str, str]:
    """Version (pyproject.toml), ISO date and abstract (myst.yml), repository URL."""
    import tomllib

    import yaml

    meta = {"version": "", "date": "", "abstract": "", "repository": ""}
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        meta["version"] = str(project.get("version", ""))
        meta["repository"] = project.get("urls", {}).get("Source", "")
    myst = root / "myst.yml"
    if myst.is_file():
        project = (yaml.safe_load(myst.read_text(encoding="utf-8")) or {}).get("project", {})
        date = project.get("date")
        meta["date"] = date.isoformat() if hasattr(date, "isoformat") else str(date or "")
        meta["abstract"] = " ".join(str(project.get("description", "")).split())
    return meta


def write_metadata(tex_dir: Path, root: Path) -> Path:
    """Write ``databook-meta.tex`` (macros ``\\dbversion``, ``\\dbdate``, ...)."""
    meta = metadata(root)
    lines = ["% Written by databook.latexfix from pyproject.toml and myst.yml."]
    for key in ("version", "date", "abstract"):
        if meta[key]:
            lines.append(f"\\def\\db{key}{{{latex_escape(meta[key])}}}")
    if meta["repository"]:
        lines.append(f"\\def\\dbrepository{{{meta['repository']}}}")
    path = tex_dir / "databook-meta.tex"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


#: ``\includegraphics[...]{files/<stem>-<hash>.png}`` as mystmd writes a figure.
_GRAPHIC = re.compile(r"(\\includegraphics(?:\[[^\]]*\])?\{)([^{}]+)\.png\}")
#: mystmd keeps this many characters of an image's file name before "-<hash>".
_MYSTMD_STEM = 20


def use_vector_figures(tex_dir: Path, figures: Path) -> int:
    """Point each ``\\includegraphics`` of a built figure's PNG at the PDF its script wrote.

    mystmd copies the PNG a chapter shows into ``files/<stem[:20]>-<hash>.png``; the
    figure is the ``figures/*.png`` with the same bytes, and if its script also wrote
    ``<stem>.pdf`` that vector file is copied beside the PNG and included instead (the
    web keeps the PNG). Returns how many inclusions now use a PDF.
    """
    if not figures.is_dir():
        return 0
    candidates: dict[str, list[Path]] = {}
    for png in sorted(figures.glob("*.png")):
        if png.with_suffix(".pdf").is_file():
            candidates.setdefault(png.stem[:_MYSTMD_STEM], []).append(png)
    count = 0
    for tex in sorted(tex_dir.glob("*.tex")):
        text = tex.read_text(encoding="utf-8")

        def repl(match: re.Match[str]) -> str:
            nonlocal count
            name = match[2]
            copied = tex_dir / f"{name}.png"
            stem = Path(name).name.rsplit("-", 1)[0]
            for png in candidates.get(stem, []):
                if copied.is_file() and filecmp.cmp(copied, png, shallow=False):
                    shutil.copyfile(png.with_suffix(".pdf"), tex_dir / f"{name}.pdf")
                    count += 1
                    return f"{match[1]}{name}.pdf}}"
            return match[0]

        fixed = _GRAPHIC.sub(repl, text)
        if fixed != text:
            tex.write_text(fixed, encoding="utf-8")
    return count


def fix_tree(tex_dir: Path, root: Path) -> int:
    """Fix every ``.tex`` in ``tex_dir`` from the chapters of the project at ``root``
    (code listings, outputs, vector figures); return how many listings changed."""
    code, outputs = _originals(
        sorted((root / "chapters").glob("*.md")),
        sorted((root / "_build" / "execute").glob("*.ipynb")),
    )
    write_metadata(tex_dir, root)
    use_vector_figures(tex_dir, root / "figures")
    texs = [t for t in sorted(tex_dir.glob("*.tex")) if t.name != "databook-meta.tex"]
    return sum(fix_file(tex, code, outputs) for tex in texs)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        sys.exit("usage: python -m databook.latexfix TEXDIR [PROJECT_ROOT]")
    tex_dir = Path(args[0])
    root = Path(args[1]) if len(args) > 1 else Path.cwd()
    count = fix_tree(tex_dir, root)
    print(f"databook.latexfix: restored {count} code listing(s) in {tex_dir}")


if __name__ == "__main__":
    main()
