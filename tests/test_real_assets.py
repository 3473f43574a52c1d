"""Real published assets: pinned from the archive's metadata, seeded from a local copy,
fetched through a mirror of the archive on 127.0.0.1, never trusted without their sha256.

Uses the shared ``data/dandi`` folder beside the project (byte-identical copies of DANDI
assets and the archive's own metadata) and ``data/real/cellreg-sample``; skips when they
are absent.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from databook import assets, cli
from databook.assets import AssetError, AssetHashError, load_lock, sha256_file
from databook.localarchive import Archive, DandiServer
from tests.conftest import ROOT

DANDI = ROOT.parent / "shared" / "data" / "dandi"
REAL = ROOT.parent / "shared" / "data" / "real"
LISTING_000006 = DANDI / "000006-0.220126.1855.assets.json"
LISTING_000207 = DANDI / "000207-0.220216.0323.assets.json"
LISTING_000021 = DANDI / "000021-draft.assets.json"
HUMAN = "sub-4/sub-4_ses-4_ecephys+image.nwb"

needs_shared = pytest.mark.skipif(
    not LISTING_000006.is_file(),
    reason=f"{DANDI} (the archive's metadata and copies of its assets) is absent",
)


def _listing(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _manifest() -> list[dict[str, str]]:
    rows = (DANDI / "000006" / "MANIFEST.tsv").read_text().splitlines()
    fields = ["path", "asset_id", "size", "sha256", "download_url", "found"]
    return [dict(zip(fields, r.split("\t"), strict=False)) for r in rows if not r.startswith("#")]


def test_the_lock_pins_every_real_asset_fully():
    lock = load_lock(ROOT / "assets.lock")
    real = [a for a in lock.values() if not a.is_demo]
    empty = [a.key for a in real if not (a.version and a.size and a.sha256 and a.url)]
    assert real and not empty, f"entries without version, size, sha256 or url: {empty}"
    assert all(a.version.lower() != "draft" for a in real)


@needs_shared
def test_the_lock_pins_all_of_000006_as_the_archive_lists_it():
    listing = _listing(LISTING_000006)
    lock = load_lock(ROOT / "assets.lock")
    pinned = {a.path: a for a in lock.values() if a.dandiset == "000006"}
    assert len(listing["assets"]) == 53 and set(pinned) == {a["path"] for a in listing["assets"]}
    for record in listing["assets"]:
        entry = pinned[record["path"]]
        assert (entry.version, entry.asset_id, entry.size, entry.sha256) == (
            "0.220126.1855", record["asset_id"], record["size"], record["sha256"],
        )  # fmt: skip
    human = next(a for a in lock.values() if a.dandiset == "000207")
    (record,) = [r for r in _listing(LISTING_000207)["assets"] if r["path"] == HUMAN]
    assert (human.version, human.asset_id, human.sha256) == (
        "0.220216.0323", record["asset_id"], record["sha256"],
    )  # fmt: skip
    allen = next(a for a in lock.values() if a.dandiset == "000021")
    assert allen.version == "0.251116.2246"
    assert allen.asset_id == "224b57e5-c9a3-46ef-85db-966713f3ccbe"


@needs_shared
def test_the_copies_here_are_the_pinned_bytes():
    lock = {a.path: a for a in load_lock(ROOT / "assets.lock").values() if a.dandiset == "000006"}
    for row in _manifest():
        assert (
            lock[row["path"]].sha256 == row["sha256"] == sha256_file(DANDI / "000006" / row["path"])
        )


@needs_shared
def test_pin_from_the_api_and_from_the_metadata_give_the_same_entry():
    """The DANDI API (here a mirror on 127.0.0.1 serving the real asset ids) and the
    archive's listing must pin the same asset, sha256 and size, through the same checks."""
    listing = _listing(LISTING_000006)
    archive = Archive.from_listing(LISTING_000006, DANDI / "000006")
    path = _manifest()[0]["path"]
    (from_file,) = assets.pin_from_metadata(LISTING_000006, [path], key="k")
    with DandiServer(archive) as server:
        from_api = assets.pin(server.spec(path), key="k", url=server.api_url)
    assert replace(from_api, url="") == replace(from_file, url="")
    assert from_file.url in next(r for r in listing["assets"] if r["path"] == path)["content_url"]
    assert "/api/" not in from_file.url  # the storage URL, as the API pin prefers


