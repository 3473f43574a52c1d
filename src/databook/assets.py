"""The asset registry: ``assets.lock`` entries, the data cache, and verification.

Every data file the article reads has one entry in ``assets.lock`` (TOML): ``key``,
``dandiset``, ``version`` (never ``draft``), ``path``, ``asset_id``, ``size`` (bytes),
``sha256`` and ``url``. Demo assets (``dandiset = "demo"``) are generated locally by
:mod:`databook.demo` and pinned the same way.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["Asset", "LockError", "cache_dir", "load_lock", "sha256_file"]


class LockError(ValueError):
    """``assets.lock`` is malformed, or an entry is unusable (names file, entry, field)."""


@dataclass(frozen=True)
class Asset:
    key: str
    dandiset: str
    version: str
    path: str
    asset_id: str = ""
    size: int = 0
    sha256: str = ""
    url: str = ""

    @property
    def is_demo(self) -> bool:
        return self.dandiset == "demo"

    def record(self) -> dict[str, object]:
        """Fields written to figure provenance records."""
        return {k: v for k, v in asdict(self).items() if k in ("dandiset", "version", "path")}


_REQUIRED = ("key", "dandiset", "version", "path")


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
        if str(entry["version"]).lower() == "draft":
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
