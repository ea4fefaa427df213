"""Tests for edgeconnect_lib.losses: known values on hand-computed inputs, masks, VGG passes, objectives."""
from __future__ import annotations

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from edgeconnect_lib.losses import (
    GAN_KINDS,
    PERCEPTUAL_LAYERS,
    STYLE_LAYERS,
    LossWeights,
    PerceptualStyleLoss,
    discriminator_loss,
    discriminator_objective,
    edge_generator_objective,
    feature_matching_loss,
    generator_adversarial_loss,
    gram_matrix,
    inpaint_generator_objective,
    masked_l1,
)
from edgeconnect_lib.vgg import VGG19Features


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


@pytest.fixture(scope="module")
def vgg() -> VGG19Features:
    torch.manual_seed(0)
    return VGG19Features()


# ----------------------------------------------------------------------------------------------------- weights
def test_loss_weights_defaults_are_the_papers():
    w = LossWeights()
    assert (w.edge_adv, w.edge_fm) == (1.0, 10.0)
    assert (w.l1, w.inpaint_adv, w.perceptual, w.style) == (1.0, 0.1, 0.1, 250.0)
    assert w.gan == "nsgan"
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.style = 1.0  # type: ignore[misc]


def test_loss_weights_validation():
    with pytest.raises(ValueError, match="wgan"):
        LossWeights(gan="wgan")
    with pytest.raises(ValueError, match="style"):
        LossWeights(style=-1.0)
    with pytest.raises(ValueError, match="edge_fm"):
        LossWeights(edge_fm=float("nan"))
    assert LossWeights(gan="hinge", style=1).style == 1


# ----------------------------------------------------------------------------------------------- adversarial
REAL = torch.tensor([0.0, 2.0])
FAKE = torch.tensor([0.0, -1.0])


@pytest.mark.parametrize(
    "kind, expected",
    [
        # ((softplus(-0) + softplus(-2)) / 2 + (softplus(0) + softplus(-1)) / 2) / 2
        ("nsgan", ((softplus(0) + softplus(-2)) / 2 + (softplus(0) + softplus(-1)) / 2) / 2),
        # (((0-1)^2 + (2-1)^2) / 2 + (0^2 + (-1)^2) / 2) / 2 = (1 + 0.5) / 2
        ("lsgan", 0.75),
        # ((max(0, 1-0) + max(0, 1-2)) / 2 + (max(0, 1+0) + max(0, 1-1)) / 2) / 2 = (0.5 + 0.5) / 2
        ("hinge", 0.5),
    ],
)
def test_discriminator_loss_known_values(kind, expected):
    assert discriminator_loss(REAL, FAKE, kind).item() == pytest.approx(expected, abs=1e-6)
    parts = discriminator_objective(REAL, FAKE, kind)
    assert parts["loss_D"].item() == pytest.approx(expected, abs=1e-6)
    assert (parts["loss_D_real"] + parts["loss_D_fake"]).item() / 2 == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("nsgan", (softplus(0) + softplus(1)) / 2),  # -log sigmoid(l) = softplus(-l)
        ("lsgan", 2.5),  # ((0-1)^2 + (-1-1)^2) / 2
        ("hinge", 0.5),  # -mean(0, -1)
    ],
)
def test_generator_adversarial_loss_known_values(kind, expected):
    assert generator_adversarial_loss(FAKE, kind).item() == pytest.approx(expected, abs=1e-6)


def test_nsgan_on_logits_matches_bce_on_sigmoid_as_the_authors_computed_it():
    torch.manual_seed(0)
    real, fake = torch.randn(2, 1, 6, 6), torch.randn(2, 1, 6, 6)
    p_real, p_fake = torch.sigmoid(real), torch.sigmoid(fake)
    authors_d = (F.binary_cross_entropy(p_real, torch.ones_like(p_real))
                 + F.binary_cross_entropy(p_fake, torch.zeros_like(p_fake))) / 2
    torch.testing.assert_close(discriminator_loss(real, fake, "nsgan"), authors_d)
    torch.testing.assert_close(
        generator_adversarial_loss(fake, "nsgan"), F.binary_cross_entropy(p_fake, torch.ones_like(p_fake))
    )


