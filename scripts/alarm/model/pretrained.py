"""Pretrained networks from the Hugging Face hub, pinned and materialised locally.

Every stage loads its networks from ``results/pretrained/{role}/``; at paper
scale that directory is a hub snapshot at the configured revision (with the
resolved commit recorded in ``source.json``, and the sha256 and size of every
file in ``.fetch/manifest.json``), in the default configuration it is a tiny
model from :mod:`alarm.tiny.models`. One loading path for both.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alarm import fetch
from alarm.files import write_json

log = logging.getLogger(__name__)


class DownloadError(RuntimeError):
    pass


def download_pretrained(hub: dict[str, Any], out: str | Path) -> Path:
    """Snapshot ``hub['repo']`` at ``hub['revision']`` into ``out``."""
    repo, revision = hub["repo"], hub.get("revision", "main")

    def fill(folder: Path) -> None:
        # The hub client continues its incomplete files (folder/.cache) after a failure.
        try:
            commit = fetch.hub_snapshot(repo, revision, folder, repo_type="model", attempts=1)
        except OSError as err:  # the hub's HTTP errors are OSErrors
            raise DownloadError(
                f"could not download {repo}@{revision}: {err}. If the repository is gated, "
                "accept its terms on huggingface.co and export HF_TOKEN; on clusters whose "
                "compute nodes have no internet, run this rule on the login node (it is a "
                "localrule)."
            ) from err
        write_json({"repo": repo, "revision": revision, "commit": commit}, folder / "source.json")
        log.info("downloaded %s@%s (%s)", repo, revision, commit)

    return fetch.fetch_into(out, {"repo": repo, "revision": revision}, fill)
