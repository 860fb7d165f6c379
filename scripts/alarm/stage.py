"""The shard stage runner: read rows, process, account for every row, write atomically.

Every corpus stage (raw conversion, filters, generation) goes through
:func:`finish_stage`, which refuses to write an output where a row went
missing: each input uid must come out either kept or dropped with a reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from alarm.files import read_shard, write_shard
from alarm.ledger import Drop, Ledger, ledger_path

log = logging.getLogger(__name__)


@dataclass
class StageOutput:
    """What a stage's ``process`` returns: rows to keep, rows dropped, free-form stats."""

    rows: list[dict[str, Any]]
    drops: list[Drop] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


class RowAccountingError(RuntimeError):
    """A stage lost, duplicated or invented rows: a bug in the stage, never bad input."""


def _check_accounting(stage: str, uids_in: Sequence[str], result: StageOutput) -> None:
    kept = [r["uid"] for r in result.rows]
    dropped = [d.uid for d in result.drops]
    if len(set(uids_in)) != len(uids_in):
        raise RowAccountingError(f"{stage}: duplicate uids in the input")
    out = kept + dropped
    if len(set(out)) != len(out):
        raise RowAccountingError(f"{stage}: a uid was both kept and dropped, or emitted twice")
    missing = set(uids_in) - set(out)
    extra = set(out) - set(uids_in)
    if missing or extra:
        raise RowAccountingError(
            f"{stage}: {len(missing)} input rows unaccounted for (e.g. {sorted(missing)[:3]}), "
            f"{len(extra)} rows not in the input (e.g. {sorted(extra)[:3]})"
        )


def finish_stage(
    *,
    stage: str,
    inputs: Iterable[str | Path],
    output: str | Path,
    schema: pa.Schema,
    uids_in: Sequence[str],
    result: StageOutput,
    seconds: float | None = None,
    row_group_size: int | None = None,
) -> Ledger:
    """Check that every input uid is kept or dropped, then write the shard and its ledger."""
    _check_accounting(stage, uids_in, result)
    result.rows.sort(key=lambda r: r["uid"])
    write_shard(result.rows, output, schema, row_group_size)
    stats = dict(result.stats)
    if seconds is not None:
        stats["seconds"] = round(seconds, 3)
    ledger = Ledger(
        stage=stage,
        outputs=[str(output)],
        inputs=[str(p) for p in inputs],
        rows_in=len(uids_in),
        rows_out=len(result.rows),
        drops=sorted(result.drops, key=lambda d: d.uid),
        stats=stats,
    )
    ledger.write(ledger_path(output))
    for reason, n in sorted(ledger.dropped.items()):
        log.warning("%s: dropped %d rows: %s", stage, n, reason)
    log.info("%s: %d rows in, %d out -> %s", stage, ledger.rows_in, ledger.rows_out, output)
    return ledger


def run_shard_stage(
    *,
    stage: str,
    input: str | Path,
    output: str | Path,
    schema: pa.Schema,
    process: Callable[[list[dict[str, Any]]], StageOutput],
) -> Ledger:
    """Run ``process`` over the rows of one input shard and write its output shard."""
    rows = read_shard(input)
    start = time.perf_counter()
    result = process(rows)
    return finish_stage(
        stage=stage,
        inputs=[input],
        output=output,
        schema=schema,
        uids_in=[r["uid"] for r in rows],
        result=result,
        seconds=time.perf_counter() - start,
    )
