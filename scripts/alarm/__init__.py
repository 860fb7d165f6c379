"""ALARM: Audio-Language Alignment for Reasoning Models, as one reproducible workflow.

Sub-packages, one concern each: ``data`` (corpora, audio, A_text), ``generation``
(LLM backends and the prompt/response/rephrase stages), ``model`` (encoders,
adapters, fusion, the frozen-LLM wrapper), ``training``, ``benchmarks`` and
``report``. Shared infrastructure: ``shards`` (partitioning and the atomic
Parquet writer), ``ledger`` (per-stage row accounting), ``stage`` (the shard
stage runner) and ``config``.
"""

__version__ = "0.1.0"
