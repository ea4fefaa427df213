"""Training configuration: one frozen dataclass and a table of named presets.

Everything the trainer needs is plain data in :class:`TrainConfig` (nanoGPT style): stages
and options are strings (``stage="edge"``, ``gan="nsgan"``), never integer mode codes, and
one preset reproduces the paper (Nazeri et al. 2019, Sec. 4 "Training Setup"):

=================  =====================  ======================================
field              ``paper``              ``cpu`` (learns visibly in minutes)
=================  =====================  ======================================
image_size         256                    64
batch_size         8                      8
lr (G)             1e-4 (joint: 1e-6)     2e-4 (joint: 2e-5)
lr_D / lr_G        0.1                    0.1
Adam betas         (0, 0.9)               (0, 0.9)
base_channels      64                     16
residual_blocks    8                      2
loss weights       paper (Sec. 3.1-3.2)   paper, but perceptual = style = 0
iterations         2,000,000              300 (lessons: their ITERATIONS)
=================  =====================  ======================================

``course`` is the recipe of the shipped checkpoints (128 px crops, 24 channels, 8 residual blocks, hours on a
CPU core; see ``data/README.md``), and ``tiny`` a preset for tests (32 px, 8 channels, one residual block).
The ``iterations`` of a preset are the command line's default; every lesson sets its own (``ITERATIONS``).

Usage::

    cfg = get_config("cpu", stage="inpaint", iterations=500)   # unknown keys raise
    cfg = cfg.replace(batch_size=4)                           # a new, checked config
    print(preset_table())                                     # the table above, from the code
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any

from .errors import ConfigError
from .options import (  # no torch, OpenCV or VGG here: importing the configuration stays light
    AMP_KINDS,
    COMPILE_KINDS,
    GAN_KINDS,
    LOSS_WEIGHTS,
    ON_ERROR_MODES,
    UPSAMPLE_KINDS,
    check_crop_fraction,
    choice,
    finite_number,
    loss_weight,
    need,
    whole_number,
)

__all__ = ["TrainConfig", "PRESETS", "STAGES", "get_config", "preset_table"]

#: The four training stages of the authors' repository, by name (their MODEL=1..4).
STAGES: tuple[str, ...] = ("edge", "inpaint", "edge-inpaint", "joint")


@dataclass(frozen=True)
class TrainConfig:
    """All settings of one training run (frozen: use :meth:`replace` to change one).

    The learning-rate schedule of the paper (1e-4 until the losses plateau, then 1e-5,
    and 1e-6 for the joint fine-tuning) is ``lr_milestones``: at each listed iteration
    the learning rates are multiplied by ``lr_gamma``.
    """

    # --- what to train -----------------------------------------------------------
    stage: str = "edge"                 # edge | inpaint | edge-inpaint | joint
    iterations: int = 2_000_000         # total optimiser steps (the released models: up to 2M)
    seed: int = 0
    # --- data ----------------------------------------------------------------------
    image_size: int = 256               # square training crops (paper: 256 x 256)
    batch_size: int = 8                 # per process (DDP: per GPU)
    sigma: float = 2.0                  # Canny Gaussian sigma for edge labels (paper: 2)
    mask_mode: str = "irregular"        # see edgeconnect_lib.data
    hole_range: tuple[float, float] = (0.1, 0.6)  # hole ratio range of generated masks
    crop_fraction: tuple[float, float] = (0.5, 1.0)  # training crop side / photo's short side (sets the scale)
    num_workers: int = 0                # DataLoader worker processes
    on_error: str = "raise"             # a bad photo: "raise" (before training, naming every one) | "skip" (listed)
    # --- networks --------------------------------------------------------------------
    base_channels: int = 64             # channels after the first 7x7 conv of G (paper: 64)
    residual_blocks: int = 8            # dilated residual blocks in G (paper: 8)
    disc_channels: int = 64             # channels of the first PatchGAN conv (paper: 64)
    edge_spectral_norm: bool = True     # spectral norm in G_edge (paper: yes; never in G_inpaint)
    colour_reference: bool = False      # G_inpaint gets the known mean colour shifted to grey (not in the paper; models.inpaint_outputs)
    upsample: str = "transpose"         # decoder: transpose (paper: 4x4 transposed convs) | resize (nearest + 3x3 conv)
    prefill: bool = False               # G_inpaint corrects a pull-push fill of the hole (not in the paper; networks.InpaintGenerator)
    edge_prefill: bool = False          # G_edge is shown the Canny edges of a pull-push fill in the hole (not in the paper; networks.EdgeGenerator)
    true_edge_share: float = 0.0        # edge-inpaint: share of training samples given the true Canny edges in the hole instead of G1's (not in the paper)
    # --- optimiser (Adam, Sec. 4) ------------------------------------------------------
    lr: float = 1e-4                    # generator learning rate
    d2g_lr: float = 0.1                 # discriminator lr = d2g_lr x generator lr
    beta1: float = 0.0
    beta2: float = 0.9
    joint_lr: float = 1e-6              # generator lr of the "joint" stage (paper: 1e-6)
    lr_milestones: tuple[int, ...] = ()  # iterations where lr *= lr_gamma (paper: when losses plateau)
    lr_gamma: float = 0.1
    # --- losses (Eq. 2 and Eq. 7 of the paper) ---------------------------------------
    gan: str = "nsgan"                  # nsgan | lsgan | hinge
    edge_adv: float = 1.0               # lambda_adv1
    edge_fm: float = 10.0               # lambda_FM
    l1: float = 1.0                     # lambda_l1
    inpaint_adv: float = 0.1            # lambda_adv2
    perceptual: float = 0.1             # lambda_p
    style: float = 250.0                # lambda_s
    seam_l1: float = 0.0                # extra L1 on the first seam_width px inside the hole (not in the paper; losses.seam_l1)
    grad_l1: float = 0.0                # L1 of G2's image gradients against the photo's, in the hole (not in the paper; losses.gradient_l1)
    edge_grad_l1: float = 0.0           # the same on the pixels beside the edges G2 is given (not in the paper; losses.edge_gradient_l1)
    seam_width: int = 3
    edge_bce: float = 0.0               # class-balanced BCE of G1's edges in the hole (not in the paper; losses.balanced_bce)
    # --- speed -----------------------------------------------------------------------
    device: str = "auto"                # auto | cpu | cuda | cuda:N | mps
    amp: str = "auto"                   # auto (CUDA: bf16 if supported, else fp16; CPU: bf16 where native) | off | bf16 | fp16
    compile: str = "auto"               # torch.compile: auto (CUDA only) | on | off; compilation.compile_plan
    channels_last: bool = True          # NHWC memory format on CUDA (ignored on CPU)
    cudnn_benchmark: bool = True        # CUDA: autotuned, non-deterministic kernels (faster); False: reproducible
    # --- bookkeeping ------------------------------------------------------------------
    log_every: int = 10                 # CSV / TensorBoard rows
    sample_every: int = 1000            # PNG grid of inputs / outputs
    val_every: int = 1000               # validation metrics
    val_images: int = 16                # validation images (from the val split)
    save_every: int = 1000              # checkpoints
    keep_last: int = 3                  # checkpoints kept on disk
    progress: bool = True               # tqdm progress bar

    def __post_init__(self) -> None:
        for name in ("hole_range", "crop_fraction", "lr_milestones"):  # lists (JSON, CLI) become tuples: hashable, comparable
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        _check(self)

    def replace(self, **changes: Any) -> "TrainConfig":
        """A copy with ``changes`` applied; unknown keys raise ``ValueError``."""
        _reject_unknown(changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain ``dict`` of built-in types (lists for tuples), safe for ``weights_only`` loading."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        _reject_unknown(d)
        kw = {}
        for f in fields(cls):
            if f.name in d:
                v = d[f.name]
                kw[f.name] = tuple(v) if isinstance(v, list) else v
        return cls(**kw)

    @property
    def generator_lr(self) -> float:
        """The generator's starting lr for this stage (``joint_lr`` in the joint stage)."""
        return self.joint_lr if self.stage == "joint" else self.lr


