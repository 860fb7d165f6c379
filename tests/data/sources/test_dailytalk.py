import json

from builders import collect_rows, drop_reasons, wav_bytes, write_zip

from alarm.data.sources import dailytalk

SOURCE = {
    "type": "gdrive",
    "urls": ["https://drive.google.com/drive/folders/1WRt-EprWs-2rmYxoWYT9_13omlhDHcaL"],
}


def _source(tmp_path):
    root = tmp_path / "dailytalk"
    # dialogue -> [(utterance, speaker, emotion, act, seconds or None for no wav, in train.txt)]
    dialogues = {
        "5": [
            (str(u), u % 2, "no emotion", "inform", 1.0 if u < 10 else 16.0, True)
            for u in range(11)
        ],
        "7": [
            ("0", 1, "no emotion", "question", 3.0, True),
            ("1", 0, "happiness", "inform", 2.25, True),
        ],
        "6": [
            ("0", 0, "no emotion", "inform", None, True),
            ("1", 1, "sadness", "directive", 1.0, True),
        ],
        "8": [("0", 0, "no emotion", "inform", 1.0, False), ("1", 1, "anger", "inform", 1.0, True)],
        "9": [("0", 0, "no emotion", "inform", 1.0, False)],  # a dialogue outside the train set
    }
    metadata, files, lines = {}, {}, []
    for dia, turns in dialogues.items():
        metadata[dia] = {}
        for utt, spk, emotion, act, seconds, in_train in turns:
            metadata[dia][utt] = {"speaker": spk, "emotion": emotion, "act": act, "topic": "x"}
            if seconds is not None:
                # DailyTalk's own rate, where the clip's segment ends must follow the
                # resample to 16 kHz
                sr = 22050 if dia == "7" else 16000
                files[f"dailytalk/data/{dia}/{utt}_{spk}_d{dia}.wav"] = wav_bytes(seconds, sr)
            if in_train:
                text = "how are you?" if (dia, utt) == ("7", "0") else f"turn {utt} of {dia}."
                lines.append(f"{utt}_{spk}_d{dia}|{spk}|{{HH AW1 sp}}|{text}|none\n")
    files["dailytalk/metadata.json"] = json.dumps(metadata)
    root.mkdir()
    (root / "DailyTalk").mkdir()  # gdown --folder puts the zip in the Drive folder's name
    write_zip(root / "DailyTalk" / "dailytalk.zip", files)
    (root / "train_frame.txt").write_text("".join(lines).replace("turn 1 of 7.", "i am fine. "))
    dailytalk.prepare(root, SOURCE)
    return root


def test_dialogue_clips_of_25_s(tmp_path):
    root = _source(tmp_path)
    settings = {"category": "multi_speaker", "source": SOURCE, "n_shards": 1}
    ledger, rows = collect_rows("dailytalk", settings, root, tmp_path / "raw.parquet")
    pair = rows["dailytalk/7/7_0_0_1"]
    assert pair["audio_description"] == (
        "[00:00-00:03, the first speaker, emotion: neutral, speech act: question] how are you? "
        "[00:03-00:05, the second speaker, emotion: happiness, speech act: inform] i am fine. "
        "(duration: 5s, the number of speakers: 2)"
    )
    # 66150 and 49612 samples at 22.05 kHz: the segment ends match the resampled audio.
    assert pair["duration"] == 5.25 and pair["sample_rate"] == 16000
    # Eleven turns in numeric order (the authors' string sort puts "10" third).
    long = rows["dailytalk/5/5_0_0_1_2_3_4_5_6_7_8_9_10"]["audio_description"]
    assert long.startswith(
        "[00:00-00:01, the first speaker, emotion: neutral, speech act: inform] turn 0 of 5. "
        "[00:01-00:02, the second speaker, emotion: neutral, speech act: inform] turn 1 of 5. "
        "[00:02-00:03, the first speaker, emotion: neutral, speech act: inform] turn 2 of 5. "
    )
    assert long.endswith(
        "[00:10-00:26, the first speaker, emotion: neutral, speech act: inform] turn 10 of 5. "
        "(duration: 26s, the number of speakers: 2)"
    )
    assert rows["dailytalk/6/6_1_1"]["audio_description"] == (
        "[00:00-00:01, the first speaker, emotion: sadness, speech act: directive] turn 1 of 6. "
        "(duration: 1s, the number of speakers: 1)"
    )
    assert set(rows) == {
        "dailytalk/7/7_0_0_1",
        "dailytalk/5/5_0_0_1_2_3_4_5_6_7_8_9_10",
        "dailytalk/6/6_1_1",
    }
    assert drop_reasons(ledger) == {
        "dailytalk/6/6_0_0": "unreadable_item",  # no wav: its clip ends there
        "dailytalk/8/8_0_0_1": "missing_metadata",  # turn 0 has no train_frame.txt text
    }