@needs_shared
def test_metadata_pins_refuse_what_api_pins_refuse(tmp_path):
    with pytest.raises(AssetError, match="refusing to pin version 'draft'"):
        assets.pin_from_metadata(LISTING_000021, ["x"])
    with pytest.raises(AssetError, match="refusing to pin version 'draft'"):
        assets.pin("000021/draft/sub-1/x.nwb")
    with pytest.raises(AssetError, match=r"'0\.220126' is not a published DANDI version"):
        assets.pin("000006/0.220126/sub-1/x.nwb")
    with pytest.raises(AssetError, match="may only name the published version of a draft"):
        assets.pin_from_metadata(LISTING_000006, version="0.251116.2246")
    broken = _listing(LISTING_000006)
    broken["assets"][0]["sha256"] = ""
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    with pytest.raises(AssetError, match="the metadata has no dandi:sha2-256 digest"):
        assets.pin_from_metadata(tmp_path / "broken.json", [broken["assets"][0]["path"]])
    with pytest.raises(assets.AssetNotFoundError, match=r"no asset at path 'sub-x/y\.nwb'"):
        assets.pin_from_metadata(LISTING_000006, ["sub-x/y.nwb"])
    (tmp_path / "not.json").write_text("[1, 2]")
    with pytest.raises(AssetError, match="not an archive asset listing"):
        assets.pin_from_metadata(tmp_path / "not.json")


@needs_shared
def test_cli_pins_a_whole_listing_and_a_draft_at_its_published_version(tmp_path):
    (tmp_path / "myst.yml").write_text("version: 1\n")
    (tmp_path / "figures_src").mkdir()
    (tmp_path / "assets.lock").write_text("version = 1\n")
    runner = CliRunner()
    base = ["pin", "--root", str(tmp_path), "--metadata"]
    result = runner.invoke(cli.main, [*base, str(LISTING_000006), "--all", "--key-prefix", "alm-"])
    assert result.exit_code == 0, result.output
    lock = load_lock(tmp_path / "assets.lock")
    assert len(lock) == 53 and "alm-anm369962-20170309" in lock
    allen = "sub-707296975/sub-707296975_ses-721123822.nwb"
    result = runner.invoke(cli.main, [*base, str(LISTING_000021), allen, "--key", "allen"])
    assert result.exit_code == 1 and "refusing to pin version 'draft'" in result.output
    result = runner.invoke(
        cli.main,
        [*base, str(LISTING_000021), allen, "--key", "allen", "--version", "0.251116.2246"],
    )
    assert result.exit_code == 0, result.output
    assert load_lock(tmp_path / "assets.lock")["allen"].version == "0.251116.2246"
    again = runner.invoke(cli.main, [*base, str(LISTING_000006), "--all", "--key-prefix", "alm-"])
    assert again.output.count("unchanged") == 53


CELLREG = (
    "https://raw.githubusercontent.com/zivlab/CellReg/{ref}/SampleData/spatial_footprints_01.mat"
)


@pytest.mark.skipif(not (REAL / "cellreg-sample").is_dir(), reason=f"{REAL} is absent")
def test_pin_url_takes_a_commit_never_a_branch():
    local = REAL / "cellreg-sample" / "spatial_footprints_01.mat"
    commit = "e6e14f65d338ffc72ad27c44426920717bea9794"
    entry = assets.pin_url(CELLREG.format(ref=commit), key="c1", file=local)
    assert (entry.dandiset, entry.version) == ("zivlab/CellReg", commit)
    assert entry.sha256 == sha256_file(local) and entry.size == local.stat().st_size
    with pytest.raises(AssetError, match="'master' is a branch or tag, which can move"):
        assets.pin_url(CELLREG.format(ref="master"), key="c1", file=local)
    with pytest.raises(AssetError, match="a GitHub repository"):
        assets.pin_url("https://example.org/x.mat", key="c1", file=local)


@pytest.fixture
def human():
    lock = load_lock(ROOT / "assets.lock")
    return lock["human-mtl-sub-4-ses-4"]


