"""InGAN's generator objective (paper Sec. 3, Eq. 1-3) and the per-level weighting of the discriminator."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..losses import generator_adversarial_loss
from .geometry import valid_region
from .networks import InGANGenerator, MultiScaleDiscriminator


def weighted_levels(maps: list[torch.Tensor], weights: torch.Tensor, term) -> torch.Tensor:
    return sum(float(w) * term(m) for w, m in zip(weights, maps))


def discriminator_levels(maps: list[torch.Tensor], weights: torch.Tensor, real: bool) -> torch.Tensor:
    """D's least-squares term over the levels (Eq. 2): ``sum_k w_k (D_k(y) - 1)^2`` for a real ``y``,
    ``sum_k w_k D_k(y)^2`` for a fake one."""
    label = 1.0 if real else 0.0
    return weighted_levels(maps, weights, lambda m: F.mse_loss(m, torch.full_like(m, label)))


def ingan_losses(G: InGANGenerator, D: MultiScaleDiscriminator, x: torch.Tensor, fake: torch.Tensor,
                 size_in: tuple[int, int], homography: torch.Tensor | None, weights_fake: torch.Tensor,
                 lambda_cycle: float = 0.1, lambda_identity: float = 0.0,
                 target: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """The generator's objective for one geometry ``T`` (``fake = G(x; T)``, already computed):

    ``loss_G_adv = sum_k w_k (D_k(G(x; T)) - 1)^2``                       (Eq. 2, least squares, per level)
    ``loss_G_cycle = || G(G(x; T); T^-1) - x ||_1`` over the pixels T keeps in frame     (Eq. 3)
    ``loss_G_identity = || G(x; I) - x ||_1``                                (Eq. 3 with T = I)
    ``loss_G = loss_G_adv + lambda_cycle * loss_G_cycle + lambda_identity * loss_G_identity``   (Eq. 1)

    ``target`` is the clean photo the reconstructions are compared with (default ``x``).
    """
    target = x if target is None else target
    out: dict[str, torch.Tensor] = {}
    out["loss_G_adv"] = weighted_levels(D(fake), weights_fake, lambda m: generator_adversarial_loss(m, "lsgan"))
    zero = fake.new_zeros(())
    if lambda_cycle > 0:
        inverse = None if homography is None else torch.linalg.inv(homography.to(torch.float64))
        back = G(fake, size_in, inverse)                                  # G(G(x; T); T^-1)
        if homography is None:
            out["loss_G_cycle"] = (back - target).abs().mean()
        else:
            keep = valid_region(homography, *size_in, x.device)            # (1, 1, h, w)
            out["loss_G_cycle"] = ((back - target).abs() * keep).sum() / (keep.sum() * 3 * x.shape[0]).clamp_min(1)
    else:
        out["loss_G_cycle"] = zero
    out["loss_G_identity"] = (G(x) - target).abs().mean() if lambda_identity > 0 else zero   # G(x; I) ~ x
    out["loss_G"] = out["loss_G_adv"] + lambda_cycle * out["loss_G_cycle"] + lambda_identity * out["loss_G_identity"]
    return out
