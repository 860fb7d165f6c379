"""The command line a training rule gives `alarm train-model`, for the tests that run it."""

import json


def train_model_args(model, corpus, run_dir, pretrained, settings, knobs, init=None, *extra):
    """`alarm train-model`'s arguments as the rule passes them: settings and knobs as JSON,
    the networks' files as name=path pairs."""
    init_args = ["--init", *(f"{enc}={path}" for enc, path in init.items())] if init else []
    return [
        "train-model",
        "--model", model,
        "--train", str(corpus / "train.parquet"),
        "--validation", str(corpus / "validation.parquet"),
        "--run-dir", str(run_dir),
        "--pretrained", *(f"{role}={path}" for role, path in pretrained.items()),
        *init_args,
        "--settings", json.dumps(settings),
        "--knobs", json.dumps(knobs),
        *extra,
    ]  # fmt: skip
