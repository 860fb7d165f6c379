"""Filters, the split and the corpus index on small hand-made shards."""

import pyarrow as pa
import pytest

from alarm.data.filters import answer_length_filter, normalise_for_wer
from alarm.data.index import corpus_index, corpus_stats
from alarm.data.items import INSTRUCTION_SCHEMA, ITEM_SCHEMA, REPHRASED_SCHEMA
from alarm.data.split import assign_splits, train_val_split
from alarm.files import read_shard, write_shard


def _rephrased(uid, target):
    return {
        "uid": uid,
        "dataset": uid.split("/")[0],
        "prompt": "What do you hear?",
        "r0": "r",
        "r0_complete": True,
        "target": target,
        "rephrase_passes": 1,
        "rephrase_forced_close": False,
        "rephrase_tokens": 5,
        "rephrase_attempts": 1,
    }


@pytest.mark.parametrize("apply", [True, False])
def test_answer_length_bounds_are_inclusive(tmp_path, tiny_models, apply):
    tok_path = str(tiny_models / "rlm")
    from alarm.tokenizer import load_tokenizer

    tok = load_tokenizer(tok_path)
    words = [" word"] * 130  # one token each
    rows = [_rephrased(f"d/{n}/x", "".join(words[:n])) for n in (99, 100, 112, 120, 121)]
    assert [len(tok(r["target"], add_special_tokens=False)["input_ids"]) for r in rows] == [
        99,
        100,
        112,
        120,
        121,
    ]
    write_shard(rows, tmp_path / "in.parquet", REPHRASED_SCHEMA)
    ledger = answer_length_filter(
        {"min": 100, "max": 120, "apply": apply},
        tok_path,
        tmp_path / "in.parquet",
        tmp_path / "out.parquet",
    )
    kept = read_shard(tmp_path / "out.parquet")
    if apply:
        assert [r["uid"] for r in kept] == ["d/100/x", "d/112/x", "d/120/x"]
        assert ledger.dropped == {"answer_length": 2} and ledger.flagged == {}
    else:  # the authors' runs: every target trains, the two outside the range are counted
        assert [r["target_tokens"] for r in kept] == [100, 112, 120, 121, 99]  # uid order
        assert ledger.dropped == {} and ledger.flagged == {"answer_length": 2}


def test_wer_normalisation_is_the_authors():
    assert (
        normalise_for_wer("What's the Blue-Lake's length, in 2024?")
        == "whats the bluelakes length in"
    )


def test_wer_filter_runs_whisper_and_drops_above_threshold(tmp_path, tiny_models):
    import io

    import numpy as np
    import soundfile as sf

    from alarm.data.filters import wer_filter
    from alarm.data.items import RAW_SCHEMA

    buf = io.BytesIO()
    sf.write(buf, np.zeros(8000, np.float32), 16000, format="WAV")
    raw = [
        {
            "uid": f"q/{i}/False",
            "dataset": "q",
            "unique_id_1": str(i),
            "unique_id_2": "False",
            "category": "instruction",
            "audio": audio,
            "sample_rate": 16000,
            "channels": 1,
            "duration": 0.5,
            "audio_description": "Q?",
            "metadata": "{}",
            "question": q,
            "context": "C",
            "official_split": "train",
        }
        # the last: kept undecoded by audio_check: authors (instruction corpora pass unchecked)
        for i, (q, audio) in enumerate(
            [("How long is it?", buf.getvalue()), ("!!!", buf.getvalue()), ("Who?", b"no audio")]
        )
    ]
    write_shard(raw, tmp_path / "raw.parquet", RAW_SCHEMA)
    rows = [
        {
            "uid": r["uid"],
            "dataset": "q",
            "question": r["question"],
            "context": "C",
            "response_with_context": "a",
            "response_no_context": "b",
        }
        for r in raw
    ]
    write_shard(rows, tmp_path / "in.parquet", INSTRUCTION_SCHEMA)
    settings = {"batch_size": 2, "max_new_tokens": 4}
    whisper = str(tiny_models / "whisper")
    loose = wer_filter(
        settings | {"threshold": 1000.0},
        whisper,
        tmp_path / "in.parquet",
        tmp_path / "raw.parquet",
        tmp_path / "loose.parquet",
    )
    assert loose.dropped == {"empty_reference": 1, "audio_undecodable": 1}  # "!!!": no letters
    kept = read_shard(tmp_path / "loose.parquet")
    assert kept[0]["wer"] >= 0 and isinstance(kept[0]["asr_transcript"], str)
    strict = wer_filter(
        settings | {"threshold": 0.0},
        whisper,
        tmp_path / "in.parquet",
        tmp_path / "raw.parquet",
        tmp_path / "strict.parquet",
    )
    assert strict.dropped.get("wer_above_threshold", 0) + strict.rows_out == 1


