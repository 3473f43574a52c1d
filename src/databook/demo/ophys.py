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


def subset(tissue: Tissue, cells: NDArray[np.int_]) -> Tissue:
    """The cells ``cells`` (indices) of ``tissue``."""
    return Tissue(tissue.center[cells], tissue.axes[cells], tissue.angle[cells],
                  tissue.brightness[cells])  # fmt: skip


def seen_through(tissue: Tissue, angle_deg: float, shift_yx, jitter=0.0) -> Tissue:
    """The cells of ``tissue`` (day-1 pixels) as a day seeing it rotated by ``angle_deg``
    and shifted by ``shift_yx`` sees them, centres moved by ``jitter`` (px) more.

    A rotation by +angle in (y, x) turns the (x, y) direction (cos t, sin t) of an
    ellipse's major axis into (cos(t - angle), sin(t - angle)): each cell turns with the
    field of view, so its orientation angle decreases by ``angle_deg``.
    """
    return Tissue(
        center=transform_points(tissue.center, angle_deg, shift_yx) + jitter,
        axes=tissue.axes,
        angle=tissue.angle - np.deg2rad(angle_deg),
        brightness=tissue.brightness,
    )


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
    moved = seen_through(tissue, angle_deg, shift_yx)
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
    seen = seen_through(subset(tissue, present), angle_deg, shift_yx, jitter)
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


def affine_matrix(angle_deg: float, scale_yx=(1.0, 1.0), shear: float = 0.0) -> NDArray[np.float64]:
    """2 x 2 matrix acting on (y, x): scale each axis, shear, then rotate by ``angle_deg``
    (R(angle) @ [[1, shear], [0, 1]] @ diag(scale_y, scale_x))."""
    return _rotation(angle_deg) @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag(scale_yx)


@dataclass(frozen=True)
class PlantedSessions:
    """Imaging sessions of one planted tissue, each seen through its own affine transform.

    ``masks[k]``: scipy.sparse CSR (n_rois_k, H * W) soft footprints (peak 1) of session
    ``k``, as NWB pixel masks store them; ``images[k]`` (H, W) its mean projection, with
    its own gain, offset and illumination gradient; ``cell_ids[k]`` (n_rois_k,) the tissue
    cell of each ROI (ids from ``n_tissue`` on are cells seen in one session only).
    Tissue (y, x) maps to session ``k`` as ``matrices[k] @ (p - center) + center +
    shifts[k]`` (pixels).
    """

    shape: tuple[int, int]
    center: tuple[float, float]
    matrices: NDArray[np.float64]
    shifts: NDArray[np.float64]
    masks: list
    images: list[NDArray[np.float32]]
    cell_ids: list[NDArray[np.int_]]
    n_tissue: int

    def to_session(self, k: int, yx: NDArray[np.float64]) -> NDArray[np.float64]:
        """Tissue (y, x) points (..., 2) in session ``k`` pixels."""
        c = np.asarray(self.center)
        return (np.asarray(yx, dtype=np.float64) - c) @ self.matrices[k].T + c + self.shifts[k]

    def between(self, i: int, j: int, yx: NDArray[np.float64]) -> NDArray[np.float64]:
        """Session-``i`` (y, x) points (..., 2) in session ``j`` pixels (the true transform)."""
        c = np.asarray(self.center)
        tissue = (np.asarray(yx, dtype=np.float64) - c - self.shifts[i]) @ np.linalg.inv(
            self.matrices[i]
        ).T + c
        return self.to_session(j, tissue)

    def true_pairs(self, i: int, j: int) -> set[tuple[int, int]]:
        """(ROI in session i, ROI in session j) pairs showing the same tissue cell."""
        index_j = {int(c): r for r, c in enumerate(self.cell_ids[j])}
        return {(r, index_j[int(c)]) for r, c in enumerate(self.cell_ids[i]) if int(c) in index_j}

    def n_in_all(self) -> int:
        """Tissue cells with an ROI in every session."""
        common = set(self.cell_ids[0].tolist())
        for ids in self.cell_ids[1:]:
            common &= set(ids.tolist())
        return len(common)


def _ellipse_footprints(centers, forms, shape, reach=9):
    """Soft footprints exp(-r2) for r2 = d' Q d <= 1, as sparse (n, H * W); ``forms`` (n, 2, 2)."""
    from scipy import sparse

    offsets = np.arange(-reach, reach + 1)
    gy, gx = (g.ravel() for g in np.meshgrid(offsets, offsets, indexing="ij"))
    y = np.rint(centers[:, :1]).astype(np.int64) + gy
    x = np.rint(centers[:, 1:]).astype(np.int64) + gx
    dy, dx = y - centers[:, :1], x - centers[:, 1:]
    r2 = (
        forms[:, :1, 0] * dy**2 + 2 * forms[:, :1, 1] * dy * dx + forms[:, 1:, 1] * dx**2
    )  # (n, pixels)
    inside = (r2 <= 1.0) & (y >= 0) & (y < shape[0]) & (x >= 0) & (x < shape[1])
    rows = np.nonzero(inside)[0]
    return sparse.csr_matrix(
        (np.exp(-r2[inside]), (rows, y[inside] * shape[1] + x[inside])),
        shape=(len(centers), shape[0] * shape[1]),
    )


