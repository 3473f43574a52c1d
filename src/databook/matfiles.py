"""ROI footprints stored in MATLAB files, as CellReg and CNMF-E write them.

CellReg's ``spatial_footprints_NN.mat`` hold one variable, ``allFiltersMat``: a
(n_cells, H, W) array of soft spatial footprints. :func:`read_footprints` returns them
as the sparse (n_cells, H * W) matrix the rest of the library takes (``cellmatch``,
``overlap``), without ever holding a second dense copy.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["read_footprints"]


def read_footprints(path: str | os.PathLike[str], variable: str = "allFiltersMat"):
    """Footprints (n_cells, H, W) from a MATLAB v5 file as (scipy.sparse CSR
    (n_cells, H * W), (H, W)); pixels flattened in C order over (H, W) = (y, x).

    A missing variable, or one that is not a 3-D numeric array, raises ValueError naming
    the file and what it holds.
    """
    import scipy.io
    import scipy.sparse

    contents = scipy.io.loadmat(os.fspath(path), variable_names=[variable])
    if variable not in contents:
        names = [n for n, *_ in scipy.io.whosmat(os.fspath(path))]
        raise ValueError(f"{path}: no variable {variable!r}; it holds {names}")
    stack = contents[variable]
    if stack.ndim != 3 or stack.dtype.kind not in "biuf":
        raise ValueError(
            f"{path}: {variable!r} must be a numeric (n_cells, H, W) array, got "
            f"{stack.dtype} of shape {stack.shape}"
        )
    n, height, width = stack.shape
    # MATLAB arrays arrive in Fortran order: find nonzeros in memory order (no copy).
    flat_t = stack.T  # (W, H, n), C-contiguous view of the same memory
    found = np.flatnonzero(flat_t)
    x, y, cell = np.unravel_index(found, flat_t.shape)
    values = flat_t.reshape(-1)[found] if flat_t.flags.c_contiguous else stack[cell, y, x]
    matrix = scipy.sparse.csr_matrix(
        (values.astype(np.float64), (cell, y * width + x)), shape=(n, height * width)
    )
    return matrix, (height, width)
