import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from builders import AUDIO, collect_rows, drop_reasons, flac_bytes

from alarm.data.sources import sonicmaster

SOURCE = {
    "type": "hub",
    "repo": "amaai-lab/SonicMasterDataset",
    "revision": "8191774834e49b6661bf764361ae160bfd1f9fb4",
}
SETTINGS = {"category": "music", "source": SOURCE, "n_shards": 1}


def _flac(seconds: float) -> bytes:
    """Stereo at 8 kHz: the test checks the rate and channels are kept."""
    return flac_bytes(seconds, 8000, channels=2)


def _meta(name, split="train", vocal="vocal", gender="female", tracking=None):
    return json.dumps(
        {
            "name": name,
            "split": split,
            "genres": ["pop", "rock"],
            "vocalinstrumental": vocal,
            "gender": gender,
            "vartags": ["energetic", "happy"],
            "degradations": ["EQ", "Reverb"],
            "degradation_tracking": tracking
            or {"EQ": ["mud", 8.2], "Reverb": ["small"], "Amplitude": [], "Stereo": []},
        }
    )


def _write(path, rows, row_group_size=2):
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "id": pa.array([r[0] for r in rows], pa.int64()),
            "meta": [r[1] for r in rows],
            "input_flac": pa.array([{"bytes": r[2], "path": None} for r in rows], AUDIO),
            "input_sr": [44100] * len(rows),
            "gt_flac": pa.array([{"bytes": b"clean", "path": None} for _ in rows], AUDIO),
            "gt_sr": [44100] * len(rows),
        }
    )
    pq.write_table(table, path, row_group_size=row_group_size)


def test_train_rows_give_degradation_captions(tmp_path):
    _write(
        tmp_path / "data" / "train-00000-of-00002.parquet",
        [
            (7, _meta("Sunny Day"), _flac(30.0)),
            (8, _meta("Sunny Day", split="test"), _flac(1.0)),  # another split: left out
            (
                9,
                _meta("Night Drive", vocal="instrumental", tracking={"Dynamics": ["punch"]}),
                _flac(10.4),
            ),
        ],
    )
    _write(
        tmp_path / "data" / "train-00001-of-00002.parquet",
        [
            (11, _meta("Odd", tracking={"EQ": ["unknown"]}), _flac(2.0)),  # no description
            (12, _meta("Silent"), None),  # no audio bytes
            (13, "{not json", _flac(1.0)),  # no ids: skipped
        ],
    )
    # Not the hub's train split: its rows never count, whatever their meta says.
    _write(tmp_path / "data" / "validation-00000-of-00001.parquet", [(99, _meta("V"), _flac(1))])

    ledger, rows = collect_rows("sonicmaster", SETTINGS, tmp_path, tmp_path / "raw.parquet")
    assert {uid: r["audio_description"] for uid, r in rows.items()} == {
        "sonicmaster/7/Sunny Day": (
            "[00:00-00:30] |Music| (duration: 30s, song name: Sunny Day, genres: pop/rock, "
            "instrumental or with vocals: vocal, singer gender: Female, tags: energetic/happy, "
            "degraded using: EQ and Reverb, degradataion description: [eq_mud - the audio "
            "muddiness is increased with a second-order Chebyshev Type II bandpass (200-500 Hz) "
            "by 6-15 dB / reverb_small - the audio is convolved with a simulated small room "
            "impulse response])"
        ),
        "sonicmaster/9/Night Drive": (
            "[00:00-00:10] |Music| (duration: 10s, song name: Night Drive, genres: pop/rock, "
            "instrumental or with vocals: instrumental, tags: energetic/happy, degraded using: "
            "EQ and Reverb, degradataion description: [dynamics_punch - the audio dynamics are "
            "modified by appling a feedforward transient shaper with attack 3 ms, release "
            "150 ms, adaptive threshold, and reduction of 8-15 dB])"
        ),
    }
    assert (
        rows["sonicmaster/7/Sunny Day"]["sample_rate"],
        rows["sonicmaster/7/Sunny Day"]["channels"],
    ) == (8000, 2)
    reasons = drop_reasons(ledger)
    assert reasons == {
        "sonicmaster/11/Odd": "missing_metadata",
        "sonicmaster/12/Silent": "unreadable_item",
    }


def test_a_snapshot_without_the_columns_fails_loudly(tmp_path):
    path = tmp_path / "data" / "train-00000-of-00001.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.table({"id": [1], "meta": [_meta("x")]}), path)
    with pytest.raises(ValueError, match="input_flac"):
        list(sonicmaster.items(tmp_path, SOURCE))
