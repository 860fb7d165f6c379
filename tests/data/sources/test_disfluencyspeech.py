"""DisfluencySpeech converter on a hub snapshot of its train split (Parquet)."""

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from alarm.data.collect import collect_shard
from alarm.data.sources import disfluencyspeech
from alarm.shards import read_shard

SOURCE = {"type": "hub", "repo": "amaai-lab/DisfluencySpeech", "revision": "b7da294f"}
FIELDS = ("transcript_annotated", "transcript_a", "transcript_b", "transcript_c")
SCHEMA = pa.schema(
    [(f, pa.string()) for f in FIELDS]
    + [("audio", pa.struct([("bytes", pa.binary()), ("path", pa.string())]))]
)
TAGGED = "{F Uh, } I think [ it's, + it's ] fine. ¡laughter¿"
FILLED = "{F ...}: Filled pauses (e.g. 'uh', 'um')"
ANNOTATIONS = f"{FILLED}/[... + ...]: Restarts/¡...¿: non-speech sounds"


def _wav(seconds: float, sr: int = 22050) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.full(int(seconds * sr), 0.1), sr, format="WAV")
    return buf.getvalue()


def _row(text, audio):
    return {f: text for f in FIELDS} | {"audio": {"bytes": audio, "path": "a.wav"}}


@pytest.fixture
def source_dir(tmp_path):
    rows = [
        _row(f" {TAGGED} ", _wav(2.2)),
        _row("On Friday And Ed called.", _wav(1.2)),  # capitals, but no tags
        _row(None, _wav(1.0)),  # no transcript, so no uid
        _row("{C and } {D well, } then.", None),
    ]
    (tmp_path / "src" / "data").mkdir(parents=True)
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    pq.write_table(
        table, tmp_path / "src" / "data" / "train-00000-of-00001.parquet", row_group_size=2
    )
    return tmp_path / "src"


def test_special_annotations_match_tags_not_bare_capitals():
    assert disfluencyspeech.special_annotations(TAGGED) == ANNOTATIONS
    assert (
        disfluencyspeech.special_annotations("On Friday And Ed called.") == "No special annotations"
    )
    assert disfluencyspeech.special_annotations("{C and } {D well, } {E I mean } {A aside }") == (
        "{E ...}: Explicit editing terms (e.g. 'I mean', 'sorry')/"
        "{D ...}: Discourse markers (e.g. 'you know', 'well')/"
        "{C ...}: Coordinating conjuctions (e.g. 'and', 'but')/"
        "{A ...}: Asides (comments that interrupt fluent flow)"
    )


def test_raw_shard_a_text_and_drops(source_dir, tmp_path):
    ids = [(i.unique_id_1, i.unique_id_2) for i in disfluencyspeech.items(source_dir, SOURCE)]
    assert ids == [
        (TAGGED, f"annotations: {ANNOTATIONS}"),
        ("On Friday And Ed called.", "annotations: No special annotations"),
        (
            "{C and } {D well, } then.",
            "annotations: {D ...}: Discourse markers (e.g. 'you know', 'well')/"
            "{C ...}: Coordinating conjuctions (e.g. 'and', 'but')",
        ),
    ]
    settings = {"category": "speech", "source": SOURCE, "n_shards": 1}
    out = tmp_path / "raw.parquet"
    ledger = collect_shard("disfluencyspeech", settings, 0, source_dir, out)
    rows = {r["uid"]: r["audio_description"] for r in read_shard(out)}
    assert rows == {
        f"disfluencyspeech/{TAGGED}/annotations: {ANNOTATIONS}": (
            f"[00:00-00:02] {TAGGED} (duration: 2s, special annotations: {ANNOTATIONS})"
        ),
        "disfluencyspeech/On Friday And Ed called./annotations: No special annotations": (
            "[00:00-00:01] On Friday And Ed called. "
            "(duration: 1s, special annotations: No special annotations)"
        ),
    }
    assert ledger.dropped == {"unreadable_item": 1}
