"""The demo two-photon sessions, shaped like OpenScope ophys files (DANDI 000336).

Two days of the same field of view (256 x 256 pixels): ``PlaneSegmentation`` with
``image_mask``, ``DfOverF`` at 30 Hz, average and max projection images, a
``grating_presentations`` table, running speed and pupil area. Day 2 sees the same
tissue rotated by a known angle about the image centre and shifted by a known offset,
with some cells lost and some new. Pixel coordinates are (row, column) = (y, x).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from databook.demo._session import add_behavior_series, new_nwbfile, stimulus_table

SHAPE = (256, 256)
FRAME_RATE_HZ = 30.0
DURATION_S = 300.0
START = datetime(2024, 3, 4, 9, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Tissue:
    """Cells in day-1 pixel coordinates: centre (y, x), semi-axes (px), angle (rad)."""

    center: NDArray[np.float64]
    axes: NDArray[np.float64]
    angle: NDArray[np.float64]
    brightness: NDArray[np.float64]


def make_tissue(rng: np.random.Generator, n: int) -> Tissue:
    centers = []
    while len(centers) < n:  # rejection sampling keeps cells from overlapping much
        c = rng.uniform(12, SHAPE[0] - 12, 2)
        if all(np.hypot(*(c - o)) > 11 for o in centers):
            centers.append(c)
    return Tissue(
        center=np.array(centers),
        axes=np.stack([rng.uniform(3.5, 5.5, n), rng.uniform(2.5, 4.0, n)], axis=1),
        angle=rng.uniform(0, np.pi, n),
        brightness=rng.uniform(0.5, 1.0, n),
    )


def transform_points(yx: NDArray[np.float64], angle_deg: float, shift_yx) -> NDArray[np.float64]:
    """Day-1 (y, x) to day-2 (y, x): rotate by ``angle_deg`` about the image centre
    (counter-clockwise as displayed with y down), then shift by ``shift_yx`` pixels."""
    c = (np.array(SHAPE) - 1) / 2
    return (yx - c) @ _rotation(angle_deg).T + c + np.asarray(shift_yx)


def _rotation(angle_deg: float) -> NDArray[np.float64]:
    a = np.deg2rad(angle_deg)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def masks(tissue: Tissue) -> NDArray[np.float32]:
    """Soft elliptical footprints (n, H, W), peak 1, zero outside the ellipse."""
    yy, xx = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]].astype(np.float64)
    out = np.zeros((len(tissue.center), *SHAPE), dtype=np.float32)
    for i, ((cy, cx), (a, b), th) in enumerate(
        zip(tissue.center, tissue.axes, tissue.angle, strict=True)
    ):
        y0, y1 = max(int(cy) - 8, 0), min(int(cy) + 9, SHAPE[0])
        x0, x1 = max(int(cx) - 8, 0), min(int(cx) + 9, SHAPE[1])
        dy, dx = yy[y0:y1, x0:x1] - cy, xx[y0:y1, x0:x1] - cx
        u = dx * np.cos(th) + dy * np.sin(th)
        v = -dx * np.sin(th) + dy * np.cos(th)
        r2 = (u / a) ** 2 + (v / b) ** 2
        out[i, y0:y1, x0:x1] = np.where(r2 <= 1.0, np.exp(-1.5 * r2), 0.0)
    return out


def background(rng_seed: int, yx_day1: NDArray[np.float64]) -> NDArray[np.float64]:
    """Smooth neuropil texture evaluated at day-1 coordinates (so both days agree)."""
    rng = np.random.default_rng(rng_seed)
    k = rng.normal(0, 0.08, (12, 2))
    phase = rng.uniform(0, 2 * np.pi, 12)
    return 0.15 * np.cos(yx_day1 @ k.T + phase).mean(axis=-1) + 0.2


def projection_images(
    tissue: Tissue, seed: int, angle_deg: float, shift_yx, noise_seed: int
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """(average, max) projection of the tissue seen through a day's transform."""
    yy, xx = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]].astype(np.float64)
    grid = np.stack([yy, xx], axis=-1).reshape(-1, 2)
    # Inverse transform: which day-1 point each day-2 pixel shows.
    c = (np.array(SHAPE) - 1) / 2
    day1 = (grid - c - np.asarray(shift_yx)) @ _rotation(angle_deg) + c
    image = background(seed, day1).reshape(SHAPE)
    moved = Tissue(
        center=transform_points(tissue.center, angle_deg, shift_yx),
        axes=tissue.axes,
        angle=tissue.angle + np.deg2rad(angle_deg),
        brightness=tissue.brightness,
    )
    image = image + np.tensordot(moved.brightness, masks(moved), axes=1)
    rng = np.random.default_rng(noise_seed)
    average = image + rng.normal(0, 0.02, SHAPE)
    maximum = 1.6 * image + rng.normal(0, 0.05, SHAPE)
    return average.astype(np.float32), maximum.astype(np.float32)


