import json

from builders import collect_descriptions, drop_reasons, wav_bytes

SOURCE = {
    "type": "hub",
    "repo": "TangRain/SingMOS",
    "revision": "a0fac9f752747a44536e1df3be9ecd260a947d5e",
}
SETTINGS = {"category": "music", "source": SOURCE, "n_shards": 1}


def _snapshot(root):
    (root / "info").mkdir(parents=True)
    (root / "wavs").mkdir()
    scores = {
        "sys0001-utt0002": {"sys_id": "sys0001", "score": {"mos": "3.4567", "scores": [3, 4]}},
        "sys0002-utt0001": {"sys_id": "sys0002", "score": {"mos": 4.2}},
        "sys0003-utt0001": {"sys_id": "sys0003", "score": {"mos": 2.0}},
        "sys0009-utt0001": {"sys_id": "sys0009", "score": {"mos": 3.0}},  # unknown system
        "sys0001-utt0005": {"sys_id": "sys0001", "score": {"mos": 1.0}},  # wav missing
        "sys0001-utt0001": {"sys_id": "sys0001", "score": {"mos": 5.0}},  # a valid clip
    }
    (root / "info" / "score.json").write_text(json.dumps({"system": {}, "utterance": scores}))
    train = [
        "sys0001-utt0002",
        "sys0002-utt0001",
        "sys0003-utt0001",
        "sys0009-utt0001",
        "sys0001-utt0005",
        "nowhere-utt0001",  # not in score.json: no system id, skipped
    ]
    split = {"singmos": {"train": train, "valid": ["sys0001-utt0001"]}, "other": {}}
    (root / "info" / "split.json").write_text(json.dumps(split))
    systems = {"sys0001": {"type": "svs"}, "sys0002": {"type": "gt"}, "sys0003": {"type": "codec"}}
    (root / "info" / "sys_info.json").write_text(json.dumps(systems))
    for f_id, seconds in [
        ("sys0001-utt0002", 3.2),
        ("sys0002-utt0001", 4.5),
        ("sys0003-utt0001", 5.5),
        ("sys0009-utt0001", 1.0),
        ("sys0001-utt0001", 1.0),
    ]:
        (root / "wavs" / f"{f_id}.wav").write_bytes(wav_bytes(seconds))


def test_train_list_gives_mos_and_system_type(tmp_path):
    _snapshot(tmp_path)
    ledger, rows = collect_descriptions("singmos", SETTINGS, tmp_path, tmp_path / "raw.parquet")
    assert rows == {
        "singmos/sys0001-utt0002/sys0001": (
            "[00:00-00:03] |Singing| (duration: 3s, mos: 3.46, real or synthesized: Synthesized, "
            "type of generative algorithm: Singning Voice Synthesis)"
        ),
        "singmos/sys0002-utt0001/sys0002": (
            "[00:00-00:04] |Singing| (duration: 4s, mos: 4.2, real or synthesized: Real, "
            "type of generative algorithm: Not generated)"
        ),
        "singmos/sys0003-utt0001/sys0003": (
            "[00:00-00:06] |Singing| (duration: 6s, mos: 2.0, real or synthesized: Synthesized, "
            "type of generative algorithm: codec)"
        ),
    }
    reasons = drop_reasons(ledger)
    assert reasons == {
        "singmos/sys0009-utt0001/sys0009": "missing_metadata",
        "singmos/sys0001-utt0005/sys0001": "unreadable_item",
    }
