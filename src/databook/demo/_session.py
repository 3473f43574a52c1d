"""Metadata shared by every demo NWB file (one place, so all files say the same)."""

from __future__ import annotations

from datetime import datetime

import numpy as np


def new_nwbfile(
    *,
    description: str,
    identifier: str,
    start: datetime,
    session_id: str,
    shaped_like: str,
    keywords: list[str],
    subject: dict[str, str],
):
    """An NWBFile with fixed dates and ids, marked everywhere as simulated data."""
    from pynwb import NWBFile
    from pynwb.file import Subject

    return NWBFile(
        session_description=description,
        identifier=identifier,
        session_start_time=start,
        file_create_date=[start],
        institution="databook (simulated data)",
        lab="databook",
        experimenter=["databook, generator"],
        experiment_description=f"Simulated; shaped like {shaped_like}.",
        session_id=session_id,
        keywords=["databook", "demo", "simulated", *keywords],
        subject=Subject(species="Mus musculus", description="simulated subject", **subject),
    )


def add_behavior_series(nwb, module: str, module_description: str, series: dict) -> None:
    """Add 60 Hz behaviour traces (``series``: name -> (values, unit, description)) to a
    new processing module named as in Allen/OpenScope files."""
    from pynwb import TimeSeries

    container = nwb.create_processing_module(name=module, description=module_description)
    for name, (values, unit, description) in series.items():
        container.add(
            TimeSeries(
                name=name,
                data=np.asarray(values, dtype=np.float32),
                unit=unit,
                starting_time=0.0,
                rate=60.0,
                description=description,
            )
        )


def stimulus_table(
    name: str,
    description: str,
    start_s,
    stop_s,
    columns: dict[str, tuple[str, object]],
):
    """A TimeIntervals table (Allen's ``*_presentations`` layout) from column arrays.

    ``columns`` maps a column name to (description, values); a scalar value is repeated
    for every row. Times in seconds.
    """
    from pynwb.epoch import TimeIntervals

    start_s = np.asarray(start_s, dtype=np.float64)
    stop_s = np.asarray(stop_s, dtype=np.float64)
    table = TimeIntervals(name=name, description=description)
    values = {}
    for column, (column_description, data) in columns.items():
        table.add_column(name=column, description=column_description)
        values[column] = np.broadcast_to(np.asarray(data), start_s.shape)
    for row in range(start_s.size):
        table.add_interval(
            start_time=start_s[row].item(),
            stop_time=stop_s[row].item(),
            **{column: data[row].item() for column, data in values.items()},
        )
    return table
