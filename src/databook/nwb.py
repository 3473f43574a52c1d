"""Read NWB files into plain numpy arrays and pandas tables, in bulk.

Every reader takes ``f``, which may be

- a path to a local ``.nwb`` (HDF5) file,
- an ``http(s)`` URL, streamed by HTTP range requests (remfile, :func:`databook.assets.stream_h5`),
- an ``assets.lock`` key (or an :class:`databook.assets.Asset`), opened from its verified
  local copy,
- an open ``pynwb.NWBFile`` (or ``NWBHDF5IO``), an ``h5py.File``, or a :class:`Source`
  from :func:`source` (use one to read several things from one streamed file).

The readers go to the HDF5 objects directly, following the NWB schema, rather than through
pynwb's object tree: they work on files pynwb refuses or warns about (schema 2.0-2.1,
extensions whose namespaces are not cached), cost no object-tree construction when
streaming, and read each column with one call (a ragged column such as ``spike_times`` is
its data and its index, read once each, then split). Times are in seconds, depths in
micrometres, potentials in volts; other quantities keep the unit the file states, which
the result names.

A file without what a reader needs raises :class:`NWBContentError`, whose message names the
reader, the object looked for, where it looked, the file, and what the file has instead.
This module reads; it computes nothing scientific.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import re
import sys
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np
import pandas as pd

from databook.errors import DatabookError

if TYPE_CHECKING:
    import scipy.sparse

__all__ = [
    "LFP",
    "NWBContentError",
    "NWBVersionError",
    "ROIs",
    "Signal",
    "Source",
    "SourceNotFoundError",
    "SpikeTimesRepairedWarning",
    "dff",
    "electrodes",
    "fluorescence",
    "images",
    "intervals",
    "lfp",
    "lfp_candidates",
    "optogenetic_pulses",
    "pupil",
    "rois",
    "running_speed",
    "source",
    "stimulus_table",
    "stored_bytes",
    "tree",
    "unit_count",
    "unit_depths",
    "units",
]

ELECTRODES = "/general/extracellular_ephys/electrodes"
#: Electrode columns that may hold depth, in the order they are preferred.
DEPTH_COLUMNS = ("probe_vertical_position", "rel_y", "y", "z")


class NWBContentError(DatabookError, LookupError):
    """The file lacks what a reader needs; the message names the reader, the object, where
    it looked, the file, and what the file has instead."""


class NWBVersionError(NWBContentError):
    """The file is NWB 1.x, whose layout the readers (NWB 2.x) do not know; the message
    names the file and the version it states."""


class SourceNotFoundError(NWBContentError, FileNotFoundError):
    """The source names no file, URL or lock key: the message says which it tried."""


class SpikeTimesRepairedWarning(UserWarning):
    """:func:`units` sorted a unit's spike times or dropped NaN ones (one warning per read)."""


# Opening ----------------------------------------------------------------------------------
@dataclass
class Source:
    """An open NWB (HDF5) file: its root group and the name errors use for it."""

    h5: h5py.File
    name: str
    _groups: dict[str, str] | None = field(default=None, repr=False)

    def groups(self) -> dict[str, str]:
        """``{path: neurodata_type}`` of every group reached by hard links ('' if untyped),
        outside ``/specifications``; walked once per source."""
        if self._groups is None:
            found: dict[str, str] = {}
            _walk(self.h5, found)
            self._groups = found
        return self._groups

    def typed(self, *types: str) -> list[str]:
        """Paths of the groups whose ``neurodata_type`` is one of ``types``, in file order."""
        return [path for path, kind in self.groups().items() if kind in types]


def _checked(h5: h5py.File, name: str) -> Source:
    """A :class:`Source` for ``h5``, refusing an NWB 1.x file and an HDF5 file that is not
    NWB at all (no version and no ``neurodata_type`` at its root), each in one message."""
    stated = h5.attrs.get("nwb_version")
    old_layout = stated is None and isinstance(h5.get("nwb_version"), h5py.Dataset)
    if old_layout:  # NWB 1.x kept its version in a root dataset, 2.x in an attribute
        stated = h5["nwb_version"][()]
    version = _text(stated).strip() if stated is not None else ""
    if old_layout or re.match(r"(NWB-)?1\.", version, re.IGNORECASE):
        raise NWBVersionError(
            f"open: {name} is an NWB 1.x file (nwb_version {version or 'not stated'!r}); "
            "databook reads NWB 2.0 and later, whose layout differs throughout: read it with "
            "the NWB 1.x API (NeurodataWithoutBorders/api-python) or use an NWB 2 export of "
            "the same data"
        )
    if stated is None and "neurodata_type" not in h5.attrs:
        raise NWBContentError(
            f"open: {name} is an HDF5 file but not an NWB file: its root has no nwb_version "
            f"or neurodata_type attribute (it holds: {', '.join(list(h5)[:8]) or 'nothing'}); "
            "pass an NWB 2 file"
        )
    return Source(h5, name)


def _walk(group: h5py.Group, found: dict[str, str]) -> None:
    for name in group:
        if group.name == "/" and name == "specifications":
            continue
        # Hard links only: soft links repeat objects (and may dangle, as in some real files).
        if not isinstance(group.get(name, getlink=True), h5py.HardLink):
            continue
        obj = group.get(name)
        if isinstance(obj, h5py.Group):
            found[obj.name] = _text(obj.attrs.get("neurodata_type", ""))
            _walk(obj, found)


@contextlib.contextmanager
def source(
    f: Any, *, mode: str = "download", lock_path: str | os.PathLike[str] | None = None
) -> Iterator[Source]:
    """Open ``f`` for reading and yield a :class:`Source`; close what was opened on exit.

    Parameters
    ----------
    f
        Path, ``http(s)`` URL, ``assets.lock`` key, :class:`databook.assets.Asset`, open
        ``pynwb.NWBFile`` / ``NWBHDF5IO`` / ``h5py.File``, or a :class:`Source`. Objects that
        are already open are used as they are and left open.
    mode
        For lock keys and assets: ``"download"`` opens the verified local copy (fetching it,
        or generating demo data, if needed); ``"stream"`` reads over HTTP range requests.
    lock_path
        The ``assets.lock`` that keys are looked up in (default: the project's).
    """
    from databook import assets

    if mode not in ("download", "stream"):
        raise ValueError(f"mode must be 'download' or 'stream', got {mode!r}")
    if isinstance(f, Source):
        yield f
        return
    if isinstance(f, h5py.Group):
        yield _checked(f.file, f.file.filename)
        return
    opened = _pynwb_file(f)
    if opened is not None:
        yield Source(*opened)
        return
    if isinstance(f, assets.Asset):
        asset = f
    elif isinstance(f, str | os.PathLike):
        text = os.fspath(f)
        if re.match(r"https?://", text, re.IGNORECASE):
            with assets.stream_h5(text) as h5:
                yield _checked(h5, text)
            return
        if Path(text).expanduser().is_dir():
            raise NWBContentError(f"open: {text} is a directory, not an NWB file")
        if Path(text).expanduser().exists():
            with _open_local(Path(text).expanduser(), text) as h5:
                yield _checked(h5, text)
            return
        try:
            asset = assets.resolve(text, lock_path)
        except Exception as err:  # no project, no lock, or no such key
            raise SourceNotFoundError(
                f"{text!r} is neither an existing file, an http(s) URL, nor an assets.lock "
                f"key ({err})"
            ) from None
    else:
        raise TypeError(
            "an NWB source must be a path, URL, assets.lock key, pynwb.NWBFile, h5py.File or "
            f"databook.nwb.Source, not {type(f).__name__}"
        )
    if mode == "stream" and not asset.is_demo:
        assets.require_pinned(asset)
        with assets.stream_h5(asset.url, asset.key) as h5:
            yield _checked(h5, f"{asset.key} ({asset.url})")
        return
    path = assets.local_file(asset)
    with _open_local(path, f"{asset.key} ({path})") as h5:
        yield _checked(h5, f"{asset.key} ({path.name})")


