"""The loss terms of EdgeConnect (Nazeri et al., 2019, Sec. 3.1-3.2) and its two generator objectives.

Edge generator G1 (Sec. 3.1):     L_G1 = lambda_adv1 * L_adv1 + lambda_FM * L_FM,    lambda_adv1 = 1, lambda_FM = 10
Image-completion generator G2 (Sec. 3.2):
                                  L_G2 = lambda_l1 * L_l1 + lambda_adv2 * L_adv2 + lambda_p * L_perc + lambda_s * L_style
                                  with lambda_l1 = 1, lambda_adv2 = lambda_p = 0.1, lambda_s = 250.

Every adversarial loss here takes the discriminator's *logits* (``PatchDiscriminator(..., use_sigmoid=False)``),
never probabilities. The objectives return a dict of already-weighted terms whose sum is ``loss_G``, with
the course's names ``loss_D``, ``loss_G_adv``, ``loss_G_fm``, ``loss_G_l1``, ``loss_G_perc``, ``loss_G_style``.

Lesson: ``notebooks/04_loss_terms.ipynb``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .errors import UsageError
from .options import GAN_KINDS, LOSS_WEIGHTS, loss_weight, whole_number  # GAN_KINDS: re-exported
from .vgg import VGG19Features, load_vgg19

__all__ = [
    "GAN_KINDS",
    "STYLE_INPUTS",
    "PERCEPTUAL_LAYERS",
    "STYLE_LAYERS",
    "LossWeights",
    "discriminator_loss",
    "discriminator_objective",
    "generator_adversarial_loss",
    "feature_matching_loss",
    "masked_l1",
    "seam_band",
    "seam_l1",
    "gradient_l1",
    "edge_gradient_l1",
    "gram_matrix",
    "PerceptualStyleLoss",
    "edge_generator_objective",
    "inpaint_generator_objective",
]

#: What the style loss compares (see :class:`PerceptualStyleLoss`).
STYLE_INPUTS = ("masked", "composite", "full")
#: VGG19 activations of the perceptual loss L_perc and of the style loss L_style (Sec. 3.2).
PERCEPTUAL_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
STYLE_LAYERS = ("relu2_2", "relu3_4", "relu4_4", "relu5_2")


@dataclass(frozen=True)
class LossWeights:
    """The loss weights of EdgeConnect's objectives; the defaults are the paper's (Sec. 3.1, 3.2).

    - ``edge_adv`` = lambda_adv1 and ``edge_fm`` = lambda_FM in the objective of the edge generator G1:
      ``L_G1 = lambda_adv1 * L_adv1 + lambda_FM * L_FM``.
    - ``l1``, ``inpaint_adv`` = lambda_adv2, ``perceptual`` = lambda_p, ``style`` = lambda_s in the
      objective of the image-completion generator G2:
      ``L_G2 = lambda_l1 * L_l1 + lambda_adv2 * L_adv2 + lambda_p * L_perc + lambda_s * L_style``.
    - ``gan``: the adversarial loss form, ``"nsgan"`` (the paper's, default), ``"lsgan"`` or ``"hinge"``.
    - ``seam_l1`` (default 0, **not in the paper**): the weight of :func:`seam_l1`, an extra L1 on the hole pixels
      within ``seam_width`` pixels of the hole's edge, where the course model lost most to Telea (lesson 08).
    - ``edge_bce`` (default 0, **not in the paper**): the weight of :func:`balanced_bce`, a supervised,
      class-balanced cross-entropy of G1's edge map against the Canny labels (HED, Xie & Tu 2015), for when the
      adversarial + feature-matching objective alone leaves G1 drawing almost no edges in a hole.
    - ``grad_l1`` (default 0, **not in the paper**): the weight of :func:`gradient_l1`, an L1 on G2's image
      gradients in the hole, a stand-in for the structure the paper's VGG19 losses reward, which the course trains
      without (no ImageNet weights offline, and VGG19 costs most of a CPU step).
    - ``edge_grad_l1`` (default 0, **not in the paper**): the weight of :func:`edge_gradient_l1`, the same L1 on
      the pixel pairs beside the edges G2 was given, so that it draws the lines it is given sharply.

    (The authors' repository also has fallback defaults, style 1, perceptual 1, adversarial 0.01, that are
    not the paper's; its example config, like these defaults, matches the paper.)
    """

    edge_adv: float = 1.0
    edge_fm: float = 10.0
    l1: float = 1.0
    inpaint_adv: float = 0.1
    perceptual: float = 0.1
    style: float = 250.0
    gan: str = "nsgan"
    seam_l1: float = 0.0
    seam_width: int = 3
    edge_bce: float = 0.0
    grad_l1: float = 0.0
    edge_grad_l1: float = 0.0

    def __post_init__(self) -> None:
        _check_kind(self.gan, "gan")
        whole_number("LossWeights.seam_width", self.seam_width, what="the seam band's width in pixels")
        for name in LOSS_WEIGHTS:
            loss_weight(f"LossWeights.{name}", getattr(self, name))


def _check_kind(kind: str, name: str = "kind") -> None:
    if kind not in GAN_KINDS:
        raise UsageError(f"{name}={kind!r}: unknown adversarial loss; choose one of {GAN_KINDS}")


# ---------------------------------------------------------------------------------------------------------
# Adversarial losses (L_adv1 of G1, L_adv2 of G2), on logits
# ---------------------------------------------------------------------------------------------------------
def _real_term(logits: torch.Tensor, kind: str) -> torch.Tensor:
    """The discriminator's loss for inputs that should be judged real."""
    if kind == "nsgan":
        # -log sigmoid(l) = softplus(-l): BCE with target 1, computed stably on logits
        return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
    if kind == "lsgan":
        # (D(x) - 1)^2
        return F.mse_loss(logits, torch.ones_like(logits))
    # hinge: max(0, 1 - D(x))
    return F.relu(1.0 - logits).mean()


def _fake_term(logits: torch.Tensor, kind: str) -> torch.Tensor:
    """The discriminator's loss for inputs that should be judged fake."""
    if kind == "nsgan":
        # -log(1 - sigmoid(l)) = softplus(l): BCE with target 0
        return F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits))
    if kind == "lsgan":
        # D(G(z))^2
        return F.mse_loss(logits, torch.zeros_like(logits))
    # hinge: max(0, 1 + D(G(z)))
    return F.relu(1.0 + logits).mean()


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, kind: str = "nsgan") -> torch.Tensor:
    """The discriminator's loss ``loss_D = (L_real + L_fake) / 2`` on its logit maps.

    - ``nsgan``: binary cross-entropy, ``-log sigmoid(D(x)) - log(1 - sigmoid(D(G(z))))`` (the paper's);
    - ``lsgan``: least squares on the raw outputs, ``(D(x) - 1)^2 + D(G(z))^2``. The authors' code applied
      the MSE to sigmoid outputs (their D kept its sigmoid); we follow Mao et al. (2017) and use the logits;
    - ``hinge``: ``max(0, 1 - D(x)) + max(0, 1 + D(G(z)))``.

    Each term is a mean over the patch map; the sum is halved as in the authors' code. Pass the fakes'
    logits computed on ``fakes.detach()`` so the generator gets no gradient from this loss.
    """
    _check_kind(kind)
    return (_real_term(real_logits, kind) + _fake_term(fake_logits, kind)) / 2


