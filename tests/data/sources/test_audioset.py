import io
import json
import tarfile

import numpy as np
import soundfile as sf

from alarm.data.collect import collect_shard
from alarm.data.sources import audioset
from alarm.shards import read_shard

SOURCE = {
    "type": "hub",
    "repo": "confit/audioset-16khz-wds",
    "revision": "4a40121a",
    "allow_patterns": ["2m/train/*.tar"],
}


def _wav(seconds: float) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.full(int(seconds * 16000), 0.1), 16000, format="WAV")
    return buf.getvalue()


def _tar(path, members):
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _meta(video_id, labels):
    return json.dumps({"id": video_id, "label": labels}).encode()


def test_index_then_items_from_tar_members(tmp_path):
    root = tmp_path / "audioset"
    a, b = _wav(10.0), _wav(2.5)
    _tar(
        root / "2m" / "train" / "shard-00000.tar",
        [
            ("Y--0PQM4-hqg.json", _meta("--0PQM4-hqg", ["Speech", "Music"])),
            ("Y--0PQM4-hqg.wav", a),
            ("._Y--0PQM4-hqg.wav", b"mac junk"),  # hidden: skipped, as datasets does
            ("Ynowav.json", _meta("nowav", ["Dog"])),
            ("Ynojson.wav", b),
        ],
    )
    _tar(
        root / "2m" / "train" / "shard-00001.tar",
        [("part/Yabc.wav", b), ("part/Yabc.json", _meta("abc", ["Rain on surface"]))],
    )
    _tar(root / "2m" / "test" / "shard-00000.tar", [("Ytest.wav", b)])  # not the train split
    audioset.prepare(root, SOURCE)
    items = list(audioset.items(root, SOURCE))
    assert [(i.unique_id_1, i.unique_id_2) for i in items] == [
        ("Y--0PQM4-hqg", "--0PQM4-hqg"),
        ("Ynowav", "nowav"),
        ("part/Yabc", "abc"),  # the key keeps the member's directory, as __key__ does
    ]
    assert items[0].load_audio() == a  # the member's bytes, read at its offset
    settings = {"category": "sound", "source": SOURCE, "n_shards": 1}
    ledger = collect_shard("audioset", settings, 0, root, tmp_path / "raw.parquet")
    rows = {r["uid"]: r for r in read_shard(tmp_path / "raw.parquet")}
    assert rows["audioset/Y--0PQM4-hqg/--0PQM4-hqg"]["audio_description"] == (
        "[00:00-00:10] |Speech, Music| (duration: 10s)"
    )
    assert rows["audioset/part/Yabc/abc"]["audio_description"] == (
        "[00:00-00:02] |Rain on surface| (duration: 2s)"
    )
    assert {d.uid: d.reason for d in ledger.drops} == {"audioset/Ynowav/nowav": "unreadable_item"}