@contextlib.contextmanager
def _open_local(path: Path, name: str) -> Iterator[h5py.File]:
    try:
        h5 = h5py.File(path, "r")
    except OSError as err:
        raise NWBContentError(f"open: {name} is not a readable HDF5 (NWB) file: {err}") from err
    with h5:
        yield h5


def _pynwb_root(f: Any) -> Any:
    """The object at the top of a pynwb object's tree (its ``NWBFile``), or ``f``."""
    root = f
    while getattr(root, "parent", None) is not None:
        root = root.parent
    return root


def _pynwb_file(f: Any) -> tuple[h5py.File, str] | None:
    """``(h5py file, name)`` behind a pynwb ``NWBFile`` or ``NWBHDF5IO``, or behind any
    object read from a file (an ``LFP`` container, an ``ElectricalSeries`` ...); None for
    objects that are not pynwb's."""
    if "pynwb" not in sys.modules or not type(f).__module__.startswith(("pynwb", "hdmf")):
        return None
    root = _pynwb_root(f)
    io = f if hasattr(f, "read") and hasattr(f, "_file") else getattr(root, "read_io", None)
    ident = getattr(f, "identifier", None) or getattr(f, "name", None)
    what = type(f).__name__ + (f" {ident!r}" if ident else "")
    if io is None:
        raise ValueError(
            f"{what} exists only in memory (never written or read from a file); write it "
            "with pynwb.NWBHDF5IO and pass the path"
        )
    h5 = getattr(io, "_file", None)
    if not isinstance(h5, h5py.File) or not h5.id.valid:
        raise ValueError(f"{what}: its file is closed; read inside the `with NWBHDF5IO(...)`")
    return h5, getattr(root, "container_source", None) or h5.filename


def _pynwb_path(f: Any) -> str | None:
    """The HDF5 path of a pynwb object read from a file (``/processing/ecephys/LFP``);
    None for the file itself, its IO, or objects that are not pynwb's."""
    if "pynwb" not in sys.modules or not type(f).__module__.startswith(("pynwb", "hdmf")):
        return None
    if getattr(f, "parent", None) is None:
        return None
    io = getattr(_pynwb_root(f), "read_io", None)
    builder = io.manager.get_builder(f) if io is not None else None
    if builder is None:
        return None
    path = builder.path
    return "/" + path.split("/", 1)[1] if "/" in path else "/"


def tree(f: Any, max_depth: int = 2) -> str:
    """The file's groups as an indented text tree: what a file holds, before reading it.

    Parameters
    ----------
    f
        Any NWB source (see the module docstring); only metadata is read.
    max_depth
        Deepest level shown (1: the top-level groups). A group with groups below that level
        says how many (``+N groups below``).

    Returns
    -------
    str
        One line per group (ASCII, sorted by name as HDF5 stores them, ``/specifications``
        left out), labelled with its ``neurodata_type``; a table (a group with an ``id``
        column) also gives its row count, a time series the shape and type of its ``data``.
    """
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 1:
        raise ValueError(f"tree: max_depth must be a whole number >= 1, got {max_depth!r}")
    with source(f) as src:
        groups = src.groups()
        children: dict[str, list[str]] = {}
        for path in groups:
            children.setdefault(path.rsplit("/", 1)[0] or "/", []).append(path)
        root_type = _text(_attr(src.h5, "neurodata_type", ""))
        lines = [f"/{f'  [{root_type}]' if root_type else ''}"]

        def label(path: str, depth: int) -> str:
            group = src.h5[path]
            parts = [groups[path]] if groups[path] else []
            data = group.get("data")
            if isinstance(group.get("id"), h5py.Dataset):
                parts.append(f"{len(group['id'])} rows")
            elif isinstance(data, h5py.Dataset):
                shape = " x ".join(str(n) for n in data.shape) or "scalar"
                parts.append(f"data {shape} {data.dtype}")
            text = f"  [{', '.join(parts)}]" if parts else ""
            if depth == max_depth:
                below = sum(1 for p in groups if p.startswith(path + "/"))
                text += f"  (+{below} group{'s' if below > 1 else ''} below)" if below else ""
            return path.rsplit("/", 1)[-1] + text

        def visit(parent: str, depth: int, prefix: str) -> None:
            kids = children.get(parent, [])
            for i, path in enumerate(kids):
                last = i == len(kids) - 1
                lines.append(prefix + ("`-- " if last else "|-- ") + label(path, depth))
                if depth < max_depth:
                    visit(path, depth + 1, prefix + ("    " if last else "|   "))

        visit("/", 1, "")
        return "\n".join(lines)


def stored_bytes(f: Any, path: str, rows: slice | None = None) -> int:
    """Bytes the data at ``path`` occupy in the file: the least a reader of it must transfer.

    Parameters
    ----------
    f
        Any NWB source (see the module docstring); only metadata is read.
    path
        A dataset, or a group (every dataset below it, e.g. ``/units``).
    rows
        For a dataset, only the rows ``rows`` (first axis): the chunks they touch, whole,
        as a reader must fetch and decompress them (or the rows' bytes, if contiguous).

    Returns
    -------
    int
        Stored (compressed) bytes; HDF5's own metadata (object headers, chunk indexes) is
        not included.
    """
    with source(f) as src:
        obj = src.h5.get(path)
        if obj is None:
            raise NWBContentError(f"stored_bytes: no object at {path!r} in {src.name}")
        if isinstance(obj, h5py.Group):
            if rows is not None:
                raise ValueError(f"stored_bytes: rows= applies to a dataset; {path} is a group")
            sizes: list[int] = []
            obj.visititems(
                lambda _, o: (
                    sizes.append(o.id.get_storage_size()) if isinstance(o, h5py.Dataset) else None
                )
            )
            return int(sum(sizes))
        if rows is None or obj.ndim == 0:
            return int(obj.id.get_storage_size())
        start, stop, step = rows.indices(obj.shape[0])
        if step != 1:
            raise ValueError(f"stored_bytes: rows must be a contiguous slice, got {rows!r}")
        if stop <= start:
            return 0
        if obj.chunks is None:
            per_row = obj.id.get_storage_size() / max(1, obj.shape[0])
            return round(per_row * (stop - start))
        first, last = start // obj.chunks[0], (stop - 1) // obj.chunks[0]
        total = 0
        for i in range(obj.id.get_num_chunks()):
            info = obj.id.get_chunk_info(i)
            if first <= info.chunk_offset[0] // obj.chunks[0] <= last:
                total += info.size
        return int(total)


# Small HDF5 helpers ---------------------------------------------------------------------
def _text(value: Any) -> str:
    if isinstance(value, bytes | np.bytes_):
        return value.decode("utf-8", "replace")
    return str(value)


def _attr(obj: h5py.HLObject, name: str, default: Any = None) -> Any:
    value = obj.attrs.get(name, default)
    return _text(value) if isinstance(value, bytes | np.bytes_ | np.str_) else value


def _listing(names: Sequence[str], limit: int = 25) -> str:
    names = list(names)
    if not names:
        return "(none)"
    more = f", ... ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


#: Container types that say nothing about the data a reader looks for.
_PLUMBING = {
    "",
    "ProcessingModule",
    "Device",
    "ElectrodeGroup",
    "ImagingPlane",
    "OpticalChannel",
    "Subject",
    "LabMetaData",
}


def _inventory(src: Source) -> str:
    """What the file has: its typed data objects, for error messages."""
    found = [f"{p} ({t})" for p, t in src.groups().items() if t not in _PLUMBING]
    return "the file has: " + _listing(found)


def _read(ds: h5py.Dataset) -> np.ndarray | None:
    """A whole dataset as an array (strings decoded); None for references."""
    dtype = ds.dtype
    if h5py.check_string_dtype(dtype) is not None:
        values = ds.asstr()[()]
        return values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    if h5py.check_ref_dtype(dtype) is not None:
        return None
    if dtype.names and any(h5py.check_ref_dtype(dtype[n]) is not None for n in dtype.names):
        return None
    values = ds[()]
    if dtype.kind == "S":
        values = np.char.decode(values, "utf-8")
    return values


