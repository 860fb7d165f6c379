"""Typed settings: the model spec, training and inference settings as frozen dataclasses.

Settings cross the rule/command boundary as JSON (rules pass them as ``params``, see
:mod:`alarm.registry`); a command turns them into these objects with ``from_dict`` and
the code reads attributes. ``to_dict`` is the inverse (``model.json`` of a trained
model, ``training.json`` of a checkpoint, the resume fingerprint), so
``X.from_dict(x.to_dict()) == x`` and a dict the schema validated comes back unchanged.

Defaults live in the schema (``workflow/schemas/config.schema.yaml``), which fills
them in before any dict reaches here; a field has a default only where a dict may
legitimately lack the key (a released checkpoint's config, a test's hand-built part).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any, Self

from alarm.config import ConfigError

# Hidden-state frames per second of each encoder, before its adapter: Whisper's conv stem
# strides 100 -> 50 Hz, W2V-BERT stacks 100 Hz fbanks in pairs, MuQ subsamples 24 kHz
# audio x960, SSLAM has 512 patch tokens per 10.24 s.
FRAME_RATES = {"whisper": 50.0, "w2vbert": 50.0, "muq": 25.0, "sslam": 50.0}
# The sample rate each encoder's feature extractor resamples its waveform to.
SAMPLE_RATES = {"whisper": 16000, "w2vbert": 16000, "muq": 24000, "sslam": 16000}


def model_decode_rate(encoders: Iterable[str], decode_rate: int | None) -> int | None:
    """The configured ``encoders.decode_rate`` as a model spec states it: where the model's
    encoders all run at one rate, decoding natively (None) gives them the same samples as
    decoding at that rate, so the spec names that rate for both and a decode-rate edit
    does not rerun a model whose inputs it leaves bit for bit the same."""
    rates = {SAMPLE_RATES[name] for name in encoders}
    return rates.pop() if decode_rate is None and len(rates) == 1 else decode_rate


_OPTIONAL = "optional"


def _optional() -> Any:
    """A key the schema lets a dict leave out (no default there): None, and absent in to_dict."""
    return field(default=None, metadata={_OPTIONAL: True})


class _Settings:
    """``from_dict``/``to_dict`` for a frozen dataclass of JSON values.

    JSON arrays become tuples and back; mappings are copied. Subclasses with nested
    settings convert them in ``_load``/``_dump``.
    """

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        known = {f.name: f for f in fields(cls)}
        for key in d:
            if key not in known:
                raise ConfigError(
                    f"{cls.__name__}: unknown key {key!r} (known: {', '.join(known)})"
                )
        for name, f in known.items():
            if name not in d and f.default is MISSING and f.default_factory is MISSING:
                raise ConfigError(f"{cls.__name__}: missing key {name!r}")
        return cls(**{key: cls._load(key, value) for key, value in d.items()})

    @classmethod
    def _load(cls, key: str, value: Any) -> Any:
        if isinstance(value, list):
            return tuple(value)
        return dict(value) if isinstance(value, Mapping) else value

    def _dump(self, key: str, value: Any) -> Any:
        if isinstance(value, tuple):
            return list(value)
        return dict(value) if isinstance(value, Mapping) else value

    def to_dict(self) -> dict[str, Any]:
        return {
            f.name: self._dump(f.name, value)
            for f in fields(self)
            if (value := getattr(self, f.name)) is not None or not f.metadata.get(_OPTIONAL)
        }


@dataclass(frozen=True)
class EncoderSpec(_Settings):
    """A frozen encoder: its averaged hidden states, hub repository and local directory."""

    name: str
    layers: tuple[int, ...]
    hub: str | None
    path: str | None
    batch_padding: str | None = _optional()  # sslam: None (the authors' zeros) | silence

    def __post_init__(self) -> None:
        if self.name not in FRAME_RATES:
            raise ConfigError(f"EncoderSpec: unknown encoder {self.name!r}")

    @property
    def frame_rate(self) -> float:
        """Hidden-state frames per second (before the adapter)."""
        return FRAME_RATES[self.name]


@dataclass(frozen=True)
class AdapterSpec(_Settings):
    """One encoder's adapter (schema ``$defs.adapter``)."""

    type: str  # conv | mlp | identity
    width: int | None = _optional()  # conv and mlp
    norm: str | None = _optional()  # conv: batch | layer
    # The schema's defaults: released checkpoints' configs do not state them.
    llm_proj: bool = True
    init_from: str | None = _optional()  # a trained model whose adapter is loaded
    frozen: bool = False


