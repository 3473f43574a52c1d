"""A "lab-style" two-photon NWB file, written with pynwb from a demo session's arrays but
laid out as other labs' pipelines (Suite2p's NWB export, in-house scripts) lay it out.

What differs from the demo: the processing module is ``imaging`` (not ``ophys``); the
segmentation is ``Segmentation/PlaneSegmentation_plane0`` with ``pixel_mask`` (not
``image_mask``) and ROI ids from 1000; only some of the demo's ROIs, in another order;
dF/F under ``DfOverF`` named ``dff_plane0`` on a regular clock (``starting_time`` and
``rate``, not ``timestamps``), beside raw ``F`` traces; the summary images are ``meanImg``
and ``max_proj`` in an ``Images`` group ``Backgrounds_0``; the stimulus table is
``grating_trials`` whose rows are trials starting with 1 s of grey screen
(``start_time`` = stimulus onset - 1 s), the stimulus onsets in ``stimulus_onset``, and
``direction`` (0-315 degrees) beside ``orientation`` (direction modulo 180); no running
speed, no planted answers.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

MODULE = "imaging"
SEGMENTATION = "PlaneSegmentation_plane0"
DFF = "dff_plane0"
TABLE = "grating_trials"
IMAGE = "meanImg"
GREY = 1.0  # s of grey screen from the start of a trial to the stimulus onset
ID_OFFSET = 1000


def write(
    path: Path, demo_file: Path, rows: Sequence[int] | None = None, *, stimulus: bool = True
) -> Path:
    """Write the lab-style file at ``path`` from the demo session ``demo_file``.

    ``rows``: which of the demo's ROIs to keep, in this order (default all). ``stimulus``:
    write dF/F and the stimulus table (chapter 3) or only ROIs and images (chapter 8).
    """
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.base import Images
    from pynwb.epoch import TimeIntervals
    from pynwb.image import GrayscaleImage
    from pynwb.ophys import (
        DfOverF,
        Fluorescence,
        ImageSegmentation,
        OpticalChannel,
        RoiResponseSeries,
    )

    from databook import nwb as reader

    rois = reader.rois(demo_file)
    rows = np.arange(len(rois.ids)) if rows is None else np.asarray(rows)
    masks = rois.dense()[rows]
    images = reader.images(demo_file)

    start = datetime(2025, 3, 4, tzinfo=UTC)
    f = NWBFile(session_description="", identifier=path.stem, session_start_time=start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scope = f.create_device(name="Microscope")
        channel = OpticalChannel(name="OpticalChannel", description="", emission_lambda=510.0)
        plane = f.create_imaging_plane(
            name="ImagingPlane",
            optical_channel=channel,
            description="plane0",
            device=scope,
            excitation_lambda=920.0,
            imaging_rate=30.0,
            indicator="GCaMP6s",
            location="V1",
        )
        module = f.create_processing_module(MODULE, "suite2p-style output")
        segmentation = ImageSegmentation(name="Segmentation")
        module.add(segmentation)
        planes = segmentation.create_plane_segmentation("suite2p ROIs", plane, name=SEGMENTATION)
        for k, mask in enumerate(masks):
            x, y = np.nonzero(mask)
            pixels = np.stack([x, y, mask[x, y]], axis=1).tolist()
            planes.add_roi(id=ID_OFFSET + k, pixel_mask=pixels)
        module.add(
            Images(
                name="Backgrounds_0",
                images=[
                    GrayscaleImage(name=IMAGE, data=images["average_image"]),
                    GrayscaleImage(name="max_proj", data=images["max_projection"]),
                ],
            )
        )
        if stimulus:
            traces = reader.dff(demo_file)
            table = reader.stimulus_table(demo_file, "grating_presentations")
            rate = float(1 / np.median(np.diff(traces.t)))
            region = planes.create_roi_table_region("all ROIs", region=list(range(len(rows))))
            clock = dict(rate=rate, starting_time=float(traces.t[0]))
            dff = traces.values[:, rows]
            module.add(
                DfOverF(
                    name=DFF,
                    roi_response_series=RoiResponseSeries(
                        name="dff", data=dff, rois=region, unit="n/a", **clock
                    ),
                )
            )
            raw = RoiResponseSeries(
                name="F", data=400.0 * (1.0 + dff), rois=region, unit="a.u.", **clock
            )
            module.add(Fluorescence(name="F", roi_response_series=raw))
            trials = TimeIntervals(name=TABLE, description="drifting gratings")
            for column, text in (
                ("direction", "drift direction (degrees)"),
                ("orientation", "direction modulo 180 (degrees)"),
                ("stimulus_onset", "grating onset (s)"),
                ("contrast", "Michelson contrast"),
            ):
                trials.add_column(column, text)
            for row in table.itertuples():
                trials.add_interval(
                    start_time=row.start_time - GREY,
                    stop_time=row.stop_time,
                    direction=row.orientation,
                    orientation=row.orientation % 180,
                    stimulus_onset=row.start_time,
                    contrast=0.8,
                )
            f.add_time_intervals(trials)
        with NWBHDF5IO(str(path), "w") as io:
            io.write(f)
    return path
