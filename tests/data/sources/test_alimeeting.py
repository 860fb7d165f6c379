from builders import collect_rows, drop_reasons, wav_bytes, write_tar

from alarm.data.audio import decode
from alarm.data.sources import alimeeting

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
        "audio_dir/R0003_M0046_F_SPK0093.wav": wav_bytes(47, value=0.1),
        "audio_dir/R0003_M0046_M_SPK0094.wav": wav_bytes(47, value=-0.2),
        "textgrid_dir/R0004_M0050_F_SPK0100.TextGrid": _textgrid(
            "SPK0100", [(0, 1, "啊")]
        ).encode(),
        "textgrid_dir/notes.TextGrid": b"not a meeting file",
    }
    write_tar(root / "Train_Ali_near.tar.gz", {f"Train_Ali_near/{n}": d for n, d in files.items()})
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
    ledger, rows = collect_rows("alimeeting", settings, root, tmp_path / "raw.parquet")
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
    assert drop_reasons(ledger) == {
        "alimeeting/R0004_M0050/R0004_M0050_0_0100": "unreadable_item"  # no wav
    }
