"""EdgeConnect's trainable models (Nazeri et al. 2019, Sec. 3 and 4.1).

* :class:`EdgeModel` - the edge generator ``G_edge`` (G1) with its discriminator ``D_edge`` (D1), trained by
  Eq. 2 of the paper: ``L_G1 = lambda_adv1 L_adv1 + lambda_FM L_FM``.
* :class:`InpaintModel` - the image-completion generator ``G_inpaint`` (G2) with ``D_inpaint`` (D2), trained by
  ``L_G2 = lambda_l1 L_l1 + lambda_adv2 L_adv2 + lambda_p L_perc + lambda_s L_style``. Its edge input is the
  ground-truth Canny map (stage ``"inpaint"``), or the frozen edge model's prediction in the hole
  (stage ``"edge-inpaint"``).
* :class:`JointModel` - stage ``"joint"``: D_edge is dropped and G_edge + G_inpaint are trained end to end
  by G2's objective (paper Sec. 4.1, at lr 1e-6).
* :class:`EdgeConnect` - the pipeline for inference, whose home is :mod:`edgeconnect_lib.pipeline` (with the
  generators' inputs, :func:`mask_edge_input`, :func:`inpaint_outputs`, :func:`composite`, and the one builder of
  the networks, :func:`build_model_network`), re-exported here: :meth:`EdgeConnect.inpaint` takes one image of
  ANY size and a mask, computes Canny edges of the known region, predicts the edges in the hole, paints the hole
  and composites the result with the known pixels. Mixed precision (:class:`Precision`) is
  :mod:`edgeconnect_lib.precision`'s.

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
from typing import Any, Iterator, Mapping, NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from .compilation import CompilePlan, compile_module, compile_plan
from .config import TrainConfig
from .errors import TrainingDiverged, UsageError
from .losses import (
    LossWeights,
    PerceptualStyleLoss,
    discriminator_loss,
    edge_generator_objective,
    inpaint_generator_objective,
)
from .metrics import binary_precision_recall, psnr_per_image
from .networks import use_single_output_conv
from .options import LOSS_WEIGHTS
from .pipeline import (  # re-exported: lessons and tests import them from here
    EdgeConnect,
    InpaintResult,
    Prepared,
    build_model_network,
    composite,
    inpaint_outputs,
    known_mean_colour,
    mask_edge_input,
    edge_outputs,
    prefill_edges,
    mask_image_input,
    network_from_checkpoint,
    prepare,
)
from .precision import Precision, spectral_norm_outside_autocast

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
    "edge_outputs",
    "prefill_edges",
    "mask_image_input",
    "inpaint_outputs",
    "known_mean_colour",
    "composite",
    "spectral_norm_outside_autocast",
]


#: A loss became NaN or infinite (``name`` says which one): the step-level name of the one divergence type,
#: :class:`edgeconnect_lib.errors.TrainingDiverged`, which the trainers raise again with the iteration and the last
#: good checkpoint.
NonFiniteLossError = TrainingDiverged


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
        raise UsageError(f"a batch must be (images, gray, edges, masks) or the dataset's Sample, got {type(batch).__name__}")
    out = []
    for name, t, ch in zip(Batch._fields, parts, (3, 1, 1, 1)):
        if not isinstance(t, torch.Tensor) or t.dim() != 4 or t.shape[1] != ch:
            shape = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            raise UsageError(f"batch.{name} must be a tensor (B, {ch}, H, W), got {shape}")
        t = t.to(device, torch.float32, non_blocking=True)
        out.append(t.contiguous(memory_format=torch.channels_last) if channels_last else t)
    return Batch(*out)


# ----------------------------------------------------------------------------------------------------------
# Shared machinery of the trainable models
# ----------------------------------------------------------------------------------------------------------
def _adam(params, lr: float, cfg: TrainConfig) -> torch.optim.Adam:
    # beta1 = 0 (paper Sec. 4.1): no momentum, as often for GANs
    return torch.optim.Adam(params, lr=lr, betas=(cfg.beta1, cfg.beta2))


def _loss_weights(cfg: TrainConfig) -> LossWeights:
    # every weight of options.LOSS_WEIGHTS, so that a new term needs no line here
    return LossWeights(gan=cfg.gan, seam_width=cfg.seam_width, **{name: getattr(cfg, name) for name in LOSS_WEIGHTS})


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
        self.compile_plan = CompilePlan(False, "eager (not set up)")

    # -- names ----------------------------------------------------------------------------------------
    def networks(self) -> dict[str, nn.Module]:
        return {name: m for name, m in self.named_children() if name in ("G_edge", "D_edge", "G_inpaint", "D_inpaint")}

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def setup(self, device: torch.device | str = "cpu", amp: str = "off", channels_last: bool = False,
              compile: str = "off") -> "_TrainableModel":
        """Move to ``device``, choose the precision, channels-last memory (CUDA only), build the optimisers, and
        compile the networks the step calls where ``compile`` says so (:func:`~edgeconnect_lib.compilation.compile_plan`;
        ``compile_plan`` keeps the decision and its reason)."""
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
        self.compile_plan = compile_plan(device, compile)
        self.run = {name: self._compiled(m) for name, m in self.networks().items()}
        return self

    def _compiled(self, module: nn.Module) -> nn.Module:
        return compile_module(module) if self.compile_plan.enabled else module

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
            self.run[name] = self._compiled(DDP(module, device_ids=device_ids, **sync))

    def undistribute(self) -> None:
        """Drop the ``DistributedDataParallel`` wrappers (call before the process group is destroyed).

        A wrapper's reducer holds the process group and its pending work; freed only at interpreter exit, after
        the group is gone, it can abort the process ("terminate called without an active exception"). Freeing
        it here, while both exist, makes the shutdown orderly. The trained networks are untouched.
        """
        import gc

        self.run = {name: self._compiled(m) for name, m in self.networks().items()}
        gc.collect()

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
        return edge_outputs(self.run.get("G_edge", self.G_edge), gray, edges, masks, self.cfg.sigma,
                            prefill=self.G_edge.prefill)

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
        """The edge map G_inpaint sees: ground truth, or the frozen edge model's in the hole.

        With ``cfg.true_edge_share = p > 0`` (stage ``edge-inpaint``, not in the paper), a training sample keeps
        the ground truth's edges in its hole with probability ``p``: G_inpaint then sees both G1's soft guesses
        and crisp true lines (as a user draws them) and learns to follow the latter. Validation (eval mode) always
        uses G1's edges, as the pipeline does."""
        if not hasattr(self, "G_edge"):
            return x.edges
        with torch.no_grad(), self.precision.autocast():
            edges_pred = edge_outputs(self.G_edge, x.gray, x.edges, x.masks, self.cfg.sigma).float()
        edges = composite(edges_pred, x.edges, x.masks)
        share = float(self.cfg.true_edge_share)
        if share > 0 and self.training:
            keep_true = (torch.rand(edges.shape[0], 1, 1, 1, device=edges.device) < share).to(edges.dtype)
            edges = keep_true * x.edges + (1 - keep_true) * edges
        return edges

    def forward(self, images: torch.Tensor, edges: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """RGB output ``G_inpaint(cat(images_masked, edges))`` in [0, 1], (B, 3, H, W) (not composited)."""
        return inpaint_outputs(self.run.get("G_inpaint", self.G_inpaint), images, edges, masks,
                               self.G_inpaint.colour_reference, self.G_inpaint.prefill)

    def _generator_terms(self, x: Batch, outputs: torch.Tensor, edges: torch.Tensor) -> dict[str, torch.Tensor]:
        with _frozen(self.D_inpaint), self.precision.autocast():
            fake_logits, _ = self.D_inpaint(outputs)
            # L_G2 = l_l1 L_l1 + l_adv2 L_adv2 + l_p L_perc + l_s L_style, on the raw outputs (authors' code)
            return inpaint_generator_objective(outputs, x.images, x.masks, fake_logits, self.perceptual_style,
                                               self.weights, edges)

    @staticmethod
    def _image_metrics(x: Batch, outputs: torch.Tensor) -> dict[str, torch.Tensor]:
        """PSNR (dB) and mean absolute error of the composite, batch means (no host sync)."""
        with torch.no_grad():
            merged = composite(outputs.detach().float(), x.images, x.masks)
            return {"psnr": psnr_per_image(merged, x.images).mean(), "mae": (merged - x.images).abs().mean()}

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
        terms = self._generator_terms(x, outputs, edges)
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
            edges_pred = edge_outputs(self.run.get("G_edge", self.G_edge), x.gray, x.edges, x.masks, self.cfg.sigma,
                                      prefill=self.G_edge.prefill)
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
        terms = self._generator_terms(x, outputs, edges)
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
            raise UsageError("stage 'edge-inpaint' trains G_inpaint on a trained edge model's edges: pass "
                             "edge_model= (CLI: --edge-checkpoint PATH from an 'edge' run)")
        return InpaintModel(cfg, edge_model, perceptual_style)
    if cfg.stage == "joint":
        return JointModel(cfg, edge_model, perceptual_style)
    raise UsageError(f"stage={cfg.stage!r}: choose one of edge, inpaint, edge-inpaint, joint")


