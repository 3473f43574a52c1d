"""A DANDI-compatible archive on 127.0.0.1 serving local files, for offline demos and tests.

The real DANDI Archive is an API (``/api/dandisets/...``) in front of a file store (S3)
that answers HTTP Range requests. This module runs both, in a thread of the current
process, over files you already have: the ``dandi`` client, :func:`databook.assets.pin`,
:func:`databook.assets.fetch` (pooch) and remfile streaming all work against it unchanged,
and every request is recorded on the server side, so what crossed the wire can be counted.

It answers the endpoints the ``dandi`` client uses to resolve an asset: ``/server-info``,
``/api/info/``, the dandiset, its version info, assets listed by path prefix, asset
metadata (``digest`` with ``dandi:sha2-256``, ``contentUrl``) and the download redirect;
and it serves each file from ``/blobs/<asset_id>`` with single-range HTTP Range support.
It listens on 127.0.0.1 only, on a free port, and stops its threads (closing any
connection a client kept open) when the ``with`` block ends.

Example
-------
>>> from databook import assets, localarchive
>>> with localarchive.serve({"sub-1/sub-1_ecephys.nwb": path}) as server:  # doctest: +SKIP
...     with server.traffic() as pin_cost:
...         asset = assets.pin(server.spec("sub-1/sub-1_ecephys.nwb"), url=server.api_url)
...     with server.traffic() as fetch_cost:
...         local = assets.fetch(asset, cache=tmp, progressbar=False)
>>> fetch_cost.bytes_whole, fetch_cost.requests  # doctest: +SKIP
(9694704, 1)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

__all__ = [
    "DANDISET",
    "VERSION",
    "Archive",
    "DandiServer",
    "Request",
    "Served",
    "Traffic",
    "serve",
]

#: Identifiers the local archive uses unless told otherwise (made up, DANDI-shaped).
DANDISET = "000999"
VERSION = "0.240301.1200"
STAMP = "2024-03-01T12:00:00.000000Z"
_PIECE = 1 << 16  # bytes written (and counted) at a time


@dataclass
class Served:
    """One file in the archive: its dandiset ``path``, the local ``file`` and its sha256."""

    path: str
    file: Path
    asset_id: str
    sha256: str
    corrupt: bool = False  # serve altered bytes (last byte flipped: sha256 mismatch) when set

    @property
    def size(self) -> int:
        return self.file.stat().st_size

    def read(self, start: int = 0, stop: int | None = None) -> bytes:
        """Bytes ``start:stop`` as served (the last byte flipped when ``corrupt``)."""
        size = self.size
        stop = size if stop is None else min(stop, size)
        with open(self.file, "rb") as handle:
            handle.seek(start)
            data = handle.read(max(0, stop - start))
        if self.corrupt and data and stop == size:
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        return data

    def payload(self) -> bytes:
        """The whole file as served."""
        return self.read()


@dataclass
class Request:
    """One request as the server saw it.

    ``kind``: ``"api"`` (JSON and redirects), ``"range"`` (a blob GET with a Range header),
    ``"whole"`` (a blob GET without one), ``"probe"`` (remfile's size probe: a whole-file GET
    it abandons after the headers) or ``"head"``. ``bytes``: body bytes written so far.
    ``done``: the server finished with it; ``complete``: the whole body was written.
    """

    method: str
    path: str
    range: str
    kind: str
    status: int = 0
    bytes: int = 0
    size: int = 0  # body bytes the response announced (Content-Length)
    done: bool = False

    @property
    def complete(self) -> bool:
        return self.done and self.bytes == self.size


@dataclass
class Traffic:
    """What the server saw while a :meth:`Archive.traffic` block ran.

    Counts are deterministic for a given sequence of reads, with one exception that is kept
    apart: a whole-file GET that the client abandons after the headers (remfile makes one to
    learn the file size, recognised by its User-Agent; or any whole-file GET cut short) is
    counted in ``probes``, and the body bytes the server wrote before the client hung up,
    which depend on socket buffers (on 127.0.0.1 up to the whole file), in ``bytes_probes``.

    Attributes
    ----------
    requests : int
        Every request: API calls, redirects and blob GETs (probes included).
    api_requests : int
        Requests to the DANDI API (JSON, and the download redirect).
    range_requests : int
        Blob GETs with a Range header (streaming reads).
    whole_gets : int
        Blob GETs without a Range header whose whole body was sent (downloads).
    probes : int
        Blob GETs without a Range header that the client abandoned (size probes).
    bytes_ranged : int
        Body bytes of the range responses: what a streaming reader asked for.
    bytes_whole : int
        Body bytes of the completed whole-file GETs: what a download received.
    bytes_api : int
        Body bytes of the API responses (metadata).
    bytes_probes : int
        Body bytes written for abandoned GETs before the client closed the connection.
    """

    requests: int = 0
    api_requests: int = 0
    range_requests: int = 0
    whole_gets: int = 0
    probes: int = 0
    bytes_ranged: int = 0
    bytes_whole: int = 0
    bytes_api: int = 0
    bytes_probes: int = 0
    log: list[Request] = field(default_factory=list, repr=False)

    @property
    def bytes(self) -> int:
        """Bytes that crossed the wire, abandoned probes left out (bytes_ranged + bytes_whole
        + bytes_api)."""
        return self.bytes_ranged + self.bytes_whole + self.bytes_api

    @classmethod
    def of(cls, log: list[Request]) -> Traffic:
        t = cls(requests=len(log), log=list(log))
        for r in log:
            if r.kind == "api":
                t.api_requests += 1
                t.bytes_api += r.bytes
            elif r.kind == "range":
                t.range_requests += 1
                t.bytes_ranged += r.bytes
            elif r.kind == "whole" and r.complete:
                t.whole_gets += 1
                t.bytes_whole += r.bytes
            elif r.kind in ("whole", "probe"):
                t.probes += 1
                t.bytes_probes += r.bytes
        return t

    def as_dict(self) -> dict[str, int]:
        """The deterministic counts, plus ``bytes``, e.g. for a figure's JSON (the log and
        ``bytes_probes``, which depends on socket buffers, left out)."""
        out = {k: v for k, v in self.__dict__.items() if k not in ("log", "bytes_probes")}
        out["bytes"] = self.bytes
        return out


@dataclass
class Archive:
    """A dandiset version with its files, and the log of every request made to it."""

    dandiset: str = DANDISET
    version: str = VERSION
    assets: dict[str, Served] = field(default_factory=dict)
    log: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, path: str, file: str | Path, *, asset_id: str | None = None) -> Served:
        """Serve the local ``file`` as the asset at dandiset ``path``; returns its record.

        ``asset_id``: the archive's own id of the asset (default: one derived from
        ``path``), so that a copy of a published asset is served under its real id.
        """
        file = Path(file)
        if not file.is_file():
            raise FileNotFoundError(f"local archive: no file {file} to serve as {path!r}")
        sha = hashlib.sha256(file.read_bytes()).hexdigest()
        served = Served(path, file, asset_id or str(uuid.uuid5(uuid.NAMESPACE_URL, path)), sha)
        self.assets[served.asset_id] = served
        return served

    @classmethod
    def from_listing(cls, metadata_file: str | Path, folder: str | Path) -> Archive:
        """The published dandiset version of an archive asset listing (JSON with
        ``dandiset``, ``version`` and ``assets[]``: see
        :func:`databook.assets.read_metadata`), serving each listed asset found under
        ``folder`` (at its dandiset path) under its real asset id. A file whose sha256
        differs from the listing's is refused: this archive serves copies, not look-alikes.
        """
        import json

        data = json.loads(Path(metadata_file).read_text(encoding="utf-8"))
        archive = cls(str(data["dandiset"]), str(data["version"]))
        for record in data["assets"]:
            file = Path(folder) / record["path"]
            if not file.is_file():
                continue
            served = archive.add(record["path"], file, asset_id=record["asset_id"])
            if served.sha256 != record["sha256"]:
                raise ValueError(
                    f"local archive: {file} has sha256 {served.sha256}, but {metadata_file} "
                    f"lists {record['sha256']} for {record['path']}"
                )
        return archive

    def asset(self, path: str) -> Served:
        """The served asset at dandiset ``path``."""
        for served in self.assets.values():
            if served.path == path:
                return served
        known = ", ".join(sorted(a.path for a in self.assets.values())) or "(none)"
        raise KeyError(f"local archive: no asset at path {path!r}; it serves: {known}")

    @property
    def requests(self) -> list[tuple[str, str, str]]:
        """``(method, path, range)`` of every request so far."""
        with self.lock:
            return [(r.method, r.path, r.range) for r in self.log]

    def blob_gets(self, asset: Served) -> list[str]:
        """Range headers of every GET of an asset's blob ('' for whole-file GETs)."""
        with self.lock:
            return [
                r.range
                for r in self.log
                if r.method == "GET" and r.path == f"/blobs/{asset.asset_id}"
            ]

    @contextlib.contextmanager
    def traffic(self, settle_s: float = 5.0) -> Iterator[Traffic]:
        """Count the requests made while the block runs: ``with a.traffic() as t: ...``.

        The yielded :class:`Traffic` is filled in when the block ends, after waiting (at
        most ``settle_s`` seconds) for the server to finish the responses in flight, so the
        last bytes of a response are counted even if the client was faster than the
        server's bookkeeping. Blocks may nest.
        """
        with self.lock:
            start = len(self.log)
        result = Traffic()
        yield result
        deadline = time.monotonic() + settle_s
        while True:
            with self.lock:
                window = self.log[start:]
                busy = any(not r.done for r in window)
            if not busy or time.monotonic() > deadline:
                break
            time.sleep(0.005)
        with self.lock:
            settled = [Request(**r.__dict__) for r in window]
        filled = Traffic.of(settled)
        result.__dict__.update(filled.__dict__)


