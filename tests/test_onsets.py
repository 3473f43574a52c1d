"""Derived onsets (``tables.onsets``) and trial-relative columns, on published files.

DANDI:000006 stores ``cue_start_time``, ``pole_in_time`` and ``pole_out_time`` relative to
each trial's start; DANDI:000009 (``../shared/data/real``) stores the same columns on the
session clock, and 000207's task tables hold session times only. Skips when the copies in
``../shared`` are absent.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from databook import chapterinputs, nwb, tables
from databook.cli import main
from databook.tables import TableError
from tests.conftest import ROOT

SHARED = ROOT.parent / "shared" / "data"
ALM = SHARED / "dandi" / "000006"
SESSION = ALM / "sub-anm372795" / "sub-anm372795_ses-20170714.nwb"
HUMAN = SHARED / "dandi" / "000207" / "sub-4" / "sub-4_ses-4_ecephys+image.nwb"
SESSION_CLOCK = SHARED / "real" / "svoboda-alm_sub-anm00239123_ecephys+ogen.nwb"  # 000009
CHAPTER_04 = {"stimulus_name": "trials", "onset_column": "start_time"}

pytestmark = pytest.mark.filterwarnings("ignore::databook.nwb.SpikeTimesRepairedWarning")


def held(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} (a copy of a published DANDI asset) is absent")
    return path


def stored(path: Path, *columns: str) -> list[np.ndarray]:
    with h5py.File(path, "r") as h5:
        return [h5[f"intervals/trials/{c}"][()].astype(np.float64) for c in columns]


def test_an_onset_expression_adds_the_trial_start_to_a_trial_relative_cue():
    path = held(SESSION)
    trials = nwb.stimulus_table(path, "trials")
    start, cue, pole_in = stored(path, "start_time", "cue_start_time", "pole_in_time")
    got = tables.onsets(trials, "start_time + cue_start_time")
    np.testing.assert_array_equal(got.to_numpy(), start + cue)
    assert got.index.equals(trials.index) and got.name == "start_time + cue_start_time"
    # Minus, parentheses and constants (seconds): the pole's withdrawal minus its stay.
    got = tables.onsets(trials, "start_time + pole_out_time - (pole_out_time - pole_in_time) - 0.5")
    np.testing.assert_allclose(got.to_numpy(), start + pole_in - 0.5, rtol=0, atol=1e-9)
    # A plain column is the column itself.
    np.testing.assert_array_equal(tables.onsets(trials, "start_time").to_numpy(), start)


def test_minus_parentheses_and_constants_keep_their_signs():
    table = pd.DataFrame({"start_time": [10.0, 20.0], "a": [1.0, 2.0], "b": [0.25, 0.5]})
    got = tables.onsets(table, "start_time - (a - b) + -0.125")
    assert got.tolist() == [10.0 - 0.75 - 0.125, 20.0 - 1.5 - 0.125]


def test_nan_terms_give_nan_onsets_that_dropna_removes():
    table = pd.DataFrame({"start_time": [10.0, 20.0, 30.0], "cue": [1.0, np.nan, 2.0]})
    got = tables.onsets(table, "start_time + cue")
    assert got.dropna().tolist() == [11.0, 32.0]


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').getcwd()",
        "start_time * 2",
        "start_time.max()",
        "start_time + 'x'",
        "trials['start_time']",
        "start_time if True else 0",
        "",
        "1 + 2",
    ],
)
def test_only_columns_numbers_plus_and_minus_are_allowed(text):
    table = pd.DataFrame({"start_time": [1.0, 2.0]})
    with pytest.raises(TableError, match="onset"):
        tables.onsets(table, text)


def test_a_missing_column_is_named_with_the_table_and_its_columns():
    trials = nwb.stimulus_table(held(SESSION), "trials")
    with pytest.raises(TableError) as err:
        tables.onsets(trials, "start_time + go_cue_time")
    message = str(err.value)
    assert "/intervals/trials" in message and "'go_cue_time'" in message
    assert "cue_start_time" in message and "pole_in_time" in message
    with pytest.raises(TableError, match="'response', which holds text"):
        tables.onsets(trials, "start_time + response")


def test_trial_relative_columns_are_found_in_every_000006_session_only():
    sessions = sorted(held(ALM).glob("sub-*/*.nwb"))
    assert len(sessions) == 30
    wanted = ["cue_start_time", "pole_in_time", "pole_out_time"]
    for path in sessions:
        found = tables.trial_relative(nwb.stimulus_table(path, "trials"))
        assert list(found) == wanted, path.name
        assert "start_time spans" in found["cue_start_time"]
    # The same columns on the session clock (000009), and 000207's task tables: none.
    assert tables.trial_relative(nwb.stimulus_table(held(SESSION_CLOCK), "trials")) == {}
    for name in ("encoding_table", "recognition_table", "timediscrimination_table"):
        assert tables.trial_relative(nwb.stimulus_table(held(HUMAN), name)) == {}


def test_chapter_inputs_suggest_the_expression_and_check_it():
    path = held(SESSION)
    need = chapterinputs.NEEDS["04"][1]

    def finding(onset: str) -> chapterinputs.Finding:
        found = chapterinputs.check("04", path, {**CHAPTER_04, "onset_column": onset})
        return next(f for f in found if f.need == need)

    # Trial starts are accepted, with the go cue on the session clock suggested and why.
    default = finding("start_time")
    assert default.ok and default.suggest == "-p onset_column 'start_time + cue_start_time'"
    assert "cue_start_time: values" in default.detail
    # The expression is checked: a good one runs, a missing column is named before a run.
    good = finding("start_time + cue_start_time")
    assert good.ok and not good.suggest
    bad = finding("start_time + go_cue_time")
    assert not bad.ok and "go_cue_time" in bad.line() and "cue_start_time" in bad.line()
    # A trial-relative column alone would put every onset in the first seconds: refused.
    alone = finding("cue_start_time")
    assert not alone.ok and alone.fix == "-p onset_column 'start_time + cue_start_time'"
    assert "onset 'cue_start_time' (-p onset_column): cue_start_time: values" in alone.detail
    unsafe = finding("__import__('os').getcwd()")
    assert not unsafe.ok and "is not allowed" in unsafe.line()


def test_inspect_says_which_columns_are_trial_relative_and_why():
    path = held(SESSION)
    result = CliRunner().invoke(main, ["inspect", str(path)])
    assert result.exit_code == 0, result.output
    out = result.output
    start, cue = stored(path, "start_time", "cue_start_time")
    length = np.median(np.diff(start))  # stop_time is all NaN: the time to the next start
    assert (
        f"cue_start_time: times from each trial's start (values {cue.min():.3g} to "
        f"{cue.max():.3g} s, within about one trial's length (median {length:.3g} s), while "
        f"start_time spans {np.ptp(start):.4g} s); on the session clock: -p onset_column "
        "'start_time + cue_start_time'"
    ) in out
    assert (
        "04-neuropixels-responses: runs with -p stimulus_name trials "
        "-p onset_column 'start_time + cue_start_time'"
    ) in out


def test_session_times_in_long_trials_are_not_called_trial_relative():
    # Two 100 s blocks whose events are on the session clock: each value lies within twice
    # its block's length, but start_time spans less than ten times the largest value.
    blocks = pd.DataFrame(
        {"start_time": [0.0, 100.0], "stop_time": [100.0, 200.0], "event_time": [50.0, 150.0]}
    )
    assert tables.trial_relative(blocks) == {}
    relative = blocks.assign(
        start_time=[0.0, 1000.0], stop_time=[100.0, 1100.0], event_time=[50.0, 60.0]
    )
    assert list(tables.trial_relative(relative)) == ["event_time"]
