"""InGAN's settings (:class:`InGANConfig`, the named presets) and the output-size rules and parsing.

Shocher, Bagon, Isola and Irani, *InGAN: Capturing and Retargeting the "DNA" of a Natural Image*, ICCV 2019;
the ``paper`` preset follows the official code's settings.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Sequence

import numpy as np

from ..errors import ConfigError
from ..options import AMP_KINDS, choice, finite_number, whole_number
from ..checkpoints import INGAN_FORMAT  # noqa: F401  (re-exported: the package's names; the format's home)
from ..utils import pick_device


#: Smallest output side the generator paints (its 7x7 entry/exit convolutions reflect-pad 3 px).
MIN_OUTPUT_SIDE = 8
#: Largest output side in pixels (memory: the feature maps of a 4096 px side already take gigabytes).
MAX_OUTPUT_SIDE = 4096
#: Largest output side as a multiple of the input's (beyond it the patches are stretched far past training).
MAX_OUTPUT_FACTOR = 8.0


# ----------------------------------------------------------------------------------------------------------
# Settings
# ----------------------------------------------------------------------------------------------------------
#: Per-scale discriminator layouts (``InGANConfig.disc_kind``): ``course`` (four padded 3x3 convs, the second
#: strided: 13 px patches) and ``shallow`` (three unpadded 3x3 convs, no stride: 7 px patches).
DISC_KINDS: tuple[str, ...] = ("course", "shallow")


@dataclass(frozen=True)
class InGANConfig:
    """Settings of one InGAN run (frozen; ``INGAN_PRESETS`` names the usual ones, ``paper`` = official code).

    Sizes: the photo is resized so that its longer side is ``image_size`` px; during training the output
    height and width are ``scale * input`` with scales drawn in ``[min_scale, max_scale]`` (the range widens
    linearly from 1 over ``curriculum_iterations``), and with probability ``homography_probability`` the
    geometry is also warped by a random homography whose corners move by up to ``homography_magnitude``
    (in normalised units, the frame spans [-1, 1]).

    ``stretch_negatives`` (not in the paper; 0 in every preset): the weight of a third discriminator term
    that scores the photo *resized* to the drawn geometry (bicubic, the stretch) as fake, a negative example
    in the sense of Sinha et al., "Negative Data Augmentation", ICLR 2021. A uniform stretch satisfies the
    cycle loss exactly, so without it only the discriminators' own learning pushes ``G`` away from
    stretching (issue 19's diagnosis); with it, ``D`` is told from the first iteration that an element at
    another size or aspect is not a patch of the photo.

    ``generator_skips`` (False in the ``cpu`` preset, True in ``paper``, the official U-net): False builds the
    generator without the skip additions (:class:`InGANGenerator`, ``skips=False``; not the official network),
    so the output is painted from the bottleneck's features alone. Issue 19's measurement (``benchmarks/README.md``,
    runs L and S, 11,000 iterations at 128 px): with the skips the resized full-resolution features reach the
    output and the generator converges to a bicubic stretch; without them it beats bicubic's coherence and
    completeness at 2x wider, 2x taller and 0.5x narrower.

    ``disc_kind``: the per-scale discriminator (:data:`DISC_KINDS`): ``course`` (the default: four padded 3x3
    convs, the second strided, 13 px patches) or ``shallow`` (three unpadded 3x3 convs, 7 px patches: a smaller
    receptive field per scale, as the official code's unpadded discriminators have; issue 19's experiment).

    ``amp`` (as :class:`~edgeconnect_lib.config.TrainConfig`'s): ``"auto"`` runs the networks under bf16
    autocast on a CPU with native bf16 and on CUDA (fp16 with loss scaling where CUDA lacks bf16), fp32
    elsewhere (:class:`~edgeconnect_lib.precision.Precision`); the weights, the optimisers, the losses, the
    pyramid's resizing and the geometric transform's sampling stay fp32. ``channels_last``: NHWC memory where
    it is faster: with autocast (CPU or CUDA) and on CUDA. On the CPU, NHWC alone in fp32 was slower
    (``benchmarks/ingan_step.py``). A checkpoint from before ``amp`` was trained in fp32 and resumes in fp32.

    The defaults are the ``cpu`` preset: a photo of 128 px on its longer side and 11,000 iterations, projected at
    about 45 minutes on two laptop cores with native bf16 and about an hour in fp32 (``benchmarks/ingan_step.py``;
    issue 19 asks 45). The scale range widens over the first 4,000 iterations; the scale weights are even and the learning rates decay from 5,500.
    """

    image_size: int = 128
    base_channels: int = 16
    downsamples: int = 2
    residual_blocks: int = 2
    generator_skips: bool = False
    disc_channels: int = 32
    disc_kind: str = "course"
    disc_scale_factor: float = 1.4
    disc_min_size: int = 13
    disc_max_scales: int = 99
    scale_weights_sigma: float = 1.4
    even_scales_iteration: int = 5500
    iterations: int = 11000
    lr: float = 2e-4
    disc_lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    lr_decay_start: int = 5500
    min_scale: float = 0.5
    max_scale: float = 2.0
    curriculum_iterations: int = 4000
    homography_probability: float = 0.25
    homography_magnitude: float = 0.15
    lambda_cycle: float = 0.1
    lambda_identity: float = 0.1
    stretch_negatives: float = 0.0
    input_noise: float = 1.0 / 255.0
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"
    channels_last: bool = True
    save_every: int = 1000
    keep_last: int = 2
    log_every: int = 25
    progress: bool = True

    def __post_init__(self) -> None:
        positive = ("image_size", "base_channels", "disc_channels", "disc_min_size", "disc_max_scales",
                    "iterations", "save_every", "keep_last", "log_every")
        for name in positive:  # the checks of edgeconnect_lib.options, as TrainConfig's
            whole_number(f"InGANConfig.{name}", getattr(self, name))
        for name in ("downsamples", "residual_blocks", "even_scales_iteration", "lr_decay_start",
                     "curriculum_iterations"):
            whole_number(f"InGANConfig.{name}", getattr(self, name), minimum=0)
        if self.image_size < 16 or self.image_size > MAX_OUTPUT_SIDE // 2:
            raise ConfigError(f"InGANConfig.image_size={self.image_size}: the photo's longer side must be in "
                             f"16..{MAX_OUTPUT_SIDE // 2} px (128 is the cpu preset's, 256 the paper's)")
        if self.downsamples > 5:
            raise ConfigError(f"InGANConfig.downsamples={self.downsamples}: at most 5 (the official code uses 3)")
        if not 1.0 < self.disc_scale_factor <= 4.0:
            raise ConfigError(f"InGANConfig.disc_scale_factor={self.disc_scale_factor}: must be in (1, 4] "
                             "(the paper's pyramid uses 1.4)")
        if not 0.0 < self.min_scale <= 1.0 <= self.max_scale <= MAX_OUTPUT_FACTOR:
            raise ConfigError(f"InGANConfig.min_scale={self.min_scale}, max_scale={self.max_scale}: need "
                             f"0 < min_scale <= 1 <= max_scale <= {MAX_OUTPUT_FACTOR:g} (paper: 0.15 and 2.25)")
        if not 0.0 <= self.homography_probability <= 1.0:
            raise ConfigError(f"InGANConfig.homography_probability={self.homography_probability}: must be in [0, 1]")
        if not 0.0 <= self.homography_magnitude <= 0.5:
            raise ConfigError(f"InGANConfig.homography_magnitude={self.homography_magnitude}: must be in [0, 0.5] "
                             "(corner shifts in normalised units; larger folds the frame)")
        for name in ("lr", "disc_lr"):
            finite_number(f"InGANConfig.{name}", getattr(self, name), strict=True)
        for name in ("lambda_cycle", "lambda_identity", "stretch_negatives", "input_noise", "scale_weights_sigma"):
            finite_number(f"InGANConfig.{name}", getattr(self, name))
        if not isinstance(self.seed, (int, np.integer)) or isinstance(self.seed, bool) or not 0 <= self.seed < 2**63:
            raise ConfigError(f"InGANConfig.seed={self.seed!r}: must be a whole number in 0..2**63-1")
        if not isinstance(self.generator_skips, (bool, np.bool_)):
            raise ConfigError(f"InGANConfig.generator_skips={self.generator_skips!r}: must be True or False")
        choice("InGANConfig.amp", self.amp, AMP_KINDS)
        choice("InGANConfig.disc_kind", self.disc_kind, DISC_KINDS)
        if not isinstance(self.channels_last, (bool, np.bool_)):
            raise ConfigError(f"InGANConfig.channels_last={self.channels_last!r}: must be True or False")
        if not isinstance(self.progress, (bool, np.bool_)):
            raise ConfigError(f"InGANConfig.progress={self.progress!r}: must be True or False")
        if not (0.0 <= self.beta1 < 1.0 and 0.0 <= self.beta2 < 1.0):
            raise ConfigError(f"InGANConfig.beta1/beta2=({self.beta1}, {self.beta2}): Adam betas must be in [0, 1)")
        pick_device(self.device)  # a clear error for a device this machine lacks

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Named settings: ``cpu`` (the defaults: 128 px, no U-net additions, 11,000 iterations, about 45 minutes on
#: two laptop cores with native bf16, an hour in fp32; issue 19's recipe); ``tiny`` (seconds, for tests); ``paper`` follows the official code
#: (256 px, 64 channels, 3 downs with skips, 6 blocks, lr 5e-5 with linear decay after 20k of 75k iterations,
#: output scales 0.15-2.25 reached after 10k, scale weights even after 25k, cycle weight 0.1, no identity term).
INGAN_PRESETS: dict[str, dict[str, Any]] = {
    "cpu": {},
    "tiny": dict(image_size=32, base_channels=8, downsamples=1, residual_blocks=1, disc_channels=8,
                 iterations=40, even_scales_iteration=20, lr_decay_start=20, curriculum_iterations=20,
                 save_every=20, log_every=5, lr=1e-3, disc_lr=1e-3, lambda_identity=1.0),
    "paper": dict(image_size=256, base_channels=64, downsamples=3, residual_blocks=6, generator_skips=True,
                  disc_channels=64, iterations=75000, lr=5e-5, disc_lr=5e-5, lr_decay_start=20000, min_scale=0.15,
                  max_scale=2.25, curriculum_iterations=10000, even_scales_iteration=25000,
                  homography_probability=0.0, homography_magnitude=0.0, lambda_cycle=0.1, lambda_identity=0.0,
                  save_every=5000, log_every=100),
}


def get_ingan_config(preset: str = "cpu", **overrides: Any) -> InGANConfig:
    """The ``preset``'s :class:`InGANConfig` with ``overrides``; unknown names are refused with the list."""
    if preset not in INGAN_PRESETS:
        raise ConfigError(f"preset={preset!r}: unknown InGAN preset; choose one of {tuple(INGAN_PRESETS)}")
    known = {f.name for f in fields(InGANConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"unknown InGAN setting(s) {unknown}; known: {sorted(known)}")
    return InGANConfig(**{**INGAN_PRESETS[preset], **overrides})


# ----------------------------------------------------------------------------------------------------------
# Output sizes
# ----------------------------------------------------------------------------------------------------------
def _side(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ConfigError(f"{name}={value!r}: an output side must be a whole number of pixels, e.g. 96")
    return int(value)


def check_output_size(size: Sequence[int], input_size: Sequence[int] | None = None,
                      name: str = "size") -> tuple[int, int]:
    """``(height, width)`` of an output, checked: each side in ``MIN_OUTPUT_SIDE..MAX_OUTPUT_SIDE`` px and,
    given the input's ``(height, width)``, at most ``MAX_OUTPUT_FACTOR`` times its side. Raises a
    ``ValueError`` naming ``name`` and the fix."""
    try:
        h, w = size
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={size!r}: give (height, width), e.g. (64, 128) or '64x128'") from None
    h, w = _side(h, f"{name} height"), _side(w, f"{name} width")
    for side, label in ((h, "height"), (w, "width")):
        if side <= 0:
            raise ConfigError(f"{name}={h}x{w}: the {label} must be positive (at least {MIN_OUTPUT_SIDE} px)")
        if side < MIN_OUTPUT_SIDE:
            raise ConfigError(f"{name}={h}x{w}: the {label} {side} px is below the smallest output side, "
                             f"{MIN_OUTPUT_SIDE} px: give at least {MIN_OUTPUT_SIDE}")
        if side > MAX_OUTPUT_SIDE:
            raise ConfigError(f"{name}={h}x{w}: the {label} {side} px is above {MAX_OUTPUT_SIDE} px: give a "
                             "smaller size (or retarget a smaller copy and upscale it)")
    if input_size is not None:
        for side, base, label in ((h, input_size[0], "height"), (w, input_size[1], "width")):
            if side > MAX_OUTPUT_FACTOR * base:
                raise ConfigError(f"{name}={h}x{w}: the {label} {side} px is more than {MAX_OUTPUT_FACTOR:g}x the "
                                 f"input's {base} px: give at most {int(MAX_OUTPUT_FACTOR * base)} (the generator "
                                 "was trained at scales up to its max_scale)")
    return h, w


def parse_size(text: str, name: str = "--size") -> tuple[int, int]:
    """``"64x128"`` (height x width) -> ``(64, 128)``; a ``ValueError`` naming ``name`` otherwise."""
    parts = str(text).lower().replace("*", "x").split("x")
    if len(parts) != 2:
        raise ConfigError(f"{name} {text!r}: give HEIGHTxWIDTH in pixels, e.g. 64x128")
    try:
        h, w = (int(p.strip()) for p in parts)
    except ValueError:
        raise ConfigError(f"{name} {text!r}: give HEIGHTxWIDTH as whole numbers, e.g. 64x128") from None
    return h, w
