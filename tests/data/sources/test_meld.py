import csv
import io
import subprocess

import pytest
import soundfile as sf
from builders import collect_descriptions, drop_reasons, tar_gz_bytes, wav_bytes, write_tar

from alarm.data.sources import meld

SOURCE = {
    "type": "hub",
    "repo": "declare-lab/MELD",
    "revision": "9abc51ee7903424ffb971297608aa6d3d0de3bfa",
    "allow_patterns": ["MELD.Raw.tar.gz"],
}
HEADER = ["Sr No.", "Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID"]
# (utterance, speaker, emotion, sentiment, dialogue, utterance id, seconds; None: no mp4)
ROWS = [
    (
        "also I was the point person on my company\x92s transition",
        "Chandler",
        "neutral",
        "neutral",
        0,
        0,
        8.0,
    ),
    ("You must\x92ve had your hands full.", "The Interviewer", "neutral", "neutral", 0, 1, 7.0),
    ("That I did. That I did.", "Chandler", "neutral", "neutral", 0, 2, 5.0),
    (
        "So let\x92s talk a little bit about your duties.",
        "The Interviewer",
        "neutral",
        "neutral",
        0,
        3,
        2.0,
    ),
    ("My duties?  All right.", "Chandler", "surprise", "positive", 0, 4, "broken"),
    (
        "Now you\x92ll be heading a whole division",
        "The Interviewer",
        "neutral",
        "neutral",
        0,
        5,
        1.0,
    ),
    ("Hi.", "Ross", "neutral", "neutral", 1, 10, 1.0),
    ("Hey", "Monica", "joy", "positive", 1, 1, 1.0),
    ("What?", "Ross", "surprise", "negative", 1, 2, 1.5),
    ("Oh.", "Joey", "", "neutral", 2, 0, 1.0),
    ("Huh.", "Joey", "neutral", "neutral", 2, 1, None),
    ("One", "Phoebe", "neutral", "neutral", 3, 0, 1.0),
    ("Two", "Phoebe", "neutral", "neutral", 3, 1, 1.0),
    ("Three", "Rachel", "neutral", "neutral", 3, 2, 1.0),
]


def _fake_decode(mp4):
    # ffmpeg is not installed here: the fixture "mp4"s hold the WAV ffmpeg would produce.
    if not mp4.exists() or mp4.read_bytes() == b"broken":
        raise subprocess.CalledProcessError(1, ["ffmpeg", str(mp4)])
    return mp4.read_bytes()


@pytest.fixture
def source(tmp_path, monkeypatch):
    root = tmp_path / "meld"
    root.mkdir()
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(HEADER)
    for i, (text, speaker, emotion, sentiment, dia, utt, _) in enumerate(ROWS, 1):
        writer.writerow([i, text, speaker, emotion, sentiment, dia, utt])
    train = {}
    for *_, dia, utt, seconds in ROWS:
        if seconds is not None:
            data = b"broken" if seconds == "broken" else wav_bytes(seconds)
            train[f"train_splits/dia{dia}_utt{utt}.mp4"] = data
    write_tar(
        root / "MELD.Raw.tar.gz",
        {
            "MELD.Raw/train_sent_emo.csv": table.getvalue().encode(),
            "MELD.Raw/train.tar.gz": tar_gz_bytes(train),
        },
    )
    monkeypatch.setattr(meld, "decode_mp4", _fake_decode)
    meld.prepare(root, SOURCE)
    return root


def test_prepare_extracts_16k_wavs_and_lists_undecodable(source):
    wav_dir = source / "MELD.Raw" / "train_wav16k"
    assert sf.info(str(wav_dir / "dia0_utt0.wav")).samplerate == 16000
    assert (wav_dir / "undecodable.txt").read_text().split() == ["dia0_utt4", "dia2_utt1"]


def test_dialogue_clips_of_20_s(source, tmp_path):
    # Dialogue 0's first clip reaches exactly 20 s: it closes there (>= 20).
    (source / "MELD.Raw" / "train_wav16k" / "dia3_utt1.wav").unlink()  # lost after prepare
    settings = {"category": "multi_speaker", "source": SOURCE, "n_shards": 1}
    ledger, rows = collect_descriptions("meld", settings, source, tmp_path / "raw.parquet")
    assert rows["meld/0/0_0_0_1_2"] == (
        "[00:00-00:08, the first speaker, emotion: neutral, sentiment: neutral] "
        "also I was the point person on my company's transition "
        "[00:08-00:15, the second speaker, emotion: neutral, sentiment: neutral] "
        "You must've had your hands full. "
        "[00:15-00:20, the first speaker, emotion: neutral, sentiment: neutral] "
        "That I did. That I did. (duration: 20s, the number of speakers: 2)"
    )
    # The undecodable utt4 closes the clip before it and is left out, as the authors do.
    assert rows["meld/0/0_1_3"] == (
        "[00:00-00:02, the first speaker, emotion: neutral, sentiment: neutral] "
        "So let's talk a little bit about your duties. (duration: 2s, the number of speakers: 1)"
    )
    assert rows["meld/0/0_2_5"].startswith("[00:00-00:01, the first speaker, emotion: neutral")
    # Utterances in numeric order (1, 2, 10); 2.5 s and 3.5 s round to even.
    assert rows["meld/1/1_0_1_2_10"] == (
        "[00:00-00:01, the first speaker, emotion: joy, sentiment: positive] Hey "
        "[00:01-00:02, the second speaker, emotion: surprise, sentiment: negative] What? "
        "[00:02-00:04, the second speaker, emotion: neutral, sentiment: neutral] Hi. "
        "(duration: 4s, the number of speakers: 2)"
    )
    assert rows["meld/3/3_1_2"].endswith("Three (duration: 1s, the number of speakers: 1)")
    assert set(rows) == {
        "meld/0/0_0_0_1_2",
        "meld/0/0_1_3",
        "meld/0/0_2_5",
        "meld/1/1_0_1_2_10",
        "meld/3/3_1_2",
    }
    assert drop_reasons(ledger) == {
        "meld/2/2_0_0": "missing_metadata",  # no emotion
        "meld/3/3_0_0_1": "unreadable_item",  # its clip closes at the lost wav
    }
