"""A DANDI-compatible archive on 127.0.0.1 for tests and benchmarks.

Answers the API endpoints the real ``dandi`` client uses to resolve an asset (dandiset,
version info, assets by path, asset metadata with ``digest`` and ``contentUrl``, the
download redirect) and serves the files from ``/blobs/`` with single-range HTTP Range
support, counting requests and bytes so tests can assert what crossed the wire.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

STAMP = "2024-03-01T12:00:00.000000Z"


@dataclass
class Served:
    path: str
    file: Path
    asset_id: str
    sha256: str
    corrupt: bool = False  # serve altered bytes (sha256 mismatch) when set

    def payload(self) -> bytes:
        data = self.file.read_bytes()
        return data[:-1] + bytes([data[-1] ^ 0xFF]) if self.corrupt else data


@dataclass
class Archive:
    dandiset: str
    version: str
    assets: dict[str, Served] = field(default_factory=dict)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, range
    bytes_sent: int = 0
    bytes_ranged: int = 0  # of 206 (Range) responses only: what a reader asked for
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str, file: Path) -> Served:
        sha = hashlib.sha256(file.read_bytes()).hexdigest()
        served = Served(path, file, str(uuid.uuid5(uuid.NAMESPACE_URL, path)), sha)
        self.assets[served.asset_id] = served
        return served

    def blob_gets(self, asset: Served) -> list[str]:
        """Range headers of every GET of an asset's blob ('' for whole-file GETs)."""
        return [r for m, p, r in self.requests if m == "GET" and p == f"/blobs/{asset.asset_id}"]


def _version(archive: Archive) -> dict:
    return {
        "version": archive.version,
        "name": "databook test dandiset",
        "asset_count": len(archive.assets),
        "size": sum(a.file.stat().st_size for a in archive.assets.values()),
        "created": STAMP,
        "modified": STAMP,
        "status": "Published",
    }


def _handler(archive: Archive, base: list[str]):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _json(self, obj, status=200):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _not_found(self, what):
            self._json({"detail": f"Not found: {what}"}, 404)

        def do_HEAD(self):
            self._route(head=True)

        def do_GET(self):
            self._route(head=False)

        def _route(self, head: bool):
            url = urlparse(self.path)
            with archive.lock:
                archive.requests.append((self.command, url.path, self.headers.get("Range", "")))
            path = url.path
            if path in ("/server-info", "/api/info/"):
                return self._json({"schema_version": "0.6.10", "version": "test",
                                   "services": {"api": {"url": f"{base[0]}/api"}}})  # fmt: skip
            if m := re.fullmatch(r"/blobs/([\w-]+)", path):
                asset = archive.assets.get(m.group(1))
                return self._blob(asset, head) if asset else self._not_found(path)
            if m := re.fullmatch(r"/api/assets/([\w-]+)/download/", path):
                asset = archive.assets.get(m.group(1))
                if asset is None:
                    return self._not_found(path)
                self.send_response(302)
                self.send_header("Location", f"{base[0]}/blobs/{asset.asset_id}")
                self.send_header("Content-Length", "0")
                return self.end_headers()
            m = re.fullmatch(r"/api/dandisets/(\w+)/(?:versions/([\w.]+)/(.*))?", path)
            if not m or m.group(1) != archive.dandiset:
                return self._not_found(path)
            version, rest = m.group(2), m.group(3)
            if version is None:
                v = _version(archive)
                return self._json({"identifier": archive.dandiset, "created": STAMP,
                                   "modified": STAMP, "contact_person": "Test, Person",
                                   "embargo_status": "OPEN",
                                   "most_recent_published_version": v,
                                   "draft_version": {**v, "version": "draft",
                                                     "status": "Valid"}})  # fmt: skip
            if version != archive.version:
                return self._not_found(f"version {version}")
            if rest == "info/":
                return self._json({**_version(archive), "asset_validation_errors": [],
                                   "version_validation_errors": [], "metadata": {}})  # fmt: skip
            if rest == "assets/":
                prefix = parse_qs(url.query).get("path", [""])[0]
                results = [
                    {"asset_id": a.asset_id, "path": a.path, "size": a.file.stat().st_size,
                     "created": STAMP, "modified": STAMP, "blob": a.asset_id, "zarr": None}
                    for a in archive.assets.values() if a.path.startswith(prefix)
                ]  # fmt: skip
                return self._json({"count": len(results), "next": None, "results": results})
            if am := re.fullmatch(r"assets/([\w-]+)/", rest or ""):
                asset = archive.assets.get(am.group(1))
                if asset is None:
                    return self._not_found(path)
                return self._json({
                    "identifier": asset.asset_id, "path": asset.path,
                    "contentSize": asset.file.stat().st_size,
                    "encodingFormat": "application/x-nwb",
                    "digest": {"dandi:sha2-256": asset.sha256, "dandi:dandi-etag": "0-1"},
                    "contentUrl": [f"{base[0]}/api/assets/{asset.asset_id}/download/",
                                   f"{base[0]}/blobs/{asset.asset_id}"],
                })  # fmt: skip
            return self._not_found(path)

        def _blob(self, asset: Served, head: bool):
            data = asset.payload()
            start, stop, status = 0, len(data), 200
            if rng := re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", "")):
                start = int(rng.group(1))
                stop = min(int(rng.group(2)) + 1 if rng.group(2) else len(data), len(data))
                status = 206
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(stop - start))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{len(data)}")
            self.end_headers()
            if head:
                return
            # Write and count in pieces, so an aborted response counts what it sent.
            try:
                for offset in range(start, stop, 1 << 16):
                    piece = data[offset : min(offset + (1 << 16), stop)]
                    self.wfile.write(piece)
                    with archive.lock:
                        archive.bytes_sent += len(piece)
                        archive.bytes_ranged += len(piece) if status == 206 else 0
            except (BrokenPipeError, ConnectionResetError):
                pass  # remfile aborts its first GET once it has the size

    return Handler


class DandiServer:
    """Run an :class:`Archive` on 127.0.0.1 in a thread: ``with DandiServer(a) as s:``."""

    def __init__(self, archive: Archive):
        self.archive = archive
        self._base = [""]
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(archive, self._base))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._base[0] = self.url
        self.api_url = f"{self.url}/api"

    def __enter__(self) -> DandiServer:
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