def _field_names() -> set[str]:
    return {f.name for f in fields(TrainConfig)}


def _reject_unknown(keys) -> None:
    unknown = sorted(set(keys) - _field_names())
    if unknown:
        import difflib

        hints = []
        for k in unknown:
            close = difflib.get_close_matches(k, sorted(_field_names()), n=1)
            hints.append(f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ConfigError(f"unknown config key(s): {', '.join(hints)}. Valid keys: {', '.join(sorted(_field_names()))}")


def _check(cfg: TrainConfig) -> None:
    """Validate values with messages that name the field and the fix (the checks of :mod:`edgeconnect_lib.options`,
    which ``LossWeights`` and ``InGANConfig`` use too)."""
    choice("stage", cfg.stage, STAGES)
    choice("gan", cfg.gan, GAN_KINDS)
    choice("amp", cfg.amp, AMP_KINDS)
    choice("compile", cfg.compile, COMPILE_KINDS)
    choice("upsample", cfg.upsample, UPSAMPLE_KINDS)
    for name in ("edge_spectral_norm", "colour_reference", "prefill", "edge_prefill", "channels_last", "cudnn_benchmark", "progress"):
        need(isinstance(getattr(cfg, name), bool), f"{name}={getattr(cfg, name)!r}: expected true or false")
    need(not (cfg.prefill and cfg.colour_reference),
         "prefill=true with colour_reference=true: the pull-push fill already gives G_inpaint the colour; "
         "add --set colour_reference=false")
    need(finite_number("true_edge_share", cfg.true_edge_share) <= 1.0,
         f"true_edge_share={cfg.true_edge_share!r}: must be a number in [0, 1] (0: G1's edges only, as the paper)")
    need(cfg.true_edge_share == 0.0 or cfg.stage == "edge-inpaint",
         f"true_edge_share={cfg.true_edge_share!r} with stage={cfg.stage!r}: it mixes the true edges into G1's "
         "in stage 'edge-inpaint' only; drop it (--set true_edge_share=0)")
    choice("on_error", cfg.on_error, ON_ERROR_MODES, "what to do with a photo that cannot be read")
    need(isinstance(cfg.image_size, int) and cfg.image_size >= 16 and cfg.image_size % 4 == 0,
         f"image_size={cfg.image_size!r}: must be an int >= 16 divisible by 4 (two stride-2 convs)")
    for name in ("iterations", "batch_size", "base_channels", "disc_channels", "log_every",
                 "sample_every", "val_every", "save_every", "keep_last"):
        whole_number(name, getattr(cfg, name))
    for name in ("residual_blocks", "num_workers", "val_images"):
        whole_number(name, getattr(cfg, name), minimum=0)
    for name in ("lr", "joint_lr", "d2g_lr", "lr_gamma"):
        finite_number(name, getattr(cfg, name), strict=True)
    need(0.0 <= cfg.beta1 < 1.0 and 0.0 <= cfg.beta2 < 1.0, f"betas=({cfg.beta1}, {cfg.beta2}): must be in [0, 1)")
    need(len(cfg.hole_range) == 2 and 0.0 <= cfg.hole_range[0] <= cfg.hole_range[1] <= 1.0,
         f"hole_range={cfg.hole_range!r}: must be (low, high) with 0 <= low <= high <= 1")
    check_crop_fraction(cfg.crop_fraction)
    need(all(isinstance(m, int) and m > 0 for m in cfg.lr_milestones)
         and list(cfg.lr_milestones) == sorted(cfg.lr_milestones),
         f"lr_milestones={cfg.lr_milestones!r}: must be increasing positive iteration numbers")
    for name in LOSS_WEIGHTS:
        loss_weight(name, getattr(cfg, name))
    whole_number("seam_width", cfg.seam_width, what="pixels")


#: Named presets. ``paper`` = the paper's settings; ``cpu`` = a small model that learns
#: visibly in a few minutes on two CPU cores; ``tiny`` = the smallest thing that runs (tests).
PRESETS: dict[str, TrainConfig] = {
    "paper": TrainConfig(),
    "cpu": TrainConfig(
        image_size=64, batch_size=8, base_channels=16, residual_blocks=2, disc_channels=16,
        lr=2e-4, joint_lr=2e-5, iterations=300, colour_reference=True,
        # fp32: the lessons' stored verdicts must come out the same on every CPU, and bf16 autocast exists only on
        # some (amp="auto" would pick it where native; what it gains: benchmarks/README.md)
        amp="off",
        # VGG19 losses off: they cost most of a CPU step at this size (benchmarks/README.md), and without ImageNet
        # weights (offline) they are only illustrative. Turn them on with perceptual=0.1, style=250.
        perceptual=0.0, style=0.0, log_every=10, sample_every=100, val_every=100,
        val_images=8, save_every=100, keep_last=2,
    ),
    # The shipped course checkpoints (data/checkpoints, data/README.md): trained for hours on one CPU core.
    # 128 px crops of 30-70% of a photo's short side (the scale of a 256 px evaluation of a ~350 px photo), and 8
    # residual blocks for the paper's receptive field: with 2 blocks (cpu) a pixel deep in a 256 px hole saw no
    # known pixel at all and got a flat wrong colour (lesson 08's diagnosis).
    "course": TrainConfig(
        image_size=128, batch_size=8, base_channels=24, residual_blocks=8, disc_channels=32,
        crop_fraction=(0.3, 0.7), lr=2e-4, joint_lr=2e-5, iterations=8000, lr_milestones=(5000,), colour_reference=True,
        perceptual=0.0, style=0.0, log_every=25, sample_every=1000, val_every=500,
        val_images=8, save_every=250, keep_last=3,
    ),
    "tiny": TrainConfig(
        image_size=32, batch_size=2, base_channels=8, residual_blocks=1, disc_channels=8,
        lr=2e-4, joint_lr=2e-5, iterations=4, log_every=1, sample_every=1000, val_every=1000,
        val_images=2, save_every=2, keep_last=2, progress=False,
    ),
}


def get_config(preset: str = "cpu", **overrides: Any) -> TrainConfig:
    """The preset named ``preset`` with ``overrides`` applied (unknown keys raise ``ValueError``)."""
    if preset not in PRESETS:
        raise ConfigError(f"preset={preset!r}: choose one of {tuple(PRESETS)}")
    return PRESETS[preset].replace(**overrides)


def preset_table(names: tuple[str, ...] | None = None) -> str:
    """A Markdown table of the fields that differ between presets (for lessons and the README)."""
    names = tuple(names or PRESETS)
    rows = []
    for f in fields(TrainConfig):
        values = [getattr(PRESETS[n], f.name) for n in names]
        if len({repr(v) for v in values}) > 1 or f.name in ("lr", "d2g_lr", "beta1", "beta2"):
            rows.append((f.name, *[_fmt(v) for v in values]))
    header = ("field", *names)
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep] + [line(r) for r in rows])


def _fmt(v: Any) -> str:
    if isinstance(v, float) and v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e4):
        return f"{v:.0e}"
    if isinstance(v, int) and not isinstance(v, bool) and v >= 10_000:
        return f"{v:,}"
    return str(v)
