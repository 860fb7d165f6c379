import json

from builders import collect_descriptions, drop_reasons, wav_bytes, write_tar

from alarm.data.sources import nsynth

SOURCE = {
    "type": "url",
    "urls": ["http://download.magenta.tensorflow.org/datasets/nsynth/nsynth-train.jsonwav.tar.gz"],
}
SETTINGS = {"category": "music", "source": SOURCE, "n_shards": 1}


def _note(note: int, family: int, source: int, pitch: int, velocity: int, qualities: list[str]):
    # The fields of a real examples.json entry (a few omitted ones are unused).
    return {
        "note": note,
        "note_str": "",
        "instrument": 0,
        "instrument_str": "",
        "pitch": pitch,
        "velocity": velocity,
        "sample_rate": 16000,
        "qualities": [int(q in qualities) for q in nsynth.QUALITY_DESC],
        "qualities_str": qualities,
        "instrument_family": family,
        "instrument_family_str": nsynth.INSTRUMENT_FAMILY.get(family, "?"),
        "instrument_source": source,
        "instrument_source_str": "",
    }


def test_examples_json_gives_pitch_velocity_and_qualities(tmp_path):
    examples = {
        "guitar_acoustic_001-060-100": _note(201034, 3, 0, 60, 100, ["bright", "percussive"]),
        "synth_lead_synthetic_000-021-025": _note(5, 9, 2, 21, 25, []),
        "bass_electronic_018-022-050": _note(7, 99, 1, 22, 50, []),  # unknown family
        "organ_electronic_007-030-127": _note(9, 6, 1, 30, 127, []),  # no audio file
    }
    files = {"nsynth-train/examples.json": json.dumps(examples, indent=4).encode()}
    files |= {f"nsynth-train/audio/{name}.wav": wav_bytes(4.0) for name in list(examples)[:3]}
    write_tar(tmp_path / nsynth.ARCHIVE, files)
    nsynth.prepare(tmp_path, SOURCE)

    ledger, rows = collect_descriptions("nsynth", SETTINGS, tmp_path, tmp_path / "raw.parquet")
    assert rows == {
        "nsynth/guitar_acoustic_001-060-100/201034": (
            "[00:00-00:04] |guitar musical note| (duration: 4s, midi pitch: 60 out of 127, "
            "midi velocity: 100 out of 127, instrument source: Acoustic, instrument family: "
            "Guitar, special qualitative categories: bright/percussive, special qualitative "
            "categories description: 'A large amount of high frequency content and strong "
            "upper harmonics. A loud non-harmonic sound at note onset.')"
        ),
        "nsynth/synth_lead_synthetic_000-021-025/5": (
            "[00:00-00:04] |synth lead musical note| (duration: 4s, midi pitch: 21 out of 127, "
            "midi velocity: 25 out of 127, instrument source: Synthetic, instrument family: "
            "Synth Lead, special qualitative categories: None, special qualitative categories "
            "description: No special categories for this audio)"
        ),
    }
    reasons = drop_reasons(ledger)
    assert reasons == {
        "nsynth/bass_electronic_018-022-050/7": "missing_metadata",
        "nsynth/organ_electronic_007-030-127/9": "unreadable_item",
    }
