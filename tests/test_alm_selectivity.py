"""Chapter 4's real-data figure on the DANDI:000006 sessions held beside the project.

The figure script runs as the article runs it (a subprocess, a data cache seeded from
verified local copies), and its numbers are checked against a recomputation that reads
the files with h5py alone and tests with scipy: a bug in the readers (unsorted spikes,
trial-relative times), in the epoch counting or in the test would show as a mismatch.
Skips when ``../shared/data/dandi/000006`` is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from scipy.stats import false_discovery_control, mannwhitneyu

from databook import assets
from databook.figures import FigureScript, run_script
from tests.conftest import ROOT

SESSIONS = ROOT.parent / "shared" / "data" / "dandi" / "000006"
SCRIPT = ROOT / "figures_src" / "fig_alm_selectivity.py"

pytestmark = pytest.mark.skipif(
    not SESSIONS.is_dir(), reason=f"{SESSIONS} (copies of DANDI:000006 assets) is absent"
)


@pytest.fixture(scope="module")
def held(tmp_path_factory):
    """{key: local copy} of the lock's 000006 sessions held beside the project, seeded
    into a fresh data cache (sha256 checked)."""
    cache = tmp_path_factory.mktemp("cache")
    lock = assets.load_lock(ROOT / "assets.lock")
    wanted = [
        a for k, a in lock.items() if k.startswith("alm-") and assets.local_copies(a, [SESSIONS])
    ]
    fetched = assets.fetch_all(wanted, cache=cache, progressbar=False, sources=[SESSIONS])
    assert not fetched.errors, fetched.errors
    return cache, {k: Path(p) for k, p in fetched.paths.items()}


@pytest.fixture(scope="module")
def built(held, tmp_path_factory):
    cache, _ = held
    out = tmp_path_factory.mktemp("figures")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABOOK_CACHE", str(cache))
        mp.setenv("DATABOOK_DATA", "dandi")
        result = run_script(FigureScript.read(SCRIPT), out)
    assert result.status == "built", result.error
    return json.loads((out / "fig_alm_selectivity.json").read_text()), out


def _text(values) -> np.ndarray:
    return np.array([v.decode() if isinstance(v, bytes) else str(v) for v in values])


def _selective(path: Path) -> dict[str, list[int]]:
    """{epoch: [selective units, units]} of one file, read with h5py, tested with scipy."""
    with h5py.File(path, "r") as f:
        flat = f["units/spike_times"][:]
        ends = f["units/spike_times_index"][:]
        t = f["intervals/trials"]
        start = t["start_time"][:]
        pole_in, pole_out, cue = (
            start + t[c][:] for c in ("pole_in_time", "pole_out_time", "cue_start_time")
        )
        kind, response = _text(t["type"][:]), _text(t["response"][:])
    use = (response == "correct") & np.isin(kind, ["lick right", "lick left"])
    right = kind[use] == "lick right"
    bounds = {
        "sample": (pole_in[use], pole_out[use]),
        "delay": (pole_out[use], cue[use]),
        "response": (cue[use], cue[use] + 1.0),
    }
    units = [np.sort(u) for u in np.split(flat, ends[:-1])]  # the files store them unsorted
    out = {}
    for epoch, (lo, hi) in bounds.items():
        p = []
        for unit in units:
            rate = (np.searchsorted(unit, hi) - np.searchsorted(unit, lo)) / (hi - lo)
            p.append(1.0 if np.ptp(rate) == 0 else mannwhitneyu(rate[right], rate[~right]).pvalue)
        out[epoch] = [int((false_discovery_control(p, method="bh") < 0.05).sum()), len(p)]
    return out


def test_the_figure_reads_every_held_session(built, held):
    summary, out = built
    _, copies = held
    assert summary["sessions"] == sorted(copies)
    assert summary["version"] == "0.220126.1855"
    assert {p.name for p in out.iterdir()} >= {"fig_alm_selectivity.png", "fig_alm_selectivity.pdf"}


def test_epoch_selectivity_matches_a_direct_recomputation_session_by_session(built, held):
    summary, _ = built
    _, copies = held
    direct = {k: _selective(copies[k]) for k in summary["sessions"]}
    assert summary["per_session"] == direct
    assert summary["n_units"] == sum(d["delay"][1] for d in direct.values())
    assert (
        summary["delay_prefers_right"] + summary["delay_prefers_left"]
        == summary["epochs"]["delay"]["selective_units"]
    )
    for epoch in ("sample", "delay", "response"):
        low, mean, high = (summary["epochs"][epoch][k] for k in ("low", "mean", "high"))
        assert 0 <= low <= mean <= high <= 1


def test_across_over_the_served_sessions_gives_the_same_tables_with_their_pins(held, tmp_path):
    """Chapter 10's real-data figure: the held sessions served by the local archive under
    their real asset ids, listed by the DANDI client and streamed by Dask workers."""
    cache, copies = held
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABOOK_CACHE", str(cache))
        mp.setenv("DATABOOK_DATA", "dandi")
        result = run_script(FigureScript.read(ROOT / "figures_src" / "fig_alm_across.py"), tmp_path)
    assert result.status == "built", result.error
    summary = json.loads((tmp_path / "fig_alm_across.json").read_text())
    lock = assets.load_lock(ROOT / "assets.lock")
    by_path = {lock[k].path: k for k in copies}
    assert summary["failures"] == [] and summary["n_sessions"] == len(copies)
    assert {p["path"]: p["sha256"] for p in summary["provenance"]} == {
        lock[k].path: lock[k].sha256 for k in copies
    }
    direct = {path: _selective(copies[key]) for path, key in by_path.items()}
    assert summary["per_session"] == direct
    delay = summary["estimates"]["delay"]
    k = sum(d["delay"][0] for d in direct.values())
    n = sum(d["delay"][1] for d in direct.values())
    assert delay["pooled"]["mean"] == pytest.approx(k / n)
    session_mean = np.mean([d["delay"][0] / d["delay"][1] for d in direct.values()])
    assert delay["sessions"]["mean"] == pytest.approx(session_mean)
    assert summary["bytes_streamed"] <= summary["bytes_of_files"]
