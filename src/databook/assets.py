"""The asset registry: ``assets.lock`` entries, the data cache, and verification.

Every data file the article reads has one entry in ``assets.lock`` (TOML): ``key``,
``dandiset``, ``version`` (never ``draft``), ``path``, ``asset_id``, ``size`` (bytes),
``sha256`` and ``url``. Demo assets (``dandiset = "demo"``) are generated locally by
:mod:`databook.demo` and pinned the same way.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tomllib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "Asset",
    "AssetError",
    "AssetHashError",
    "AssetNetworkError",
    "AssetNotFoundError",
    "AssetNotPinnedError",
    "LockError",
    "cache_dir",
    "fetch",
    "load_lock",
    "local_file",
    "open_nwb",
    "pin",
    "resolve",
    "sha256_file",
    "stream_h5",
    "write_lock",
]


class LockError(ValueError):
    """``assets.lock`` is malformed, or an entry is unusable (names file, entry, field)."""


@dataclass(frozen=True)
class Asset:
    key: str
    dandiset: str
    version: str = ""  # empty while not yet resolved online
    path: str = ""
    asset_id: str = ""
    size: int = 0
    sha256: str = ""
    url: str = ""

    @property
    def is_demo(self) -> bool:
        return self.dandiset == "demo"

    @property
    def is_resolved(self) -> bool:
        """Pinned to a published version with a checksum and a URL (usable in dandi mode)."""
        return bool(self.version and self.sha256 and self.url and self.size)

    @property
    def spec(self) -> str:
        return f"{self.dandiset}/{self.version or '?'}/{self.path}"

    def record(self) -> dict[str, object]:
        """Fields written to figure provenance records."""
        return {k: v for k, v in asdict(self).items() if k in ("dandiset", "version", "path")}


_REQUIRED = ("key", "dandiset", "path")


def load_lock(path: str | os.PathLike[str]) -> dict[str, Asset]:
    """Read ``assets.lock`` into ``{key: Asset}``, refusing draft versions and duplicates."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise LockError(f"{path}: cannot read: {err}") from err
    assets: dict[str, Asset] = {}
    for number, entry in enumerate(data.get("asset", []), start=1):
        where = f"{path}: [[asset]] #{number}"
        missing = [f for f in _REQUIRED if not entry.get(f)]
        if missing:
            raise LockError(f"{where} lacks {', '.join(missing)}")
        unknown = set(entry) - set(Asset.__dataclass_fields__)
        if unknown:
            raise LockError(f"{where} ({entry['key']}): unknown field(s) {sorted(unknown)}")
        if str(entry.get("version", "")).lower() == "draft":
            raise LockError(
                f"{where} ({entry['key']}): version 'draft' can change under you; pin a "
                "published version (databook pin DANDISET/VERSION/PATH)"
            )
        if entry["key"] in assets:
            raise LockError(f"{where}: duplicate key {entry['key']!r}")
        assets[entry["key"]] = Asset(**entry)
    return assets


def cache_dir() -> Path:
    """Data cache: ``$DATABOOK_CACHE`` if set, else the user cache folder for databook."""
    env = os.environ.get("DATABOOK_CACHE")
    if env:
        return Path(env).expanduser()
    import pooch

    return Path(pooch.os_cache("databook"))


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


LOCK_HEADER = """\
# assets.lock: every data asset the article reads, pinned to a published dandiset version
# and a sha256. Written by `databook pin` (DANDI assets) and `databook demo --pin` (the
# embedded demo dandiset); read by `databook fetch`, the demo check and the figure cache.
# One [[asset]] table per file: key, dandiset, version (never "draft"), path, asset_id,
# size (bytes), sha256, url.
version = 1
"""


def write_lock(path: str | os.PathLike[str], assets: dict[str, Asset]) -> None:
    """Write ``assets`` to ``path`` sorted by key, atomically, with the standard header."""
    import tomli_w

    from databook._atomic import atomic_path

    body = "".join("\n" + tomli_w.dumps({"asset": [asdict(assets[key])]}) for key in sorted(assets))
    with atomic_path(path) as tmp:
        tmp.write_text(LOCK_HEADER + body, encoding="utf-8")


# Errors ---------------------------------------------------------------------------------
class AssetError(RuntimeError):
    """An asset could not be pinned, fetched or opened; the message names it and the fix."""


class AssetNotPinnedError(AssetError):
    """The lock entry has no published version, sha256 or URL yet."""


class AssetHashError(AssetError):
    """Downloaded bytes differ from the sha256 in ``assets.lock``."""


class AssetNetworkError(AssetError):
    """The server could not be reached (or answered with an error) in time."""


class AssetNotFoundError(AssetError):
    """The DANDI server does not know the dandiset, the version or the path."""


