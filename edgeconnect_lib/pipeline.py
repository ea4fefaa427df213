"""EdgeConnect's inference pipeline (Nazeri et al. 2019, Fig. 2): Canny edges of the known region, ``G_edge``'s
edges in the hole, ``G_inpaint``'s colours, the known pixels composited back.

* the inputs of the two generators, as the authors' ``EdgeModel.forward`` / ``InpaintingModel.forward`` make them
  (:func:`mask_edge_input` and :func:`edge_outputs`, paper Eq. 1, with the course's :func:`prefill_edges`;
  :func:`mask_image_input` and :func:`inpaint_outputs`, Eq. 4) and
  :func:`composite`: the training models of :mod:`edgeconnect_lib.models` use the same functions;
* :func:`build_model_network` / :func:`network_from_checkpoint`: the one place a G_edge, G_inpaint, D_edge or
  D_inpaint is built at a configuration's size (the paper's sizes for the authors' files are
  :func:`edgeconnect_lib.authors_format.paper_network`);
* :func:`prepare`: one image made ready for the networks (the grey image, the known region's Canny edges with the
  hole masked out, the bottom / right padding to a multiple of 4 by reflection), used by
  :meth:`EdgeConnect.inpaint` and by the editor (:func:`edgeconnect_lib.editor.predict_edges`), so both see the
  same inputs;
* :class:`EdgeConnect`: the two generators together, :meth:`~EdgeConnect.inpaint` on one image of any size, and
  the pipeline's file (``edgeconnect_lib.pipeline/1``, :meth:`~EdgeConnect.save` / :meth:`~EdgeConnect.load`;
  the format itself is described with the library's others in :mod:`edgeconnect_lib.checkpoints`).

Everything here is re-exported by :mod:`edgeconnect_lib.models` (``from edgeconnect_lib.models import
EdgeConnect`` is how the lessons import it).
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Mapping, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .authors_format import AUTHORS_FILES, load_authors_checkpoint
from .checkpoints import load_checkpoint, save_pipeline
from .compilation import compile_module, compile_plan
from .config import TrainConfig
from .edges import canny_edges
from .errors import UsageError
from .images import rgb_to_gray
from .metrics import to_gray
from .networks import (
    EdgeGenerator,
    InpaintGenerator,
    PatchDiscriminator,
    build_network,
    use_single_output_conv,
)
from .precision import Precision, spectral_norm_outside_autocast
from .prefill import pull_push_fill

__all__ = [
    "mask_edge_input",
    "prefill_edges",
    "edge_outputs",
    "mask_image_input",
    "known_mean_colour",
    "inpaint_outputs",
    "composite",
    "build_model_network",
    "network_from_checkpoint",
    "Prepared",
    "prepare",
    "InpaintResult",
    "EdgeConnect",
]


# ----------------------------------------------------------------------------------------------------------
# The inputs of the two generators (authors' EdgeModel.forward / InpaintingModel.forward)
# ----------------------------------------------------------------------------------------------------------
def mask_edge_input(gray: torch.Tensor, edges: torch.Tensor, masks: torch.Tensor,
                    hint: torch.Tensor | None = None) -> torch.Tensor:
    """G_edge's input ``cat(gray_masked, edges_masked, mask)``, (B, 3, H, W) (paper Eq. 1).

    ``gray_masked = gray * (1 - M) + M`` (the hole painted white, as the authors did),
    ``edges_masked = edges * (1 - M)``; with a ``hint`` (B, 1, H, W) (not in the paper: :func:`prefill_edges`),
    ``edges_masked = edges * (1 - M) + hint * M``.
    """
    edges_masked = edges * (1 - masks) if hint is None else edges * (1 - masks) + hint * masks
    return torch.cat((gray * (1 - masks) + masks, edges_masked, masks), dim=1)


def prefill_edges(gray: torch.Tensor, masks: torch.Tensor, sigma: float = 2.0) -> torch.Tensor:
    """A classical guess of the edges in the hole (not in the paper): the Canny edges (``sigma``, the labels'
    detector) of the pull-push fill of the grey image (:func:`edgeconnect_lib.prefill.pull_push_fill`), in the
    hole, 0 elsewhere; (B, 1, H, W) like ``gray``, on its device and dtype.

    The fill continues the known grey levels smoothly into the hole, so its Canny edges carry the lines that
    cross a thin hole and the boundaries of large flat regions, though not the details. Canny runs in NumPy on
    the CPU, one image at a time (about 10 ms at 256 px).
    """
    filled = pull_push_fill(gray.float(), masks.float()).clamp(0.0, 1.0).cpu().numpy()
    hole = masks.detach().float().cpu().numpy() > 0.5
    hints = np.stack([canny_edges(f[0], sigma=sigma) & h[0] for f, h in zip(filled, hole)])[:, None]
    return torch.from_numpy(hints.astype(np.float32)).to(device=gray.device, dtype=gray.dtype)


def edge_outputs(G_edge: nn.Module, gray: torch.Tensor, edges: torch.Tensor, masks: torch.Tensor,
                 sigma: float = 2.0, prefill: bool | None = None) -> torch.Tensor:
    """G_edge's edge probabilities for a batch, (B, 1, H, W), not composited (paper Eq. 1):
    ``G_edge(mask_edge_input(gray, edges, masks))``.

    With ``prefill`` (the generator's own setting by default; pass it when ``G_edge`` is a wrapper, DDP or
    compiled; not in the paper), the hole of the edge channel holds :func:`prefill_edges` at ``sigma`` instead of
    zeros, and G1 corrects and continues them (:class:`~edgeconnect_lib.networks.EdgeGenerator`).
    """
    if prefill is None:
        prefill = bool(getattr(G_edge, "prefill", False))
    hint = prefill_edges(gray, masks, sigma) if prefill else None
    return G_edge(mask_edge_input(gray, edges, masks, hint))


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
                    colour_reference: bool | None = None, prefill: bool | None = None) -> torch.Tensor:
    """G_inpaint's RGB output for a batch, (B, 3, H, W) in [0, 1], not composited (paper Eq. 4).

    ``G_inpaint(mask_image_input(images, edges, masks))``, or, with a colour reference (``colour_reference``; by
    default the generator's own setting, see :class:`~edgeconnect_lib.networks.InpaintGenerator`), with the
    known pixels' mean colour ``mu`` moved to grey first and back after:
    ``clamp(G_inpaint(mask_image_input(images - mu + 0.5, edges, masks)) - 0.5 + mu, 0, 1)``. Instance
    normalisation makes G2 nearly invariant to an overall colour shift of its input; the shift hands it the
    colour it cannot see. Pass ``colour_reference`` when ``G_inpaint`` is a wrapper (DDP, compiled).

    With ``prefill`` (the generator's own setting by default; not in the paper), the hole is filled with the
    pull-push fill ``P`` (:func:`edgeconnect_lib.prefill.pull_push_fill`) instead of white and the mask is a fifth
    channel: ``G_inpaint(cat(I * (1 - M) + P * M, edges, M))``, whose output is that image plus G2's correction.
    """
    if prefill is None:
        prefill = bool(getattr(G_inpaint, "prefill", False))
    if prefill:
        filled = composite(pull_push_fill(images, masks), images, masks)
        return G_inpaint(torch.cat((filled, edges, masks), dim=1))
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
# The networks, built at a configuration's size
# ----------------------------------------------------------------------------------------------------------
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
                             upsample=cfg.upsample, prefill=cfg.edge_prefill)
    if name == "G_inpaint":
        return InpaintGenerator(cfg.base_channels, cfg.residual_blocks, colour_reference=cfg.colour_reference,
                                upsample=cfg.upsample, prefill=cfg.prefill)
    if name in ("D_edge", "D_inpaint"):
        return PatchDiscriminator(2 if name == "D_edge" else 3, cfg.disc_channels, use_spectral_norm=True)
    raise UsageError(f"unknown network name {name!r}")


# ----------------------------------------------------------------------------------------------------------
# Inference
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


class Prepared(NamedTuple):
    """One image made ready for the networks by :func:`prepare`. Tensors (1, C, H', W') on the pipeline's device,
    padded at the bottom / right to the networks' multiple: ``images`` (C = 3), ``masks`` (1 = hole), ``canny`` (the
    known region's Canny edges), ``edges`` (a given edge map, or None); ``canny_map`` the Canny edges at the image's
    own size, (H, W) bool; ``size`` (H, W), to which :meth:`crop` cuts an output back."""

    images: torch.Tensor
    masks: torch.Tensor
    canny: torch.Tensor
    edges: torch.Tensor | None
    canny_map: np.ndarray
    size: tuple[int, int]

    @property
    def gray(self) -> torch.Tensor:
        """G_edge's grey input (1, 1, H', W'): the luminance of ``images`` (the weights of ``rgb_to_gray``)."""
        return to_gray(self.images)

    def crop(self, x: torch.Tensor) -> np.ndarray:
        """A padded output (1, C, H', W') cut back to the image's size: (H, W, C) NumPy on the CPU."""
        h, w = self.size
        return x[0, :, :h, :w].permute(1, 2, 0).cpu().numpy()


def prepare(image: np.ndarray, hole: np.ndarray, edges: np.ndarray | None = None, sigma: float = 2.0,
            device: str | torch.device = "cpu") -> Prepared:
    """One image as the networks take it: what :meth:`EdgeConnect.inpaint` and the editor's
    :func:`~edgeconnect_lib.editor.predict_edges` both compute before ``G_edge``.

    ``image`` (H, W, 3) floats in [0, 1] (clipped); ``hole`` (H, W), non-zero = missing; ``edges`` optional (H, W)
    edge map to use instead of G_edge's. The known region's edges are Canny of the grey image with the hole masked
    out (``canny_edges(rgb_to_gray(image), sigma, mask=hole)``: the authors' test-time edges, nothing in the hole
    nor on the pixels touching it); everything is padded at the bottom / right to a multiple of 4 and at least 16
    px (by reflection; replicated where the image is too small to reflect), the sizes the networks' two stride-2
    convolutions need.
    """
    image = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    hole = np.asarray(hole) != 0
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[:2] != hole.shape:
        raise UsageError(f"image must be H x W x 3 with the hole's size {hole.shape}, got {image.shape}")
    if edges is not None and np.shape(edges) != hole.shape:
        raise UsageError(f"edges has shape {np.shape(edges)}, the image {hole.shape}: they must match")
    canny = canny_edges(rgb_to_gray(image), sigma=sigma, mask=hole)
    dev = torch.device(device)
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(dev)  # noqa: E731
    images = t(image).permute(2, 0, 1)[None]
    masks, canny_t = t(hole)[None, None], t(canny)[None, None]
    given = t(np.asarray(edges).astype(np.float32))[None, None] if edges is not None else None
    stack = torch.cat([images, masks, canny_t] + ([given] if given is not None else []), dim=1)
    stack, size = _pad_to_multiple(stack)
    return Prepared(stack[:, :3], stack[:, 3:4], stack[:, 4:5], stack[:, 5:6] if given is not None else None,
                    canny, size)


def _warn_about_input(hole: np.ndarray, nearly_all: float, min_side: int) -> None:
    """``UserWarning``s for inputs whose result is (nearly) all invented or unchanged."""
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
        self.set_compile("off")

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

    def set_compile(self, compile: str = "auto") -> "EdgeConnect":
        """Compile both generators for this device where ``compile`` says so (``"auto"``: on CUDA only; ``"on"``;
        ``"off"``, the library's default; :func:`~edgeconnect_lib.compilation.compile_plan`, whose decision and
        reason ``compile_plan`` keeps). The compiled modules share the generators' weights and are kept outside the
        module tree, so ``state_dict`` and :meth:`save` are unchanged. Call it again after moving the pipeline."""
        self.compile_plan = compile_plan(self.device, compile)
        wrap = compile_module if self.compile_plan.enabled else (lambda m: m)
        # a plain dict: an nn.Module attribute would register the wrappers and double the state dict
        self._run = {"G_edge": wrap(self.G_edge), "G_inpaint": wrap(self.G_inpaint)}
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
            predicted = edge_outputs(self._run["G_edge"], gray, canny, masks, self.sigma,
                                     prefill=bool(getattr(self.G_edge, "prefill", False))).float()
        return composite(predicted, canny, masks)

    def edge_map(self, image: np.ndarray, hole: np.ndarray) -> np.ndarray:
        """The soft edge map G_inpaint would get for one image, (H, W) float: ``G_edge``'s probabilities in the hole,
        the known region's Canny edges elsewhere (:meth:`prepare`, then :meth:`predict_edges`, cut back to the
        image's size). The editor thresholds it into an editable map; ``evaluate`` scores it."""
        x = self.prepare(image, hole)
        return x.crop(self.predict_edges(x.gray, x.canny, x.masks))[..., 0]

    @torch.no_grad()
    def forward(self, images: torch.Tensor, masks: torch.Tensor, canny: torch.Tensor,
                edges: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return ``(merged, outputs, edges)`` for batches; ``canny`` are the known region's edges.

        With ``edges`` given (e.g. drawn by hand), G_edge is skipped and G_inpaint uses them as they are.
        """
        if edges is None:
            edges = self.predict_edges(to_gray(images), canny, masks)
        with self.precision.autocast():
            outputs = inpaint_outputs(self._run["G_inpaint"], images, edges, masks,
                                      colour_reference=self.G_inpaint.colour_reference,
                                      prefill=self.G_inpaint.prefill).float()
        return composite(outputs, images, masks), outputs, edges

    #: Largest image (pixels, after ``max_side``) :meth:`inpaint` accepts by default: above it, memory and time
    #: grow past a laptop's (the measured time and memory of a large photo: ``benchmarks/README.md``).
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
            raise UsageError(f"image must be H x W x 3 (RGB in [0, 1]), got shape {img.shape}")
        if m.ndim == 3 and m.shape[2] in (1, 3):
            m = m[..., 0]
        if m.shape != img.shape[:2]:
            raise UsageError(f"mask has size {m.shape[1]}x{m.shape[0]} (WxH) but the image {img.shape[1]}x{img.shape[0]}; "
                             "they must match (resize the mask with nearest neighbour)")
        e = None
        if edges is not None:
            e = edges.detach().cpu().numpy() if isinstance(edges, torch.Tensor) else np.asarray(edges)
            if e.shape != m.shape:
                raise UsageError(f"edges has shape {e.shape}, the image {m.shape}: they must match")
        img = np.clip(img.astype(np.float32), 0.0, 1.0)
        hole = m != 0
        _warn_about_input(hole, self.NEARLY_ALL_HOLE, self.MIN_SIDE)
        h, w = hole.shape
        if max_side is not None and max(h, w) > max_side:
            return self._inpaint_downscaled(img, hole, e, max_side, max_pixels)
        if max_pixels is not None and h * w > max_pixels:
            raise UsageError(f"the image is {w}x{h} ({h * w / 1e6:.1f} megapixels), above the limit of "
                             f"{max_pixels / 1e6:.3g} MP: pass max_side=2048 (CLI --max-side 2048) to inpaint a "
                             "downscaled copy with full-resolution known pixels, resize it, or raise max_pixels "
                             "(CLI --max-megapixels) if you have the memory")
        return self._inpaint_full(img, hole, e)

    def prepare(self, image: np.ndarray, hole: np.ndarray, edges: np.ndarray | None = None) -> Prepared:
        """:func:`prepare` with this pipeline's Canny ``sigma``, on its device."""
        return prepare(image, hole, edges, self.sigma, self.device)

    def _inpaint_full(self, img: np.ndarray, hole: np.ndarray, e: np.ndarray | None) -> InpaintResult:
        """:meth:`inpaint` at the image's own size (checked inputs: float RGB, bool hole, edges or None)."""
        x = self.prepare(img, hole, e)
        merged, outputs, used = self(x.images, x.masks, x.canny, x.edges)
        return InpaintResult(x.crop(merged), x.crop(outputs), x.crop(used)[..., 0], x.canny_map, hole)

    def _inpaint_downscaled(self, img: np.ndarray, hole: np.ndarray, e: np.ndarray | None, max_side: int,
                            max_pixels: int | None) -> InpaintResult:
        """Inpaint a copy whose longer side is ``max_side``, then fill the full-size hole from it."""
        h, w = hole.shape
        scale = max_side / max(h, w)
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        if max_pixels is not None and size[0] * size[1] > max_pixels:
            raise UsageError(f"max_side={max_side} still gives {size[1]}x{size[0]} pixels, above the limit of "
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
    def save(self, path: str | Path, half: bool = False, **metadata: Any) -> Path:
        """Write the two generators (weights + sizes) as a small checkpoint that :meth:`load` reads (the format
        ``edgeconnect_lib.pipeline/1``, :func:`edgeconnect_lib.checkpoints.save_pipeline`); ``half=True`` stores
        the weights in float16 (how the shipped ``edgeconnect.pt`` fits ``data/checkpoints``' 40 MB)."""
        return save_pipeline(path, {"G_edge": self.G_edge, "G_inpaint": self.G_inpaint}, self.sigma, half=half,
                             **metadata)

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "cpu", amp: str = "off") -> "EdgeConnect":
        """The pipeline from a file of :meth:`save` or a trainer checkpoint holding both generators
        (stages ``edge-inpaint`` and ``joint``); a folder means its latest checkpoint. ``amp``: see
        :meth:`set_precision`."""
        ckpt = load_checkpoint(path, map_location="cpu")
        nets = ckpt.get("networks", {})
        missing = [n for n in ("G_edge", "G_inpaint") if n not in nets]
        if missing:
            raise UsageError(f"{path} holds no {' / '.join(missing)}: give a checkpoint of stage 'edge-inpaint' or "
                             "'joint' (or use EdgeConnect.from_checkpoints(edge=..., inpaint=...))")
        sigma = float(ckpt.get("sigma", ckpt.get("config", {}).get("sigma", 2.0)))
        pipeline = cls(network_from_checkpoint(ckpt, "G_edge"), network_from_checkpoint(ckpt, "G_inpaint"), sigma)
        return pipeline.to(device).set_precision(amp)

    @classmethod
    def from_authors(cls, folder: str | Path, sigma: float = 2.0, device: str | torch.device = "cpu") -> "EdgeConnect":
        """The pipeline from the authors' released checkpoint folder (``EdgeModel_gen.pth`` and
        ``InpaintingModel_gen.pth``, e.g. ``python -m edgeconnect_lib download places2``): the paper's
        networks at the paper's sizes, without the course's colour reference (the authors trained without it)."""
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
            raise UsageError(f"EdgeConnect.from_models: no {' / '.join(missing)} among the given models")
        return cls(found["G_edge"], found["G_inpaint"], sigma)

    @classmethod
    def from_checkpoints(cls, edge: str | Path, inpaint: str | Path, device: str | torch.device = "cpu",
                         amp: str = "off") -> "EdgeConnect":
        """The pipeline from an edge-stage checkpoint and an inpaint-stage checkpoint (``amp``: see
        :meth:`set_precision`)."""
        e, i = load_checkpoint(edge, map_location="cpu"), load_checkpoint(inpaint, map_location="cpu")
        for p, c, n in ((edge, e, "G_edge"), (inpaint, i, "G_inpaint")):
            if n not in c.get("networks", {}):
                raise UsageError(f"{p} holds no {n} (its networks: {sorted(c.get('networks', {}))})")
        sigma = float(e.get("config", {}).get("sigma", 2.0))
        pipeline = cls(network_from_checkpoint(e, "G_edge"), network_from_checkpoint(i, "G_inpaint"), sigma)
        return pipeline.to(device).set_precision(amp)