def test_adversarial_losses_finite_on_extreme_logits_and_push_the_right_way():
    fake = torch.tensor([-100.0, 100.0], requires_grad=True)
    for kind in GAN_KINDS:
        loss = generator_adversarial_loss(fake, kind)
        assert torch.isfinite(loss)
        (grad,) = torch.autograd.grad(loss, fake)
        assert grad[0] < 0  # descending the loss raises the fake's "real" score
    assert discriminator_loss(torch.tensor([-100.0]), torch.tensor([100.0]), "nsgan").item() == pytest.approx(100, rel=1e-3)


def test_unknown_gan_kind_raises():
    with pytest.raises(ValueError, match="choose one of"):
        discriminator_loss(REAL, FAKE, "wgan")
    with pytest.raises(ValueError, match="choose one of"):
        generator_adversarial_loss(FAKE, "BCE")


# ------------------------------------------------------------------------------------------ feature matching
def test_feature_matching_known_value_and_zero():
    real = [torch.zeros(1, 2, 4, 4), torch.zeros(1, 1, 2, 2)]
    fake = [torch.full((1, 2, 4, 4), 0.5), torch.full((1, 1, 2, 2), -2.0)]
    assert feature_matching_loss(real, fake).item() == pytest.approx(2.5)  # 0.5 + 2
    assert feature_matching_loss(real, real).item() == 0.0


def test_feature_matching_detaches_real_features():
    real = [torch.rand(1, 2, 3, 3, requires_grad=True)]
    fake = [torch.rand(1, 2, 3, 3, requires_grad=True)]
    feature_matching_loss(real, fake).backward()
    assert real[0].grad is None
    assert fake[0].grad is not None


def test_feature_matching_bad_inputs():
    with pytest.raises(ValueError, match="2 real and 1 fake"):
        feature_matching_loss([torch.zeros(1)] * 2, [torch.zeros(1)])
    with pytest.raises(ValueError, match="layer 0"):
        feature_matching_loss([torch.zeros(1, 2)], [torch.zeros(1, 3)])


def test_feature_matching_with_patch_discriminator():
    networks = pytest.importorskip("edgeconnect_lib.networks")
    torch.manual_seed(0)
    d = networks.PatchDiscriminator(in_channels=2, base_channels=8)
    real, fake = torch.rand(1, 2, 32, 32), torch.rand(1, 2, 32, 32, requires_grad=True)
    _, real_features = d(real)
    logits, fake_features = d(fake)
    assert len(fake_features) == 5
    terms = edge_generator_objective(logits, real_features, fake_features)
    terms["loss_G"].backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    d.eval()  # in training mode spectral norm's power iteration moves the weights at every forward
    with torch.no_grad():
        _, first = d(real)
        _, again = d(real)
    assert feature_matching_loss(first, again).item() == 0.0


# -------------------------------------------------------------------------------------------------- masked L1
def test_masked_l1_empty_full_and_none_masks_are_plain_l1():
    torch.manual_seed(0)
    out, tgt = torch.rand(2, 3, 8, 8, requires_grad=True), torch.rand(2, 3, 8, 8)
    plain = (out - tgt).abs().mean()
    empty = masked_l1(out, tgt, torch.zeros(2, 1, 8, 8))
    assert torch.isfinite(empty)
    torch.testing.assert_close(empty, plain)
    torch.testing.assert_close(masked_l1(out, tgt, torch.ones(2, 1, 8, 8)), plain)
    torch.testing.assert_close(masked_l1(out, tgt), plain)
    empty.backward()
    assert torch.isfinite(out.grad).all()


def test_masked_l1_divides_by_hole_ratio_like_the_authors():
    torch.manual_seed(0)
    out, tgt = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    mask = torch.zeros(2, 1, 8, 8)
    mask[:, :, :4] = 1.0  # half of the image is hole
    torch.testing.assert_close(masked_l1(out, tgt, mask), (out - tgt).abs().mean() / mask.mean())
    torch.testing.assert_close(masked_l1(out, tgt, mask.expand(2, 3, 8, 8)), (out - tgt).abs().mean() * 2)
    # With the known pixels copied from the target, it is the mean L1 per hole pixel.
    comp = out * mask + tgt * (1 - mask)
    hole_mean = (comp - tgt).abs()[:, :, :4].mean()
    torch.testing.assert_close(masked_l1(comp, tgt, mask), hole_mean)


def test_masked_l1_bad_shapes():
    with pytest.raises(ValueError, match="differ in shape"):
        masked_l1(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 5))
    with pytest.raises(ValueError, match="mask of shape"):
        masked_l1(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4), torch.zeros(1, 4, 4))