def _split(values: np.ndarray, ends: np.ndarray, where: str) -> np.ndarray:
    """Split a ragged column's data at its index (the end of each row) into one array per row."""
    ends = np.asarray(ends, dtype=np.int64)
    if np.any(np.diff(ends) < 0) or (ends.size and (ends[0] < 0 or ends[-1] != len(values))):
        raise NWBContentError(
            f"{where}: the index does not partition the data (ends {ends[:5]}..., "
            f"{len(values)} values); the file is inconsistent"
        )
    out = np.empty(len(ends), dtype=object)
    out[:] = np.split(values, ends[:-1]) if len(ends) else []
    return out


def _tidy_spikes(
    spikes: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Drop NaN spike times and sort each unit's times, keeping the ragged layout.

    Published files hold units whose spike times are not in time order (every session of
    DANDI:000006) and, rarely, NaN times; the analyses need each unit sorted.

    Parameters
    ----------
    spikes
        (n_spikes,) float64 seconds, all units concatenated.
    ends
        (n_units,) the end of each unit's run in ``spikes`` (the NWB index).

    Returns
    -------
    spikes, ends
        The tidied data and index (same layout; no spike moves to another unit).
    unsorted
        (n_units,) bool: the unit's finite times were out of order in the file.
    dropped
        (n_units,) int: NaN times dropped from each unit.
    """
    ends = np.asarray(ends, dtype=np.int64)
    if spikes.size == 0 or ends.size == 0 or ends[-1] != len(spikes) or np.any(np.diff(ends) < 0):
        return spikes, ends, np.zeros(len(ends), bool), np.zeros(len(ends), np.int64)
    row = np.repeat(np.arange(len(ends)), np.diff(ends, prepend=0))
    nan = np.isnan(spikes)
    dropped = np.bincount(row[nan], minlength=len(ends))
    if dropped.any():
        spikes, row = spikes[~nan], row[~nan]
        ends = np.cumsum(np.bincount(row, minlength=len(ends)))
    backwards = (np.diff(spikes) < 0) & (row[1:] == row[:-1])
    unsorted = np.bincount(row[1:][backwards], minlength=len(ends)) > 0
    if unsorted.any():
        spikes = spikes[np.lexsort((spikes, row))]
    return spikes, ends, unsorted, dropped


def _colnames(table: h5py.Group) -> list[str]:
    names = table.attrs.get("colnames")
    if names is None:
        return [
            n
            for n in table
            if isinstance(table.get(n), h5py.Dataset) and n != "id" and not n.endswith("_index")
        ]
    return [_text(n) for n in np.atleast_1d(names)]


def _column(table: h5py.Group, name: str, src: Source) -> np.ndarray | None:
    """One column, ragged levels applied; None if it holds only object references."""
    values = _read(table[name])
    if values is None:
        return None
    index = f"{name}_index"
    while index in table:
        values = _split(values, table[index][()], f"{table.name}/{index} of {src.name}")
        index += "_index"
    return values


def _is_scalar_column(table: h5py.Group, name: str, n_rows: int) -> bool:
    ds = table[name]
    return f"{name}_index" not in table and ds.ndim == 1 and ds.shape[0] == n_rows


def _table(
    src: Source, table: h5py.Group, names: Sequence[str] | None = None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """A DynamicTable as a DataFrame indexed by ``id``; also ``{column: why it was skipped}``."""
    ids = table["id"][()] if "id" in table else None
    columns: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for name in _colnames(table) if names is None else names:
        if name not in table:
            skipped[name] = "listed in colnames but absent"
            continue
        values = _column(table, name, src)
        if values is None:
            skipped[name] = "object references"
            continue
        if values.ndim > 1:  # one fixed-shape array per row
            rows = np.empty(len(values), dtype=object)
            rows[:] = list(values)
            values = rows
        columns[name] = values
    n_rows = len(ids) if ids is not None else len(next(iter(columns.values()), []))
    for name, values in columns.items():
        if len(values) != n_rows:
            raise NWBContentError(
                f"table: column {name!r} of {table.name} in {src.name} has {len(values)} rows, "
                f"the table {n_rows}; the file is inconsistent"
            )
    index = pd.Index(ids if ids is not None else np.arange(n_rows), name="id")
    return pd.DataFrame(columns, index=index), skipped


def _region_table(src: Source, ds: h5py.Dataset) -> h5py.Group | None:
    ref = ds.attrs.get("table")
    try:
        return src.h5[ref] if ref is not None else None
    except (KeyError, ValueError, TypeError):
        return None


def _find(
    src: Source,
    reader: str,
    what: str,
    types: Sequence[str],
    name: str | None,
    prefer: Sequence[str] = (),
) -> str:
    """Path of the one object of ``types`` (matching ``name`` if given); else a clear error.
    A ``prefer``red path of the right type is taken without walking the file."""
    for path in prefer if name is None else ():
        group = src.h5.get(path)
        if isinstance(group, h5py.Group) and _attr(group, "neurodata_type", "") in types:
            return path
    found = src.typed(*types)
    if name is not None:
        hits = [p for p in found if p == name or p.lstrip("/") == name.lstrip("/")]
        hits = hits or [p for p in found if p.rsplit("/", 1)[-1] == name]
        if len(hits) == 1:
            return hits[0]
        looked = f"{what} named {name!r}"
    else:
        hits = [p for p in prefer if p in found] or found
        if len(hits) == 1:
            return hits[0]
        looked = what
    kinds = "/".join(types)
    if len(hits) > 1:
        raise NWBContentError(
            f"{reader}: {len(hits)} candidates for {looked} in {src.name}: {_listing(hits)}; "
            "pass name= to choose one"
        )
    have = f"{kinds} objects: {_listing(found)}" if found else _inventory(src)
    raise NWBContentError(
        f"{reader}: no {looked} in {src.name}; looked at every {kinds} group; {have}"
    )


# Units and electrodes -------------------------------------------------------------------
def _units_table(src: Source, name: str | None) -> tuple[str, int]:
    """Path and row count of the Units table with spike times; else NWBContentError."""
    path = _find(src, "units", "Units table", ["Units"], name, prefer=["/units"])
    table = src.h5[path]
    if "spike_times" not in table or "spike_times_index" not in table:
        have = [c for c in _colnames(table) if c in table] or sorted(table)
        raise NWBContentError(
            f"units: no 'spike_times' column (with 'spike_times_index') in {path} of "
            f"{src.name}; columns: {_listing(have)}"
        )
    return path, len(table["id"]) if "id" in table else len(table["spike_times_index"])


def unit_count(f: Any, *, name: str | None = None) -> int:
    """The number of units with spike times, reading no spike times (a cheap check before
    :func:`units`); raises :class:`NWBContentError` exactly where :func:`units` would."""
    with source(f) as src:
        return _units_table(src, name)[1]


def units(f: Any, *, extra: Sequence[str] = (), name: str | None = None) -> pd.DataFrame:
    """The units table: one row per unit, spike times in seconds, in bulk.

    Parameters
    ----------
    f
        Any NWB source (see the module docstring).
    extra
        Further per-unit columns to read that are not read by default: ragged or
        multi-dimensional ones such as ``spike_amplitudes`` or ``waveform_mean``
        (they can be as large as the spike times themselves).
    name
        Path or name of the Units table when the file has several (default ``/units``).

    Returns
    -------
    pandas.DataFrame
        Indexed by unit ``id``. ``spike_times``: one float64 array (seconds) per unit, read as
        one data read and one index read. Every scalar column the file has (e.g. Allen's
        ``quality``, ``isi_violations``, ``amplitude_cutoff``, ``presence_ratio``, ``snr``,
        ``firing_rate``, ``peak_channel_id``). If the units name their electrodes (a
        ``peak_channel_id`` of electrode ids, or an ``electrodes`` region, returned as
        electrode ids), ``electrode_location`` and ``electrode_depth_um`` (see
        :func:`electrodes`) are joined. ``depth_um``: each unit's depth in micrometres from
        its channel's electrode depth where the electrodes have positions, else from the
        units table's own ``depth`` column (DANDI:000006: electrodes all at 0, units with
        ``depth`` "(um)") in the unit its description states, else NaN (see
        :data:`UNIT_DEPTH_COLUMNS`). ``attrs``: ``path``, ``electrode_join`` (the column
        joined on, or None), ``depth_source`` (where ``depth_um`` came from, e.g.
        ``"electrodes.probe_vertical_position"`` or ``"units.depth"``, or None),
        ``depth_note`` (why, and how the unit was decided), ``not_read`` (columns left
        out; ask with ``extra``),
        ``skipped`` (columns of object references, ``{name: reason}``), ``sorted_units``
        (ids of units whose spike times the file stores out of time order, sorted here -
        stably, no spike lost) and ``nan_spikes_dropped`` (``{id: count}`` of NaN spike
        times dropped). Either repair issues one :class:`SpikeTimesRepairedWarning` per read.
    """
    with source(f) as src:
        path, n = _units_table(src, name)
        table = src.h5[path]
        columns = _colnames(table)
        unknown = [c for c in extra if c not in table]
        if unknown:
            raise NWBContentError(
                f"units: no column {', '.join(map(repr, unknown))} in {path} of {src.name}; "
                f"columns: {_listing(columns)}"
            )
        wanted = [c for c in columns if c in table and c not in ("spike_times", "electrodes")]
        plain = [c for c in wanted if _is_scalar_column(table, c, n) or c in extra]
        df, skipped = _table(src, table, plain)
        # The ragged spike times: the whole data and the whole index, once each.
        spikes = table["spike_times"][()].astype(np.float64, copy=False)
        spikes, ends, unsorted, dropped = _tidy_spikes(spikes, table["spike_times_index"][()])
        df.insert(0, "spike_times", _split(spikes, ends, f"{path}/spike_times_index of {src.name}"))
        sorted_units = df.index[unsorted].tolist()
        nan_dropped = {uid: int(k) for uid, k in zip(df.index, dropped, strict=True) if k}
        if sorted_units or nan_dropped:
            done = []
            if sorted_units:
                done.append(f"sorted the spike times of {len(sorted_units)} of {n} units")
            if nan_dropped:
                done.append(
                    f"dropped {sum(nan_dropped.values())} NaN spike times from "
                    f"{len(nan_dropped)} units"
                )
            warnings.warn(
                f"units: {' and '.join(done)} in {path} of {src.name} (the file stores them "
                "out of time order or as NaN; df.attrs['sorted_units'] and "
                "['nan_spikes_dropped'] list them)",
                SpikeTimesRepairedWarning,
                stacklevel=2,
            )
        if "electrode_group" in table and "electrode_group" in skipped:
            df["electrode_group"] = _ref_names(src, table["electrode_group"])
            del skipped["electrode_group"]
        join = _electrode_ids(src, table, df)
        if join is not None:
            ids = df["electrode_id" if join == "electrodes" else join]
            _join_electrodes(src, df, ids)
        df["depth_um"], depth_source, depth_note = _unit_depth(src, table, df, join)
        df.attrs.update(
            path=path,
            electrode_join=join,
            depth_source=depth_source,
            depth_note=depth_note,
            skipped=skipped,
            not_read=[c for c in wanted if c not in plain],
            sorted_units=sorted_units,
            nan_spikes_dropped=nan_dropped,
        )
        return df


#: Units-table columns that may hold each unit's own depth, in the order they are preferred.
UNIT_DEPTH_COLUMNS = ("depth",)


def _unit_depth(
    src: Source, table: h5py.Group, df: pd.DataFrame, join: str | None
) -> tuple[np.ndarray, str | None, str]:
    """``(depth_um, source or None, note)`` of each unit: its channel's electrode depth when
    the electrodes have positions, else a depth column of the units table in its stated
    unit (never guessed)."""
    notes = []
    if "electrode_depth_um" in df and np.isfinite(df["electrode_depth_um"]).any():
        chans = electrodes(src)
        column = chans.attrs["depth_column"]
        note = f"the depth of each unit's channel ({join}); {chans.attrs['depth_note']}"
        return df["electrode_depth_um"].to_numpy(np.float64), f"electrodes.{column}", note
    if join is None:
        notes.append("the units name no electrode")
    else:
        why = electrodes(src).attrs["depth_note"] if ELECTRODES in src.h5 else "no table"
        notes.append(f"electrodes have no usable depth ({why})")
    for name in UNIT_DEPTH_COLUMNS:
        if name not in df or df[name].dtype.kind not in "fiu":
            continue
        values = df[name].to_numpy(np.float64)
        if not np.isfinite(values).any():
            notes.append(f"units.{name} is all NaN")
            continue
        stated = " ".join(
            _text(_attr(table[name], k, "")) for k in ("unit", "units", "description")
        )
        scale = _micrometres_per(stated)
        if scale is None:
            notes.append(f"units.{name} states no unit ({stated.strip()!r}): depths unknown")
            break
        unit = "um" if scale == 1 else f"{scale:g} um units"
        notes.append(f"units.{name} in {unit} per its description ({stated.strip()!r})")
        return values * scale, f"units.{name}", "; ".join(notes)
    return np.full(len(df), np.nan), None, "; ".join([*notes, "depths unknown"])


def unit_depths(f: Any, *, name: str | None = None) -> pd.Series:
    """Each unit's depth in micrometres, as :func:`units` gives it in ``depth_um``, reading
    no spike times (for a cheap look, as ``databook inspect`` takes). ``attrs``:
    ``depth_source`` and ``depth_note``, as in :func:`units`."""
    with source(f) as src:
        path, n = _units_table(src, name)
        table = src.h5[path]
        wanted = ["peak_channel_id", *UNIT_DEPTH_COLUMNS]
        plain = [c for c in wanted if c in table and _is_scalar_column(table, c, n)]
        df, _ = _table(src, table, plain)
        join = _electrode_ids(src, table, df)
        if join is not None:
            _join_electrodes(src, df, df["electrode_id" if join == "electrodes" else join])
        depth, where, note = _unit_depth(src, table, df, join)
        out = pd.Series(depth, index=df.index, name="depth_um")
        out.attrs.update(depth_source=where, depth_note=note)
        return out


def _ref_names(src: Source, ds: h5py.Dataset) -> np.ndarray:
    """Names of the objects an object-reference column points to."""
    out = np.empty(ds.shape[0], dtype=object)
    for i, ref in enumerate(ds[()]):
        try:
            out[i] = src.h5[ref].name.rsplit("/", 1)[-1] if ref else ""
        except (KeyError, ValueError):
            out[i] = ""
    return out


def _electrode_ids(src: Source, table: h5py.Group, df: pd.DataFrame) -> str | None:
    """Add electrode ids from an ``electrodes`` region; say which column names electrodes."""
    if "peak_channel_id" in df:
        return "peak_channel_id"
    if "electrodes" not in table:
        return None
    target = _region_table(src, table["electrodes"])
    rows = _column(table, "electrodes", src)
    if target is None or "id" not in target or rows is None:
        return None
    table_ids = target["id"][()]
    if rows.dtype == object:  # ragged: several electrodes per unit
        df["electrodes"] = [table_ids[r.astype(np.int64)] for r in rows]
        if not all(len(r) == 1 for r in rows):
            return None
        rows = np.concatenate(list(rows)) if len(rows) else np.zeros(0, np.int64)
    else:
        df["electrodes"] = table_ids[rows.astype(np.int64)]
    df["electrode_id"] = table_ids[rows.astype(np.int64)]
    return "electrodes"


def _join_electrodes(src: Source, df: pd.DataFrame, ids: pd.Series) -> None:
    if ELECTRODES not in src.h5:
        return
    chans = electrodes(src)
    where = chans.index.get_indexer(ids.to_numpy())
    found = where >= 0
    depth = np.full(len(df), np.nan)
    depth[found] = chans["depth_um"].to_numpy()[where[found]]
    df["electrode_depth_um"] = depth
    if "location" in chans:
        location = np.full(len(df), None, dtype=object)
        location[found] = chans["location"].to_numpy()[where[found]]
        df["electrode_location"] = location


def electrodes(f: Any, *, depth_unit: str | None = None) -> pd.DataFrame:
    """The electrodes (channels) table, with depth in micrometres and location.

    Parameters
    ----------
    depth_unit
        Unit (``"um"``, ``"mm"``, ``"m"``) of the depth column, for files that state none
        (NWB before 2.5 defined no unit for ``x``/``y``/``z``/``rel_y``); it overrides a
        stated unit.

    Returns
    -------
    pandas.DataFrame
        Indexed by electrode ``id``; every column the file has (object references replaced by
        ``group_name``), plus ``depth_um``: the channel's depth coordinate in micrometres from
        the first usable column of ``probe_vertical_position`` (Allen: distance from the probe
        tip, so larger is shallower), ``rel_y``, ``y`` (NWB: +y is inferior), ``z``, in the
        unit its description, else the NWB schema cached in the file, else ``depth_unit``
        states; all NaN when no column has non-zero values of a known unit (never guessed).
        ``location`` comes from the table, else from each channel's electrode group.
        ``attrs``: ``depth_column`` (the column used, or None), ``depth_note`` (why a column
        was skipped, how its unit was decided), ``location_source``.
    """
    with source(f) as src:
        if ELECTRODES not in src.h5:
            parent = "/general/extracellular_ephys"
            has = sorted(src.h5[parent]) if parent in src.h5 else []
            where = f"{parent} has: {_listing(has)}" if parent in src.h5 else _inventory(src)
            raise NWBContentError(
                f"electrodes: no electrodes table at {ELECTRODES} of {src.name}; {where}"
            )
        table = src.h5[ELECTRODES]
        df, skipped = _table(src, table)
        if "group" in skipped and "group_name" not in df and "group" in table:
            df["group_name"] = _ref_names(src, table["group"])
        depth, column, note = _depth(src, table, df, depth_unit)
        df["depth_um"] = depth
        location_source = "location" if "location" in df else None
        if location_source is None and "group_name" in df:
            groups = src.h5["/general/extracellular_ephys"]
            df["location"] = [
                _attr(groups[g], "location") if g in groups else None for g in df["group_name"]
            ]
            location_source = "electrode group"
        df.attrs.update(depth_column=column, depth_note=note, location_source=location_source)
        return df


_UNIT_PATTERNS = (
    (re.compile(r"\b(um|µm|μm|microns?|micromet(er|re)s?)\b", re.IGNORECASE), 1.0),
    (re.compile(r"\b(mm|millimet(er|re)s?)\b", re.IGNORECASE), 1e3),
    (re.compile(r"(^|\()\s*(m|met(er|re)s?)\s*($|\))", re.IGNORECASE), 1e6),
)


def _micrometres_per(text: str) -> float | None:
    """Micrometres per unit of the length unit named in ``text``, or None if none is named."""
    return next((scale for pattern, scale in _UNIT_PATTERNS if pattern.search(text)), None)


def _schema_doc(src: Source, column: str) -> tuple[str, str]:
    """``(doc, version)`` of an electrodes column in the NWB core schema cached in the file."""
    import json

    core = src.h5.get("/specifications/core")
    if not isinstance(core, h5py.Group) or not len(core):
        return "", "?"
    version = max(core, key=lambda v: [int(x) if x.isdigit() else 0 for x in v.split(".")])
    docs: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("name") == column and node.get("neurodata_type_inc") == "VectorData":
                docs.append(str(node.get("doc", "")))
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    for part in ("nwb.ecephys", "nwb.file"):
        if isinstance(core[version].get(part), h5py.Dataset):
            with contextlib.suppress(ValueError):
                visit(json.loads(_text(core[version][part][()])))
    return " ".join(docs), version


def _depth(
    src: Source, table: h5py.Group, df: pd.DataFrame, depth_unit: str | None
) -> tuple[np.ndarray, str | None, str]:
    """``(depth_um, column used or None, note)`` from the first usable depth column.

    A column's unit is what its attributes or description state, else what the NWB schema
    cached in the file says of that column, else ``depth_unit``; with none of them the
    depths are unknown (NaN) rather than guessed.
    """
    notes = []
    for name in DEPTH_COLUMNS:
        if name not in df or df[name].dtype.kind not in "fiu":
            continue
        values = df[name].to_numpy(dtype=np.float64)
        finite = values[np.isfinite(values)]
        if finite.size == 0 or not np.any(finite != 0):
            notes.append(f"{name} is all {'zero' if finite.size else 'NaN'}")
            continue
        ds = table[name]
        stated = " ".join(_text(_attr(ds, k, "")) for k in ("unit", "units", "description"))
        scale, source_ = _micrometres_per(stated), "its description"
        if scale is None:
            doc, version = _schema_doc(src, name)
            scale, source_ = _micrometres_per(doc), f"the NWB {version} schema"
        if depth_unit is not None:
            given = _micrometres_per(depth_unit)
            if given is None:
                raise ValueError(f"depth_unit must be 'um', 'mm' or 'm', got {depth_unit!r}")
            scale, source_ = given, "depth_unit"
        if scale is None:
            notes.append(
                f"{name} has values (span {np.ptp(finite):g}) but neither the file nor its NWB "
                f"{_schema_doc(src, name)[1]} schema states their unit: depths unknown; pass "
                "depth_unit= if you know it"
            )
            return np.full(len(df), np.nan), None, "; ".join(notes)
        notes.append(f"{name} in {'um' if scale == 1 else f'{scale:g} um units'} per {source_}")
        if name == "z":
            notes.append("z is medio-lateral in the NWB schema; used as no other column has depth")
        return values * scale, name, "; ".join(notes)
    notes.append("depths unknown")
    return np.full(len(df), np.nan), None, "; ".join(notes)


# Intervals and stimulus tables ----------------------------------------------------------
def _interval_tables(src: Source) -> list[str]:
    groups = src.groups()
    return [
        p
        for p, t in groups.items()
        if t == "TimeIntervals"
        or (p.startswith("/intervals/") and p.count("/") == 2 and "id" in src.h5[p])
    ]


def _table_names(paths: Sequence[str]) -> list[str]:
    """Each table's name, or its path where two tables share a name."""
    names = [p.rsplit("/", 1)[-1] for p in paths]
    return [n if names.count(n) == 1 else p for n, p in zip(names, paths, strict=True)]


