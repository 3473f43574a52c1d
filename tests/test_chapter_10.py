"""Chapter 10's claims against the planted truth of its four demo sessions.

The chapter states the pooled fraction of responsive units per area (with a Wilson
interval) and the number of units with a located receptive field. Both are recomputed
here through the same call (served on 127.0.0.1, a 2-worker local cluster) and compared
with what the sessions' ground_truth.json files planted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from databook import localarchive, sessions, stats

SEEDS = [0, 1, 2, 3]
CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "10-across-sessions.md"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    files = sessions.demo_files(SEEDS)
    cache = tmp_path_factory.mktemp("across")
    with localarchive.serve(files) as server:
        found = sessions.dandiset_assets(
            server.archive.dandiset, server.archive.version, api_url=server.api_url
        )
        flashes = sessions.across(sessions.responsive_units, found, cache=cache, progress=False)
        fields = sessions.across(sessions.rf_centres, found, cache=cache, progress=False)
    truths = {
        path: json.loads((file.parent / "ground_truth.json").read_text())["ecephys"]
        for path, file in files.items()
    }
    return flashes, fields, truths


def test_chapter_parameters_are_the_ones_tested():
    text = CHAPTER.read_text()
    assert re.search(r"^seeds = \[0, 1, 2, 3\]", text, re.M)
    assert '"quality_filter": True' in text and '"q": 0.05' in text


def test_pooled_fraction_per_area_brackets_the_planted_fraction(runs):
    flashes, _, truths = runs
    table = flashes.table
    planted = pd.Series(False, index=table.index)
    for path, truth in truths.items():
        units = {r["unit"] for r in truth["flash_responders"]}
        planted |= (table["path"] == path) & table["unit"].isin(units)
    kept = table["passes_quality"]
    expected = planted[kept].groupby(table.loc[kept, "area"]).mean()
    pooled = sessions.by_area(table)
    assert set(pooled.index) == set(expected.index)
    assert (pooled["n_sessions"] == len(SEEDS)).all()
    called = table[kept].groupby(["area", "path"])["responsive"].agg(["sum", "size"])
    for area, fraction in expected.items():
        row = pooled.loc[area]
        # Sessions are the observations: the beta-binomial of the per-session counts.
        k, n = called.loc[area, "sum"].to_numpy(), called.loc[area, "size"].to_numpy()
        fit = stats.beta_binomial(k, n)
        assert (row["fraction"], row["ci_low"], row["ci_high"]) == pytest.approx(
            (fit.mean, fit.low, fit.high)
        )
        assert row["pooled_fraction"] == pytest.approx(k.sum() / n.sum())
        if fraction > 0:
            assert row["ci_low"] <= fraction <= row["ci_high"], (area, fraction, row.to_dict())
        # BH at q = 0.05 per session lets a few false units in: an area without planted
        # responders may show one (DG here: 1 of 54), never more than a few percent.
        assert abs(row["fraction"] - fraction) < 0.03
    assert pooled["fraction"].idxmax() == expected.idxmax()


def test_every_planted_field_is_located_near_its_centre(runs):
    _, fields, truths = runs
    flashes = runs[0].table  # every unit not labelled noise, per session
    kept = {p: set(flashes.loc[flashes["path"] == p, "unit"]) for p in truths}
    rf_kept = {p: [u for u in t["rf_units"] if u["unit"] in kept[p]] for p, t in truths.items()}
    n_planted = sum(len(units) for units in rf_kept.values())
    assert len(fields.table) == n_planted  # no spurious located fields on the demo
    for path in truths:
        mine = fields.table[fields.table["path"] == path].set_index("unit")
        for unit in rf_kept[path]:
            x, y = unit["center_deg"]
            assert abs(mine.loc[unit["unit"], "x_deg"] - x) < 3.0
            assert abs(mine.loc[unit["unit"], "y_deg"] - y) < 3.0


def test_demo_recovery_counts_what_the_chapter_states(runs):
    flashes, fields, truths = runs
    table = sessions.demo_recovery(flashes.table, fields.table, truths)
    assert sorted(table.index) == sorted(truths)
    assert (table["found"] == table["planted responders"]).all()
    # Planted units the curation label calls noise are dropped first (about 5 %).
    assert (table["planted responders"] + table["responders labelled noise"] == 30).all()
    assert (table["planted responders"] >= 25).all()
    assert table["false alarms"].max() <= 2
    assert (table["fields found"] == table["planted fields"]).all()
    assert table["median centre error (deg)"].max() < 2.0
    # A unit the tables call responsive but the truth does not plant is a false alarm.
    path = next(iter(truths))
    fewer = {
        **truths,
        path: {**truths[path], "flash_responders": truths[path]["flash_responders"][1:]},
    }
    again = sessions.demo_recovery(flashes.table, fields.table, fewer)
    assert again.loc[path, "false alarms"] == table.loc[path, "false alarms"] + 1
