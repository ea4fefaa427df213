"""EdgeConnect's trainable models and its inference pipeline (Nazeri et al. 2019, Sec. 3 and 4.1).

* :class:`EdgeModel` - the edge generator ``G_edge`` (G1) with its discriminator ``D_edge`` (D1), trained by
  Eq. 2 of the paper: ``L_G1 = lambda_adv1 L_adv1 + lambda_FM L_FM``.
* :class:`InpaintModel` - the image-completion generator ``G_inpaint`` (G2) with ``D_inpaint`` (D2), trained by
  ``L_G2 = lambda_l1 L_l1 + lambda_adv2 L_adv2 + lambda_p L_perc + lambda_s L_style``. Its edge input is the
  ground-truth Canny map (stage ``"inpaint"``), or the frozen edge model's prediction in the hole
  (stage ``"edge-inpaint"``).
* :class:`JointModel` - stage ``"joint"``: D_edge is dropped and G_edge + G_inpaint are trained end to end
  by G2's objective (paper Sec. 4.1, at lr 1e-6).
* :class:`EdgeConnect` - the pipeline for inference: :meth:`EdgeConnect.inpaint` takes one image of ANY size
  and a mask, computes Canny edges of the known region, predicts the edges in the hole, paints the hole and
  composites the result with the known pixels.

One training step, in an order PyTorch 2 accepts (the authors' order, discriminator ``step()`` before the
generator's ``backward()``, raises an in-place modification error since PyTorch 1.5):

1. generator forward: ``fake = G(x)``;
2. discriminator: one forward of ``cat(real, fake.detach())``, ``loss_D`` backward, ``opt_D.step()``;
3. generator: a *fresh* discriminator forward on ``fake`` (D's parameters frozen, so no gradient is wasted on
   them), ``loss_G`` backward, ``opt_G.step()``. Feature matching compares these fake features with the real
   features of step 2, detached (as in the authors' code).

Every ``train_step(batch)`` returns plain floats (losses and metrics) and raises :class:`NonFiniteLossError`
naming the loss when one of them is NaN or infinite. Mixed precision (bf16 autocast, or fp16 with a
``GradScaler``), channels-last memory and ``DistributedDataParallel`` are options of the models; the trainer
(:mod:`edgeconnect_lib.train`) picks them.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator, Mapping, NamedTuple, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .checkpoints import atomic_save, load_checkpoint
from .config import TrainConfig
from .losses import (
    LossWeights,
    PerceptualStyleLoss,
    discriminator_loss,
    edge_generator_objective,
    inpaint_generator_objective,
)
from .metrics import binary_precision_recall
from .networks import (
    EdgeGenerator,
    InpaintGenerator,
    PatchDiscriminator,
    build_network,
    network_config,
    use_single_output_conv,
)

__all__ = [
    "Batch",
    "NonFiniteLossError",
    "Precision",
    "EdgeModel",
    "InpaintModel",
    "JointModel",
    "EdgeConnect",
    "InpaintResult",
    "build_model",
    "mask_edge_input",
    "mask_image_input",
    "inpaint_outputs",
    "known_mean_colour",
    "composite",
    "spectral_norm_outside_autocast",
]


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or infinite; ``name`` says which one."""

    def __init__(self, name: str, value: float, iteration: int | None = None) -> None:
        self.name, self.value, self.iteration = name, value, iteration
        where = f" at iteration {iteration}" if iteration is not None else ""
        super().__init__(f"{name} = {value}{where}: training diverged (try a lower lr, amp='off' or another seed)")


class Batch(NamedTuple):
    """A batch on the model's device: ``images (B,3,H,W)``, ``gray (B,1,H,W)``, ``edges (B,1,H,W)``,
    ``masks (B,1,H,W)`` (1 = hole), all float in [0, 1]."""

    images: torch.Tensor
    gray: torch.Tensor
    edges: torch.Tensor
    masks: torch.Tensor


def to_batch(batch: Any, device: torch.device, channels_last: bool = False) -> Batch:
    """Accept the dataset's ``Sample`` (image, gray, edge, mask), a ``Batch``, a dict or a 4-tuple."""
    if isinstance(batch, Mapping):
        get = lambda *names: next(batch[n] for n in names if n in batch)  # noqa: E731
        parts = (get("images", "image"), get("gray"), get("edges", "edge"), get("masks", "mask"))
    elif isinstance(batch, (tuple, list)) and len(batch) == 4:
        parts = tuple(batch)
    else:
        raise ValueError(f"a batch must be (images, gray, edges, masks) or the dataset's Sample, got {type(batch).__name__}")
    out = []
    for name, t, ch in zip(Batch._fields, parts, (3, 1, 1, 1)):
        if not isinstance(t, torch.Tensor) or t.dim() != 4 or t.shape[1] != ch:
            shape = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            raise ValueError(f"batch.{name} must be a tensor (B, {ch}, H, W), got {shape}")
        t = t.to(device, torch.float32, non_blocking=True)
        out.append(t.contiguous(memory_format=torch.channels_last) if channels_last else t)
    return Batch(*out)


