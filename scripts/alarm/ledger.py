"""Row accounting beside every stage output.

Each stage writes ``<output>.ledger.json``: how many rows came in, how many
went out, and every dropped row with its reason. ``rows_in == rows_out +
dropped`` always holds; ``alarm check-ledgers`` verifies it for a whole
results tree, together with the row counts of the files on disk and the
hand-over between consecutive stages, and names the stage that breaks it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from alarm.files import count_rows, write_json

LEDGER_SUFFIX = ".ledger.json"
# Stats key: rows a stage kept, per reason a stricter setting would have dropped them for
# (the authors' runs skip a check we apply as a switch), so a run shows what it let through.
FLAGGED = "kept_flagged"


@dataclass(frozen=True)
class Drop:
    """One row a stage did not pass on, and why (``reason`` is a short stable code)."""

    uid: str
    reason: str
    detail: str = ""


@dataclass
class Ledger:
    stage: str
    outputs: list[str]
    inputs: list[str]
    rows_in: int
    rows_out: int
    drops: list[Drop] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def dropped(self) -> dict[str, int]:
        """Dropped rows per reason."""
        return dict(Counter(d.reason for d in self.drops))

    @property
    def flagged(self) -> dict[str, int]:
        """Kept rows per reason a stricter setting would have dropped them for."""
        return {reason: n for reason, n in self.stats.get(FLAGGED, {}).items() if n}

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.rows_out + len(self.drops)

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "outputs": self.outputs,
            "inputs": self.inputs,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "dropped": self.dropped,
            "drops": [asdict(d) for d in self.drops],
            "stats": self.stats,
        }

    def write(self, path: str | Path) -> None:
        write_json(self.to_json(), path)

    @classmethod
    def read(cls, path: str | Path) -> Ledger:
        raw = json.loads(Path(path).read_text())
        ledger = cls(
            stage=raw["stage"],
            outputs=raw["outputs"],
            inputs=raw["inputs"],
            rows_in=raw["rows_in"],
            rows_out=raw["rows_out"],
            drops=[Drop(**d) for d in raw["drops"]],
            stats=raw.get("stats", {}),
        )
        if raw.get("dropped", {}) != ledger.dropped:
            raise ValueError(f"{path}: 'dropped' counts disagree with the list of drops")
        return ledger


def ledger_path(output: str | Path) -> Path:
    """Where the ledger of the stage that wrote ``output`` lives."""
    output = Path(output)
    return output.with_name(output.name + LEDGER_SUFFIX)


def _rows_of(path: Path) -> int | None:
    """Rows a file hands on: its ledger's rows_out, else its Parquet row count."""
    if ledger_path(path).exists():
        return Ledger.read(ledger_path(path)).rows_out
    if path.suffix == ".parquet" and path.exists():
        return count_rows(path)
    return None


def ledger_paths(root: str | Path) -> list[Path]:
    """Every ledger under ``root``, in path order."""
    return sorted(Path(root).rglob(f"*{LEDGER_SUFFIX}"))


def check_ledgers(root: str | Path) -> tuple[int, list[str]]:
    """Check every ledger under ``root``; returns (ledgers checked, problems found)."""
    problems: list[str] = []
    paths = ledger_paths(root)
    for path in paths:
        try:
            ledger = Ledger.read(path)
        except (ValueError, KeyError, json.JSONDecodeError) as err:
            problems.append(f"{path}: unreadable ledger ({err})")
            continue
        where = f"stage {ledger.stage!r} ({path})"
        if not ledger.balanced:
            problems.append(
                f"{where}: rows_in {ledger.rows_in} != rows_out {ledger.rows_out} "
                f"+ dropped {len(ledger.drops)}"
            )
        parquet_out = [Path(p) for p in ledger.outputs if p.endswith(".parquet")]
        if parquet_out and all(p.exists() for p in parquet_out):
            on_disk = sum(count_rows(p) for p in parquet_out)
            if on_disk != ledger.rows_out:
                problems.append(f"{where}: rows_out {ledger.rows_out} but {on_disk} rows on disk")
        handed = [_rows_of(Path(p)) for p in ledger.inputs]
        if ledger.inputs and None not in handed and sum(handed) != ledger.rows_in:
            problems.append(
                f"{where}: rows_in {ledger.rows_in} but its inputs handed on {sum(handed)}"
            )
    return len(paths), problems
