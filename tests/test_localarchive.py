"""databook.localarchive: a DANDI-compatible archive on 127.0.0.1 that counts what crosses
the wire. The counts are what chapter 1's access-cost figure reports, so they are checked
against what the clients asked for; and the server must leave no thread behind."""

from __future__ import annotations

import re
import threading
import time

import numpy as np
import pytest
import requests

from databook import assets, localarchive

PATH = "sub-1/sub-1_blob.nwb"


def _file(tmp_path, size: int, name: str = "blob.bin"):
    data = np.random.default_rng(0).integers(0, 256, size, dtype=np.uint8).tobytes()
    path = tmp_path / name
    path.write_bytes(data)
    return path, data


def _asked(traffic: localarchive.Traffic, size: int) -> int:
    """Bytes the Range headers of a traffic log asked for (clipped to the file)."""
    total = 0
    for request in traffic.log:
        if m := re.fullmatch(r"bytes=(\d+)-(\d*)", request.range):
            stop = min(int(m.group(2)) + 1 if m.group(2) else size, size)
            total += stop - int(m.group(1))
    return total


def test_pin_and_fetch_count_api_calls_and_one_whole_download(tmp_path):
    path, data = _file(tmp_path, 300_000)
    with localarchive.serve({PATH: path}) as server:
        with server.traffic() as pinning:
            asset = assets.pin(server.spec(PATH), key="blob", url=server.api_url)
        with server.traffic() as download:
            local = assets.fetch(asset, cache=tmp_path / "cache", progressbar=False)
    assert local.read_bytes() == data and asset.url == server.blob_url(PATH)
    assert pinning.api_requests == pinning.requests > 0 and pinning.bytes_whole == 0
    assert (download.whole_gets, download.requests, download.probes) == (1, 1, 0)
    assert download.bytes_whole == download.bytes == len(data)


def test_the_dandi_client_finds_the_assets_by_api_url_alone(tmp_path):
    from dandi.dandiapi import DandiAPIClient

    first, _ = _file(tmp_path, 300, "a.bin")
    second, _ = _file(tmp_path, 500, "b.bin")
    files = {"sub-1/sub-1_a.nwb": first, "sub-2/sub-2_b.nwb": second}
    with localarchive.serve(files) as server, DandiAPIClient(api_url=server.api_url) as client:
        dandiset = client.get_dandiset(localarchive.DANDISET, localarchive.VERSION)
        found = {a.path: a.size for a in dandiset.get_assets()}
        latest = client.get_dandiset(localarchive.DANDISET).version_id
    assert found == {"sub-1/sub-1_a.nwb": 300, "sub-2/sub-2_b.nwb": 500}
    assert latest == localarchive.VERSION  # no version asked: the most recent published one


def test_streaming_counts_the_ranges_asked_for_and_one_probe_not_a_download(tmp_path):
    import remfile

    path, data = _file(tmp_path, 150_000)  # small: the probe's body fits in socket buffers
    with localarchive.serve({PATH: path}) as server, server.traffic() as streaming:
        handle = remfile.File(server.blob_url(PATH))
        handle.seek(120_000)
        assert handle.read(1000) == data[120_000:121_000]
    assert streaming.probes == 1 and streaming.whole_gets == 0
    assert streaming.range_requests == streaming.requests - 1 > 0
    assert streaming.bytes_ranged == _asked(streaming, len(data)) >= 1000
    assert streaming.bytes == streaming.bytes_ranged < len(data)


def test_an_abandoned_whole_get_is_a_probe_not_a_download(tmp_path):
    path, _ = _file(tmp_path, 24_000_000)  # far more than socket buffers absorb
    with localarchive.serve({PATH: path}) as server, server.traffic() as traffic:
        with requests.get(server.blob_url(PATH), stream=True, timeout=5) as response:
            assert response.status_code == 200
    assert (traffic.probes, traffic.whole_gets, traffic.bytes_whole) == (1, 0, 0)
    assert 0 <= traffic.bytes_probes < len(path.read_bytes())


