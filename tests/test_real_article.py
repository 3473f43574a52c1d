"""The real-data article, built as a reader without network would build it.

A copy of the project (its tracked files, plus the demo build's figures and mystmd's
execution cache, so that only what depends on the data runs again) is built with
``databook build --data dandi`` into an empty data cache. The DANDI:000006 sessions come
through the DANDI API path: a mirror of the archive on 127.0.0.1 (``databook.localarchive``,
``DANDI_API_URL``) serves the copies beside the project under their real asset ids, from
the archive's own listing; the 000207 session and the CellReg files are seeded with
``--from``. Every real input is checked against its sha256, the real-data figure scripts
run, the chapters with an "On real data" section execute again, and the site and the PDF
show those sections with their numbers and provenance. The demo build of the same tree
shows one line in their place. Skips when ``../shared`` is absent.
"""

from __future__ import annotations

import html as htmllib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from databook.localarchive import Archive, DandiServer
from tests.conftest import ROOT

SHARED = ROOT.parent / "shared" / "data"
pytestmark = pytest.mark.skipif(
    not (SHARED / "dandi" / "000006").is_dir(),
    reason=f"{SHARED}/dandi (copies of published DANDI assets) is absent",
)
REAL_CHAPTERS = (
    "01-nwb-basics",
    "02-alignment",
    "04-neuropixels-responses",
    "10-across-sessions",
)
LISTING = SHARED / "dandi" / "000006-0.220126.1855.assets.json"


def _text(page: Path) -> str:
    raw = re.sub(
        r"<(script|style)[^>]*>.*?</\1>", " ", page.read_text(encoding="utf-8"), flags=re.S
    )
    text = " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", raw)).split())
    return re.sub(r"\( | (?=[),])", lambda m: "(" if m.group(0) == "( " else "", text)


@pytest.fixture(scope="module")
def real_build(built_article, tmp_path_factory):
    copy = tmp_path_factory.mktemp("project")
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    for name in filter(None, tracked):
        source = ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    shutil.copytree(ROOT / "figures", copy / "figures")
    shutil.copytree(ROOT / "_build" / "execute", copy / "_build" / "execute")
    for name in ("templates/site/node_modules",):
        if (ROOT / name).is_dir():
            (copy / name).symlink_to(ROOT / name)
    cache = tmp_path_factory.mktemp("cache")
    mirror = Archive.from_listing(LISTING, SHARED / "dandi" / "000006")
    with DandiServer(mirror) as server:
        env = {
            **os.environ,
            "PYTHONWARNINGS": "ignore",
            "DATABOOK_CACHE": str(cache),
            "DANDI_API_URL": server.api_url,
        }
        command = [sys.executable, "-m", "databook.cli", "build", "--data", "dandi"]
        command += ["--from", str(SHARED / "dandi" / "000207"), "--from", str(SHARED / "real")]
        proc = subprocess.run(
            command, cwd=copy, env=env, capture_output=True, text=True, timeout=1200, check=False
        )
        log = proc.stdout + proc.stderr
        downloads = [r for r in mirror.log if r.kind == "whole" and r.status == 200]
    assert proc.returncode == 0, f"databook build --data dandi failed:\n{log[-4000:]}"
    return copy, log, mirror, downloads


def test_the_demo_build_shows_one_line_for_each_real_section(built_article):
    for chapter in REAL_CHAPTERS:
        text = _text(built_article.html / f"{chapter}.html")
        assert "In the real-data build:" in text and "make article DATA=dandi" in text
        assert "DANDI:000006" in text
        # neither figure nor number of the real section
        assert "fig_alm" not in text and "fig_align_real" not in text


def test_the_real_build_shows_each_section_with_computed_numbers_and_provenance(real_build):
    copy, *_ = real_build
    ch4 = _text(copy / "_build" / "html" / "04-neuropixels-responses.html")
    assert "In the real-data build:" not in ch4
    held = len(list((SHARED / "dandi" / "000006").glob("sub-*/*.nwb")))
    assert f"This build read the {held} sessions" in ch4
    assert re.search(
        r"In the delay epoch \d+ % of units are selective \(95 % interval \d+-\d+ %\)", ch4
    )
    assert f"from {held} assets of 000006@0.220126.1855" in ch4  # the figure's provenance
    ch2 = _text(copy / "_build" / "html" / "02-alignment.html")
    assert "In the real-data build:" not in ch2
    assert re.search(r"windows around them hold 0 spikes, against \d+ around the right", ch2)
    assert f"from the {held} sessions this build holds" in ch2
    assert f"from {held} assets of 000006@0.220126.1855" in ch2  # the figure's provenance
    ch10 = _text(copy / "_build" / "html" / "10-across-sessions.html")
    assert f"All {held} served sessions gave a table (0 failures)" in ch10
    assert re.search(r"the workers read \d+\.\d MB of the \d+\.\d MB", ch10)


def test_the_real_build_shows_chapter_1s_files_next_to_the_demo(real_build):
    import h5py

    copy, *_ = real_build
    ch1 = _text(copy / "_build" / "html" / "01-nwb-basics.html")
    assert "In the real-data build:" not in ch1
    assert "On real data: the anatomy of two published files" in ch1
    held = SHARED / "dandi" / "000207" / "sub-4" / "sub-4_ses-4_ecephys+image.nwb"
    with h5py.File(held, "r") as f:
        where = f["general/extracellular_ephys/electrodes/location"][:].astype(str)
        script = f["general/source_script"][()].decode()
    for location, n in zip(*np.unique(where, return_counts=True), strict=True):
        assert f"{location} ({n})" in ch1  # the comparison table's electrode locations
    assert script in ch1
    for pinned in ("000207@0.220216.0323", "000006@0.220126.1855"):
        assert pinned in ch1  # the figure's provenance names each real asset


def test_the_real_pdf_holds_the_sections_and_the_cache_only_verified_copies(real_build):
    copy, log, mirror, downloads = real_build
    # Each held session was downloaded once, by its real asset id, through the API path.
    assert sorted(r.path.rsplit("/", 1)[-1] for r in downloads) == sorted(mirror.assets)
    pdf = copy / "_build" / "exports" / "databook.pdf"
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "On real data: the anatomy of two published files" in text
    assert "On real data: choice selectivity in mouse ALM" in text
    assert "On real data: aligning to a task" in text  # (the apostrophe may be typeset)
    assert "On real data: every session of DANDI:000006" in text
    assert "In the real-data build:" not in text
    # Pinned assets the folders do not hold were left out and named, not downloaded.
    assert "optional real asset(s) not available" in log