# ----------------------------------------------------------------------------------------------------------
# The inputs of the two generators (authors' EdgeModel.forward / InpaintingModel.forward)
# ----------------------------------------------------------------------------------------------------------
def mask_edge_input(gray: torch.Tensor, edges: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """G_edge's input ``cat(gray_masked, edges_masked, mask)``, (B, 3, H, W) (paper Eq. 1).

    ``gray_masked = gray * (1 - M) + M`` (the hole painted white, as the authors did),
    ``edges_masked = edges * (1 - M)``.
    """
    return torch.cat((gray * (1 - masks) + masks, edges * (1 - masks), masks), dim=1)


def mask_image_input(images: torch.Tensor, edges: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """G_inpaint's input ``cat(images_masked, edges)``, (B, 4, H, W), ``images_masked = I * (1 - M) + M``."""
    return torch.cat((images * (1 - masks) + masks, edges), dim=1)


def known_mean_colour(images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Per-image mean RGB of the known pixels, (B, 3, 1, 1); mid-grey 0.5 for an image with no known pixel."""
    known = 1 - masks
    count = known.sum(dim=(2, 3), keepdim=True)
    total = (images * known).sum(dim=(2, 3), keepdim=True)
    return torch.where(count > 0, total / count.clamp_min(1), torch.full_like(total, 0.5))


def inpaint_outputs(G_inpaint: nn.Module, images: torch.Tensor, edges: torch.Tensor, masks: torch.Tensor,
                    colour_reference: bool | None = None) -> torch.Tensor:
    """G_inpaint's RGB output for a batch, (B, 3, H, W) in [0, 1], not composited (paper Eq. 4).

    ``G_inpaint(mask_image_input(images, edges, masks))``, or, with a colour reference (``colour_reference``; by
    default the generator's own setting, see :class:`~edgeconnect_lib.networks.InpaintGenerator`), with the
    known pixels' mean colour ``mu`` moved to grey first and back after:
    ``clamp(G_inpaint(mask_image_input(images - mu + 0.5, edges, masks)) - 0.5 + mu, 0, 1)``. Instance
    normalisation makes G2 nearly invariant to an overall colour shift of its input; the shift hands it the
    colour it cannot see. Pass ``colour_reference`` when ``G_inpaint`` is a wrapper (DDP, compiled).
    """
    if colour_reference is None:
        colour_reference = bool(getattr(G_inpaint, "colour_reference", False))
    if not colour_reference:
        return G_inpaint(mask_image_input(images, edges, masks))
    mu = known_mean_colour(images, masks)
    outputs = G_inpaint(mask_image_input(images - mu + 0.5, edges, masks))
    return (outputs - 0.5 + mu).clamp(0.0, 1.0)


def composite(pred: torch.Tensor, known: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """``pred * M + known * (1 - M)``: the prediction in the hole, the known pixels elsewhere."""
    return pred * masks + known * (1 - masks)


# ----------------------------------------------------------------------------------------------------------
# Mixed precision
# ----------------------------------------------------------------------------------------------------------
class Precision:
    """Autocast and loss scaling for one device.

    ``amp``: ``"off"`` (fp32), ``"bf16"`` (autocast to bfloat16, no scaling needed), ``"fp16"`` (autocast
    to float16 with a ``GradScaler``) or ``"auto"``: bf16 on a CUDA GPU that supports it, else fp16 on CUDA;
    bf16 on a CPU with native bf16 instructions (AVX512-BF16 or AMX: there the convolutions, ~80% of a step, run
    about twice as fast as in fp32, ``benchmarks/train_step.py``); fp32 on other CPUs (bf16 would be emulated,
    slower) and on MPS. ``reason`` says which and why, for the one line a trainer prints.

    Autocast keeps the weights, the optimiser and the losses' reductions in fp32; only the convolutions' inputs
    and weights are rounded to bf16 (8 significant bits), as in mixed-precision training on GPUs.
    """

    def __init__(self, device: torch.device, amp: str = "auto") -> None:
        from .utils import cpu_has_native_bf16

        device = torch.device(device)
        asked = amp
        if amp == "auto":
            amp = "off"
            if device.type == "cuda":
                amp = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
            elif device.type == "cpu" and cpu_has_native_bf16():
                amp = "bf16"
        if amp not in ("off", "bf16", "fp16"):
            raise ValueError(f"amp={amp!r}: choose 'auto', 'off', 'bf16' or 'fp16'")
        if amp == "fp16" and device.type != "cuda":
            raise ValueError(f"amp='fp16' needs a CUDA device (got {device.type}); use 'bf16' or 'off'")
        self.device, self.mode = device, amp
        # the precision and, when it was chosen by "auto", why (the one line a trainer or the CLI prints)
        if asked != "auto":
            self.reason = amp
        elif device.type == "cpu":
            self.reason = (f"{amp} (auto: this CPU has native bf16)" if amp == "bf16" else
                           f"{amp} (auto: this CPU has no native bf16, where bf16 would be emulated and slower)")
        else:
            self.reason = f"{amp} (auto on {device.type})"
        self.dtype = {"off": None, "bf16": torch.bfloat16, "fp16": torch.float16}[amp]
        self.scaler = torch.amp.GradScaler("cuda") if amp == "fp16" else None

    def autocast(self):
        """A context running the forward pass in the chosen precision."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def backward_step(self, loss: torch.Tensor, *optimizers: torch.optim.Optimizer) -> None:
        """``loss.backward()`` then ``step()`` of each optimiser (scaled with fp16)."""
        if self.scaler is None:
            loss.backward()
            for opt in optimizers:
                opt.step()
        else:
            self.scaler.scale(loss).backward()
            for opt in optimizers:
                self.scaler.step(opt)

    def update(self) -> None:
        """End of the iteration: adjust the loss scale once (fp16 only)."""
        if self.scaler is not None:
            self.scaler.update()


class _SpectralNormInFullPrecision:
    """Runs a legacy spectral-norm hook with autocast switched off.

    Under CUDA autocast ``torch.mv`` runs in bf16/fp16 while ``torch.dot`` does not cast, so the hook's
    ``sigma = dot(u, mv(W, v))`` would mix float32 and bfloat16 and fail; the power iteration is also better
    kept in float32. The convolution that follows still runs in the autocast precision.
    """

    def __init__(self, hook, device_type: str) -> None:
        self.hook, self.device_type = hook, device_type

    def __getattr__(self, name: str):  # behave like the wrapped hook (name, eps, ...)
        return getattr(self.hook, name)

    def __call__(self, module: nn.Module, inputs: Any) -> None:
        with torch.autocast(self.device_type, enabled=False):
            return self.hook(module, inputs)


def spectral_norm_outside_autocast(module: nn.Module, device_type: str) -> nn.Module:
    """Wrap every legacy spectral-norm hook in ``module`` with :class:`_SpectralNormInFullPrecision`."""
    from torch.nn.utils.spectral_norm import SpectralNorm

    for m in module.modules():
        for key, hook in list(m._forward_pre_hooks.items()):
            if isinstance(hook, SpectralNorm):
                m._forward_pre_hooks[key] = _SpectralNormInFullPrecision(hook, device_type)
            elif isinstance(hook, _SpectralNormInFullPrecision):
                hook.device_type = device_type
    return module


# ----------------------------------------------------------------------------------------------------------
# Shared machinery of the trainable models
# ----------------------------------------------------------------------------------------------------------
def _adam(params, lr: float, cfg: TrainConfig) -> torch.optim.Adam:
    # beta1 = 0 (paper Sec. 4.1): no momentum, as often for GANs
    return torch.optim.Adam(params, lr=lr, betas=(cfg.beta1, cfg.beta2))


def _loss_weights(cfg: TrainConfig) -> LossWeights:
    return LossWeights(edge_adv=cfg.edge_adv, edge_fm=cfg.edge_fm, l1=cfg.l1, inpaint_adv=cfg.inpaint_adv,
                       perceptual=cfg.perceptual, style=cfg.style, gan=cfg.gan,
                       seam_l1=cfg.seam_l1, seam_width=cfg.seam_width, edge_bce=cfg.edge_bce)


@contextlib.contextmanager
def _frozen(module: nn.Module) -> Iterator[None]:
    """Parameters of ``module`` need no gradient inside the block (the generator's step through D)."""
    flags = [p.requires_grad for p in module.parameters()]
    module.requires_grad_(False)
    try:
        yield
    finally:
        for p, f in zip(module.parameters(), flags):
            p.requires_grad_(f)


class _TrainableModel(nn.Module):
    """Networks + optimisers + precision; subclasses define ``train_step``.

    ``networks`` maps a name (``G_edge``, ``D_edge``, ``G_inpaint``, ``D_inpaint``) to a module,
    ``optimizers`` a name to its Adam. ``self.run[name]`` is the module to call in the training step: the
    network itself, or its ``DistributedDataParallel`` wrapper after :meth:`distribute`.
    """

    stage: str = ""

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.weights = _loss_weights(cfg)
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.precision = Precision(torch.device("cpu"), "off")
        self.channels_last = False
        self.run: dict[str, nn.Module] = {}

    # -- names ----------------------------------------------------------------------------------------
    def networks(self) -> dict[str, nn.Module]:
        return {name: m for name, m in self.named_children() if name in ("G_edge", "D_edge", "G_inpaint", "D_inpaint")}

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def setup(self, device: torch.device | str = "cpu", amp: str = "off", channels_last: bool = False) -> "_TrainableModel":
        """Move to ``device``, choose the precision, channels-last memory (CUDA only), build the optimisers."""
        device = torch.device(device)
        self.to(device)
        self.channels_last = bool(channels_last) and device.type == "cuda"
        if self.channels_last:
            self.to(memory_format=torch.channels_last)
        self.precision = Precision(device, amp)
        if self.precision.dtype is not None:
            for net in self.networks().values():
                spectral_norm_outside_autocast(net, device.type)
        # the optimised step (mixed precision): G1's 1-channel output convolution as depthwise + sum, in fp32
        if getattr(self, "G_edge", None) is not None:
            use_single_output_conv(self.G_edge, self.precision.dtype is not None)
        if getattr(self, "perceptual_style", None) is not None:
            self.perceptual_style.to(device)
            if self.channels_last:
                self.perceptual_style.to(memory_format=torch.channels_last)
        self.optimizers = self._make_optimizers()
        self.run = {name: m for name, m in self.networks().items()}
        return self

    def _make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def distribute(self, device_ids: Sequence[int] | None = None) -> None:
        """Wrap every trained network in ``DistributedDataParallel`` (the process group must exist).

        ``broadcast_buffers=True`` (the default) keeps spectral norm's ``weight_u`` / ``weight_v`` buffers equal
        on all ranks: rank 0's copy is sent at each forward through the wrapper.
        """
        import inspect

        from torch.nn.parallel import DistributedDataParallel as DDP

        # newer PyTorch renamed broadcast_buffers to forward_sync_buffers (same meaning)
        params = inspect.signature(DDP.__init__).parameters
        sync = {"forward_sync_buffers": True} if "forward_sync_buffers" in params else {"broadcast_buffers": True}
        for name in self.optimizers:
            module = self.networks()[name]
            self.run[name] = DDP(module, device_ids=device_ids, **sync)

    def set_lr(self, scale: float) -> None:
        """Set every optimiser's lr to its base lr x ``scale`` (the paper's step schedule)."""
        for name, opt in self.optimizers.items():
            base = self._base_lr(name)
            for group in opt.param_groups:
                group["lr"] = base * scale

    def _base_lr(self, name: str) -> float:
        lr = self.cfg.generator_lr
        return lr * self.cfg.d2g_lr if name.startswith("D") else lr

    def lr(self) -> float:
        """The generator's current learning rate."""
        name = next(n for n in self.optimizers if n.startswith("G"))
        return float(self.optimizers[name].param_groups[0]["lr"])

    def _batch(self, batch: Any) -> Batch:
        return to_batch(batch, self.device, self.channels_last)

    @staticmethod
    def _floats(values: dict[str, torch.Tensor]) -> dict[str, float]:
        """One device-to-host copy for all numbers; raise on the first non-finite loss."""
        names = list(values)
        numbers = torch.stack([values[n].detach().float().reshape(()) for n in names]).cpu().tolist()
        out = dict(zip(names, numbers))
        for n, v in out.items():
            if n.startswith("loss") and not np.isfinite(v):
                raise NonFiniteLossError(n, v)
        return out

    def _discriminator_step(self, name: str, real: torch.Tensor, fake: torch.Tensor):
        """One forward of ``cat(real, fake.detach())`` through D, ``loss_D`` backward, D's step.

        Returns ``(loss_D, real_features)`` (features detached, for feature matching).
        """
        b = real.shape[0]
        opt = self.optimizers[name]
        opt.zero_grad(set_to_none=True)
        with self.precision.autocast():
            # one pass for both halves: D has no batch statistics, so this equals two passes (except that
            # spectral norm does one power-iteration step here instead of the authors' two)
            logits, feats = self.run[name](torch.cat((real, fake.detach()), dim=0))
            # L_D = (L_real + L_fake) / 2 on fakes.detach(): no gradient reaches G here
            loss_D = discriminator_loss(logits[:b], logits[b:], self.weights.gan)
        self.precision.backward_step(loss_D, opt)
        return loss_D, [f[:b].detach() for f in feats]


# ----------------------------------------------------------------------------------------------------------
# Stage 1: edge model
# ----------------------------------------------------------------------------------------------------------
def _edge_scores(edges_pred: torch.Tensor, edges: torch.Tensor, masks: torch.Tensor) -> dict[str, torch.Tensor]:
    """Precision and recall of ``edges_pred > 0.5`` inside the hole, batch means (tensors, no host sync).

    Same definition as :func:`edgeconnect_lib.metrics.edge_precision_recall` (which checks its inputs).
    """
    with torch.no_grad():
        hole = masks > 0.5
        precision, recall = binary_precision_recall((edges_pred.detach() > 0.5) & hole, (edges > 0.5) & hole)
        return {"precision": precision.mean().float(), "recall": recall.mean().float()}


class EdgeModel(_TrainableModel):
    """G_edge + D_edge, trained by the edge objective (paper Eq. 2).

    ``D_edge`` judges ``cat(gray, edges)``: the real pair uses the ground-truth Canny edges, the fake pair the
    generator's full output (as the authors' code, not the composite).
    """

    stage = "edge"

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        self.G_edge = build_model_network("G_edge", cfg)
        self.D_edge = build_model_network("D_edge", cfg)

    def _make_optimizers(self):
        return {"G_edge": _adam(self.G_edge.parameters(), self.cfg.generator_lr, self.cfg),
                "D_edge": _adam(self.D_edge.parameters(), self.cfg.generator_lr * self.cfg.d2g_lr, self.cfg)}

    def forward(self, gray: torch.Tensor, edges: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """Edge probabilities ``G_edge(cat(gray_masked, edges_masked, M))``, (B, 1, H, W)."""
        return self.run.get("G_edge", self.G_edge)(mask_edge_input(gray, edges, masks))

    def train_step(self, batch: Any) -> dict[str, float]:
        """One update of D_edge then G_edge; returns ``loss_D, loss_G, loss_G_adv, loss_G_fm, precision, recall``."""
        self.train()
        x = self._batch(batch)
        with self.precision.autocast():
            edges_pred = self(x.gray, x.edges, x.masks)  # (B, 1, H, W)
        real = torch.cat((x.gray, x.edges), dim=1)
        fake = torch.cat((x.gray, edges_pred), dim=1)
        loss_D, real_feats = self._discriminator_step("D_edge", real, fake)

        opt_G = self.optimizers["G_edge"]
        opt_G.zero_grad(set_to_none=True)
        with _frozen(self.D_edge), self.precision.autocast():
            # fresh D forward on the fakes, after D's step (no DDP wrapper: D gets no gradient here)
            fake_logits, fake_feats = self.D_edge(fake)
            # L_G1 = lambda_adv1 L_adv1 + lambda_FM L_FM
            terms = edge_generator_objective(fake_logits, real_feats, fake_feats, self.weights,
                                             edges_pred, x.edges, x.masks)
        self.precision.backward_step(terms["loss_G"], opt_G)
        self.precision.update()

        return self._floats({"loss_D": loss_D, **terms, **_edge_scores(edges_pred, x.edges, x.masks)})


# ----------------------------------------------------------------------------------------------------------
# Stages 2 and 3: inpaint model (on ground-truth edges, or on a frozen edge model's edges)
# ----------------------------------------------------------------------------------------------------------
class InpaintModel(_TrainableModel):
    """G_inpaint + D_inpaint, trained by the image-completion objective (paper Sec. 3.2).

    Stage ``"inpaint"``: the edge input is the ground-truth Canny map. Stage ``"edge-inpaint"``: pass a trained
    ``edge_model``; it is frozen (eval mode, no gradient) and its prediction fills the hole of the edge map
    (``edges_pred * M + edges * (1 - M)``), as in the authors' stage 3.

    ``perceptual_style``: the VGG19 losses; ``None`` builds :class:`~edgeconnect_lib.losses.PerceptualStyleLoss`
    with :func:`~edgeconnect_lib.vgg.load_vgg19` (random weights, with a warning, when ImageNet's are absent),
    unless both weights are 0.
    """

    stage = "inpaint"

    def __init__(self, cfg: TrainConfig, edge_model: EdgeModel | nn.Module | None = None,
                 perceptual_style: PerceptualStyleLoss | None = None) -> None:
        super().__init__(cfg)
        self.G_inpaint = build_model_network("G_inpaint", cfg)
        self.D_inpaint = build_model_network("D_inpaint", cfg)
        if edge_model is not None:
            g = edge_model.G_edge if isinstance(edge_model, EdgeModel) else edge_model
            self.G_edge = g
            self.G_edge.requires_grad_(False)
            self.stage = "edge-inpaint"
        if perceptual_style is None and (cfg.perceptual > 0 or cfg.style > 0):
            perceptual_style = _default_perceptual_style()
        # kept out of the registered children: VGG19 is a fixed instrument, not part of the model's state
        self.__dict__["perceptual_style"] = perceptual_style

    def _make_optimizers(self):
        return {"G_inpaint": _adam(self.G_inpaint.parameters(), self.cfg.generator_lr, self.cfg),
                "D_inpaint": _adam(self.D_inpaint.parameters(), self.cfg.generator_lr * self.cfg.d2g_lr, self.cfg)}

    def train(self, mode: bool = True) -> "InpaintModel":
        super().train(mode)
        if hasattr(self, "G_edge"):
            self.G_edge.eval()  # the frozen edge model stays in eval mode (no power iteration)
        return self

    def edges_for(self, x: Batch) -> torch.Tensor:
        """The edge map G_inpaint sees: ground truth, or the frozen edge model's in the hole."""
        if not hasattr(self, "G_edge"):
            return x.edges
        with torch.no_grad(), self.precision.autocast():
            edges_pred = self.G_edge(mask_edge_input(x.gray, x.edges, x.masks)).float()
        return composite(edges_pred, x.edges, x.masks)

    def forward(self, images: torch.Tensor, edges: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """RGB output ``G_inpaint(cat(images_masked, edges))`` in [0, 1], (B, 3, H, W) (not composited)."""
        return inpaint_outputs(self.run.get("G_inpaint", self.G_inpaint), images, edges, masks,
                               self.G_inpaint.colour_reference)

    def _generator_terms(self, x: Batch, outputs: torch.Tensor) -> dict[str, torch.Tensor]:
        with _frozen(self.D_inpaint), self.precision.autocast():
            fake_logits, _ = self.D_inpaint(outputs)
            # L_G2 = l_l1 L_l1 + l_adv2 L_adv2 + l_p L_perc + l_s L_style, on the raw outputs (authors' code)
            return inpaint_generator_objective(outputs, x.images, x.masks, fake_logits, self.perceptual_style,
                                               self.weights)

    @staticmethod
    def _image_metrics(x: Batch, outputs: torch.Tensor) -> dict[str, torch.Tensor]:
        """PSNR (dB) and mean absolute error of the composite, batch means (no host sync)."""
        with torch.no_grad():
            merged = composite(outputs.detach().float(), x.images, x.masks)
            mse = ((merged - x.images) ** 2).flatten(1).mean(1).clamp_min(1e-12)
            # PSNR = 10 log10(1 / MSE) per image
            return {"psnr": (-10.0 * torch.log10(mse)).mean(), "mae": (merged - x.images).abs().mean()}

    def train_step(self, batch: Any) -> dict[str, float]:
        """One update of D_inpaint then G_inpaint; returns losses, ``psnr`` and ``mae`` of the composite."""
        self.train()
        x = self._batch(batch)
        edges = self.edges_for(x)
        with self.precision.autocast():
            outputs = self(x.images, edges, x.masks)  # (B, 3, H, W)
        loss_D, _ = self._discriminator_step("D_inpaint", x.images, outputs)
        opt_G = self.optimizers["G_inpaint"]
        opt_G.zero_grad(set_to_none=True)
        terms = self._generator_terms(x, outputs)
        self.precision.backward_step(terms["loss_G"], opt_G)
        self.precision.update()
        return self._floats({"loss_D": loss_D, **terms, **self._image_metrics(x, outputs)})


def _default_perceptual_style() -> PerceptualStyleLoss:
    """VGG19 losses with :func:`~edgeconnect_lib.vgg.load_vgg19`'s weights (never downloaded here: ImageNet
    weights from ``$EDGECONNECT_VGG19_WEIGHTS`` or the torch hub cache, else seeded random ones, with
    ``load_vgg19``'s warning once per process)."""
    from .vgg import load_vgg19

    vgg, source = load_vgg19(allow_download=False)
    return PerceptualStyleLoss(vgg, source=source)


# ----------------------------------------------------------------------------------------------------------
# Stage 4: joint
# ----------------------------------------------------------------------------------------------------------
class JointModel(InpaintModel):
    """Stage ``"joint"``: G_edge and G_inpaint trained end to end through G2's objective; D_edge is dropped.

    The edge map fed to G_inpaint is ``G_edge(...) * M + edges * (1 - M)`` *with* gradient, so the image
    losses also train G_edge (paper Sec. 4.1: "we remove D1 and train G1 and G2 end to end", lr 1e-6).
    """

    stage = "joint"

    def __init__(self, cfg: TrainConfig, edge_model: EdgeModel | nn.Module | None = None,
                 perceptual_style: PerceptualStyleLoss | None = None) -> None:
        super().__init__(cfg, None, perceptual_style)
        if edge_model is None:
            self.G_edge = build_model_network("G_edge", cfg)
        else:
            self.G_edge = edge_model.G_edge if isinstance(edge_model, EdgeModel) else edge_model
        self.G_edge.requires_grad_(True)
        self.stage = "joint"

    def _make_optimizers(self):
        opts = super()._make_optimizers()
        opts["G_edge"] = _adam(self.G_edge.parameters(), self.cfg.generator_lr, self.cfg)
        return opts

    def train(self, mode: bool = True) -> "JointModel":
        return nn.Module.train(self, mode)  # G_edge trains too

    def edges_for(self, x: Batch) -> torch.Tensor:
        with self.precision.autocast():
            edges_pred = self.run.get("G_edge", self.G_edge)(mask_edge_input(x.gray, x.edges, x.masks))
        return composite(edges_pred, x.edges, x.masks)

    def train_step(self, batch: Any) -> dict[str, float]:
        """One update of D_inpaint, then of G_edge and G_inpaint together."""
        self.train()
        x = self._batch(batch)
        edges = self.edges_for(x)
        with self.precision.autocast():
            outputs = self(x.images, edges, x.masks)
        loss_D, _ = self._discriminator_step("D_inpaint", x.images, outputs)
        opts = (self.optimizers["G_inpaint"], self.optimizers["G_edge"])
        for opt in opts:
            opt.zero_grad(set_to_none=True)
        terms = self._generator_terms(x, outputs)
        self.precision.backward_step(terms["loss_G"], *opts)
        self.precision.update()
        return self._floats({"loss_D": loss_D, **terms, **self._image_metrics(x, outputs),
                             **_edge_scores(edges, x.edges, x.masks)})


def build_model(cfg: TrainConfig, edge_model: EdgeModel | nn.Module | None = None,
                perceptual_style: PerceptualStyleLoss | None = None) -> _TrainableModel:
    """The trainable model of ``cfg.stage`` (``edge-inpaint`` needs ``edge_model``: a trained G_edge)."""
    if cfg.stage == "edge":
        return EdgeModel(cfg)
    if cfg.stage == "inpaint":
        return InpaintModel(cfg, None, perceptual_style)
    if cfg.stage == "edge-inpaint":
        if edge_model is None:
            raise ValueError("stage 'edge-inpaint' trains G_inpaint on a trained edge model's edges: pass "
                             "edge_model= (CLI: --edge-checkpoint PATH from an 'edge' run)")
        return InpaintModel(cfg, edge_model, perceptual_style)
    if cfg.stage == "joint":
        return JointModel(cfg, edge_model, perceptual_style)
    raise ValueError(f"stage={cfg.stage!r}: choose one of edge, inpaint, edge-inpaint, joint")


# ----------------------------------------------------------------------------------------------------------
# Inference pipeline
# ----------------------------------------------------------------------------------------------------------
class InpaintResult(NamedTuple):
    """What :meth:`EdgeConnect.inpaint` returns (NumPy, the input's size): ``image`` (H, W, 3) the composite,
    ``output`` the raw G_inpaint output, ``edges`` the edge map G_inpaint used, ``canny`` the known region's
    Canny edges, ``mask`` (H, W) bool."""

    image: np.ndarray
    output: np.ndarray
    edges: np.ndarray
    canny: np.ndarray
    mask: np.ndarray


def _pad_to_multiple(x: torch.Tensor, multiple: int = 4, minimum: int = 16) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad the bottom/right of ``x`` (reflect; replicate when the image is too small to reflect) so H and W
    are multiples of ``multiple`` and at least ``minimum``. Returns the padded tensor and the original size."""
    h, w = x.shape[-2:]
    H = max(minimum, -(-h // multiple) * multiple)
    W = max(minimum, -(-w // multiple) * multiple)
    if (H, W) == (h, w):
        return x, (h, w)
    mode = "reflect" if (H - h) < h and (W - w) < w else "replicate"
    return F.pad(x, (0, W - w, 0, H - h), mode=mode), (h, w)


def _warn_about_input(hole: np.ndarray, nearly_all: float, min_side: int) -> None:
    """``UserWarning``s for inputs whose result is (nearly) all invented or unchanged."""
    import warnings

    h, w = hole.shape
    ratio = float(hole.mean()) if hole.size else 0.0
    if ratio > nearly_all:
        warnings.warn(f"the hole covers {ratio:.0%} of the image: almost nothing is known, so the result is "
                      "invented (a mask is non-zero where pixels are missing; is it inverted?)", stacklevel=4)
    elif ratio == 0.0:
        warnings.warn("the mask has no hole (all zero): the result is the image unchanged", stacklevel=4)
    if min(h, w) < min_side:
        warnings.warn(f"the image is {w}x{h}, smaller than the networks' minimum of {min_side} px per side: it is "
                      "padded, and the result is mostly invented", stacklevel=4)


class EdgeConnect(nn.Module):
    """The full pipeline for inference: edges first, then the image (paper Fig. 2).

    ``forward(images, masks, edges=None)`` works on batches (B, 3, H, W) / (B, 1, H, W) whose sides are
    multiples of 4; :meth:`inpaint` on one image of any size (padded by reflection to a multiple of 4 and
    cropped back).
    """

    def __init__(self, G_edge: EdgeGenerator, G_inpaint: InpaintGenerator, sigma: float = 2.0,
                 amp: str = "off") -> None:
        super().__init__()
        self.G_edge, self.G_inpaint, self.sigma = G_edge, G_inpaint, sigma
        self.eval()
        self.set_precision(amp)

    def set_precision(self, amp: str = "auto") -> "EdgeConnect":
        """Run both generators in ``amp`` precision (see :class:`Precision`) on the current device; returns self.

        ``"off"`` is the plain fp32 path, the library's default, so a lesson's figures are the same on every CPU.
        Any other setting is the optimised path that the command line's ``inpaint`` and ``evaluate`` use
        (``--amp auto``): bf16 autocast on a CPU with native bf16 or on CUDA (fp32 elsewhere), and G1's output
        convolution computed as depthwise + sum (:class:`~edgeconnect_lib.networks.SingleOutputConv2d`), about 2x
        faster in all (``benchmarks/bench_inference.py``). bf16 changes an 8-bit output pixel by a few levels at
        most (``tests/test_models.py``). Call it again after moving the pipeline to another device.
        """
        self.precision = Precision(self.device, amp)
        if self.precision.dtype is not None:
            spectral_norm_outside_autocast(self, self.device.type)
        # any setting but "off" is the optimised path: also G1's 1-channel output convolution as depthwise + sum
        use_single_output_conv(self.G_edge, amp != "off")
        return self

    @property
    def amp(self) -> str:
        """The precision in use: ``"off"`` (fp32), ``"bf16"`` or ``"fp16"``."""
        return self.precision.mode

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @torch.no_grad()
    def predict_edges(self, gray: torch.Tensor, canny: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """``G_edge``'s edges in the hole, the known region's Canny edges elsewhere, (B, 1, H, W)."""
        with self.precision.autocast():
            predicted = self.G_edge(mask_edge_input(gray, canny, masks)).float()
        return composite(predicted, canny, masks)

    @torch.no_grad()
    def forward(self, images: torch.Tensor, masks: torch.Tensor, canny: torch.Tensor,
                edges: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return ``(merged, outputs, edges)`` for batches; ``canny`` are the known region's edges.

        With ``edges`` given (e.g. drawn by hand), G_edge is skipped and G_inpaint uses them as they are.
        """
        from .metrics import to_gray

        if edges is None:
            edges = self.predict_edges(to_gray(images), canny, masks)
        with self.precision.autocast():
            outputs = inpaint_outputs(self.G_inpaint, images, edges, masks).float()
        return composite(outputs, images, masks), outputs, edges

    #: Largest image (pixels, after ``max_side``) :meth:`inpaint` accepts by default: above it, memory and time
    #: grow past a laptop's (a 5000 x 5000 photo took > 60 s and ~8 GB with the small course network).
    MAX_PIXELS: int = 4_000_000
    #: Hole fraction above which :meth:`inpaint` warns that the result is (nearly) all invented.
    NEARLY_ALL_HOLE: float = 0.95
    #: Shortest side the networks work at; smaller images are padded, with a warning.
    MIN_SIDE: int = 16

    @torch.no_grad()
    def inpaint(self, image, mask, edges=None, max_side: int | None = None,
                max_pixels: int | None = MAX_PIXELS) -> InpaintResult:
        """Inpaint one image of any size.

        ``image``: (H, W, 3) float in [0, 1] (NumPy) or (3, H, W) tensor; ``mask``: (H, W), non-zero = hole;
        ``edges``: optional (H, W) edge map to use instead of G_edge's prediction. Canny runs on the gray
        image with the hole masked out (the authors' test-time edges), sigma ``self.sigma``.

        ``max_side``: an image whose longer side exceeds it is inpainted at that size (area-downscaled; a
        pixel is a hole if any pixel it covers is), the result upscaled (bicubic) and used in the hole only:
        known pixels keep full resolution. ``max_pixels``: a larger image (after ``max_side``) raises a
        ``ValueError`` saying what to do; ``None``: no limit. Warns (``UserWarning``) when the hole covers
        more than :attr:`NEARLY_ALL_HOLE` of the image, when there is no hole, and for sides under
        :attr:`MIN_SIDE` px.
        """
        img = image.detach().cpu().permute(1, 2, 0).numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
        m = mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f"image must be H x W x 3 (RGB in [0, 1]), got shape {img.shape}")
        if m.ndim == 3 and m.shape[2] in (1, 3):
            m = m[..., 0]
        if m.shape != img.shape[:2]:
            raise ValueError(f"mask has size {m.shape[1]}x{m.shape[0]} (WxH) but the image {img.shape[1]}x{img.shape[0]}; "
                             "they must match (resize the mask with nearest neighbour)")
        e = None
        if edges is not None:
            e = edges.detach().cpu().numpy() if isinstance(edges, torch.Tensor) else np.asarray(edges)
            if e.shape != m.shape:
                raise ValueError(f"edges has shape {e.shape}, the image {m.shape}: they must match")
        img = np.clip(img.astype(np.float32), 0.0, 1.0)
        hole = m != 0
        _warn_about_input(hole, self.NEARLY_ALL_HOLE, self.MIN_SIDE)
        h, w = hole.shape
        if max_side is not None and max(h, w) > max_side:
            return self._inpaint_downscaled(img, hole, e, max_side, max_pixels)
        if max_pixels is not None and h * w > max_pixels:
            raise ValueError(f"the image is {w}x{h} ({h * w / 1e6:.1f} megapixels), above the limit of "
                             f"{max_pixels / 1e6:.3g} MP: pass max_side=2048 (CLI --max-side 2048) to inpaint a "
                             "downscaled copy with full-resolution known pixels, resize it, or raise max_pixels "
                             "(CLI --max-megapixels) if you have the memory")
        return self._inpaint_full(img, hole, e)

    def _inpaint_full(self, img: np.ndarray, hole: np.ndarray, e: np.ndarray | None) -> InpaintResult:
        """:meth:`inpaint` at the image's own size (checked inputs: float RGB, bool hole, edges or None)."""
        from .edges import canny_edges
        from .images import rgb_to_gray

        canny = canny_edges(rgb_to_gray(img), sigma=self.sigma, mask=hole)
        dev = self.device
        t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(dev)  # noqa: E731
        images = t(img).permute(2, 0, 1)[None]
        masks, canny_t = t(hole)[None, None], t(canny)[None, None]
        user_edges = t(e.astype(np.float32))[None, None] if e is not None else None
        stack = torch.cat([images, masks, canny_t] + ([user_edges] if user_edges is not None else []), dim=1)
        stack, (h, w) = _pad_to_multiple(stack)
        images_p, masks_p, canny_p = stack[:, :3], stack[:, 3:4], stack[:, 4:5]
        user_p = stack[:, 5:6] if user_edges is not None else None
        merged, outputs, used = self(images_p, masks_p, canny_p, user_p)
        crop = lambda x: x[0, :, :h, :w].permute(1, 2, 0).cpu().numpy()  # noqa: E731
        return InpaintResult(crop(merged), crop(outputs), crop(used)[..., 0], canny, hole)

    def _inpaint_downscaled(self, img: np.ndarray, hole: np.ndarray, e: np.ndarray | None, max_side: int,
                            max_pixels: int | None) -> InpaintResult:
        """Inpaint a copy whose longer side is ``max_side``, then fill the full-size hole from it."""
        h, w = hole.shape
        scale = max_side / max(h, w)
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        if max_pixels is not None and size[0] * size[1] > max_pixels:
            raise ValueError(f"max_side={max_side} still gives {size[1]}x{size[0]} pixels, above the limit of "
                             f"{max_pixels / 1e6:.3g} MP: use a smaller max_side")
        down = lambda a, mode="area": F.interpolate(  # noqa: E731
            torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).permute(2, 0, 1)[None], size=size, mode=mode)
        up = lambda a, mode="bicubic": F.interpolate(  # noqa: E731
            torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).permute(2, 0, 1)[None], size=(h, w),
            mode=mode, **({} if mode == "nearest" else {"align_corners": False}))[0].permute(1, 2, 0).numpy()
        small_img = down(img)[0].permute(1, 2, 0).numpy()
        small_hole = down(hole[..., None])[0, 0].numpy() > 0
        small_e = down(e.astype(np.float32)[..., None])[0, 0].numpy() > 0.25 if e is not None else None
        small = self._inpaint_full(small_img, small_hole, small_e)
        output = np.clip(up(small.output), 0.0, 1.0)
        merged = np.where(hole[..., None], output, img).astype(np.float32)
        edges = up(small.edges[..., None], "bilinear")[..., 0]
        canny = up(small.canny[..., None].astype(np.float32), "nearest")[..., 0] > 0.5
        return InpaintResult(merged, output, edges, canny, hole)

    # -- files -------------------------------------------------------------------------------------------
    def save(self, path: str | Path, **metadata: Any) -> Path:
        """Write the two generators (weights + sizes) as a small checkpoint that :meth:`load` reads."""
        obj = {"format": "edgeconnect_lib.pipeline/1",
               "networks": {"G_edge": self.G_edge.state_dict(), "G_inpaint": self.G_inpaint.state_dict()},
               "network_configs": {"G_edge": network_config(self.G_edge), "G_inpaint": network_config(self.G_inpaint)},
               "sigma": float(self.sigma), "metadata": dict(metadata)}
        return atomic_save(obj, Path(path))

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "cpu", amp: str = "off") -> "EdgeConnect":
        """The pipeline from a file of :meth:`save` or a trainer checkpoint holding both generators
        (stages ``edge-inpaint`` and ``joint``); a folder means its latest checkpoint. ``amp``: see
        :meth:`set_precision`."""
        ckpt = load_checkpoint(path, map_location="cpu")
        nets = ckpt.get("networks", {})
        missing = [n for n in ("G_edge", "G_inpaint") if n not in nets]
        if missing:
            raise ValueError(f"{path} holds no {' / '.join(missing)}: give a checkpoint of stage 'edge-inpaint' or "
                             "'joint' (or use EdgeConnect.from_checkpoints(edge=..., inpaint=...))")
        sigma = float(ckpt.get("sigma", ckpt.get("config", {}).get("sigma", 2.0)))
        pipeline = cls(network_from_checkpoint(ckpt, "G_edge"), network_from_checkpoint(ckpt, "G_inpaint"), sigma)
        return pipeline.to(device).set_precision(amp)

    @classmethod
    def from_authors(cls, folder: str | Path, sigma: float = 2.0, device: str | torch.device = "cpu") -> "EdgeConnect":
        """The pipeline from the authors' released checkpoint folder (``EdgeModel_gen.pth`` and
        ``InpaintingModel_gen.pth``, e.g. ``python -m edgeconnect_lib download places2``): the paper's
        networks at the paper's sizes, without the course's colour reference (the authors trained without it)."""
        from .checkpoints import AUTHORS_FILES, load_authors_checkpoint

        folder = Path(folder)
        names = {kind: AUTHORS_FILES[kind][0] for kind in ("edge_generator", "inpaint_generator")}
        missing = [n for n in names.values() if not (folder / n).is_file()]
        if missing:
            raise FileNotFoundError(f"{folder}: no {' / '.join(missing)} (the authors' generator files); fetch them "
                                    "with 'python -m edgeconnect_lib download places2' (or celeba, psv)")
        g_edge = load_authors_checkpoint(folder / names["edge_generator"], kind="edge_generator")
        g_inpaint = load_authors_checkpoint(folder / names["inpaint_generator"], kind="inpaint_generator")
        return cls(g_edge, g_inpaint, sigma).to(device)

    @classmethod
    def from_models(cls, *models: nn.Module, sigma: float = 2.0) -> "EdgeConnect":
        """The pipeline from trained models that hold ``G_edge`` and ``G_inpaint`` between them
        (e.g. an :class:`EdgeModel` and an :class:`InpaintModel`, or one ``edge-inpaint`` / joint model).
        The generators are shared, not copied."""
        found = {}
        for m in models:
            for name in ("G_edge", "G_inpaint"):
                if name not in found and isinstance(getattr(m, name, None), nn.Module):
                    found[name] = getattr(m, name)
        missing = [n for n in ("G_edge", "G_inpaint") if n not in found]
        if missing:
            raise ValueError(f"EdgeConnect.from_models: no {' / '.join(missing)} among the given models")
        return cls(found["G_edge"], found["G_inpaint"], sigma)

    @classmethod
    def from_checkpoints(cls, edge: str | Path, inpaint: str | Path, device: str | torch.device = "cpu",
                         amp: str = "off") -> "EdgeConnect":
        """The pipeline from an edge-stage checkpoint and an inpaint-stage checkpoint (``amp``: see
        :meth:`set_precision`)."""
        e, i = load_checkpoint(edge, map_location="cpu"), load_checkpoint(inpaint, map_location="cpu")
        for p, c, n in ((edge, e, "G_edge"), (inpaint, i, "G_inpaint")):
            if n not in c.get("networks", {}):
                raise ValueError(f"{p} holds no {n} (its networks: {sorted(c.get('networks', {}))})")
        sigma = float(e.get("config", {}).get("sigma", 2.0))
        pipeline = cls(network_from_checkpoint(e, "G_edge"), network_from_checkpoint(i, "G_inpaint"), sigma)
        return pipeline.to(device).set_precision(amp)


def network_from_checkpoint(ckpt: Mapping[str, Any], name: str) -> nn.Module:
    """Rebuild network ``name`` of a checkpoint from its stored sizes and load its weights."""
    configs = ckpt.get("network_configs", {})
    if name in configs:
        net = build_network(configs[name], init=False)
    else:  # a trainer checkpoint without sizes: take them from its config
        cfg = TrainConfig.from_dict(ckpt["config"])
        net = build_model_network(name, cfg)
    net.load_state_dict(ckpt["networks"][name])
    return net


def build_model_network(name: str, cfg: TrainConfig) -> nn.Module:
    """A fresh network called ``name`` (G_edge, D_edge, G_inpaint, D_inpaint) at ``cfg``'s size."""
    if name == "G_edge":
        return EdgeGenerator(cfg.base_channels, cfg.residual_blocks, use_spectral_norm=cfg.edge_spectral_norm,
                             upsample=cfg.upsample)
    if name == "G_inpaint":
        return InpaintGenerator(cfg.base_channels, cfg.residual_blocks, colour_reference=cfg.colour_reference,
                                upsample=cfg.upsample)
    if name in ("D_edge", "D_inpaint"):
        return PatchDiscriminator(2 if name == "D_edge" else 3, cfg.disc_channels, use_spectral_norm=True)
    raise ValueError(f"unknown network name {name!r}")
