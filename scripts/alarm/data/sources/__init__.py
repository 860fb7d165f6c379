"""Source corpora: how each is downloaded and read, one converter module per corpus.

A converter knows one corpus's file layout: ``items(source_dir)`` yields
:class:`~alarm.data.items.SourceItem` s (metadata read eagerly, audio lazily,
so a shard job only decodes its own items). Downloading is generic and driven
by the dataset's ``source`` block in the config (hub repo at a revision, URLs,
Google Drive, Kaggle), with required credentials checked before anything runs.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from alarm.data.items import SourceItem

Converter = Callable[[Path, dict[str, Any]], Iterator[SourceItem]]

# The corpora made from their downloads by a script of their own: their converter has a
# ``generate`` (LibriMix's mixtures). Named here so that the Snakefile, which the login
# node's host environment reads, need not import the converters and what they use.
GENERATED = ("librimix",)


class NoConverterError(LookupError):
    pass


def converter_for(dataset: str, source: dict[str, Any]) -> Converter:
    """The ``items`` function that reads ``dataset`` from its downloaded source directory."""
    return converter_module(dataset, source).items


def converter_module(dataset: str, source: dict[str, Any]) -> ModuleType:
    """The converter module of ``dataset`` (its ``items`` and optional ``prepare``)."""
    module_name = "synthetic" if source["type"] == "synthetic" else dataset
    try:
        module = importlib.import_module(f"alarm.data.sources.{module_name}")
    except ModuleNotFoundError as err:
        if err.name != f"alarm.data.sources.{module_name}":
            raise
        available = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name != "download")
        raise NoConverterError(
            f"dataset {dataset!r} is registered but has no converter module yet "
            f"(alarm/data/sources/{module_name}.py); converters exist for: {', '.join(available)}"
        ) from err
    return module
