"""The raw stage: one shard of a source corpus -> audio bytes, duration and A_text.

Items belong to this shard by a stable hash of their uid (computed from the
ids alone, so no other shard's audio is read). Each item's audio is probed
for its real duration; A_text is built from the duration, text and metadata
exactly as the authors do. An unreadable or empty file or a missing field is a
recorded drop, never a failed shard. A row repeating an earlier row's ids is kept
under a uid of its own, as the authors' tables keep it (``filters.repeated_ids:
keep``), or dropped as ``duplicate_uid``.

The ledger's ``authors_rows_dropped`` stat lists the ids of the dropped rows the
authors' raw table still holds: their split numbers the rows of that table, so
the split needs these rows to place ours (see :mod:`alarm.data.split`).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

from alarm.data.audio import AudioError, probe
from alarm.data.describe import audio_description
from alarm.data.items import RAW_ROW_GROUP_ROWS, RAW_SCHEMA, SourceItem
from alarm.data.sources import converter_for, converter_module
from alarm.ledger import FLAGGED, Drop, Ledger
from alarm.sharding import make_uid, shard_of
from alarm.stage import StageOutput, finish_stage

log = logging.getLogger(__name__)


def describe(item: SourceItem, duration: float, category: str) -> str:
    """A_text of an item; instruction corpora use their transcript (the authors' rename)."""
    if category == "instruction":
        if not item.question:
            raise KeyError("question")
        return item.question
    if item.text is None:
        raise KeyError("text")
    if item.segments is not None:
        return audio_description(item.segments, item.text, item.text_type, **item.metadata)
    return audio_description(duration, item.text, item.text_type, **item.metadata)


def _row(dataset: str, category: str, uid: str, item: SourceItem) -> dict[str, Any]:
    audio = item.load_audio()
    info = probe(audio)
    return {
        "uid": uid,
        "dataset": dataset,
        "unique_id_1": item.unique_id_1,
        "unique_id_2": item.unique_id_2,
        "category": category,
        "audio": audio,
        "sample_rate": info.sample_rate,
        "channels": info.channels,
        "duration": info.duration,
        "audio_description": describe(item, info.duration, category),
        "metadata": json.dumps(item.metadata, ensure_ascii=False, default=str),
        "question": item.question,
        "context": item.context,
        "official_split": item.official_split,
    }


def collect_shard(
    dataset: str, settings: dict[str, Any], shard: int, source_dir: str | Path, output: str | Path
) -> Ledger:
    """Write shard ``shard`` of ``dataset`` (settings: the dataset's config block)."""
    n_shards, category = settings["n_shards"], settings["category"]
    read_items = converter_for(dataset, settings["source"])
    # Their table keeps a repeated id twice and a row that fails later in their pipeline;
    # only a few of their scripts skip a file their decoder rejects before numbering rows.
    skips_unreadable = getattr(
        converter_module(dataset, settings["source"]), "AUTHORS_SKIP_UNREADABLE", False
    )
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    drops: list[Drop] = []
    authors_rows_dropped: list[list[str]] = []
    uids_in: list[str] = []
    seen: Counter[str] = Counter()
    for item in read_items(Path(source_dir), settings["source"]):
        uid = make_uid(dataset, item.unique_id_1, item.unique_id_2)
        if shard_of(uid, n_shards) != shard:
            continue
        ids = [item.unique_id_1, item.unique_id_2]
        seen[uid] += 1
        if seen[uid] > 1:
            if settings["repeated_ids"] == "drop":
                drops.append(Drop(f"{uid}#duplicate{len(uids_in)}", "duplicate_uid", uid))
                uids_in.append(drops[-1].uid)
                authors_rows_dropped.append(ids)
                continue
            # Their table keeps the repeat as a row of its own (after the first: a stable
            # sort by the two ids), so it gets a uid of its own.
            uid = f"{uid}#{seen[uid]}"
        uids_in.append(uid)
        try:
            rows.append(_row(dataset, category, uid, item))
            continue
        except AudioError as err:
            log.warning("%s: %s", uid, err)
            drops.append(Drop(uid, err.reason, err.detail))
            unreadable = True
        except (OSError, KeyError, TypeError, ValueError) as err:
            reason = "missing_metadata" if isinstance(err, KeyError) else "unreadable_item"
            log.warning("%s: %s (%s)", uid, reason, err)
            drops.append(Drop(uid, reason, repr(err)))
            unreadable = isinstance(err, OSError)
        if not (skips_unreadable and unreadable):
            authors_rows_dropped.append(ids)
    stats = {"dataset": dataset, "shard": shard, "authors_rows_dropped": authors_rows_dropped}
    if settings["repeated_ids"] == "keep":
        stats[FLAGGED] = {"repeated_ids": sum(n - 1 for n in seen.values())}
    return finish_stage(
        stage="collect",
        inputs=[],
        output=output,
        schema=RAW_SCHEMA,
        uids_in=uids_in,
        result=StageOutput(rows, drops, stats),
        seconds=time.perf_counter() - start,
        row_group_size=RAW_ROW_GROUP_ROWS,
    )
