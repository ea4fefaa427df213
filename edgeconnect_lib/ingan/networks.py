"""InGAN's networks: the generator ``G(x; T)`` and the multi-scale patch discriminator (paper Sec. 4)."""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

from ..errors import UsageError
from .config import DISC_KINDS, MIN_OUTPUT_SIDE, check_output_size
from .geometry import GeometricTransform


def _norm(channels: int) -> nn.Module:
    # The official G uses batch norm with batch 1, i.e. statistics over the image: instance norm without
    # running statistics computes the same in training and, unlike BN's running averages, at test time too.
    return nn.InstanceNorm2d(channels, affine=True, track_running_stats=False)


class _ResBlock(nn.Module):
    """3x3 conv - norm - ReLU - 3x3 conv - norm, plus the input (a bottleneck block of the official G)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect"), _norm(channels), nn.ReLU(True),
            nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect"), _norm(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class InGANGenerator(nn.Module):
    """``G(x; T)``: the photo ``x`` (``(B, 3, h, w)`` in [-1, 1]) and a target geometry ``T`` -> an image of
    that geometry (``(B, 3, H, W)`` in [-1, 1]).

    entry (reflect-pad 7x7 conv, ``base_channels``) -> :class:`GeometricTransform` -> ``downsamples`` 3x3
    stride-2 convs (channels x2 each) -> ``residual_blocks`` -> up: bilinear upsampling to the size of the
    matching down level, 3x3 conv, plus that level (U-net skip) -> 7x7 conv to RGB, tanh. Sizes need not be
    multiples of anything: each up step returns to the exact size of its skip, so any output ``H x W``
    (from :data:`MIN_OUTPUT_SIDE` px) comes out as asked. ``skips=False`` (not the official network) drops the
    U-net additions, so the output is painted from the bottleneck alone and no resized full-resolution
    features reach it directly (issue 19's experiment).
    """

    def __init__(self, base_channels: int = 16, downsamples: int = 2, residual_blocks: int = 2,
                 skips: bool = True) -> None:
        super().__init__()
        c = base_channels
        self.skips = bool(skips)
        self.entry = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(3, c, 7), _norm(c), nn.ReLU(True))
        self.transform = GeometricTransform()
        self.downs = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c * 2**i, c * 2**(i + 1), 3, stride=2, padding=1, padding_mode="reflect"),
                          _norm(c * 2**(i + 1)), nn.ReLU(True)) for i in range(downsamples))
        cb = c * 2**downsamples
        self.bottleneck = nn.Sequential(*[_ResBlock(cb) for _ in range(residual_blocks)])
        self.ups = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c * 2**(i + 1), c * 2**i, 3, padding=1, padding_mode="reflect"),
                          _norm(c * 2**i), nn.ReLU(True)) for i in reversed(range(downsamples)))
        self.exit = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(c, 3, 7), nn.Tanh())
        self.config = {"base_channels": base_channels, "downsamples": downsamples, "residual_blocks": residual_blocks,
                       "skips": self.skips}

    def forward(self, x: torch.Tensor, size: tuple[int, int] | None = None,
                homography: torch.Tensor | None = None) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise UsageError(f"InGANGenerator: expected a (B, 3, H, W) image, got shape {tuple(x.shape)}")
        size = tuple(x.shape[-2:]) if size is None else check_output_size(size)
        smallest = max(MIN_OUTPUT_SIDE, 2 ** len(self.downs) + 1)
        if min(size) < smallest or min(x.shape[-2:]) < MIN_OUTPUT_SIDE:
            raise UsageError(f"size={size[0]}x{size[1]} (input {x.shape[-2]}x{x.shape[-1]}): this generator halves the "
                             f"image {len(self.downs)} times, so every side must be at least {smallest} px")
        f = self.transform(self.entry(x), size, homography)       # (B, C, H, W): the target geometry
        skips = [f]
        for down in self.downs:
            skips.append(down(skips[-1]))                          # (B, C*2^i, ~H/2^i, ~W/2^i)
        y = self.bottleneck(skips.pop())
        for up in self.ups:
            skip = skips.pop()
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = up(y) + skip if self.skips else up(y)              # back to the skip's exact size
        return self.exit(y)                                        # (B, 3, H, W) in [-1, 1]


class _PatchD(nn.Module):
    """One scale's discriminator, a map of realness scores. ``kind="course"``: four 3x3 spectral-norm convs
    (the second strided), one score per 13x13 patch of its pyramid level; ``kind="shallow"``: three unpadded
    3x3 spectral-norm convs, one score per 7x7 patch, the map 6 px smaller than the level."""

    def __init__(self, channels: int, kind: str = "course") -> None:
        super().__init__()
        c = channels
        if kind == "shallow":
            self.net = nn.Sequential(
                spectral_norm(nn.Conv2d(3, c, 3)), nn.LeakyReLU(0.2, True),
                spectral_norm(nn.Conv2d(c, 2 * c, 3)), nn.LeakyReLU(0.2, True),
                spectral_norm(nn.Conv2d(2 * c, 1, 3)))
            return
        if kind != "course":
            raise UsageError(f"disc_kind={kind!r}: choose one of {', '.join(DISC_KINDS)}")
        self.net = nn.Sequential(
            spectral_norm(nn.Conv2d(3, c, 3, padding=1)), nn.LeakyReLU(0.2, True),
            spectral_norm(nn.Conv2d(c, 2 * c, 3, stride=2, padding=1)), nn.LeakyReLU(0.2, True),
            spectral_norm(nn.Conv2d(2 * c, 2 * c, 3, padding=1)), nn.LeakyReLU(0.2, True),
            spectral_norm(nn.Conv2d(2 * c, 1, 3, padding=1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MultiScaleDiscriminator(nn.Module):
    """InGAN's multi-scale patch discriminator (paper Sec. 4): the image is taken at the levels of a pyramid
    with factor ``scale_factor`` (1.4) down to ``min_size`` px; each level has its own small fully
    convolutional discriminator, so at coarse levels its 13 px patches cover large structures. ``forward``
    returns the score map of every level that the image's size allows (fewer for small outputs)."""

    def __init__(self, input_size: tuple[int, int], channels: int = 32, scale_factor: float = 1.4,
                 min_size: int = 13, max_scales: int = 99, max_output_scale: float = 2.0, kind: str = "course") -> None:
        super().__init__()
        self.scale_factor, self.min_size = float(scale_factor), int(min_size)
        biggest = max_output_scale * min(input_size)
        n = 1 + max(0, int(math.floor(math.log(max(biggest, min_size) / min_size) / math.log(scale_factor))))
        self.levels = nn.ModuleList(_PatchD(channels, kind) for _ in range(min(n, max_scales)))
        self.config = {"input_size": list(input_size), "channels": channels, "scale_factor": scale_factor,
                       "min_size": min_size, "max_scales": max_scales, "max_output_scale": max_output_scale,
                       "kind": kind}

    def num_scales(self, size: Sequence[int]) -> int:
        """How many pyramid levels an image of ``size`` has (its shorter side stays >= ``min_size``)."""
        short = min(size)
        k = 1
        while k < len(self.levels) and short / self.scale_factor**k >= self.min_size:
            k += 1
        return k

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = []
        for k in range(self.num_scales(x.shape[-2:])):
            if k == 0:
                level = x
            else:
                size = [max(1, round(s / self.scale_factor**k)) for s in x.shape[-2:]]
                # in fp32 whatever the autocast (the antialiased resize has no bf16 kernel on the CPU)
                level = F.interpolate(x.float(), size=size, mode="bilinear", align_corners=False, antialias=True)
            outs.append(self.levels[k](level).float())              # (B, 1, ~h_k/2, ~w_k/2), fp32 scores
        return outs


def scale_weights(num_scales: int, iteration: int, even_iteration: int, sigma: float = 1.4) -> torch.Tensor:
    """Weights of the discriminator's levels (sum 1): ``w_k ~ sigma^(k (1 - t))``, ``t = iteration /
    even_iteration`` capped at 1, level ``k = 0`` the finest. Early on the coarse levels count most (the
    global arrangement is learnt first); from ``even_iteration`` on all levels count the same (official code:
    sigma 1.4, even after 25k iterations)."""
    t = 1.0 if even_iteration <= 0 else min(1.0, iteration / even_iteration)
    w = torch.tensor([sigma ** (k * (1.0 - t)) for k in range(num_scales)], dtype=torch.float32)
    return w / w.sum()