# -------------------------------------------------------------------------------------------- gram / VGG loss
def test_gram_matrix_known_value():
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 2, 1, 2)  # C=2, H=1, W=2
    expected = torch.tensor([[[5.0, 11.0], [11.0, 25.0]]]) / 4  # F F^T / (C H W)
    torch.testing.assert_close(gram_matrix(f), expected)
    g = gram_matrix(torch.rand(3, 4, 5, 6))
    assert g.shape == (3, 4, 4)
    torch.testing.assert_close(g, g.transpose(1, 2))
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        gram_matrix(torch.rand(4, 5, 6))


def _reference_losses(vgg, output, target, style_a, style_b):
    """The authors' way: separate VGG passes on each input."""
    fo, ft = vgg(output), vgg(target)
    perc = sum(F.l1_loss(fo[n], ft[n]) for n in PERCEPTUAL_LAYERS)
    fa, fb = vgg(style_a), vgg(style_b)
    style = sum(F.l1_loss(gram_matrix(fa[n]), gram_matrix(fb[n])) for n in STYLE_LAYERS)
    return perc, style


@pytest.mark.parametrize("style_input", ["masked", "composite", "full"])
def test_perceptual_style_matches_separate_passes_with_two_vgg_calls(vgg, style_input):
    torch.manual_seed(1)
    out, tgt = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    mask = torch.zeros(2, 1, 32, 32)
    mask[:, :, 8:24, 8:24] = 1
    loss = PerceptualStyleLoss(vgg, style_input=style_input)
    calls = []
    handle = vgg.register_forward_hook(lambda *a: calls.append(1))
    perc, style = loss(out, tgt, mask)
    handle.remove()
    assert len(calls) == 2  # one pass for the output side, one for the target side
    a, b = {
        "masked": (out * mask, tgt * mask),
        "composite": (out * mask + tgt * (1 - mask), tgt),
        "full": (out, tgt),
    }[style_input]
    ref_perc, ref_style = _reference_losses(vgg, out, tgt, a, b)
    torch.testing.assert_close(perc, ref_perc, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(style, ref_style, rtol=1e-4, atol=1e-9)
    assert style > 0 and perc > 0


def test_perceptual_style_zero_for_identical_inputs_and_gradients(vgg):
    torch.manual_seed(2)
    img = torch.rand(1, 3, 32, 32)
    mask = torch.ones(1, 1, 32, 32)
    loss = PerceptualStyleLoss(vgg)
    perc, style = loss(img, img, mask)
    assert perc.item() == 0.0 and style.item() == 0.0
    out = torch.rand(1, 3, 32, 32, requires_grad=True)
    tgt = torch.rand(1, 3, 32, 32, requires_grad=True)
    perc, style = loss(out, tgt, mask)
    (perc + style).backward()
    assert out.grad is not None and out.grad.abs().sum() > 0
    assert tgt.grad is None  # the target side runs under no_grad
    # mask=None means "all hole": the same as an all-ones mask
    torch.testing.assert_close(loss(out, tgt), loss(out, tgt, mask))


def test_perceptual_style_bad_arguments(vgg):
    with pytest.raises(ValueError, match="style_input"):
        PerceptualStyleLoss(vgg, style_input="gram")
    with pytest.raises(ValueError, match="perceptual_weights"):
        PerceptualStyleLoss(vgg, perceptual_weights=[1.0, 1.0])
    loss = PerceptualStyleLoss(vgg, source="test weights")
    assert loss.source == "test weights"
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        loss(torch.rand(1, 1, 16, 16), torch.rand(1, 1, 16, 16))
    with pytest.raises(ValueError, match="mask"):
        loss(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16), torch.ones(1, 1, 8, 8))


# ------------------------------------------------------------------------------------------------ objectives
def test_edge_generator_objective_weights_and_total():
    logits = torch.tensor([0.0, -1.0])
    real = [torch.zeros(1, 2, 2, 2)]
    fake = [torch.full((1, 2, 2, 2), 0.25)]
    terms = edge_generator_objective(logits, real, fake)
    assert set(terms) == {"loss_G_adv", "loss_G_fm", "loss_G"}
    assert terms["loss_G_adv"].item() == pytest.approx((softplus(0) + softplus(1)) / 2, abs=1e-6)
    assert terms["loss_G_fm"].item() == pytest.approx(10 * 0.25)
    torch.testing.assert_close(terms["loss_G"], terms["loss_G_adv"] + terms["loss_G_fm"])
    hinge = edge_generator_objective(logits, real, fake, LossWeights(gan="hinge", edge_fm=0.0))
    assert hinge["loss_G"].item() == pytest.approx(0.5)


