import io

import numpy as np
import soundfile as sf
from builders import collect_rows, drop_reasons, write_zip

from alarm.data.sources import fma

SOURCE = {
    "type": "url",
    "urls": [
        "https://os.unil.cloud.switch.ch/fma/fma_large.zip",
        "https://os.unil.cloud.switch.ch/fma/fma_metadata.zip",
    ],
}
SETTINGS = {"category": "music", "source": SOURCE, "n_shards": 1}

# tracks.csv as FMA ships it (fewer columns): two header rows, then a "track_id" row.
TRACKS_CSV = """\
,album,album,album,artist,artist,set,set,track,track,track,track
,comments,tags,title,name,tags,split,subset,genres,language_code,tags,title
track_id,,,,,,,,,,,
2,0,[],AWOL - A Way Of Life,AWOL,['awol'],training,small,"[25, 12]",en,[],Food
3,0,['demo'],,Kurt Vile,[],training,large,[1],,"['lo-fi', 'tape']",Freeway
4,0,[],,AWOL,[],validation,small,[12],en,[],Electric Ave
5,0,[],,Nobody,[],training,medium,[12],,[],
10,0,[],,Kurt Vile,[],training,large,[999],,[],Pulse
20,0,[],,Nobody,[],training,,[12],,[],Unlisted
134,0,[],,AWOL,[],training,large,[12],,[],Street Music
140,0,[],,AWOL,[],training,large,[12],,[],Broken
"""
GENRES_CSV = """\
genre_id,#tracks,parent,title,top_level
1,8693,38,Avant-Garde,38
12,32923,0,Rock,12
25,9261,12,Punk,12
38,38154,0,Experimental,38
"""


def _mp3(seconds: float, sr: int = 8000) -> bytes:
    buf = io.BytesIO()
    t = np.arange(int(seconds * sr)) / sr
    sf.write(buf, (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sr, format="MP3")
    return buf.getvalue()


def _download(root):
    write_zip(
        root / "fma_metadata.zip",
        {"fma_metadata/tracks.csv": TRACKS_CSV, "fma_metadata/genres.csv": GENRES_CSV},
    )
    tracks = {f"fma_large/000/{track_id:06d}.mp3": _mp3(3.0) for track_id in (2, 3, 4, 5, 10, 20)}
    write_zip(
        root / "fma_large.zip", tracks | {"fma_large/000/000140.mp3": b"ID3 not really an mp3"}
    )


def test_training_split_gives_genres_names_and_tags(tmp_path):
    _download(tmp_path)
    fma.prepare(tmp_path, SOURCE)
    ledger, rows = collect_rows("fma", SETTINGS, tmp_path, tmp_path / "raw.parquet")
    assert {uid: r["audio_description"] for uid, r in rows.items()} == {
        "fma/000002/AWOL - Food": (
            "[00:00-00:03] |Music| (duration: 3s, genres: Punk/Rock and Rock, artist name: AWOL, "
            "song title: Food, album title: AWOL - A Way Of Life, language code: en, "
            "artist tags: awol)"
        ),
        "fma/000003/Kurt Vile - Freeway": (
            "[00:00-00:03] |Music| (duration: 3s, genres: Avant-Garde/Experimental, "
            "artist name: Kurt Vile, song title: Freeway, album tags: demo, song tags: lo-fi/tape)"
        ),
        # An empty title is NaN to pandas and prints as "nan", as in the authors' corpus.
        "fma/000005/Nobody - nan": (
            "[00:00-00:03] |Music| (duration: 3s, genres: Rock, artist name: Nobody, "
            "song title: nan)"
        ),
    }
    assert rows["fma/000002/AWOL - Food"]["sample_rate"] == 8000  # the MP3 as shipped
    reasons = drop_reasons(ledger)
    assert reasons == {
        "fma/000010/Kurt Vile - Pulse": "missing_metadata",  # genre 999 is not in genres.csv
        "fma/000134/AWOL - Street Music": "unreadable_item",  # no mp3
        "fma/000140/AWOL - Broken": "audio_undecodable",
    }
