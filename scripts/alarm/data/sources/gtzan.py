"""GTZAN (Tzanetakis & Cook 2002): 30-s music clips in ten genres, from the Kaggle copy.

Layout after unpacking: ``Data/genres_original/<genre>/<genre>.<nnnnn>.wav``.
A_text: ``[00:00-00:30] |Music| (duration: 30s, genre: Blues)``;
ids ``genre: <genre>`` ; ``<file name>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._music_instruction_common import unpack

# The basename of the Kaggle API URL the authors curl: a zip without an extension.
ARCHIVE = "gtzan-dataset-music-genre-classification"
# Unreadable in the Kaggle copy; the authors skip it (999 clips remain).
BROKEN = "jazz.00054.wav"


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    # The kaggle CLI (--unzip) leaves no archive: Data/ is already there.
    if (source_dir / ARCHIVE).exists():
        unpack(source_dir / ARCHIVE, source_dir)


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    root = Path(source_dir) / "Data" / "genres_original"
    for genre_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        genre = genre_dir.name
        for path in sorted(genre_dir.iterdir()):
            if path.name == BROKEN:
                continue
            yield SourceItem(
                unique_id_1=f"genre: {genre}",
                unique_id_2=path.name,
                load_audio=path.read_bytes,
                text="Music",
                text_type="caption",
                metadata={"genre": genre.title()},
            )