def test_inpaint_generator_objective_weighted_terms(vgg):
    torch.manual_seed(3)
    out, img = torch.rand(1, 3, 32, 32, requires_grad=True), torch.rand(1, 3, 32, 32)
    mask = torch.zeros(1, 1, 32, 32)
    mask[:, :, :16] = 1
    logits = torch.randn(1, 1, 2, 2)
    psl = PerceptualStyleLoss(vgg)
    terms = inpaint_generator_objective(out, img, mask, logits, psl)
    assert list(terms) == ["loss_G_l1", "loss_G_adv", "loss_G_perc", "loss_G_style", "loss_G"]
    perc, style = psl(out, img, mask)
    torch.testing.assert_close(terms["loss_G_l1"], masked_l1(out, img, mask))
    torch.testing.assert_close(terms["loss_G_adv"], 0.1 * generator_adversarial_loss(logits))
    torch.testing.assert_close(terms["loss_G_perc"], 0.1 * perc)
    torch.testing.assert_close(terms["loss_G_style"], 250 * style)
    parts = terms["loss_G_l1"] + terms["loss_G_adv"] + terms["loss_G_perc"] + terms["loss_G_style"]
    torch.testing.assert_close(terms["loss_G"], parts)
    terms["loss_G"].backward()
    assert out.grad is not None and torch.isfinite(out.grad).all()


def test_inpaint_objective_skips_vgg_when_not_needed(vgg):
    out, img = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    mask, logits = torch.ones(1, 1, 32, 32), torch.zeros(1, 1, 2, 2)
    calls = []
    handle = vgg.register_forward_hook(lambda *a: calls.append(1))
    terms = inpaint_generator_objective(out, img, mask, logits, None)
    assert terms["loss_G_perc"].item() == 0 and terms["loss_G_style"].item() == 0
    no_vgg = LossWeights(perceptual=0.0, style=0.0)
    terms = inpaint_generator_objective(out, img, mask, logits, PerceptualStyleLoss(vgg), no_vgg)
    handle.remove()
    assert calls == []
    torch.testing.assert_close(terms["loss_G"], terms["loss_G_l1"] + terms["loss_G_adv"])


# --- seam L1 (the course's addition, not in the paper) ------------------------------------------------
def test_seam_band_is_the_first_pixels_inside_the_hole():
    from edgeconnect_lib.losses import seam_band

    mask = torch.zeros(1, 1, 12, 12)
    mask[..., 2:10, 2:10] = 1  # an 8 x 8 hole
    band = seam_band(mask, 2)
    assert band[..., 2:10, 2:10].sum().item() == 64 - 16  # a 2 px ring: the inner 4 x 4 is deeper
    assert band[..., 4:8, 4:8].sum().item() == 0 and (band * (1 - mask)).sum().item() == 0
    # the image border is not a known pixel: a hole covering the whole image has no seam
    assert seam_band(torch.ones(1, 1, 8, 8), 3).sum().item() == 0


def test_seam_l1_weighs_only_the_band_and_joins_the_objective_only_when_asked():
    from edgeconnect_lib.losses import seam_band, seam_l1

    img = torch.zeros(1, 3, 16, 16)
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., 4:12, 4:12] = 1
    deep = img.clone()
    deep[..., 7:9, 7:9] = 1.0  # wrong only deep in the hole
    assert seam_l1(deep, img, mask, 2).item() == 0
    edge = img.clone()
    edge[..., 4, 4:12] = 1.0  # wrong on the first row of the hole
    band_pixels = seam_band(mask, 2).sum().item()
    assert seam_l1(edge, img, mask, 2).item() == pytest.approx(8 / band_pixels)
    assert seam_l1(edge, img, torch.zeros_like(mask), 2).item() == 0  # no hole: no band, no NaN
    logits = torch.zeros(1, 1, 2, 2)
    plain = inpaint_generator_objective(edge, img, mask, logits, None, LossWeights(perceptual=0, style=0))
    assert "loss_G_seam" not in plain
    seamed = inpaint_generator_objective(edge, img, mask, logits, None,
                                         LossWeights(perceptual=0, style=0, seam_l1=2.0, seam_width=2))
    torch.testing.assert_close(seamed["loss_G_seam"], 2.0 * seam_l1(edge, img, mask, 2))
    torch.testing.assert_close(seamed["loss_G"], plain["loss_G"] + seamed["loss_G_seam"])
    with pytest.raises(ValueError, match="seam_width"):
        LossWeights(seam_width=0)
    with pytest.raises(ValueError, match="seam_l1"):
        seam_l1(edge, img, mask[:, :, :8], 2)


