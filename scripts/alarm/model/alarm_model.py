"""The ALARM model: audio front ends feeding ``inputs_embeds`` to a frozen Qwen3.

One class serves training (one front end), inference and the ALARM-E ensemble
(several trained front ends, one shared frozen LLM, their audio segments laid
out one after the other as in :mod:`alarm.model.layout`).

The encoders and the LLM stay in eval mode whatever ``train()`` is called with.
Adapters loaded frozen (ALARM-CA/P) follow ``frozen_adapters``: ``"train"`` as
in the authors' code, where the Whisper adapter's BatchNorm keeps using batch
statistics and updating its running averages (their released checkpoints carry
them), or ``"eval"``, which keeps them fixed, as "frozen" means (an
improvement of ours, in ``config/improved.yaml``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from alarm.model.encoders import load_encoder
from alarm.model.frontend import AudioFrontEnd
from alarm.model.layout import AudioSegment, Piece, piece_ids
from alarm.specs import ModelSpec

log = logging.getLogger(__name__)

IGNORE = -100


class CheckpointError(ValueError):
    """A checkpoint that does not fit the architecture it is loaded into."""


def load_trained_weights(
    frontend: AudioFrontEnd, path: str | Path, *, prefix: str = "", only: str | None = None
) -> None:
    """Load trained front-end weights (ours, or a part of them) strictly, with a clear error.

    ``only`` restricts loading to one sub-module (e.g. ``audio_adapter.adapters.whisper``),
    as ALARM-CA and ALARM-P do with the adapters of the single-encoder models.
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist; train that model first")
    try:
        state = load_file(path)
    except Exception as err:  # safetensors raises several types for a damaged file
        raise CheckpointError(f"checkpoint {path} cannot be read ({err})") from err
    state = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    load_fitting(frontend, state, f"checkpoint {path}", only=only)


def load_fitting(
    frontend: AudioFrontEnd, state: dict[str, Any], what: str, *, only: str | None = None
) -> None:
    """Load ``state`` into the front end's trainable weights (those under ``only``), refusing
    a state with a key missing, left over or of another shape."""
    target = frontend.trainable_state_dict()
    if only is not None:
        state = {k: v for k, v in state.items() if k.startswith(only + ".")}
        target = {k: v for k, v in target.items() if k.startswith(only + ".")}
    missing = sorted(set(target) - set(state))
    unexpected = sorted(set(state) - set(target))
    wrong = sorted(k for k in set(state) & set(target) if state[k].shape != target[k].shape)
    if missing or unexpected or wrong:
        raise CheckpointError(
            f"{what} does not fit this architecture"
            + (f" ({only})" if only else "")
            + f": {len(missing)} missing (e.g. {missing[:3]}), {len(unexpected)} unexpected "
            f"(e.g. {unexpected[:3]}), {len(wrong)} with other shapes (e.g. {wrong[:3]})"
        )
    frontend.load_state_dict(state, strict=False)


def build_frontend(
    spec: ModelSpec, llm_dim: int, *, configs: dict[str, dict] | None = None
) -> AudioFrontEnd:
    """A front end as ``spec`` (:func:`alarm.specs.with_paths`) declares it.

    With ``configs`` (encoder name -> config.json dict) only the architecture is
    built (for summaries on the meta device); otherwise encoder weights are loaded
    and adapters with ``init_from`` are loaded from that model's checkpoint.
    """
    encoders = {
        name: load_encoder(
            name, enc.path, list(enc.layers), config=None if configs is None else configs[name]
        )
        for name, enc in spec.encoders.items()
    }
    frontend = AudioFrontEnd(encoders, spec, llm_dim)
    for name, adapter in spec.adapters.items():
        if configs is None and adapter.init_from is not None:
            only = f"audio_adapter.adapters.{name}"
            load_trained_weights(frontend, spec.init[name], only=only)
        if adapter.frozen:
            frontend.audio_adapter.adapters[name].requires_grad_(False)
    return frontend


