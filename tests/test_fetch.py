"""alarm.fetch on local files only: archives recognised by content, path-safe extraction,
unpack and completion markers, the manifest, and reruns after a killed run."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import shutil
import stat
import subprocess
import tarfile
import types
import zipfile
from pathlib import Path

import pytest

from alarm import fetch

FILES = {"corpus/a.txt": b"alpha\n", "corpus/sub/b.bin": bytes(range(256)) * 40}


def _zip(path: Path, files=FILES) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def _tar_bytes(files=FILES, mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _tar(path: Path, mode: str = "w", files=FILES) -> Path:
    path.write_bytes(_tar_bytes(files, mode))
    return path


def _zip_link(zf: zipfile.ZipFile, name: str, target: str) -> None:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # unix: the mode bits below are read
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    zf.writestr(info, target)


def _tar_member(tar: tarfile.TarFile, name: str, data: bytes = b"x", **attrs) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data) if not attrs else 0
    for key, value in attrs.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data) if not attrs else None)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _assert_unpacked(dest: Path) -> None:
    for name, data in FILES.items():
        assert (dest / name).read_bytes() == data


# --- detection by content ------------------------------------------------------------


def test_formats_are_told_by_content_not_by_name(tmp_path):
    # Every name lies about what the file is.
    cases = {
        "zip": _zip(tmp_path / "data.tar.gz"),
        "tar": _tar(tmp_path / "download"),
        "tar.gz": _tar(tmp_path / "x.zip?download=1", "w:gz"),
        "tar.bz2": _tar(tmp_path / "archive.zip", "w:bz2"),
        "tar.xz": _tar(tmp_path / "archive.7z", "w:xz"),
    }
    for fmt, path in cases.items():
        assert fetch.archive_format(path) == fmt, path.name


def test_things_that_are_not_archives(tmp_path):
    text = tmp_path / "notes.zip"
    text.write_text("PK is not enough\n")
    lone_gz = tmp_path / "metadata.tar.gz"  # gzip, but of JSON, not of a tar
    lone_gz.write_bytes(gzip.compress(json.dumps({"a": 1}).encode() * 100))
    lone_bz2 = tmp_path / "x.tar.bz2"
    lone_bz2.write_bytes(bz2.compress(b"not a tar" * 200))
    broken_xz = tmp_path / "x.tar.xz"
    broken_xz.write_bytes(lzma.compress(_tar_bytes())[:40])  # the magic, then garbage
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    for path in (text, lone_gz, lone_bz2, broken_xz, empty):
        assert fetch.archive_format(path) is None, path.name
    with pytest.raises(fetch.ArchiveError, match=r"notes\.zip"):
        fetch.unpack(text, tmp_path / "out")
    assert text.exists()  # what could not be unpacked is not deleted


def test_an_empty_tar_is_a_tar(tmp_path):
    path = _tar(tmp_path / "flac_T_ac", files={})
    assert fetch.archive_format(path) == "tar"
    fetch.unpack(path, tmp_path / "out")
    assert not path.exists() and (tmp_path / "out" / ".flac_T_ac.unpacked").is_file()


def test_7z_by_content_and_unpacked(tmp_path, installed):
    installed("7z")
    src = tmp_path / "src"
    for name, data in FILES.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(data)
    archive = tmp_path / "clotho.bin"
    subprocess.run(["7z", "a", str(archive.with_suffix(".7z")), "corpus"], cwd=src, check=True,
                   capture_output=True)  # fmt: skip
    archive.with_suffix(".7z").rename(archive)
    assert fetch.archive_format(archive) == "7z"
    fetch.unpack(archive, tmp_path / "out")
    _assert_unpacked(tmp_path / "out")
    assert not archive.exists()


def test_7z_links_are_refused(tmp_path, installed):
    installed("7z")
    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.txt").write_text("fine")
    os.symlink("../../../../etc/passwd", src / "evil")
    archive = tmp_path / "links.7z"
    subprocess.run(["7z", "a", "-snl", str(archive), "ok.txt", "evil"], cwd=src, check=True,
                   capture_output=True)  # fmt: skip
    with pytest.raises(fetch.UnsafeArchiveError, match=r"links\.7z.*'evil'"):
        fetch.unpack(archive, tmp_path / "out")
    assert not (tmp_path / "out" / "ok.txt").exists()  # refused before anything is written


# --- unpacking -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["zip", "w", "w:gz", "w:bz2", "w:xz"])
def test_unpack_extracts_marks_and_deletes(tmp_path, mode):
    archive = tmp_path / "download"  # a URL's last segment: no extension at all
    _zip(archive) if mode == "zip" else _tar(archive, mode)
    dest = tmp_path / "out"
    assert fetch.unpack(archive, dest) == dest
    _assert_unpacked(dest)
    assert not archive.exists()
    marker = json.loads((dest / ".download.unpacked").read_text())
    assert marker["format"] == {"zip": "zip", "w": "tar"}.get(mode, mode.replace("w:", "tar."))


def test_unpack_keep_keeps_the_archive_and_a_rerun_is_a_no_op(tmp_path):
    archive = _tar(tmp_path / "train-clean-100.tar.gz", "w:gz")
    dest = tmp_path / "out"
    fetch.unpack(archive, dest, keep=True)
    assert archive.exists()
    (dest / "corpus" / "a.txt").unlink()  # a rerun must not touch what was unpacked
    fetch.unpack(archive, dest, keep=True)
    assert not (dest / "corpus" / "a.txt").exists()


def test_a_run_killed_mid_extraction_is_redone(tmp_path):
    archive = _zip(tmp_path / "VCTK-Corpus.zip")
    dest = tmp_path / "out"
    # What a killed run leaves: part of the tree, a truncated file, no marker, the archive.
    (dest / "corpus").mkdir(parents=True)
    (dest / "corpus" / "a.txt").write_bytes(b"alp")
    fetch.unpack(archive, dest)
    _assert_unpacked(dest)
    assert (dest / ".VCTK-Corpus.zip.unpacked").is_file()


def test_missing_archive_says_to_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="download"):
        fetch.unpack(tmp_path / "nsynth-train.jsonwav.tar.gz", tmp_path)


def test_split_archive_parts_are_one_stream(tmp_path):
    data = _tar_bytes(mode="w:gz")
    size = -(-len(data) // 5)
    parts = []
    for i in range(5):  # pieces far smaller than a tar block: detection reads across them
        parts.append(tmp_path / f"en_part_{i:02d}")
        parts[-1].write_bytes(data[i * size : (i + 1) * size])
    assert fetch.archive_format(parts) == "tar.gz"
    with pytest.raises(ValueError, match="name"):
        fetch.unpack(parts, tmp_path / "out")
    fetch.unpack(parts, tmp_path / "out", keep=True, name="en_parts")
    _assert_unpacked(tmp_path / "out")
    assert (tmp_path / "out" / ".en_parts.unpacked").is_file()
    assert all(p.exists() for p in parts)


def test_without_marker_the_deletion_is_the_evidence(tmp_path):
    archive = _zip(tmp_path / "src" / "NISQA_Corpus.zip")
    dest = tmp_path / "src"
    fetch.unpack(archive, dest, marker=False)
    _assert_unpacked(dest)
    assert sorted(p.name for p in dest.iterdir()) == ["corpus"]
    with pytest.raises(ValueError, match="marker"):
        fetch.unpack(archive, dest, keep=True, marker=False)


# --- unsafe members ------------------------------------------------------------------


def _unsafe(archive: Path, dest: Path, member: str) -> fetch.UnsafeArchiveError:
    with pytest.raises(fetch.UnsafeArchiveError) as caught:
        fetch.unpack(archive, dest)
    err = caught.value
    assert err.member == member and err.archive.endswith(archive.name)
    assert archive.name in str(err) and repr(member) in str(err)
    assert archive.exists() and not (dest / f".{archive.name}.unpacked").exists()
    return err


def test_zip_member_climbing_out_is_refused_before_anything_is_written(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("corpus/ok.txt", "fine")
        zf.writestr("../escaped.txt", "gotcha")
    dest = tmp_path / "a" / "out"
    _unsafe(archive, dest, "../escaped.txt")
    assert not (tmp_path / "a" / "escaped.txt").exists()
    assert not (dest / "corpus" / "ok.txt").exists()  # all names are checked first


def test_zip_absolute_member_is_refused(tmp_path):
    outside = tmp_path / "abs_target.txt"
    archive = tmp_path / "abs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(str(outside), "gotcha")
    err = _unsafe(archive, tmp_path / "out", str(outside))
    assert "absolute" in str(err)
    assert not outside.exists()


def test_zip_link_out_of_dest_is_refused(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        _zip_link(zf, "corpus/passwd", "../../../etc/passwd")
    _unsafe(archive, tmp_path / "out", "corpus/passwd")
    assert not os.path.lexists(tmp_path / "out" / "corpus" / "passwd")


def test_zip_absolute_link_is_refused(tmp_path):
    archive = tmp_path / "abslink.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        _zip_link(zf, "passwd", "/etc/passwd")
    _unsafe(archive, tmp_path / "out", "passwd")


def test_zip_link_through_a_link_is_refused(tmp_path):
    # "d/up" points at dest itself (allowed); "d/up/l" -> "../x" is dest/../x: out.
    archive = tmp_path / "chain.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("d/", "")
        _zip_link(zf, "d/up", "..")
        _zip_link(zf, "d/up/l", "../x")
    _unsafe(archive, tmp_path / "out", "d/up/l")


def test_zip_link_inside_dest_is_a_link(tmp_path):
    archive = tmp_path / "inner.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("corpus/a.txt", "alpha")
        _zip_link(zf, "corpus/latest.txt", "a.txt")
    fetch.unpack(archive, tmp_path / "out")
    link = tmp_path / "out" / "corpus" / "latest.txt"
    assert link.is_symlink() and link.read_text() == "alpha"


def test_tar_member_climbing_out_is_refused(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        _tar_member(tar, "corpus/ok.txt")
        _tar_member(tar, "corpus/../../escaped.txt")
    _unsafe(archive, tmp_path / "a" / "out", "corpus/../../escaped.txt")
    assert not (tmp_path / "a" / "escaped.txt").exists()


def test_tar_absolute_member_is_refused(tmp_path):
    # The data filter alone would strip the "/" and extract it inside; it is refused instead.
    archive = tmp_path / "abs.tar"
    with tarfile.open(archive, "w") as tar:
        _tar_member(tar, "/etc/cron.d/evil")
    err = _unsafe(archive, tmp_path / "out", "/etc/cron.d/evil")
    assert "absolute" in str(err)
    assert not (tmp_path / "out" / "etc").exists()


@pytest.mark.parametrize(
    ("name", "attrs"),
    [
        ("abs_link", {"type": tarfile.SYMTYPE, "linkname": "/etc/passwd"}),
        ("up_link", {"type": tarfile.SYMTYPE, "linkname": "../../outside"}),
        ("hard_link", {"type": tarfile.LNKTYPE, "linkname": "../outside"}),
        ("device", {"type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 3}),
    ],
)
def test_tar_links_and_devices_out_of_dest_are_refused(tmp_path, name, attrs):
    archive = tmp_path / f"{name}.tar"
    with tarfile.open(archive, "w") as tar:
        _tar_member(tar, name, **attrs)
    err = _unsafe(archive, tmp_path / "out", name)
    assert "refused" in str(err)
    assert not os.path.lexists(tmp_path / "out" / name)


# --- the manifest and transfers ------------------------------------------------------


@pytest.fixture
def transfers(monkeypatch):
    """``fetch.transfer`` copying from local files; the URLs asked for are listed."""
    calls = []

    def copy(url, target):
        calls.append(url)
        shutil.copyfile(url.removeprefix("file://").split("?")[0], target)

    monkeypatch.setattr(fetch, "transfer", copy)
    return calls


def test_url_file_records_sha256_and_size(tmp_path, transfers):
    src = tmp_path / "remote.bin"
    src.write_bytes(b"payload" * 1000)
    dest = tmp_path / "dest"
    url = f"file://{src}?download=1"
    target = fetch.url_file(url, dest / fetch.url_filename(url))
    assert target == dest / "remote.bin" and target.read_bytes() == src.read_bytes()
    [entry] = fetch.manifest(dest)
    assert entry["source"] == {"url": url, "path": "remote.bin"}
    assert entry["files"] == [
        {"path": "remote.bin", "size": 7000, "sha256": _sha256(src.read_bytes())}
    ]
    assert not (dest / "remote.bin.part").exists()
    fetch.url_file(url, target)  # recorded and in place: not fetched again
    assert transfers == [url]


def test_url_file_pinned_checksum(tmp_path, transfers):
    src = tmp_path / "meta.json"
    src.write_text("{}")
    url = f"file://{src}"
    with pytest.raises(fetch.ChecksumError, match=r"meta\.json .* not the pinned 0000"):
        fetch.url_file(url, tmp_path / "dest" / "meta.json", "0" * 64)
    assert not (tmp_path / "dest" / "meta.json").exists()
    assert not (tmp_path / "dest" / "meta.json.part").exists()
    assert fetch.manifest(tmp_path / "dest") == []
    fetch.url_file(url, tmp_path / "dest" / "meta.json", _sha256(b"{}"))
    assert fetch.manifest(tmp_path / "dest")[0]["files"][0]["sha256"] == _sha256(b"{}")


def test_unrecorded_or_changed_files_are_fetched_again(tmp_path, transfers):
    src = tmp_path / "corpus.zip"
    src.write_bytes(b"the real bytes")
    dest = tmp_path / "dest"
    url = f"file://{src}"
    (dest).mkdir()
    (dest / "corpus.zip").write_bytes(b"the real")  # a killed run's file, never recorded
    fetch.url_file(url, dest / "corpus.zip")
    assert (dest / "corpus.zip").read_bytes() == b"the real bytes"
    (dest / "corpus.zip").write_bytes(b"truncated")  # no longer what the manifest says
    fetch.url_file(url, dest / "corpus.zip")
    assert (dest / "corpus.zip").read_bytes() == b"the real bytes"
    assert transfers == [url, url]
    assert len(fetch.manifest(dest)) == 1


def test_curl_fetches_a_file_url_and_continues_a_part(tmp_path, installed):
    installed("curl")
    src = tmp_path / "remote.bin"
    src.write_bytes(bytes(range(256)) * 100)
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "remote.bin.part").write_bytes(src.read_bytes()[:1000])  # a killed transfer
    fetch.url_file(f"file://{src}", dest / "remote.bin")
    assert (dest / "remote.bin").read_bytes() == src.read_bytes()
    assert fetch.manifest(dest)[0]["files"][0]["sha256"] == _sha256(src.read_bytes())


def test_an_unpacked_download_is_not_fetched_again(tmp_path, transfers):
    src = _zip(tmp_path / "master.zip")
    dest = tmp_path / "dest"
    url = f"file://{src}"
    archive = fetch.url_file(url, dest / "master.zip")
    fetch.unpack(archive, dest)
    [entry] = fetch.manifest(dest)
    assert entry["files"][0]["unpacked"] is True
    assert entry["files"][0]["sha256"] == _sha256(src.read_bytes())
    fetch.url_file(url, dest / "master.zip")
    fetch.unpack(dest / "master.zip", dest, marker=False)  # noted in the manifest: skipped
    assert transfers == [url]


def test_completion_marker(tmp_path):
    request = {"dataset": "esc50", "source": {"type": "url", "urls": ["u"]}}
    assert not fetch.already_complete(tmp_path, request)
    fetch.mark_complete(tmp_path, request)
    assert fetch.already_complete(tmp_path, json.loads(json.dumps(request)))
    changed = {"dataset": "esc50", "source": {"type": "url", "urls": ["v"]}}
    assert not fetch.already_complete(tmp_path, changed)
    assert not (tmp_path / fetch.COMPLETE).exists()  # removed: a killed rerun cannot pass
    assert not fetch.already_complete(tmp_path, request)


# --- the callers ---------------------------------------------------------------------

MRIDANGAM = {"mridangam_stroke_1.5/C/a__b__bheem-C-1.wav": b"RIFF"}
ZIP = "mridangam_stroke_1.5.zip"


def _mridangam_source(tmp_path) -> dict:
    remote = _zip(tmp_path / "remote" / "mridangam_stroke_1.5.zip", MRIDANGAM)
    return {"type": "url", "urls": [f"file://{remote}?download=1"]}


def test_download_source_manifest_marker_and_rerun(tmp_path, transfers):
    from alarm.data.sources.download import download_source

    source = _mridangam_source(tmp_path)
    dest = tmp_path / "sources" / "mridangam"
    download_source("mridangam", source, dest)
    assert (dest / "mridangam_stroke_1.5" / "C" / "a__b__bheem-C-1.wav").read_bytes() == b"RIFF"
    assert not (dest / ZIP).exists()  # unpacked by the converter, deleted
    [entry] = fetch.manifest(dest)
    remote = (tmp_path / "remote" / ZIP).read_bytes()
    assert entry["files"] == [
        {"path": ZIP, "size": len(remote), "sha256": _sha256(remote), "unpacked": True}
    ]
    assert json.loads((dest / fetch.COMPLETE).read_text())["request"]["dataset"] == "mridangam"
    download_source("mridangam", source, dest)  # complete: nothing is done
    assert len(transfers) == 1


def test_download_source_after_a_killed_extraction(tmp_path, transfers, monkeypatch):
    from alarm.data.sources.download import download_source

    source = _mridangam_source(tmp_path)
    dest = tmp_path / "mridangam"

    def killed(zf, member, path=None, pwd=None):
        raise KeyboardInterrupt  # SIGINT in the middle of the extraction

    monkeypatch.setattr(zipfile.ZipFile, "extract", killed)
    with pytest.raises(KeyboardInterrupt):
        download_source("mridangam", source, dest)
    # No output yet (Snakemake would delete it); the archive waits in the staging folder.
    staging = fetch.staging_dir(dest)
    assert not dest.exists() and staging == tmp_path / "mridangam.download"
    assert not (staging / fetch.COMPLETE).exists()
    assert not (staging / f".{ZIP}.unpacked").exists() and (staging / ZIP).exists()
    monkeypatch.undo()
    monkeypatch.setattr(fetch, "transfer", lambda url, target: transfers.append(url))
    download_source("mridangam", source, dest)
    assert len(transfers) == 1  # the finished transfer was recorded: not done again
    assert (dest / "mridangam_stroke_1.5" / "C" / "a__b__bheem-C-1.wav").is_file()
    assert (dest / fetch.COMPLETE).is_file() and dest.readlink() == Path(staging.name)


def test_a_download_whose_output_was_deleted_continues_its_partial_file(tmp_path, monkeypatch):
    """As after a failed job (Snakemake deletes its output): the partial file in the
    staging folder is continued; a finished download is reused for another request."""
    from alarm.data.sources.download import download_source

    source = _mridangam_source(tmp_path)
    dest = tmp_path / "mridangam"
    staging = fetch.staging_dir(dest)
    remote = (tmp_path / "remote" / ZIP).read_bytes()
    staging.mkdir()
    (staging / f"{ZIP}.part").write_bytes(remote[:100])
    resumed = []

    def transfer(url, target):  # as curl -C -: what the partial file lacks is appended
        if ZIP not in url:
            shutil.copyfile(url.removeprefix("file://"), target)
            return
        resumed.append(target.stat().st_size)
        with target.open("ab") as f:
            f.write(remote[target.stat().st_size :])

    monkeypatch.setattr(fetch, "transfer", transfer)
    download_source("mridangam", source, dest)
    assert resumed == [100] and (dest / "mridangam_stroke_1.5").is_dir()
    # A changed request (one more file) reruns the job, and Snakemake deletes its output
    # first: only the link, so the finished download's files are found and reused.
    dest.unlink()
    extra = tmp_path / "remote" / "notes.txt"
    extra.write_text("n")
    download_source("mridangam", source | {"files": [f"file://{extra}"]}, dest)
    assert resumed == [100] and (dest / "notes.txt").read_text() == "n"
    assert (dest / "mridangam_stroke_1.5").is_dir()
    # A folder left by hand where the link goes is taken into the download.
    dest.unlink()
    shutil.move(staging, dest)
    download_source("mridangam", source, dest)
    assert resumed == [100] and dest.is_symlink() and (dest / "mridangam_stroke_1.5").is_dir()


def test_download_source_checks_credentials_before_any_transfer(tmp_path, transfers, monkeypatch):
    from alarm.data.sources.download import CredentialError, download_source

    monkeypatch.delenv("ALARM_TEST_TOKEN", raising=False)
    source = _mridangam_source(tmp_path) | {"credentials": ["ALARM_TEST_TOKEN"]}
    with pytest.raises(CredentialError, match="ALARM_TEST_TOKEN"):
        download_source("mridangam", source, tmp_path / "dest")
    assert transfers == [] and not (tmp_path / "dest").exists()


def test_kaggle_zip_is_checked_unpacked_and_recorded(tmp_path, monkeypatch):
    remote = _zip(tmp_path / "remote.zip")

    def kaggle(cmd, check):
        assert cmd[:3] == ["kaggle", "datasets", "download"] and "--unzip" not in cmd
        shutil.copyfile(remote, Path(cmd[cmd.index("-p") + 1]) / "gtzan.zip")

    monkeypatch.setattr(fetch.subprocess, "run", kaggle)
    dest = tmp_path / "gtzan"
    fetch.kaggle_dataset("andradaolteanu/gtzan", dest)
    _assert_unpacked(dest)
    assert not (dest / "gtzan.zip").exists()
    [entry] = fetch.manifest(dest)
    assert entry["source"] == {"kaggle": "andradaolteanu/gtzan"}
    assert [(f["path"], f["unpacked"]) for f in entry["files"]] == [("gtzan.zip", True)]


class _FakeHub:
    """huggingface_hub's HfApi and snapshot_download over a dict of files."""

    def __init__(self, files, commit="c0ffee" * 6 + "abcd", fail=0, error=OSError):
        self.files, self.commit, self.fail, self.error, self.calls = files, commit, fail, error, []

    def install(self, monkeypatch):
        import huggingface_hub

        hub = self

        class Api:
            def __init__(self, token=None):
                pass

            def repo_info(self, repo, repo_type=None, revision=None):
                hub.calls.append(("info", repo, repo_type, revision))
                if hub.fail:
                    hub.fail -= 1
                    raise hub.error("429 Too Many Requests")
                siblings = [types.SimpleNamespace(rfilename=n) for n in hub.files]
                return types.SimpleNamespace(sha=hub.commit, siblings=siblings)

        def snapshot_download(repo_id, repo_type, revision, allow_patterns, ignore_patterns,
                              local_dir, token):  # fmt: skip
            hub.calls.append(("snapshot", repo_id, revision))
            from huggingface_hub.utils import filter_repo_objects

            kept = filter_repo_objects(list(hub.files), allow_patterns=allow_patterns,
                                       ignore_patterns=ignore_patterns)  # fmt: skip
            for name in kept:
                (Path(local_dir) / name).parent.mkdir(parents=True, exist_ok=True)
                (Path(local_dir) / name).write_bytes(hub.files[name])
            (Path(local_dir) / ".cache" / "huggingface").mkdir(parents=True, exist_ok=True)

        monkeypatch.setattr(huggingface_hub, "HfApi", Api)
        monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
        monkeypatch.setattr(fetch.time, "sleep", lambda s: None)
        return self


