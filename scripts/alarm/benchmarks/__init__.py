"""Audio MCQA benchmarks (paper §4): one schema, the ALARM prompt, answer extraction, scorers.

Each benchmark (MMSU, MMAU test-mini and test, MMAR, AIR-Bench Foundation and
the synthetic stand-in of the default configuration) is downloaded at a pinned
revision, converted to :data:`~alarm.benchmarks.schema.BENCHMARK_SCHEMA`
shards, answered by a model, and scored with the benchmark's own rule.
"""
