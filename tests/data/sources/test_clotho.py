from builders import collect_descriptions, drop_reasons, wav_bytes

from alarm.data.describe import audio_description
from alarm.data.sources import clotho

SOURCE = {
    "type": "url",
    "urls": ["https://zenodo.org/records/3490684/files/clotho_audio_development.7z"],
}
CAPTIONS = "\n".join(
    [
        "file_name,caption_1,caption_2,caption_3,caption_4,caption_5",
        "Distorted AM Radio noise.wav, A muddled noise of broken channel of the TV,"
        '"A television blares the rhythm of a static TV, loud",'
        "Loud television static dips in and out of focus,"
        "The loud buzz of static constantly changes pitch and volume.,"
        "heavy static and the beginnings of a signal on a transistor radio",
        "Footsteps on snow.wav,Someone walks on snow,Snow crunches under boots,"
        "A person treads through snow,Boots crunch in the snow,Footsteps in deep snow",
        "Rain.wav,Rain falls,Rain patters,Rain on a roof,Heavy rain,Light rain",
        "",
    ]
)
METADATA = "\n".join(
    [
        "file_name,keywords,sound_id,sound_link,start_end_samples,manufacturer,license",
        "Distorted AM Radio noise.wav,noise;radio;static;distorted,225802,"
        'https://freesound.org/people/x/sounds/225802,"[0, 900000]",x,cc0',
        'Footsteps on snow.wav,,1,https://freesound.org/people/y/sounds/1,"[0, 1]",y,cc0',
        "",
    ]
)


def _source(tmp_path, monkeypatch):
    root = tmp_path / "clotho"
    root.mkdir()
    (root / "clotho_audio_development.7z").write_bytes(b"7z")
    (root / "clotho_captions_development.csv").write_text(CAPTIONS)
    (root / "clotho_metadata_development.csv").write_text(METADATA)
    commands = []

    def fake_7z(cmd, check):  # 7z is not installed here: unpack as 7z would
        commands.append(cmd)
        (root / "development").mkdir()
        (root / "development" / "Distorted AM Radio noise.wav").write_bytes(wav_bytes(21.5, 44100))
        (root / "development" / "Footsteps on snow.wav").write_bytes(wav_bytes(3.0, 44100))

    monkeypatch.setattr(clotho.subprocess, "run", fake_7z)
    clotho.prepare(root, SOURCE)
    assert commands == [["7z", "x", str(root / "clotho_audio_development.7z"), f"-o{root}", "-y"]]
    return root


def test_five_captions_per_clip_with_tags(tmp_path, monkeypatch):
    root = _source(tmp_path, monkeypatch)
    settings = {"category": "sound", "source": SOURCE, "n_shards": 1}
    ledger, rows = collect_descriptions("clotho", settings, root, tmp_path / "raw.parquet")
    assert set(rows) == {f"clotho/Distorted AM Radio noise.wav/caption_{i}" for i in range(1, 6)}
    first = rows["clotho/Distorted AM Radio noise.wav/caption_1"]
    assert first == (
        "[00:00-00:22] |A muddled noise of broken channel of the TV| "
        "(duration: 22s, tags: noise/radio/static/distorted)"
    )
    second = rows["clotho/Distorted AM Radio noise.wav/caption_2"]
    assert second == audio_description(
        21.5,
        "A television blares the rhythm of a static TV, loud",
        "caption",
        tags="noise/radio/static/distorted",
    )
    reasons = drop_reasons(ledger)
    assert reasons["clotho/Footsteps on snow.wav/caption_1"] == "missing_metadata"  # no keywords
    assert reasons["clotho/Rain.wav/caption_5"] == "unreadable_item"  # no audio, no metadata row
    assert len(reasons) == 10
