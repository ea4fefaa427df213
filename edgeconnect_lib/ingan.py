"""InGAN (bonus chapter): one GAN per image that retargets it to any size or shape (lesson 11).

Shocher, Bagon, Isola and Irani, *InGAN: Capturing and Retargeting the "DNA" of a Natural Image*, ICCV 2019.
A generator ``G(x; T)`` takes the image ``x`` and a geometric transform ``T`` (an output size, or a 3x3
homography) and paints an image of that geometry whose patches, at every scale, look like the patches of
``x``; a multi-scale patch discriminator ``D`` judges that. Nothing but the one photo is needed to train.

The objective (paper Sec. 3, Eq. 1-3; the official code's weights):

    L_InGAN = L_GAN(G, D) + lambda_cyc * L_reconst                                  (Eq. 1)
    L_GAN   = E_y[(D(y) - 1)^2] + E_x[D(G(x; T))^2]    (least squares, per D scale)   (Eq. 2)
    L_reconst = || G(G(x; T); T^-1) - x ||_1           (the cycle back to the input)   (Eq. 3)

with ``lambda_cyc = 0.1``. We add the cycle's simplest case as a term of its own, the reconstruction
through the identity transform ``L_id = || G(x; I) - x ||_1`` (weight ``lambda_identity``; 0 in the
``paper`` preset): a generator that keeps the input's geometry must give the input back, which teaches
a small CPU model the photo's appearance far sooner than the cycle alone.

Pieces (each class cites what it follows):

- :class:`GeometricTransform`, the layer that resizes or warps a feature map (``grid_sample`` of
  ``H^-1 q`` for every output position ``q``, in normalised coordinates, so a resize is the identity
  homography at another output size);
- :class:`InGANGenerator`: 7x7 entry conv -> the transform -> strided down convs -> residual blocks ->
  up convs with skips to exactly the requested size -> tanh (official code: 3 downs, 6 blocks);
- :class:`MultiScaleDiscriminator`: one small fully convolutional patch discriminator per level of a
  pyramid with factor 1.4 (down to 13 px), coarse scales weighted more early in training;
- :func:`ingan_losses`: Eq. 1-3 plus ``L_id``, adversarial terms from :mod:`edgeconnect_lib.losses`
  (``lsgan``);
- :class:`InGANTrainer`: Adam (beta1 0.5), curriculum on the output scales, linear lr decay, checkpoints
  written with :func:`~edgeconnect_lib.checkpoints.atomic_save`, ``resume`` from
  :func:`~edgeconnect_lib.checkpoints.readable_checkpoint`, seeded and deterministic on the CPU;
- :class:`InGAN`: a trained generator and its photo: ``retarget(size)`` / ``retarget(homography=...)``;
- :func:`patch_distance`: the "same DNA" check, a sliced Wasserstein distance between the 7x7 patches of
  two images at 3 pyramid levels, and :func:`bicubic_retarget`, the baseline it is compared with.

Command line: ``python -m edgeconnect_lib ingan train --image X --out RUN`` and
``python -m edgeconnect_lib ingan retarget --checkpoint RUN --size 96x192 --out out.png``.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple, Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

from .checkpoints import EXPORT_KEYS, atomic_save, export_weights, list_checkpoints, load_checkpoint, readable_checkpoint, suppress_os_errors
from .images import load_image
from .losses import generator_adversarial_loss
from .train import CsvLog
from .utils import describe_device, pick_device, seed_everything

__all__ = [
    "InGANConfig",
    "INGAN_PRESETS",
    "get_ingan_config",
    "INGAN_FORMAT",
    "MIN_OUTPUT_SIDE",
    "MAX_OUTPUT_SIDE",
    "MAX_OUTPUT_FACTOR",
    "check_output_size",
    "parse_size",
    "identity_homography",
    "scale_homography",
    "homography_from_corners",
    "as_homography",
    "GeometricTransform",
    "InGANGenerator",
    "MultiScaleDiscriminator",
    "scale_weights",
    "ingan_losses",
    "InGANTrainer",
    "InGANResult",
    "InGAN",
    "prepare_image",
    "bicubic_retarget",
    "bicubic_warp",
    "patch_distance",
    "PatchDistance",
    "export_ingan",
]

#: ``format`` entry of an InGAN checkpoint (the EdgeConnect trainer's is ``edgeconnect_lib.trainer/1``).
INGAN_FORMAT = "edgeconnect_lib.ingan/1"
#: Smallest output side the generator paints (its 7x7 entry/exit convolutions reflect-pad 3 px).
MIN_OUTPUT_SIDE = 8
#: Largest output side in pixels (memory: the feature maps of a 4096 px side already take gigabytes).
MAX_OUTPUT_SIDE = 4096
#: Largest output side as a multiple of the input's (beyond it the patches are stretched far past training).
MAX_OUTPUT_FACTOR = 8.0


# ----------------------------------------------------------------------------------------------------------
# Settings
# ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InGANConfig:
    """Settings of one InGAN run (frozen; ``INGAN_PRESETS`` names the usual ones, ``paper`` = official code).

    Sizes: the photo is resized so that its longer side is ``image_size`` px; during training the output
    height and width are ``scale * input`` with scales drawn in ``[min_scale, max_scale]`` (the range widens
    linearly from 1 over ``curriculum_iterations``), and with probability ``homography_probability`` the
    geometry is also warped by a random homography whose corners move by up to ``homography_magnitude``
    (in normalised units, the frame spans [-1, 1]).
    """

    image_size: int = 64
    base_channels: int = 16
    downsamples: int = 2
    residual_blocks: int = 2
    disc_channels: int = 32
    disc_scale_factor: float = 1.4
    disc_min_size: int = 13
    disc_max_scales: int = 99
    scale_weights_sigma: float = 1.4
    even_scales_iteration: int = 3000
    iterations: int = 6000
    lr: float = 2e-4
    disc_lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    lr_decay_start: int = 3000
    min_scale: float = 0.5
    max_scale: float = 2.0
    curriculum_iterations: int = 2000
    homography_probability: float = 0.25
    homography_magnitude: float = 0.15
    lambda_cycle: float = 0.1
    lambda_identity: float = 0.1
    input_noise: float = 1.0 / 255.0
    seed: int = 0
    device: str = "auto"
    save_every: int = 500
    keep_last: int = 2
    log_every: int = 25
    progress: bool = True

    def __post_init__(self) -> None:
        positive = ("image_size", "base_channels", "disc_channels", "disc_min_size", "disc_max_scales",
                    "iterations", "save_every", "keep_last", "log_every")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"InGANConfig.{name}={value!r}: must be a positive whole number")
        for name in ("downsamples", "residual_blocks", "even_scales_iteration", "lr_decay_start",
                     "curriculum_iterations"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"InGANConfig.{name}={value!r}: must be a whole number >= 0")
        if self.image_size < 16 or self.image_size > MAX_OUTPUT_SIDE // 2:
            raise ValueError(f"InGANConfig.image_size={self.image_size}: the photo's longer side must be in "
                             f"16..{MAX_OUTPUT_SIDE // 2} px (64 trains in minutes on a CPU, 256 is the paper's)")
        if self.downsamples > 5:
            raise ValueError(f"InGANConfig.downsamples={self.downsamples}: at most 5 (the official code uses 3)")
        if not 1.0 < self.disc_scale_factor <= 4.0:
            raise ValueError(f"InGANConfig.disc_scale_factor={self.disc_scale_factor}: must be in (1, 4] "
                             "(the paper's pyramid uses 1.4)")
        if not 0.0 < self.min_scale <= 1.0 <= self.max_scale <= MAX_OUTPUT_FACTOR:
            raise ValueError(f"InGANConfig.min_scale={self.min_scale}, max_scale={self.max_scale}: need "
                             f"0 < min_scale <= 1 <= max_scale <= {MAX_OUTPUT_FACTOR:g} (paper: 0.15 and 2.25)")
        if not 0.0 <= self.homography_probability <= 1.0:
            raise ValueError(f"InGANConfig.homography_probability={self.homography_probability}: must be in [0, 1]")
        if not 0.0 <= self.homography_magnitude <= 0.5:
            raise ValueError(f"InGANConfig.homography_magnitude={self.homography_magnitude}: must be in [0, 0.5] "
                             "(corner shifts in normalised units; larger folds the frame)")
        for name in ("lr", "disc_lr"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise ValueError(f"InGANConfig.{name}={getattr(self, name)!r}: must be a positive number")
        for name in ("lambda_cycle", "lambda_identity", "input_noise", "scale_weights_sigma"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) >= 0):
                raise ValueError(f"InGANConfig.{name}={getattr(self, name)!r}: must be a finite number >= 0")
        if not (0.0 <= self.beta1 < 1.0 and 0.0 <= self.beta2 < 1.0):
            raise ValueError(f"InGANConfig.beta1/beta2=({self.beta1}, {self.beta2}): Adam betas must be in [0, 1)")
        pick_device(self.device)  # a clear error for a device this machine lacks

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Named settings: ``cpu`` learns visibly in minutes on a laptop; ``paper`` follows the official code
#: (256 px, 64 channels, 3 downs, 6 blocks, lr 5e-5 with linear decay after 20k of 75k iterations, output
#: scales 0.15-2.25 reached after 10k, scale weights even after 25k, cycle weight 0.1, no identity term).
INGAN_PRESETS: dict[str, dict[str, Any]] = {
    "cpu": {},
    "tiny": dict(image_size=32, base_channels=8, downsamples=1, residual_blocks=1, disc_channels=8,
                 iterations=40, even_scales_iteration=20, lr_decay_start=20, curriculum_iterations=20,
                 save_every=20, log_every=5, lr=1e-3, disc_lr=1e-3, lambda_identity=1.0),
    "paper": dict(image_size=256, base_channels=64, downsamples=3, residual_blocks=6, disc_channels=64,
                  iterations=75000, lr=5e-5, disc_lr=5e-5, lr_decay_start=20000, min_scale=0.15, max_scale=2.25,
                  curriculum_iterations=10000, even_scales_iteration=25000, homography_probability=0.0,
                  homography_magnitude=0.0, lambda_cycle=0.1, lambda_identity=0.0, save_every=5000,
                  log_every=100),
}


def get_ingan_config(preset: str = "cpu", **overrides: Any) -> InGANConfig:
    """The ``preset``'s :class:`InGANConfig` with ``overrides``; unknown names are refused with the list."""
    if preset not in INGAN_PRESETS:
        raise ValueError(f"preset={preset!r}: unknown InGAN preset; choose one of {tuple(INGAN_PRESETS)}")
    known = {f.name for f in fields(InGANConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown InGAN setting(s) {unknown}; known: {sorted(known)}")
    return InGANConfig(**{**INGAN_PRESETS[preset], **overrides})


# ----------------------------------------------------------------------------------------------------------
# Geometry: sizes and homographies (normalised coordinates: x right, y down, the frame spans [-1, 1])
# ----------------------------------------------------------------------------------------------------------
def _side(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name}={value!r}: an output side must be a whole number of pixels, e.g. 96")
    return int(value)


def check_output_size(size: Sequence[int], input_size: Sequence[int] | None = None,
                      name: str = "size") -> tuple[int, int]:
    """``(height, width)`` of an output, checked: each side in ``MIN_OUTPUT_SIDE..MAX_OUTPUT_SIDE`` px and,
    given the input's ``(height, width)``, at most ``MAX_OUTPUT_FACTOR`` times its side. Raises a
    ``ValueError`` naming ``name`` and the fix."""
    try:
        h, w = size
    except (TypeError, ValueError):
        raise ValueError(f"{name}={size!r}: give (height, width), e.g. (64, 128) or '64x128'") from None
    h, w = _side(h, f"{name} height"), _side(w, f"{name} width")
    for side, label in ((h, "height"), (w, "width")):
        if side <= 0:
            raise ValueError(f"{name}={h}x{w}: the {label} must be positive (at least {MIN_OUTPUT_SIDE} px)")
        if side < MIN_OUTPUT_SIDE:
            raise ValueError(f"{name}={h}x{w}: the {label} {side} px is below the smallest output side, "
                             f"{MIN_OUTPUT_SIDE} px: give at least {MIN_OUTPUT_SIDE}")
        if side > MAX_OUTPUT_SIDE:
            raise ValueError(f"{name}={h}x{w}: the {label} {side} px is above {MAX_OUTPUT_SIDE} px: give a "
                             "smaller size (or retarget a smaller copy and upscale it)")
    if input_size is not None:
        for side, base, label in ((h, input_size[0], "height"), (w, input_size[1], "width")):
            if side > MAX_OUTPUT_FACTOR * base:
                raise ValueError(f"{name}={h}x{w}: the {label} {side} px is more than {MAX_OUTPUT_FACTOR:g}x the "
                                 f"input's {base} px: give at most {int(MAX_OUTPUT_FACTOR * base)} (the generator "
                                 "was trained at scales up to its max_scale)")
    return h, w


def parse_size(text: str, name: str = "--size") -> tuple[int, int]:
    """``"64x128"`` (height x width) -> ``(64, 128)``; a ``ValueError`` naming ``name`` otherwise."""
    parts = str(text).lower().replace("*", "x").split("x")
    if len(parts) != 2:
        raise ValueError(f"{name} {text!r}: give HEIGHTxWIDTH in pixels, e.g. 64x128")
    try:
        h, w = (int(p.strip()) for p in parts)
    except ValueError:
        raise ValueError(f"{name} {text!r}: give HEIGHTxWIDTH as whole numbers, e.g. 64x128") from None
    return h, w


def identity_homography() -> torch.Tensor:
    """The 3x3 identity: with another output size, a pure resize (a frame that spans [-1, 1] still does)."""
    return torch.eye(3, dtype=torch.float64)


def scale_homography(sx: float, sy: float) -> torch.Tensor:
    """Zoom about the centre by ``sx`` horizontally and ``sy`` vertically (``> 1``: the content grows)."""
    return torch.tensor([[sx, 0.0, 0.0], [0.0, sy, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)


def homography_from_corners(corners: Sequence[Sequence[float]]) -> torch.Tensor:
    """The homography that moves the frame's corners ``(-1,-1), (1,-1), (1,1), (-1,1)`` (top-left, clockwise)
    to ``corners`` (4 points ``(x, y)``, normalised): the direct linear transform, 8 equations, h33 = 1."""
    src = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
    dst = np.asarray(corners, dtype=np.float64)
    if dst.shape != (4, 2) or not np.isfinite(dst).all():
        raise ValueError(f"corners={corners!r}: give 4 finite (x, y) points (top-left, top-right, bottom-right, "
                         "bottom-left) in normalised coordinates")
    a, b = [], []
    for (x, y), (u, v) in zip(src, dst):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y]); b.append(u)
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y]); b.append(v)
    try:
        h = np.linalg.solve(np.array(a), np.array(b))
    except np.linalg.LinAlgError:
        raise ValueError(f"corners={corners!r}: three of the points are on one line (no homography)") from None
    return torch.tensor(np.append(h, 1.0).reshape(3, 3), dtype=torch.float64)