@dataclass(frozen=True)
class FusionSpec(_Settings):
    """How the adapted streams become one (schema ``$defs.fusion``); which fields a type
    needs is checked with the configuration (:func:`alarm.config.check_references`)."""

    type: str  # identity | cross_attention | perceiver
    primary: str | None = _optional()
    order: tuple[str, ...] | None = _optional()
    width: int | None = _optional()
    heads: int | None = _optional()
    ffn: int | None = _optional()  # cross_attention
    layers_per_encoder: int | None = _optional()  # cross_attention
    dropout: float | None = _optional()  # cross_attention; None: the authors' 0.1
    lengths: str | None = _optional()  # cross_attention: authors (None) | own
    latents: int | None = _optional()  # perceiver
    self_attention_layers: int | None = _optional()  # perceiver
    self_attention_repeats: int | None = _optional()  # perceiver


@dataclass(frozen=True)
class ModelSpec(_Settings):
    """A trained model's architecture and the files a job was given (:func:`with_paths`):
    ``llm_path`` and each encoder's ``path`` (None where a summary reads reference
    configs instead), ``init`` the checkpoint of each adapter with ``init_from``.
    ``decode_rate`` (schema ``encoders.decode_rate``): the rate every clip is resampled
    to before each encoder's own rate; None: from its native rate straight to each.
    ``decoder`` (schema ``encoders.decoder``): torchcodec | soundfile
    (:func:`alarm.data.audio.decode_mono`)."""

    name: str
    adapters: dict[str, AdapterSpec]
    fusion: FusionSpec
    encoders: dict[str, EncoderSpec]
    decode_rate: int | None
    decoder: str
    llm_hub: str | None
    llm_path: str | None
    init: dict[str, str]

    @property
    def primary(self) -> str:
        """The encoder whose stream the LLM reads token by token: the fusion's primary,
        or the only encoder."""
        return self.fusion.primary if self.fusion.primary is not None else next(iter(self.adapters))

    def without_init_from(self) -> ModelSpec:
        """The same model with no adapter loaded from another model's checkpoint (at
        inference the model's own checkpoint holds every adapter)."""
        return replace(
            self,
            adapters={n: replace(a, init_from=None) for n, a in self.adapters.items()},
            init={},
        )

    @classmethod
    def _load(cls, key: str, value: Any) -> Any:
        if key == "adapters":
            return {name: AdapterSpec.from_dict(a) for name, a in value.items()}
        if key == "fusion":
            return FusionSpec.from_dict(value)
        if key == "encoders":  # keyed by name, as in the configuration
            return {name: EncoderSpec.from_dict({"name": name, **e}) for name, e in value.items()}
        return super()._load(key, value)

    def _dump(self, key: str, value: Any) -> Any:
        if key == "adapters":
            return {name: a.to_dict() for name, a in value.items()}
        if key == "fusion":
            return value.to_dict()
        if key == "encoders":
            return {
                name: {k: v for k, v in e.to_dict().items() if k != "name"}
                for name, e in value.items()
            }
        return super()._dump(key, value)


