"""What the demo dandiset plants, and what it deliberately leaves out.

The Methods chapter's "Simulation" section is this module's account: :func:`planted`
reads the planted values from ``ground_truth.json`` (and, for the curation labels and
quality metrics, from the units table of the ecephys file), so the numbers it states are
the generator's; :data:`ABSENT` lists, per file, the features of real recordings the
generator does not produce, so that a reader knows which validations are against data
shaped for the estimator. Whoever changes the generator (:mod:`databook.demo.ecephys`,
:mod:`databook.demo.ophys`) changes :data:`ABSENT` with it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ABSENT", "planted"]

#: Per demo file: what real recordings have and the generator does not make (checked
#: against generator version 1; the code each line describes is named).
ABSENT: dict[str, tuple[str, ...]] = {
    "ecephys": (
        "response shapes: every flash response is a 100 ms step at a fixed rate "
        "(`simulate_units`), with no onset transient, no sustained phase and no variation "
        "of duration by area or unit",
        "responses that outlast the counting windows: flash responses end by 160 ms, inside "
        "the 250 ms response window; receptive-field responses end 10 ms before the next "
        "Gabor",
        "suppressed units: every planted response is an increase in rate",
        "area differences: every planted responder sits in VISp (`peak_channel_id`); the "
        "units of LP, DG and CA1 are untuned Poisson units",
        "units failing the quality thresholds: ISI violations, amplitude cutoff and presence "
        "ratio are drawn so that nearly every unit passes; the `quality` label is drawn at "
        "random (5 % noise), not from the unit's waveform or response",
        "variability of the laminar CSD: the three planted current patterns have the same "
        "depths, amplitudes and time course after every flash, in one homogeneous "
        "conductivity (no change at the brain surface)",
        "optogenetic trains: single 10 ms pulses only, with one jitter for all tagged units",
    ),
    "ophys": (
        "raw fluorescence and neuropil: the files hold dF/F directly",
        "calcium kinetics and tuning: dF/F steps by a fixed amplitude from 0.2 to 2.0 s "
        "after every grating, whatever its direction (no rise and decay, no preferred "
        "direction)",
        "a running effect: running speed is written but does not modulate responses",
        "crowded fields: cell centres are at least 11 px apart (`make_tissue`), so "
        "footprints barely overlap",
        "non-rigid motion between days: day 2 is a rotation and a shift of day 1, plus a "
        "jitter of SD 0.5 px per cell",
    ),
}


def _range(values: Any, scale: float = 1.0, digits: int = 3) -> str:
    """'a to b' (or 'a' when all equal) of ``values`` times ``scale``, to ``digits``
    significant digits."""
    values = np.asarray(values, dtype=np.float64) * scale
    low, high = (float(f"{v:.{digits}g}") for v in (values.min(), values.max()))
    return f"{low:g}" if low == high else f"{low:g} to {high:g}"


def planted(truth: Mapping[str, Any], units: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per planted feature of the demo: file, feature, number and values.

    Parameters
    ----------
    truth
        ``ground_truth.json`` of the demo dandiset (``ecephys`` and ``ophys`` parts).
    units
        The ecephys file's units table (:func:`databook.nwb.units`), for the curation
        labels and quality metrics as written; None leaves those rows out.

    Returns
    -------
    pandas.DataFrame
        Columns ``file`` ("ecephys" or "ophys"), ``planted``, ``n`` (units, cells or
        events; 0 where a count does not apply) and ``values`` (text with units).
    """
    e, o = truth["ecephys"], truth["ophys"]
    kinds = Counter(e["unit_kinds"])
    flash, rf, tagged, late = (
        e["flash_responders"],
        e["rf_units"],
        e["tagged_units"],
        e["late_excited"],
    )

    def col(rows: list[dict], key: str) -> list:
        return [r[key] for r in rows]

    rows = [
        (
            "ecephys",
            "flash responders",
            len(flash),
            f"latency {_range(col(flash, 'latency_s'), 1e3)} ms, duration "
            f"{_range(col(flash, 'duration_s'), 1e3)} ms, gain "
            f"{_range(col(flash, 'gain_hz'))} spikes/s over a baseline of "
            f"{_range(col(flash, 'baseline_hz'))} spikes/s",
        ),
        (
            "ecephys",
            "receptive-field units",
            len(rf),
            f"Gaussian, centres {_range(np.ravel(col(rf, 'center_deg')))} deg, sigma "
            f"{_range(col(rf, 'sigma_deg'))} deg, peak {_range(col(rf, 'peak_hz'))} spikes/s, "
            f"latency {_range(col(rf, 'latency_s'), 1e3)} ms, duration "
            f"{_range(col(rf, 'duration_s'), 1e3)} ms; Gabor grid "
            f"{_range(e['gabor_grid_deg'])} deg",
        ),
        (
            "ecephys",
            "light-locked (tagged) units",
            len(tagged),
            f"first-spike latency {_range(col(tagged, 'latency_s'), 1e3)} ms, jitter "
            f"{_range(col(tagged, 'jitter_s'), 1e3)} ms, reliability "
            f"{_range(col(tagged, 'reliability'))}; {e['opto']['n_pulses']} pulses of "
            f"{e['opto']['pulse_duration_s'] * 1e3:g} ms",
        ),
        (
            "ecephys",
            "late light responders (not tagged)",
            len(late),
            f"excited {_range(np.ravel(col(late, 'window_s')), 1e3)} ms after each pulse, "
            f"gain {_range(col(late, 'gain_hz'))} spikes/s",
        ),
        ("ecephys", "untuned units", kinds["null"], "Poisson at their baseline rate"),
        *(
            (
                "ecephys",
                f"flash CSD: {part['name']} sink",
                0,
                f"sink at {_range(part['sinks_um'])} µm, sources at "
                f"{_range(part['sources_um'])} µm, width {part['width_um']:g} µm, "
                f"{-min(s['amplitude_a_per_m3'] for s in part['sheets']):g} A/m³, onset "
                f"{part['latency_s'] * 1e3:g} ms, peak {part['peak_after_onset_s'] * 1e3:g} ms",
            )
            for part in e["csd"]["components"]
        ),
        (
            "ecephys",
            "LFP",
            len(e["csd"]["lfp_channels"]),
            f"{e['csd']['lfp_rate_hz']:g} Hz, potential of a column {e['csd']['radius_um']:g} "
            f"µm in radius, noise {e['csd']['lfp_noise_v'] * 1e6:g} µV; unflagged bad "
            f"channels: {len(e['csd']['unflagged_bad_channels']['dead'])} dead, "
            f"{len(e['csd']['unflagged_bad_channels']['noisy'])} noisy",
        ),
    ]
    if units is not None:
        labels = units["quality"].value_counts() if "quality" in units else pd.Series()
        rows.append(
            (
                "ecephys",
                "curation label 'noise'",
                int(labels.get("noise", 0)),
                f"of {len(units)} units, at random",
            )
        )
        metrics = [
            f"{name.replace('_', ' ')} {_range(units[name])}"
            for name in ("isi_violations", "amplitude_cutoff", "presence_ratio")
            if name in units
        ]
        rows.append(("ecephys", "quality metrics", len(units), ", ".join(metrics)))
    responders = o["responders"]
    window = responders["window_after_onset_s"]
    move = o["day1_to_day2"]
    rows += [
        (
            "ophys",
            "grating responders",
            len(responders["cell_ids"]),
            f"dF/F {_range(list(responders['amplitude_dff'].values()))} from "
            f"{window[0]:g} to {window[1]:g} s after every grating; "
            f"{o['frame_rate_hz']:g} Hz frames",
        ),
        (
            "ophys",
            "cells on day 1 and day 2",
            len(o["matches_day1_day2"]),
            f"matched; {len(o['day1_cells'])} ROIs on day 1, {len(o['day2_cells'])} on day 2, "
            f"{len(o['lost_cells'])} lost, {len(o['new_cells'])} new",
        ),
        (
            "ophys",
            "day 1 to day 2 motion",
            0,
            f"rotation {move['angle_deg']:g} deg about the centre, shift "
            f"{move['shift_yx_px'][0]:g}, {move['shift_yx_px'][1]:g} px (y, x) of a "
            f"{o['shape_px'][0]} x {o['shape_px'][1]} px field",
        ),
    ]
    return pd.DataFrame(rows, columns=["file", "planted", "n", "values"])