def as_homography(matrix: Any, name: str = "homography") -> torch.Tensor:
    """A checked, normalised (``h33 = 1``) float64 3x3 homography from 9 numbers or a 3x3 array."""
    m = torch.as_tensor(np.asarray(matrix, dtype=np.float64)).reshape(-1) if not torch.is_tensor(matrix) \
        else matrix.detach().to(torch.float64).cpu().reshape(-1)
    if m.numel() != 9:
        raise ValueError(f"{name}: a homography is 9 numbers (a 3x3 matrix, row by row), got {m.numel()}")
    m = m.reshape(3, 3)
    if not torch.isfinite(m).all():
        raise ValueError(f"{name}: the matrix holds NaN or infinity")
    det = float(torch.linalg.det(m))
    if abs(det) < 1e-8:
        raise ValueError(f"{name}: the matrix is singular (determinant {det:.3g}); it has no inverse, so no cycle "
                         "back to the input; give an invertible one, e.g. 1 0 0 0 1 0 0 0 1")
    if abs(float(m[2, 2])) > 1e-12:
        m = m / m[2, 2]
    return m


def _project(h: torch.Tensor, pts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply ``h`` (3x3) to points ``(..., 2)``; returns the projected points and the homogeneous ``w``."""
    ones = torch.ones_like(pts[..., :1])
    p = torch.cat([pts, ones], dim=-1) @ h.T.to(pts.dtype)
    w = p[..., 2:3]
    safe = torch.where(w.abs() < 1e-8, torch.full_like(w, 1e-8), w)
    return p[..., :2] / safe, w


def _grid(height: int, width: int, device: torch.device, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Pixel centres of an ``height x width`` frame in normalised coordinates (``align_corners=False``): (H, W, 2)."""
    ys = (torch.arange(height, device=device, dtype=dtype) * 2 + 1) / height - 1
    xs = (torch.arange(width, device=device, dtype=dtype) * 2 + 1) / width - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy], dim=-1)


