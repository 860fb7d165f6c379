import subprocess

from builders import collect_rows, drop_reasons, wav_bytes, write_zip

from alarm.data.sources import fsd50k

SOURCE = {"type": "url", "urls": ["https://zenodo.org/records/4060432/files/FSD50K.dev_audio.zip"]}
DEV = """fname,labels,mids,split
64760,"Electric_guitar,Guitar,Plucked_string_instrument,Musical_instrument,Music","/m/02sgy,/m/0342h,/m/0fx80y,/m/04szw,/m/04rlf",train
16399,"Drill,Tools,Mechanisms","/m/01d380,/m/07k1x,/t/dd00077",train
99,"Bark,Dog,Domestic_animals_and_pets,Animal","/m/05tny_,/m/0bt9lr,/m/068hy,/m/0jbk",val
777,"Bark,Dog","/m/05tny_,/m/0bt9lr",train
"""
COLLECTION = """fname,labels,mids
64760,Electric_guitar,/m/02sgy
16399,"Power_tool,Drill","/m/0_ksk,/m/01d380"
777,,
"""


def _source(tmp_path):
    root = tmp_path / "fsd50k"
    staging = tmp_path / "staging" / "FSD50K.dev_audio"
    staging.mkdir(parents=True)
    (staging / "64760.wav").write_bytes(wav_bytes(1.0, 44100))
    (staging / "16399.wav").write_bytes(wav_bytes(2.6, 44100))
    (staging / "99.wav").write_bytes(wav_bytes(0.5, 44100))
    root.mkdir()
    # The real dev audio is a split zip (.z01 ... .z05 + .zip). Zip 3.0 here writes split
    # archives whose members straddling parts do not survive `zip -s 0`, so the fixture is
    # an unsplit .zip, which `zip -s 0` copies just the same.
    subprocess.run(
        ["zip", "-q", "-r", str(root / "FSD50K.dev_audio.zip"), "FSD50K.dev_audio"],
        cwd=staging.parent,
        check=True,
    )
    write_zip(root / "FSD50K.ground_truth.zip", {"FSD50K.ground_truth/dev.csv": DEV})
    write_zip(
        root / "FSD50K.metadata.zip",
        {"FSD50K.metadata/collection/collection_dev.csv": COLLECTION},
    )
    fsd50k.prepare(root, SOURCE)
    return root


def test_train_rows_with_collection_labels_merged(tmp_path, installed):
    installed("zip")  # Info-ZIP, which writes the split archive
    root = _source(tmp_path)
    assert not (root / "FSD50K_full.zip").exists()  # the joined copy is removed
    settings = {"category": "sound", "source": SOURCE, "n_shards": 1}
    ledger, rows = collect_rows("fsd50k", settings, root, tmp_path / "raw.parquet")
    guitar = "Electric guitar/Guitar/Plucked string instrument/Musical instrument/Music"
    drill = "Power tool/Drill/Tools/Mechanisms"
    assert set(rows) == {f"fsd50k/64760/labels: {guitar}", f"fsd50k/16399/labels: {drill}"}
    assert rows[f"fsd50k/64760/labels: {guitar}"]["audio_description"] == (
        f"[00:00-00:01] |Electric guitar| (duration: 1s, sound categories: {guitar})"
    )
    # A collection label missing from the ground truth comes first (the authors never merge).
    assert rows[f"fsd50k/16399/labels: {drill}"]["audio_description"] == (
        f"[00:00-00:03] |Power tool| (duration: 3s, sound categories: {drill})"
    )
    assert drop_reasons(ledger) == {
        "fsd50k/777/labels: Bark/Dog": "unreadable_item"  # no audio file
    }
