"""A small NWB file, written with pynwb, holding what the demo files do not: an LFP with
irregular timestamps, per-channel conversion and an offset; an ``OptogeneticSeries`` of
light power; ROIs as ``pixel_mask`` and as ``image_mask`` on a non-square field of view; and
``Fluorescence`` traces of a subset of ROIs. The values are written here, so tests know them.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

FOV = (6, 8)  # the image axes as NWB names them: [x, y]
ROI_IDS = [10, 11, 12]
PIXELS = [  # per ROI: (x, y, weight)
    [(0, 1, 1.0), (0, 2, 0.5), (1, 1, 0.25)],
    [(5, 7, 2.0)],
    [(2, 3, 1.0), (3, 3, 1.0), (4, 6, 0.75), (5, 0, 0.5)],
]
LFP_TIMES = np.cumsum(np.r_[10.0, np.full(49, 0.004)] + np.linspace(0, 0.001, 50))
LFP_RAW = (np.arange(200, dtype=np.int16).reshape(50, 4) - 100) * 7
LFP_CONVERSION, LFP_OFFSET = 2e-6, 1e-3
CHANNEL_CONVERSION = np.array([1.0, 2.0, 0.5, 1.0])
LFP_ROWS = [3, 1, 0, 2]  # electrode rows of the LFP channels
REL_Y = [0.0, 20.0, 40.0, 60.0]  # micrometres
ELECTRODE_IDS = [100, 101, 102, 103]
OPTO_RATE = 1000.0
OPTO_POWER = np.zeros(100)
OPTO_POWER[10:15], OPTO_POWER[40:42], OPTO_POWER[97:100] = 0.01, [0.02, 0.03], 0.005
OPTO_PULSES = [(0.010, 0.015, 0.01), (0.040, 0.042, 0.03), (0.097, 0.100, 0.005)]  # s, s, W
FLUO_ROWS = [2, 0]
EPOCHS = [(0.0, 0.05), (0.05, 0.1)]
EPOCH_TAGS = [["baseline"], ["light", "test"]]
UNIT_SPIKES = [[0.1, 0.2, 0.3], [0.15]]
UNIT_ELECTRODE_ROWS = [[0, 1], [2]]
FLUO_CONVERSION = 0.5


def image_masks() -> np.ndarray:
    masks = np.zeros((len(PIXELS), *FOV))
    for i, pixels in enumerate(PIXELS):
        for x, y, w in pixels:
            masks[i, x, y] = w
    return masks


def write(path: Path) -> Path:
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.base import Images
    from pynwb.ecephys import LFP, ElectricalSeries
    from pynwb.image import GrayscaleImage
    from pynwb.ogen import OptogeneticSeries, OptogeneticStimulusSite
    from pynwb.ophys import Fluorescence, ImageSegmentation, OpticalChannel, RoiResponseSeries

    start = datetime(2024, 1, 1, tzinfo=UTC)
    nwb = NWBFile(session_description="minifile", identifier="minifile", session_start_time=start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        device = nwb.create_device(name="probe")
        group = nwb.create_electrode_group("shank", "a shank", "CA1", device)
        for electrode_id, rel_y in zip(ELECTRODE_IDS, REL_Y, strict=True):
            nwb.add_electrode(id=electrode_id, group=group, location="CA1", rel_x=0.0, rel_y=rel_y)
        region = nwb.create_electrode_table_region(LFP_ROWS, "lfp channels")
        series = ElectricalSeries(
            name="lfp_series",
            data=LFP_RAW,
            electrodes=region,
            timestamps=LFP_TIMES,
            conversion=LFP_CONVERSION,
            offset=LFP_OFFSET,
            channel_conversion=CHANNEL_CONVERSION,
        )
        nwb.create_processing_module("ecephys", "lfp").add(LFP(electrical_series=series))

        laser = nwb.create_device(name="laser")
        site = OptogeneticStimulusSite(
            name="site", device=laser, description="fiber", excitation_lambda=470.0, location="CA1"
        )
        nwb.add_ogen_site(site)
        nwb.add_acquisition(
            OptogeneticSeries(
                name="light", data=OPTO_POWER, site=site, rate=OPTO_RATE, starting_time=0.0
            )
        )

        light = nwb.acquisition["light"]
        for (start, stop), tags in zip(EPOCHS, EPOCH_TAGS, strict=True):
            nwb.add_epoch(start, stop, tags=tags, timeseries=[light])
        for spikes, rows in zip(UNIT_SPIKES, UNIT_ELECTRODE_ROWS, strict=True):
            nwb.add_unit(spike_times=spikes, electrodes=rows, electrode_group=group)

        scope = nwb.create_device(name="scope")
        channel = OpticalChannel(name="green", description="green", emission_lambda=520.0)
        plane = nwb.create_imaging_plane(
            name="plane",
            optical_channel=channel,
            description="plane",
            device=scope,
            excitation_lambda=920.0,
            imaging_rate=30.0,
            indicator="GCaMP6f",
            location="V1",
        )
        ophys = nwb.create_processing_module("ophys", "rois")
        segmentation = ImageSegmentation()
        ophys.add(segmentation)
        pixels = segmentation.create_plane_segmentation("pixel masks", plane, name="pixels")
        for roi_id, pixel_mask in zip(ROI_IDS, PIXELS, strict=True):
            pixels.add_roi(id=roi_id, pixel_mask=[list(p) for p in pixel_mask])
        dense = segmentation.create_plane_segmentation("image masks", plane, name="images")
        for roi_id, mask in zip(ROI_IDS, image_masks(), strict=True):
            dense.add_roi(id=roi_id, image_mask=mask)
        mean = GrayscaleImage(name="mean", data=np.arange(48.0).reshape(FOV), description="mean")
        ophys.add(Images(name="summary", images=[mean]))
        rois = pixels.create_roi_table_region("two rois", region=FLUO_ROWS)
        traces = RoiResponseSeries(
            name="raw",
            data=np.arange(20.0).reshape(10, 2),
            rois=rois,
            unit="a.u.",
            conversion=FLUO_CONVERSION,
            rate=30.0,
            starting_time=1.0,
        )
        ophys.add(Fluorescence(roi_response_series=traces))
        with NWBHDF5IO(str(path), "w") as io:
            io.write(nwb)
    return path
