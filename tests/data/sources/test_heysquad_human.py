import pyarrow as pa
import pyarrow.parquet as pq
from builders import AUDIO, collect_rows, drop_reasons, wav_bytes

SOURCE = {
    "type": "hub",
    "repo": "yijingwu/HeySQuAD_human",
    "revision": "2a9aff6032a76185b98eff703144a2a896313e49",
}
SETTINGS = {"category": "instruction", "source": SOURCE, "n_shards": 1}
ANSWERS = pa.list_(pa.struct([("answer_start", pa.int64()), ("text", pa.string())]))
# The README of the pinned revision declares its splits.
README = """---
license: cc-by-4.0
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*
  - split: validation
    path: data/validation-*
---
"""
PASSAGE = "Beyoncé Giselle Knowles-Carter is an American singer."


def _write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "audio": pa.array([{"bytes": r[3], "path": f"{r[0]}.wav"} for r in rows], AUDIO),
            "transcription": [r[1] for r in rows],
            "question": [r[1] for r in rows],
            "context": [PASSAGE] * len(rows),
            "answers": pa.array([[{"answer_start": 0, "text": "Beyoncé"}]] * len(rows), ANSWERS),
            "is_impossible": [r[2] for r in rows],
            "id": [r[0] for r in rows],
            "plausible_answers": pa.array([[]] * len(rows), ANSWERS),
        }
    )
    pq.write_table(table, path)


def test_every_split_is_kept_with_its_official_name(tmp_path):
    (tmp_path / "README.md").write_text(README)
    _write(
        tmp_path / "data" / "train-00000-of-00001.parquet",
        [
            (
                "56be85543aeaaa14008c9063",
                "When did Beyonce start becoming popular?",
                False,
                wav_bytes(2.6),
            ),
            (
                "5a8d7bf7df8bba001a0f9ab1",
                "What category of game is Legend of Zelda?",
                True,
                wav_bytes(1.2),
            ),
            ("56be85543aeaaa14008c9065", None, False, wav_bytes(1.0)),  # no question
            ("56be85543aeaaa14008c9066", "Where was she born?", False, None),  # no audio
        ],
    )
    _write(
        tmp_path / "data" / "validation-00000-of-00001.parquet",
        [
            (
                "56ddde6b9a695914005b9628",
                "In what country is Normandy located?",
                False,
                wav_bytes(3.0),
            )
        ],
    )
    ledger, rows = collect_rows("heysquad_human", SETTINGS, tmp_path, tmp_path / "raw.parquet")
    got = {uid: (r["audio_description"], r["official_split"]) for uid, r in rows.items()}
    assert got == {
        "heysquad_human/56be85543aeaaa14008c9063/False": (
            "When did Beyonce start becoming popular?",
            "train",
        ),
        "heysquad_human/5a8d7bf7df8bba001a0f9ab1/True": (
            "What category of game is Legend of Zelda?",
            "train",
        ),
        "heysquad_human/56ddde6b9a695914005b9628/False": (
            "In what country is Normandy located?",
            "validation",
        ),
    }
    row = rows["heysquad_human/56be85543aeaaa14008c9063/False"]
    assert (row["question"], row["context"]) == (
        "When did Beyonce start becoming popular?",
        PASSAGE,
    )
    reasons = drop_reasons(ledger)
    assert reasons == {
        "heysquad_human/56be85543aeaaa14008c9065/False": "missing_metadata",
        "heysquad_human/56be85543aeaaa14008c9066/False": "unreadable_item",
    }
