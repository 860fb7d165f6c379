import hashlib
import io
import random

import pytest
from builders import collect_descriptions, wav_bytes, write_zip

from alarm.data.sources import voxceleb1

SOURCE = {
    "type": "hub",
    "repo": "ProgramComputer/voxceleb",
    "revision": "23dcdd6d2b485d8b9c29e6c9ffb0b53486c68699",
    "allow_patterns": ["vox1/vox1_dev_wav_parta*"],
}
META = """VoxCeleb1 ID\tVGGFace1 ID\tGender\tNationality\tSet
id10001\tA.J._Buckley\tm\tIreland\tdev
id10002\tA.R._Rahman\tf\tUSA\tdev
id10003\tAaron_Tveit\tm\tUK\tdev
id10004\tAaron_Yoo\tf\tIndia\tdev
id10270\tTest_Person\tm\tUSA\ttest
"""
SECONDS = {"id10001": 1.5, "id10002": 2.0, "id10003": 0.75, "id10004": 3.25, "id19999": 1.0}


@pytest.fixture
def source(tmp_path, monkeypatch):
    root = tmp_path / "voxceleb1"
    (root / "vox1").mkdir(parents=True)
    archive = io.BytesIO()
    write_zip(
        archive,
        {
            f"wav/{speaker}/{video}/{n:05d}.wav": wav_bytes(seconds)
            for speaker, seconds in SECONDS.items()
            for video, n in [("1zcIwhmdeo4", 1), ("1zcIwhmdeo4", 2), ("7w0IBEWc9Qw", 1)]
        },
    )
    data = archive.getvalue()
    md5 = {}
    for i, name in enumerate(sorted(voxceleb1.PART_MD5)):  # the zip, cut in four parts
        part = data[i * len(data) // 4 : (i + 1) * len(data) // 4]
        (root / "vox1" / name).write_bytes(part)
        md5[name] = hashlib.md5(part).hexdigest()
    (root / "vox1_meta.csv").write_text(META)
    monkeypatch.setattr(voxceleb1, "PART_MD5", md5)
    monkeypatch.setattr(voxceleb1, "N_PAIRS", 1)  # 1 same-speaker, 1 male, 1 female pair
    voxceleb1.prepare(root, SOURCE)
    return root


def _authors_pairs(speakers, audio, n_pairs):
    """The authors' create_train_pairs, module-level random and all, for comparison."""
    male_set = {s for s, g, _ in speakers if g == "m"}
    female_set = {s for s, g, _ in speakers if g == "f"}

    def sample_pairs(a, b, n_pairs=1):
        n_pairs = min(n_pairs, len(a), len(b))
        return list(zip(random.sample(a, n_pairs), random.sample(b, n_pairs), strict=True))

    pairs = []
    random.seed(123)
    for speaker_id, _, _ in speakers:
        speaker_audio = audio[speaker_id]
        pairs.extend(sample_pairs(speaker_audio, speaker_audio, n_pairs=n_pairs))
        for group in (male_set, female_set):
            for other in random.sample(sorted(group - {speaker_id}), n_pairs):
                pairs.append(sample_pairs(speaker_audio, audio[other], n_pairs=1)[0])
    return pairs


def test_pairs_follow_the_authors_procedure_over_sorted_listings():
    speakers = [(f"id{i}", "m" if i % 2 else "f", "X") for i in range(10001, 10121)]
    audio = {
        s: [f"{s}/v/{n:05d}.wav" for n in range(1, 2 + i % 70)]
        for i, (s, _, _) in enumerate(speakers)
    }
    pairs = voxceleb1.create_pairs(speakers, audio)
    state = random.getstate()
    try:
        assert pairs == _authors_pairs(speakers, audio, 50)
    finally:
        random.setstate(state)
    assert pairs == voxceleb1.create_pairs(speakers, audio)  # no hidden state
    assert len(pairs) == len(set(pairs)) == sum(min(50, len(a)) for a in audio.values()) + 120 * 100


def test_prepare_checks_md5(source, tmp_path, monkeypatch):
    monkeypatch.setattr(voxceleb1, "PART_MD5", dict.fromkeys(voxceleb1.PART_MD5, "0" * 32))
    (source / "wav").rename(tmp_path / "unpacked")
    with pytest.raises(ValueError, match="md5"):
        voxceleb1.prepare(source, SOURCE)


def test_pairs_of_two_utterances(source, tmp_path):
    pairs = (source / "train_list.txt").read_text().splitlines()
    assert len(pairs) == 12 and not (source / "voxceleb.zip").exists()
    assert all(not p.startswith("id10270") for p in pairs)  # dev speakers only
    # Pairs from another list: a speaker missing from the metadata, and a file that is not there.
    with open(source / "train_list.txt", "a") as f:
        f.write("id19999/1zcIwhmdeo4/00001.wav\tid10001/1zcIwhmdeo4/00001.wav\n")
        f.write("id10003/lost/00001.wav\tid10001/1zcIwhmdeo4/00001.wav\n")
    first, second = pairs[0].split("\t")  # id10001's pair of its own files
    settings = {"category": "multi_speaker", "source": SOURCE, "n_shards": 1}
    ledger, rows = collect_descriptions("voxceleb1", settings, source, tmp_path / "raw.parquet")
    assert rows[f"voxceleb1/{first}/{second}"] == (
        "[00:00-00:02, the first speaker] |Speech| [00:02-00:03, the second speaker] |Speech| "
        "(duration: 3s, the speakers are the same: Yes, the first speaker's gender: Male, "
        "the second speaker's gender: Male, the first speaker's nationality: Ireland, "
        "the second speaker's nationality: Ireland, the number of speakers: 2)"
    )
    female_pair = next(p for p in pairs if p.startswith("id10002") and "\tid10004" in p)
    assert rows["voxceleb1/" + female_pair.replace("\t", "/")] == (
        "[00:00-00:02, the first speaker] |Speech| [00:02-00:05, the second speaker] |Speech| "
        "(duration: 5s, the speakers are the same: No, the first speaker's gender: Female, "
        "the second speaker's gender: Female, the first speaker's nationality: USA, "
        "the second speaker's nationality: India, the number of speakers: 2)"
    )
    assert ledger.dropped == {"unreadable_item": 1, "missing_metadata": 1}
    assert len(rows) == 12  # every generated pair
