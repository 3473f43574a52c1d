"""The asset registry: ``assets.lock`` entries, the data cache, and verification.

Every data file the article reads has one entry in ``assets.lock`` (TOML): ``key``,
``dandiset``, ``version`` (never ``draft``), ``path``, ``asset_id``, ``size`` (bytes),
``sha256`` and ``url``. Demo assets (``dandiset = "demo"``) are generated locally by
:mod:`databook.demo` and pinned the same way.
"""

from __future__ import annotations

import contextlib
import os
import re
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from databook._hashing import sha256_file
from databook.errors import DatabookError

__all__ = [
    "Asset",
    "AssetError",
    "AssetHashError",
    "AssetNetworkError",
    "AssetNotFoundError",
    "AssetNotPinnedError",
    "DemoDataError",
    "Fetched",
    "LockError",
    "available_keys",
    "cache_dir",
    "demo_lock_entries",
    "download_url",
    "ensure_demo",
    "fetch",
    "fetch_all",
    "is_fetched",
    "key_for",
    "load_lock",
    "local_copies",
    "local_file",
    "open_nwb",
    "pin",
    "pin_from_metadata",
    "pin_url",
    "preflight",
    "published_entry",
    "read_metadata",
    "require_real_data",
    "resolve",
    "sha256_file",
    "stream_h5",
    "write_lock",
]


class LockError(DatabookError, ValueError):
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
    def is_dandi(self) -> bool:
        """An asset of a DANDI dandiset (six digits), as opposed to the demo or a file
        pinned by URL at a repository commit."""
        return bool(_DANDISET.match(self.dandiset))

    @property
    def is_resolved(self) -> bool:
        """Pinned to a published version with a checksum and a URL (usable in dandi mode)."""
        return bool(self.version and self.sha256 and self.url and self.size)

    @property
    def spec(self) -> str:
        return f"{self.dandiset}/{self.version or '?'}/{self.path}"

    def record(self) -> dict[str, object]:
        """Fields written to figure provenance records: dandiset (or repository), version
        (or commit) and path; for real assets also the asset id and the URL."""
        fields = ("dandiset", "version", "path") if self.is_demo else _RECORDED
        return {k: v for k, v in asdict(self).items() if k in fields and (v or k != "asset_id")}


