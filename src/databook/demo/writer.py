"""Write the demo dandiset: three NWB files and ``ground_truth.json``.

The same ``seed`` and the same ``environment.lock`` give byte-identical files (fixed
dates and identifiers, seeded object ids, chunk-independent noise); their sha256 are the
``demo-*`` entries of ``assets.lock``. This module only writes files: pinning them and
checking them against the lock is :mod:`databook.assets`' job (``ensure_demo``).

nwbinspector messages kept on purpose (none is CRITICAL or BEST_PRACTICE_VIOLATION; a
test checks): ``check_processing_module_name`` (BEST_PRACTICE_SUGGESTION) for the
``optotagging``, ``running`` and ``eye_tracking`` modules, because those are the Allen
and OpenScope files' own module names and code written for the real files must run
unchanged on the demo.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from databook._atomic import atomic_path

__all__ = ["DEMO_FILES", "GENERATOR_VERSION", "generate", "padded_ecephys"]

GENERATOR_VERSION = "2"
#: asset key -> (file name, DANDI-style path recorded in assets.lock)
DEMO_FILES = {
    "demo-ecephys": (
        "ecephys.nwb",
        "sub-demo-mouse-1/sub-demo-mouse-1_ses-ecephys_ecephys+ogen.nwb",
    ),
    "demo-ophys-day1": ("ophys-day1.nwb", "sub-demo-mouse-2/sub-demo-mouse-2_ses-day1_ophys.nwb"),
    "demo-ophys-day2": ("ophys-day2.nwb", "sub-demo-mouse-2/sub-demo-mouse-2_ses-day2_ophys.nwb"),
    "demo-ground-truth": ("ground_truth.json", "ground_truth.json"),
}


def _write_nwb(nwb, path: Path) -> None:
    from pynwb import NWBHDF5IO

    with atomic_path(path) as tmp:
        with NWBHDF5IO(str(tmp), "w") as io:
            io.write(nwb)


def generate(
    outdir: str | os.PathLike[str], seed: int = 0, *, only: list[str] | None = None
) -> dict[str, Path]:
    """Write the demo files for ``seed`` into ``outdir``; return ``{asset key: path}``.

    ``only`` restricts the NWB files written (keys of :data:`DEMO_FILES`); the ground
    truth is always written in full.
    """
    from databook.demo import ecephys, ophys
    from databook.demo._ids import seeded_object_ids

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    wanted = set(only or DEMO_FILES)
    unknown = wanted - set(DEMO_FILES)
    if unknown:
        raise ValueError(f"unknown demo asset(s) {sorted(unknown)}; known: {sorted(DEMO_FILES)}")
    paths: dict[str, Path] = {}
    with seeded_object_ids(seed):
        ece_nwb, ece_truth = ecephys.build(seed, lfp_seed=seed + 1)
        if "demo-ecephys" in wanted:
            paths["demo-ecephys"] = outdir / DEMO_FILES["demo-ecephys"][0]
            _write_nwb(ece_nwb, paths["demo-ecephys"])
    with seeded_object_ids(seed + 1_000):
        (day1, day2), oph_truth = ophys.build(seed)
        for key, nwb in (("demo-ophys-day1", day1), ("demo-ophys-day2", day2)):
            if key in wanted:
                paths[key] = outdir / DEMO_FILES[key][0]
                _write_nwb(nwb, paths[key])
    truth = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "units": "seconds, micrometres, degrees, volts, A/m^3, pixels",
        "ecephys": ece_truth,
        "ophys": oph_truth,
    }
    paths["demo-ground-truth"] = outdir / DEMO_FILES["demo-ground-truth"][0]
    with atomic_path(paths["demo-ground-truth"]) as tmp:
        tmp.write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return paths


def padded_ecephys(path: str | os.PathLike[str], pad_bytes: int, seed: int = 0) -> Path:
    """Write the demo Neuropixels session with ``pad_bytes`` of raw voltage added.

    The demo file is about 10 MB, so "how much of the file does a reader transfer" cannot
    be told apart from "the whole file" on it. This writes the same session (the same
    units, tables and LFP as ``generate(seed=seed)``'s ``demo-ecephys``) with one extra,
    uncompressed ``ElectricalSeries`` in ``acquisition`` (``raw_voltage_padding``: random
    int16 samples over every site, ``pad_bytes`` bytes, rounded down to whole rows), as a
    real session file carries its voltage data beside the small tables. It is a stand-in
    of realistic size for measuring streaming costs, not a pinned asset.

    Parameters
    ----------
    path : path-like
        The file to write (atomically: no half-written file on failure).
    pad_bytes : int
        Bytes of voltage data to add (>= 0).
    seed : int
        The demo seed (``ground_truth.json``'s ``seed``).

    Returns
    -------
    Path
        ``path``.
    """
    import numpy as np
    from pynwb.ecephys import ElectricalSeries

    from databook.demo import ecephys
    from databook.demo._ids import seeded_object_ids

    if pad_bytes < 0:
        raise ValueError(f"pad_bytes must be >= 0, got {pad_bytes}")
    path = Path(path)
    with seeded_object_ids(seed):
        nwb, _ = ecephys.build(seed, lfp_seed=seed + 1)
        n_sites = len(nwb.electrodes)
        n_rows = pad_bytes // (2 * n_sites)  # int16 samples
        samples = np.random.default_rng(seed).integers(
            -2048, 2048, size=(n_rows, n_sites), dtype=np.int16
        )
        region = nwb.create_electrode_table_region(
            region=list(range(n_sites)), description="every site"
        )
        nwb.add_acquisition(
            ElectricalSeries(
                name="raw_voltage_padding",
                data=samples,
                electrodes=region,
                rate=30_000.0,
                conversion=1e-6,
                description="random samples that pad the demo session to a realistic size",
            )
        )
        _write_nwb(nwb, path)
    return path
