"""The statistics policy (Methods, ``databook.stats.POLICY``) is the one the chapters apply.

Each chapter named in a policy row must reach that row's function, from its own code
cells or from the figure scripts it embeds, directly or through the library functions
they call (an AST walk over ``databook``). No chapter cell or figure script may call a
t-test, multiply p-values by a count (Bonferroni over units), or keep an ``alpha`` level
where the policy has a false-discovery rate.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import itertools
import re
from functools import cache
from pathlib import Path

import jupytext
import numpy as np
import pytest

from databook import stats

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
FIGURES = ROOT / "figures_src"
TESTED = (2, 3, 4, 5, 6, 10)  # the chapters that test units or cells
FORBIDDEN_CALLS = ("ttest_rel", "ttest_1samp", "ttest_ind", "multipletests")
# A p-value times a count compared with a level: Bonferroni by hand.
_P = r"\b(?:\w+\.)?(?:\w+_)?p(?:_\w+)?\b"  # p, p_value, unit_p, roi_p, change.p_value
_COUNT = r"(?:len\([^)]*\)|[\w.]+\.size\b|n_\w+\b)"
BONFERRONI = re.compile(rf"{_P}\s*\*\s*{_COUNT}|{_COUNT}\s*\*\s*{_P}")


def chapter_file(number: int) -> Path:
    (path,) = CHAPTERS.glob(f"{number:02d}-*.md")
    return path


def chapter_code(number: int) -> str:
    notebook = jupytext.read(chapter_file(number))
    return "\n".join(c.source for c in notebook.cells if c.cell_type == "code")


def chapter_figures(number: int) -> list[Path]:
    names = re.findall(r"figures/(fig_\w+)\.png", chapter_file(number).read_text())
    return [FIGURES / f"{n}.py" for n in dict.fromkeys(names) if (FIGURES / f"{n}.py").is_file()]


def _calls(tree: ast.AST) -> set[tuple[str, str]]:
    """(qualifier, name) of every call or module attribute: ``stats.fdr(...)`` ->
    ("stats", "fdr"), ``fdr(...)`` -> ("", "fdr")."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
                out.add((f.value.id, f.attr))
            elif isinstance(f, ast.Name):
                out.add(("", f.id))
        # A function passed as a value counts too: sessions.across(sessions.rf_centres, ...)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            out.add((node.value.id, node.attr))
    return out


def _databook_function(qualifier: str, name: str, namespace: dict) -> str | None:
    """``module.function`` (under databook) that a call names, or None."""
    if qualifier:
        target = namespace.get(qualifier)
        module = getattr(target, "__name__", None) if inspect.ismodule(target) else None
        if module is None:  # a module imported inside the function: databook.<qualifier>
            try:
                module = importlib.import_module(f"databook.{qualifier}").__name__
            except ImportError:
                return None
        if not module.startswith("databook"):
            return None
        return f"{module}.{name}"
    target = namespace.get(name)
    module = getattr(target, "__module__", "") or ""
    return f"{module}.{name}" if module.startswith("databook") and callable(target) else None


@cache
def reached(dotted: str) -> frozenset[str]:
    """Every databook function that ``dotted`` (``databook.module.function``) calls, itself
    included, following calls through the library."""
    module_name, _, name = dotted.rpartition(".")
    try:
        module = importlib.import_module(module_name)
        function = getattr(module, name)
        source = inspect.getsource(function)
    except (ImportError, AttributeError, TypeError, OSError):
        return frozenset({dotted})
    tree = ast.parse(inspect.cleandoc("\n" + source) if source.startswith(" ") else source)
    found = {dotted}
    for qualifier, called in _calls(tree):
        target = _databook_function(qualifier, called, vars(module))
        if target and target not in found:
            found |= reached(target)
    return frozenset(found)


def reached_from_code(code: str) -> set[str]:
    """Databook functions reached from a script or a chapter's cells (``from databook
    import x`` makes ``x.f`` a call of ``databook.x.f``)."""
    tree = ast.parse(code)
    found: set[str] = set()
    for qualifier, called in _calls(tree):
        candidates = [f"databook.{qualifier}.{called}"] if qualifier else []
        for dotted in candidates:
            module_name = dotted.rpartition(".")[0]
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            if callable(getattr(module, called, None)):
                found |= reached(dotted)
    return found


def chapter_reaches(number: int) -> set[str]:
    found = reached_from_code(chapter_code(number))
    for script in chapter_figures(number):
        found |= reached_from_code(script.read_text())
    return found


@pytest.mark.parametrize("row", stats.POLICY, ids=[r.function for r in stats.POLICY])
def test_each_chapter_in_the_table_calls_the_function_it_names(row):
    target = f"databook.{row.function}"
    module_name, _, name = target.rpartition(".")
    assert callable(getattr(importlib.import_module(module_name), name)), target
    for number in row.chapters:
        assert target in chapter_reaches(number), (
            f"chapter {number} is listed for {row.question!r} but never reaches {target}"
        )