def test_split_is_exactly_ten_percent_seeded_and_shard_independent():
    uids = [f"ds/{i}/x" for i in range(1000)]
    splits = assign_splits(uids, 0.1, seed=123)
    assert sum(s == "validation" for s in splits.values()) == 100
    assert assign_splits(list(reversed(uids)), 0.1, 123) == splits  # order does not matter
    assert assign_splits(uids, 0.1, 124) != splits
    assert sum(s == "validation" for s in assign_splits(uids[:19], 0.1, 123).values()) == 1


@pytest.mark.parametrize(
    "validation, expected",
    [
        ("official", ["train", "validation", "train"]),  # HeySQuAD
        ("none", ["train", "train", "train"]),  # InstructS2S: all of it trains
    ],
)
def test_instruction_splits_official_or_none(tmp_path, validation, expected):
    from alarm.data.items import RAW_SCHEMA

    rows = [
        {
            "uid": f"q/{i}/x",
            "dataset": "q",
            "unique_id_1": str(i),
            "unique_id_2": "x",
            "category": "instruction",
            "audio": b"",
            "sample_rate": 1,
            "channels": 1,
            "duration": 1.0,
            "audio_description": "Q",
            "metadata": "{}",
            "question": "Q",
            "context": None,
            "official_split": split,
        }
        for i, split in enumerate(["train", "validation", "train"])
    ]
    write_shard(rows, tmp_path / "raw.parquet", RAW_SCHEMA)
    train_val_split(
        "q",
        {"validation": validation, "validation_fraction": 0.5, "seed": 1},
        [tmp_path / "raw.parquet"],
        tmp_path / "split.parquet",
    )
    split = {r["uid"]: r["split"] for r in read_shard(tmp_path / "split.parquet")}
    assert split == {f"q/{i}/x": s for i, s in enumerate(expected)}


def test_index_joins_by_uid_and_expands_instruction_variants(tmp_path, tiny_models):
    item = lambda uid, ds, cat: {  # noqa: E731
        "uid": uid,
        "dataset": ds,
        "unique_id_1": "a",
        "unique_id_2": "b",
        "category": cat,
        "sample_rate": 16000,
        "channels": 1,
        "duration": 3600.0,
        "audio_description": "x",
        "metadata": "{}",
        "question": "Q?",
        "context": "C.",
        "official_split": None,
        "audio_shard": f"raw/{ds}.parquet",
        "audio_row": 7,
    }
    write_shard(
        [item("s/1/x", "s", "speech"), item("s/2/x", "s", "speech")],
        tmp_path / "s_items.parquet",
        ITEM_SCHEMA,
    )
    write_shard([item("q/1/x", "q", "instruction")], tmp_path / "q_items.parquet", ITEM_SCHEMA)
    write_shard(
        [_rephrased("s/2/x", "t2"), _rephrased("s/1/x", "t1"), _rephrased("s/9/x", "orphan")],
        tmp_path / "s_targets.parquet",
        REPHRASED_SCHEMA,
    )
    write_shard(
        [
            {
                "uid": "q/1/x",
                "dataset": "q",
                "question": "Q?",
                "context": "C.",
                "response_with_context": "with",
                "response_no_context": "without",
            }
        ],
        tmp_path / "q_targets.parquet",
        INSTRUCTION_SCHEMA,
    )
    split_schema = pa.schema([("uid", pa.string()), ("split", pa.string())])
    write_shard(
        [
            {"uid": "s/1/x", "split": "train"},
            {"uid": "s/2/x", "split": "validation"},
            {"uid": "q/1/x", "split": "train"},
        ],
        tmp_path / "split.parquet",
        split_schema,
    )
    settings = {"datasets": {"s": {"category": "speech"}, "q": {"category": "instruction"}}}
    ledger = corpus_index(
        settings,
        tiny_models / "rlm",
        [tmp_path / "s_targets.parquet", tmp_path / "q_targets.parquet"],
        [tmp_path / "s_items.parquet", tmp_path / "q_items.parquet"],
        [tmp_path / "split.parquet"],
        tmp_path / "train.parquet",
        tmp_path / "val.parquet",
    )
    train = {r["example_id"]: r for r in read_shard(tmp_path / "train.parquet")}
    val = read_shard(tmp_path / "val.parquet")
    assert set(train) == {"s/1/x/described", "q/1/x/with_context", "q/1/x/no_context"}
    assert [v["target"] for v in val] == ["t2"]
    assert train["s/1/x/described"]["target"] == "t1" and train["s/1/x/described"]["audio_row"] == 7
    assert (
        train["q/1/x/with_context"]["prompt"] == "C." and train["q/1/x/no_context"]["prompt"] == ""
    )
    assert train["q/1/x/with_context"]["text_prompt"] == "C.\nQ?"
    assert (
        train["q/1/x/no_context"]["target"] == "without"
        and train["q/1/x/no_context"]["text_tokens"] > 0
    )
    assert (
        ledger.rows_in == 5
        and ledger.rows_out == 4
        and ledger.dropped == {"not_in_split_or_items": 1}
    )
    stats = corpus_stats(tmp_path / "train.parquet", tmp_path / "val.parquet")["table1"]
    assert stats["Speech"]["total"] == {"elements": 2, "hours": 2.0, "unique_prompts": 1}
    assert stats["Instruction"]["train"]["unique_prompts"] == 2
    assert stats["Total"]["validation"]["elements"] == 1


