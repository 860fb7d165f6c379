"""Inference with trained front ends: one model, the ALARM-E ensemble, a benchmark shard."""

import json
from dataclasses import replace

import pytest
import torch
from transformers import AutoConfig

from alarm.benchmarks.inference import AudioLM, benchmark_generate
from alarm.benchmarks.sources import convert_shard
from alarm.data.synthetic import make_synthetic_corpus
from alarm.files import read_shard
from alarm.model.alarm_model import build_frontend, save_trained
from alarm.registry import inference_knobs, inference_settings
from alarm.specs import InferenceSettings
from alarm.texts import load_texts

SYSTEM = load_texts().inference_system()

INFERENCE = {"thinking_budget": 6, "max_tokens": 12, "batch_size": 4}


@pytest.fixture
def inference(config_with_models):
    """The default configuration's inference settings and knobs, with short answers."""
    c = config_with_models
    return InferenceSettings.from_dict(inference_settings(c) | inference_knobs(c) | INFERENCE)


@pytest.fixture
def trained(config_with_models, model_settings, tmp_path):
    """model -> (settings, adapter.safetensors) of freshly initialised front ends."""
    llm_path = model_settings(config_with_models, "al_whisper_r").llm_path
    hidden_size = AutoConfig.from_pretrained(llm_path).hidden_size
    out = {}
    for model in ("al_whisper_r", "al_muq_r"):
        settings = model_settings(config_with_models, model)
        save_trained(build_frontend(settings, hidden_size), settings, tmp_path / model)
        out[model] = (settings, str(tmp_path / model / "adapter.safetensors"))
    return out


@pytest.fixture(scope="module")
def benchmark_shard(tmp_path_factory):
    """A converted synthetic benchmark shard of 4 items, one with undecodable audio."""
    root = tmp_path_factory.mktemp("bench")
    items = dict.fromkeys(("speech", "dialogue", "sound", "music", "squad", "s2s"), 0)
    make_synthetic_corpus(root / "src", items | {"benchmark": 4}, seed=3)
    first = sorted((root / "src" / "benchmark" / "audio").iterdir())[0]
    first.write_bytes(b"not audio" * 10)
    convert_shard("synthetic", root / "src", 0, 1, None, root / "converted.parquet")
    return root / "converted.parquet"


def test_one_model_answers_every_decodable_item(trained, inference, benchmark_shard):
    settings, weights = trained["al_whisper_r"]
    model = AudioLM([settings], [weights], inference)
    rows = read_shard(benchmark_shard)
    items = [{"uid": r["uid"], "audio": r["audio"], "prompt": r["question"]} for r in rows]
    responses = model.respond(items, SYSTEM)
    for row, response in zip(rows, responses, strict=True):
        assert (response is None) == bool(row["audio_error"]), row["uid"]
    # Per-item seeds: the same item gets the same response in another batch.
    again = model.respond(items[::-1], SYSTEM)[::-1]
    assert again == responses


def test_the_ensemble_hears_the_audio_once_per_member(trained, inference, benchmark_shard):
    members = [trained["al_whisper_r"], trained["al_muq_r"]]
    single = AudioLM([members[0][0]], [members[0][1]], inference)
    ensemble = AudioLM([m for m, _ in members], [w for _, w in members], inference)
    row = next(r for r in read_shard(benchmark_shard) if not r["audio_error"])
    item = {"uid": row["uid"], "audio": row["audio"], "prompt": row["question"]}
    (alone,) = single.prompt_embeddings([single.listen(row["audio"])], [row["question"]], "s")
    (both,) = ensemble.prompt_embeddings([ensemble.listen(row["audio"])], [row["question"]], "s")
    # Same backbone, same first member: the ensemble input opens like the single one
    # (system turn, user turn head) and carries a second audio segment.
    head = 5
    assert torch.equal(both[:head], alone[:head])
    assert both.shape[0] > alone.shape[0] + 10
    assert isinstance(ensemble.respond([item], SYSTEM)[0], str)


def test_benchmark_generation_keeps_every_row_and_counts_those_without_audio(
    trained, inference, benchmark_shard, tmp_path
):
    settings, weights = trained["al_whisper_r"]
    model = AudioLM([settings], [weights], inference)
    output = tmp_path / "responses.parquet"
    benchmark_generate(model, benchmark_shard, output)
    rows = read_shard(output)
    assert [r["uid"] for r in rows] == [r["uid"] for r in read_shard(benchmark_shard)]
    assert [r["response"] is None for r in rows] == [bool(r["audio_error"]) for r in rows]
    ledger = json.loads((tmp_path / "responses.parquet.ledger.json").read_text())
    assert ledger["rows_in"] == ledger["rows_out"] == 4
    assert ledger["stats"]["no_response"] == 1


def test_a_prompt_that_fills_the_context_gets_no_response(
    trained, inference, benchmark_shard, tmp_path
):
    settings, weights = trained["al_whisper_r"]
    short = InferenceSettings.from_dict(inference.to_dict() | {"max_model_len": 8})
    model = AudioLM([settings], [weights], short)
    output = tmp_path / "responses.parquet"
    benchmark_generate(model, benchmark_shard, output)
    assert [r["response"] for r in read_shard(output)] == [None] * 4
    ledger = json.loads((tmp_path / "responses.parquet.ledger.json").read_text())
    assert ledger["rows_out"] == 4 and ledger["stats"]["no_response"] == 4


def test_an_unseeded_run_records_the_seed_it_drew_and_repeats_with_it(
    trained, inference, benchmark_shard, tmp_path
):
    # The authors' run_eval.sh runs unseeded; the seed drawn goes into the ledger.
    settings, weights = trained["al_whisper_r"]
    runs = {}
    for name, seed in (("unseeded", None), ("repeat", "drawn")):
        seed = runs["unseeded"][0] if seed == "drawn" else seed
        model = AudioLM([settings], [weights], replace(inference, seed=seed))
        output = tmp_path / f"{name}.parquet"
        benchmark_generate(model, benchmark_shard, output)
        ledger = json.loads((tmp_path / f"{name}.parquet.ledger.json").read_text())
        runs[name] = (ledger["stats"]["seed"], [r["response"] for r in read_shard(output)])
    drawn, responses = runs["unseeded"]
    assert isinstance(drawn, int) and 0 <= drawn < 2**31
    assert runs["repeat"] == (drawn, responses)
