"""Planted bugs in the site renderer, previews, launch menu, LaTeX repair, figure layout
and the watermark (issue 18)."""

MUTATIONS = [
    {
        "name": "latexfix-space-before-every-hyphen",
        "file": "src/databook/latexfix.py",
        "old": 'if not out or out[-1] != " ":',
        "new": "if True:",
        "tests": [
            "tests/test_latexfix.py::test_model_of_mystmd_reproduces_what_it_writes",
            "tests/test_latexfix.py::test_listing_is_restored_and_output_set_apart",
        ],
    },
    {
        "name": "latexfix-outputs-not-set-apart",
        "file": "src/databook/latexfix.py",
        "old": "if body in outputs and body not in code:",
        "new": "if False:",
        "tests": ["tests/test_latexfix.py::test_listing_is_restored_and_output_set_apart"],
    },
    {
        "name": "site-subsection-counter-not-reset",
        "file": "src/databook/site/ast.py",
        "old": "self._sections[level + 1 :] = [0] * (len(self._sections) - level - 1)",
        "new": "pass",
        "tests": ["tests/test_site.py::test_sections_are_numbered_like_the_pdf"],
    },
    {
        "name": "site-double-hyphen-left-literal",
        "file": "src/databook/site/ast.py",
        "old": '.replace(" -- ", " \\u2013 ")',
        "new": "",
        "tests": ["tests/test_site.py::test_spaced_double_hyphen_is_an_en_dash_but_code_keeps_it"],
    },
    {
        "name": "site-table-not-wrapped",
        "file": "src/databook/site/ast.py",
        "old": 'return f\'<div class="table-wrap">{self._wrap("table", node)}</div>\'',
        "new": 'return self._wrap("table", node)',
        "tests": ["tests/test_site.py::test_wide_table_scrolls_in_its_own_box"],
    },
    {
        "name": "watermark-back-in-the-middle",
        "file": "src/databook/plots.py",
        "old": "if not any(box.overlaps(other) for other in _occupied(fig, renderer, mark)):",
        "new": "if True:",
        "tests": [
            "tests/test_site.py::test_default_watermark_stays_clear_of_every_panel_and_label"
        ],
    },
    {
        "name": "preview-xref-not-linked",
        "file": "src/databook/site/previews.py",
        "old": """href="{match[2]}" data-preview="{preview}">'""",
        "new": """href="{match[2]}">'""",
        "tests": [
            "tests/test_site_previews.py::test_links_name_their_preview_and_the_page_carries_each_once"
        ],
    },
    {
        "name": "preview-keeps-links-and-ids",
        "file": "src/databook/site/previews.py",
        "old": 'return _ID_ATTR.sub("", _ANCHOR_TAG.sub("", fragment))',
        "new": "return fragment",
        "tests": [
            "tests/test_site_previews.py::test_targets_hold_figure_thumbnail_and_caption_equation_and_section",
            "tests/test_site_previews.py::test_links_name_their_preview_and_the_page_carries_each_once",
        ],
    },
    {
        "name": "preview-section-without-its-paragraph",
        "file": "src/databook/site/previews.py",
        "old": 'if kind == "paragraph" and not in_figure and pending:',
        "new": "if False:",
        "tests": [
            "tests/test_site_previews.py::test_targets_hold_figure_thumbnail_and_caption_equation_and_section"
        ],
    },
    {
        "name": "preview-figure-without-thumbnail",
        "file": "src/databook/site/previews.py",
        "old": """parts.append(f'<img src="{src}" alt="" class="preview-image">')""",
        "new": "pass",
        "tests": [
            "tests/test_site_previews.py::test_targets_hold_figure_thumbnail_and_caption_equation_and_section"
        ],
    },
    {
        "name": "launch-branch-ignored",
        "file": "src/databook/site/render.py",
        "old": '"branch": str(options.get("launch_branch") or "main")',
        "new": '"branch": "main"',
        "tests": ["tests/test_site_launch.py::test_changing_myst_yml_changes_the_launch_links"],
    },
    {
        "name": "launch-empty-server-keeps-button",
        "file": "src/databook/site/render.py",
        "old": "if settings.get(option)\n",
        "new": "if option in settings\n",
        "tests": ["tests/test_site_launch.py::test_changing_myst_yml_changes_the_launch_links"],
    },
    {
        "name": "launch-repository-from-pyproject-only",
        "file": "src/databook/site/render.py",
        "old": 'repo = str(projects[0].get("github") or "").rstrip("/")',
        "new": 'repo = ""',
        "tests": ["tests/test_site_launch.py::test_changing_myst_yml_changes_the_launch_links"],
    },
    {
        "name": "site-bare-narrative-cite-unwrapped",
        "file": "src/databook/site/ast.py",
        "old": """return f'<span class="cite-group narrative">{self._cite_link(node)}</span>'""",
        "new": "return self._cite_link(node)",
        "tests": ["tests/test_citations.py::test_narrative_cite_renders_the_same_bare_or_grouped"],
    },
    {
        "name": "latexfix-vector-figure-not-used",
        "file": "src/databook/latexfix.py",
        "old": 'return f"{match[1]}{name}.pdf}}"',
        "new": "return match[0]",
        "tests": [
            "tests/test_latexfix.py::test_figure_with_a_pdf_beside_its_png_is_included_as_vector"
        ],
    },
    {
        "name": "latexfix-vector-figure-by-name-only",
        "file": "src/databook/latexfix.py",
        "old": "if copied.is_file() and filecmp.cmp(copied, png, shallow=False):",
        "new": "if copied.is_file():",
        "tests": [
            "tests/test_latexfix.py::test_figure_with_a_pdf_beside_its_png_is_included_as_vector"
        ],
    },
    {
        "name": "figure-pdf-type3-fonts",
        "file": "src/databook/plots.py",
        "old": '"pdf.fonttype": 42,',
        "new": '"pdf.fonttype": 3,',
        "tests": ["tests/test_latexfix.py::test_figure_pdfs_embed_truetype_not_type3_fonts"],
    },
]