def intervals(f: Any) -> pd.DataFrame:
    """Every intervals table of the file: trials, epochs, stimulus presentations, task tables.

    Returns
    -------
    pandas.DataFrame
        One row per table, indexed by ``name`` (the path where names repeat), with ``path``,
        ``neurodata_type``, ``n_rows``, ``columns`` (tuple of column names) and
        ``description``. Row counts come from the tables' shapes; no column is read.
    """
    with source(f) as src:
        paths = _interval_tables(src)
        rows = []
        for path in paths:
            table = src.h5[path]
            n_rows = len(table["id"]) if "id" in table else 0
            rows.append(
                {
                    "path": path,
                    "neurodata_type": src.groups()[path] or "DynamicTable",
                    "n_rows": n_rows,
                    "columns": tuple(_colnames(table)),
                    "description": _text(_attr(table, "description", "")),
                }
            )
        index = pd.Index(_table_names(paths), name="name")
        columns = ["path", "neurodata_type", "n_rows", "columns", "description"]
        return pd.DataFrame(rows, index=index, columns=columns)


def stimulus_table(f: Any, name: str) -> pd.DataFrame:
    """One intervals table (Allen ``*_presentations``, ``trials``, ``epochs``, task tables such
    as ``encoding_table``) as a DataFrame.

    Parameters
    ----------
    name
        The table's name as :func:`intervals` lists it, or its path.

    Returns
    -------
    pandas.DataFrame
        Indexed by row ``id``; ``start_time`` and ``stop_time`` in seconds and every other
        column as stored (ragged ones such as ``tags`` as one array per row). Columns of
        object references (Allen's ``timeseries``) are left out and named in
        ``attrs["skipped"]``; ``attrs["path"]`` is the table's path.
    """
    with source(f) as src:
        # The usual place first: finding a table elsewhere walks the whole file, which
        # over a stream costs more bytes than most tables hold.
        direct = src.h5.get(name if name.startswith("/") else f"/intervals/{name}")
        if isinstance(direct, h5py.Group) and "id" in direct:
            df, skipped = _table(src, direct)
            df.attrs.update(path=direct.name, skipped=skipped)
            return df
        paths = _interval_tables(src)
        names = _table_names(paths)
        hits = [p for p, n in zip(paths, names, strict=True) if name in (n, p, p.lstrip("/"))]
        if not hits:
            have = [
                f"{n} ({len(src.h5[p]['id']) if 'id' in src.h5[p] else 0} rows)"
                for n, p in zip(names, paths, strict=True)
            ]
            raise NWBContentError(
                f"stimulus_table: no table {name!r} in {src.name}; looked in /intervals and "
                f"every TimeIntervals table; tables: {_listing(have)}"
            )
        df, skipped = _table(src, src.h5[hits[0]])
        df.attrs.update(path=hits[0], skipped=skipped)
        return df


