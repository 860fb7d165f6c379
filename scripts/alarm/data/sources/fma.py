"""FMA large (Defferrard et al. 2017): 30-s MP3 clips with FMA's track, album and artist metadata.

Layout after unpacking: ``fma_large/<ddd>/<dddddd>.mp3`` and
``fma_metadata/{tracks,genres}.csv``; the tracks of the ``training`` split, in
tracks.csv order. A_text: ``[00:00-00:30] |Music| (duration: 30s, genres: Punk/Rock and
Rock, artist name: A, song title: T[, album title: ..][, language code: en][, album tags:
a/b][, artist tags: ..][, song tags: ..])``; ids ``<dddddd>`` ; ``<artist> - <title>``.

The authors decode every MP3 with torchaudio and resave it as 16 kHz mono WAV
(skipping files torchaudio cannot open). The MP3 is kept here as shipped;
one libsndfile cannot read is a recorded drop of the raw stage.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from alarm.data.items import SourceItem
from alarm.data.sources._music_instruction_common import text_and_metadata, unpack

ARCHIVES = ("fma_large.zip", "fma_metadata.zip")

# The authors skip a file torchaudio cannot open before numbering their rows, so such a
# row does not count in their split (alarm.data.split); ours is libsndfile's verdict.
AUTHORS_SKIP_UNREADABLE = True

# (tracks.csv column, metadata key) of the optional tag lists, in the authors' order.
TAGS = (
    (("album", "tags"), "album tags"),
    (("artist", "tags"), "artist tags"),
    (("track", "tags"), "song tags"),
)


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    for name in ARCHIVES:
        unpack(Path(source_dir) / name, Path(source_dir))


def _full_genres(genres: pd.DataFrame) -> dict[str, str]:
    """title -> "title/parent/grandparent..." (the authors key it by title, the last row wins)."""
    full = {}
    for _, row in genres.iterrows():
        chain = [row["title"]]
        parent = row["parent"]
        while parent != 0:
            chain.append(genres.loc[parent, "title"])
            parent = genres.loc[parent, "parent"]
        full[row["title"]] = "/".join(chain)
    return full


def _describe(
    track: pd.Series, genres: pd.DataFrame, full_genres: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    # tracks.csv stores lists as Python literals; the authors' FMA loader literal_evals them.
    genre_ids = ast.literal_eval(track["track", "genres"])
    metadata = {
        "genres": " and ".join(full_genres[genres.loc[g, "title"]] for g in genre_ids),
        # str(): a missing name or title prints as "nan", as in the authors' A_text.
        "artist name": str(track["artist", "name"]),
        "song title": str(track["track", "title"]),
    }
    # Absent values are NaN floats (the authors' "to avoid NaNs" test).
    if isinstance(track["album", "title"], str):
        metadata["album title"] = track["album", "title"]
    if isinstance(track["track", "language_code"], str):
        metadata["language code"] = track["track", "language_code"]
    for column, key in TAGS:
        tags = ast.literal_eval(track[column])
        if tags:
            metadata[key] = "/".join(tags)
    return "Music", metadata


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    meta_dir = Path(source_dir) / "fma_metadata"
    # The same read_csv calls as the FMA loader the authors copy, so values (NaN included)
    # come out alike.
    tracks = pd.read_csv(meta_dir / "tracks.csv", index_col=0, header=[0, 1])
    genres = pd.read_csv(meta_dir / "genres.csv", index_col=0)
    full_genres = _full_genres(genres)
    # subset <= "large" on the ordered categorical small < medium < large: every labelled track.
    keep = tracks["set", "subset"].isin(["small", "medium", "large"])
    tracks = tracks.loc[keep & (tracks["set", "split"] == "training")]
    for track_id, track in tracks.iterrows():
        full_id = f"{track_id:06d}"
        text, metadata = text_and_metadata(f"fma {full_id}", _describe, track, genres, full_genres)
        yield SourceItem(
            unique_id_1=full_id,
            unique_id_2=f"{track['artist', 'name']} - {track['track', 'title']}",
            load_audio=(Path(source_dir) / "fma_large" / full_id[:3] / f"{full_id}.mp3").read_bytes,
            text=text,
            text_type="caption",
            metadata=metadata,
        )