#: Seconds to wait for a DANDI API or download server before reporting it unreachable.
CONNECT_TIMEOUT_S = 3.0
DEFAULT_API_URL = "https://api.dandiarchive.org/api"


def api_url(url: str | None = None) -> str:
    """DANDI API to use: ``url``, else ``$DANDI_API_URL``, else the public archive."""
    return (url or os.environ.get("DANDI_API_URL") or DEFAULT_API_URL).rstrip("/")


# Pinning --------------------------------------------------------------------------------
def _preflight(url: str, what: str) -> None:
    """Fail within seconds if the server is unreachable (dandi's client retries ~1 min)."""
    import requests

    try:
        requests.get(f"{url}/info/", timeout=CONNECT_TIMEOUT_S).raise_for_status()
    except requests.RequestException as err:
        raise AssetNetworkError(
            f"cannot reach the DANDI API at {url} to pin {what}: {err}; check the network "
            "or point --api-url / DANDI_API_URL at a reachable server"
        ) from err


def pin(spec: str, *, key: str | None = None, url: str | None = None) -> Asset:
    """Resolve ``DANDISET/VERSION/PATH`` through the DANDI API into a lock entry.

    Reads the sha256 from the asset's ``digest`` (``dandi:sha2-256``) and prefers the
    storage (S3) URL of its ``contentUrl`` list over the API download URL.
    """
    from dandi.consts import DandiInstance
    from dandi.dandiapi import DandiAPIClient
    from dandi.exceptions import HTTP404Error, NotFoundError

    try:
        dandiset, version, path = spec.split("/", 2)
    except ValueError:
        raise AssetError(
            f"{spec!r} is not DANDISET/VERSION/PATH (e.g. 000021/0.210913.1639/sub-1/x.nwb)"
        ) from None
    if version.lower() == "draft":
        raise AssetError(
            f"{spec}: refusing to pin version 'draft', which changes without notice; "
            "pin a published version"
        )
    base = api_url(url)
    _preflight(base, spec)
    instance = DandiInstance(name="databook-pin", gui=None, api=base)
    with DandiAPIClient(dandi_instance=instance) as client:
        try:
            client.get(f"/dandisets/{dandiset}/")
        except HTTP404Error:
            raise AssetNotFoundError(f"{spec}: unknown dandiset {dandiset} at {base}") from None
        try:
            remote = client.get_dandiset(dandiset, version, lazy=False)
        except NotFoundError:
            raise AssetNotFoundError(
                f"{spec}: dandiset {dandiset} has no version {version} at {base}"
            ) from None
        try:
            asset = remote.get_asset_by_path(path)
        except NotFoundError:
            raise AssetNotFoundError(
                f"{spec}: no asset at path {path!r} in {dandiset}/{version} at {base}"
            ) from None
        metadata = asset.get_raw_metadata()
    sha256 = (metadata.get("digest") or {}).get("dandi:sha2-256")
    if not sha256:
        raise AssetError(f"{spec}: the server's metadata has no dandi:sha2-256 digest")
    urls = metadata.get("contentUrl") or [asset.download_url]
    storage = [u for u in urls if "/api/" not in u]
    return Asset(
        key=key or Path(path).stem,
        dandiset=dandiset,
        version=version,
        path=path,
        asset_id=asset.identifier,
        size=int(asset.size),
        sha256=sha256,
        url=(storage or urls)[0],
    )