# Time series ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Signal:
    """A time series read whole: ``values`` sampled at ``t``.

    ``t``: (n_samples,) seconds. ``values``: (n_samples,) or (n_samples, n_columns), in
    ``unit`` (the file's ``conversion`` and ``offset`` applied). ``ids``: the column ids
    (ROI ids for fluorescence), or None. ``path``: where it was read.
    """

    t: np.ndarray
    values: np.ndarray
    unit: str
    path: str
    ids: np.ndarray | None = None
    description: str = ""


def _times(group: h5py.Group, n: int) -> np.ndarray:
    if "timestamps" in group:
        return group["timestamps"][()].astype(np.float64, copy=False)
    start = group["starting_time"]
    rate = float(start.attrs["rate"])
    return float(start[()]) + np.arange(n, dtype=np.float64) / rate


def _scaled(ds: h5py.Dataset, values: np.ndarray) -> np.ndarray:
    conversion = float(ds.attrs.get("conversion", 1.0))
    offset = float(ds.attrs.get("offset", 0.0))
    if conversion == 1.0 and offset == 0.0:
        return values
    return values.astype(np.float64) * conversion + offset


def _signal(src: Source, path: str, data: str = "data", ids: np.ndarray | None = None) -> Signal:
    group = src.h5[path]
    ds = group[data]
    values = _scaled(ds, ds[()])
    return Signal(
        t=_times(group, ds.shape[0]),
        values=values,
        unit=_text(_attr(ds, "unit", "")),
        path=f"{path}/{data}" if data != "data" else path,
        ids=ids,
        description=_text(_attr(group, "description", "")),
    )


