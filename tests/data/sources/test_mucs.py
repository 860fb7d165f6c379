"""MUCS converter on OpenSLR 104 train tarballs (Kaldi segments/text, long recordings)."""

import io

import numpy as np
import pytest
import soundfile as sf
from builders import collect_rows, drop_reasons, item_ids, write_tar

from alarm.data.audio import decode
from alarm.data.sources import mucs

SOURCE = {"type": "url", "urls": ["https://example.org/Hindi-English_train.tar.gz"]}


def _wav(seconds: float, sr: int, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    ramp = np.linspace(-0.5, 0.5, int(seconds * sr))
    sf.write(buf, np.stack([ramp] * channels, axis=1), sr, format="WAV")
    return buf.getvalue()


@pytest.fixture
def source_dir(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    write_tar(
        src / "Hindi-English_train.tar.gz",
        {
            "train/transcripts/segments": "seg_a rec1 0.50 2.00\nseg_b rec1 2.00 3.70\n",
            "train/transcripts/text": "seg_a नमस्ते दोस्तों\nseg_b  this is a test \n",
            "train/rec1.wav": _wav(4.0, 8000),
        },
    )
    write_tar(
        src / "Bengali-English_train.tar.gz",
        {
            "train/transcripts/segments": (
                "bseg_1 brec 0.0 1.2\nbseg_2 gone 0.0 1.0\nbseg_3 brec 1.2 2.0\n"
            ),
            "train/transcripts/text": "bseg_1 আমি computer ব্যবহার করি\nbseg_2 lost\n",
            "train/brec.wav": _wav(2.0, 16000, channels=2),
        },
    )
    mucs.prepare(src, SOURCE)
    return src


def test_prepare_unpacks_each_language(source_dir):
    assert sorted(p.name for p in source_dir.iterdir()) == ["Bengali-English", "Hindi-English"]


def test_items_ids(source_dir):
    assert item_ids(mucs.items(source_dir, SOURCE)) == [
        ("seg_a", "rec1"),
        ("seg_b", "rec1"),
        ("bseg_1", "brec"),
        ("bseg_2", "gone"),
        ("bseg_3", "brec"),
    ]


def test_segments_are_cropped_resampled_and_described(source_dir, tmp_path):
    settings = {"category": "speech", "source": SOURCE, "n_shards": 1}
    ledger, rows = collect_rows("mucs", settings, source_dir, tmp_path / "raw.parquet")
    assert sorted(rows) == ["mucs/bseg_1/brec", "mucs/seg_a/rec1", "mucs/seg_b/rec1"]
    assert rows["mucs/seg_a/rec1"]["audio_description"] == (
        "[00:00-00:02] नमस्ते दोस्तों (duration: 2s, language: Hindi-English code-switching)"
    )
    assert rows["mucs/seg_b/rec1"]["audio_description"] == (
        "[00:00-00:02] this is a test (duration: 2s, language: Hindi-English code-switching)"
    )
    assert rows["mucs/bseg_1/brec"]["audio_description"] == (
        "[00:00-00:01] আমি computer ব্যবহার করি "
        "(duration: 1s, language: Bengali-English code-switching)"
    )
    seg_a = rows["mucs/seg_a/rec1"]
    # 8 kHz samples [4000, 16000) resampled to 16 kHz: 1.5 s, mono as recorded.
    assert (seg_a["sample_rate"], seg_a["channels"], seg_a["duration"]) == (16000, 1, 1.5)
    bseg = rows["mucs/bseg_1/brec"]
    assert (bseg["sample_rate"], bseg["channels"]) == (16000, 2)  # no downmix
    original, _ = decode(_wav(2.0, 16000, channels=2))
    cropped, _ = decode(bseg["audio"])
    np.testing.assert_allclose(cropped, original[:, :19200], atol=1e-4)
    assert drop_reasons(ledger) == {
        "mucs/bseg_2/gone": "unreadable_item",
        "mucs/bseg_3/brec": "missing_metadata",
    }