def build_day(
    day: int,
    tissue: Tissue,
    present: NDArray[np.int_],
    angle_deg: float,
    shift_yx,
    jitter: NDArray[np.float64],
    responders: dict[int, float],
    seed: int,
):
    """NWBFile of one day showing the cells ``present`` (indices into ``tissue``)."""
    from hdmf.backends.hdf5 import H5DataIO
    from pynwb.base import Images
    from pynwb.image import GrayscaleImage
    from pynwb.ophys import DfOverF, ImageSegmentation, OpticalChannel

    rng = np.random.default_rng([seed, day])
    start = START + timedelta(days=day - 1)
    nwb = new_nwbfile(
        description=(
            f"databook demo: simulated two-photon session, day {day}, with planted "
            "grating responders and a known day-to-day transform of the field of view"
        ),
        identifier=f"databook-demo-ophys-day{day}-seed{seed}",
        start=start,
        session_id=f"demo-ophys-day{day}-{seed}",
        shaped_like="OpenScope two-photon sessions",
        keywords=["two-photon", "cell matching"],
        subject={
            "subject_id": "demo-mouse-2",
            "sex": "F",
            "age": "P100D",
            "genotype": "Slc17a7-IRES2-Cre/wt;Ai93(TITL-GCaMP6f)/wt",
        },
    )
    device = nwb.create_device(name="2p_microscope", description="simulated two-photon microscope")
    channel = OpticalChannel(name="green", description="GCaMP6f", emission_lambda=520.0)
    plane = nwb.create_imaging_plane(
        name="imaging_plane",
        optical_channel=channel,
        description="layer 2/3 of VISp",
        device=device,
        excitation_lambda=910.0,
        imaging_rate=FRAME_RATE_HZ,
        indicator="GCaMP6f",
        location="VISp",
        grid_spacing=[0.78, 0.78],
        grid_spacing_unit="micrometers",
    )
    seen = Tissue(
        center=transform_points(tissue.center[present], angle_deg, shift_yx) + jitter,
        axes=tissue.axes[present],
        angle=tissue.angle[present] + np.deg2rad(angle_deg),
        brightness=tissue.brightness[present],
    )
    footprints = masks(seen)
    ophys = nwb.create_processing_module(name="ophys", description="segmentation and dF/F")
    segmentation = ImageSegmentation()
    ps = segmentation.create_plane_segmentation(
        name="PlaneSegmentation", description="simulated footprints", imaging_plane=plane
    )
    ps.add_column(name="cell_id", description="demo ground-truth cell identity")
    for footprint, cell in zip(footprints, present, strict=True):
        ps.add_roi(image_mask=footprint, cell_id=int(cell))
    ps["image_mask"].set_data_io(H5DataIO, {"compression": "gzip", "chunks": (1, *SHAPE)})
    ophys.add(segmentation)

    # Frame times jitter by a fraction of a millisecond, as real acquisition clocks do.
    t = 0.5 + np.arange(int(DURATION_S * FRAME_RATE_HZ)) / FRAME_RATE_HZ
    t = np.round(t + rng.normal(0, 3e-4, t.size), 6)
    onsets = 5.0 + 3.0 * np.arange(int((DURATION_S - 10) // 3))
    orientation = rng.choice(np.arange(0, 360, 45), onsets.size).astype(float)
    last = np.searchsorted(onsets, t - 0.2, side="right") - 1
    since = np.where(last >= 0, t - onsets[np.clip(last, 0, None)], np.inf)
    window = (since >= 0.2) & (since < 2.0)
    amplitude = np.array([responders.get(int(c), 0.0) for c in present])
    slow = np.cumsum(rng.normal(0, 0.002, (present.size, t.size)), axis=1)
    dff = 0.1 * rng.standard_normal((present.size, t.size)) + slow - slow.mean(axis=1)[:, None]
    dff += amplitude[:, None] * window[None, :]
    rois = ps.create_roi_table_region(region=list(range(present.size)), description="all ROIs")
    dfof = DfOverF()
    ophys.add(dfof)  # attach first, so the ROI region shares an ancestor with its table
    dfof.create_roi_response_series(
        name="RoiResponseSeries",
        data=H5DataIO(dff.T.astype(np.float32), compression="gzip"),
        rois=rois,
        unit="n.a.",
        timestamps=t,
        description="dF/F (frames x ROIs)",
    )
    average, maximum = projection_images(tissue, seed, angle_deg, shift_yx, seed * 10 + day)
    ophys.add(
        Images(
            name="images",
            images=[
                GrayscaleImage(name="average_image", data=average, description="mean frame"),
                GrayscaleImage(name="max_projection", data=maximum, description="max frame"),
            ],
            description="projections of the motion-corrected movie",
        )
    )
    gratings = stimulus_table(
        "grating_presentations",
        "drifting gratings",
        onsets,
        onsets + 2.0,
        {
            "stimulus_name": ("stimulus", "drifting_gratings"),
            "orientation": ("degrees", orientation),
        },
    )
    nwb.add_time_intervals(gratings)
    behavior_t = np.arange(0.0, DURATION_S, 1 / 60.0)
    speed = np.abs(np.convolve(rng.normal(0, 8, behavior_t.size), np.ones(30) / 4, "same"))
    pupil = 800 + np.cumsum(rng.normal(0, 2, behavior_t.size))
    add_behavior_series(
        nwb, "running", "running wheel", {"running_speed": (speed, "cm/s", "wheel speed")}
    )
    add_behavior_series(
        nwb,
        "eye_tracking",
        "pupil tracking",
        {"pupil_area": (pupil, "pixels^2", "pupil ellipse area")},
    )
    return nwb


def build(seed: int):
    """Return ([day1, day2] NWBFiles, truth) for ``seed``."""
    rng = np.random.default_rng(seed)
    n_cells = 100
    tissue = make_tissue(rng, n_cells)
    angle = float(np.round(rng.uniform(1.0, 3.0), 3) * rng.choice([-1, 1]))
    shift = [float(v) for v in np.round(rng.uniform(2.0, 6.0, 2) * rng.choice([-1, 1], 2), 2)]
    day1 = np.arange(n_cells)
    lost = np.sort(rng.choice(n_cells, 10, replace=False))
    # New cells on day 2 come from tissue not segmented on day 1.
    extra = make_tissue(np.random.default_rng([seed, 99]), 160)
    far = [i for i, c in enumerate(extra.center) if np.min(np.hypot(*(tissue.center - c).T)) > 11][
        :12
    ]
    full = Tissue(
        center=np.concatenate([tissue.center, extra.center[far]]),
        axes=np.concatenate([tissue.axes, extra.axes[far]]),
        angle=np.concatenate([tissue.angle, extra.angle[far]]),
        brightness=np.concatenate([tissue.brightness, extra.brightness[far]]),
    )
    day2 = np.concatenate([np.setdiff1d(day1, lost), n_cells + np.arange(len(far))])
    # Keep day-2 cells inside the frame after the transform.
    inside = np.all(
        (transform_points(full.center[day2], angle, shift) > 8)
        & (transform_points(full.center[day2], angle, shift) < SHAPE[0] - 8),
        axis=1,
    )
    day2 = day2[inside]
    responders = {
        int(c): float(np.round(rng.uniform(0.3, 1.0), 3))
        for c in rng.choice(n_cells, 30, replace=False)
    }
    jitter2 = rng.normal(0, 0.5, (day2.size, 2))
    files = [
        build_day(1, full, day1, 0.0, [0.0, 0.0], np.zeros((day1.size, 2)), responders, seed),
        build_day(2, full, day2, angle, shift, jitter2, responders, seed),
    ]
    pairs = [[int(np.flatnonzero(day1 == c)[0]), int(j)] for j, c in enumerate(day2) if c in day1]
    truth = {
        "shape_px": list(SHAPE),
        "frame_rate_hz": FRAME_RATE_HZ,
        "day1_to_day2": {
            "angle_deg": angle,
            "shift_yx_px": shift,
            "center_yx_px": [(s - 1) / 2 for s in SHAPE],
            "convention": "p2 = R(angle) (p1 - center) + center + shift, (y, x) pixels",
        },
        "day1_cells": day1.tolist(),
        "day2_cells": day2.tolist(),
        "matches_day1_day2": pairs,
        "lost_cells": [int(c) for c in day1 if c not in set(day2.tolist())],
        "new_cells": [int(c) for c in day2 if c >= n_cells],
        "responders": {
            "cell_ids": sorted(responders),
            "amplitude_dff": responders,
            "window_after_onset_s": [0.2, 2.0],
        },
    }
    return files, truth