def _series_named(src: Source, patterns: Sequence[str]) -> list[str]:
    """Groups holding a time series (``data`` or ``area`` with time) whose path matches."""
    out = []
    for pattern in patterns:
        rx = re.compile(pattern, re.IGNORECASE)
        for path in src.groups():
            group = src.h5[path]
            timed = "timestamps" in group or "starting_time" in group
            if timed and rx.search(path) and path not in out:
                out.append(path)
    return out


def running_speed(f: Any) -> Signal:
    """Running (wheel) speed in the unit the file states (Allen: cm/s), with times in seconds.

    Looks for a time series named ``running_speed``, or ``speed`` in a ``running`` module
    (Allen Visual Coding / Visual Behavior layouts).
    """
    with source(f) as src:
        hits = _series_named(src, [r"/running_speed$", r"running.*/speed$", r"/speed$"])
        if not hits:
            raise NWBContentError(
                f"running_speed: no running speed series in {src.name}; looked for time series "
                f"named running_speed or running/speed; {_inventory(src)}"
            )
        return _signal(src, hits[0])


def pupil(f: Any) -> Signal:
    """Pupil size over time (area if the file has it, else size/diameter/radius), in the unit
    the file states, with times in seconds.

    Reads ``pupil_area`` (Allen), the ``area`` of a pupil ellipse series
    (ndx-ellipse-eye-tracking), or ``pupil_size`` / ``pupil_diameter`` / ``pupil_radius``.
    """
    with source(f) as src:
        groups = src.groups()
        for path in groups:
            group = src.h5[path]
            if (
                "pupil" in path.lower()
                and "area" in group
                and isinstance(group["area"], h5py.Dataset)
                and ("timestamps" in group or "starting_time" in group)
            ):
                return _signal(src, path, data="area")
        hits = _series_named(src, [r"pupil_?area$", r"pupil.*(size|diameter|radius)$"])
        if not hits:
            raise NWBContentError(
                f"pupil: no pupil series in {src.name}; looked for pupil_area, a pupil ellipse's "
                f"area, pupil_size/diameter/radius; {_inventory(src)}"
            )
        return _signal(src, hits[0])


# Optogenetics ---------------------------------------------------------------------------
def optogenetic_pulses(f: Any) -> pd.DataFrame:
    """Light pulses: ``start_time`` and ``stop_time`` (seconds), one row per pulse.

    Read from an optogenetic stimulation intervals table (Allen: ``optogenetic_stimulation``
    in ``/processing/optotagging``, with its ``level``, ``condition``, ``duration`` ...), or
    else from an ``OptogeneticSeries``, whose runs of positive power are the pulses
    (``power`` then holds each pulse's peak in the series' unit, watts).
    """
    with source(f) as src:
        tables = [p for p in _interval_tables(src) if re.search(r"opto", p, re.IGNORECASE)]
        if tables:
            df, skipped = _table(src, src.h5[tables[0]])
            df.attrs.update(path=tables[0], skipped=skipped)
            return df
        series = src.typed("OptogeneticSeries")
        if series:
            return _pulses_of_series(src, series[0])
        sites = src.typed("OptogeneticStimulusSite")
        columns = []
        for path in _interval_tables(src):
            cols = [
                c
                for c in _colnames(src.h5[path])
                if re.search(r"photo|opto|laser|light", c, re.IGNORECASE)
            ]
            columns += [f"{path}: {', '.join(cols)}"] if cols else []
        raise NWBContentError(
            f"optogenetic_pulses: no optogenetic stimulation table or OptogeneticSeries in "
            f"{src.name}; looked at intervals tables named *opto* and every OptogeneticSeries; "
            f"stimulus sites: {_listing(sites)}; stimulation columns: {_listing(columns)}"
        )


def _pulses_of_series(src: Source, path: str) -> pd.DataFrame:
    signal = _signal(src, path)
    power = signal.values.reshape(len(signal.t), -1).max(axis=1)
    on = np.concatenate([[False], power > 0, [False]])
    starts = np.flatnonzero(~on[:-1] & on[1:])
    stops = np.flatnonzero(on[:-1] & ~on[1:])  # first sample back at zero (or the end)
    t = signal.t
    end = t[-1] + (t[-1] - t[-2] if len(t) > 1 else 0.0)
    stop_times = np.where(stops < len(t), t[np.minimum(stops, len(t) - 1)], end)
    peak = np.maximum.reduceat(power, starts) if len(starts) else np.zeros(0)
    df = pd.DataFrame(
        {"start_time": t[starts], "stop_time": stop_times, "power": peak},
        index=pd.RangeIndex(len(starts), name="id"),
    )
    df.attrs.update(path=path, unit=signal.unit)
    return df