def discriminator_objective(
    real_logits: torch.Tensor, fake_logits: torch.Tensor, kind: str = "nsgan"
) -> dict[str, torch.Tensor]:
    """:func:`discriminator_loss` with its two halves: ``{"loss_D_real", "loss_D_fake", "loss_D"}``."""
    _check_kind(kind)
    real, fake = _real_term(real_logits, kind), _fake_term(fake_logits, kind)
    return {"loss_D_real": real, "loss_D_fake": fake, "loss_D": (real + fake) / 2}


def generator_adversarial_loss(fake_logits: torch.Tensor, kind: str = "nsgan") -> torch.Tensor:
    """The generator's adversarial loss ``loss_G_adv`` on the discriminator's logits for its outputs.

    - ``nsgan``: ``-log sigmoid(D(G(z)))`` (the non-saturating loss, BCE with target 1);
    - ``lsgan``: ``(D(G(z)) - 1)^2``;
    - ``hinge``: ``-D(G(z))``.
    """
    _check_kind(kind)
    if kind == "hinge":
        # L = -mean(D(G(z)))
        return -fake_logits.mean()
    return _real_term(fake_logits, kind)


# ---------------------------------------------------------------------------------------------------------
# Feature matching L_FM (Sec. 3.1)
# ---------------------------------------------------------------------------------------------------------
def feature_matching_loss(
    real_features: Sequence[torch.Tensor], fake_features: Sequence[torch.Tensor]
) -> torch.Tensor:
    """Feature-matching loss of G1 (Sec. 3.1): ``L_FM = sum_i mean |D_i(real) - D_i(fake)|`` over D's layers.

    ``real_features`` and ``fake_features`` are the lists of the discriminator's activations
    (``PatchDiscriminator.forward`` returns five). The real ones are detached: the loss trains the
    generator only. Like the authors' code, each layer's L1 is a mean over its elements and the layers are
    summed; the paper's extra 1/N_i normalisation is this mean.
    """
    real_features, fake_features = list(real_features), list(fake_features)
    if len(real_features) != len(fake_features) or not real_features:
        raise UsageError(
            f"feature_matching_loss: got {len(real_features)} real and {len(fake_features)} fake feature maps; "
            "pass the same non-empty list of discriminator layers for both"
        )
    loss = fake_features[0].new_zeros(())
    for i, (real, fake) in enumerate(zip(real_features, fake_features)):
        if real.shape != fake.shape:
            raise UsageError(f"feature_matching_loss: layer {i} has shapes {tuple(real.shape)} and {tuple(fake.shape)}")
        # L_FM += (1 / N_i) ||D_i(real) - D_i(fake)||_1
        loss = loss + F.l1_loss(fake, real.detach())
    return loss


