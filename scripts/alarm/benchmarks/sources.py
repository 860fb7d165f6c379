"""The benchmarks by name: download at pinned revisions, and conversion to schema shards.

Conversion never drops an item: a clip that is missing, empty or cannot be
decoded gives a row with ``audio_error`` set, which generation skips and the
scorers count as wrong, so every benchmark keeps its published size.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from alarm import fetch
from alarm.benchmarks.converters import SourceRecord, airbench, mmar, mmau, mmsu, synthetic
from alarm.benchmarks.schema import BENCHMARK_SCHEMA, benchmark_uid
from alarm.data.audio import AudioError, decode
from alarm.ledger import Ledger
from alarm.sharding import shard_of
from alarm.stage import StageOutput, finish_stage

log = logging.getLogger(__name__)

STAGE = "convert_benchmark"


@dataclass(frozen=True)
class Benchmark:
    metadata: str  # path of the metadata file under the source directory
    records: Callable[[Path], list[SourceRecord]]
    download: Callable[[Path], None] | None = None
    prepare_audio: Callable[[bytes], bytes] | None = None


BENCHMARKS: dict[str, Benchmark] = {
    "mmsu": Benchmark(mmsu.METADATA, mmsu.records, mmsu.download),
    "mmau_test_mini": Benchmark(
        mmau.METADATA["test-mini"],
        partial(mmau.records, split="test-mini"),
        partial(mmau.download, split="test-mini"),
    ),
    "mmau_test": Benchmark(
        mmau.METADATA["test"],
        partial(mmau.records, split="test"),
        partial(mmau.download, split="test"),
    ),
    "mmar": Benchmark(mmar.METADATA, mmar.records, mmar.download),
    "airbench_foundation": Benchmark(
        airbench.METADATA, airbench.records, airbench.download, airbench.crop_clip
    ),
    # Made by the synthetic corpus rule, not downloaded.
    "synthetic": Benchmark(synthetic.METADATA, synthetic.records),
}


def benchmark(name: str) -> Benchmark:
    try:
        return BENCHMARKS[name]
    except KeyError:
        raise ValueError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}") from None


def download_benchmark(name: str, dest: Path) -> None:
    """Fetch benchmark ``name`` into ``dest`` at the authors' pinned revisions."""
    bench = benchmark(name)
    if bench.download is None:
        raise ValueError(f"benchmark {name!r} is made by the workflow, not downloaded")
    # through alarm.fetch: each file in the manifest with its sha256
    fetch.fetch_into(dest, {"benchmark": name}, bench.download)
    log.info("downloaded %s to %s", name, dest)


def _item_ids(records: list[SourceRecord]) -> list[str]:
    """The records' ids, made unique: a repeated id gets its metadata index appended."""
    counts = Counter(r.id for r in records)
    return [r.id if counts[r.id] == 1 else f"{r.id}@{i}" for i, r in enumerate(records)]


def _audio(
    record: SourceRecord, source_dir: Path, prepare: Callable[[bytes], bytes] | None
) -> tuple[bytes, str | None]:
    """The clip's bytes, or empty bytes and the reason it cannot be used."""
    where = record.audio_path.relative_to(source_dir)
    if not record.audio_path.is_file():
        return b"", f"audio_missing: {where} does not exist"
    data = record.audio_path.read_bytes()
    try:
        if prepare is not None:
            return prepare(data), None
        decode(data)  # a clip generation could not decode is found here, not mid-run
    except AudioError as err:
        return b"", f"{err.reason}: {where}: {err.detail}"
    return data, None


def convert_shard(
    name: str, source_dir: Path, shard: int, n_shards: int, limit: int | None, output: Path
) -> Ledger:
    """Write the items of benchmark ``name`` that fall in ``shard`` as a schema shard.

    ``limit`` keeps the first items of the metadata file (before sharding), so a
    limited run scores the same items whatever ``n_shards`` is.
    """
    bench = benchmark(name)
    source_dir = Path(source_dir)
    start = time.perf_counter()
    records = bench.records(source_dir)
    if limit is not None:
        records = records[:limit]
    rows: list[dict[str, Any]] = []
    for index, (record, item_id) in enumerate(zip(records, _item_ids(records), strict=True)):
        uid = benchmark_uid(name, item_id)
        if shard_of(uid, n_shards) != shard:
            continue
        audio, error = _audio(record, source_dir, bench.prepare_audio)
        if error:
            log.warning("%s: %s", uid, error)
        rows.append(
            {
                "uid": uid,
                "benchmark": name,
                "id": item_id,
                "index": index,
                "audio": audio,
                "audio_error": error,
                "question": record.question,
                "choices": record.choices,
                "answer": record.answer,
                "category": record.category,
                "fields": json.dumps(record.record, ensure_ascii=False),
            }
        )
    errors = Counter(r["audio_error"].split(":")[0] for r in rows if r["audio_error"])
    stats = {
        "benchmark_items": len(records),
        "audio_errors": dict(sorted(errors.items())),
        "categories": dict(sorted(Counter(r["category"] for r in rows).items())),
    }
    return finish_stage(
        stage=STAGE,
        inputs=[source_dir / bench.metadata],
        output=output,
        schema=BENCHMARK_SCHEMA,
        uids_in=[r["uid"] for r in rows],
        result=StageOutput(rows=rows, stats=stats),
        seconds=time.perf_counter() - start,
    )
