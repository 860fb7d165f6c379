import json
import subprocess
import sys

import pyarrow as pa
import pytest

from alarm.files import write_shard
from alarm.ledger import Drop, Ledger, check_ledgers, ledger_path
from alarm.stage import RowAccountingError, StageOutput, finish_stage

SCHEMA = pa.schema([("uid", pa.string())])


def _stage(tmp_path, name, uids_in, kept, dropped, inputs=()):
    out = tmp_path / f"{name}.parquet"
    finish_stage(
        stage=name,
        inputs=list(inputs),
        output=out,
        schema=SCHEMA,
        uids_in=uids_in,
        result=StageOutput([{"uid": u} for u in kept], [Drop(u, "bad") for u in dropped]),
    )
    return out


def test_a_balanced_chain_passes(tmp_path):
    first = _stage(tmp_path, "first", ["a", "b", "c"], ["a", "b"], ["c"])
    _stage(tmp_path, "second", ["a", "b"], ["a"], ["b"], inputs=[first])
    checked, problems = check_ledgers(tmp_path)
    assert (checked, problems) == (2, [])
    ledger = Ledger.read(ledger_path(first))
    assert (ledger.rows_in, ledger.rows_out, ledger.dropped) == (3, 2, {"bad": 1})


def test_an_imbalanced_ledger_names_its_stage(tmp_path):
    out = _stage(tmp_path, "prompts", ["a", "b"], ["a"], ["b"])
    raw = json.loads(ledger_path(out).read_text())
    raw["rows_in"] = 3
    ledger_path(out).write_text(json.dumps(raw))
    _, problems = check_ledgers(tmp_path)
    assert len(problems) == 1 and "stage 'prompts'" in problems[0] and "rows_in 3" in problems[0]


def test_rows_on_disk_must_match_rows_out(tmp_path):
    out = _stage(tmp_path, "r0", ["a", "b"], ["a", "b"], [])
    write_shard([{"uid": "a"}], out, SCHEMA)  # a row vanished after the ledger was written
    _, problems = check_ledgers(tmp_path)
    assert any("stage 'r0'" in p and "1 rows on disk" in p for p in problems)


def test_rows_must_be_handed_on_between_stages(tmp_path):
    first = _stage(tmp_path, "collect", ["a", "b", "c"], ["a", "b", "c"], [])
    _stage(tmp_path, "audio_filter", ["a", "b"], ["a"], ["b"], inputs=[first])
    _, problems = check_ledgers(tmp_path)
    assert any("stage 'audio_filter'" in p and "handed on 3" in p for p in problems)


def test_tampered_drop_counts_are_unreadable(tmp_path):
    out = _stage(tmp_path, "s", ["a", "b"], ["a"], ["b"])
    raw = json.loads(ledger_path(out).read_text())
    raw["dropped"] = {"bad": 5}
    ledger_path(out).write_text(json.dumps(raw))
    _, problems = check_ledgers(tmp_path)
    assert "unreadable" in problems[0]


@pytest.mark.parametrize(
    ("uids_in", "kept", "dropped"),
    [
        (["a", "b"], ["a"], []),
        (["a"], ["a"], ["a"]),
        (["a"], ["a", "z"], []),
        (["a", "a"], ["a"], []),
    ],
)
def test_the_runner_refuses_to_lose_or_invent_rows(tmp_path, uids_in, kept, dropped):
    with pytest.raises(RowAccountingError):
        _stage(tmp_path, "s", uids_in, kept, dropped)
    assert not (tmp_path / "s.parquet").exists()


def test_check_ledgers_command_exit_codes(tmp_path):
    out = _stage(tmp_path, "s", ["a"], ["a"], [])
    run = [sys.executable, "-m", "alarm.cli", "check-ledgers", str(tmp_path)]
    assert subprocess.run(run, capture_output=True).returncode == 0
    raw = json.loads(ledger_path(out).read_text())
    raw["rows_out"] = 0
    ledger_path(out).write_text(json.dumps(raw))
    result = subprocess.run(run, capture_output=True, text=True)
    assert result.returncode == 1 and "stage 's'" in result.stdout
    assert subprocess.run([*run[:-1], str(tmp_path / "empty")], capture_output=True).returncode == 1
