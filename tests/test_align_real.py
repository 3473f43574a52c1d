"""Chapter 2's real-data figure on the DANDI:000006 sessions held beside the project.

The figure script runs as the article runs it (a subprocess, a data cache seeded from
verified local copies), and its numbers are checked against a recomputation that reads
the files with h5py alone and counts with numpy (tests with scipy): a bug that forgot to
add ``start_time`` to the trial-relative columns, counted around the wrong instant, lost
or reordered spikes when sorting them, or misread the files' disorder would show as a
mismatch. Skips when ``../shared/data/dandi/000006`` is absent.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from databook import assets
from tests.conftest import ROOT
from tests.real_figures import build, section_values

SESSIONS = ROOT.parent / "shared" / "data" / "dandi" / "000006"
SESSION = "alm-anm372904-20170619"
CHAPTER = ROOT / "chapters" / "02-alignment.md"

pytestmark = pytest.mark.skipif(
    not SESSIONS.is_dir(), reason=f"{SESSIONS} (copies of DANDI:000006 assets) is absent"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The script's JSON, its output folder and {key: verified copy} of every held
    000006 session."""
    lock = assets.load_lock(ROOT / "assets.lock")
    keys = [
        k for k, a in lock.items() if k.startswith("alm-") and assets.local_copies(a, [SESSIONS])
    ]
    return build("fig_align_real", keys, [SESSIONS], tmp_path_factory)


def _text(values) -> np.ndarray:
    return np.array([v.decode() if isinstance(v, bytes) else str(v) for v in values])


def _read(path: Path) -> dict:
    """Spike times as stored (one array per unit), the trials columns and the licks."""
    with h5py.File(path, "r") as f:
        flat = f["units/spike_times"][:]
        ends = f["units/spike_times_index"][:]
        t = f["intervals/trials"]
        out = {c: t[c][:] for c in ("start_time", "stop_time", "cue_start_time")}
        out |= {c: t[c][:] for c in ("pole_in_time", "pole_out_time")}
        out["type"], out["response"] = _text(t["type"][:]), _text(t["response"][:])
        licks = f["acquisition/lick_times"]
        out["licks"] = {s: licks[f"lick_{s}_times/timestamps"][:] for s in ("right", "left")}
    out["raw"] = np.split(flat, ends[:-1])
    return out


def _count(units: list[np.ndarray], events: np.ndarray, window: tuple[float, float]) -> int:
    """Spikes of every unit in [event + window[0], event + window[1]), summed."""
    lo, hi = events + window[0], events + window[1]
    return int(sum((np.searchsorted(u, hi) - np.searchsorted(u, lo)).sum() for u in units))


def test_each_sessions_disorder_matches_the_files(built):
    summary, _, copies = built
    per_session = summary["held"]["per_session"]
    assert sorted(per_session) == sorted(copies)
    for key, path in copies.items():
        d = _read(path)
        steps = [np.diff(u) for u in d["raw"]]
        back = np.concatenate([-s[s < 0] for s in steps])
        got = per_session[key]
        assert got["n_units"] == len(d["raw"])
        assert got["unsorted_units"] == sum(bool((s < 0).any()) for s in steps)
        assert got["out_of_order_pairs"] == back.size
        assert got["largest_step_back_s"] == pytest.approx(back.max() if back.size else 0.0)
        assert got["duplicates"] == sum(u.size - np.unique(u).size for u in d["raw"])
        assert got["nan_stop_time"] == int(np.isnan(d["stop_time"]).sum())
        assert got["wrong_onsets_s"] == [d["cue_start_time"].min(), d["cue_start_time"].max()]
        assert got["first_trial_start_s"] == d["start_time"].min()
    held = summary["held"]
    assert held["n_sessions"] == len(copies)
    assert held["unsorted_units"] == sum(v["unsorted_units"] for v in per_session.values())


