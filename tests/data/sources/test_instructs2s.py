import json

from builders import collect_rows, drop_reasons, tar_gz_bytes, wav_bytes

from alarm.data.sources import instructs2s

SOURCE = {
    "type": "hub",
    "repo": "ICTNLP/InstructS2S-200K",
    "revision": "004320105d5ca5246e8eacc4cbf53f7f100278e8",
}
SETTINGS = {"category": "instruction", "source": SOURCE, "n_shards": 1}


def _turn(who, text, speech=None):
    turn = {"from": who, "text": text, "speech": speech, "unit": [12, 4051, 77]}
    return {k: v for k, v in turn.items() if v is not None}


CONVERSATIONS = [
    {
        "id": "ultrachat_1001",
        "conversation": [
            _turn("human", "What is jazz?", "/data/InstructS2S/en/wav/ultrachat/1001_0.wav"),
            _turn("gpt", "A music genre.", "/data/InstructS2S/en/wav/ultrachat/1001_1_r.wav"),
            _turn("human", "Name a player.", "/data/InstructS2S/en/wav/ultrachat/1001_2.wav"),
            _turn("gpt", "Miles Davis."),
        ],
    },
    {
        "id": 7,
        "conversation": [
            _turn("human", "Say hi.", "en/wav/alpaca/7_0.wav"),  # its file is not in the tar
            _turn("gpt", "Hi."),
        ],
    },
    {"id": "alpaca_8", "conversation": [{"from": "human", "speech": "en/wav/alpaca/8_0.wav"}]},
    {"conversation": []},  # no id: skipped
]


def _download(root):
    """The snapshot: the conversations file and en_part_00..32, pieces of one tar.gz."""
    (root / "instruct_en_200k_data_cosy2.json").write_text(json.dumps(CONVERSATIONS, indent=2))
    (root / "instruct_en_val.json").write_text(json.dumps([CONVERSATIONS[0] | {"id": "val"}]))
    (root / "README.md").write_text("cat en_part_* > instructs2s_200k.tar.gz\n")
    wavs = {
        "ultrachat/1001_0.wav": 1.4,
        "ultrachat/1001_1_r.wav": 2.0,
        "ultrachat/1001_2.wav": 0.9,
        "alpaca/8_0.wav": 1.0,
    }
    archive = tar_gz_bytes({f"en/wav/{name}": wav_bytes(s) for name, s in wavs.items()})
    size = -(-len(archive) // 33)
    for i, name in enumerate(instructs2s.PARTS):
        (root / name).write_bytes(archive[i * size : (i + 1) * size])


def test_one_item_per_human_turn_with_the_turns_before_as_context(tmp_path):
    _download(tmp_path)
    instructs2s.prepare(tmp_path, SOURCE)
    instructs2s.prepare(tmp_path, SOURCE)  # a rerun is a no-op
    assert (tmp_path / "en" / "wav" / "ultrachat" / "1001_2.wav").is_file()

    ledger, rows = collect_rows("instructs2s", SETTINGS, tmp_path, tmp_path / "raw.parquet")
    got = {
        uid: (r["audio_description"], r["context"], r["official_split"]) for uid, r in rows.items()
    }
    # The turn index counts the assistant's turns too: human turns are 0, 2, ...
    assert got == {
        "instructs2s/ultrachat_1001/0": ("What is jazz?", "", None),
        "instructs2s/ultrachat_1001/2": (
            "Name a player.",
            "User: What is jazz?\nAssistant: A music genre.\n",
            None,
        ),
    }
    assert rows["instructs2s/ultrachat_1001/2"]["duration"] == 0.9  # its own clip
    reasons = drop_reasons(ledger)
    assert reasons == {
        "instructs2s/7/0": "unreadable_item",
        "instructs2s/alpaca_8/0": "missing_metadata",
    }


def test_json_objects_are_decoded_across_read_chunks(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(CONVERSATIONS, indent=2, ensure_ascii=False))
    assert list(instructs2s._json_objects(path, chunk_chars=7)) == CONVERSATIONS
    path.write_text("\n".join(json.dumps(c) for c in CONVERSATIONS) + "\n")  # JSON Lines
    assert list(instructs2s._json_objects(path, chunk_chars=5)) == CONVERSATIONS
