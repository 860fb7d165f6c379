"""DisfluencySpeech converter on a hub snapshot of its train split (Parquet)."""

import pytest
from builders import collect_descriptions, hub_schema, item_ids, wav_bytes, write_parquet

from alarm.data.sources import disfluencyspeech

SOURCE = {"type": "hub", "repo": "amaai-lab/DisfluencySpeech", "revision": "b7da294f"}
FIELDS = ("transcript_annotated", "transcript_a", "transcript_b", "transcript_c")
SCHEMA = hub_schema(FIELDS)
TAGGED = "{F Uh, } I think [ it's, + it's ] fine. ¡laughter¿"
FILLED = "{F ...}: Filled pauses (e.g. 'uh', 'um')"
ANNOTATIONS = f"{FILLED}/[... + ...]: Restarts/¡...¿: non-speech sounds"


def _row(text, audio):
    return {f: text for f in FIELDS} | {"audio": {"bytes": audio, "path": "a.wav"}}


@pytest.fixture
def source_dir(tmp_path):
    rows = [
        _row(f" {TAGGED} ", wav_bytes(2.2, 22050)),
        _row("On Friday And Ed called.", wav_bytes(1.2, 22050)),  # capitals, but no tags
        _row(None, wav_bytes(1.0, 22050)),  # no transcript, so no uid
        _row("{C and } {D well, } then.", None),
    ]
    path = tmp_path / "src" / "data" / "train-00000-of-00001.parquet"
    write_parquet(path, rows, SCHEMA, row_group_size=2)
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
    assert item_ids(disfluencyspeech.items(source_dir, SOURCE)) == [
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
    ledger, rows = collect_descriptions("disfluencyspeech", settings, source_dir, out)
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
