"""Sentences about other tools match the code they name (issue 26).

Each claim names a file and a commit of the other project; these tests hold the prose to
what that code does, so a revert to the old, wrong description fails here.
"""

from __future__ import annotations

import re

from tests.conftest import ROOT


def _paragraph(chapter: str, start: str) -> str:
    text = (ROOT / "chapters" / chapter).read_text()
    begin = text.index(start)
    return " ".join(text[begin : text.index("\n\n", begin)].split())


def test_ch1_osd_streaming_paragraph_matches_dandi_utils():
    """OSD's dandi_utils.py at cb144fed streams with remfile.File; its get_dandiset takes no
    version there (a later revision: version=None -> most recent); downloads are reused by
    file name with no size or checksum check."""
    para = _paragraph("01-nwb-basics.md", "**What the OpenScope Databook (OSD) does differently.**")
    assert (
        "`remfile.File`" in para and "cb144fed" in para and "databook_utils/dandi_utils.py" in para
    )
    assert re.search(r"`version=` argument.*default is `None`", para)
    assert "without checking its size or checksum" in para
    # the old claim: OSD streams through fsspec with its default options
    assert not re.search(r"streams through fsspec", para)