def valid_region(homography: torch.Tensor, height: int, width: int, device: torch.device) -> torch.Tensor:
    """``(1, 1, H, W)`` mask of the input pixels that ``homography`` maps inside the output frame: only they
    can come back through ``T^-1``, so the cycle loss (Eq. 3) is taken over them."""
    # float64 on the CPU (MPS has no float64), then to ``device``
    q, w = _project(homography.cpu(), _grid(height, width, torch.device("cpu"), torch.float64))
    inside = (q.abs() <= 1.0).all(dim=-1) & (w[..., 0] > 0)
    return inside.to(torch.float32)[None, None].to(device)


class GeometricTransform(nn.Module):
    """The geometric transform layer of InGAN's generator (paper Sec. 4, Fig. 4): resample a feature map to
    the output geometry ``T`` = (output size, homography ``H``).

    For every output position ``q`` (normalised, the frame spans [-1, 1] whatever its size) the layer reads
    the input at ``p = H^-1 q`` with bilinear ``grid_sample``; ``H = I`` is a resize to the output size
    (aspect ratio free). Positions mapped outside the input read its reflection (``padding_mode="reflection"``).
    """

    def forward(self, x: torch.Tensor, size: tuple[int, int], homography: torch.Tensor | None = None) -> torch.Tensor:
        h, w = size
        if homography is None:
            if (h, w) == tuple(x.shape[-2:]):
                return x
            # a pure resize: the same sampling positions as grid_sample with H = I, done by interpolate
            return F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
        inv = torch.linalg.inv(homography.detach().cpu().to(torch.float64))
        # p = H^-1 q, (H, W, 2): float64 on the CPU (MPS has no float64), then to the features' device and dtype
        p, _ = _project(inv.cpu(), _grid(h, w, torch.device("cpu"), torch.float64))
        grid = p.to(device=x.device, dtype=x.dtype).unsqueeze(0).expand(x.shape[0], -1, -1, -1)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