def test_gradient_l1_rewards_a_step_in_the_right_place_and_joins_the_objective_only_when_asked():
    from edgeconnect_lib.losses import gradient_l1

    photo = torch.zeros(1, 3, 16, 16)
    photo[..., 8:] = 1.0  # a vertical step between columns 7 and 8
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., 4:12, 4:12] = 1  # the hole crosses the step
    assert gradient_l1(photo, photo, mask).item() == 0
    flat = torch.full_like(photo, 0.5)  # the best constant fill: L1 0.5 everywhere, and no step
    moved = torch.roll(photo, 2, dims=-1)  # the step 2 px off
    blurred = photo.clone()
    blurred[..., 7], blurred[..., 8] = 1 / 3, 2 / 3  # the step spread over three pixel pairs
    # a pair touching the hole: 9 columns x 8 rows horizontally, 8 x 9 vertically (x 3 channels)
    pairs = 3 * (9 * 8 + 8 * 9)
    assert gradient_l1(flat, photo, mask).item() == pytest.approx(3 * 8 / pairs)  # the step missed on 8 rows
    assert gradient_l1(moved, photo, mask).item() == pytest.approx(2 * 3 * 8 / pairs)  # missed, and drawn elsewhere
    assert gradient_l1(blurred, photo, mask).item() == pytest.approx(3 * 8 * (2 / 3 + 1 / 3 + 1 / 3) / pairs)
    assert gradient_l1(flat, photo, torch.zeros_like(mask)).item() == 0  # no hole: 0, no NaN
    outside = photo.clone()
    outside[..., 0, :] = 0.3  # wrong in the known region, 3 rows from the hole: not scored
    assert gradient_l1(outside, photo, mask).item() == 0
    logits = torch.zeros(1, 1, 2, 2)
    plain = inpaint_generator_objective(flat, photo, mask, logits, None, LossWeights(perceptual=0, style=0))
    assert "loss_G_grad" not in plain
    with_grad = inpaint_generator_objective(flat, photo, mask, logits, None,
                                            LossWeights(perceptual=0, style=0, grad_l1=2.0))
    torch.testing.assert_close(with_grad["loss_G_grad"], 2.0 * gradient_l1(flat, photo, mask))
    torch.testing.assert_close(with_grad["loss_G"], plain["loss_G"] + with_grad["loss_G_grad"])
    with pytest.raises(ValueError, match="grad_l1"):
        LossWeights(grad_l1=-1.0)
    with pytest.raises(ValueError, match="gradient_l1"):
        gradient_l1(flat, photo, mask[:, :, :8])



def test_edge_gradient_l1_scores_only_the_steps_beside_the_given_edges():
    from edgeconnect_lib.losses import edge_gradient_l1, gradient_l1

    photo = torch.zeros(1, 3, 16, 16)
    photo[..., 8:] = 1.0  # a vertical step between columns 7 and 8
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., 4:12, 4:12] = 1
    edges = torch.zeros(1, 1, 16, 16)
    edges[..., 8] = 1.0  # the given line, on the step
    flat = torch.full_like(photo, 0.5)
    assert edge_gradient_l1(photo, photo, mask, edges).item() == 0
    # the line widened to columns 7-9; pairs touching it in the hole: horizontal pairs (6,7) ... (9,10), 4 x 8
    # rows, and vertical pairs in columns 7-9, 3 x 9; the flat fill misses the one step on each of the 8 rows
    pairs = 3 * (4 * 8 + 3 * 9)
    assert edge_gradient_l1(flat, photo, mask, edges).item() == pytest.approx(3 * 8 / pairs)
    # the same miss weighs more than over the whole hole, where the step is one pair in 18 per row
    assert edge_gradient_l1(flat, photo, mask, edges).item() > 2 * gradient_l1(flat, photo, mask).item()
    # a wrong step away from the given line is not this term's business; no line in the hole gives 0, no NaN
    wrong = photo.clone()
    wrong[..., 4:12, 4] = 0.7
    assert edge_gradient_l1(wrong, photo, mask, edges).item() == 0
    assert edge_gradient_l1(flat, photo, mask, torch.zeros_like(edges)).item() == 0
    half = edge_gradient_l1(flat, photo, mask, 0.5 * edges)  # a soft edge of G1: the same weighted mean
    assert half.item() == pytest.approx(3 * 8 / pairs)
    logits = torch.zeros(1, 1, 2, 2)
    weights = LossWeights(perceptual=0, style=0, edge_grad_l1=3.0)
    terms = inpaint_generator_objective(flat, photo, mask, logits, None, weights, edges)
    torch.testing.assert_close(terms["loss_G_edge_grad"], 3.0 * edge_gradient_l1(flat, photo, mask, edges))
    with pytest.raises(ValueError, match="needs edges"):
        inpaint_generator_objective(flat, photo, mask, logits, None, weights)
    with pytest.raises(ValueError, match="edge_gradient_l1"):
        edge_gradient_l1(flat, photo, mask, edges[:, 0])