# Fetching -------------------------------------------------------------------------------
def local_path(asset: Asset, cache: Path | None = None) -> Path:
    """Where ``fetch`` keeps an asset: ``<cache>/<dandiset>/<version>/<path>``."""
    return (cache or cache_dir()) / asset.dandiset / asset.version / asset.path


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _marker_matches(path: Path, asset: Asset) -> bool:
    """True if ``path`` was verified against ``asset.sha256`` and has not changed since."""
    import json

    try:
        record = json.loads(_marker(path).read_text(encoding="utf-8"))
        stat = path.stat()
    except (OSError, ValueError):
        return False
    return record == {"sha256": asset.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _write_marker(path: Path, asset: Asset) -> None:
    import json

    from databook._atomic import atomic_path

    stat = path.stat()
    record = {"sha256": asset.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    with atomic_path(_marker(path)) as tmp:
        tmp.write_text(json.dumps(record), encoding="utf-8")


def require_pinned(asset: Asset) -> None:
    if not asset.is_resolved:
        raise AssetNotPinnedError(
            f"{asset.key} ({asset.spec}) is not pinned to a published version with a "
            "sha256 yet; on a machine with network run "
            f"`databook pin {asset.dandiset}/VERSION/{asset.path} --key {asset.key}`. "
            "Unverified data is never downloaded."
        )


def fetch(asset: Asset, *, cache: Path | None = None, progressbar: bool = True) -> Path:
    """Download ``asset`` into the cache once, verified against its sha256; return its path.

    A verified copy is reused without re-hashing (a ``.verified`` marker records size and
    mtime); a cached copy that fails verification is reported and downloaded again; a
    download whose sha256 differs is deleted and raises :class:`AssetHashError`, leaving
    any previous file in place. Concurrent fetches of one asset download it once.
    """
    import fcntl
    import logging

    require_pinned(asset)
    path = local_path(asset, cache)
    if _marker_matches(path, asset):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be downloading it now
        if _marker_matches(path, asset):
            return path
        if path.exists():
            actual = sha256_file(path)
            if actual == asset.sha256:
                _write_marker(path, asset)
                return path
            logging.getLogger("databook").warning(
                "cached copy of %s at %s is corrupt or truncated (sha256 %s, expected %s, "
                "%d of %d bytes); downloading it again",
                asset.key, path, actual, asset.sha256, path.stat().st_size, asset.size,
            )  # fmt: skip
            path.unlink()  # worthless, and pooch would otherwise hash it once more
        _download(asset, path, progressbar=progressbar)
        _write_marker(path, asset)
    return path


def _download(asset: Asset, path: Path, *, progressbar: bool) -> None:
    import pooch
    import requests

    downloader = pooch.HTTPDownloader(progressbar=progressbar, timeout=CONNECT_TIMEOUT_S)
    try:
        pooch.retrieve(
            url=asset.url,
            known_hash=f"sha256:{asset.sha256}",
            fname=path.name,
            path=path.parent,
            downloader=downloader,
        )
    except ValueError as err:
        if "hash" not in str(err).lower():
            raise
        actual = re.search(r"but got ([0-9a-f]{64})", str(err))
        raise AssetHashError(
            f"{asset.key} ({asset.spec}) from {asset.url}: sha256 "
            f"{actual.group(1) if actual else '?'} differs from the pinned {asset.sha256}; "
            "the download was deleted and the cache left as it was"
        ) from err
    except requests.RequestException as err:
        raise AssetNetworkError(
            f"cannot download {asset.key} ({asset.spec}) from {asset.url}: {err}"
        ) from err


# Opening --------------------------------------------------------------------------------
def resolve(key: str, lock_path: str | os.PathLike[str] | None = None) -> Asset:
    """The ``assets.lock`` entry for ``key`` (lock of the current project by default)."""
    if lock_path is None:
        from databook.paths import find_root

        lock_path = find_root() / "assets.lock"
    lock = load_lock(lock_path)
    if key not in lock:
        raise AssetError(f"no asset {key!r} in {lock_path}; known: {', '.join(sorted(lock))}")
    return lock[key]


@contextlib.contextmanager
def open_nwb(
    asset: Asset | str,
    mode: str = "download",
    *,
    cache: Path | None = None,
    lock_path: str | os.PathLike[str] | None = None,
) -> Iterator[object]:
    """Yield the ``pynwb.NWBFile`` of an asset (an :class:`Asset` or a lock key); close
    everything on exit.

    ``mode="download"`` opens the verified local copy (fetching it, or generating demo
    data, if needed); ``mode="stream"`` reads over HTTP range requests with remfile,
    never downloading the whole file (its sha256 cannot be checked without reading every
    byte).
    """
    from pynwb import NWBHDF5IO

    if isinstance(asset, str):
        asset = resolve(asset, lock_path)
    if mode == "download":
        with NWBHDF5IO(str(local_file(asset, cache)), "r") as io:
            yield io.read()
        return
    if mode != "stream":
        raise ValueError(f"mode must be 'download' or 'stream', got {mode!r}")
    require_pinned(asset)
    with stream_h5(asset.url, asset.key) as h5, NWBHDF5IO(file=h5, mode="r") as io:
        yield io.read()


def local_file(asset: Asset, cache: Path | None = None) -> Path:
    """The verified local copy of ``asset``: generated (demo) or fetched (DANDI) if needed."""
    if asset.is_demo:
        from databook.demo.generate import ensure

        return ensure({asset.key: asset}, cache or cache_dir())[asset.key]
    return fetch(asset, cache=cache)


@contextlib.contextmanager
def stream_h5(url: str, what: str | None = None) -> Iterator[object]:
    """Yield the ``h5py.File`` at ``url`` read by HTTP range requests (remfile), never
    downloading the whole file; close both on exit. ``what`` names it in errors."""
    import h5py
    import remfile

    try:
        remote = remfile.File(url)
    except Exception as err:  # remfile raises bare Exceptions for HTTP errors
        raise AssetNetworkError(f"cannot stream {what or url} from {url}: {err}") from err
    try:
        with h5py.File(remote, "r") as h5:
            yield h5
    finally:
        remote.close()
