from dataclasses import replace

import pytest
import torch

from alarm.model.adapters import ConvAdapter, EncoderAdapter, MLPAdapter
from alarm.model.fusion import CrossAttentionFusion, PerceiverFusion
from alarm.model.layer_average import LayerAverage
from alarm.specs import AdapterSpec, FusionSpec

CA = FusionSpec(
    type="cross_attention",
    primary="whisper",
    order=("w2vbert", "muq", "sslam"),
    width=16,
    heads=4,
    ffn=32,
    layers_per_encoder=1,
    dropout=0.0,
)
P = FusionSpec(
    type="perceiver",
    primary="whisper",
    order=("w2vbert", "muq", "sslam"),
    latents=20,
    width=12,
    heads=4,
    self_attention_layers=2,
    self_attention_repeats=3,
)


def test_layer_average_starts_uniform_and_is_a_softmax():
    avg = LayerAverage(3)
    states = torch.randn(3, 2, 5, 4)
    assert torch.allclose(avg(states), states.mean(0), atol=1e-6)
    avg.layer_weights.data = torch.tensor([0.0, 0.0, 100.0])
    assert torch.allclose(avg(states), states[2], atol=1e-5)


@pytest.mark.parametrize("T", [7, 8, 1, 100])
def test_conv_adapter_halves_time_odd_or_even(T):
    adapter = ConvAdapter(in_dim=12, width=8, norm="layer")
    out, lengths = adapter(torch.randn(2, T, 12), torch.tensor([T, T - 1 if T > 1 else 1]))
    assert out.shape == (2, (T + 1) // 2, 8)  # 50 Hz -> 25 Hz, an odd T padded by one frame
    assert lengths.tolist() == [T // 2, max(T - 1, 1) // 2]
    assert isinstance(adapter.input_proj, torch.nn.Linear)
    assert isinstance(
        ConvAdapter(8, 8, "batch").input_proj, torch.nn.Identity
    )  # W2V-BERT: no projection


def test_conv_adapter_layout_matches_the_paper():
    adapter = ConvAdapter(in_dim=1280, width=1024, norm="batch")
    first, second = adapter.downsampler
    assert (first[0].kernel_size, first[0].stride, first[0].out_channels) == ((3,), (1,), 2048)
    assert (second[0].kernel_size, second[0].stride, second[0].out_channels) == ((4,), (2,), 1024)
    assert isinstance(first[1], torch.nn.GELU) and isinstance(first[2], torch.nn.BatchNorm1d)


def test_mlp_adapter_keeps_the_rate():
    out, lengths = MLPAdapter(10, 6)(torch.randn(2, 9, 10), torch.tensor([9, 4]))
    assert out.shape == (2, 9, 6) and lengths.tolist() == [9, 4]


def test_encoder_adapter_trims_averages_and_projects():
    adapter = EncoderAdapter(4, 12, 20, AdapterSpec(type="conv", width=8, norm="layer"))
    out, lengths = adapter(torch.randn(4, 2, 50, 12), torch.tensor([40, 10]))
    assert out.shape == (2, 20, 20) and lengths.tolist() == [20, 5]  # trimmed to 40 first
    identity = EncoderAdapter(3, 12, 20, AdapterSpec(type="identity", llm_proj=False))
    assert identity.out_dim == 12 and identity(torch.randn(3, 1, 6, 12), torch.tensor([6]))[
        0
    ].shape == (1, 6, 12)


def _streams(dims, T=(10, 10, 10, 10), B=2):
    names = ["whisper", "w2vbert", "muq", "sslam"]
    return {
        n: (torch.randn(B, t, dims[n]), torch.tensor([t, t // 2]))
        for n, t in zip(names, T, strict=True)
    }


def _changed_after(streams, name, item, position):
    """``streams`` with item ``item`` of stream ``name`` redrawn from ``position`` on."""
    x, lengths = streams[name]
    x = x.clone()
    x[item, position:] = torch.randn_like(x[item, position:])
    return dict(streams, **{name: (x, lengths)})


def test_cross_attention_own_lengths_follow_each_stream():
    dims = {"whisper": 24, "w2vbert": 24, "muq": 24, "sslam": 24}
    fusion = CrossAttentionFusion(replace(CA, lengths="own"), dims, llm_dim=24).eval()
    streams = _streams(dims, T=(10, 11, 9, 10))  # item 1: lengths 5, 5, 4, 5
    out, lengths = fusion(streams)
    assert out.shape == (2, 11, 24) and lengths.tolist() == [10, 5]  # the primary's
    # MuQ's padding (from its own length 4) is masked
    assert torch.allclose(fusion(_changed_after(streams, "muq", 1, 4))[0][1, :5], out[1, :5])
    assert [len(fusion.condition_modules[n]) for n in CA.order] == [1, 1, 1]


def test_cross_attention_authors_lengths_use_the_primary_mask_and_the_longest_stream():
    dims = {"whisper": 24, "w2vbert": 24, "muq": 24, "sslam": 24}
    fusion = CrossAttentionFusion(CA, dims, llm_dim=24).eval()  # lengths left out: authors'
    streams = _streams(dims, T=(10, 11, 9, 10))
    out, lengths = fusion(streams)
    assert lengths.tolist() == [11, 5]  # per item, the longest encoder length
    # every memory is masked with Whisper's lengths (5 for item 1): MuQ's padded position 4
    # is attended to, what lies beyond 5 is not
    assert torch.allclose(fusion(_changed_after(streams, "muq", 1, 5))[0][1, :5], out[1, :5])
    assert not torch.allclose(fusion(_changed_after(streams, "muq", 1, 4))[0][1, :5], out[1, :5])


def test_new_modules_are_initialised_as_the_authors_post_init_does():
    from alarm.model.frontend import init_like_authors

    dims = {"whisper": 64, "w2vbert": 64, "muq": 64, "sslam": 64}
    adapter = EncoderAdapter(3, 80, 48, AdapterSpec(type="conv", width=64, norm="batch"))
    fusion = CrossAttentionFusion(replace(CA, width=64, ffn=128), dims, llm_dim=48)
    for module in (adapter, fusion):
        init_like_authors(module)
        for m in module.modules():
            if isinstance(m, (torch.nn.Linear, torch.nn.Conv1d)):
                assert m.weight.std().item() == pytest.approx(0.02, rel=0.15), m
                assert m.bias is None or not m.bias.any()
            if isinstance(m, torch.nn.MultiheadAttention):  # torch's xavier init
                assert m.in_proj_weight.std().item() > 0.05 and not m.in_proj_bias.any()
    assert (adapter.layer_fusion.layer_weights == 0).all()  # parameters keep their own


def test_perceiver_prefix_of_sixty_latents_framed_by_two_vectors():
    dims = {"whisper": 24, "w2vbert": 16, "muq": 16, "sslam": 12}
    fusion = PerceiverFusion(P, dims, llm_dim=24).eval()
    streams = _streams(dims)
    out, lengths = fusion(streams)
    assert out.shape == (2, 62 + 10, 24) and lengths.tolist() == [72, 67]
    assert torch.equal(out[0, 0], fusion.cond_start_emb[0]) and torch.equal(
        out[0, 61], fusion.cond_end_emb[0]
    )
    assert torch.equal(out[:, 62:], streams["whisper"][0])
    # each Perceiver masks its own input's padding
    x, lengths = streams["sslam"]
    noisy = dict(
        streams,
        sslam=(torch.cat([x[:1], torch.cat([x[1:, :5], torch.randn(1, 5, 12)], 1)]), lengths),
    )
    assert torch.allclose(fusion(noisy)[0][1], out[1], atol=1e-5)


def test_perceiver_returns_what_the_audio_crop_indexes_where_the_authors_tuple_fails():
    dims = {"whisper": 24, "w2vbert": 16, "muq": 16, "sslam": 12}
    out, lengths = PerceiverFusion(P, dims, llm_dim=24).eval()(_streams(dims))

    def crop(audio, lengths):  # the last line of their get_audio_embeddings
        return [audio[i, : lengths[i]] for i in range(lengths.shape[0])]

    assert [x.shape[0] for x in crop(out, lengths)] == lengths.tolist()
    # Their MultiPerceiverFusion.forward returns (tensor, None), passed on unchanged by
    # AudioFusion and the identity post-processing: ALARM-P cannot train or answer there.
    with pytest.raises(TypeError, match="tuple indices"):
        crop((out, None), lengths)


def test_perceiver_blocks_share_weights_across_repeats():
    dims = {"whisper": 24, "w2vbert": 16, "muq": 16, "sslam": 12}
    once = PerceiverFusion(replace(P, self_attention_repeats=1), dims, 24)
    thrice = PerceiverFusion(P, dims, 24)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(once) == count(thrice)
    assert len(thrice.perceiver["muq"].self_attn_1) == 2