def test_permutation_tests_use_permutation_p():
    """Shuffle and SALT p-values go through permutation_p (never 0) before BH."""
    for function in ("databook.rf.receptive_fields", "databook.opto.tag_units"):
        assert "databook.stats.permutation_p" in reached(function), function
        assert "databook.stats.fdr" in reached(function), function
    # the waveform check returns one p per unit; chapter 6 applies BH over the tagged units
    assert "databook.stats.permutation_p" in reached("databook.waveforms.similarity")
    assert "stats.fdr([c.p_value for c in tagged_checks.values()])" in chapter_code(6)


@pytest.mark.parametrize("number", TESTED)
def test_no_t_test_or_bonferroni_over_units_in_chapters_or_their_figures(number):
    sources = {chapter_file(number).name: chapter_code(number)}
    sources |= {p.name: p.read_text() for p in chapter_figures(number)}
    for name, code in sources.items():
        called = {c for _, c in _calls(ast.parse(code))}
        assert not called & set(FORBIDDEN_CALLS), (name, called & set(FORBIDDEN_CALLS))
        for line in code.splitlines():
            assert not BONFERRONI.search(line.split("#")[0]), (name, line)


@pytest.mark.parametrize("number", TESTED)
def test_false_discovery_rates_are_named_q_not_alpha(number):
    """A parameter cell keeps no ``alpha`` level for a per-unit test (``ks_alpha`` only
    reads the other project's ks_salt, and is allowed)."""
    notebook = jupytext.read(chapter_file(number))
    (cell,) = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    names = re.findall(r"^(\w+)\s*=", cell.source, re.MULTILINE)
    assert not [n for n in names if n in ("alpha", "p_max") or n == "selectivity_alpha"], names


def test_methods_renders_the_policy_from_the_library():
    text = chapter_file(9).read_text()
    assert "## Statistics" in text
    assert "stats.policy_table()" in chapter_code(9)
    # MyST evaluates an inline {eval} with the cells above it only: the section's prose
    # reads stats.FDR_Q, so stats must be imported before the section starts.
    before = text[: text.index("## Statistics")]
    assert re.search(r"^from databook import .*\bstats\b", before, re.MULTILINE)
    table = stats.policy_table()
    assert list(table.index) == [r.question for r in stats.POLICY]
    assert {"test", "family corrected over", "correction", "threshold", "why", "chapters"} <= set(
        table.columns
    )
    for row in stats.POLICY:
        assert row.correction and row.family and row.why and row.chapters
        if row.correction == "Benjamini-Hochberg" or "Benjamini-Hochberg" in row.correction:
            assert row.threshold == f"q < {stats.FDR_Q:g}"


def test_earlier_keywords_keep_their_earlier_meaning():
    """Code written against earlier versions passes ``alpha`` (responses, rf, unitsummary,
    sessions) or uses tag_units' default: those keep the per-unit criterion they had
    (no correction over units), so such code and its checks run unchanged, while the
    article passes ``q``. A planted excited unit and 30 flat Poisson units."""
    from databook import opto, responses, rf

    rng = np.random.default_rng(5)
    onsets = 2.0 + 1.0 * np.arange(60)
    flat = [np.sort(rng.uniform(0, 64, rng.poisson(5 * 64))) for _ in range(30)]
    burst = np.concatenate([o + 0.02 + rng.uniform(0, 0.05, 4) for o in onsets])
    units = [np.sort(np.concatenate([flat[0], burst])), *flat[1:]]
    old = responses.unit_responses(units, onsets, alpha=0.01)
    new = responses.unit_responses(units, onsets)
    assert old.responsive[0] and new.responsive[0]
    # alpha: the one-sided busiest-sub-window test, Bonferroni over the 5 sub-windows only
    from scipy.stats import binom

    base = np.array([sum(((s >= o - 0.5) & (s < o)).sum() for o in onsets) for s in units])
    edges = np.linspace(0.0, 0.25, 6)
    pairs = list(itertools.pairwise(edges))
    sub = np.array(
        [[sum(((s >= o + a) & (s < o + b)).sum() for o in onsets) for a, b in pairs]
         for s in units]
    )  # fmt: skip
    k = sub.max(axis=1)
    p_old = np.minimum(1.0, 5 * binom.sf(k - 1, k + base, 0.05 / 0.55))
    assert not old.responsive[p_old >= 0.01].any()
    assert (old.direction >= 0).all()  # excitation only, as before
    # rf: alpha is p < alpha per unit
    xs = np.tile([-10.0, 0.0, 10.0], 40)
    ys = np.repeat([0.0, 10.0], 60)
    fields = rf.receptive_fields(flat[:5], xs, ys, onsets[:1].repeat(120) + np.arange(120),
                                 window=(0.0, 0.25), n_shuffles=99, alpha=0.05)  # fmt: skip
    np.testing.assert_array_equal(fields.significant, fields.p_value < 0.05)
    # tag_units: the default is salt_p < p_max = 0.01 per unit; q=0.05 is BH
    pulses = 1.0 + 0.6 * np.arange(150)
    tagged = np.sort(np.concatenate([flat[0] * 1.5, pulses + 0.003 + rng.normal(0, 3e-4, 150)]))
    table = opto.tag_units([tagged, *[f * 1.5 for f in flat[1:]]], pulses, 0.005)
    assert table.tagged.equals(opto.is_tagged(table, p_max=0.01))
    assert opto.is_tagged(table, q=0.05).equals(
        opto.is_tagged(table, p_max=2.0).where(table.salt_q < 0.05, False)
    )