# ----------------------------------------------------------------------------------------------------------
# Networks
# ----------------------------------------------------------------------------------------------------------
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
    (from :data:`MIN_OUTPUT_SIDE` px) comes out as asked.
    """

    def __init__(self, base_channels: int = 16, downsamples: int = 2, residual_blocks: int = 2) -> None:
        super().__init__()
        c = base_channels
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
        self.config = {"base_channels": base_channels, "downsamples": downsamples, "residual_blocks": residual_blocks}

    def forward(self, x: torch.Tensor, size: tuple[int, int] | None = None,
                homography: torch.Tensor | None = None) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"InGANGenerator: expected a (B, 3, H, W) image, got shape {tuple(x.shape)}")
        size = tuple(x.shape[-2:]) if size is None else check_output_size(size)
        smallest = max(MIN_OUTPUT_SIDE, 2 ** len(self.downs) + 1)
        if min(size) < smallest or min(x.shape[-2:]) < MIN_OUTPUT_SIDE:
            raise ValueError(f"size={size[0]}x{size[1]} (input {x.shape[-2]}x{x.shape[-1]}): this generator halves the "
                             f"image {len(self.downs)} times, so every side must be at least {smallest} px")
        f = self.transform(self.entry(x), size, homography)       # (B, C, H, W): the target geometry
        skips = [f]
        for down in self.downs:
            skips.append(down(skips[-1]))                          # (B, C*2^i, ~H/2^i, ~W/2^i)
        y = self.bottleneck(skips.pop())
        for up in self.ups:
            skip = skips.pop()
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = up(y) + skip                                       # back to the skip's exact size
        return self.exit(y)                                        # (B, 3, H, W) in [-1, 1]


class _PatchD(nn.Module):
    """One scale's discriminator: four 3x3 spectral-norm convs (the second strided), a map of realness
    scores, one per 13x13 patch of its pyramid level."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        c = channels
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
                 min_size: int = 13, max_scales: int = 99, max_output_scale: float = 2.0) -> None:
        super().__init__()
        self.scale_factor, self.min_size = float(scale_factor), int(min_size)
        biggest = max_output_scale * min(input_size)
        n = 1 + max(0, int(math.floor(math.log(max(biggest, min_size) / min_size) / math.log(scale_factor))))
        self.levels = nn.ModuleList(_PatchD(channels) for _ in range(min(n, max_scales)))
        self.config = {"input_size": list(input_size), "channels": channels, "scale_factor": scale_factor,
                       "min_size": min_size, "max_scales": max_scales, "max_output_scale": max_output_scale}

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
                level = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
            outs.append(self.levels[k](level))                      # (B, 1, ~h_k/2, ~w_k/2)
        return outs


def scale_weights(num_scales: int, iteration: int, even_iteration: int, sigma: float = 1.4) -> torch.Tensor:
    """Weights of the discriminator's levels (sum 1): ``w_k ~ sigma^(k (1 - t))``, ``t = iteration /
    even_iteration`` capped at 1, level ``k = 0`` the finest. Early on the coarse levels count most (the
    global arrangement is learnt first); from ``even_iteration`` on all levels count the same (official code:
    sigma 1.4, even after 25k iterations)."""
    t = 1.0 if even_iteration <= 0 else min(1.0, iteration / even_iteration)
    w = torch.tensor([sigma ** (k * (1.0 - t)) for k in range(num_scales)], dtype=torch.float32)
    return w / w.sum()


# ----------------------------------------------------------------------------------------------------------
# Losses (Eq. 1-3)
# ----------------------------------------------------------------------------------------------------------
def _weighted(maps: list[torch.Tensor], weights: torch.Tensor, term) -> torch.Tensor:
    return sum(float(w) * term(m) for w, m in zip(weights, maps))


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
    out["loss_G_adv"] = _weighted(D(fake), weights_fake, lambda m: generator_adversarial_loss(m, "lsgan"))
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


# ----------------------------------------------------------------------------------------------------------
# Images
# ----------------------------------------------------------------------------------------------------------
def prepare_image(image: Any, image_size: int) -> np.ndarray:
    """The training photo: an ``H x W x 3`` float array in [0, 1] (or a path) resized (area) so that its
    longer side is ``image_size`` px, quantised to 8 bits (the checkpoint stores it as ``uint8``)."""
    arr = load_image(image) if isinstance(image, (str, Path)) else np.asarray(image, dtype=np.float32)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"image: expected an H x W x 3 RGB array, got shape {arr.shape}")
    h, w = arr.shape[:2]
    if min(h, w) < MIN_OUTPUT_SIDE:
        raise ValueError(f"image: {w}x{h} px is too small; its shorter side must be at least {MIN_OUTPUT_SIDE} px")
    s = image_size / max(h, w)
    nh, nw = max(MIN_OUTPUT_SIDE, round(h * s)), max(MIN_OUTPUT_SIDE, round(w * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    arr = cv2.resize(np.clip(arr, 0, 1), (nw, nh), interpolation=interp) if (nh, nw) != (h, w) else arr
    return (np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8).astype(np.float32) / 255.0


def _to_tensor(image: np.ndarray, device: torch.device) -> torch.Tensor:
    """``H x W x 3`` in [0, 1] -> ``(1, 3, H, W)`` in [-1, 1] on ``device``."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float()[None].to(device) * 2 - 1


def _to_image(x: torch.Tensor) -> np.ndarray:
    """``(1, 3, H, W)`` in [-1, 1] -> ``H x W x 3`` float32 in [0, 1]."""
    return ((x[0].detach().float().cpu().clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy().astype(np.float32)


def bicubic_retarget(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The baseline: ``cv2.resize(..., INTER_CUBIC)`` of ``image`` (``H x W x 3``, [0, 1]) to ``size`` (h, w)."""
    h, w = check_output_size(size)
    return np.clip(cv2.resize(np.asarray(image, np.float32), (w, h), interpolation=cv2.INTER_CUBIC), 0, 1)


def bicubic_warp(image: np.ndarray, homography: Any, size: tuple[int, int] | None = None) -> np.ndarray:
    """The baseline for a homography: ``cv2.warpPerspective`` (bicubic, reflected border) of ``image`` by the
    same normalised homography the generator takes, to ``size`` (default the input's)."""
    hh, ww = image.shape[:2]
    h, w = check_output_size(size or (hh, ww))
    m = as_homography(homography).numpy()
    # pixel -> normalised: u = (2 px + 1) / W - 1, in the input and output frames
    to_norm_in = np.array([[2 / ww, 0, 1 / ww - 1], [0, 2 / hh, 1 / hh - 1], [0, 0, 1]])
    to_pix_out = np.linalg.inv(np.array([[2 / w, 0, 1 / w - 1], [0, 2 / h, 1 / h - 1], [0, 0, 1]]))
    pix = to_pix_out @ m @ to_norm_in
    out = cv2.warpPerspective(np.asarray(image, np.float32), pix, (w, h), flags=cv2.INTER_CUBIC,
                              borderMode=cv2.BORDER_REFLECT_101)
    return np.clip(out, 0, 1)


# ----------------------------------------------------------------------------------------------------------
# The "same DNA" measure
# ----------------------------------------------------------------------------------------------------------
class PatchDistance(NamedTuple):
    """Sliced Wasserstein distances between two images' patch sets, per pyramid level (finest first)."""

    levels: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.levels))


def _patches(image: np.ndarray, patch: int, max_patches: int, rng: np.random.Generator) -> np.ndarray:
    """Every ``patch x patch`` window (stride 1) of ``image`` as a row of ``patch*patch*3`` values."""
    win = np.lib.stride_tricks.sliding_window_view(image, (patch, patch), axis=(0, 1))  # (h', w', 3, p, p)
    rows = win.reshape(-1, win.shape[2] * patch * patch)
    if rows.shape[0] > max_patches:
        rows = rows[np.sort(rng.choice(rows.shape[0], max_patches, replace=False))]
    return rows.astype(np.float64)


