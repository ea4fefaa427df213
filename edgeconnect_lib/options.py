"""The string options of the library's settings and the checks every settings value goes through.

The settings dataclasses (:class:`~edgeconnect_lib.config.TrainConfig`, :class:`~edgeconnect_lib.losses.LossWeights`,
:class:`~edgeconnect_lib.ingan.config.InGANConfig`) and the functions that take the same values (the dataset, the
evaluation set) validate with these helpers, so a value is checked one way wherever it is given, and a bad one is a
:class:`~edgeconnect_lib.errors.ConfigError` naming the field and the fix (a one-line usage error on the command
line). This module imports no torch, OpenCV or VGG: plain configuration stays light.
"""
from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

from .errors import ConfigError

__all__ = [
    "GAN_KINDS", "ON_ERROR_MODES", "AMP_KINDS", "COMPILE_KINDS", "UPSAMPLE_KINDS", "LOSS_WEIGHTS",
    "need", "choice", "whole_number", "finite_number", "loss_weight", "check_crop_fraction",
]

#: Adversarial loss forms (``losses.adversarial_loss``): the paper's non-saturating GAN, least squares, hinge.
GAN_KINDS: tuple[str, ...] = ("nsgan", "lsgan", "hinge")
#: What the dataset does with a photo that cannot be read: stop before training, naming each, or skip (listed).
ON_ERROR_MODES: tuple[str, ...] = ("raise", "skip")
#: The loss weights of ``losses.LossWeights`` and ``config.TrainConfig`` (Eq. 2 and Eq. 7 of the paper, and the
#: course's extra terms).
LOSS_WEIGHTS: tuple[str, ...] = (
    "edge_adv", "edge_fm", "l1", "inpaint_adv", "perceptual", "style", "seam_l1", "edge_bce", "grad_l1", "edge_grad_l1",
)
#: Mixed precision of the networks.
AMP_KINDS: tuple[str, ...] = ("auto", "off", "bf16", "fp16")
#: torch.compile of the networks (``compilation.compile_plan``): auto = on CUDA only, on, off.
COMPILE_KINDS: tuple[str, ...] = ("auto", "on", "off")
#: How the generators' decoder doubles the resolution: the paper's 4x4 transposed convolutions, or nearest-neighbour
#: resizing followed by a 3x3 convolution (Odena, Dumoulin & Olah 2016, "Deconvolution and Checkerboard Artifacts").
UPSAMPLE_KINDS: tuple[str, ...] = ("transpose", "resize")


def need(cond: bool, message: str) -> None:
    """Raise :class:`ConfigError` ``message`` unless ``cond``."""
    if not cond:
        raise ConfigError(message)


def choice(name: str, value: Any, choices: tuple[str, ...], hint: str = "") -> str:
    """``value`` if it is one of ``choices``; else ``name=value: choose one of (...)`` (``hint`` appended)."""
    need(value in choices, f"{name}={value!r}: choose one of {choices}" + (f" ({hint})" if hint else ""))
    return value


def whole_number(name: str, value: Any, minimum: int = 1, what: str = "") -> int:
    """``value`` as an ``int`` if it is a whole number (not a bool) ``>= minimum``; else a :class:`ConfigError`."""
    ok = isinstance(value, Integral) and not isinstance(value, bool) and value >= minimum
    bound = "a positive whole number" if minimum == 1 else f"a whole number >= {minimum}"
    need(ok, f"{name}={value!r}: must be {bound}" + (f" ({what})" if what else ""))
    return int(value)


def finite_number(name: str, value: Any, minimum: float = 0.0, strict: bool = False, what: str = "") -> float:
    """``value`` as a ``float`` if it is a finite real number (not a bool) above ``minimum`` (``strict``) or at least
    it; else a :class:`ConfigError`."""
    ok = (isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
          and (value > minimum if strict else value >= minimum))
    bound = ("a positive number" if minimum == 0 else f"a finite number > {minimum:g}") if strict \
        else f"a finite number >= {minimum:g}"
    need(ok, f"{name}={value!r}: must be {bound}" + (f" ({what})" if what else ""))
    return float(value)


def loss_weight(name: str, value: Any) -> float:
    """A loss weight: a finite number ``>= 0`` (0 switches the term off)."""
    return finite_number(name, value, what="a loss weight; 0 switches the term off")


def check_crop_fraction(crop_fraction: Any) -> tuple[float, float]:
    """``(lo, hi)`` with ``0 < lo <= hi <= 1``: the training crop's side as fractions of the photo's short side."""
    try:
        lo, hi = (float(v) for v in crop_fraction)
    except (TypeError, ValueError):
        raise ConfigError(f"crop_fraction={crop_fraction!r}: must be (lo, hi), fractions of the photo's short "
                          "side") from None
    need(0.0 < lo <= hi <= 1.0, f"crop_fraction={crop_fraction!r}: must satisfy 0 < lo <= hi <= 1 (e.g. (0.5, 1.0))")
    return lo, hi
