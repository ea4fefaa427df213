"""Tests for edgeconnect_lib.networks: shapes, parameter counts, spectral norm, receptive field, init."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from edgeconnect_lib.networks import (
    PAPER_PARAMETER_COUNTS,
    EdgeGenerator,
    InpaintGenerator,
    PatchDiscriminator,
    ResidualBlock,
    build_network,
    count_parameters,
    init_weights,
    network_config,
    receptive_field,
    refresh_spectral_norm,
)

SMALL = dict(base_channels=8, residual_blocks=2)


# ----------------------------------------------------------------------------- parameter counts


def test_paper_size_parameter_counts_equal_the_authors():
    assert count_parameters(EdgeGenerator()) == 10_761_089
    assert count_parameters(InpaintGenerator()) == 10_774_595
    assert count_parameters(PatchDiscriminator(in_channels=2)) == 2_762_752
    assert count_parameters(PatchDiscriminator(in_channels=3)) == 2_763_776
    assert PAPER_PARAMETER_COUNTS["EdgeGenerator"] == 10_761_089


def test_spectral_norm_vectors_are_buffers_not_parameters():
    d = PatchDiscriminator(2, base_channels=8)
    names = {n for n, _ in d.named_parameters()}
    buffers = {n for n, _ in d.named_buffers()}
    assert "conv1.0.weight_orig" in names
    assert {"conv1.0.weight_u", "conv1.0.weight_v"} <= buffers
    assert not any(n.endswith(("weight_u", "weight_v")) for n in names)


def test_widths_and_blocks_scale_the_count():
    small, big = EdgeGenerator(**SMALL), EdgeGenerator(base_channels=16, residual_blocks=2)
    assert count_parameters(small) < count_parameters(big)
    assert len(EdgeGenerator(base_channels=8, residual_blocks=3).middle) == 3


# ----------------------------------------------------------------------------- shapes and ranges


@pytest.mark.parametrize("h,w", [(32, 32), (32, 48), (20, 64)])
def test_generators_keep_size_and_range(h, w):
    torch.manual_seed(0)
    g1, g2 = EdgeGenerator(**SMALL), InpaintGenerator(**SMALL)
    e = g1(torch.rand(2, 3, h, w))
    y = g2(torch.rand(2, 4, h, w))
    assert e.shape == (2, 1, h, w) and y.shape == (2, 3, h, w)
    assert e.min() > 0 and e.max() < 1
    assert y.min() >= 0 and y.max() <= 1


def test_generator_output_functions():
    torch.manual_seed(1)
    g1, g2 = EdgeGenerator(**SMALL), InpaintGenerator(**SMALL)
    x1, x2 = torch.rand(1, 3, 16, 16), torch.rand(1, 4, 16, 16)
    assert torch.allclose(g1(x1), torch.sigmoid(g1.raw_output(x1)))
    assert torch.allclose(g2(x2), (torch.tanh(g2.raw_output(x2)) + 1) / 2)


def test_generators_reject_bad_sizes_and_channels():
    g1, g2 = EdgeGenerator(**SMALL), InpaintGenerator(**SMALL)
    with pytest.raises(ValueError, match="divisible by 4"):
        g1(torch.rand(1, 3, 30, 32))
    with pytest.raises(ValueError, match="3 input channels"):
        g1(torch.rand(1, 4, 32, 32))
    with pytest.raises(ValueError, match="4 input channels"):
        g2(torch.rand(1, 3, 32, 32))
    with pytest.raises(ValueError, match="4-D"):
        g2(torch.rand(4, 32, 32))
    with pytest.raises(ValueError, match="too small"):
        g1(torch.rand(1, 3, 8, 8))
    assert g1(torch.rand(1, 3, 12, 12)).shape == (1, 1, 12, 12)  # the smallest size that works


def test_discriminator_features_and_output():
    torch.manual_seed(0)
    d = PatchDiscriminator(3, base_channels=8)
    x = torch.rand(2, 3, 64, 64)
    out, feats = d(x)
    assert [f.shape[-1] for f in feats] == [32, 16, 8, 7, 6]
    assert [f.shape[1] for f in feats] == [8, 16, 32, 64, 1]
    assert out.shape == (2, 1, 6, 6)
    assert torch.equal(out, feats[-1])  # logits by default
    d.use_sigmoid = True
    out_s, feats_s = d(x)
    assert torch.allclose(out_s, torch.sigmoid(feats_s[-1]))
    with pytest.raises(ValueError, match="in_channels=3"):
        d(torch.rand(1, 2, 64, 64))
    with pytest.raises(ValueError, match="too small"):
        d(torch.rand(1, 3, 23, 64))
    assert d(torch.rand(1, 3, 24, 24))[0].shape == (1, 1, 1, 1)  # the smallest size that works


def test_discriminator_layers_and_biases():
    d_sn = PatchDiscriminator(2, base_channels=8)
    d_plain = PatchDiscriminator(2, base_channels=8, use_spectral_norm=False)
    for i in range(1, 6):
        conv_sn, conv_plain = getattr(d_sn, f"conv{i}")[0], getattr(d_plain, f"conv{i}")[0]
        assert conv_sn.kernel_size == (4, 4) and conv_sn.padding == (1, 1)
        assert conv_sn.stride == ((2, 2) if i <= 3 else (1, 1))
        assert conv_sn.bias is None and hasattr(conv_sn, "weight_orig")
        assert conv_plain.bias is not None and not hasattr(conv_plain, "weight_orig")
    for i in range(1, 5):
        act = getattr(d_sn, f"conv{i}")[1]
        assert isinstance(act, nn.LeakyReLU) and act.negative_slope == 0.2
    assert len(d_sn.conv5) == 1


def test_edge_generator_spectral_norm_everywhere_but_last():
    g = EdgeGenerator(**SMALL)
    convs = [(n, m) for n, m in g.named_modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert convs[-1][0] == "decoder.7" and not hasattr(convs[-1][1], "weight_orig")
    assert all(hasattr(m, "weight_orig") for _, m in convs[:-1])
    # residual-block convolutions have no bias with spectral norm, the others do
    assert g.middle[0].conv_block[1].bias is None and g.middle[0].conv_block[5].bias is None
    assert g.encoder[1].bias is not None and g.decoder[0].bias is not None
    g2 = InpaintGenerator(**SMALL)
    assert not any(hasattr(m, "weight_orig") for m in g2.modules())
    assert g2.middle[0].conv_block[1].bias is not None


def test_generator_key_positions_match_the_authors():
    keys = set(EdgeGenerator(**SMALL).state_dict())
    for k in ["encoder.1.weight_orig", "encoder.4.weight_u", "encoder.7.weight_v", "middle.1.conv_block.1.weight_orig",
              "middle.1.conv_block.5.weight_orig", "decoder.0.weight_orig", "decoder.3.bias", "decoder.7.weight"]:
        assert k in keys
    g = InpaintGenerator(**SMALL)
    assert g.encoder[1].kernel_size == (7, 7) and g.decoder[7].kernel_size == (7, 7)
    assert g.encoder[4].stride == (2, 2) and g.encoder[7].stride == (2, 2)
    assert isinstance(g.decoder[0], nn.ConvTranspose2d) and isinstance(g.decoder[3], nn.ConvTranspose2d)
    assert g.middle[0].conv_block[1].dilation == (2, 2)


# ----------------------------------------------------------------------------- residual block


def test_residual_block_is_identity_plus_branch_without_final_relu():
    torch.manual_seed(0)
    block = ResidualBlock(8, dilation=2)
    x = torch.randn(1, 8, 12, 12)
    assert torch.allclose(block(x), x + block.conv_block(x))
    with torch.no_grad():  # zero branch -> exact identity, negative values kept (no ReLU after the sum)
        block.conv_block[5].weight.zero_()
        block.conv_block[5].bias.zero_()
    assert torch.equal(block(x), x)
    assert (block(x) < 0).any()
    norms = [m for m in block.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert len(norms) == 2 and not any(n.track_running_stats or n.affine for n in norms)


def test_residual_block_bad_arguments():
    with pytest.raises(ValueError, match="channels"):
        ResidualBlock(0)


# ----------------------------------------------------------------------------- receptive field


def test_receptive_field_formula():
    assert receptive_field(kernel_sizes=[4] * 5, strides=[2, 2, 2, 1, 1]) == 70
    assert receptive_field(PatchDiscriminator(3, base_channels=8)) == 70
    assert receptive_field(kernel_sizes=[3, 3], strides=[1, 1]) == 5
    assert receptive_field(kernel_sizes=[3], strides=[1], dilations=[2]) == 5
    with pytest.raises(ValueError, match="same length"):
        receptive_field(kernel_sizes=[3, 3], strides=[1])
    with pytest.raises(ValueError, match="transposed"):
        receptive_field(EdgeGenerator(**SMALL))


def test_receptive_field_measured_by_gradient_is_70():
    # All weights positive and LeakyReLU's slope > 0 everywhere: every input pixel that reaches the chosen
    # output pixel gets a strictly positive gradient, every other one exactly zero.
    d = PatchDiscriminator(1, base_channels=2, use_spectral_norm=False)
    with torch.no_grad():
        for p in d.parameters():
            p.fill_(0.1)
    x = torch.rand(1, 1, 128, 128, requires_grad=True)
    out, _ = d(x)
    assert out.shape[-2:] == (14, 14)
    out[0, 0, 7, 7].backward()
    rows = (x.grad[0, 0].abs().sum(1) > 0).nonzero().flatten()
    cols = (x.grad[0, 0].abs().sum(0) > 0).nonzero().flatten()
    assert rows.max() - rows.min() + 1 == 70
    assert cols.max() - cols.min() + 1 == 70
    assert rows.min() > 0 and rows.max() < 127  # not clipped by the image border
    assert (x.grad[0, 0, rows.min():rows.max() + 1, cols.min():cols.max() + 1] > 0).all()


# ----------------------------------------------------------------------------- init and spectral norm


def test_init_weights_normal_002():
    torch.manual_seed(0)
    g = InpaintGenerator(base_channels=32, residual_blocks=1)
    w = g.middle[0].conv_block[1].weight
    assert abs(w.std().item() - 0.02) < 0.001 and abs(w.mean().item()) < 0.001
    assert torch.count_nonzero(g.middle[0].conv_block[1].bias) == 0
    d = PatchDiscriminator(3, base_channels=32)
    assert abs(d.conv4[0].weight_orig.std().item() - 0.02) < 0.001
    init_weights(d, kind="normal", gain=0.05)
    assert abs(d.conv4[0].weight_orig.std().item() - 0.05) < 0.002
    with pytest.raises(ValueError, match="kind"):
        init_weights(d, kind="uniformish")


def test_construction_is_deterministic_under_seed():
    torch.manual_seed(3)
    a = EdgeGenerator(**SMALL).state_dict()
    torch.manual_seed(3)
    b = EdgeGenerator(**SMALL).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_spectral_norm_divides_by_the_largest_singular_value():
    torch.manual_seed(0)
    d = PatchDiscriminator(3, base_channels=8)
    refresh_spectral_norm(d, iterations=500)
    d.eval()
    d(torch.rand(1, 3, 32, 32))  # eval forward recomputes weight from the stored u, v
    for i in range(1, 6):
        conv = getattr(d, f"conv{i}")[0]
        w_orig = conv.weight_orig.detach().reshape(conv.weight_orig.shape[0], -1)
        sigma_true = torch.linalg.svdvals(w_orig)[0]
        # from scratch: sigma = u^T W v with the stored vectors, W_SN = W / sigma
        sigma = conv.weight_u @ w_orig @ conv.weight_v
        assert torch.allclose(sigma, sigma_true, rtol=1e-3)
        assert torch.allclose(conv.weight.detach(), conv.weight_orig.detach() / sigma, atol=1e-6)
        assert abs(torch.linalg.svdvals(conv.weight.detach().reshape(w_orig.shape))[0].item() - 1) < 1e-3


def test_training_forward_runs_power_iteration_and_eval_does_not():
    torch.manual_seed(0)
    d = PatchDiscriminator(2, base_channels=8)
    u0 = d.conv2[0].weight_u.clone()
    d.eval()
    d(torch.rand(1, 2, 32, 32))
    assert torch.equal(d.conv2[0].weight_u, u0)
    d.train()
    d(torch.rand(1, 2, 32, 32))
    assert not torch.equal(d.conv2[0].weight_u, u0)


def test_network_config_round_trip():
    for net in (EdgeGenerator(**SMALL), InpaintGenerator(**SMALL), PatchDiscriminator(2, base_channels=8)):
        cfg = network_config(net)
        rebuilt = build_network(cfg)
        assert type(rebuilt) is type(net) and network_config(rebuilt) == cfg
        assert count_parameters(rebuilt) == count_parameters(net)
    with pytest.raises(ValueError, match="class"):
        build_network({"class": "Transformer"})
    with pytest.raises(ValueError):
        network_config(nn.Linear(2, 2))


def test_gradients_flow_to_every_parameter():
    torch.manual_seed(0)
    for net, x in [(EdgeGenerator(**SMALL), torch.rand(1, 3, 16, 16)),
                   (InpaintGenerator(**SMALL), torch.rand(1, 4, 16, 16))]:
        net(x).mean().backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())
    d = PatchDiscriminator(2, base_channels=8)
    out, feats = d(torch.rand(1, 2, 32, 32))
    (out.mean() + sum(f.mean() for f in feats)).backward()
    assert all(p.grad is not None for p in d.parameters())


# ------------------------------------------------------------------------------------------------------------
# The optimised inference path's output convolution
# ------------------------------------------------------------------------------------------------------------
def test_single_output_conv_is_the_same_convolution():
    from edgeconnect_lib.networks import SingleOutputConv2d, use_single_output_conv

    torch.manual_seed(0)
    g = EdgeGenerator(base_channels=8, residual_blocks=1).eval()  # eval: spectral norm's u, v stay fixed
    x = torch.rand(2, 3, 32, 40)
    keys = list(g.state_dict())
    with torch.no_grad():
        plain = g(x)
        use_single_output_conv(g, True)
        assert isinstance(g.decoder[7], SingleOutputConv2d)
        assert g.decoder[7].weight is g.decoder[7]._parameters["weight"] and list(g.state_dict()) == keys
        fast = g(x)
        assert (fast - plain).abs().max() < 1e-5
        use_single_output_conv(g, False)
        assert type(g.decoder[7]) is nn.Conv2d and torch.equal(g(x), plain)
    # G2 (3 outputs) is left as it is; a 3-output conv is refused
    g2 = InpaintGenerator(base_channels=8, residual_blocks=1)
    assert type(use_single_output_conv(g2, True).decoder[7]) is nn.Conv2d
    with pytest.raises(ValueError, match="1-output"):
        SingleOutputConv2d.from_conv(nn.Conv2d(4, 3, 3))


def test_single_output_conv_trains_like_the_plain_one():
    from edgeconnect_lib.networks import SingleOutputConv2d

    torch.manual_seed(0)
    conv = nn.Conv2d(5, 1, 7)
    fast = SingleOutputConv2d.from_conv(conv)
    x = torch.rand(2, 5, 16, 16)
    conv(x).square().sum().backward()
    g_plain = conv.weight.grad.clone()
    conv.weight.grad = None
    fast(x).square().sum().backward()
    assert torch.allclose(conv.weight.grad, g_plain, atol=1e-4, rtol=1e-4)


def test_resize_upsampling_has_no_built_in_checkerboard():
    """Odena et al. 2016: a stride-2 transposed convolution gives each output parity its own subset of the kernel,
    so even a constant input comes out as a 2x2-periodic pattern; nearest resizing + 3x3 conv cannot."""
    from edgeconnect_lib.networks import build_network, network_config

    torch.manual_seed(0)
    flat = torch.ones(1, 32, 8, 8)
    for kind, first_up in (("transpose", 1), ("resize", 2)):
        g = InpaintGenerator(base_channels=8, residual_blocks=1, upsample=kind)
        with torch.no_grad():
            y = g.decoder[:first_up](flat)[0, 0, 2:-2, 2:-2]  # the interior, away from zero padding
        parity_spread = (y[0::2, 0::2].mean() - y[1::2, 1::2].mean()).abs()
        if kind == "transpose":
            assert parity_spread > 1e-3
        else:
            assert parity_spread < 1e-6 and y.std() < 1e-6
        out = g(torch.rand(1, 4, 32, 32))
        assert out.shape == (1, 3, 32, 32)
        # the choice travels with the network's config (checkpoints rebuild the same layers)
        config = network_config(g)
        assert ("upsample" in config) == (kind == "resize")
        assert type(build_network(config).decoder[first_up - 1]) is type(g.decoder[first_up - 1])
    e = EdgeGenerator(base_channels=8, residual_blocks=1, upsample="resize")
    assert e(torch.rand(1, 3, 16, 16)).shape == (1, 1, 16, 16) and e.decoder[1].weight_orig is not None
    with pytest.raises(ValueError, match="upsample"):
        EdgeGenerator(upsample="bilinear")


def test_resize_kernel_from_transpose_is_exact_for_a_checkerboard_free_kernel():
    """A transposed kernel whose two output phases agree (K = A W A^T) is a resize-convolution in disguise: the
    least-squares conversion recovers W exactly, and the two layers give the same output away from the border."""
    import torch.nn.functional as F

    from edgeconnect_lib.networks import _PHASE_TAPS, resize_kernel_from_transpose

    torch.manual_seed(0)
    w = torch.randn(5, 3, 3, 3, dtype=torch.float64)                       # (C_out, C_in, 3, 3)
    k = torch.einsum("kp,oipq,lq->iokl", _PHASE_TAPS.double(), w, _PHASE_TAPS.double())  # (C_in, C_out, 4, 4)
    assert torch.allclose(resize_kernel_from_transpose(k), w, atol=1e-10)
    x = torch.randn(2, 3, 12, 12, dtype=torch.float64)
    y_t = F.conv_transpose2d(x, k, stride=2, padding=1)
    y_r = F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), w, padding=1)
    assert torch.allclose(y_t[..., 2:-2, 2:-2], y_r[..., 2:-2, 2:-2], atol=1e-10)
    # a kernel with a checkerboard is not exact: the phases are averaged
    k2 = k.clone()
    k2[..., 0, 0] += 1.0
    assert not torch.allclose(F.conv_transpose2d(x, k2, stride=2, padding=1)[..., 2:-2, 2:-2],
                              F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"),
                                       resize_kernel_from_transpose(k2), padding=1)[..., 2:-2, 2:-2])
    with pytest.raises(ValueError, match="4, 4"):
        resize_kernel_from_transpose(torch.zeros(3, 5, 3, 3))


def test_to_resize_upsampling_starts_from_the_trained_network_without_its_checkerboard():
    """The shipped G2 (transposed convolutions) converted to resize-convolutions: on a real photo its fill stays
    closer to the trained network's than a fresh resize network's does, and its checkerboard energy in the hole
    falls (the shipped G2 prints about twice the photo's; lesson 08's grid texture)."""
    import cv2
    import numpy as np

    from edgeconnect_lib.checkpoints import load_checkpoint
    from edgeconnect_lib.edges import canny_edges
    from edgeconnect_lib.images import load_image, rgb_to_gray
    from edgeconnect_lib.masks import free_form_mask
    from edgeconnect_lib.metrics import checkerboard_ratio
    from edgeconnect_lib.models import inpaint_outputs, network_from_checkpoint
    from edgeconnect_lib.networks import to_resize_upsampling

    photo = load_image("data/images/mate_leaf.jpg")
    side = min(photo.shape[:2])
    photo = cv2.resize(photo[:side, :side], (128, 128), interpolation=cv2.INTER_AREA)
    hole = free_form_mask(128, 128, np.random.default_rng(0)).astype(np.float32)
    edges = canny_edges(rgb_to_gray(photo), sigma=2.0).astype(np.float32)
    image = torch.from_numpy(np.ascontiguousarray(photo)).float().permute(2, 0, 1)[None]
    edges, masks = torch.from_numpy(edges)[None, None], torch.from_numpy(hole)[None, None]
    g = network_from_checkpoint(load_checkpoint("data/checkpoints/inpaint.pt"), "G_inpaint").eval()
    r = to_resize_upsampling(g).eval()
    assert r.upsample == "resize" and network_config(r) == {**network_config(g), "upsample": "resize"}
    torch.manual_seed(0)
    fresh = build_network(network_config(r)).eval()
    with torch.no_grad():
        out_g, out_r, out_f = (inpaint_outputs(n, image, edges, masks) for n in (g, r, fresh))
    inside = masks.bool().expand_as(out_g)
    assert (out_r - out_g).abs()[inside].mean() < 0.8 * (out_f - out_g).abs()[inside].mean()
    cb_g, cb_r = checkerboard_ratio(out_g, image, masks), checkerboard_ratio(out_r, image, masks)
    assert cb_g > 1.5 and cb_r < 0.7 * cb_g
    for key, value in g.encoder.state_dict().items():  # the encoder is copied unchanged
        assert torch.equal(r.encoder.state_dict()[key], value)
    e = to_resize_upsampling(EdgeGenerator(base_channels=8, residual_blocks=1))  # spectral norm: vectors refreshed
    assert e(torch.rand(1, 3, 16, 16)).shape == (1, 1, 16, 16)
    with pytest.raises(ValueError, match="upsample='transpose'"):
        to_resize_upsampling(r)


def test_with_prefill_starts_as_the_pull_push_fill_and_then_learns_a_correction():
    """``with_prefill`` keeps the trained weights, adds a zero-weighted mask channel and zeroes the output
    convolution: the first output is the pull-push fill itself, exactly, and one optimiser step moves it."""
    from edgeconnect_lib.models import inpaint_outputs
    from edgeconnect_lib.networks import with_prefill
    from edgeconnect_lib.prefill import pull_push_fill

    torch.manual_seed(0)
    g = InpaintGenerator(base_channels=8, residual_blocks=1, colour_reference=True, upsample="resize")
    p = with_prefill(g)
    assert p.prefill and not p.colour_reference and p.in_channels == 5
    assert network_config(p) == {**network_config(g), "colour_reference": False, "prefill": True}
    assert build_network(network_config(p)).prefill
    assert torch.equal(p.encoder[1].weight[:, :4], g.encoder[1].weight) and not p.encoder[1].weight[:, 4].any()
    images, edges = torch.rand(2, 3, 32, 32), (torch.rand(2, 1, 32, 32) > 0.8).float()
    masks = torch.zeros(2, 1, 32, 32)
    masks[..., 8:20, 6:26] = 1.0
    out = inpaint_outputs(p, images, edges, masks)
    torch.testing.assert_close(out, pull_push_fill(images, masks), atol=1e-6, rtol=0)
    opt = torch.optim.Adam(p.parameters(), lr=1e-3)
    (inpaint_outputs(p, images, edges, masks) - images).abs().mean().backward()
    opt.step()
    assert (inpaint_outputs(p, images, edges, masks) - out).abs().max() > 1e-4
    with pytest.raises(ValueError, match="prefill=False"):
        with_prefill(p)
    with pytest.raises(ValueError, match="colour_reference=False"):
        InpaintGenerator(base_channels=8, residual_blocks=1, colour_reference=True, prefill=True)
    with pytest.raises(ValueError, match="5 input channels"):
        p(torch.rand(1, 4, 32, 32))


def test_prefill_is_a_checked_config_key():
    from edgeconnect_lib.config import ConfigError, get_config
    from edgeconnect_lib.pipeline import build_model_network

    cfg = get_config("tiny", stage="inpaint", prefill=True, colour_reference=False)
    assert build_model_network("G_inpaint", cfg).prefill
    with pytest.raises(ConfigError, match="colour_reference=false"):
        get_config("tiny", stage="inpaint", prefill=True, colour_reference=True)
    with pytest.raises(ConfigError, match="prefill=1"):
        get_config("tiny", stage="inpaint", prefill=1)