def test_the_go_cue_is_start_time_plus_cue_start_time(built):
    """Counts around the correct and the wrong go cue, epoch offsets, and the licks that
    follow the cue, recomputed; a bug that forgot start_time fails here."""
    summary, _, copies = built
    d = _read(copies[SESSION])
    units = [np.sort(u) for u in d["raw"]]
    window = tuple(summary["window_s"])
    cue = d["start_time"] + d["cue_start_time"]
    assert summary["counts_correct"] == _count(units, cue, window) > 0
    assert summary["counts_wrong"] == _count(units, d["cue_start_time"], window) == 0
    assert summary["cue_s"] == pytest.approx([cue.min(), cue.max()])
    # the three columns the chapter calls trial-relative are the ones the reader flags
    assert set(summary["trial_relative"]) == {"pole_in_time", "pole_out_time", "cue_start_time"}
    gaps = np.diff(d["start_time"])
    assert summary["cue_past_next_start"] == int((d["cue_start_time"][:-1] > gaps).sum())
    assert summary["counts_to_stop_time"] == 0 and summary["nan_stop_time"] == d["stop_time"].size
    assert summary["stop_refusal"].startswith(f"epoch 'trial': all {d['stop_time'].size} trials")

    use = (d["response"] == "correct") & np.isin(d["type"], ["lick right", "lick left"])
    right = d["type"][use] == "lick right"
    assert (summary["n_right"], summary["n_left"]) == (right.sum(), (~right).sum())
    before = (d["cue_start_time"] - d["pole_in_time"])[use]
    assert summary["sample_before_cue_s"] == pytest.approx([before.min(), before.max()])

    licks = np.concatenate([d["licks"]["right"], d["licks"]["left"]])
    side = np.r_[np.ones(d["licks"]["right"].size, bool), np.zeros(d["licks"]["left"].size, bool)]
    order = np.argsort(licks, kind="stable")
    licks, side = licks[order], side[order]
    k = np.searchsorted(licks, cue[use])
    latency = licks[k] - cue[use]  # every correct trial has a lick after its cue
    assert summary["lick_latency_s"] == pytest.approx(np.percentile(latency, [5, 50, 95]))
    assert summary["lick_same_side"] == int((side[k] == right).sum())
    assert 0 < summary["lick_latency_s"][1] < 0.5  # licks follow the cue, as they must


def test_the_example_unit_is_the_most_delay_selective_one(built):
    summary, _, copies = built
    d = _read(copies[SESSION])
    units = [np.sort(u) for u in d["raw"]]
    use = (d["response"] == "correct") & np.isin(d["type"], ["lick right", "lick left"])
    right = d["type"][use] == "lick right"
    lo = (d["start_time"] + d["pole_out_time"])[use]
    hi = (d["start_time"] + d["cue_start_time"])[use]
    rates = np.array([(np.searchsorted(u, hi) - np.searchsorted(u, lo)) / (hi - lo) for u in units])
    p = np.array([mannwhitneyu(r[right], r[~right]).pvalue for r in rates])
    with h5py.File(copies[SESSION], "r") as f:
        ids = f["units/id"][:]
    best = int(np.argmin(p))
    assert summary["example_unit"] == ids[best]
    assert summary["example_delay_p"] == pytest.approx(p[best], rel=1e-6)
    assert summary["example_delay_rates_hz"]["right"] == pytest.approx(rates[best][right].mean())
    assert summary["example_delay_rates_hz"]["left"] == pytest.approx(rates[best][~right].mean())


def test_unsorted_spikes_are_refused_directly_and_sorted_on_read_without_loss(built):
    summary, _, copies = built
    d = _read(copies[SESSION])
    first = next(k for k, u in enumerate(d["raw"]) if (np.diff(u) < 0).any())
    assert summary["refusal"].startswith(f"spike_times[{first}] is not sorted")
    assert summary["n_spikes_read"] == summary["n_spikes_file"] == sum(u.size for u in d["raw"])
    assert summary["same_spikes_after_sort"] is True
    unsorted = summary["unsorted_units"]
    assert summary["sorted_units_reported"] == unsorted
    assert len(summary["repair_warnings"]) == 1  # said once per read, not once per unit
    said = f"sorted the spike times of {unsorted} of {len(d['raw'])} units"
    assert said in summary["repair_warnings"][0]


def test_the_chapter_section_evaluates_against_the_json(built, tmp_path, monkeypatch):
    summary, out, _ = built
    values = section_values(CHAPTER, "fig_align_real", out, tmp_path, monkeypatch)
    assert values is not None and len(values) > 20
    assert values['real["session"]'] == summary["session"] == SESSION
    assert values['real["counts_wrong"]'] == summary["counts_wrong"] == 0


def test_the_demo_tables_chapter_2_uses_are_on_the_session_clock():
    """The section's contrast: the demo's stimulus tables need no start_time added."""
    from databook import nwb, tables

    for table in ("flashes_presentations", "gabors_presentations"):
        assert tables.trial_relative(nwb.stimulus_table("demo-ecephys", table)) == {}
