"""Pinned, verified data access against a DANDI-compatible server on 127.0.0.1.

The real dandi client, pooch and remfile run against databook.localarchive, which serves
the demo files with HTTP Range. Nothing here leaves the machine.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
from dataclasses import replace

import pytest
from click.testing import CliRunner

from databook import assets, cli
from databook.assets import (
    AssetHashError,
    AssetNetworkError,
    AssetNotFoundError,
    AssetNotPinnedError,
    LockError,
    load_lock,
    sha256_file,
)
from databook.localarchive import Archive, DandiServer

DANDISET, VERSION = "000999", "0.240301.1200"
ECEPHYS = "sub-demo-mouse-1/sub-demo-mouse-1_ses-ecephys_ecephys+ogen.nwb"
OPHYS = "sub-demo-mouse-2/sub-demo-mouse-2_ses-day1_ophys.nwb"


@pytest.fixture(scope="module")
def demo_files(demo):
    return demo.paths


@pytest.fixture
def server(demo_files):
    archive = Archive(DANDISET, VERSION)
    archive.add(ECEPHYS, demo_files["demo-ecephys"])
    archive.add(OPHYS, demo_files["demo-ophys-day1"])
    with DandiServer(archive) as srv:
        yield srv


@pytest.fixture
def pinned(server):
    return assets.pin(f"{DANDISET}/{VERSION}/{ECEPHYS}", key="ecephys", url=server.api_url)


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_pin_reads_digest_size_and_storage_url(server, pinned, demo_files):
    served = next(a for a in server.archive.assets.values() if a.path == ECEPHYS)
    assert pinned.sha256 == sha256_file(demo_files["demo-ecephys"])
    assert pinned.size == demo_files["demo-ecephys"].stat().st_size
    assert pinned.asset_id == served.asset_id
    assert pinned.url == f"{server.url}/blobs/{served.asset_id}"  # storage URL, not /api/
    assert (pinned.dandiset, pinned.version, pinned.path) == (DANDISET, VERSION, ECEPHYS)
    assert pinned.is_resolved


def test_cli_pin_writes_lock_and_repin_changes_nothing(server, tmp_path):
    (tmp_path / "myst.yml").write_text("version: 1\n")
    (tmp_path / "figures_src").mkdir()
    (tmp_path / "assets.lock").write_text("version = 1\n")
    args = ["pin", "--root", str(tmp_path), "--api-url", server.api_url, "--key", "ece"]
    spec = f"{DANDISET}/{VERSION}/{ECEPHYS}"
    result = CliRunner().invoke(cli.main, [*args, spec])
    assert result.exit_code == 0, result.output
    first = (tmp_path / "assets.lock").read_bytes()
    assert load_lock(tmp_path / "assets.lock")["ece"].is_resolved
    result = CliRunner().invoke(cli.main, [*args, spec])
    assert "ece: unchanged" in result.output
    assert (tmp_path / "assets.lock").read_bytes() == first


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (f"000404/{VERSION}/{ECEPHYS}", "unknown dandiset 000404"),
        (
            f"{DANDISET}/0.999999.9999/{ECEPHYS}",
            f"dandiset {DANDISET} has no version 0.999999.9999",
        ),
        (f"{DANDISET}/{VERSION}/sub-x/missing.nwb", "no asset at path 'sub-x/missing.nwb'"),
    ],
)
def test_unknown_dandiset_version_or_path_is_named(server, spec, message):
    with pytest.raises(AssetNotFoundError, match=message):
        assets.pin(spec, url=server.api_url)


def test_draft_is_refused_when_pinning_and_in_the_lock(tmp_path):
    with pytest.raises(assets.AssetError, match="refusing to pin version 'draft'"):
        assets.pin(f"{DANDISET}/draft/{ECEPHYS}", url="http://127.0.0.1:9")
    lock = tmp_path / "assets.lock"
    lock.write_text(
        '[[asset]]\nkey = "x"\ndandiset = "000021"\nversion = "draft"\npath = "a.nwb"\n'
    )
    with pytest.raises(LockError, match=r"\[\[asset\]\] #1 \(x\): version 'draft'"):
        load_lock(lock)


def test_fetch_downloads_once_and_does_not_rehash(server, pinned, tmp_path, monkeypatch):
    path = assets.fetch(pinned, cache=tmp_path, progressbar=False)
    assert sha256_file(path) == pinned.sha256
    served = next(a for a in server.archive.assets.values() if a.path == ECEPHYS)
    assert len(server.archive.blob_gets(served)) == 1

    def no_hashing(_):
        raise AssertionError("a verified file was hashed again")

    monkeypatch.setattr(assets, "sha256_file", no_hashing)
    assert assets.fetch(pinned, cache=tmp_path, progressbar=False) == path
    assert len(server.archive.blob_gets(served)) == 1


def test_fetch_without_progressbar_is_quiet(server, pinned, tmp_path, capfd):
    import pooch

    before = pooch.get_logger().level
    assets.fetch(pinned, cache=tmp_path, progressbar=False)
    out, err = capfd.readouterr()
    assert "Downloading" not in out + err  # pooch logs to its own stderr handler
    assert pooch.get_logger().level == before  # pooch's own setting is restored


def test_sha256_mismatch_names_key_and_hashes_and_leaves_nothing(server, pinned, tmp_path):
    served = next(a for a in server.archive.assets.values() if a.path == ECEPHYS)
    served.corrupt = True
    with pytest.raises(AssetHashError) as err:
        assets.fetch(pinned, cache=tmp_path, progressbar=False)
    message = str(err.value)
    assert "ecephys" in message and pinned.sha256 in message
    import hashlib

    assert hashlib.sha256(served.payload()).hexdigest() in message
    target = assets.local_path(pinned, tmp_path)
    assert not target.exists()
    assert [p.name for p in target.parent.iterdir() if not p.name.endswith(".lock")] == []


def test_good_cached_copy_survives_a_bad_server(server, pinned, tmp_path):
    path = assets.fetch(pinned, cache=tmp_path, progressbar=False)
    next(a for a in server.archive.assets.values() if a.path == ECEPHYS).corrupt = True
    path.with_name(path.name + ".verified").unlink()  # forces a re-check of the copy
    assert assets.fetch(pinned, cache=tmp_path, progressbar=False) == path
    assert sha256_file(path) == pinned.sha256


@pytest.mark.parametrize("damage", ["truncate", "not-hdf5"])
def test_damaged_cached_file_is_reported_and_refetched(server, pinned, tmp_path, caplog, damage):
    path = assets.fetch(pinned, cache=tmp_path, progressbar=False)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3] if damage == "truncate" else b"<html>" * 1000)
    with caplog.at_level(logging.WARNING, logger="databook"):
        assert assets.fetch(pinned, cache=tmp_path, progressbar=False) == path
    assert "ecephys" in caplog.text and "corrupt or truncated" in caplog.text
    assert sha256_file(path) == pinned.sha256
    with assets.open_nwb(pinned, "download", cache=tmp_path) as nwb:
        assert len(nwb.units) == 120


def test_server_down_is_reported_fast_and_cached_assets_still_open(server, pinned, tmp_path):
    assets.fetch(pinned, cache=tmp_path, progressbar=False)
    dead = _closed_port_url()
    start = time.monotonic()
    with pytest.raises(AssetNetworkError, match=f"cannot reach the DANDI API at {dead}/api"):
        assets.pin(f"{DANDISET}/{VERSION}/{ECEPHYS}", url=f"{dead}/api")
    offline = replace(pinned, key="ophys", path=OPHYS, url=f"{dead}/blobs/x", sha256="ab" * 32)
    with pytest.raises(AssetNetworkError, match=rf"ophys .* from {dead}/blobs/x"):
        assets.fetch(offline, cache=tmp_path, progressbar=False)
    assert time.monotonic() - start < 5
    gone = replace(pinned, url=f"{dead}/blobs/y")  # the pinned, cached copy still opens
    with assets.open_nwb(gone, "download", cache=tmp_path) as nwb:
        assert len(nwb.units) == 120


def test_unpinned_entry_fails_at_once_and_says_how_to_pin(tmp_path):
    real = assets.Asset(
        key="allen-vc-ecephys-754829445",
        dandiset="000021",
        path="sub-726298249/sub-726298249_ses-754829445.nwb",
    )
    assert not real.is_resolved
    with pytest.raises(AssetNotPinnedError, match="databook pin 000021/VERSION/sub-726298249"):
        assets.fetch(real, cache=tmp_path)
    with pytest.raises(AssetNotPinnedError):
        with assets.open_nwb(real, "stream"):
            pass


def test_concurrent_fetches_download_once(server, pinned, tmp_path):
    code = (
        "import sys; from databook import assets; from databook.assets import Asset;"
        "a = Asset(**eval(sys.argv[1]));"
        "print(assets.fetch(a, cache=__import__('pathlib').Path(sys.argv[2]), progressbar=False))"
    )
    from dataclasses import asdict

    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, repr(asdict(pinned)), str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert outputs[0][0] == outputs[1][0]
    served = next(a for a in server.archive.assets.values() if a.path == ECEPHYS)
    assert len(server.archive.blob_gets(served)) == 1
    assert sha256_file(assets.local_path(pinned, tmp_path)) == pinned.sha256


def test_stream_reads_tables_without_downloading_the_file(server, pinned):
    with server.traffic() as traffic, assets.open_nwb(pinned, "stream") as nwb:
        spikes = nwb.units["spike_times"][:]
        stimulus = nwb.intervals["flashes_presentations"].to_dataframe()
    assert len(spikes) == 120 and len(stimulus) == 60
    # remfile learns the size from one unranged GET that it aborts; how much of that
    # response is written before the abort depends on socket buffering, so bound what
    # was requested by range, and allow only that one unranged GET.
    assert traffic.probes == 1 and traffic.whole_gets == 0
    assert traffic.range_requests > 0, "remfile made no range requests"
    assert traffic.bytes_ranged < 0.5 * pinned.size


def test_dandi_clients_own_download_of_a_pinned_asset(server, pinned, tmp_path):
    from dandi.consts import DandiInstance
    from dandi.dandiapi import DandiAPIClient

    instance = DandiInstance(name="local", gui=None, api=server.api_url)
    with DandiAPIClient(dandi_instance=instance) as client:
        remote = client.get_dandiset(pinned.dandiset, pinned.version, lazy=False)
        remote.get_asset_by_path(pinned.path).download(tmp_path / "copy.nwb")
    assert sha256_file(tmp_path / "copy.nwb") == pinned.sha256


def test_open_nwb_by_key_for_demo_and_unknown_keys(root):
    with assets.open_nwb("demo-ophys-day1", lock_path=root / "assets.lock") as nwb:
        assert nwb.identifier == "databook-demo-ophys-day1-seed0"
    with pytest.raises(assets.AssetError, match=r"no asset 'nope' in .*assets\.lock; known: "):
        with assets.open_nwb("nope", lock_path=root / "assets.lock"):
            pass
