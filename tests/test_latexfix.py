"""Repairing mystmd's LaTeX code listings from the chapters' source (issue 18)."""

from __future__ import annotations

import json

from databook.latexfix import (
    code_blocks,
    fix_file,
    fix_tree,
    latex_escape,
    metadata,
    mystmd_verbatim_text,
)


def test_model_of_mystmd_reproduces_what_it_writes():
    # Observed in mystmd's .tex: a space before each hyphen that does not follow one.
    assert mystmd_verbatim_text('asset = "demo-ecephys"') == 'asset = "demo -ecephys"'
    assert mystmd_verbatim_text("  --key a-b") == "- -key a -b"
    assert mystmd_verbatim_text("x = a - b") == "x = a - b"


def test_code_blocks_drop_directive_options():
    md = (
        "text\n```{code-cell} python\n:tags: [hide-input]\nx = 1\n```\n\n"
        "````md\n```\ninner\n```\n````\n"
    )
    assert code_blocks(md)[0] == "x = 1"
    assert code_blocks(md)[1] == "```\ninner\n```"


def test_listing_is_restored_and_output_set_apart(tmp_path):
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    (chapters / "01-x.md").write_text(
        '```{code-cell} python\nasset = "demo-ecephys"  # a -b\nprint(x)\n```\n'
    )
    execute = tmp_path / "_build" / "execute"
    execute.mkdir(parents=True)
    notebook = {"cells": [{"outputs": [{"output_type": "stream", "text": ["half-rise 3\n"]}]}]}
    (execute / "a.ipynb").write_text(json.dumps(notebook))
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nversion = "1.2.3"\n[project.urls]\nSource = "https://example.org/r"\n'
    )
    (tmp_path / "myst.yml").write_text(
        "project:\n  date: 2026-11-23\n  description: >-\n    A 100% test_case.\n"
    )
    tex_dir = tmp_path / "tex"
    tex_dir.mkdir()
    tex = tex_dir / "ch.tex"
    garbled = mystmd_verbatim_text('asset = "demo-ecephys"  # a -b\nprint(x)')
    tex.write_text(
        f"\\begin{{verbatim}}\n{garbled}\n\\end{{verbatim}}\n"
        "\\begin{verbatim}\nhalf -rise 3\n\\end{verbatim}\n"
        "\\begin{verbatim}\nnot -from -source\n\\end{verbatim}\n"
    )
    assert fix_tree(tex_dir, tmp_path) == 2
    text = tex.read_text()
    assert 'asset = "demo-ecephys"  # a -b\nprint(x)' in text
    assert "\\begin{dboutput}\nhalf-rise 3\n\\end{dboutput}" in text
    assert "not -from -source" in text  # unknown listings are left as they were
    assert fix_tree(tex_dir, tmp_path) == 0  # idempotent
    meta = (tex_dir / "databook-meta.tex").read_text()
    assert "\\def\\dbversion{1.2.3}" in meta
    assert "\\def\\dbdate{2026-11-23}" in meta
    assert "\\def\\dbabstract{A 100\\% test\\_case.}" in meta
    assert "\\def\\dbrepository{https://example.org/r}" in meta


def test_fix_file_leaves_a_file_without_matches_untouched(tmp_path):
    tex = tmp_path / "a.tex"
    tex.write_text("\\begin{verbatim}\nx -y\n\\end{verbatim}\n")
    before = tex.stat().st_mtime_ns
    assert fix_file(tex, {}) == 0
    assert tex.stat().st_mtime_ns == before


def test_latex_escape_and_metadata_of_this_project(root):
    assert latex_escape("a_b & 5% {x}") == "a\\_b \\& 5\\% \\{x\\}"
    meta = metadata(root)
    assert meta["version"] and meta["date"].count("-") == 2
    assert meta["abstract"].startswith("A reproducible article")


def test_figure_with_a_pdf_beside_its_png_is_included_as_vector(tmp_path):
    from databook.latexfix import use_vector_figures

    figures = tmp_path / "figures"
    files = tmp_path / "tex" / "files"
    figures.mkdir()
    files.mkdir(parents=True)
    # A long name (mystmd keeps 20 characters), a short one without PDF, a stale copy.
    (figures / "fig_cellmatch_neighbours.png").write_bytes(b"png-1")
    (figures / "fig_cellmatch_neighbours.pdf").write_bytes(b"%PDF-vector")
    (figures / "fig_psth.png").write_bytes(b"png-2")
    (figures / "fig_rf.png").write_bytes(b"png-3")
    (figures / "fig_rf.pdf").write_bytes(b"%PDF-rf")
    (files / "fig_cellmatch_neighb-aa11.png").write_bytes(b"png-1")
    (files / "fig_psth-bb22.png").write_bytes(b"png-2")
    (files / "fig_rf-cc33.png").write_bytes(b"png-old")
    tex = tmp_path / "tex" / "chapter.tex"
    tex.write_text(
        "\\includegraphics[width=0.7\\linewidth]{files/fig_cellmatch_neighb-aa11.png}\n"
        "\\includegraphics[width=0.7\\linewidth]{files/fig_psth-bb22.png}\n"
        "\\includegraphics{files/fig_rf-cc33.png}\n",
        encoding="utf-8",
    )
    assert use_vector_figures(tmp_path / "tex", figures) == 1
    assert tex.read_text(encoding="utf-8").splitlines() == [
        "\\includegraphics[width=0.7\\linewidth]{files/fig_cellmatch_neighb-aa11.pdf}",
        "\\includegraphics[width=0.7\\linewidth]{files/fig_psth-bb22.png}",
        "\\includegraphics{files/fig_rf-cc33.png}",  # not this build's PNG: left alone
    ]
    assert (files / "fig_cellmatch_neighb-aa11.pdf").read_bytes() == b"%PDF-vector"
    assert use_vector_figures(tmp_path / "tex", tmp_path / "nowhere") == 0


def test_figure_pdfs_embed_truetype_not_type3_fonts():
    """pdflatex keeps a figure PDF's fonts as they are; Type 3 fails the PDF's font check."""
    from databook import plots

    plots.figure_style()
    import matplotlib

    assert matplotlib.rcParams["pdf.fonttype"] == 42