# LFP ------------------------------------------------------------------------------------
class LFP:
    """A lazy view of an LFP ``ElectricalSeries``: nothing is read until asked.

    ``data`` is the HDF5 dataset (n_samples, n_channels) as stored; :meth:`volts` and
    :meth:`times` read rows. ``electrode_ids``, ``depths_um`` (NaN where unknown) and
    ``depth_column`` describe the channels (see :func:`electrodes`). Close it (or use it as a
    context manager) when it opened the file itself.
    """

    def __init__(self, src: Source, path: str, closer: contextlib.ExitStack | None = None):
        group = src.h5[path]
        self.path = path
        self.source_name = src.name
        self.data: h5py.Dataset = group["data"]
        self.conversion = float(self.data.attrs.get("conversion", 1.0))
        self.offset = float(self.data.attrs.get("offset", 0.0))
        self.channel_conversion: np.ndarray | None = (
            group["channel_conversion"][()].astype(np.float64)
            if "channel_conversion" in group
            else None
        )
        self.timestamps: h5py.Dataset | None = group.get("timestamps")
        start = group.get("starting_time")
        self.rate: float | None = float(start.attrs["rate"]) if start is not None else None
        self.starting_time = float(start[()]) if start is not None else None
        rows = group["electrodes"][()].astype(np.int64) if "electrodes" in group else None
        self.electrode_ids = np.arange(self.data.shape[1]) if rows is None else rows
        self.depths_um = np.full(self.data.shape[1], np.nan)
        self.depth_column: str | None = None
        if rows is not None and ELECTRODES in src.h5:
            chans = electrodes(src)
            self.electrode_ids = chans.index.to_numpy()[rows]
            self.depths_um = chans["depth_um"].to_numpy()[rows]
            self.depth_column = chans.attrs["depth_column"]
        self._closer = closer

    @property
    def shape(self) -> tuple[int, int]:
        return self.data.shape

    def __len__(self) -> int:
        return self.data.shape[0]

    def __repr__(self) -> str:
        clock = f"{self.rate:g} Hz" if self.rate else "timestamps"
        return (
            f"<LFP {self.path} of {self.source_name}: {self.shape[0]} samples x "
            f"{self.shape[1]} channels, {clock}>"
        )

    def times(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Sample times (seconds) of rows ``start:stop``."""
        start, stop, _ = slice(start, stop).indices(len(self))
        if self.timestamps is not None:
            return self.timestamps[start:stop].astype(np.float64)
        return self.starting_time + np.arange(start, stop, dtype=np.float64) / self.rate

    def volts(self, start: int = 0, stop: int | None = None, channels: Any = None) -> np.ndarray:
        """Rows ``start:stop`` (of ``channels``, default all) in volts, float64,
        (n_samples, n_channels): ``data * conversion * channel_conversion + offset``."""
        start, stop, _ = slice(start, stop).indices(len(self))
        cols = slice(None) if channels is None else channels
        raw = self.data[start:stop] if channels is None else self.data[start:stop][:, cols]
        out = raw.astype(np.float64) * self.conversion
        if self.channel_conversion is not None:
            out *= self.channel_conversion[cols]
        return out + self.offset

    def index(self, t: float) -> int:
        """The first sample at or after time ``t`` (seconds)."""
        if self.timestamps is None:
            return int(np.clip(np.ceil((t - self.starting_time) * self.rate - 1e-9), 0, len(self)))
        ts = self.timestamps  # bisect reads single values, never the whole clock
        return bisect.bisect_left(range(len(self)), t, key=lambda i: float(ts[i]))

    def window(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """``(times, volts)`` of the samples in ``[t0, t1)`` seconds."""
        i, j = self.index(t0), self.index(t1)
        return self.times(i, j), self.volts(i, j)

    def event_windows(
        self,
        events: Sequence[float] | np.ndarray,
        window: tuple[float, float],
        rate: float | None = None,
        channels: Any = None,
    ) -> np.ndarray:
        """Volts around each event, reading only the samples the windows need.

        Each window ``[event + window[0], event + window[1])`` is read as one row slice
        (with one sample of margin each side; overlapping windows are read once), then
        all are cut and interpolated in one call of :func:`databook.align.event_windows`
        onto ``event + window[0] + k / rate`` (``rate`` defaults to the LFP's). Memory:
        the windows' samples, never the whole series.

        Returns
        -------
        (n_events, n_window_samples, n_channels) float64 array, volts; NaN where a
        window runs off the recording.
        """
        from databook import align

        events = np.asarray(events, dtype=np.float64)
        rate = self.rate if rate is None else rate
        if rate is None:
            raise ValueError("event_windows: this LFP has timestamps, not a rate; pass rate=")
        if events.ndim != 1 or events.size == 0:
            raise ValueError(f"events must be a non-empty 1-D array of times, got {events!r}")
        order = np.sort(events)
        starts = np.array([self.index(t + window[0]) for t in order]) - 1
        stops = np.array([self.index(t + window[1]) for t in order]) + 1
        starts, stops = np.clip(starts, 0, len(self)), np.clip(stops, 0, len(self))
        # Merge overlapping or touching row ranges so the pieces' clocks stay increasing.
        merged: list[list[int]] = []
        for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            elif b > a:
                merged.append([a, b])
        n_channels = (
            self.data.shape[1] if channels is None else len(np.arange(self.data.shape[1])[channels])
        )
        if not merged:  # every window off the recording
            return np.full((events.size, align.window_times(window, rate).size, n_channels), np.nan)
        times = np.concatenate([self.times(a, b) for a, b in merged])
        volts = np.concatenate([self.volts(a, b, channels) for a, b in merged])
        return align.event_windows(times, volts, events, window, rate)

    def close(self) -> None:
        if self._closer is not None:
            self._closer.close()

    def __enter__(self) -> LFP:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: Containers whose ElectricalSeries are LFPs (NWB core: ``LFP``; ``FilteredEphys``).
LFP_CONTAINERS = ("LFP", "FilteredEphys")


def _lfp_candidates(src: Source) -> dict[str, str]:
    """``{series path: how it is reached}`` of the ElectricalSeries that are LFPs: those
    inside an LFP container (held there, or linked from it - writers that store the series
    once in ``/acquisition`` link it from ``processing/ecephys/LFP``), and those named
    ``*lfp*``. The key is where the series' data are; the value names the container path
    that holds or links it (or the series path itself)."""
    groups = src.groups()
    found: dict[str, str] = {}
    for container in src.typed(*LFP_CONTAINERS):
        group = src.h5[container]
        for key in group:
            link = group.get(key, getlink=True)
            if isinstance(link, h5py.HardLink):
                target = f"{container}/{key}"
            elif isinstance(link, h5py.SoftLink):
                target = link.path
            else:  # an external link: the data are in another file
                continue
            if groups.get(target) == "ElectricalSeries":
                found.setdefault(target, f"{container}/{key}")
    for path in src.typed("ElectricalSeries"):
        if "lfp" in path.rsplit("/", 1)[-1].lower():
            found.setdefault(path, path)
    return found


def lfp_candidates(f: Any) -> dict[str, str]:
    """``{series path: container path reaching it}`` of every ElectricalSeries :func:`lfp`
    would take for an LFP (held in or linked from an ``LFP``/``FilteredEphys`` container,
    or named ``*lfp*``), in file order; reads no data."""
    with source(f) as src:
        return _lfp_candidates(src)


def _names_of(path: str, via: str) -> set[str]:
    """The names a series is chosen by: its path (with or without the leading slash), its
    own name, ``container/name`` and those of the container path that reaches it."""
    names = set()
    for p in {path, via}:
        parts = p.strip("/").split("/")
        names |= {p, p.lstrip("/"), parts[-1], "/".join(parts[-2:])}
    return names


def lfp(f: Any, name: str | None = None) -> LFP:
    """A lazy view of the LFP: an ``ElectricalSeries`` held in (or linked from) an ``LFP``
    or ``FilteredEphys`` container, or named ``*lfp*``.

    Parameters
    ----------
    f
        Any NWB source (see the module docstring); also a pynwb object read from a file
        that holds the LFP: an ``LFP`` or ``FilteredEphys`` container, a processing module
        or the ``ElectricalSeries`` itself (its file is read, it stays open).
    name
        Chooses among several: a series' name, ``container/series``
        (``LFP_probeA/ElectricalSeries``), a container holding one series (``LFP_probeA``)
        or a path. Several candidates, or none, raise :class:`NWBContentError` listing
        them (or every ElectricalSeries of the file).

    Use ``with nwb.lfp(path) as view:`` so the file closes; with an open source the view
    borrows it.
    """
    stack = contextlib.ExitStack()
    try:
        within = _pynwb_path(f)
        src = stack.enter_context(source(f))
        series = src.typed("ElectricalSeries")
        candidates = _lfp_candidates(src)
        if within is not None and src.groups().get(within) == "ElectricalSeries":
            candidates = {within: within}
        elif within is not None:
            candidates = {
                p: via for p, via in candidates.items() if via.startswith(within.rstrip("/") + "/")
            }
        if name is not None:
            reach = {**{p: p for p in series}, **candidates}
            by_container = {}
            for p, via in reach.items():
                by_container.setdefault(via.rsplit("/", 1)[0], []).append(p)
            picked = [p for p, via in reach.items() if name in _names_of(p, via)]
            held = [  # the series of a container chosen by its name (one: that one)
                p
                for c, ps in by_container.items()
                if name in (c, c.lstrip("/"), c.rsplit("/", 1)[-1])
                for p in ps
            ]
            candidates = {p: reach[p] for p in dict.fromkeys(picked or held)}
        lfps = list(candidates)
        if len(lfps) != 1:
            looked = (
                f"ElectricalSeries named {name!r}"
                if name
                else "LFP ElectricalSeries (inside an LFP container, or named *lfp*)"
            )
            if within is not None:
                looked += f" in {within}"
            if lfps:
                shown = [candidates[p] for p in lfps]
                raise NWBContentError(
                    f"lfp: {len(lfps)} candidates for {looked} in {src.name}: "
                    f"{_listing(shown)}; pass name= to choose one (e.g. "
                    f"{'/'.join(shown[0].strip('/').split('/')[-2:])!r})"
                )
            have = f"ElectricalSeries: {_listing(series)}" if series else _inventory(src)
            raise NWBContentError(f"lfp: no {looked} in {src.name}; {have}")
        return LFP(src, lfps[0], stack)
    except BaseException:
        stack.close()
        raise


# Optical physiology ---------------------------------------------------------------------
@dataclass(frozen=True)
class ROIs:
    """ROI footprints of one ``PlaneSegmentation``.

    ``masks``: scipy.sparse CSR (n_rois, fov_shape[0] * fov_shape[1]) of weights, rows in
    table order, pixels flattened in C order over ``fov_shape``, the axes of the file's
    ``image_mask`` (NWB: ``[x, y]``; ``pixel_mask`` x and y map to the same two axes).
    ``ids``: ROI ids. ``table``: the other per-ROI scalar columns. ``mask_column``:
    ``image_mask`` or ``pixel_mask``.
    """

    masks: scipy.sparse.csr_matrix
    fov_shape: tuple[int, int]
    ids: np.ndarray
    table: pd.DataFrame
    path: str
    mask_column: str

    def dense(self) -> np.ndarray:
        """The masks as an (n_rois, *fov_shape) float array."""
        return self.masks.toarray().reshape(-1, *self.fov_shape)


def rois(f: Any, name: str | None = None) -> ROIs:
    """ROI footprints as a sparse matrix from ``image_mask`` (read in blocks) or
    ``pixel_mask`` (read in bulk), with the field-of-view shape."""
    import scipy.sparse

    with source(f) as src:
        path = _find(src, "rois", "PlaneSegmentation", ["PlaneSegmentation"], name)
        table = src.h5[path]
        n = len(table["id"])
        if "image_mask" in table:
            ds = table["image_mask"]
            fov = tuple(int(s) for s in ds.shape[1:3])
            step = max(1, (64 << 20) // max(1, fov[0] * fov[1] * ds.dtype.itemsize))
            blocks = [
                scipy.sparse.csr_matrix(ds[i : i + step].reshape(-1, fov[0] * fov[1]))
                for i in range(0, n, step)
            ]
            masks = scipy.sparse.vstack(blocks, format="csr") if blocks else None
            column = "image_mask"
        elif "pixel_mask" in table and "pixel_mask_index" in table:
            pixels = table["pixel_mask"][()]
            ends = table["pixel_mask_index"][()].astype(np.int64)
            _split(np.arange(len(pixels)), ends, f"{path}/pixel_mask_index of {src.name}")
            x, y = pixels["x"].astype(np.int64), pixels["y"].astype(np.int64)
            weight = pixels["weight"] if "weight" in pixels.dtype.names else np.ones(len(x))
            fov = _fov_shape(src, path) or (int(x.max()) + 1, int(y.max()) + 1)
            row = np.repeat(np.arange(n), np.diff(np.concatenate([[0], ends])))
            masks = scipy.sparse.csr_matrix(
                (weight.astype(np.float32), (row, x * fov[1] + y)), shape=(n, fov[0] * fov[1])
            )
            column = "pixel_mask"
        else:
            raise NWBContentError(
                f"rois: no 'image_mask' or 'pixel_mask' column in {path} of {src.name}; "
                f"columns: {_listing(_colnames(table))}"
            )
        if masks is None:
            masks = scipy.sparse.csr_matrix((0, fov[0] * fov[1]), dtype=np.float32)
        plain = [c for c in _colnames(table) if c in table and _is_scalar_column(table, c, n)]
        df, _ = _table(src, table, plain)
        return ROIs(masks, fov, df.index.to_numpy(), df, path, column)


def _fov_shape(src: Source, segmentation: str) -> tuple[int, int] | None:
    """Field of view of a pixel-mask segmentation: its imaging series or a reference image."""
    for path in src.typed("TwoPhotonSeries"):
        group = src.h5[path]
        if "dimension" in group:
            dims = group["dimension"][()]
            if len(dims) >= 2:
                return int(dims[0]), int(dims[1])
        if "data" in group and group["data"].ndim == 3:
            return tuple(int(s) for s in group["data"].shape[1:3])
    for image in _image_datasets(src, under=segmentation.rsplit("/", 2)[0]).values():
        if image.ndim == 2:
            return tuple(int(s) for s in image.shape)
    return None


def _traces(f: Any, reader: str, container: str, name: str | None) -> Signal:
    with source(f) as src:
        groups = src.groups()
        series = [
            p
            for p in src.typed("RoiResponseSeries")
            if groups.get(p.rsplit("/", 1)[0]) == container
        ]
        if name is not None:
            series = [p for p in series if name in (p, p.lstrip("/"), p.rsplit("/", 1)[-1])]
        if len(series) != 1:
            looked = f"RoiResponseSeries{f' named {name!r}' if name else ''} in a {container}"
            if series:
                raise NWBContentError(
                    f"{reader}: {len(series)} candidates for {looked} in {src.name}: "
                    f"{_listing(series)}; pass name= to choose one"
                )
            others = src.typed("RoiResponseSeries")
            have = f"RoiResponseSeries: {_listing(others)}" if others else _inventory(src)
            raise NWBContentError(f"{reader}: no {looked} in {src.name}; {have}")
        group = src.h5[series[0]]
        ids = None
        if "rois" in group:
            rows = group["rois"][()].astype(np.int64)
            target = _region_table(src, group["rois"])
            ids = target["id"][()][rows] if target is not None and "id" in target else rows
        return _signal(src, series[0], ids=ids)


def dff(f: Any, name: str | None = None) -> Signal:
    """dF/F traces: ``values`` (n_frames, n_rois), ``t`` in seconds, ``ids`` the ROI ids."""
    return _traces(f, "dff", "DfOverF", name)


def fluorescence(f: Any, name: str | None = None) -> Signal:
    """Fluorescence traces: ``values`` (n_frames, n_rois) in the file's unit, ``t`` in
    seconds, ``ids`` the ROI ids."""
    return _traces(f, "fluorescence", "Fluorescence", name)


def _image_datasets(src: Source, under: str = "/") -> dict[str, h5py.Dataset]:
    out: dict[str, h5py.Dataset] = {}
    for path in src.typed("Images"):
        if not path.startswith(under.rstrip("/") + "/"):
            continue
        for key, obj in src.h5[path].items():
            if isinstance(obj, h5py.Dataset) and obj.ndim in (2, 3):
                out[f"{path}/{key}"] = obj
    return out


def images(f: Any) -> dict[str, np.ndarray]:
    """The summary images (mean, max projections, reference images) of ``Images`` groups,
    ``{name: array}`` keyed by name (by path where names repeat), as stored (NWB: [x, y])."""
    with source(f) as src:
        found = _image_datasets(src)
        if not found:
            raise NWBContentError(
                f"images: no Images group with images in {src.name}; {_inventory(src)}"
            )
        names = _table_names(list(found))
        return {n: ds[()] for n, ds in zip(names, found.values(), strict=True)}