LOCK_FORMAT = 1
#: Folder of streamed chunks shared by the processes of one ``databook run`` (unset: none).
STREAM_CACHE_VARIABLE = "DATABOOK_STREAM_CACHE"
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_DANDISET = re.compile(r"^\d{6}$")
#: A published DANDI version: 0.YYMMDD.HHMM.
_PUBLISHED = re.compile(r"^0\.\d{6}\.\d{4}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_RECORDED = ("dandiset", "version", "path", "asset_id", "url")
_REQUIRED = ("key", "dandiset", "path")


def _check_entry(entry: object, where: str) -> Asset:
    """One ``[[asset]]`` table as an :class:`Asset`, or a :class:`LockError` naming the field."""
    if not isinstance(entry, dict):
        raise LockError(f"{where}: must be a table, got {entry!r}")
    if isinstance(entry.get("key"), str) and entry["key"]:
        where = f"{where} ({entry['key']})"
    missing = [f for f in _REQUIRED if not entry.get(f)]
    if missing:
        raise LockError(f"{where} lacks {', '.join(missing)}")
    unknown = sorted(set(entry) - set(Asset.__dataclass_fields__))
    if unknown:
        raise LockError(
            f"{where}: unknown field(s) {unknown}; known: {list(Asset.__dataclass_fields__)}"
        )
    for name, value in entry.items():
        if name == "size":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise LockError(f"{where}: size must be a whole number of bytes, got {value!r}")
        elif not isinstance(value, str):
            raise LockError(f"{where}: {name} must be a string, got {value!r}")
    if not _KEY.match(entry["key"]):
        raise LockError(f"{where}: key {entry['key']!r} may hold only letters, digits, . _ -")
    if entry.get("version", "").lower() == "draft":
        raise LockError(
            f"{where}: version 'draft' can change under you; pin a published version "
            "(databook pin DANDISET/VERSION/PATH)"
        )
    sha256 = entry.get("sha256", "")
    if sha256 and not _SHA256.match(sha256):
        raise LockError(f"{where}: sha256 must be 64 lowercase hex digits, got {sha256!r}")
    url = entry.get("url", "")
    if url and not url.startswith(("https://", "http://")):
        raise LockError(f"{where}: url must start with https:// or http://, got {url!r}")
    return Asset(**entry)


def load_lock(path: str | os.PathLike[str], *, allow_empty: bool = False) -> dict[str, Asset]:
    """Read ``assets.lock`` into ``{key: Asset}``.

    ``allow_empty`` accepts a lock with no entries (``databook pin`` starts one).

    Raises :class:`LockError` naming the file, the entry and the field for a missing or
    unreadable file, bad TOML, an unknown format ``version``, no entries, a missing or
    unknown field, a value of the wrong type (``size`` in whole bytes, ``sha256`` as 64
    hex digits, ``url`` as http(s)), a ``draft`` version or a duplicate key.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LockError(
            f"{path}: no such file; every databook project has an assets.lock at its root "
            "(run from inside the project, or pass --root)"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise LockError(f"{path}: cannot read: {err}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise LockError(f"{path}: not valid TOML: {err}") from None
    unknown = sorted(set(data) - {"version", "asset"})
    if unknown:
        raise LockError(f"{path}: unknown top-level key(s) {unknown}; expected version, [[asset]]")
    if data.get("version", LOCK_FORMAT) != LOCK_FORMAT:
        raise LockError(
            f"{path}: lock format version {data['version']!r} is not the one this databook "
            f"reads ({LOCK_FORMAT})"
        )
    entries = data.get("asset", [])
    if not isinstance(entries, list) or not (entries or allow_empty):
        raise LockError(f"{path}: no [[asset]] entries (an empty lock pins nothing)")
    assets: dict[str, Asset] = {}
    for number, entry in enumerate(entries, start=1):
        asset = _check_entry(entry, f"{path}: [[asset]] #{number}")
        if asset.key in assets:
            raise LockError(f"{path}: [[asset]] #{number}: duplicate key {asset.key!r}")
        assets[asset.key] = asset
    return assets


def cache_dir() -> Path:
    """Data cache: ``$DATABOOK_CACHE`` if set, else the user cache folder for databook."""
    env = os.environ.get("DATABOOK_CACHE")
    if env:
        return Path(env).expanduser()
    return Path(_import_pooch().os_cache("databook"))


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
class AssetError(DatabookError, RuntimeError):
    """An asset could not be pinned, fetched or opened; the message names it and the fix."""


class AssetNotPinnedError(AssetError):
    """The lock entry has no published version, sha256 or URL yet."""


class AssetHashError(AssetError):
    """Downloaded bytes differ from the sha256 in ``assets.lock``."""


class AssetNetworkError(AssetError):
    """The server could not be reached (or answered with an error) in time."""


class AssetNotFoundError(AssetError):
    """The DANDI server does not know the dandiset, the version or the path, or a
    download server answered that it does not hold the asset (HTTP 404)."""


#: Seconds to wait for a DANDI API or download server before reporting it unreachable.
CONNECT_TIMEOUT_S = 3.0
DEFAULT_API_URL = "https://api.dandiarchive.org/api"


def api_url(url: str | None = None) -> str:
    """DANDI API to use: ``url``, else ``$DANDI_API_URL``, else the public archive."""
    return (url or os.environ.get("DANDI_API_URL") or DEFAULT_API_URL).rstrip("/")


# Pinning --------------------------------------------------------------------------------
def preflight(url: str, doing: str) -> None:
    """Fail within seconds, in one message, if the DANDI API at ``url`` is unreachable:
    dandi's client retries for about a minute and logs a traceback per attempt.
    ``doing`` ends the message's "cannot reach ... to" ("pin 000006/...")."""
    import requests

    try:
        requests.get(f"{url}/info/", timeout=CONNECT_TIMEOUT_S).raise_for_status()
    except requests.RequestException as err:
        raise AssetNetworkError(
            f"cannot reach the DANDI API at {url} to {doing}: {err}; check the network "
            "or point --api-url / DANDI_API_URL at a reachable server"
        ) from err


def _split_spec(spec: str) -> tuple[str, str, str]:
    try:
        dandiset, version, path = spec.split("/", 2)
    except ValueError:
        raise AssetError(
            f"{spec!r} is not DANDISET/VERSION/PATH (e.g. 000021/0.251116.2246/sub-1/x.nwb)"
        ) from None
    return dandiset, version, path


def _refuse_unpublished(version: str, where: str) -> None:
    if version.lower() == "draft":
        raise AssetError(
            f"{where}: refusing to pin version 'draft', which changes without notice; "
            "pin a published version"
        )
    if not _PUBLISHED.match(version):
        raise AssetError(
            f"{where}: {version!r} is not a published DANDI version (0.YYMMDD.HHMM, e.g. "
            "0.220126.1855)"
        )


def key_for(path: str, prefix: str = "") -> str:
    """A lock key from an asset path: ``sub-anm369962/sub-anm369962_ses-20170309.nwb``
    gives ``anm369962-20170309`` (``prefix`` in front), the ``sub-``/``ses-`` labels and
    the BIDS-style suffix (``_ecephys+image``) dropped."""
    stem = Path(path).name.split(".", 1)[0]
    parts = [p.split("-", 1)[1] if p[:4] in ("sub-", "ses-") else p for p in stem.split("_")]
    parts = [p for p in parts if not re.fullmatch(r"[a-z]+(\+[a-z]+)*", p)] or parts
    return prefix + "-".join(parts)


def published_entry(
    *,
    where: str,
    key: str,
    dandiset: str,
    version: str,
    path: str,
    asset_id: str,
    size: int,
    sha256: str,
    urls: list[str],
) -> Asset:
    """The lock entry of one asset of a published dandiset version, validated.

    Every DANDI pin (through the API or from the archive's metadata) comes through here,
    so both are refused for the same reasons, with the same messages: ``draft`` or an
    unpublished version, no sha256, no size, no URL. The storage (S3) URL is preferred
    over the API download URL: streaming reads it directly, with no redirect per range.
    """
    _refuse_unpublished(version, where)
    if not _DANDISET.match(dandiset):
        raise AssetError(f"{where}: dandiset {dandiset!r} is not six digits (e.g. 000006)")
    if not (isinstance(sha256, str) and _SHA256.match(sha256)):
        raise AssetError(f"{where}: the metadata has no dandi:sha2-256 digest (got {sha256!r})")
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise AssetError(f"{where}: the metadata gives no size in bytes (got {size!r})")
    urls = [u for u in urls if isinstance(u, str) and u.startswith(("https://", "http://"))]
    if not urls:
        raise AssetError(f"{where}: the metadata gives no download URL")
    storage = [u for u in urls if "/api/" not in u]
    entry = {
        "key": key, "dandiset": dandiset, "version": version, "path": path,
        "asset_id": asset_id, "size": size, "sha256": sha256, "url": (storage or urls)[0],
    }  # fmt: skip
    return _check_entry(entry, where)


def pin(spec: str, *, key: str | None = None, url: str | None = None) -> Asset:
    """Resolve ``DANDISET/VERSION/PATH`` through the DANDI API into a lock entry.

    Reads the sha256 from the asset's ``digest`` (``dandi:sha2-256``) and prefers the
    storage (S3) URL of its ``contentUrl`` list over the API download URL.
    """
    from dandi.consts import DandiInstance
    from dandi.dandiapi import DandiAPIClient
    from dandi.exceptions import HTTP404Error, NotFoundError

    dandiset, version, path = _split_spec(spec)
    _refuse_unpublished(version, spec)
    base = api_url(url)
    preflight(base, f"pin {spec}")
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
    return published_entry(
        where=spec,
        key=key or key_for(path),
        dandiset=dandiset,
        version=version,
        path=path,
        asset_id=asset.identifier,
        size=int(asset.size),
        sha256=(metadata.get("digest") or {}).get("dandi:sha2-256", ""),
        urls=list(metadata.get("contentUrl") or [asset.download_url]),
    )


def read_metadata(metadata_file: str | os.PathLike[str]) -> dict[str, object]:
    """The archive's own listing of a dandiset version's assets, checked.

    The file is JSON with ``dandiset``, ``version`` and ``assets``: one object per asset
    with ``path``, ``asset_id``, ``size``, ``sha256`` and ``content_url`` (the archive's
    ``contentUrl`` list), as written from the DANDI Archive's DataLad mirror
    (``.dandi/assets.json`` of ``github.com/dandisets/<id>`` at the version's tag).
    """
    import json

    path = Path(metadata_file)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssetError(f"{path}: no such metadata file") from None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise AssetError(f"{path}: not a readable JSON metadata file: {err}") from None
    missing = (
        [k for k in ("dandiset", "version", "assets") if not data.get(k)]
        if isinstance(data, dict)
        else ["dandiset", "version", "assets"]
    )
    if missing:
        raise AssetError(
            f"{path}: not an archive asset listing (lacks {', '.join(missing)}); expected "
            "JSON with dandiset, version and assets[] (path, asset_id, size, sha256, "
            "content_url)"
        )
    return data


def pin_from_metadata(
    metadata_file: str | os.PathLike[str],
    paths: list[str] | None = None,
    *,
    key: str | None = None,
    key_prefix: str = "",
    version: str | None = None,
) -> list[Asset]:
    """Lock entries for assets listed in the archive's metadata file (no network).

    Parameters
    ----------
    metadata_file
        See :func:`read_metadata`.
    paths
        Asset paths to pin (default: every asset of the listing).
    key, key_prefix
        ``key`` names the single pinned asset; otherwise each key is
        ``key_prefix + key_for(path)``.
    version
        Only for a ``draft`` listing: the published version that carries the same asset
        (the same asset id and sha256; say so only when the archive states it). A
        published listing is pinned at its own version, and a different ``version`` is
        refused. ``databook fetch`` verifies every byte against the sha256 either way.

    The entries are validated exactly as :func:`pin` validates the API's answer.
    """
    data = read_metadata(metadata_file)
    listed = str(data["version"])
    if version is not None and listed.lower() != "draft" and version != listed:
        raise AssetError(
            f"{metadata_file}: lists version {listed}; --version {version} may only name the "
            "published version of a draft listing"
        )
    pinned_version = version or listed
    _refuse_unpublished(pinned_version, f"{metadata_file} ({data['dandiset']}/{listed})")
    by_path = {a.get("path"): a for a in data["assets"] if isinstance(a, dict)}
    wanted = list(by_path) if paths is None else paths
    unknown = [p for p in wanted if p not in by_path]
    if unknown:
        near = [p for p in by_path if any(Path(u).name in p for u in unknown)][:5]
        raise AssetNotFoundError(
            f"{metadata_file}: no asset at path {', '.join(map(repr, unknown))} in "
            f"{data['dandiset']}/{listed}" + (f"; similar: {', '.join(near)}" if near else "")
        )
    if key is not None and len(wanted) != 1:
        raise AssetError(f"--key names one asset; {len(wanted)} were asked for (use --key-prefix)")
    entries = []
    for path in wanted:
        record = by_path[path]
        entries.append(
            published_entry(
                where=f"{data['dandiset']}/{pinned_version}/{path} ({metadata_file})",
                key=key or key_for(path, key_prefix),
                dandiset=str(data["dandiset"]),
                version=pinned_version,
                path=path,
                asset_id=str(record.get("asset_id") or ""),
                size=record.get("size"),
                sha256=record.get("sha256") or "",
                urls=list(record.get("content_url") or []),
            )
        )
    return entries


_GITHUB_RAW = re.compile(
    r"^https://(?:raw\.githubusercontent\.com/(?P<o1>[\w.-]+)/(?P<r1>[\w.-]+)/(?P<c1>[^/]+)"
    r"|github\.com/(?P<o2>[\w.-]+)/(?P<r2>[\w.-]+)/raw/(?P<c2>[^/]+))/(?P<path>.+)$"
)


def pin_url(url: str, *, key: str, file: str | os.PathLike[str] | None = None) -> Asset:
    """A lock entry for a file in a GitHub repository at a fixed commit.

    ``url`` is ``https://raw.githubusercontent.com/OWNER/REPO/COMMIT/PATH`` (or
    ``https://github.com/OWNER/REPO/raw/COMMIT/PATH``); the commit must be a full 40-digit
    sha, never a branch or tag, which can move. The entry's ``dandiset`` is
    ``OWNER/REPO`` and its ``version`` the commit. The sha256 and size come from ``file``,
    a local copy of those bytes (no network), or else from downloading ``url``.
    """
    match = _GITHUB_RAW.match(url)
    if match is None:
        raise AssetError(
            f"{url}: pin a URL of a file at a commit of a GitHub repository "
            "(https://raw.githubusercontent.com/OWNER/REPO/COMMIT/PATH)"
        )
    owner = match.group("o1") or match.group("o2")
    repo = match.group("r1") or match.group("r2")
    commit = match.group("c1") or match.group("c2")
    if not _COMMIT.match(commit):
        raise AssetError(
            f"{url}: {commit!r} is a branch or tag, which can move; pin a full 40-digit commit sha"
        )
    if file is not None:
        local = Path(file)
        if not local.is_file():
            raise AssetError(f"{local}: no such file to hash for {url}")
        sha256, size = sha256_file(local), local.stat().st_size
    else:
        sha256, size = _hash_download(url, key)
    raw = f"https://raw.githubusercontent.com/{owner}/{repo}/{commit}/{match.group('path')}"
    entry = {
        "key": key, "dandiset": f"{owner}/{repo}", "version": commit,
        "path": match.group("path"), "asset_id": "", "size": size, "sha256": sha256, "url": raw,
    }  # fmt: skip
    return _check_entry(entry, url)


def _hash_download(url: str, what: str) -> tuple[str, int]:
    import hashlib

    import requests

    digest, size = hashlib.sha256(), 0
    try:
        with requests.get(url, stream=True, timeout=CONNECT_TIMEOUT_S) as response:
            response.raise_for_status()
            for piece in response.iter_content(1 << 20):
                digest.update(piece)
                size += len(piece)
    except requests.RequestException as err:
        raise AssetNetworkError(f"cannot download {url} to pin {what}: {err}") from err
    return digest.hexdigest(), size


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


def fetch(
    asset: Asset,
    *,
    cache: Path | None = None,
    progressbar: bool = True,
    sources: Sequence[str | os.PathLike[str]] = (),
    api_url: str | None = None,
) -> Path:
    """Put a verified copy of ``asset`` in the cache once; return its path.

    A verified copy is reused without re-hashing (a ``.verified`` marker records size and
    mtime); a cached copy that fails verification is reported and replaced. A missing
    copy is taken from the first folder of ``sources`` that holds the asset's bytes (see
    :func:`find_local`; copied, then hashed, and refused with :class:`AssetHashError` if
    the sha256 differs), else downloaded with pooch from the lock's URL, or from the DANDI
    API at ``api_url`` (a mirror, e.g. ``databook.localarchive``; default
    ``$DANDI_API_URL`` if set) by the asset id. Bytes whose sha256 differs never enter
    the cache: they are deleted and any previous file is left in place. Concurrent
    fetches of one asset fetch it once.
    """
    import fcntl
    import logging

    require_pinned(asset)
    path = local_path(asset, cache)
    if _marker_matches(path, asset):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be fetching it now
        if _marker_matches(path, asset):
            return path
        if path.exists():
            actual = sha256_file(path)
            if actual == asset.sha256:
                _write_marker(path, asset)
                return path
            logging.getLogger("databook").warning(
                "cached copy of %s at %s is corrupt or truncated (sha256 %s, expected %s, "
                "%d of %d bytes); fetching it again",
                asset.key, path, actual, asset.sha256, path.stat().st_size, asset.size,
            )  # fmt: skip
            path.unlink()  # worthless, and pooch would otherwise hash it once more
        refused = []
        for local in local_copies(asset, sources):
            try:
                _seed(asset, local, path)
                break
            except AssetHashError as err:  # a damaged copy: say so, try the next source
                logging.getLogger("databook").warning("%s", err)
                refused.append(str(err))
        else:
            try:
                _download(asset, path, progressbar=progressbar, url=download_url(asset, api_url))
            except AssetNetworkError as err:
                if not refused:
                    raise
                raise AssetHashError("; ".join([*refused, f"and {err}"])) from err
        _write_marker(path, asset)
    return path


def download_url(asset: Asset, api_url: str | None = None) -> str:
    """Where to download ``asset`` from: the lock's URL, or for a DANDI asset the download
    endpoint of the API at ``api_url`` (default ``$DANDI_API_URL``; unset: the lock's URL),
    which redirects to the bytes, so a mirror of the archive serves the same asset ids."""
    base = api_url or os.environ.get("DANDI_API_URL")
    if base and asset.is_dandi and asset.asset_id:
        return f"{base.rstrip('/')}/assets/{asset.asset_id}/download/"
    return asset.url


def local_copies(asset: Asset, sources: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Files in the folders ``sources`` that should hold ``asset``'s bytes, best first.

    Looked for, in each folder in turn, at ``PATH``, ``DANDISET/PATH`` and
    ``DANDISET/VERSION/PATH`` (a copy of the archive's layout or of this cache), else as
    the only file of the asset's name and size anywhere below the folder. The size must
    match; the sha256 is checked when the file is copied (:func:`fetch`).
    """
    found: list[Path] = []
    for source in sources:
        root = Path(source).expanduser()
        if not root.is_dir():
            raise AssetError(f"--from {root}: no such folder")
        exact = [
            c
            for c in (
                root / asset.path,
                root / asset.dandiset / asset.path,
                root / asset.dandiset / asset.version / asset.path,
            )
            if c.is_file() and c.stat().st_size == asset.size
        ]
        if not exact:
            same = [
                p for p in root.rglob(Path(asset.path).name)
                if p.is_file() and p.stat().st_size == asset.size
            ]  # fmt: skip
            exact = same if len(same) == 1 else []
        found += [c for c in exact if c not in found]
    return found


def _seed(asset: Asset, local: Path, path: Path) -> None:
    """Copy ``local`` to ``path`` if its sha256 is the pinned one; else raise, copying
    nothing (the copy is hashed in a temporary file next to ``path``, then renamed)."""
    import shutil

    from databook._atomic import atomic_path

    with atomic_path(path) as tmp:
        shutil.copyfile(local, tmp)
        actual = sha256_file(tmp)
        if actual != asset.sha256:
            raise AssetHashError(
                f"{asset.key} ({asset.spec}): the local copy {local} has sha256 {actual}, not "
                f"the pinned {asset.sha256}; it was not copied into the cache"
            )


@dataclass
class Fetched:
    """What :func:`fetch_all` did: ``paths`` (key -> verified file) and ``errors``
    (key -> message) of the assets that could not be fetched."""

    paths: dict[str, Path]
    errors: dict[str, str]


def fetch_all(
    wanted: Iterable[Asset],
    *,
    cache: Path | None = None,
    progressbar: bool = True,
    sources: Sequence[str | os.PathLike[str]] = (),
    api_url: str | None = None,
) -> Fetched:
    """:func:`fetch` each asset, going on past failures; once a host is unreachable,
    the remaining downloads from it are not tried (each would fail the same way)."""
    from urllib.parse import urlparse

    paths: dict[str, Path] = {}
    errors: dict[str, str] = {}
    down: dict[str, str] = {}
    for asset in wanted:
        host = urlparse(download_url(asset, api_url)).netloc
        if host in down and not is_fetched(asset, cache) and not local_copies(asset, sources):
            errors[asset.key] = f"{asset.key} ({asset.spec}): not fetched: {host} {down[host]}"
            continue
        try:
            paths[asset.key] = fetch(
                asset, cache=cache, progressbar=progressbar, sources=sources, api_url=api_url
            )
        except AssetNetworkError as err:
            down[host] = "was unreachable for an earlier asset"
            errors[asset.key] = str(err)
        except AssetError as err:
            errors[asset.key] = str(err)
    return Fetched(paths, errors)


def _import_pooch():
    """pooch, imported without tqdm's warning in notebooks that lack ipywidgets (pooch
    imports ``tqdm.auto``, which then falls back to a text progress bar anyway)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import pooch
    return pooch


def _download(asset: Asset, path: Path, *, progressbar: bool, url: str | None = None) -> None:
    import logging

    import requests

    pooch = _import_pooch()
    downloader = pooch.HTTPDownloader(progressbar=progressbar, timeout=CONNECT_TIMEOUT_S)
    logger = pooch.get_logger()
    level = logger.level
    if not progressbar:  # quiet: no "Downloading data from ..." line either
        logger.setLevel(logging.WARNING)
    try:
        pooch.retrieve(
            url=url or asset.url,
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
            f"{asset.key} ({asset.spec}) from {url or asset.url}: sha256 "
            f"{actual.group(1) if actual else '?'} differs from the pinned {asset.sha256}; "
            "the download was deleted and the cache left as it was"
        ) from err
    except requests.HTTPError as err:
        # The server answered: it is reachable, it just does not hold this asset.
        status = err.response.status_code if err.response is not None else "an error"
        raise AssetNotFoundError(
            f"cannot download {asset.key} ({asset.spec}) from {url or asset.url}: the "
            f"server answered HTTP {status}"
        ) from err
    except requests.RequestException as err:
        raise AssetNetworkError(
            f"cannot download {asset.key} ({asset.spec}) from {url or asset.url}: {err}"
        ) from err
    finally:
        logger.setLevel(level)


def is_fetched(asset: Asset, cache: Path | None = None) -> bool:
    """True if a verified copy of ``asset`` is in the cache (no hashing: the marker)."""
    return asset.is_resolved and _marker_matches(local_path(asset, cache), asset)


def available_keys(lock: dict[str, Asset], cache: Path | None = None) -> set[str]:
    """Keys of ``lock`` a build can read now: the demo's (generated on demand) and every
    real asset with a verified copy in the cache (no hashing: the markers)."""
    return {k for k, a in lock.items() if a.is_demo or is_fetched(a, cache)}


def require_real_data(
    lock: dict[str, Asset], keys: Iterable[str] | None = None, cache: Path | None = None
) -> None:
    """Fail unless the DANDI assets named by ``keys`` (default: all) are pinned and
    downloaded, verified.

    A build asked for real data must never fall back to the demo: this raises one
    :class:`AssetNotPinnedError` listing each unpinned or unfetched asset with the
    command that fixes it. Demo keys among ``keys`` are ignored.
    """
    wanted = set(lock) if keys is None else set(keys)
    real = [a for k, a in lock.items() if k in wanted and not a.is_demo]
    if keys is not None and not real:
        return
    if not real:
        raise AssetNotPinnedError(
            "assets.lock pins no DANDI asset, so there is no real data to build from; pin "
            "one with `databook pin DANDISET/VERSION/PATH --key KEY`"
        )
    problems = []
    for asset in sorted(real, key=lambda a: a.key):
        if not asset.is_resolved:
            problems.append(
                f"- {asset.key} ({asset.spec}): not pinned; run "
                f"`databook pin {asset.dandiset}/VERSION/{asset.path} --key {asset.key}`"
            )
        elif not is_fetched(asset, cache):
            problems.append(
                f"- {asset.key} ({asset.spec}): not downloaded; run `databook fetch {asset.key}`"
            )
    if problems:
        raise AssetNotPinnedError(
            f"--data dandi needs every real asset pinned and downloaded; {len(problems)} of "
            f"{len(real)} are not:\n" + "\n".join(problems)
        )


# The demo dandiset ----------------------------------------------------------------------
class DemoDataError(DatabookError, RuntimeError):
    """The demo files could not be made to match their pins in ``assets.lock``."""


def demo_dir(cache: Path, seed: int = 0) -> Path:
    """Where the demo dandiset for ``seed`` lives in the data cache."""
    from databook.demo import GENERATOR_VERSION

    return cache / "demo" / f"v{GENERATOR_VERSION}-seed{seed}"


def demo_lock_entries(paths: dict[str, Path]) -> dict[str, Asset]:
    """``assets.lock`` entries (key -> Asset) for freshly generated demo files."""
    from databook.demo import DEMO_FILES, GENERATOR_VERSION

    return {
        key: Asset(
            key=key,
            dandiset="demo",
            version=f"generator-{GENERATOR_VERSION}",
            path=DEMO_FILES[key][1],
            size=path.stat().st_size,
            sha256=sha256_file(path),
        )
        for key, path in paths.items()
    }


def ensure_demo(lock: dict[str, Asset], cache: Path, seed: int = 0) -> dict[str, Path]:
    """Paths of the pinned demo files in ``cache``, generating them if missing or altered.

    Raises :class:`DemoDataError` naming the asset, expected and actual sha256 when the
    generated files still differ from ``assets.lock`` (a different environment).
    """
    from databook.demo import DEMO_FILES, generate

    pinned = {k: a for k, a in lock.items() if a.is_demo}
    if not pinned:
        raise DemoDataError("assets.lock has no demo entries; run `databook demo --pin`")
    unknown = sorted(set(pinned) - set(DEMO_FILES))
    if unknown:
        raise DemoDataError(f"assets.lock has demo entries the generator does not make: {unknown}")
    folder = demo_dir(cache, seed)
    paths = {key: folder / DEMO_FILES[key][0] for key in pinned}

    def mismatches() -> list[str]:
        bad = []
        for key, asset in pinned.items():
            path = paths[key]
            if not path.is_file():
                bad.append(f"{key}: missing {path}")
            elif path.stat().st_size != asset.size or sha256_file(path) != asset.sha256:
                bad.append(f"{key}: sha256 {sha256_file(path)} (expected {asset.sha256}) at {path}")
        return bad

    if mismatches():
        generate(folder, seed)
        still = mismatches()
        if still:
            raise DemoDataError(
                "the regenerated demo files differ from assets.lock; this environment is "
                "not the one in environment.lock (run `make article`):\n" + "\n".join(still)
            )
    return paths


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
        return ensure_demo({asset.key: asset}, cache or cache_dir())[asset.key]
    return fetch(asset, cache=cache)


@contextlib.contextmanager
def stream_h5(url: str, what: str | None = None) -> Iterator[object]:
    """Yield the ``h5py.File`` at ``url`` read by HTTP range requests (remfile), never
    downloading the whole file; close both on exit. ``what`` names it in errors.

    With ``$DATABOOK_STREAM_CACHE`` set to a folder, fetched chunks are kept there and
    reused by every process of one ``databook run`` (the kernel and the figure scripts);
    the run creates and removes that folder.
    """
    import h5py
    import remfile

    chunks = os.environ.get(STREAM_CACHE_VARIABLE)
    try:
        remote = remfile.File(url, disk_cache=remfile.DiskCache(chunks) if chunks else None)
    except Exception as err:  # remfile raises bare Exceptions for HTTP errors
        named = url if what in (None, "", url) else f"{what} from {url}"
        raise AssetNetworkError(f"cannot stream {named}: {err}") from err
    try:
        with h5py.File(remote, "r") as h5:
            yield h5
    finally:
        remote.close()
