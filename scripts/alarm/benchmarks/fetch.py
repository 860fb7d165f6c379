"""Transfers for the benchmark downloads: hub files and snapshots at pinned revisions,
plain URLs with a checksum, Google Drive files, and archive unpacking.

Each transfer is recorded in ``<dest>/download.json`` (what, from where, at
which revision, and the sha256 of single files), so a run can later show
exactly which benchmark files it scored.
"""

from __future__ import annotations

import json
import logging
import subprocess
import tarfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from alarm.shards import atomic_path, file_checksum, write_json

log = logging.getLogger(__name__)

MANIFEST = "download.json"


class ChecksumError(RuntimeError):
    pass


def _record(dest: Path, entry: dict[str, Any]) -> None:
    path = dest / MANIFEST
    entries = json.loads(path.read_text()) if path.exists() else []
    write_json([*entries, entry], path)


def hub_file(repo: str, filename: str, revision: str, dest: Path) -> Path:
    """One file of a hub dataset repo at ``revision``, kept at its repo path under ``dest``."""
    from huggingface_hub import hf_hub_download

    path = Path(
        hf_hub_download(
            repo_id=repo, repo_type="dataset", filename=filename, revision=revision, local_dir=dest
        )
    )
    sha256 = file_checksum(path)
    _record(dest, {"hub": repo, "revision": revision, "file": filename, "sha256": sha256})
    return path


def hub_snapshot(
    repo: str,
    revision: str,
    dest: Path,
    allow: list[str],
    ignore: list[str] | None = None,
    attempts: int = 5,
    wait_s: float = 300.0,
) -> None:
    """The files of a hub dataset repo matching ``allow`` at ``revision``.

    Repos of many small files (MMSU, AIR-Bench) hit the hub's rate limits; the
    authors rerun their script until it succeeds. A retry resumes: files already
    present are not fetched again.
    """
    from huggingface_hub import snapshot_download

    for attempt in range(1, attempts + 1):
        try:
            snapshot_download(
                repo_id=repo,
                repo_type="dataset",
                revision=revision,
                allow_patterns=allow,
                ignore_patterns=ignore,
                local_dir=dest,
            )
            break
        except OSError as err:  # requests and hub HTTP errors are OSErrors
            if attempt == attempts:
                raise
            log.warning(
                "%s: attempt %d failed (%s); retrying in %.0f s", repo, attempt, err, wait_s
            )
            time.sleep(wait_s)
    _record(dest, {"hub": repo, "revision": revision, "allow": allow, "ignore": ignore or []})


def url_file(url: str, target: Path, sha256: str | None = None) -> Path:
    """``url`` saved as ``target``; a pinned ``sha256`` that does not match is an error."""
    with atomic_path(target) as tmp, urllib.request.urlopen(url, timeout=120) as response:
        tmp.write_bytes(response.read())
        got = file_checksum(tmp)
        if sha256 is not None and got != sha256:
            raise ChecksumError(f"{url}: sha256 {got}, expected {sha256}")
    _record(target.parent, {"url": url, "file": target.name, "sha256": got})
    return target


def gdrive_file(file_id: str, target: Path) -> Path:
    """A Google Drive file, fetched with gdown as the authors do."""
    target.parent.mkdir(parents=True, exist_ok=True)
    url = f"https://drive.google.com/file/d/{file_id}/view"
    try:
        subprocess.run(["gdown", "--fuzzy", url, "-O", str(target)], check=True)
    except FileNotFoundError as err:
        raise RuntimeError("gdown is not installed; it comes with the data image") from err
    except subprocess.CalledProcessError as err:
        raise RuntimeError(
            f"gdown could not fetch {url}; Drive limits the downloads of popular files, "
            "so retry later"
        ) from err
    sha256 = file_checksum(target)
    _record(target.parent, {"gdrive": file_id, "file": target.name, "sha256": sha256})
    return target


def unpack(archive: Path, dest: Path) -> None:
    """Extract a (compressed) tarball into ``dest``, then delete it to halve the disk use."""
    with tarfile.open(archive) as tar:
        # The "data" filter refuses absolute paths, links out of dest and device files.
        tar.extractall(dest, filter="data")
    archive.unlink()
    log.info("unpacked %s into %s", archive.name, dest)