class ALARMModel(nn.Module):
    def __init__(
        self,
        frontends: list[AudioFrontEnd],
        llm: nn.Module,
        tokenizer=None,
        frozen_adapters: str = "eval",  # or "train": the mode adapters loaded frozen train in
    ):
        super().__init__()
        self.frontends = nn.ModuleList(frontends)
        self.llm = llm
        self.tokenizer = tokenizer
        self.frozen_adapters_mode = frozen_adapters
        self.frozen_adapters = [
            adapter
            for fe in frontends
            for adapter in fe.audio_adapter.adapters.values()
            if not any(p.requires_grad for p in adapter.parameters())
        ]

    def train(self, mode: bool = True) -> ALARMModel:
        super().train(mode)
        self.llm.eval()
        if self.frozen_adapters_mode == "eval":
            for adapter in self.frozen_adapters:
                adapter.eval()
        return self

    @property
    def pad_id(self) -> int:
        return self.tokenizer.pad_token_id

    def embed_tokens(self, ids: list[int], device: torch.device) -> torch.Tensor:
        table = self.llm.get_input_embeddings()
        return table(torch.tensor(ids, dtype=torch.long, device=device))

    def assemble(
        self,
        layouts: list[list[Piece] | list[tuple[Piece, list[int]]]],
        audio: list[tuple[torch.Tensor, torch.Tensor]],
        max_len: int | None = None,
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Per item: the input embeddings (T_i, D) and labels (T_i,) of its layout.

        ``audio[i]`` is front end i's output ``((B, T, D), lengths)``; each audio
        segment is framed by that front end's start/end vectors. Text pieces come
        with their token ids precomputed (data-loader workers tokenise) or are
        tokenised here.
        """
        device = audio[0][0].device
        dtype = self.llm.get_input_embeddings().weight.dtype
        embeds, labels = [], []
        for b, layout in enumerate(layouts):
            parts, part_labels = [], []
            for entry in layout:
                piece, ids = entry if isinstance(entry, tuple) else (entry, None)
                if isinstance(piece, AudioSegment):
                    x, lengths = audio[piece.index]
                    fe = self.frontends[piece.index]
                    seg = torch.cat([fe.audio_start_emb, x[b, : int(lengths[b])], fe.audio_end_emb])
                    parts.append(seg.to(dtype))
                    part_labels.append(torch.full((len(seg),), IGNORE, device=device))
                else:
                    ids = ids if ids is not None else piece_ids(self.tokenizer, piece)
                    parts.append(self.embed_tokens(ids, device))
                    ids_t = torch.tensor(ids, dtype=torch.long, device=device)
                    if piece.is_target:
                        # Pad-id targets are masked too, as the authors' collator does.
                        part_labels.append(ids_t.masked_fill(ids_t == self.pad_id, IGNORE))
                    else:
                        part_labels.append(torch.full_like(ids_t, IGNORE))
            seq, lab = torch.cat(parts), torch.cat(part_labels)
            if max_len is not None:  # right truncation, audio tokens counted
                seq, lab = seq[:max_len], lab[:max_len]
            embeds.append(seq)
            labels.append(lab)
        return embeds, labels

    def encode_audio(
        self, features: list[dict[str, dict[str, torch.Tensor]]]
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Run each front end on its features (one dict per front end)."""
        return [fe(f) for fe, f in zip(self.frontends, features, strict=True)]

    def forward(
        self, features: dict[str, dict[str, torch.Tensor]], layouts: list, max_len: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per example: summed next-token cross-entropy over its target tokens, and their count.

        Sums, not means: the training loop divides by the target tokens of the whole
        effective batch, so the loss is a mean over tokens, not a mean of micro-batch means.
        """
        audio = self.encode_audio([features])
        embeds, labels = self.assemble(layouts, audio, max_len)
        inputs = nn.utils.rnn.pad_sequence(embeds, batch_first=True)  # zeros on the right
        targets = nn.utils.rnn.pad_sequence(labels, batch_first=True, padding_value=IGNORE)
        # Right padding under the causal mask is never attended to by a real token, so
        # no attention mask is passed and attention can use its fused causal kernel.
        hidden = self.llm.model(inputs_embeds=inputs).last_hidden_state
        selected = targets[:, 1:] != IGNORE  # (B, T-1)
        # Logits only where a target is predicted: the vocabulary is 151,936 wide.
        logits = self.llm.lm_head(hidden[:, :-1][selected]).float()
        token_loss = nn.functional.cross_entropy(logits, targets[:, 1:][selected], reduction="none")
        rows = selected.nonzero()[:, 0]
        sums = torch.zeros(len(embeds), device=token_loss.device).index_add(0, rows, token_loss)
        return sums, selected.sum(1)


def save_trained(frontend: AudioFrontEnd, spec: ModelSpec, run_dir: str | Path) -> None:
    """``adapter.safetensors`` (trainable and loaded-frozen front-end weights) + ``model.json``."""
    from alarm.files import atomic_path, write_json

    run_dir = Path(run_dir)
    state = {k: v.detach().cpu().contiguous() for k, v in frontend.trainable_state_dict().items()}
    with atomic_path(run_dir / "adapter.safetensors") as tmp:
        save_file(state, str(tmp), metadata={"model": spec.name})
    write_json(spec.to_dict(), run_dir / "model.json")


def read_trained(run_dir: str | Path) -> tuple[ModelSpec, Path]:
    """A trained model's spec (as it was built, with its networks' paths) and weights."""
    import json

    run_dir = Path(run_dir)
    path = run_dir / "model.json"
    if not path.exists():
        raise CheckpointError(f"{path} does not exist; train that model first")
    return ModelSpec.from_dict(json.loads(path.read_text())), run_dir / "adapter.safetensors"