# ---------------------------------------------------------------------------------------------------------
# Reconstruction: hole-aware L1
# ---------------------------------------------------------------------------------------------------------
def seam_band(mask: torch.Tensor, width: int) -> torch.Tensor:
    """The hole pixels within ``width`` pixels (chessboard distance) of a known pixel: ``mask * dilate(1 - mask)``.

    ``mask`` is ``(B, 1, H, W)``, 1 = hole; the result has the same shape, 1 on the band. The image border does
    not count as known.
    """
    hole = (mask > 0.5).to(torch.float32)
    known = 1.0 - hole
    near_known = F.max_pool2d(known, kernel_size=2 * width + 1, stride=1, padding=width)
    return hole * near_known


def _check_image_mask(who: str, output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> None:
    """Raise naming ``who`` unless ``output`` and ``target`` are (B, C, H, W) of one shape and ``mask`` (B, 1, H, W)."""
    if output.shape != target.shape or mask.dim() != 4 or mask.shape[1] != 1 or mask.shape[0] != output.shape[0] \
            or mask.shape[2:] != output.shape[2:]:
        raise UsageError(f"{who}: output {tuple(output.shape)}, target {tuple(target.shape)} and mask "
                         f"{tuple(mask.shape)} must be (B, C, H, W), (B, C, H, W) and (B, 1, H, W)")


def seam_l1(output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, width: int = 3) -> torch.Tensor:
    """Mean ``|output - target|`` over the seam band (:func:`seam_band`): the first ``width`` pixels inside the hole.

    **Not in EdgeConnect.** The course adds it because the shipped model's fill was level with Telea's from
    5 px inside the hole inwards and about 2 dB worse in the first 2 px (lesson 08): G2 blurs the pixels next to
    the known region, and the hole-normalised ``L_l1`` weighs them like any other hole pixel. 0 when the band
    is empty.
    """
    _check_image_mask("seam_l1", output, target, mask)
    band = seam_band(mask, width).to(output.dtype)
    count = band.sum() * output.shape[1]
    total = ((output - target).abs() * band).sum()
    return torch.where(count > 0, total / count.clamp_min(1), total.new_zeros(()))


def gradient_l1(output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
                where: torch.Tensor | None = None) -> torch.Tensor:
    """L1 of the image gradients in the hole: the mean of ``|d output - d target|`` over the horizontal and vertical
    differences of neighbouring pixels (``d x = x[.., j+1] - x[.., j]``) of which at least one lies in the hole.

    **Not in EdgeConnect.** It is the gradient difference loss of Mathieu, Couprie & LeCun (2016, Eq. 5) in its
    signed form with alpha = 1: a fill is rewarded for a step where the photo has one, of the same sign, and in the
    same place. ``L_l1`` weighs a one-pixel-wide edge like any other pixel, so a blur that halves it costs little;
    here its differences count in full. The paper gets sharp structure from the perceptual and style losses on
    ImageNet VGG19 features, which the course trains without (no weights offline). 0 when there is no hole.

    ``where`` (optional, ``(B, 1, H, W)`` in [0, 1]) weighs each pair by the larger of its two pixels' values, so
    only the pairs on (or beside) those pixels count: :func:`edge_gradient_l1` passes the edge map G2 was given.
    """
    _check_image_mask("gradient_l1", output, target, mask)
    hole = (mask > 0.5).to(output.dtype)
    if where is not None:
        _check_image_mask("gradient_l1 (where)", output, target, where)
        hole = hole * where.to(output.dtype)
    total, count = output.new_zeros(()), output.new_zeros(())
    for dim in (-1, -2):  # horizontal, then vertical neighbours
        n = output.shape[dim] - 1
        d_out = output.narrow(dim, 1, n) - output.narrow(dim, 0, n)
        d_target = target.narrow(dim, 1, n) - target.narrow(dim, 0, n)
        pair = torch.maximum(hole.narrow(dim, 1, n), hole.narrow(dim, 0, n))  # a pair touching the hole
        total = total + ((d_out - d_target).abs() * pair).sum()
        count = count + pair.sum() * output.shape[1]
    return torch.where(count > 0, total / count.clamp_min(1), total.new_zeros(()))


def edge_gradient_l1(output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
                     edges: torch.Tensor) -> torch.Tensor:
    """:func:`gradient_l1` on the lines G2 was given: only the pixel pairs in the hole on or beside an edge of
    ``edges`` (the edge map G2 sees, widened by one pixel with a 3x3 max), weighted by the edge's strength.

    **Not in EdgeConnect.** The whole point of the paper is that G2 paints *along* the edges it is given (Sec. 3.2);
    ``L_l1`` and :func:`gradient_l1` spread their weight over the whole hole, where edges are a few per cent of the
    pixels, so a fill that leaves a given line soft costs little. Here the step across each given line counts on its
    own: with the photo's true edges (``true_edge_share``) a missing step is penalised; with a wrong edge from G1
    (no step in the photo) a drawn step is. 0 when no edge lies in the hole.
    """
    if edges.dim() != 4 or edges.shape[1] != 1:
        raise UsageError(f"edge_gradient_l1: edges must be (B, 1, H, W), got {tuple(edges.shape)}")
    near = F.max_pool2d(edges.detach().to(output.dtype), 3, stride=1, padding=1)
    return gradient_l1(output, target, mask, where=near)


def masked_l1(output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The reconstruction loss ``L_l1`` of G2, normalised by the hole size as in the authors' code.

    ``L_l1 = mean(|output - target|) / mean(mask)``: the L1 over the whole image divided by the hole ratio,
    i.e. ``sum |output - target| / (C * number of hole pixels)``; when ``output`` equals ``target`` outside
    the hole it is exactly the mean L1 per hole pixel, and small holes are not drowned out by large images.

    Where the authors' division gives inf/NaN, ours stays finite: when the mask has no hole pixel at all
    (``mean(mask) == 0``) the denominator is 1, i.e. the plain L1 of the image. ``mask=None`` and an
    all-ones mask also give the plain L1. ``mask`` (1 = hole) is ``(B, 1, H, W)`` or ``output``'s shape;
    the hole ratio is taken over the whole batch, as in the authors' code.
    """
    if output.shape != target.shape:
        raise UsageError(f"masked_l1: output {tuple(output.shape)} and target {tuple(target.shape)} differ in shape")
    # mean |output - target| over every element of the batch
    l1 = F.l1_loss(output, target)
    if mask is None:
        return l1
    if mask.dim() != output.dim() or mask.shape[0] != output.shape[0] or mask.shape[2:] != output.shape[2:] or (
        mask.shape[1] not in (1, output.shape[1])
    ):
        raise UsageError(
            f"masked_l1: mask of shape {tuple(mask.shape)} does not fit images {tuple(output.shape)}; "
            "expected (B, 1, H, W) or the images' shape, 1 = hole"
        )
    # hole ratio of the batch; an empty mask falls back to 1 (plain L1) instead of dividing by 0
    ratio = mask.to(l1.dtype).mean()
    denominator = torch.where(ratio > 0, ratio, torch.ones_like(ratio))
    return l1 / denominator


# ---------------------------------------------------------------------------------------------------------
# Perceptual and style losses (Sec. 3.2) on VGG19 activations
# ---------------------------------------------------------------------------------------------------------
def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix ``G = F F^T / (C * H * W)`` of activations ``(B, C, H, W)`` -> ``(B, C, C)`` (style loss, Sec. 3.2)."""
    if features.dim() != 4:
        raise UsageError(f"gram_matrix expects activations (B, C, H, W), got shape {tuple(features.shape)}")
    b, c, h, w = features.shape
    # float32 even under autocast: a bf16/fp16 sum over H*W products loses the style signal
    flat = features.float().reshape(b, c, h * w)  # F: (B, C, HW)
    # G_ij = sum_k F_ik F_jk / (C H W)
    with torch.autocast(device_type=flat.device.type, enabled=False):
        return flat @ flat.transpose(1, 2) / (c * h * w)


class PerceptualStyleLoss(nn.Module):
    """Perceptual loss L_perc and style loss L_style of G2 (Sec. 3.2), with one VGG19 forward per side.

    ``L_perc = sum_i w_i * mean |phi_i(output) - phi_i(target)|`` over ``relu1_1 ... relu5_1`` (w_i = 1), and
    ``L_style = sum_j mean |G(phi_j(a)) - G(phi_j(b))|`` over ``relu2_2, relu3_4, relu4_4, relu5_2`` with
    :func:`gram_matrix`. What the style loss compares is chosen by ``style_input``:

    - ``"masked"`` (default, the authors' code): ``output * mask`` vs ``target * mask``;
    - ``"composite"``: ``output * mask + target * (1 - mask)`` vs ``target``;
    - ``"full"``: ``output`` vs ``target`` (the same activations as the perceptual loss: cheapest).

    ``mask=None`` counts as a mask that is all hole, so every ``style_input`` then compares the full images.

    All the inputs needed on the output side are stacked into one batch and go through VGG19 once, up to
    ``relu5_1``; same for the target side, under ``torch.no_grad()``. Images are ``(B, 3, H, W)`` in [0, 1].
    ``vgg=None`` calls :func:`edgeconnect_lib.vgg.load_vgg19` (which may fall back to random weights);
    ``self.source`` says which weights are in use.
    """

    def __init__(
        self,
        vgg: VGG19Features | None = None,
        perceptual_layers: Sequence[str] = PERCEPTUAL_LAYERS,
        style_layers: Sequence[str] = STYLE_LAYERS,
        perceptual_weights: Sequence[float] | None = None,
        style_input: str = "masked",
        source: str | None = None,
    ) -> None:
        super().__init__()
        if style_input not in STYLE_INPUTS:
            raise UsageError(f"style_input={style_input!r}: choose one of {STYLE_INPUTS}")
        if vgg is None:
            vgg, source = load_vgg19()
        self.vgg = vgg
        self.source = source if source is not None else "VGG19 given by the caller"
        self.perceptual_layers = tuple(perceptual_layers)
        self.style_layers = tuple(style_layers)
        weights = tuple(perceptual_weights) if perceptual_weights is not None else (1.0,) * len(self.perceptual_layers)
        if len(weights) != len(self.perceptual_layers):
            raise UsageError(
                f"perceptual_weights has {len(weights)} values for {len(self.perceptual_layers)} layers"
            )
        self.perceptual_weights = weights
        self.style_input = style_input
        self._layers = tuple(dict.fromkeys(self.perceptual_layers + self.style_layers))  # unique, ordered

    def forward(
        self, output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(L_perc, L_style)`` for ``output`` (with gradient) against ``target`` (no gradient)."""
        if output.shape != target.shape or output.dim() != 4 or output.shape[1] != 3:
            raise UsageError(
                f"PerceptualStyleLoss: output {tuple(output.shape)} and target {tuple(target.shape)} must both be "
                "RGB batches (B, 3, H, W) in [0, 1]"
            )
        if mask is not None and (
            mask.dim() != 4 or mask.shape[0] != output.shape[0] or mask.shape[2:] != output.shape[2:]
            or mask.shape[1] not in (1, 3)
        ):
            raise UsageError(f"PerceptualStyleLoss: mask {tuple(mask.shape)} must be (B, 1, H, W), 1 = hole")
        b = output.shape[0]
        style_mode = "full" if mask is None else self.style_input
        if mask is not None:
            mask = mask.to(output.dtype)

        # Output side: [output] (+ the style input when it differs), one VGG pass with gradient.
        out_batch = [output]
        if style_mode == "masked":
            out_batch.append(output * mask)
        elif style_mode == "composite":
            out_batch.append(output * mask + target * (1 - mask))
        feats_out = self.vgg(torch.cat(out_batch), self._layers)

        # Target side: [target] (+ target * mask), one VGG pass without gradient.
        with torch.no_grad():
            tgt_batch = [target] + ([target * mask] if style_mode == "masked" else [])
            feats_tgt = self.vgg(torch.cat(tgt_batch), self._layers)

        # L_perc = sum_i w_i * (1 / N_i) ||phi_i(output) - phi_i(target)||_1
        perceptual = output.new_zeros(())
        for w, name in zip(self.perceptual_weights, self.perceptual_layers):
            perceptual = perceptual + w * F.l1_loss(feats_out[name][:b], feats_tgt[name][:b])

        # L_style = sum_j ||G(phi_j(a)) - G(phi_j(b))||_1, a/b chosen by style_input
        a_slice = slice(0, b) if style_mode == "full" else slice(b, 2 * b)
        b_slice = slice(b, 2 * b) if style_mode == "masked" else slice(0, b)
        style = output.new_zeros(())
        for name in self.style_layers:
            style = style + F.l1_loss(gram_matrix(feats_out[name][a_slice]), gram_matrix(feats_tgt[name][b_slice]))
        return perceptual, style


# ---------------------------------------------------------------------------------------------------------
# The full generator objectives
# ---------------------------------------------------------------------------------------------------------
def balanced_bce(edges_pred: torch.Tensor, edges: torch.Tensor, masks: torch.Tensor | None = None) -> torch.Tensor:
    """Class-balanced binary cross-entropy of an edge map (HED, Xie & Tu 2015, Eq. 2); **not in EdgeConnect**.

    ``L = -beta * sum_{y=1} log p - (1 - beta) * sum_{y=0} log(1 - p)``, ``beta = |Y-| / |Y|`` per image, divided
    by the pixel count: edge pixels (a few percent of an image) weigh as much in all as the rest, so predicting
    "no edge" everywhere, the easy minimum of a plain cross-entropy, is not one. ``edges_pred``: probabilities
    (B, 1, H, W) in (0, 1); ``edges``: labels in {0, 1}; ``masks`` (optional, 1 = hole): count only hole pixels,
    where G1's edges are used. Computed in fp32 (also under autocast).
    """
    p = edges_pred.float().clamp(1e-6, 1 - 1e-6)
    y = (edges.float() > 0.5).float()
    region = torch.ones_like(y) if masks is None else (masks.float() > 0.5).float()
    pixels = region.flatten(1).sum(1).clamp_min(1.0)  # (B,)
    positives = (y * region).flatten(1).sum(1)
    beta = (1.0 - positives / pixels).view(-1, 1, 1, 1)  # share of non-edge pixels
    per_pixel = -(beta * y * torch.log(p) + (1 - beta) * (1 - y) * torch.log(1 - p)) * region
    return (per_pixel.flatten(1).sum(1) / pixels).mean()


def edge_generator_objective(
    fake_logits: torch.Tensor,
    real_features: Sequence[torch.Tensor],
    fake_features: Sequence[torch.Tensor],
    weights: LossWeights = LossWeights(),
    edges_pred: torch.Tensor | None = None,
    edges: torch.Tensor | None = None,
    masks: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """G1's objective (Sec. 3.1): ``L_G1 = lambda_adv1 * L_adv1 + lambda_FM * L_FM``.

    ``fake_logits, fake_features = D_edge(cat(gray, edges_pred))`` (no detach: the gradient reaches G1),
    ``real_features`` from ``D_edge(cat(gray, edges))``. Returns the weighted terms
    ``{"loss_G_adv", "loss_G_fm", "loss_G"}`` with ``loss_G`` their sum.

    With ``weights.edge_bce > 0`` (not in the paper) a term ``"loss_G_bce"`` = ``edge_bce *
    balanced_bce(edges_pred, edges, masks)`` over the hole is added; it needs ``edges_pred``, ``edges`` and ``masks``.
    """
    # lambda_adv1 * L_adv1
    adv = weights.edge_adv * generator_adversarial_loss(fake_logits, weights.gan)
    # lambda_FM * L_FM
    fm = weights.edge_fm * feature_matching_loss(real_features, fake_features)
    terms = {"loss_G_adv": adv, "loss_G_fm": fm}
    if weights.edge_bce > 0:
        if edges_pred is None or edges is None or masks is None:
            raise UsageError("edge_generator_objective: edge_bce > 0 needs edges_pred, edges and masks")
        terms["loss_G_bce"] = weights.edge_bce * balanced_bce(edges_pred, edges, masks)
    terms["loss_G"] = sum(terms.values())
    return terms


def inpaint_generator_objective(
    outputs: torch.Tensor,
    images: torch.Tensor,
    masks: torch.Tensor,
    fake_logits: torch.Tensor,
    perceptual_style: PerceptualStyleLoss | None,
    weights: LossWeights = LossWeights(),
    edges: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """G2's objective (Sec. 3.2): ``L_G2 = l_l1 L_l1 + l_adv2 L_adv2 + l_p L_perc + l_s L_style``.

    As in the authors' code every term uses G2's raw ``outputs`` (not the composite with the known pixels):
    ``L_l1 = masked_l1(outputs, images, masks)``, ``fake_logits = D_inpaint(outputs)`` (no detach), and
    ``perceptual_style(outputs, images, masks)`` for ``L_perc`` and ``L_style``. Returns the weighted terms
    ``{"loss_G_l1", "loss_G_adv", "loss_G_perc", "loss_G_style", "loss_G"}``.

    With ``perceptual_style=None``, or both VGG weights 0, VGG19 is not run and those two terms are 0.
    With ``weights.seam_l1 > 0`` (not in the paper) a term ``"loss_G_seam"`` = ``seam_l1 * seam_l1(...)`` is added,
    with ``weights.grad_l1 > 0`` (not in the paper either) a term ``"loss_G_grad"`` = ``grad_l1 * gradient_l1(...)``,
    and with ``weights.edge_grad_l1 > 0`` a term ``"loss_G_edge_grad"`` = ``edge_grad_l1 * edge_gradient_l1(...,
    edges)``; it needs ``edges``, the edge map G2 was given.
    """
    # lambda_l1 * L_l1 (normalised by the hole ratio)
    l1 = weights.l1 * masked_l1(outputs, images, masks)
    # lambda_adv2 * L_adv2
    adv = weights.inpaint_adv * generator_adversarial_loss(fake_logits, weights.gan)
    if perceptual_style is None or (weights.perceptual == 0 and weights.style == 0):
        perc = style = outputs.new_zeros(())
    else:
        perc_raw, style_raw = perceptual_style(outputs, images, masks)
        # lambda_p * L_perc, lambda_s * L_style
        perc, style = weights.perceptual * perc_raw, weights.style * style_raw
    terms = {"loss_G_l1": l1, "loss_G_adv": adv, "loss_G_perc": perc, "loss_G_style": style}
    if weights.seam_l1 > 0:
        # the course's extra weight on the first pixels inside the hole (not in the paper)
        terms["loss_G_seam"] = weights.seam_l1 * seam_l1(outputs, images, masks, weights.seam_width)
    if weights.grad_l1 > 0:
        # the course's stand-in for the structure the VGG19 losses reward (not in the paper)
        terms["loss_G_grad"] = weights.grad_l1 * gradient_l1(outputs, images, masks)
    if weights.edge_grad_l1 > 0:
        # the same on the lines G2 was given: draw them sharply (not in the paper)
        if edges is None:
            raise UsageError("inpaint_generator_objective: edge_grad_l1 > 0 needs edges, the edge map G2 was given")
        terms["loss_G_edge_grad"] = weights.edge_grad_l1 * edge_gradient_l1(outputs, images, masks, edges)
    terms["loss_G"] = sum(terms.values())
    return terms