@needs_shared
def test_fetch_from_a_local_copy_verifies_it_and_refuses_a_wrong_byte(human, tmp_path):
    cache = tmp_path / "cache"
    bad = tmp_path / "bad" / "000207" / HUMAN
    bad.parent.mkdir(parents=True)
    shutil.copyfile(DANDI / "000207" / HUMAN, bad)
    data = bytearray(bad.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit
    bad.write_bytes(bytes(data))
    with pytest.raises(AssetHashError, match=rf"the local copy {re.escape(str(bad))} has sha256"):
        assets.fetch(human, cache=cache, sources=[tmp_path / "bad"])
    target = assets.local_path(human, cache)
    assert not target.exists() and not list(target.parent.glob("*.part*"))  # nothing entered
    path = assets.fetch(human, cache=cache, sources=[tmp_path / "bad", DANDI])
    assert sha256_file(path) == human.sha256 and assets.is_fetched(human, cache)


@needs_shared
def test_cli_fetch_from_seeds_what_it_holds_and_names_what_it_does_not(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("DANDI_API_URL", raising=False)
    # Keys: two sessions held here, one that is not (fetching it needs the network).
    held = [assets.key_for(r["path"], "alm-") for r in _manifest()[:2]]
    listed = {r["path"] for r in _listing(LISTING_000006)["assets"]}
    absent = assets.key_for(sorted(listed - {r["path"] for r in _manifest()})[0], "alm-")
    args = ["fetch", "--root", str(ROOT), "--from", str(DANDI), *held]
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 0, result.output
    for key in held:
        assert f"{key}\t{tmp_path / 'cache'}" in result.output
    lock = load_lock(ROOT / "assets.lock")
    lock[absent] = replace(lock[absent], url="http://127.0.0.1:9/blobs/x")  # unreachable here
    monkeypatch.setattr(assets, "load_lock", lambda path, **kw: lock)
    result = CliRunner().invoke(
        cli.main, ["fetch", "--root", str(ROOT), "--from", str(DANDI), absent, *held]
    )
    assert result.exit_code == 1
    assert f"1 of 3 asset(s) not fetched:\ncannot download {absent}" in result.output


@needs_shared
def test_fetch_through_a_mirror_of_the_archive_by_asset_id(human, tmp_path, monkeypatch):
    listing = _listing(LISTING_000207)
    archive = Archive.from_listing(LISTING_000207, DANDI / "000207")
    assert human.asset_id in archive.assets  # served under its real id
    with DandiServer(archive) as server:
        monkeypatch.setenv("DANDI_API_URL", server.api_url)
        assert assets.download_url(human) == f"{server.api_url}/assets/{human.asset_id}/download/"
        with server.traffic() as cost:
            path = assets.fetch(human, cache=tmp_path, progressbar=False)
    assert sha256_file(path) == human.sha256
    assert cost.bytes_whole == human.size  # the whole file crossed the wire once, pooch's GET
    assert listing["version"] == human.version


@needs_shared
def test_a_mirror_that_lacks_one_asset_still_serves_the_next(tmp_path, monkeypatch):
    """HTTP 404 for one asset is that asset's problem: the host is up, so the assets after
    it are still downloaded (only an unreachable host stops the rest)."""
    lock = load_lock(ROOT / "assets.lock")
    sessions = sorted(k for k in lock if k.startswith("alm-"))
    archive = Archive.from_listing(LISTING_000006, DANDI / "000006")
    held = [k for k in sessions if lock[k].asset_id in archive.assets]
    absent = [k for k in sessions if lock[k].asset_id not in archive.assets]
    wanted = [lock[absent[0]], lock[held[0]], lock[held[1]]]
    with DandiServer(archive) as server:
        monkeypatch.setenv("DANDI_API_URL", server.api_url)
        fetched = assets.fetch_all(wanted, cache=tmp_path, progressbar=False)
    assert sorted(fetched.paths) == sorted(held[:2])
    assert list(fetched.errors) == [absent[0]]
    assert "answered HTTP 404" in fetched.errors[absent[0]]


@needs_shared
def test_a_mirror_serving_wrong_bytes_leaves_the_cache_empty(human, tmp_path, monkeypatch):
    archive = Archive.from_listing(LISTING_000207, DANDI / "000207")
    archive.assets[human.asset_id].corrupt = True
    with DandiServer(archive) as server:
        monkeypatch.setenv("DANDI_API_URL", server.api_url)
        with pytest.raises(AssetHashError, match="the download was deleted"):
            assets.fetch(human, cache=tmp_path, progressbar=False)
    assert not assets.local_path(human, tmp_path).exists()


@needs_shared
def test_a_listing_whose_copy_differs_is_not_served(tmp_path):
    folder = tmp_path / "000207"
    (folder / "sub-4").mkdir(parents=True)
    (folder / HUMAN).write_bytes(b"not the asset")
    with pytest.raises(ValueError, match=r"has sha256 .* but .* lists"):
        Archive.from_listing(LISTING_000207, folder)


def test_key_for_drops_labels_and_suffixes():
    assert assets.key_for("sub-anm369962/sub-anm369962_ses-20170309.nwb", "alm-") == (
        "alm-anm369962-20170309"
    )
    assert assets.key_for("sub-4/sub-4_ses-4_ecephys+image.nwb") == "4-4"