def patch_distance(a: np.ndarray, b: np.ndarray, patch: int = 7, levels: int = 3, projections: int = 128,
                   quantiles: int = 256, max_patches: int = 20000, seed: int = 0) -> PatchDistance:
    """How far apart the patch distributions of images ``a`` and ``b`` (``H x W x 3``, [0, 1], sizes may
    differ) are: at each of ``levels`` Gaussian pyramid levels (``cv2.pyrDown``), the sliced Wasserstein-1
    distance between their sets of ``patch x patch`` RGB patches,

        SWD(A, B) = mean over random unit directions u of  mean_q | F^-1_{A.u}(q) - F^-1_{B.u}(q) |

    (the 1-D Wasserstein distance of the projected patches, from ``quantiles`` quantiles). Identical images
    give 0; the same directions (``seed``) are used for both images, so the measure is deterministic. It is
    the retargeting paper's "same DNA" claim as a number: a good retarget keeps the input's patches.
    """
    rng = np.random.default_rng(seed)
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    for name, img in (("a", a), ("b", b)):
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f"patch_distance: {name} must be H x W x 3, got shape {img.shape}")
        if min(img.shape[:2]) < patch * 2 ** (levels - 1):
            raise ValueError(f"patch_distance: {name} is {img.shape[1]}x{img.shape[0]} px, too small for "
                             f"{patch}x{patch} patches at {levels} levels (shorter side >= {patch * 2 ** (levels - 1)}); "
                             "use fewer levels or a smaller patch")
    dirs = rng.standard_normal((patch * patch * 3, projections))
    dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)
    qs = (np.arange(quantiles) + 0.5) / quantiles
    out = []
    for level in range(levels):
        pa = _patches(a, patch, max_patches, rng) @ dirs                  # (Na, projections)
        pb = _patches(b, patch, max_patches, rng) @ dirs
        out.append(float(np.abs(np.quantile(pa, qs, axis=0) - np.quantile(pb, qs, axis=0)).mean()))
        if level + 1 < levels:
            a, b = cv2.pyrDown(a), cv2.pyrDown(b)
    return PatchDistance(tuple(out))


# ----------------------------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------------------------
class InGANResult(NamedTuple):
    """What :meth:`InGANTrainer.fit` returns: the trained model, the iteration reached, the last checkpoint,
    and the logged rows (``iteration``, losses, ``seconds``)."""

    model: "InGAN"
    iteration: int
    checkpoint: Path | None
    history: list[dict[str, float]]


