"""Random access to clips inside raw Parquet shards, for data-loader workers.

The corpus index points at each clip by (raw shard, row). A worker reads only
the row group holding that row (raw shards use small row groups) and keeps a
few shard handles open; no audio is copied out of the raw shards.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict

import pyarrow.parquet as pq


class AudioStore:
    def __init__(self, max_open: int = 16):
        self.max_open = max_open
        self._files: OrderedDict[str, tuple[pq.ParquetFile, list[int]]] = OrderedDict()

    def _open(self, shard: str) -> tuple[pq.ParquetFile, list[int]]:
        if shard in self._files:
            self._files.move_to_end(shard)
            return self._files[shard]
        file = pq.ParquetFile(shard)
        starts, total = [], 0  # first row of each row group
        for i in range(file.num_row_groups):
            starts.append(total)
            total += file.metadata.row_group(i).num_rows
        self._files[shard] = (file, starts)
        if len(self._files) > self.max_open:
            self._files.popitem(last=False)
        return file, starts

    def get(self, shard: str, row: int) -> bytes:
        """The audio bytes of row ``row`` of raw shard ``shard``."""
        file, starts = self._open(shard)
        group = bisect.bisect_right(starts, row) - 1
        table = file.read_row_group(group, columns=["audio"])
        return table.column("audio")[row - starts[group]].as_py()

    def __getstate__(self):
        # Workers open their own handles after the fork or spawn.
        return {"max_open": self.max_open, "_files": OrderedDict()}
