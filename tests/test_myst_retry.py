"""mystmd's transient network failure ("TypeError: fetch failed") leaves an export out
while mystmd still exits 0: the build checks the outputs and runs mystmd once more."""

from __future__ import annotations

from pathlib import Path

import pytest

from databook import article
from databook.paths import Project


@pytest.fixture
def project(tmp_path) -> Project:
    (tmp_path / "myst.yml").write_text("version: 1\n")
    return Project(tmp_path)


def _fake_myst(monkeypatch, outcomes):
    """Each call of run_myst takes the next (log lines, files to write) of ``outcomes``."""
    calls = []

    def run_myst(project, data_mode, formats, *, site_out=None):
        log, files = outcomes[len(calls)]
        calls.append(formats)
        for path in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x")
        return log

    monkeypatch.setattr(article, "run_myst", run_myst)
    return calls


def test_a_transient_fetch_failure_that_left_an_export_out_is_run_again(project, monkeypatch):
    tex, pdf = project.root / "out" / "tex" / "databook.tex", project.root / "out" / "a.pdf"
    calls = _fake_myst(
        monkeypatch,
        [(["📑 Exported TeX", article.TRANSIENT_MYST_ERROR], [pdf]), ([], [tex])],
    )
    article.run_myst_complete(project, "demo", ["--pdf", "--tex"], [pdf, tex])
    assert len(calls) == 2 and tex.is_file() and pdf.is_file()


@pytest.mark.parametrize("case", ["complete", "other error"])
def test_no_second_run_when_nothing_is_missing_or_the_failure_is_not_transient(
    project, monkeypatch, case
):
    tex = project.root / "out" / "tex" / "databook.tex"
    first = ([article.TRANSIENT_MYST_ERROR], [tex]) if case == "complete" else (["⛔️ x"], [])
    calls = _fake_myst(monkeypatch, [first, ([], [tex])])
    article.run_myst_complete(project, "demo", ["--tex"], [tex])
    assert len(calls) == 1
    assert tex.is_file() == (case == "complete")  # the caller's check then names it


def test_a_second_failure_is_left_to_the_callers_check(project, monkeypatch):
    tex: Path = project.root / "out" / "tex" / "databook.tex"
    failing = ([article.TRANSIENT_MYST_ERROR], [])
    calls = _fake_myst(monkeypatch, [failing, failing, failing])
    article.run_myst_complete(project, "demo", ["--tex"], [tex])
    assert len(calls) == 2 and not tex.exists()