def test_hub_snapshot_records_every_file_at_its_commit(tmp_path, monkeypatch):
    files = {"audio/a.wav": b"a" * 10, "audio/b.wav": b"b" * 20, "meta.json": b"{}"}
    hub = _FakeHub(files, fail=2).install(monkeypatch)
    dest = tmp_path / "mmsu"
    commit = fetch.hub_snapshot("ddwang2000/MMSU", "v1", dest, allow=["audio/**"], wait_s=0)
    assert commit == hub.commit
    assert [c[0] for c in hub.calls] == ["info", "info", "info", "snapshot"]  # 2 retries
    assert hub.calls[-1] == ("snapshot", "ddwang2000/MMSU", hub.commit)  # at the commit
    [entry] = fetch.manifest(dest)
    assert entry["commit"] == hub.commit and entry["source"]["revision"] == "v1"
    assert entry["files"] == [
        {"path": "audio/a.wav", "size": 10, "sha256": _sha256(b"a" * 10)},
        {"path": "audio/b.wav", "size": 20, "sha256": _sha256(b"b" * 20)},
    ]
    assert fetch.hub_snapshot("ddwang2000/MMSU", "v1", dest, allow=["audio/**"]) == hub.commit
    assert len(hub.calls) == 4  # recorded: no new call


