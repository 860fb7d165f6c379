"""Downloading a source corpus as its config ``source`` block says.

The kinds the paper's corpora use: a hub dataset repo at a pinned revision,
plain URLs (fetched with resume, as the authors' ``curl -L -C -``), a Google
Drive file or folder (gdown), a Kaggle dataset. Credentials named in the
block are checked first, so a missing one fails before any transfer with a
message that says what to set. After the transfer the corpus's converter may
unpack archives (its optional ``prepare``). A URL's file whose sha256 the block
pins (``sha256: {file name: hash}``) is checked. The transfers themselves, the
staging folder that keeps a failed download's bytes for the next launch, the
manifest of what came (sha256 and size of every file) and the completion
marker that makes a rerun a no-op are :mod:`alarm.fetch`'s.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from alarm import fetch
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


def download_source(dataset: str, source: dict[str, Any], dest: str | Path) -> Path:
    """Fetch ``dataset`` into ``dest`` and let its converter unpack it."""
    module = converter_module(dataset, source)  # no converter: fail before any transfer
    check_credentials(dataset, source)
    kind = source["type"]
    if kind not in ("hub", "url", "gdrive", "kaggle"):
        raise ValueError(f"dataset {dataset!r}: source type {kind!r} is not downloadable")
    pinned = source.get("sha256", {})

    def fill(folder: Path) -> None:
        if kind == "hub":
            fetch.hub_snapshot(
                source["repo"],
                source.get("revision", "main"),
                folder,
                allow=source.get("allow_patterns"),
                repo_type="dataset",
            )
        elif kind == "gdrive":
            for url in source["urls"]:
                fetch.gdrive(url, folder)
        elif kind == "kaggle":
            for ref in source["urls"]:
                fetch.kaggle_dataset(ref, folder)
        urls = (source["urls"] if kind == "url" else []) + source.get("files", [])
        for url in urls:
            name = fetch.url_filename(url)
            fetch.url_file(url, folder / name, pinned.get(name))
        if hasattr(module, "prepare"):
            module.prepare(folder, source)

    fetch.fetch_into(dest, {"dataset": dataset, "source": source}, fill)
    log.info("downloaded %s to %s", dataset, dest)
    return Path(dest)
