"""Downloading a source corpus as its config ``source`` block says.

The kinds the paper's corpora use: a hub dataset repo at a pinned revision,
plain URLs (fetched with resume, as the authors' ``curl -L -C -``), a Google
Drive file or folder (gdown), a Kaggle dataset. Credentials named in the
block are checked first, so a missing one fails before any transfer with a
message that says what to set. After the transfer the corpus's converter may
unpack archives (its optional ``prepare``).
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path
from typing import Any

from alarm.data.sources import converter_module

log = logging.getLogger(__name__)


class CredentialError(RuntimeError):
    pass


def check_credentials(dataset: str, source: dict[str, Any]) -> None:
    missing = [name for name in source.get("credentials", []) if not os.environ.get(name)]
    if missing:
        note = f" ({source['note']})" if source.get("note") else ""
        raise CredentialError(
            f"dataset {dataset!r} needs the environment variable(s) {', '.join(missing)}{note}; "
            "export them before running its download rule"
        )


def _fetch_url(url: str, dest: Path) -> None:
    target = dest / url.rstrip("/").split("/")[-1].split("?")[0]
    subprocess.run(["curl", "-fL", "-C", "-", "--retry", "5", "-o", str(target), url], check=True)


def download_source(dataset: str, source: dict[str, Any], dest: str | Path) -> Path:
    """Fetch ``dataset`` into ``dest`` and let its converter unpack it."""
    dest = Path(dest)
    module = converter_module(dataset, source)  # no converter: fail before any transfer
    check_credentials(dataset, source)
    dest.mkdir(parents=True, exist_ok=True)
    kind = source["type"]
    if kind == "hub":
        from huggingface_hub import snapshot_download

        snapshot_download(
            repo_id=source["repo"],
            repo_type="dataset",
            revision=source.get("revision"),
            allow_patterns=source.get("allow_patterns"),
            local_dir=dest,
            token=os.environ.get("HF_TOKEN"),
        )
    elif kind == "url":
        for url in source["urls"]:
            _fetch_url(url, dest)
    elif kind == "gdrive":
        for url in source["urls"]:
            flag = "--folder" if "/folders/" in url else "--fuzzy"
            subprocess.run(["gdown", flag, url, "-O", f"{dest}/"], check=True)
    elif kind == "kaggle":
        for ref in source["urls"]:
            subprocess.run(
                ["kaggle", "datasets", "download", "--unzip", "-p", str(dest), ref], check=True
            )
    else:
        raise ValueError(f"dataset {dataset!r}: source type {kind!r} is not downloadable")
    for url in source.get("files", []):
        _fetch_url(url, dest)
    if hasattr(module, "prepare"):
        module.prepare(dest, source)
    log.info("downloaded %s to %s", dataset, dest)
    return dest