class InGANTrainer:
    """Train InGAN on one photo (official code's loop, ``InGAN.train_one_iter``), with this course's habits.

    Each iteration draws a geometry ``T`` (output scales in the curriculum's range, sometimes a homography),
    makes ``fake = G(x; T)``, takes one discriminator step on ``x`` vs ``fake.detach()`` (``L_GAN``, Eq. 2,
    halved as in :func:`~edgeconnect_lib.losses.discriminator_loss`), then one generator step on
    :func:`ingan_losses` (Eq. 1) with a fresh D forward. Adam with ``beta1 = 0.5``; the learning rate decays
    linearly to 0 from ``lr_decay_start`` to ``iterations``.

    ``out_dir`` receives ``checkpoints/ckpt_NNNNNNNN.pt`` (atomic writes, the last ``keep_last`` kept; weights,
    optimisers, the photo as ``uint8``, the sampler's RNG state, the config), ``log.csv`` and ``config.json``.
    ``resume=True`` continues from the newest readable checkpoint (unreadable newer ones are skipped and
    named); ``resume=PATH`` from that file. Every random draw after the weights' seeded initialisation comes
    from one ``torch.Generator`` saved in the checkpoint, so on the CPU N iterations in one go and N/2 + resume
    + N/2 give the same weights (tested).
    """

    def __init__(self, cfg: InGANConfig, image: Any, out_dir: str | Path | None = None, *,
                 resume: bool | str | Path = False, verbose: bool = True) -> None:
        self.cfg, self.verbose = cfg, verbose
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.device = pick_device(cfg.device)
        ckpt = self._resume_checkpoint(resume) if resume else None
        if ckpt is not None:
            photo = ckpt["extra"]["image"].numpy().astype(np.float32) / 255.0
            self.image_name = str(ckpt["extra"].get("image_name", "image"))
        else:
            if image is None:
                raise ValueError("image: give the photo to train on (a path or an H x W x 3 array)")
            photo = prepare_image(image, cfg.image_size)
            self.image_name = Path(image).name if isinstance(image, (str, Path)) else "array"
        self.image = photo                                             # (h, w, 3) in [0, 1]
        self.input_size = tuple(photo.shape[:2])
        seed_everything(cfg.seed)
        self.G = InGANGenerator(cfg.base_channels, cfg.downsamples, cfg.residual_blocks).to(self.device)
        self.D = MultiScaleDiscriminator(self.input_size, cfg.disc_channels, cfg.disc_scale_factor, cfg.disc_min_size,
                                         cfg.disc_max_scales, cfg.max_scale).to(self.device)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=cfg.disc_lr, betas=(cfg.beta1, cfg.beta2))
        self.rng = torch.Generator().manual_seed(cfg.seed)
        self.iteration, self.last_checkpoint, self._seconds_before = 0, None, 0.0
        self.resumed_from: str | None = None
        if ckpt is not None:
            self._restore(ckpt)

    # -- resume --------------------------------------------------------------------------------------------
    def _resume_checkpoint(self, resume: bool | str | Path) -> dict | None:
        if resume is True:
            if self.out_dir is None:
                return None
            ckpt, skipped = readable_checkpoint(self.out_dir, map_location="cpu")
            for path, why in skipped:
                self._print(f"resume: skipped unreadable {path} ({why})")
            if ckpt is None:
                self._print(f"resume: no checkpoint in {self.out_dir}: starting from iteration 0")
                return None
        else:
            ckpt = load_checkpoint(resume, map_location="cpu")
        if ckpt.get("format") != INGAN_FORMAT:
            raise ValueError(f"{ckpt.get('path')}: not an InGAN checkpoint (format {ckpt.get('format')!r}); give a "
                             "run folder or file written by 'ingan train'")
        must = ("base_channels", "downsamples", "residual_blocks", "disc_channels", "image_size", "disc_scale_factor",
                "disc_min_size", "disc_max_scales", "max_scale")
        old = ckpt.get("config", {})
        diff = [f"{k} {old.get(k)} -> {getattr(self.cfg, k)}" for k in must if k in old and old[k] != getattr(self.cfg, k)]
        if diff:
            raise ValueError(f"{ckpt.get('path')}: cannot resume with other network settings ({'; '.join(diff)}); "
                             "use the run's preset and sizes, or train into a new --out")
        return ckpt

    def _restore(self, ckpt: dict) -> None:
        self.G.load_state_dict(ckpt["networks"]["G"])
        if "D" in ckpt["networks"]:  # a weights-only export keeps G alone: D starts afresh
            self.D.load_state_dict(ckpt["networks"]["D"])
        if "optimizers" in ckpt and "D" in ckpt["networks"]:
            self.opt_G.load_state_dict(ckpt["optimizers"]["G"])
            self.opt_D.load_state_dict(ckpt["optimizers"]["D"])
            for opt, lr in ((self.opt_G, self.cfg.lr), (self.opt_D, self.cfg.disc_lr)):
                for group in opt.param_groups:
                    group["initial_lr"] = lr
        if "rng" in ckpt:
            self.rng.set_state(ckpt["rng"])
        self.iteration = int(ckpt["iteration"])
        self._seconds_before = float(ckpt.get("seconds", 0.0))
        self.last_checkpoint = Path(ckpt["path"]) if "path" in ckpt else None
        self.resumed_from = ckpt.get("path")

    # -- one iteration -------------------------------------------------------------------------------------
    def lr_scale(self, iteration: int) -> float:
        """Linear decay to 0 from ``lr_decay_start`` to ``iterations`` (official ``LRPolicy``)."""
        start, end = self.cfg.lr_decay_start, self.cfg.iterations
        return 1.0 if end <= start else 1.0 - max(0.0, (iteration - start) / (end - start))

    def sample_geometry(self, iteration: int) -> tuple[tuple[int, int], torch.Tensor | None]:
        """A random output size (scales in the curriculum's range ``[1 - (1 - min) t, 1 + (max - 1) t]``,
        ``t`` = progress to ``curriculum_iterations``, height and width drawn apart) and, with probability
        ``homography_probability``, a random homography (corners moved by up to ``homography_magnitude`` t)."""
        cfg = self.cfg
        t = 1.0 if cfg.curriculum_iterations == 0 else min(1.0, (iteration + 1) / cfg.curriculum_iterations)
        lo, hi = 1.0 - (1.0 - cfg.min_scale) * t, 1.0 + (cfg.max_scale - 1.0) * t
        u = torch.rand(4, generator=self.rng, dtype=torch.float64)
        sy, sx = lo + (hi - lo) * float(u[0]), lo + (hi - lo) * float(u[1])
        h = max(MIN_OUTPUT_SIDE, round(self.input_size[0] * sy))
        w = max(MIN_OUTPUT_SIDE, round(self.input_size[1] * sx))
        shift = (torch.rand((4, 2), generator=self.rng, dtype=torch.float64) * 2 - 1) * cfg.homography_magnitude * t
        homography = None
        if float(u[2]) < cfg.homography_probability and cfg.homography_magnitude > 0:
            corners = torch.tensor([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=torch.float64) + shift
            homography = homography_from_corners(corners.tolist())
        return (h, w), homography

    def step(self) -> dict[str, float]:
        """One iteration: D step, then G step (Eq. 1-3); returns the losses as floats."""
        cfg, G, D = self.cfg, self.G, self.D
        for opt, lr in ((self.opt_G, cfg.lr), (self.opt_D, cfg.disc_lr)):
            for group in opt.param_groups:
                group["lr"] = lr * self.lr_scale(self.iteration)
        x = _to_tensor(self.image, self.device)                                  # (1, 3, h, w) in [-1, 1]
        size, homography = self.sample_geometry(self.iteration)
        # de-quantisation noise (official code): the networks should not learn the 1/255 steps
        noise = lambda t: (torch.rand(t.shape, generator=self.rng) * 2 - 1).to(t.device) * cfg.input_noise * 2
        x_in = x + noise(x)
        G.train(); D.train()
        fake = G(x_in, size, homography)                                          # G(x; T), (1, 3, H, W)

        # discriminator: L_GAN (Eq. 2) per level, on the photo and the detached output
        weights_real = scale_weights(D.num_scales(x.shape[-2:]), self.iteration, cfg.even_scales_iteration,
                                     cfg.scale_weights_sigma)
        weights_fake = scale_weights(D.num_scales(size), self.iteration, cfg.even_scales_iteration,
                                     cfg.scale_weights_sigma)
        real_maps, fake_maps = D(x + noise(x)), D(fake.detach() + noise(fake))
        # sum_k w_k (D_k(y) - 1)^2 and sum_k w_k D_k(G(x; T))^2; the photo and the output have different
        # sizes, hence different numbers of levels, so the two halves are weighted apart
        loss_D_real = _weighted(real_maps, weights_real, lambda m: F.mse_loss(m, torch.ones_like(m)))
        loss_D_fake = _weighted(fake_maps, weights_fake, lambda m: F.mse_loss(m, torch.zeros_like(m)))
        loss_D = (loss_D_real + loss_D_fake) / 2   # halved, as losses.discriminator_loss
        self.opt_D.zero_grad(set_to_none=True)
        loss_D.backward()
        self.opt_D.step()

        # generator: Eq. 1 with a fresh D forward (D's new weights), gradients to G only
        for p in D.parameters():
            p.requires_grad_(False)
        losses = ingan_losses(G, D, x_in, fake, self.input_size, homography, weights_fake,
                              cfg.lambda_cycle, cfg.lambda_identity, target=x)
        self.opt_G.zero_grad(set_to_none=True)
        losses["loss_G"].backward()
        self.opt_G.step()
        for p in D.parameters():
            p.requires_grad_(True)
        self.iteration += 1
        row = {k: float(v.detach()) for k, v in losses.items()}
        row.update(loss_D=float(loss_D.detach()), loss_D_real=float(loss_D_real.detach()), loss_D_fake=float(loss_D_fake.detach()))
        bad = [k for k, v in row.items() if not math.isfinite(v)]
        if bad:
            raise FloatingPointError(f"{bad[0]} became {row[bad[0]]} at iteration {self.iteration}; the last good "
                                     f"checkpoint is {self.last_checkpoint} (try a lower lr)")
        return row

    # -- files ---------------------------------------------------------------------------------------------
    def _print(self, msg: str) -> None:
        if self.verbose:
            print(msg, flush=True)

    def checkpoint_dict(self, seconds: float = 0.0) -> dict[str, Any]:
        """Everything a resume needs (and :func:`export_ingan` keeps the weights, the photo and the config of)."""
        return {
            "format": INGAN_FORMAT,
            "stage": "ingan",
            "iteration": self.iteration,
            "seconds": float(seconds),
            "config": self.cfg.to_dict(),
            "networks": {"G": self.G.state_dict(), "D": self.D.state_dict()},
            "network_configs": {"G": dict(self.G.config), "D": dict(self.D.config)},
            "optimizers": {"G": self.opt_G.state_dict(), "D": self.opt_D.state_dict()},
            "rng": self.rng.get_state(),
            "torch_version": str(torch.__version__),
            "extra": {"image": torch.from_numpy((self.image * 255 + 0.5).astype(np.uint8)),
                      "image_name": self.image_name, "device": describe_device(self.device)},
        }

    def save(self, seconds: float = 0.0) -> Path:
        """Write ``checkpoints/ckpt_NNNNNNNN.pt`` atomically and keep the last ``keep_last``."""
        if self.out_dir is None:
            raise ValueError("InGANTrainer.save: no out_dir was given")
        path = self.out_dir / "checkpoints" / f"ckpt_{self.iteration:08d}.pt"
        atomic_save(self.checkpoint_dict(seconds), path)
        for old in list_checkpoints(self.out_dir)[:-self.cfg.keep_last]:
            with suppress_os_errors():
                old.unlink()
        self.last_checkpoint = path
        return path

    def fit(self, iterations: int | None = None) -> InGANResult:
        """Train up to ``iterations`` in total (default ``cfg.iterations``); checkpoint every ``save_every``
        and at the end; log the losses averaged over ``log_every`` iterations."""
        from tqdm.auto import tqdm

        cfg = self.cfg
        total = cfg.iterations if iterations is None else int(iterations)
        if total < self.iteration:
            raise ValueError(f"iterations={total}: the run is already at iteration {self.iteration}")
        log = None
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            (self.out_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")
            log = CsvLog(self.out_dir / "log.csv", self.iteration if self.resumed_from else None)
        self._print(f"InGAN on {self.image_name} ({self.input_size[1]}x{self.input_size[0]} px), device "
                    f"{describe_device(self.device)}, iterations {self.iteration} -> {total}"
                    + (f", resumed from {self.resumed_from}" if self.resumed_from else ""))
        t0 = time.perf_counter()
        history: list[dict[str, float]] = []
        acc: dict[str, float] = {}
        n = 0
        bar = tqdm(total=total, initial=self.iteration, disable=not (cfg.progress and self.verbose), desc="InGAN",
                   leave=False)
        try:
            while self.iteration < total:
                row = self.step()
                for k, v in row.items():
                    acc[k] = acc.get(k, 0.0) + v
                n += 1
                bar.update(1)
                if self.iteration % cfg.log_every == 0 or self.iteration == total:
                    seconds = self._seconds_before + time.perf_counter() - t0
                    entry = {"iteration": self.iteration, **{k: v / n for k, v in acc.items()}, "seconds": seconds}
                    history.append(entry)
                    if log is not None:
                        log.write(entry)
                    bar.set_postfix(loss_G=f"{entry['loss_G']:.3f}", loss_D=f"{entry['loss_D']:.3f}")
                    acc, n = {}, 0
                if self.out_dir is not None and (self.iteration % cfg.save_every == 0 or self.iteration == total):
                    self.save(self._seconds_before + time.perf_counter() - t0)
        finally:
            bar.close()
        return InGANResult(InGAN(self.G, self.image, self.cfg), self.iteration, self.last_checkpoint, history)


def export_ingan(src: str | Path, dst: str | Path, discriminator: bool = False) -> Path:
    """The weights-only copy of an InGAN checkpoint (a file or a run folder's latest), written atomically: the
    generator, the photo and the config (the keys :data:`~edgeconnect_lib.checkpoints.EXPORT_KEYS` of
    :func:`~edgeconnect_lib.checkpoints.export_weights`), without the optimisers and the RNG state; the
    discriminator only with ``discriminator=True`` (retargeting needs G alone; D is 60% of the file)."""
    ckpt = load_checkpoint(src)
    if ckpt.get("format") != INGAN_FORMAT:
        raise ValueError(f"{ckpt.get('path')}: not an InGAN checkpoint (format {ckpt.get('format')!r})")
    if discriminator:
        return export_weights(ckpt["path"], dst)
    out = {k: ckpt[k] for k in EXPORT_KEYS if k in ckpt}
    out["networks"] = {"G": ckpt["networks"]["G"]}
    out["network_configs"] = {"G": ckpt["network_configs"]["G"]}
    return atomic_save(out, Path(dst))


# ----------------------------------------------------------------------------------------------------------
# Using a trained model
# ----------------------------------------------------------------------------------------------------------
class InGAN:
    """A trained generator with the photo it learnt: ``retarget(size)``, ``retarget(homography=H)``."""

    def __init__(self, G: InGANGenerator, image: np.ndarray, cfg: InGANConfig | None = None) -> None:
        self.G, self.image, self.cfg = G, np.asarray(image, np.float32), cfg
        self.iteration = 0  # of the checkpoint it was loaded from (InGAN.load)
        self.device = next(G.parameters()).device

    @property
    def input_size(self) -> tuple[int, int]:
        return tuple(self.image.shape[:2])

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "auto") -> "InGAN":
        """From an InGAN checkpoint file or run folder (its newest checkpoint), ``map_location`` on ``device``."""
        dev = pick_device(device)
        ckpt = load_checkpoint(path, map_location="cpu")
        if ckpt.get("format") != INGAN_FORMAT or "image" not in ckpt.get("extra", {}):
            raise ValueError(f"{ckpt.get('path')}: not an InGAN checkpoint (format {ckpt.get('format')!r}); give a "
                             "file or run folder written by 'ingan train'")
        G = InGANGenerator(**ckpt["network_configs"]["G"])
        G.load_state_dict(ckpt["networks"]["G"])
        known = {f.name for f in fields(InGANConfig)}
        cfg = InGANConfig(**{**{k: v for k, v in ckpt["config"].items() if k in known}, "device": "cpu"})
        model = cls(G.to(dev).eval(), ckpt["extra"]["image"].numpy().astype(np.float32) / 255.0, cfg)
        model.iteration = int(ckpt["iteration"])
        return model

    @torch.no_grad()
    def retarget(self, size: tuple[int, int] | None = None, homography: Any = None,
                 image: np.ndarray | None = None) -> np.ndarray:
        """``G(x; T)`` as an ``H x W x 3`` array in [0, 1]: ``size`` = (height, width) (default the input's),
        ``homography`` = 9 numbers / 3x3 in normalised coordinates (input -> output), or both."""
        x = self.image if image is None else np.asarray(image, np.float32)
        size = check_output_size(size or x.shape[:2], x.shape[:2])
        h = None if homography is None else as_homography(homography)
        self.G.eval()
        return _to_image(self.G(_to_tensor(x, self.device), size, h))

    def reconstruction_error(self) -> float:
        """``mean |G(x; I) - x|`` in [0, 1] units: how well the identity transform gives the photo back."""
        return float(np.abs(self.retarget() - self.image).mean())


# ----------------------------------------------------------------------------------------------------------
# Command line: python -m edgeconnect_lib ingan train|retarget (wired in __main__)
# ----------------------------------------------------------------------------------------------------------
def add_arguments(parser) -> None:
    """The ``ingan`` command group's options (``train`` and ``retarget``) on an ``argparse`` parser."""
    import argparse

    sub = parser.add_subparsers(dest="ingan_command", required=True, metavar="ACTION")
    t = sub.add_parser("train", help="train InGAN on one photo",
                       description="Train InGAN (Shocher et al. 2019) on one photo. Writes checkpoints/, log.csv and "
                                   "config.json under --out; --resume continues the run.")
    t.add_argument("--image", default=None, help="the photo to learn (not needed with --resume)")
    t.add_argument("--out", required=True, type=Path, help="run folder")
    t.add_argument("--preset", choices=tuple(INGAN_PRESETS), default=None,
                   help="named settings (default: cpu, or the resumed run's)")
    t.add_argument("--iterations", type=int, default=None, help="total iterations (default: the preset's)")
    t.add_argument("--image-size", type=int, default=None, help="longer side of the photo in training, px")
    t.add_argument("--seed", type=int, default=None)
    t.add_argument("--device", default=None, help="auto | cpu | cuda | cuda:N | mps (default auto)")
    t.add_argument("--resume", nargs="?", const=True, default=False, metavar="CHECKPOINT",
                   help="continue from the newest readable checkpoint in --out (or from CHECKPOINT)")
    t.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="any other InGANConfig field, e.g. --set lambda_identity=0")
    t.add_argument("--export", type=Path, default=None,
                   help="also write a weights-only copy of the final checkpoint here (e.g. data/checkpoints/ingan_x.pt)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")

    r = sub.add_parser("retarget", help="paint a trained InGAN's photo at another size or through a homography",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="G(x; T) of a trained InGAN. --homography takes 9 numbers (row by row) in "
                                   "normalised coordinates (x right, y down, the frame spans [-1, 1]) mapping the "
                                   "input to the output.")
    r.add_argument("--checkpoint", required=True, help="an InGAN run folder or checkpoint file")
    r.add_argument("--size", default=None, metavar="HxW", help="output height x width in pixels, e.g. 40x128")
    r.add_argument("--homography", type=float, nargs=9, default=None, metavar="H",
                   help="3x3 homography, 9 numbers, e.g. 1 0 0 0 1 0 0 0 1")
    r.add_argument("--out", required=True, type=Path, help="output image file (.png, .jpg, ...)")
    r.add_argument("--bicubic", type=Path, default=None, help="also write the bicubic (cv2 INTER_CUBIC) baseline here")
    r.add_argument("--patch-distance", action="store_true",
                   help="print the patch distance (SWD, 7x7 patches, 3 levels) to the input, InGAN vs bicubic")
    r.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")


