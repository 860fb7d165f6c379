"""FSD50K (authors' fsd50k.py): the ``train`` rows of the dev set, labels as captions.

Download (Zenodo 4060432): the split dev-audio zip (``FSD50K.dev_audio.z01``..``z05``
+ ``.zip``), ``FSD50K.ground_truth.zip`` and ``FSD50K.metadata.zip``. ``prepare``
joins the split zip with ``zip -s 0`` as the authors do and unpacks everything:
``FSD50K.dev_audio/<fname>.wav``, ``FSD50K.ground_truth/dev.csv`` (fname, labels,
mids, split) and ``FSD50K.metadata/collection/collection_dev.csv`` (fname, labels, mids).
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._multi_sound_common import read_csv, unpack

log = logging.getLogger(__name__)


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    source_dir = Path(source_dir)
    if not (source_dir / "FSD50K.dev_audio").is_dir():
        joined = source_dir / "FSD50K_full.zip"
        subprocess.run(
            ["zip", "-s", "0", str(source_dir / "FSD50K.dev_audio.zip"), "--out", str(joined)],
            check=True,
        )
        unpack(joined, source_dir)
        joined.unlink()
    for name in ("FSD50K.ground_truth", "FSD50K.metadata"):
        if not (source_dir / name).is_dir():
            unpack(source_dir / f"{name}.zip", source_dir)


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    source_dir = Path(source_dir)
    collection: dict[str, str] = {}
    for row in read_csv(source_dir / "FSD50K.metadata" / "collection" / "collection_dev.csv"):
        collection.setdefault(row["fname"], row.get("labels") or "")
    for row in read_csv(source_dir / "FSD50K.ground_truth" / "dev.csv"):
        if row.get("split") != "train":
            continue
        fname = row.get("fname")
        if not fname or not row.get("labels"):
            log.warning("fsd50k: row without fname/labels skipped: %s", row)
            continue
        labels = row["labels"].split(",")
        # The authors test isinstance() on the looked-up *row* (a Series), so their collection
        # labels are always empty and never merged. Here the collection labels that are not
        # already ground truth come first, as their code intends; a clip with no collection
        # row (an IndexError for the authors) just has none.
        extra = [c for c in collection.get(fname, "").split(",") if c and c not in labels]
        full = extra + labels
        categories = "/".join(full).replace("_", " ")
        yield SourceItem(
            unique_id_1=fname,
            # The prefix keeps the id from reading like the metadata field (authors' comment).
            unique_id_2=f"labels: {categories}",
            load_audio=(source_dir / "FSD50K.dev_audio" / f"{fname}.wav").read_bytes,
            text=full[0].replace("_", " "),
            text_type="caption",
            metadata={"sound categories": categories},
        )
