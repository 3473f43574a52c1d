"""A "lab-style" NWB file for `databook run` tests of chapters 05 and 07.

No real file of another lab has a receptive-field mapping stimulus or an LFP, so the tests
write one with pynwb from the demo session's recorded values, named the way another lab
might name them: the Gabor grid is an intervals table ``rf_mapping`` with columns
``x_deg``/``y_deg`` (no ``orientation``), the flashes are ``visual_flashes``, the LFP is an
``ElectricalSeries`` ``lowpass_filtered`` in ``/acquisition`` (no ``LFP`` container, no
"lfp" in its name), the channel depths are ``rel_y`` (micrometres, stated in its
description) and the usable channels are flagged in ``is_good``. The units have spike times
and an ``electrodes`` region, but no quality metrics and no ``firing_rate``. No planted
answers come with it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import h5py
import numpy as np


def write_lab_file(demo_path: Path, out: Path, depth_shift_um: float = 0.0) -> Path:
    """Write the lab-style file from the demo ecephys file ``demo_path``; return ``out``.

    ``depth_shift_um`` is added to every channel depth (a probe placed elsewhere: the
    demo's sink and source move by as much)."""
    from hdmf.common import DynamicTableRegion, VectorData, VectorIndex
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.ecephys import ElectricalSeries
    from pynwb.epoch import TimeIntervals
    from pynwb.misc import Units

    with h5py.File(demo_path, "r") as f:
        e = f["general/extracellular_ephys/electrodes"]
        location = [x.decode() if isinstance(x, bytes) else str(x) for x in e["location"][()]]
        vertical = e["probe_vertical_position"][()]
        valid = e["valid_data"][()].astype(bool)
        ids = e["id"][()]
        spikes = np.split(f["units/spike_times"][()], f["units/spike_times_index"][()][:-1])
        peak = f["units/peak_channel_id"][()]
        g = f["intervals/gabors_presentations"]
        gabors = {k: g[k][()] for k in ("start_time", "stop_time", "x_position", "y_position")}
        flashes = {
            k: f["intervals/flashes_presentations"][k][()] for k in ("start_time", "stop_time")
        }
        series = f["processing/ecephys/LFP/probe_A_lfp"]
        lfp = series["data"][()]
        conversion = float(series["data"].attrs["conversion"])
        lfp_rows = series["electrodes"][()]
        rate = float(series["starting_time"].attrs["rate"])
        t0 = float(series["starting_time"][()])

    nwbfile = NWBFile(
        session_description="lab-style copy of the demo session (test file)",
        identifier="labstyle-c567",
        session_start_time=datetime(2024, 1, 1, tzinfo=UTC),
    )
    device = nwbfile.create_device(name="silicon_probe")
    group = nwbfile.create_electrode_group(
        name="shank0", description="one shank", location="cortex", device=device
    )
    nwbfile.add_electrode_column(name="rel_y", description="distance from the probe tip (um)")
    nwbfile.add_electrode_column(name="is_good", description="channel usable")
    for i in range(ids.size):
        nwbfile.add_electrode(
            group=group,
            location=location[i],
            rel_y=float(vertical[i] + depth_shift_um),
            is_good=bool(valid[i]),
        )
    # The units table from whole columns (adding 120 units one by one converts every spike
    # time on its own: seconds).
    times = VectorData(name="spike_times", description="s", data=np.concatenate(spikes))
    ends = np.cumsum([len(s) for s in spikes])
    region = DynamicTableRegion(
        name="electrodes",
        description="peak channel",
        data=np.searchsorted(ids, peak),
        table=nwbfile.electrodes,
    )
    nwbfile.units = Units(
        name="units",
        description="units of the demo session",
        id=np.arange(len(spikes)),
        columns=[
            times,
            VectorIndex(name="spike_times_index", data=ends, target=times),
            region,
            VectorIndex(name="electrodes_index", data=np.arange(1, len(spikes) + 1), target=region),
        ],
    )

    mapping = TimeIntervals(name="rf_mapping", description="Gabor patches on a grid")
    mapping.add_column(name="x_deg", description="patch azimuth, degrees")
    mapping.add_column(name="y_deg", description="patch elevation, degrees")
    for a, b, x, y in zip(*gabors.values(), strict=True):
        mapping.add_interval(
            start_time=float(a), stop_time=float(b), x_deg=float(x), y_deg=float(y)
        )
    nwbfile.add_time_intervals(mapping)
    flash_table = TimeIntervals(name="visual_flashes", description="full-field flashes")
    for a, b in zip(*flashes.values(), strict=True):
        flash_table.add_interval(start_time=float(a), stop_time=float(b))
    nwbfile.add_time_intervals(flash_table)

    region = nwbfile.create_electrode_table_region(
        region=[int(r) for r in lfp_rows], description="LFP channels"
    )
    nwbfile.add_acquisition(
        ElectricalSeries(
            name="lowpass_filtered",
            data=lfp,
            electrodes=region,
            conversion=conversion,
            rate=rate,
            starting_time=t0,
        )
    )
    with NWBHDF5IO(str(out), "w") as io:
        io.write(nwbfile)
    return out
