import io
import tarfile

import numpy as np
import soundfile as sf

from alarm.data.audio import decode
from alarm.data.collect import collect_shard
from alarm.data.sources import alimeeting
from alarm.shards import read_shard

SOURCE = {
    "type": "url",
    "urls": [
        "https://speech-lab-share-data.oss-cn-shanghai.aliyuncs.com/AliMeeting/openlr/Train_Ali_near.tar.gz"
    ],
}


def _textgrid(name: str, intervals: list[tuple[float, float, str]]) -> str:
    """A long-format Praat TextGrid, as AliMeeting ships them."""
    lines = [
        'File type = "ooTextFile"',
        'Object class = "TextGrid"',
        "",
        "xmin = 0 ",
        "xmax = 60 ",
        "tiers? <exists> ",
        "size = 1 ",
        "item []: ",
        "    item [1]:",
        '        class = "IntervalTier" ',
        f'        name = "{name}" ',
        "        xmin = 0 ",
        "        xmax = 60 ",
        f"        intervals: size = {len(intervals)} ",
    ]
    for i, (start, end, mark) in enumerate(intervals, 1):
        lines += [
            f"        intervals [{i}]:",
            f"            xmin = {start} ",
            f"            xmax = {end} ",
            f'            text = "{mark}" ',
        ]
    return "\n".join(lines) + "\n"


def _wav(seconds: float, value: float) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.full(int(seconds * 16000), value), 16000, format="WAV")
    return buf.getvalue()


def _source(tmp_path):
    root = tmp_path / "alimeeting"
    root.mkdir()
    files = {
        "textgrid_dir/R0003_M0046_F_SPK0093.TextGrid": _textgrid(
            "SPK0093",
            [(1.234567, 3.5, "你好 "), (20, 20, "zero length"), (30, 44.5, '他说""好""')],
        ).encode(),
        "textgrid_dir/R0003_M0046_M_SPK0094.TextGrid": _textgrid(
            "SPK0094", [(2.0, 4.0, "嗯"), (45.0, 46.0, "")]
        ).encode(),
        "audio_dir/R0003_M0046_F_SPK0093.wav": _wav(47, 0.1),
        "audio_dir/R0003_M0046_M_SPK0094.wav": _wav(47, -0.2),
        "textgrid_dir/R0004_M0050_F_SPK0100.TextGrid": _textgrid(
            "SPK0100", [(0, 1, "啊")]
        ).encode(),
        "textgrid_dir/notes.TextGrid": b"not a meeting file",
    }
    with tarfile.open(root / "Train_Ali_near.tar.gz", "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"Train_Ali_near/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    alimeeting.prepare(root, SOURCE)
    return root


def test_textgrid_first_tier_is_read_as_the_textgrid_package_does(tmp_path):
    root = _source(tmp_path)
    path = root / "Train_Ali_near" / "textgrid_dir" / "R0003_M0046_F_SPK0093.TextGrid"
    assert alimeeting.first_tier_intervals(path) == [
        (1.23457, 3.5, "你好 "),
        (30.0, 44.5, '他说"好"'),
    ]


def test_meeting_clips_of_40_s(tmp_path):
    root = _source(tmp_path)
    settings = {"category": "multi_speaker", "source": SOURCE, "n_shards": 1}
    ledger = collect_shard("alimeeting", settings, 0, root, tmp_path / "raw.parquet")
    rows = {r["uid"]: r for r in read_shard(tmp_path / "raw.parquet")}
    first = rows["alimeeting/R0003_M0046/R0003_M0046_0_0093_0094_0093"]
    assert first["audio_description"] == (
        "[00:00-00:02, the first speaker] 你好 [00:01-00:03, the second speaker] 嗯 "
        '[00:29-00:43, the first speaker] 他说"好" (duration: 43s, '
        "the first speaker's gender: Female, the second speaker's gender: Male, "
        "the number of speakers: 2)"
    )
    # An empty mark is an utterance too, as the authors read every interval.
    assert rows["alimeeting/R0003_M0046/R0003_M0046_1_0094"]["audio_description"] == (
        "[00:00-00:01, the first speaker]  "
        "(duration: 1s, the first speaker's gender: Male, the number of speakers: 1)"
    )
    audio, _ = decode(first["audio"])
    # Pieces: [19753:56000) of SPK0093 at 0, [32000:64000) of SPK0094 at round(0.76543 * 16k),
    # [480000:712000) of SPK0093 at round(28.76543 * 16k).
    assert audio.shape == (1, 460247 + 232000)
    assert abs(audio[0, 10000] - 0.1) < 1e-3 and abs(audio[0, 20000] + 0.2) < 1e-3
    assert audio[0, 50000] == 0
    assert set(rows) == {
        "alimeeting/R0003_M0046/R0003_M0046_0_0093_0094_0093",
        "alimeeting/R0003_M0046/R0003_M0046_1_0094",
    }
    assert {d.uid: d.reason for d in ledger.drops} == {
        "alimeeting/R0004_M0050/R0004_M0050_0_0100": "unreadable_item"  # no wav
    }