def _config_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _write_png(image: np.ndarray, path: Path) -> Path:
    from PIL import Image

    from .checkpoints import atomic_write

    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"--out {path}: {path.suffix!r} is not an image file extension; give e.g. out.png")
    im = Image.fromarray((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8))
    return atomic_write(path, lambda f: im.save(f, format=fmt))


def _train_command(args) -> int:
    overrides: dict[str, Any] = {}
    for item in args.overrides:
        if "=" not in item:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE, e.g. --set lambda_identity=0")
        key, text = item.split("=", 1)
        overrides[key.strip().replace("-", "_")] = _config_value(text)
    for name in ("iterations", "image_size", "seed", "device"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    if args.no_progress:
        overrides["progress"] = False
    base: dict[str, Any] | None = None
    if args.resume:
        if args.resume is True:
            ckpt, _ = readable_checkpoint(args.out)
        else:
            ckpt = load_checkpoint(args.resume)
        if ckpt is not None and args.preset is None:
            known = {f.name for f in fields(InGANConfig)}
            base = {k: v for k, v in ckpt.get("config", {}).items() if k in known}
    if base is not None:
        unknown = sorted(set(overrides) - set(base))
        if unknown:
            raise ValueError(f"unknown InGAN setting(s) {unknown}; known: {sorted(base)}")
        cfg = InGANConfig(**{**base, **overrides})
    else:
        cfg = get_ingan_config(args.preset or "cpu", **overrides)
    if args.image is None and not args.resume:
        raise ValueError("--image is required (the photo to learn), unless --resume continues a run")
    if args.image is None and args.resume is True and readable_checkpoint(args.out)[0] is None:
        raise ValueError(f"--resume: there is no checkpoint in {args.out} to continue; give --image to start a run")
    trainer = InGANTrainer(cfg, args.image, args.out, resume=args.resume)
    try:
        result = trainer.fit()
    except FloatingPointError as err:
        print(f"error: {err}", flush=True)
        return 1
    last = result.history[-1] if result.history else {}
    print(f"done: iteration {result.iteration}, checkpoint {result.checkpoint}"
          + (f", loss_G {last['loss_G']:.4f}, loss_D {last['loss_D']:.4f}, {last['seconds']:.0f} s" if last else ""),
          flush=True)
    if args.export is not None:
        print(f"weights-only copy: {export_ingan(result.checkpoint, args.export)}", flush=True)
    return 0


def _retarget_command(args) -> int:
    model = InGAN.load(args.checkpoint, device=args.device)
    if args.size is None and args.homography is None:
        raise ValueError("give --size HxW, --homography with 9 numbers, or both")
    size = check_output_size(parse_size(args.size) if args.size else model.input_size, model.input_size,
                             name="--size")
    homography = None if args.homography is None else as_homography(args.homography, "--homography")
    out = model.retarget(size, homography)
    _write_png(out, args.out)
    print(f"{model.input_size[0]}x{model.input_size[1]} -> {size[0]}x{size[1]}"
          + (" (homography)" if homography is not None else "") + f": {args.out}", flush=True)
    base = bicubic_retarget(model.image, size) if homography is None else bicubic_warp(model.image, homography, size)
    if args.bicubic is not None:
        _write_png(base, args.bicubic)
        print(f"bicubic: {args.bicubic}", flush=True)
    if args.patch_distance:
        short = min(min(model.input_size), min(size))
        levels = max(1, min(3, int(math.floor(math.log2(max(short, 7) / 7))) + 1))
        ours = patch_distance(model.image, out, levels=levels)
        theirs = patch_distance(model.image, base, levels=levels)
        print(f"patch distance to the input (SWD, 7x7, {levels} levels; lower = same DNA): InGAN {ours.mean:.4f}, "
              f"bicubic {theirs.mean:.4f}", flush=True)
    return 0


def run(args) -> int:
    """Run ``python -m edgeconnect_lib ingan ...`` (``args`` from :func:`add_arguments`)."""
    if args.ingan_command == "train":
        return _train_command(args)
    return _retarget_command(args)