def test_ranges_return_exactly_the_bytes_asked_for(tmp_path):
    path, data = _file(tmp_path, 5000)
    with localarchive.serve({PATH: path}) as server:
        url = server.blob_url(PATH)
        middle = requests.get(url, headers={"Range": "bytes=10-19"}, timeout=5)
        tail = requests.get(url, headers={"Range": "bytes=4990-"}, timeout=5)
        past = requests.get(url, headers={"Range": "bytes=4995-9999"}, timeout=5)
        beyond = requests.get(url, headers={"Range": "bytes=5000-"}, timeout=5)
    assert middle.status_code == 206 and middle.content == data[10:20]
    assert beyond.status_code == 416 and beyond.content == b""
    assert middle.headers["Content-Range"] == "bytes 10-19/5000"
    assert tail.content == data[4990:] and past.content == data[4995:]


def test_traffic_counts_only_its_own_block_and_blocks_nest(tmp_path):
    path, _ = _file(tmp_path, 5000)
    with localarchive.serve({PATH: path}) as server:
        url = server.blob_url(PATH)
        requests.get(url, headers={"Range": "bytes=0-99"}, timeout=5)
        with server.traffic() as outer:
            requests.get(url, headers={"Range": "bytes=0-9"}, timeout=5)
            with server.traffic() as inner:
                requests.get(url, headers={"Range": "bytes=0-19"}, timeout=5)
    assert (outer.requests, outer.bytes_ranged) == (2, 30)
    assert (inner.requests, inner.bytes_ranged) == (1, 20)


def test_exit_hangs_up_on_kept_alive_clients_and_joins_every_thread(tmp_path):
    import remfile

    path, _ = _file(tmp_path, 150_000)
    before = set(threading.enumerate())
    server = localarchive.DandiServer(localarchive.Archive())
    server.archive.add(PATH, path)
    with server:
        assert server.httpd.server_address[0] == "127.0.0.1"
        handle = remfile.File(server.blob_url(PATH))  # keeps its session's connection open
        handle.read(100)
        closing = threading.Thread(target=server.close)
        start = time.monotonic()
        closing.start()
        closing.join(timeout=5)
        assert not closing.is_alive(), "closing the server waited on a kept-alive connection"
        assert time.monotonic() - start < 5
    assert {t for t in threading.enumerate() if t.is_alive()} - before == set()
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + "/server-info", timeout=2)


def test_a_client_hanging_up_prints_no_traceback(tmp_path, capfd):
    """remfile resets its connection once it has the file's size; the server must not
    print that as an error (it landed in executed notebooks of `databook run`)."""
    import socket
    import struct

    path, _ = _file(tmp_path, 150_000)
    with localarchive.DandiServer(localarchive.Archive()) as server:
        blob = server.archive.add(PATH, path).asset_id
        host, port = server.httpd.server_address[:2]
        for _ in range(3):
            conn = socket.create_connection((host, port))
            conn.sendall(f"HEAD /blobs/{blob} HTTP/1.1\r\n"
                         f"Host: {host}\r\n\r\n".encode())  # fmt: skip
            conn.recv(4096)
            # An abortive close (RST), as a client that drops a kept-alive connection.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
        time.sleep(0.5)
        requests.get(server.url + "/server-info", timeout=5).raise_for_status()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "ConnectionResetError" not in err, err


def test_unknown_paths_files_and_identifiers_are_named(tmp_path):
    path, _ = _file(tmp_path, 10)
    with pytest.raises(ValueError, match=r"dandiset '0/1' / version 'x' must be"):
        with localarchive.serve({PATH: path}, dandiset="0/1", version="x"):
            pass
    with pytest.raises(FileNotFoundError, match=r"no file .*missing\.nwb to serve as 'a\.nwb'"):
        localarchive.Archive().add("a.nwb", tmp_path / "missing.nwb")
    with localarchive.serve({PATH: path}) as server:
        with pytest.raises(KeyError, match=r"no asset at path 'b\.nwb'; it serves: sub-1/"):
            server.blob_url("b.nwb")
        missing = requests.get(server.url + "/blobs/nope", timeout=5)
        assert missing.status_code == 404
