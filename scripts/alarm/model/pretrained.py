"""Pretrained networks from the Hugging Face hub, pinned and materialised locally.

Every stage loads its networks from ``results/pretrained/{role}/``; at paper
scale that directory is a hub snapshot at the configured revision (with the
resolved commit recorded in ``source.json``), in the default configuration
it is a tiny model from :mod:`alarm.model.tiny`. One loading path for both.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from alarm.shards import write_json

log = logging.getLogger(__name__)


class DownloadError(RuntimeError):
    pass


def download_pretrained(hub: dict[str, Any], out: str | Path) -> Path:
    """Snapshot ``hub['repo']`` at ``hub['revision']`` into ``out``."""
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import HfHubHTTPError

    out = Path(out)
    repo, revision = hub["repo"], hub.get("revision", "main")
    token = os.environ.get("HF_TOKEN")
    try:
        commit = HfApi().model_info(repo, revision=revision, token=token).sha
        snapshot_download(repo_id=repo, revision=commit, local_dir=out, token=token)
    except (HfHubHTTPError, OSError) as err:
        raise DownloadError(
            f"could not download {repo}@{revision}: {err}. If the repository is gated, "
            "accept its terms on huggingface.co and export HF_TOKEN; on clusters whose compute "
            "nodes have no internet, run this rule on the login node (it is a localrule)."
        ) from err
    write_json({"repo": repo, "revision": revision, "commit": commit}, out / "source.json")
    log.info("downloaded %s@%s (%s) to %s", repo, revision, commit, out)
    return out