def _version(archive: Archive) -> dict:
    return {
        "version": archive.version,
        "name": "databook local dandiset",
        "asset_count": len(archive.assets),
        "size": sum(a.size for a in archive.assets.values()),
        "created": STAMP,
        "modified": STAMP,
        "status": "Published",
    }


def _handler(archive: Archive, base: list[str]):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 30  # seconds an idle keep-alive connection is kept

        def log_message(self, *args):
            pass

        def setup(self):
            super().setup()
            # Headers and body go out in separate writes: without this, Nagle's algorithm
            # and the client's delayed ACK stall every small response by ~40 ms.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.server.track(self.connection, add=True)

        def finish(self):
            try:
                super().finish()
            finally:
                self.server.track(self.connection, add=False)

        def _json(self, obj, status=200):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self._record.status, self._record.size = status, len(body)
            if self.command != "HEAD":
                self.wfile.write(body)
                self._record.bytes = len(body)

        def _not_found(self, what):
            self._json({"detail": f"Not found: {what}"}, 404)

        def do_HEAD(self):
            self._serve()

        def do_GET(self):
            self._serve()

        def _serve(self):
            url = urlparse(self.path)
            rng = self.headers.get("Range", "")
            blob = url.path.startswith("/blobs/")
            kind = "head" if self.command == "HEAD" else ("api" if not blob else "range")
            if blob and kind == "range" and not rng:
                # remfile learns a file's size from a GET it abandons after the headers.
                agent = self.headers.get("User-Agent", "")
                kind = "probe" if agent.startswith("remfile/") else "whole"
            self._record = Request(self.command, url.path, rng, kind)
            with archive.lock:
                archive.log.append(self._record)
            try:
                self._route(url)
            finally:
                self._record.done = True

        def _route(self, url):
            path = url.path
            if path in ("/server-info", "/api/info/"):
                return self._json({"schema_version": "0.6.10", "version": "local",
                                   "cli-minimal-version": "0.0.0", "cli-bad-versions": [],
                                   "services": {"api": {"url": f"{base[0]}/api"}}})  # fmt: skip
            if m := re.fullmatch(r"/blobs/([\w-]+)", path):
                asset = archive.assets.get(m.group(1))
                return self._blob(asset) if asset else self._not_found(path)
            if m := re.fullmatch(r"/api/assets/([\w-]+)/download/", path):
                asset = archive.assets.get(m.group(1))
                if asset is None:
                    return self._not_found(path)
                self.send_response(302)
                self.send_header("Location", f"{base[0]}/blobs/{asset.asset_id}")
                self.send_header("Content-Length", "0")
                self._record.status = 302
                return self.end_headers()
            m = re.fullmatch(r"/api/dandisets/(\w+)/(?:versions/([\w.]+)/(.*))?", path)
            if not m or m.group(1) != archive.dandiset:
                return self._not_found(path)
            version, rest = m.group(2), m.group(3)
            if version is None:
                v = _version(archive)
                return self._json({"identifier": archive.dandiset, "created": STAMP,
                                   "modified": STAMP, "contact_person": "Local, Archive",
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
                    {"asset_id": a.asset_id, "path": a.path, "size": a.size,
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
                    "contentSize": asset.size,
                    "encodingFormat": "application/x-nwb",
                    "digest": {"dandi:sha2-256": asset.sha256, "dandi:dandi-etag": "0-1"},
                    "contentUrl": [f"{base[0]}/api/assets/{asset.asset_id}/download/",
                                   f"{base[0]}/blobs/{asset.asset_id}"],
                })  # fmt: skip
            return self._not_found(path)

        def _blob(self, asset: Served):
            size = asset.size
            start, stop, status = 0, size, 200
            if rng := re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", "")):
                start = int(rng.group(1))
                stop = min(int(rng.group(2)) + 1 if rng.group(2) else size, size)
                status = 206
            if status == 206 and start >= stop:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self._record.status = 416
                return self.end_headers()
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(stop - start))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{size}")
            self.end_headers()
            self._record.status, self._record.size = status, stop - start
            if self.command == "HEAD":
                self._record.size = 0
                return
            # Write and count in pieces, so an abandoned response counts what it sent.
            try:
                for offset in range(start, stop, _PIECE):
                    piece = asset.read(offset, min(offset + _PIECE, stop))
                    self.wfile.write(piece)
                    self._record.bytes += len(piece)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # remfile hangs up once it has the size

    return Handler