def with_paths(
    spec: Mapping[str, Any],
    pretrained: Mapping[str, str],
    init: Mapping[str, str] | None = None,
    *,
    complete: bool = True,
) -> ModelSpec:
    """The model of ``spec`` (:func:`alarm.config.model_spec`'s JSON) with the files a job
    was given.

    ``pretrained`` maps the backbone (``rlm``) and each encoder to its directory; ``init``
    (training) maps each adapter with ``init_from`` to the checkpoint it starts from.
    With ``complete=False`` a role may lack a path (the meta-device summary reads
    reference configs instead).
    """
    model = ModelSpec.from_dict(
        {
            **spec,
            "encoders": {
                name: {**enc, "path": pretrained.get(name)}
                for name, enc in spec["encoders"].items()
            },
            "llm_path": pretrained.get("rlm"),
            "init": dict(init or {}),
        }
    )
    missing = []
    if complete:
        roles = ["rlm", *model.encoders]
        missing += [f"--pretrained {r}=DIR" for r in roles if r not in pretrained]
    if init is not None:
        wanted = [n for n, a in model.adapters.items() if a.init_from is not None]
        missing += [f"--init {n}=FILE" for n in wanted if n not in init]
    if missing:
        raise ConfigError(f"{model.name}: missing {', '.join(missing)}")
    return model


@dataclass(frozen=True)
class TrainingSettings(_Settings):
    """A model's training recipe (schema ``training``, overridden by the model's own
    ``training`` block) with its run knobs, and ``data``: dataset -> prefix fraction."""

    lr: float
    warmup_steps: int
    grad_clip: float
    weight_decay: float
    epochs: float
    effective_batch: int
    per_device_batch: int
    max_steps: int | None
    max_seq_len: int
    seed: int
    eval_every: int
    eval_examples: int | None  # a seeded subset of the validation examples; None: all
    checkpoint_every: int
    num_workers: int
    bucketing: bool
    frozen_adapters: str  # train (the authors') | eval
    loss_normalisation: str  # micro_batch (the authors') | effective_batch
    bf16: bool
    nodes: int
    data: dict[str, float]


@dataclass(frozen=True)
class Sampling(_Settings):
    """Sampling settings (schema ``$defs.sampling``); the defaults are the schema's, for
    requests built without a configuration."""

    temperature: float = 0.6
    top_p: float = 0.95
    top_k: int = 20


# The vLLM engine arguments that change results: which requests fit (max_model_len) and the
# precision the model computes in (dtype). Rules pass them as settings; the engine's other
# arguments (memory share, batch limits, prefix caching) are run knobs.
ENGINE_SETTINGS = ("max_model_len", "dtype")


def split_engine(engine: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(settings, knobs) of a configured ``engine`` block."""
    settings = {k: v for k, v in engine.items() if k in ENGINE_SETTINGS}
    return settings, {k: v for k, v in engine.items() if k not in ENGINE_SETTINGS}


def join_engine(knobs: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    """The whole engine block again (``split_engine``'s inverse): the run knobs' engine
    fields and the ``ENGINE_SETTINGS`` taken from ``settings`` (None where absent)."""
    return dict(knobs) | {k: settings.get(k) for k in ENGINE_SETTINGS}


@dataclass(frozen=True)
class InferenceSettings(_Settings):
    """Benchmark and CLI generation (schema ``inference``): the settings, the engine's
    ``max_model_len`` and ``dtype`` lifted out of ``engine``, and the run knobs
    ``batch_size`` and ``engine`` (the other vLLM engine arguments)."""

    backend: str  # transformers | vllm
    thinking_budget: int
    max_tokens: int
    seed: int | None  # None: each run draws one (AudioLM), recorded in its ledgers
    sampling: Sampling
    batch_size: int
    engine: dict[str, Any]
    max_model_len: int | None = _optional()
    dtype: str | None = _optional()

    def engine_arguments(self) -> dict[str, Any]:
        """The whole vLLM engine block: run knobs and the settings lifted out of it."""
        return join_engine(self.engine, self.to_dict())

    @classmethod
    def _load(cls, key: str, value: Any) -> Any:
        return Sampling.from_dict(value) if key == "sampling" else super()._load(key, value)

    def _dump(self, key: str, value: Any) -> Any:
        return value.to_dict() if key == "sampling" else super()._dump(key, value)