def test_a_branch_revision_is_fetched_at_its_commit_with_a_warning_naming_it(
    tmp_path, monkeypatch, caplog
):
    hub = _FakeHub({"config.json": b"{}"}).install(monkeypatch)
    fetch.hub_snapshot("ta012/SSLAM_AS2M_Finetuned", "main", tmp_path / "a", repo_type="model")
    [warning] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "'main' is not a commit" in warning and f"revision: {hub.commit}" in warning
    caplog.clear()
    fetch.hub_snapshot("ta012/SSLAM_AS2M_Finetuned", hub.commit, tmp_path / "b")
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_hub_snapshot_does_not_retry_a_missing_repo(tmp_path, monkeypatch):
    from huggingface_hub.errors import RepositoryNotFoundError

    class Missing(RepositoryNotFoundError):
        def __init__(self, message):
            OSError.__init__(self, message)

    hub = _FakeHub({}, fail=5, error=Missing).install(monkeypatch)
    with pytest.raises(RepositoryNotFoundError):
        fetch.hub_snapshot("nobody/nothing", "main", tmp_path, wait_s=0)
    assert len(hub.calls) == 1


def test_download_pretrained_pins_records_and_skips(tmp_path, monkeypatch):
    from alarm.model.pretrained import DownloadError, download_pretrained

    files = {"config.json": b"{}", "model.safetensors": b"\0" * 64}
    hub = _FakeHub(files).install(monkeypatch)
    out = tmp_path / "whisper"
    spec = {"repo": "openai/whisper-large-v3", "revision": "main"}
    download_pretrained(spec, out)
    assert json.loads((out / "source.json").read_text()) == spec | {"commit": hub.commit}
    [entry] = fetch.manifest(out)
    assert entry["source"]["repo_type"] == "model"
    assert {f["path"]: f["size"] for f in entry["files"]} == {
        "config.json": 2,
        "model.safetensors": 64,
    }
    download_pretrained(spec, out)
    assert len(hub.calls) == 2  # one info, one snapshot: the rerun found it complete

    _FakeHub({}, fail=1).install(monkeypatch)
    with pytest.raises(DownloadError, match="HF_TOKEN"):
        download_pretrained({"repo": "Qwen/Qwen3-4B-Thinking-2507"}, tmp_path / "rlm")