# ------------------------------------------------------------------------------------------------------------
# balanced_bce: the optional supervised term of G1 (HED's class-balanced cross-entropy; not in the paper)
# ------------------------------------------------------------------------------------------------------------
def test_balanced_bce_known_cases():
    import math

    from edgeconnect_lib.losses import balanced_bce

    edges = torch.zeros(1, 1, 10, 10)
    edges[..., 4, :] = 1.0  # 10 edge pixels of 100: beta = 0.9
    masks = torch.ones_like(edges)
    perfect = balanced_bce(edges.clone(), edges, masks)
    assert perfect < 1e-4
    # "no edge" everywhere at p = 0.01: the edge pixels cost beta * -log(0.01) each, 10 of 100 pixels
    nothing = balanced_bce(torch.full_like(edges, 0.01), edges, masks)
    expected = (10 * 0.9 * -math.log(0.01) + 90 * 0.1 * -math.log(0.99)) / 100
    assert nothing.item() == pytest.approx(expected, rel=1e-4)
    # balanced: missing every edge costs as much as drawing edges everywhere at the same confidence (a plain
    # cross-entropy would prefer "no edge", 9 times cheaper here)
    everything = balanced_bce(torch.full_like(edges, 0.99), edges, masks)
    assert nothing.item() == pytest.approx(everything.item(), rel=1e-4)
    plain = torch.nn.functional.binary_cross_entropy
    assert plain(torch.full_like(edges, 0.99), edges) > 5 * plain(torch.full_like(edges, 0.01), edges)
    # only hole pixels count: a wrong prediction outside the hole changes nothing
    hole = torch.zeros_like(edges)
    hole[..., 3:6, :] = 1.0
    wrong_outside = edges.clone()
    wrong_outside[..., 0, :] = 1.0
    assert balanced_bce(wrong_outside, edges, hole) == pytest.approx(balanced_bce(edges.clone(), edges, hole).item(), abs=1e-6)
    # an empty hole gives a finite 0, not NaN
    assert balanced_bce(torch.full_like(edges, 0.5), edges, torch.zeros_like(edges)).item() == 0.0


def test_edge_objective_with_bce_term():
    logits = torch.randn(2, 1, 6, 6)
    real = [torch.rand(2, 4, 6, 6)]
    fake = [torch.rand(2, 4, 6, 6)]
    edges = (torch.rand(2, 1, 24, 24) > 0.9).float()
    pred = torch.rand(2, 1, 24, 24, requires_grad=True)
    masks = torch.ones_like(edges)
    plain = edge_generator_objective(logits, real, fake)
    assert "loss_G_bce" not in plain
    w = LossWeights(edge_bce=2.0)
    terms = edge_generator_objective(logits, real, fake, w, pred, edges, masks)
    assert terms["loss_G"].item() == pytest.approx(
        (terms["loss_G_adv"] + terms["loss_G_fm"] + terms["loss_G_bce"]).item(), rel=1e-6)
    terms["loss_G"].backward()
    assert pred.grad is not None and pred.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="edge_bce"):
        edge_generator_objective(logits, real, fake, w)
    with pytest.raises(ValueError):
        LossWeights(edge_bce=-1.0)
