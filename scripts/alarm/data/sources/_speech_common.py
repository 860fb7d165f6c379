"""Helpers shared by the speech converters: hub splits, list files, archives, missing fields."""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from alarm import fetch

AudioLoader = Callable[[], bytes]
Described = tuple[str | None, dict[str, Any]]


def described(build: Callable[..., tuple[str, dict[str, Any]]], *args: Any) -> Described:
    """``build(*args)`` -> (text, metadata), or ``(None, {})`` where a field is missing.

    ``build`` follows the authors' code, so a field it cannot use (null, absent, unparsable,
    an unknown label) raises where the authors' script would have stopped. A ``None`` text
    makes the raw stage record the item as a ``missing_metadata`` drop instead. A field the
    authors print unchanged is kept as it is (a null prints "None", as in their A_text).
    """
    try:
        return build(*args)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError):
        return None, {}


def text_lines(path: Path) -> list[str]:
    """The non-blank lines of a list file, without line ends.

    The authors read these files with ``readlines()[:-1]`` or ``split("\\n")[:-1]``; on a
    file that ends with a newline the former drops the last real line (their bug). Every
    real line is kept here; blank lines, including the trailing one, are skipped.
    """
    return [line for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def read_stripped(path: Path) -> str | None:
    """A transcript file's text, stripped; ``None`` (a missing field) if it cannot be read."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def downloaded(source_dir: Path, url: str) -> Path:
    """The file the download step saved ``url`` as (its last path segment, no query)."""
    return Path(source_dir) / fetch.url_filename(url)


def unpack(archive: Path, dest: Path) -> None:
    """Extract ``archive`` (zip or tar, any compression) into ``dest``, then delete it.

    The authors delete each archive once unpacked too (the corpora are large). An archive
    already unpacked (gone, ``dest`` present) is skipped, so ``prepare`` can run again;
    ``dest`` gets no marker file (its listing is the corpus's).
    """
    if not archive.exists() and dest.is_dir():
        return
    fetch.unpack(archive, dest, marker=False)


def hf_rows(
    source_dir: Path, splits: Sequence[str], columns: Sequence[str]
) -> Iterator[tuple[dict[str, Any], AudioLoader]]:
    """Rows (``columns`` only) of a hub snapshot's ``splits``, in order, with lazy audio.

    The split's files are resolved as the authors' ``load_dataset(repo, split=...)``
    resolves them: the default config of the repo's README, or the hub's file-name
    conventions. The audio is the ``audio`` struct's ``bytes``, read only when loaded.
    """
    import datasets

    with tempfile.TemporaryDirectory() as cache:  # only resolves files; leave no cache behind
        config = datasets.load_dataset_builder(str(source_dir), cache_dir=cache).config
    for split in splits:
        files = (config.data_files or {}).get(split)
        if not files:
            raise FileNotFoundError(f"{source_dir}: the hub snapshot has no split {split!r}")
        for file in files:
            path = Path(file)
            if path.suffix == ".parquet":
                yield from _parquet_rows(path, columns)
            elif path.suffix == ".arrow":
                yield from _arrow_rows(path, columns)
            else:
                raise ValueError(f"{path}: split {split!r} is neither Parquet nor Arrow")


def _check_columns(path: Path, names: Sequence[str], columns: Sequence[str]) -> None:
    # A whole column missing means a different revision or repo: fail loudly, not per row.
    missing = [c for c in [*columns, "audio"] if c not in names]
    if missing:
        raise ValueError(f"{path}: no column(s) {', '.join(missing)}")


def _parquet_rows(
    path: Path, columns: Sequence[str]
) -> Iterator[tuple[dict[str, Any], AudioLoader]]:
    parquet = pq.ParquetFile(path)
    _check_columns(path, parquet.schema_arrow.names, columns)
    for group in range(parquet.num_row_groups):
        rows = parquet.read_row_group(group, columns=list(columns)).to_pylist()
        for index, row in enumerate(rows):
            yield row, functools.partial(_parquet_audio, str(path), group, index)


@functools.lru_cache(maxsize=1)
def _parquet_audio_group(path: str, group: int) -> pa.Array:
    # A shard loads its items in the order they are yielded, so one cached row group
    # serves all of the shard's items in it: each group is read at most once per shard.
    table = pq.ParquetFile(path).read_row_group(group, columns=["audio"])
    return table.column("audio").combine_chunks()


def _parquet_audio(path: str, group: int, index: int) -> bytes:
    return _audio_bytes(_parquet_audio_group(path, group)[index].as_py(), f"{path}[{group}]")


def _arrow_rows(path: Path, columns: Sequence[str]) -> Iterator[tuple[dict[str, Any], AudioLoader]]:
    table = _arrow_table(str(path))
    _check_columns(path, table.column_names, columns)
    for index, row in enumerate(table.select(list(columns)).to_pylist()):
        yield row, functools.partial(_arrow_audio, str(path), index)


@functools.lru_cache(maxsize=1)
def _arrow_table(path: str) -> pa.Table:
    # Hub .arrow files are IPC streams (what save_to_disk writes); memory-mapped, not read.
    return pa.ipc.open_stream(pa.memory_map(path)).read_all()


def _arrow_audio(path: str, index: int) -> bytes:
    return _audio_bytes(_arrow_table(path).column("audio")[index].as_py(), path)


def _audio_bytes(audio: dict[str, Any] | None, where: str) -> bytes:
    if not audio or audio.get("bytes") is None:
        raise OSError(f"{where}: the row's audio struct has no bytes")
    return audio["bytes"]
