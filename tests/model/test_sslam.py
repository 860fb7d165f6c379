"""Our SSLAM module against the official checkpoint layout (ta012/SSLAM_AS2M_Finetuned)."""

import torch

from alarm.model.encoders.sslam_modeling import SSLAMConfig, SSLAMModel, sincos_positions


def official_state_dict(depth=12, dim=768, classes=527):
    """A state dict with the official key names and shapes (154 keys for ViT-B)."""
    state = {
        "model.extra_tokens": torch.randn(1, 1, dim),
        "model.local_encoder.proj.weight": torch.randn(dim, 1, 16, 16),
        "model.local_encoder.proj.bias": torch.randn(dim),
        "model.fixed_positional_encoder.positions": torch.randn(1, 6144, dim),
        "model.pre_norm.weight": torch.randn(dim),
        "model.pre_norm.bias": torch.randn(dim),
        "model.fc_norm.weight": torch.randn(dim),
        "model.fc_norm.bias": torch.randn(dim),
        "model.head.weight": torch.randn(classes, dim),
        "model.head.bias": torch.randn(classes),
    }
    for i in range(depth):
        p = f"model.blocks.{i}."
        state |= {
            p + "norm1.weight": torch.randn(dim),
            p + "norm1.bias": torch.randn(dim),
            p + "attn.qkv.weight": torch.randn(3 * dim, dim),
            p + "attn.qkv.bias": torch.randn(3 * dim),
            p + "attn.proj.weight": torch.randn(dim, dim),
            p + "attn.proj.bias": torch.randn(dim),
            p + "norm2.weight": torch.randn(dim),
            p + "norm2.bias": torch.randn(dim),
            p + "mlp.fc1.weight": torch.randn(4 * dim, dim),
            p + "mlp.fc1.bias": torch.randn(4 * dim),
            p + "mlp.fc2.weight": torch.randn(dim, 4 * dim),
            p + "mlp.fc2.bias": torch.randn(dim),
        }
    return state


def test_official_checkpoint_loads_with_no_missing_or_unexpected_keys(tmp_path):
    with torch.device("meta"):
        model = SSLAMModel(SSLAMConfig())
    state = official_state_dict()
    assert len(state) == 154
    missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    assert missing == [] and unexpected == []
    assert sum(v.numel() for v in state.values()) == 90_379_535


def test_round_trip_through_safetensors(tmp_path):
    model = SSLAMModel(SSLAMConfig(embed_dim=32, depth=2, num_heads=2))
    model.save_pretrained(tmp_path)
    again = SSLAMModel.from_pretrained(tmp_path)
    for k, v in model.state_dict().items():
        assert torch.equal(v, again.state_dict()[k])


def test_fixed_positions_match_the_checkpoint_layout():
    table = sincos_positions(768, 768, 8)
    assert table.shape == (6144, 768)
    # rows t*8+f; channels 0..383 encode frequency, 384..767 time; sines then cosines
    assert table[1, 0] == torch.sin(torch.tensor(1.0))
    assert table[8, 384] == torch.sin(torch.tensor(1.0))
    assert torch.isclose(table[8, 576], torch.cos(torch.tensor(1.0)))
    assert torch.isclose(table[43, 384], torch.sin(torch.tensor(5.0)))
    assert torch.equal(table[0, :192], torch.zeros(192)) and torch.equal(
        table[0, 192:384], torch.ones(192)
    )


def test_block_outputs_drop_the_cls_token():
    model = SSLAMModel(SSLAMConfig(embed_dim=32, depth=3, num_heads=2)).eval()
    states = model.model.block_outputs(torch.randn(2, 1024, 128))
    assert len(states) == 3 and states[0].shape == (2, 512, 32)  # 64 x 8 patches, time-major
