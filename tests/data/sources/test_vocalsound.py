"""VocalSound converter on a vs_release_16k.zip laid out like the release (audio_16k, meta)."""

import pytest
from builders import collect_descriptions, drop_reasons, item_ids, wav_bytes, write_zip

from alarm.data.sources import vocalsound

SOURCE = {"type": "url", "urls": ["https://www.dropbox.com/s/x/vs_release_16k.zip?dl=1"]}
HEALTH = "has a cold/allergy/other health-related symptoms that might affect speech"
# No header: speaker id, gender, age, country, native language, health condition.
TR_META = (
    "f0003,female,32,China,Chinese,no\nf0066,female,67,UK,English,yes\nm0100,male,,US,English,no\n"
)


@pytest.fixture
def source_dir(tmp_path):
    files = {
        "meta/tr_meta.csv": TR_META,
        "meta/te_meta.csv": "f9999,female,20,US,English,no\n",
        "audio_16k/f0003_0_cough.wav": wav_bytes(1.0),
        "audio_16k/f0003_0_throatclearing.wav": wav_bytes(2.6),
        "audio_16k/f0066_0_cough.wav": wav_bytes(1.0),  # listed broken by the authors
        "audio_16k/f0066_0_sigh.wav": wav_bytes(1.4),
        "audio_16k/m0100_0_sneeze.wav": wav_bytes(1.0),  # its speaker has no age
        "audio_16k/f9999_0_sniff.wav": wav_bytes(1.0),  # a test speaker: not in the corpus
        "readme.txt": "VocalSound",
    }
    src = tmp_path / "src"
    src.mkdir()
    write_zip(src / "vs_release_16k.zip", files)
    vocalsound.prepare(src, SOURCE)
    return src


def test_items_are_the_training_speakers_files(source_dir):
    assert item_ids(vocalsound.items(source_dir, SOURCE)) == [
        ("f0003", "f0003_0_cough.wav"),
        ("f0003", "f0003_0_throatclearing.wav"),
        ("f0066", "f0066_0_cough.wav"),
        ("f0066", "f0066_0_sigh.wav"),
        ("m0100", "m0100_0_sneeze.wav"),
    ]


def test_raw_shard_a_text_and_drops(source_dir, tmp_path):
    settings = {"category": "speech", "source": SOURCE, "n_shards": 1}
    out = tmp_path / "raw.parquet"
    ledger, rows = collect_descriptions("vocalsound", settings, source_dir, out)
    assert rows == {
        "vocalsound/f0003/f0003_0_cough.wav": (
            f"[00:00-00:01] |Cough| (duration: 1s, age: 30s, gender: Female, {HEALTH}: No)"
        ),
        "vocalsound/f0003/f0003_0_throatclearing.wav": (
            "[00:00-00:03] |Throat clearing| "
            f"(duration: 3s, age: 30s, gender: Female, {HEALTH}: No)"
        ),
        "vocalsound/f0066/f0066_0_sigh.wav": (
            f"[00:00-00:01] |Sigh| (duration: 1s, age: 60s, gender: Female, {HEALTH}: Yes)"
        ),
    }
    assert drop_reasons(ledger) == {
        "vocalsound/f0066/f0066_0_cough.wav": "unreadable_item",
        "vocalsound/m0100/m0100_0_sneeze.wav": "missing_metadata",
    }
