"""Helpers shared by the music and spoken-instruction converters.

Unpacking a downloaded archive once (:func:`alarm.fetch.unpack`); the files of
each split of a Hugging Face dataset snapshot, resolved as ``load_dataset``
resolves them; rows of a Parquet file whose audio is read only when asked for;
and A_text fields that a row may lack.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

# unpack: zip or tar by content, path-checked, marked when done, then the archive deleted.
from alarm.fetch import unpack as unpack

log = logging.getLogger(__name__)


def hf_split_files(root: Path) -> dict[str, list[Path]]:
    """Data files of each split of the dataset snapshot at ``root``, as ``load_dataset`` sees them.

    The default config of the README's ``configs`` block if it has one, else the
    hub's file-name conventions (``data/train-*``, ...), as in the authors' call.
    """
    import datasets

    with tempfile.TemporaryDirectory() as cache:  # resolves files only: leave no cache behind
        config = datasets.load_dataset_builder(str(root), cache_dir=cache).config
    return {str(split): [Path(f) for f in files] for split, files in config.data_files.items()}


class ParquetRows:
    """Rows of Parquet files whose audio column is read only when an item's audio is loaded.

    The metadata columns are read one row group at a time. A shard loads its
    items' audio in file order, so the audio column of the last row group read
    is kept: each row group's audio is read once per shard.
    """

    def __init__(self, audio_column: str):
        self.audio_column = audio_column
        self._group: tuple[Path, int] | None = None
        self._audio: list[Any] = []

    def rows(
        self, path: Path, columns: list[str]
    ) -> Iterator[tuple[dict[str, Any], Callable[[], bytes]]]:
        """``(row, load_audio)`` for each row of ``path``, ``row`` holding ``columns``."""
        parquet = pq.ParquetFile(path)
        # pyarrow skips unknown columns silently; a whole missing column means another
        # revision or repo, so fail here rather than on every row.
        missing = [c for c in [*columns, self.audio_column] if c not in parquet.schema_arrow.names]
        if missing:
            raise ValueError(f"{path}: no column(s) {', '.join(missing)}")
        for group in range(parquet.num_row_groups):
            table = parquet.read_row_group(group, columns=columns)
            for index, row in enumerate(table.to_pylist()):
                yield row, partial(self._load, path, group, index)

    def _load(self, path: Path, group: int, index: int) -> bytes:
        if self._group != (path, group):
            table = pq.ParquetFile(path).read_row_group(group, columns=[self.audio_column])
            self._audio = table.column(0).to_pylist()
            self._group = (path, group)
        value = self._audio[index]
        # An HF Audio column is a {bytes, path} struct; a plain binary column is the bytes.
        data = value.get("bytes") if isinstance(value, dict) else value
        if not data:
            raise OSError(f"{path.name}: row {index} of row group {group} has no audio bytes")
        return data


def text_and_metadata(
    where: str, build: Callable[..., tuple[str, dict[str, Any]]], *args: Any
) -> tuple[str | None, dict[str, Any]]:
    """``build(*args)``, an item's text and metadata; ``(None, {})`` when its row lacks a field.

    The authors' scripts crash on such a row; here the item is still yielded and
    the raw stage records it as a ``missing_metadata`` drop (``text`` is None).
    """
    try:
        return build(*args)
    # SyntaxError: a malformed Python literal (FMA's list columns).
    except (KeyError, IndexError, TypeError, AttributeError, ValueError, SyntaxError) as err:
        log.warning("%s: incomplete metadata (%r), its A_text cannot be built", where, err)
        return None, {}
