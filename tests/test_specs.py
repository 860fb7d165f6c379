"""Typed settings: JSON round trips of every model's spec and recipe, refused keys, frame rates."""

import json

import pytest

from alarm.config import ConfigError, model_spec, training_settings
from alarm.registry import inference_knobs, inference_settings
from alarm.specs import (
    EncoderSpec,
    InferenceSettings,
    ModelSpec,
    TrainingSettings,
    with_paths,
)


def trained_models(config):
    return [name for name, m in config["models"].items() if "ensemble" not in m]


@pytest.fixture(params=["default_config", "paper_config"])
def config(request):
    return request.getfixturevalue(request.param)


def test_every_model_round_trips_through_json(config):
    for name in trained_models(config):
        rule_json = model_spec(config, name)
        pretrained = {role: f"/nets/{role}" for role in ["rlm", *rule_json["encoders"]]}
        init = {
            enc: f"/runs/{a['init_from']}/adapter.safetensors"
            for enc, a in rule_json["adapters"].items()
            if "init_from" in a
        }
        spec = with_paths(rule_json, pretrained, init)
        as_json = json.loads(json.dumps(spec.to_dict()))
        assert ModelSpec.from_dict(as_json) == spec
        # The rule's JSON comes back unchanged, beside the files the job was given.
        assert as_json == rule_json | {
            "encoders": {
                enc: e | {"path": f"/nets/{enc}"} for enc, e in rule_json["encoders"].items()
            },
            "llm_path": "/nets/rlm",
            "init": init,
        }


def test_a_summary_spec_without_files_round_trips(config):
    for name in trained_models(config):
        spec = with_paths(model_spec(config, name), {}, complete=False)
        assert spec.llm_path is None and all(e.path is None for e in spec.encoders.values())
        assert ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_every_training_recipe_and_the_inference_settings_round_trip(config):
    for name in trained_models(config):
        recipe = training_settings(config, name)
        training = TrainingSettings.from_dict(recipe)
        assert training.to_dict() == recipe
        assert TrainingSettings.from_dict(json.loads(json.dumps(training.to_dict()))) == training
    settings = inference_settings(config) | inference_knobs(config)
    inference = InferenceSettings.from_dict(settings)
    assert inference.to_dict() == settings
    assert InferenceSettings.from_dict(json.loads(json.dumps(inference.to_dict()))) == inference


def test_unknown_and_missing_keys_are_refused_by_name(default_config):
    spec = with_paths(model_spec(default_config, "alarm_ca"), {}, complete=False).to_dict()
    with pytest.raises(ConfigError, match="ModelSpec: unknown key 'adaptors'"):
        ModelSpec.from_dict(spec | {"adaptors": {}})
    whisper = spec["adapters"]["whisper"] | {"widht": 64}
    with pytest.raises(ConfigError, match="AdapterSpec: unknown key 'widht'"):
        ModelSpec.from_dict(spec | {"adapters": spec["adapters"] | {"whisper": whisper}})
    with pytest.raises(ConfigError, match="FusionSpec: unknown key 'head'"):
        ModelSpec.from_dict(spec | {"fusion": spec["fusion"] | {"head": 4}})
    with pytest.raises(ConfigError, match="ModelSpec: missing key 'llm_path'"):
        ModelSpec.from_dict({k: v for k, v in spec.items() if k != "llm_path"})
    recipe = training_settings(default_config, "al_whisper_r")
    with pytest.raises(ConfigError, match="TrainingSettings: unknown key 'learning_rate'"):
        TrainingSettings.from_dict(recipe | {"learning_rate": 1e-4})
    settings = inference_settings(default_config) | inference_knobs(default_config)
    with pytest.raises(ConfigError, match="Sampling: unknown key 'temprature'"):
        InferenceSettings.from_dict(settings | {"sampling": {"temprature": 0.6}})
    with pytest.raises(ConfigError, match="InferenceSettings: missing key 'batch_size'"):
        InferenceSettings.from_dict(inference_settings(default_config))


def test_frame_rates_belong_to_the_encoders():
    rates = {
        name: EncoderSpec(name, (0,), None, None).frame_rate
        for name in ("whisper", "w2vbert", "muq", "sslam")
    }
    assert rates == {"whisper": 50.0, "w2vbert": 50.0, "muq": 25.0, "sslam": 50.0}
    with pytest.raises(ConfigError, match="unknown encoder 'beats'"):
        EncoderSpec("beats", (0,), None, None)


def test_with_paths_names_every_missing_file(default_config):
    rule_json = model_spec(default_config, "alarm_p")
    with pytest.raises(ConfigError, match=r"--pretrained muq=DIR.*--init whisper=FILE"):
        with_paths(rule_json, {"rlm": "r", "whisper": "w", "w2vbert": "v", "sslam": "s"}, {})