def test_corpus_stats_sum_each_stage_s_drops_per_table1_group(tmp_path):
    from alarm.data.index import filter_drops
    from alarm.ledger import FLAGGED, Drop, Ledger, ledger_path

    def ledger(stage, output, rows_in, reasons):
        drops = [Drop(f"x/{i}", r) for i, r in enumerate(reasons)]
        out = tmp_path / output
        out.parent.mkdir(parents=True, exist_ok=True)
        Ledger(stage, [str(out)], [], rows_in, rows_in - len(drops), drops).write(ledger_path(out))

    ledger("collect", "raw/librispeech/00000.parquet", 10, ["audio_empty"])
    ledger("collect", "raw/librispeech/00001.parquet", 10, ["audio_empty", "audio_undecodable"])
    ledger("collect", "raw/vocalsound/00000.parquet", 5, [])
    ledger("generate_prompts", "prompts/vocalsound/00000.parquet", 5, ["checker_unparseable"])
    ledger("audio_filter", "items/clotho/00000.parquet", 4, ["audio_too_long"])
    ledger("train_val_split", "split/clotho.parquet", 3, [])
    ledger("corpus_index", "index/train.parquet", 30, ["not_in_split_or_items"])
    kept_long = tmp_path / "targets/librispeech/00000.parquet"
    kept_long.parent.mkdir(parents=True)
    Ledger("answer_length_filter", [str(kept_long)], [], 8, 8, [],
           {FLAGGED: {"answer_length": 3}}).write(ledger_path(kept_long))  # fmt: skip
    categories = {"librispeech": "speech", "vocalsound": "speech", "clotho": "sound"}

    flow = ["collect", "audio_filter", "generate_prompts", "train_val_split",
            "answer_length_filter", "corpus_index"]  # fmt: skip
    drops = filter_drops(tmp_path, categories, stage_order=flow[:-1])
    assert list(drops) == ["Speech", "Sound", "Total"]
    assert drops["Speech"]["collect"] == {
        "rows_in": 25,
        "dropped": {"audio_empty": 2, "audio_undecodable": 1},
        "flagged": {},
    }
    # rows kept that the stricter setting would have dropped
    assert drops["Speech"]["answer_length_filter"] == {
        "rows_in": 8,
        "dropped": {},
        "flagged": {"answer_length": 3},
    }
    # stages in the order given, one not in it last; a corpus-wide stage counts in the total only
    assert list(drops["Sound"]) == ["audio_filter", "train_val_split"]
    assert list(drops["Total"]) == flow
    assert drops["Total"]["corpus_index"]["dropped"] == {"not_in_split_or_items": 1}
    assert drops["Speech"]["generate_prompts"]["rows_in"] == 5


def test_the_token_counter_counts_as_the_backbones_tokenizer(tiny_models):
    """The counting stages' tokenizer (the `tokenizers` library on tokenizer.json) gives
    every text the count transformers' AutoTokenizer gives it, special tokens not added:
    multilingual text, the stages' tags, the chat's special tokens, spacing, emoji."""
    from alarm.tokenizer import load_tokenizer, token_counter

    path = tiny_models / "rlm"
    texts = [
        "",
        "The speaker is a woman.",
        "<think>\nA low hum, then a dog barks twice.\n</think>\n\n<answer>B</answer>",
        "<|im_start|>user\nWhat is heard?<|im_end|>\n<|im_start|>assistant\n",
        "Le locuteur est-il un homme ou une femme ?  说话人是男性还是女性？ ¿Qué idioma?",
        "  leading spaces,\ttabs\r\nand  doubled   spaces  ",
        "Numbers 1234567 and 3.14159, symbols ♪ ♫ and emoji 🐕🔊.",
        " word" * 300,
    ]
    expected = [len(i) for i in load_tokenizer(path)(texts, add_special_tokens=False)["input_ids"]]
    assert token_counter(path)(texts) == expected
    assert expected[3] == 12 and expected[-1] == 300  # special tokens stay one token each
