"""`databook run 04` on published sessions, with exactly the options `databook inspect` gives.

DANDI:000006 (mouse ALM, 30 sessions held in ``../shared/data/dandi/000006``): trials
whose go cue (``cue_start_time``) is stored relative to each trial's start, ``stop_time``
all NaN, spike times out of order, 1 to 66 units. DANDI:000207 (human MTL): three task
tables, no ``flashes_presentations``. The suite runs the variety (the largest session, a
one-unit session, a session with the odd late cue, 000207) in about two minutes; every
held session runs with ``DATABOOK_ALL_SESSIONS=1`` (about 15 minutes here).
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from databook import nwb
from databook.cli import main
from tests.conftest import ROOT

pytestmark = pytest.mark.filterwarnings("ignore::databook.nwb.SpikeTimesRepairedWarning")

DANDI = ROOT.parent / "shared" / "data" / "dandi"
ALM = DANDI / "000006"
HUMAN = DANDI / "000207" / "sub-4" / "sub-4_ses-4_ecephys+image.nwb"
LARGEST = ALM / "sub-anm372904" / "sub-anm372904_ses-20170619.nwb"  # 66 units
ONE_UNIT = ALM / "sub-anm369963" / "sub-anm369963_ses-20170228.nwb"  # 1 unit
LATE_CUE = ALM / "sub-anm369963" / "sub-anm369963_ses-20170302.nwb"  # 2 cues > 2 trials late
STEM = "04-neuropixels-responses"


def _held(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} (a copy of a published DANDI asset) is absent")
    return path


def suggested_options(path: Path) -> list[str]:
    """The ``-p`` options `databook inspect` prints for chapter 04 on ``path``."""
    result = CliRunner().invoke(main, ["inspect", str(path)])
    assert result.exit_code == 0, result.output
    verdict = re.search(rf"^  {STEM}: (.*)$", result.output, re.MULTILINE)
    assert verdict, result.output
    if verdict[1] == "runs":
        return []
    assert verdict[1].startswith("runs with "), verdict[1]
    return shlex.split(verdict[1].removeprefix("runs with "))


def run_suggested(path: Path, out: Path) -> tuple[list[str], nbformat.NotebookNode]:
    options = suggested_options(path)
    result = CliRunner().invoke(
        main, ["run", "04", "--nwb", str(path), *options, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Error" not in result.output
    figures = {p.name for p in (out / "figures").iterdir()}
    assert {f"fig_ecephys_{n}.png" for n in ("rasters", "quality", "areas")} <= figures
    return options, nbformat.read(str(out / f"{STEM}.ipynb"), as_version=4)


def _text(notebook: nbformat.NotebookNode) -> str:
    return "\n".join(
        str(o.get("data", {}).get("text/plain", ""))
        for c in notebook.cells
        for o in c.get("outputs", [])
    )


def _rows(text: str, table: str) -> int:
    """The row count the chapter's first table gives for ``table``."""
    match = re.search(rf"^{table}\s+(\d+)\b", text, re.MULTILINE)
    assert match, text[:2000]
    return int(match[1])


def check_alm(path: Path, out: Path) -> None:
    options, notebook = run_suggested(path, out)
    # inspect maps the trials table and puts the go cue on the session clock.
    assert options == [
        "-p", "stimulus_name", "trials", "-p", "onset_column", "start_time + cue_start_time",
    ]  # fmt: skip
    trials = nwb.stimulus_table(path, "trials")
    assert trials["stop_time"].isna().all()  # the NaN stop_time the chapter must survive
    text = _text(notebook)
    # The chapter read the onsets from the expression (its table of what it used says so),
    # and every unit of the file.
    assert re.search(r"^trials\s+\d+\s+start_time \+ cue_start_time \(s\)", text, re.MULTILINE)
    assert _rows(text, "trials") == len(trials)
    assert _rows(text, "units") == len(nwb.units(path))


@pytest.mark.parametrize(
    "path", [LARGEST, ONE_UNIT, LATE_CUE], ids=["66-units", "1-unit", "late-cue"]
)
def test_run_04_on_000006_with_the_options_inspect_suggests(path, tmp_path):
    check_alm(_held(path), tmp_path)


def test_run_04_on_000207_with_the_options_inspect_suggests(tmp_path):
    path = _held(HUMAN)
    options, notebook = run_suggested(path, tmp_path)
    assert options == ["-p", "stimulus_name", "encoding_table"]
    assert _rows(_text(notebook), "encoding_table") == 90


@pytest.mark.skipif(
    not os.environ.get("DATABOOK_ALL_SESSIONS"),
    reason="every held 000006 session (about 15 min): set DATABOOK_ALL_SESSIONS=1",
)
def test_run_04_on_every_held_000006_session(tmp_path):
    sessions = sorted(_held(ALM).glob("sub-*/*.nwb"))
    assert len(sessions) == 30
    failed = {}
    for path in sessions:
        try:
            check_alm(path, tmp_path / path.stem)
        except AssertionError as err:
            failed[path.name] = str(err)[:500]
    assert not failed, failed
