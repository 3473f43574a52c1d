"""Current source density (CSD) from a laminar LFP, on the electrodes' real depths.

CSD = -sigma * d2(phi)/dz2 (Nicholson and Freeman 1975), estimated by the second
difference on the actual, possibly irregular, electrode depths (not channel index).
Potentials in volts, depths in micrometres, conductivity in S/m, CSD in A/m^3; sinks
are negative. Bad channels are replaced by linear interpolation in depth before
differentiating, and the result says which. The estimate is one linear operator applied
to time chunks, so arbitrarily long recordings need little memory beyond their input.

Comparing with other tools: elephant's ``StandardCSD`` divides by h instead of h^2 (its
result is h times the CSD); AllenSDK's has the opposite sign and no conductivity.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

__all__ = ["CsdResult", "csd", "csd_operator", "event_csd"]


@dataclass
class CsdResult:
    """``csd`` (n_channels, n_samples), A/m^3, on ``depths`` (um, increasing);
    ``interpolated`` lists the depths (um) of bad channels filled by interpolation.
    Unpacks as ``csd, depths = result``."""

    csd: NDArray[np.floating]
    depths: NDArray[np.float64]
    interpolated: list[float] = field(default_factory=list)

    def __iter__(self) -> Iterator:
        return iter((self.csd, self.depths))


def _check_depths(depths: ArrayLike, n_channels: int) -> NDArray[np.float64]:
    depths = np.asarray(depths, dtype=np.float64)
    if depths.shape != (n_channels,):
        raise ValueError(f"depths has shape {depths.shape}; the LFP has {n_channels} channels")
    if np.any(np.diff(np.sort(depths)) <= 0):
        raise ValueError("depths must be distinct: average channels at the same depth first")
    return depths


def csd_operator(
    depths_um: NDArray[np.float64],
    sigma: float = 0.3,
    *,
    vaknin: bool = False,
    smooth_um: float | None = None,
    bad: Iterable[int] = (),
) -> tuple[sparse.csr_matrix, NDArray[np.bool_]]:
    """Sparse (n, n) matrix M with CSD = M @ phi (A/m^3) for channels sorted by depth.

    Also returns ``undefined``, True for rows without a CSD (the two outermost channels
    unless ``vaknin``). ``vaknin`` (Vaknin et al. 1988) pads the
    profile by repeating the outermost potentials one spacing beyond, giving a CSD on
    every channel. ``smooth_um``: Gaussian smoothing of the CSD along depth (SD in um,
    truncated at 4 SD so the operator stays sparse).
    """
    z = depths_um * 1e-6
    n = z.size
    if n < 3:
        raise ValueError(f"a CSD needs at least 3 channels, got {n}")
    bad = sorted(set(int(b) for b in bad))
    good = np.setdiff1d(np.arange(n), bad)
    if good.size < 2:
        raise ValueError(f"too few good channels to interpolate across {len(bad)} bad ones")
    # Interpolation of bad channels from their good neighbours in depth (identity else).
    fill = sparse.lil_matrix((n, n))
    for i in range(n):
        if i not in bad:
            fill[i, i] = 1.0
            continue
        above = good[good < i]
        below = good[good > i]
        if above.size == 0 or below.size == 0:  # outside the good span: nearest channel
            fill[i, below[0] if above.size == 0 else above[-1]] = 1.0
            continue
        a, b = above[-1], below[0]
        w = (z[i] - z[a]) / (z[b] - z[a])
        fill[i, a], fill[i, b] = 1.0 - w, w
    # Second difference on irregular spacing: 2/(h1+h2) * ((p+ - p)/h2 - (p - p-)/h1).
    second = sparse.lil_matrix((n, n))
    for i in range(n):
        if 0 < i < n - 1:
            h1, h2 = z[i] - z[i - 1], z[i + 1] - z[i]
            second[i, i - 1] = 2 / (h1 * (h1 + h2))
            second[i, i + 1] = 2 / (h2 * (h1 + h2))
            second[i, i] = -2 / (h1 * h2)
        elif vaknin:
            # Padded value equals the edge value one spacing beyond: phi'' = (p_nb - p)/h^2.
            j = 1 if i == 0 else n - 2
            h = abs(z[j] - z[i])
            second[i, j], second[i, i] = 1 / h**2, -1 / h**2
    undefined = np.zeros(n, dtype=bool)
    if not vaknin:
        undefined[[0, n - 1]] = True
    operator = -sigma * (second.tocsr() @ fill.tocsr())
    if smooth_um:
        distance = np.abs(depths_um[:, None] - depths_um[None, :])
        weights = np.exp(-(distance**2) / (2 * smooth_um**2))
        weights[distance > 4 * smooth_um] = 0.0  # truncated at 4 SD, as scipy.ndimage does
        weights[:, undefined] = 0.0
        weights /= weights.sum(axis=1, keepdims=True)
        operator = sparse.csr_matrix(weights) @ operator
    return operator.tocsr(), undefined


def csd(
    lfp: ArrayLike,
    depths: ArrayLike,
    sigma: float = 0.3,
    *,
    vaknin: bool = False,
    smooth_um: float | None = None,
    bad_channels: Iterable[int] = (),
    chunk_samples: int = 8192,
    out: NDArray | None = None,
) -> CsdResult:
    """Current source density of ``lfp`` (n_channels, n_samples), volts, at ``depths`` (um).

    Channels are returned sorted by depth. ``bad_channels`` are indices into the given
    channel order; they are interpolated across, and ``result.interpolated`` lists their
    depths. ``lfp`` may be any array-like with slicing (an h5py dataset is read one chunk
    of ``chunk_samples`` at a time); pass ``out`` (for example an ``np.memmap`` or an h5py
    dataset of shape (n_channels, n_samples)) to keep the output off the heap as well.
    """
    if not hasattr(lfp, "shape"):
        lfp = np.asarray(lfp)
    if len(lfp.shape) != 2:
        raise ValueError(f"lfp must be (n_channels, n_samples), got shape {lfp.shape}")
    n_channels, n_samples = lfp.shape
    depths = _check_depths(depths, n_channels)
    order = np.argsort(depths)
    rank = np.empty_like(order)
    rank[order] = np.arange(n_channels)
    bad = [int(rank[b]) for b in bad_channels]
    operator, undefined = csd_operator(
        depths[order], sigma, vaknin=vaknin, smooth_um=smooth_um, bad=bad
    )
    dtype = np.result_type(getattr(lfp, "dtype", np.float64), np.float32)
    if out is None:
        out = np.empty((n_channels, n_samples), dtype=dtype)
    elif tuple(out.shape) != (n_channels, n_samples):
        raise ValueError(f"out has shape {out.shape}, expected {(n_channels, n_samples)}")
    # Rows of the operator refer to sorted channels; ``rows`` maps them to input rows.
    rows = order[operator.indices].astype(np.intp)
    coefficients = operator.data.astype(dtype)
    indptr = operator.indptr.astype(np.intp)
    kernel = _kernel()
    direct_in = isinstance(lfp, np.ndarray) and lfp.flags.c_contiguous
    direct_out = isinstance(out, np.ndarray) and out.flags.c_contiguous and out.dtype == dtype

    def work(start: int) -> None:
        stop = min(start + chunk_samples, n_samples)
        if direct_in:
            block, first, last = lfp, start, stop
        else:
            block, first, last = np.ascontiguousarray(lfp[:, start:stop]), 0, stop - start
        if direct_out:
            kernel(indptr, rows, coefficients, undefined, block, first, last, out, start)
            return
        target = np.empty((n_channels, stop - start), dtype=dtype)
        kernel(indptr, rows, coefficients, undefined, block, first, last, target, 0)
        out[:, start:stop] = target

    starts = range(0, n_samples, chunk_samples)
    if isinstance(out, np.ndarray) and len(starts) > 1:
        with ThreadPoolExecutor(min(os.cpu_count() or 1, 4)) as pool:
            list(pool.map(work, starts))
    else:
        for start in starts:
            work(start)
    return CsdResult(out, depths[order], sorted(float(depths[b]) for b in bad_channels))


@functools.cache
def _kernel():
    """Compile (once; cached on disk) the sparse operator x time-chunk product.

    One pass over each input sample and one write of each output sample, in place of
    NumPy's several passes and temporaries: the product is memory-bound, and this makes
    it about twice as fast (benchmarks/bench_csd.py). It releases the GIL, so time
    chunks run on several threads.
    """
    import numba

    @numba.njit(nogil=True, cache=True)
    def apply(indptr, rows, coefficients, undefined, lfp, first, last, out, offset):
        n = last - first
        for i in range(out.shape[0]):
            target = out[i, offset : offset + n]
            if undefined[i] or indptr[i] == indptr[i + 1]:
                target[:] = np.nan if undefined[i] else 0.0
                continue
            for k in range(indptr[i], indptr[i + 1]):
                weight = coefficients[k]
                source = lfp[rows[k], first:last]
                if k == indptr[i]:
                    for j in range(n):
                        target[j] = weight * source[j]
                else:
                    for j in range(n):
                        target[j] += weight * source[j]

    return apply


def event_csd(
    timestamps: ArrayLike,
    lfp: ArrayLike,
    depths: ArrayLike,
    events: ArrayLike,
    window: tuple[float, float],
    rate: float,
    sigma: float = 0.3,
    **options,
) -> tuple[CsdResult, NDArray[np.float64]]:
    """Trial-averaged CSD around events: the event-averaged LFP (``lfp`` is
    (n_samples, n_channels) at ``timestamps``, s), then its CSD (linear, so identical
    to averaging single-trial CSDs). Returns the CSD and its times (s from the event)."""
    from databook.align import event_windows, window_times

    windows = event_windows(timestamps, lfp, events, window, rate)
    mean = np.nanmean(windows, axis=0).T  # channels x samples
    return csd(mean, depths, sigma, **options), window_times(window, rate)
