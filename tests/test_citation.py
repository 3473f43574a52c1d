"""How to cite a build (databook.citation): the BibTeX entry and the image it was built in."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from databook.citation import (
    OUTSIDE,
    CitationError,
    base_image,
    bibtex,
    build_image,
    read_citation,
)

ROOT = Path(__file__).resolve().parents[1]
DIGEST = "sha256:" + "0123456789abcdef" * 4


def _myst_version(root: Path) -> str:
    project = yaml.safe_load((root / "myst.yml").read_text())["project"]
    return next(e["version"] for e in project["exports"] if e.get("format") == "cff")


def _fields(entry: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(\w+)\s*=\s*\{(.*)\},$", entry, flags=re.M))


def test_bibtex_of_this_project_names_the_version_in_myst_yml():
    entry = bibtex(read_citation(ROOT))
    fields = _fields(entry)
    project = yaml.safe_load((ROOT / "myst.yml").read_text())["project"]
    assert fields["version"] == _myst_version(ROOT)
    assert fields["title"] == project["title"]
    assert fields["year"] == str(project["date"])[:4]
    assert entry.startswith(f"@software{{databook-v{_myst_version(ROOT)},")
    assert entry.endswith("\n}")


def _project(tmp_path: Path, cff_changes: dict) -> Path:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text()) | cff_changes
    (tmp_path / "CITATION.cff").write_text(yaml.safe_dump(cff, sort_keys=False))
    shutil.copy(ROOT / "myst.yml", tmp_path / "myst.yml")
    return tmp_path


def test_bibtex_of_people_and_a_group_escapes_and_a_doi(tmp_path):
    authors = [
        {"family-names": "Beethoven", "given-names": "Ludwig", "name-particle": "van"},
        {"family-names": "Curie", "given-names": "Marie"},
        {"name": "Allen Institute & friends"},
    ]
    changes = {
        "authors": authors,
        "title": "Spikes_and 100% calcium",
        "version": "2.3.4",
        "date-released": "2031-02-03",
        "identifiers": [{"type": "doi", "value": "10.5281/zenodo.1234567"}],
    }
    citation = read_citation(_project(tmp_path, changes))
    fields = _fields(bibtex(citation))
    # people "Family, Given" (particle kept with the family name); a group in its own braces
    # so that BibTeX does not read "friends" as a family name
    assert fields["author"] == (
        r"van Beethoven, Ludwig and Curie, Marie and {Allen Institute \& friends}"
    )
    assert fields["title"] == r"Spikes\_and 100\% calcium"
    assert (fields["version"], fields["year"], fields["date"]) == ("2.3.4", "2031", "2031-02-03")
    assert fields["doi"] == "10.5281/zenodo.1234567"
    assert fields["note"] == "Text CC-BY-4.0, code BSD-3-Clause"
    assert "doi" not in _fields(bibtex(read_citation(ROOT)))  # none minted yet: no fake one


def test_read_citation_refuses_missing_fields_and_a_bad_date(tmp_path):
    with pytest.raises(CitationError, match=r"CITATION\.cff is missing"):
        read_citation(tmp_path)
    with pytest.raises(CitationError, match="lacks version"):
        read_citation(_project(tmp_path, {"version": ""}))
    with pytest.raises(CitationError, match="'23-11-2026'"):
        read_citation(_project(tmp_path, {"date-released": "23-11-2026"}))


def test_readme_bibtex_is_the_generated_entry():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bibtex\n(.*?)\n```", readme, flags=re.S)
    assert len(blocks) == 1, "README.md should show one BibTeX entry (under 'How to cite')"
    assert blocks[0] == bibtex(read_citation(ROOT)), (
        "README's BibTeX differs from the one the build prints (databook.citation.bibtex)"
    )


# --- the image ---------------------------------------------------------------------------------


def test_build_image_from_the_environment():
    base = base_image(ROOT / "Dockerfile")
    assert re.fullmatch(r"python:3\.11\S*bookworm@sha256:[0-9a-f]{64}", base)
    outside = build_image(ROOT, {})
    assert (outside.image, outside.digest, outside.base) == (OUTSIDE, None, base)
    assert build_image(ROOT, {"DATABOOK_IMAGE_DIGEST": "  "}).image == OUTSIDE
    inside = build_image(ROOT, {"DATABOOK_CONTAINER": "1"})
    assert inside.digest is None and "container" in inside.image and inside.image != OUTSIDE
    pushed = build_image(ROOT, {"DATABOOK_IMAGE_DIGEST": f"ghcr.io/org/databook@{DIGEST}"})
    assert (pushed.image, pushed.digest) == (f"ghcr.io/org/databook@{DIGEST}", DIGEST)
    local = build_image(ROOT, {"DATABOOK_IMAGE_DIGEST": DIGEST, "DATABOOK_CONTAINER": "1"})
    assert (local.image, local.digest) == (DIGEST, DIGEST)


@pytest.mark.parametrize("value", ["databook:ci", "sha256:abc", "ghcr.io/x@sha256:" + "G" * 64])
def test_build_image_refuses_what_is_not_a_digest(value):
    with pytest.raises(CitationError, match=re.escape(repr(value))):
        build_image(ROOT, {"DATABOOK_IMAGE_DIGEST": value})


def test_base_image_refuses_an_unpinned_from(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim-bookworm\n")
    with pytest.raises(CitationError, match="not pinned"):
        base_image(tmp_path / "Dockerfile")