class _Server(ThreadingHTTPServer):
    """Threads per connection, tracked so that closing the server ends every one of them."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, handler):
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), handler)

    def handle_error(self, request, client_address) -> None:
        # A client hanging up (remfile does, once it has the size) is no server error;
        # anything else keeps the standard traceback.
        if not isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            super().handle_error(request, client_address)

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._connections_lock:
            (self._connections.add if add else self._connections.discard)(conn)

    def hang_up(self) -> None:
        """Close every open connection (clients such as remfile keep theirs alive)."""
        with self._connections_lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class DandiServer:
    """Run an :class:`Archive` on 127.0.0.1 in a thread: ``with DandiServer(archive) as s:``,
    or ``s = DandiServer(archive).start()`` ... ``s.close()`` across notebook cells.

    ``url`` is the server's root, ``api_url`` its DANDI API (pass it to
    :func:`databook.assets.pin` or ``DandiAPIClient(api_url=...)``). On exit the server
    stops accepting, closes the connections clients kept open and joins every thread.
    """

    def __init__(self, archive: Archive):
        self.archive = archive
        self._base = [""]
        self.httpd = _Server(_handler(archive, self._base))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._base[0] = self.url
        self.api_url = f"{self.url}/api"
        self.thread: threading.Thread | None = None

    def spec(self, path: str) -> str:
        """``DANDISET/VERSION/PATH`` of an asset, as :func:`databook.assets.pin` takes it."""
        return f"{self.archive.dandiset}/{self.archive.version}/{path}"

    def blob_url(self, path: str) -> str:
        """The storage URL of the asset at ``path`` (what a pinned entry's ``url`` holds)."""
        return f"{self.url}/blobs/{self.archive.asset(path).asset_id}"

    def traffic(self, settle_s: float = 5.0):
        """Count the requests made in a ``with`` block (see :meth:`Archive.traffic`)."""
        return self.archive.traffic(settle_s)

    def start(self) -> DandiServer:
        """Start serving in a thread (``with`` does this); pair with :meth:`close`."""
        if self.thread is None:
            self.thread = threading.Thread(
                target=self.httpd.serve_forever, name="databook-localarchive", daemon=True
            )
            self.thread.start()
        return self

    def __enter__(self) -> DandiServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving, hang up on every client and join all threads (idempotent)."""
        if self.thread is not None:
            self.httpd.shutdown()
            self.thread.join()
            self.thread = None
        self.httpd.hang_up()
        self.httpd.server_close()  # joins the connection threads


@contextlib.contextmanager
def serve(
    files: Mapping[str, str | Path], *, dandiset: str = DANDISET, version: str = VERSION
) -> Iterator[DandiServer]:
    """Serve local files as the assets of one published dandiset version on 127.0.0.1.

    Parameters
    ----------
    files
        ``{dandiset path: local file}``, e.g. ``{"sub-1/sub-1_ecephys.nwb": Path(...)}``.
    dandiset, version
        The identifiers the archive answers to (DANDI-shaped: six digits, ``0.YYMMDD.HHMM``).

    Yields
    ------
    DandiServer
        Running; stopped, with its threads joined, when the ``with`` block ends.
    """
    if not re.fullmatch(r"\w+", dandiset) or not re.fullmatch(r"[\w.]+", version):
        raise ValueError(
            f"local archive: dandiset {dandiset!r} / version {version!r} must be letters, "
            "digits and dots (e.g. '000999' / '0.240301.1200')"
        )
    archive = Archive(dandiset, version)
    for path, file in files.items():
        archive.add(path, file)
    with DandiServer(archive) as server:
        yield server