def planted_sessions(
    transforms: list[dict],
    *,
    n_cells: int = 300,
    shape: tuple[int, int] = (512, 447),
    spacing: float = 15.0,
    present: float = 0.9,
    n_new: int = 30,
    jitter_px: float = 0.5,
    seed: int = 0,
) -> PlantedSessions:
    """Sessions of one tissue of ``n_cells`` elliptical cells (semi-axes 4-6.5 x 3-4.5 px).

    ``transforms[k]`` gives session ``k``'s view of the tissue: ``angle_deg``, ``shift_yx``
    (px), ``scale_yx`` and ``shear`` (see :func:`affine_matrix`). Each session segments a
    cell with probability ``present`` if its centre lands at least 10 px inside the
    field of view, moves each centre by Gaussian ``jitter_px`` and scales each footprint
    by 0.9-1.1, and adds ``n_new`` cells of its own. Cells are at least ``spacing`` px apart.
    """
    from scipy.ndimage import map_coordinates
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    height, width = shape
    center = ((height - 1) / 2, (width - 1) / 2)
    # Tissue slightly larger than the field of view, so shifts bring new tissue in.
    lo, hi = np.array([-40.0, -40.0]), np.array([height + 40.0, width + 40.0])
    total = n_cells + n_new * len(transforms)
    candidates = rng.uniform(lo, hi, (total * 6, 2))
    neighbours = cKDTree(candidates).query_ball_point(candidates, spacing)
    taken = np.zeros(len(candidates), dtype=bool)
    chosen = []
    for i, near in enumerate(neighbours):  # dart throwing: keep candidates far from kept ones
        if not taken[near].any():
            taken[i] = True
            chosen.append(i)
            if len(chosen) == total:
                break
    else:
        raise ValueError(f"cannot place {total} cells {spacing} px apart in {shape}")
    centers = candidates[chosen]
    axes = np.stack([rng.uniform(4.0, 6.5, total), rng.uniform(3.0, 4.5, total)], axis=1)
    theta = rng.uniform(0, np.pi, total)
    u = np.stack([np.cos(theta), np.sin(theta)], axis=1)  # major axis as (y, x)
    v = np.stack([-np.sin(theta), np.cos(theta)], axis=1)
    forms = (u[:, :, None] * u[:, None, :]) / axes[:, :1, None] ** 2 + (
        v[:, :, None] * v[:, None, :]
    ) / axes[:, 1:, None] ** 2
    brightness = rng.uniform(0.4, 1.0, total)
    matrices, shifts, all_masks, images, ids = [], [], [], [], []
    c = np.asarray(center)
    # The neuropil texture is smooth: evaluate it every 4 px and interpolate.
    coarse = np.stack(np.mgrid[0 : height + 7 : 4, 0 : width + 7 : 4], axis=-1).astype(float)
    pixels = np.stack(np.mgrid[0:height, 0:width], axis=0).reshape(2, -1) / 4.0
    for k, t in enumerate(transforms):
        m = affine_matrix(
            t.get("angle_deg", 0.0), t.get("scale_yx", (1.0, 1.0)), t.get("shear", 0.0)
        )
        shift = np.asarray(t.get("shift_yx", (0.0, 0.0)), dtype=np.float64)
        matrices.append(m)
        shifts.append(shift)
        own = np.arange(n_cells + k * n_new, n_cells + (k + 1) * n_new)
        pool = np.concatenate([np.flatnonzero(rng.random(n_cells) < present), own])
        moved = (centers[pool] - c) @ m.T + c + shift
        inside = np.all((moved >= 10) & (moved <= np.array(shape) - 11), axis=1)
        pool, moved = pool[inside], moved[inside] + rng.normal(0, jitter_px, (inside.sum(), 2))
        inv = np.linalg.inv(m)
        size = rng.uniform(0.9, 1.1, pool.size)
        seen_forms = np.einsum("ji,njk,kl->nil", inv, forms[pool], inv) / size[:, None, None] ** 2
        all_masks.append(_ellipse_footprints(moved, seen_forms, shape))
        ids.append(pool)
        # Mean image: neuropil texture in tissue coordinates, every cell in view (segmented
        # or not), gain, offset, an illumination gradient and noise.
        texture = background(seed, (coarse - c - shift) @ inv.T + c)
        neuropil = map_coordinates(texture, pixels, order=1, mode="nearest")
        gain = rng.uniform(0.5, 2.0)
        gradient = 1.0 + 0.4 * (4.0 * pixels[1] / width - 0.5) * rng.choice([-1, 1])
        view = (centers - c) @ m.T + c + shift
        cells = _ellipse_footprints(view, np.einsum("ji,njk,kl->nil", inv, forms, inv), shape)
        cells = cells.T @ brightness
        image = gain * gradient * (neuropil + cells) + rng.uniform(0, 50)
        image = image + rng.normal(0, 0.03 * gain, image.size)
        images.append(image.reshape(shape).astype(np.float32))
    return PlantedSessions(
        shape=(height, width),
        center=center,
        matrices=np.array(matrices),
        shifts=np.array(shifts),
        masks=all_masks,
        images=images,
        cell_ids=ids,
        n_tissue=n_cells,
    )
