"""Planted bugs in the site renderer, the LaTeX repair and the watermark (issue 18)."""

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
]
