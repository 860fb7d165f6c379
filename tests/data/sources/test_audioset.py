import json

from builders import collect_rows, drop_reasons, item_ids, wav_bytes, write_tar

from alarm.data.sources import audioset

SOURCE = {
    "type": "hub",
    "repo": "confit/audioset-16khz-wds",
    "revision": "4a40121a",
    "allow_patterns": ["2m/train/*.tar"],
}


def _meta(video_id, labels):
    return json.dumps({"id": video_id, "label": labels}).encode()


def test_index_then_items_from_tar_members(tmp_path):
    root = tmp_path / "audioset"
    a, b = wav_bytes(10.0), wav_bytes(2.5)
    write_tar(
        root / "2m" / "train" / "shard-00000.tar",
        {
            "Y--0PQM4-hqg.json": _meta("--0PQM4-hqg", ["Speech", "Music"]),
            "Y--0PQM4-hqg.wav": a,
            "._Y--0PQM4-hqg.wav": b"mac junk",  # hidden: skipped, as datasets does
            "Ynowav.json": _meta("nowav", ["Dog"]),
            "Ynojson.wav": b,
        },
    )
    write_tar(
        root / "2m" / "train" / "shard-00001.tar",
        {"part/Yabc.wav": b, "part/Yabc.json": _meta("abc", ["Rain on surface"])},
    )
    write_tar(root / "2m" / "test" / "shard-00000.tar", {"Ytest.wav": b})  # not the train split
    audioset.prepare(root, SOURCE)
    items = list(audioset.items(root, SOURCE))
    assert item_ids(items) == [
        ("Y--0PQM4-hqg", "--0PQM4-hqg"),
        ("Ynowav", "nowav"),
        ("part/Yabc", "abc"),  # the key keeps the member's directory, as __key__ does
    ]
    assert items[0].load_audio() == a  # the member's bytes, read at its offset
    settings = {"category": "sound", "source": SOURCE, "n_shards": 1}
    ledger, rows = collect_rows("audioset", settings, root, tmp_path / "raw.parquet")
    assert rows["audioset/Y--0PQM4-hqg/--0PQM4-hqg"]["audio_description"] == (
        "[00:00-00:10] |Speech, Music| (duration: 10s)"
    )
    assert rows["audioset/part/Yabc/abc"]["audio_description"] == (
        "[00:00-00:02] |Rain on surface| (duration: 2s)"
    )
    assert drop_reasons(ledger) == {"audioset/Ynowav/nowav": "unreadable_item"}
