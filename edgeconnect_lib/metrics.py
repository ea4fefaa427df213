"""Quality metrics for inpainting and edge prediction (EdgeConnect, Sec. 4.2 "Quantitative results").

All functions take torch tensors ``(B, C, H, W)`` (or ``(C, H, W)`` / ``(H, W)``; NumPy arrays are
converted) with values in ``[0, data_range]`` and return one float per image as a tensor of shape ``(B,)``
(``reduction="none"``) or their mean as a Python float (``reduction="mean"``, the default).

* :func:`psnr` - peak signal-to-noise ratio, ``10 log10(R^2 / MSE)``.
* :func:`ssim` - structural similarity (Wang et al. 2004). **Window convention**: by default an 11 x 11
  Gaussian window with sigma 1.5, population covariances, computed per channel and averaged, on the
  "valid" part of the image (pixels whose window lies inside it). That equals scikit-image's
  ``structural_similarity(..., gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
  data_range=1, channel_axis=...)``. The EdgeConnect authors' script used instead **grayscale** images and
  scikit-image's defaults with ``win_size=51``: a 51 x 51 *uniform* window with sample covariances; get that
  with ``ssim(pred, target, convention="authors")`` (RGB inputs are converted to gray with
  scikit-image's weights 0.2125 R + 0.7154 G + 0.0721 B). Both agree with scikit-image to 1e-5 (tested).
  Numbers from the two conventions are not comparable: say which one a table uses.
* :func:`l1` (alias :func:`mae`) - mean absolute error; :func:`authors_mae` - the authors' "MAE",
  ``sum|gt - pred| / sum(gt + pred)``.
* :func:`checkerboard_ratio` - how much stronger a 2 x 2 checkerboard pattern (the artefact of transposed
  convolutions, Odena et al. 2016; what the paper's style loss is for, Sec. 3.2) is in ``pred`` than in ``target``.
* :func:`edge_precision_recall` - precision, recall and F1 of a predicted edge map (thresholded) against the
  ground-truth edges, optionally only inside the hole.

**Inside the hole** (NumPy images, what :mod:`edgeconnect_lib.evaluation` scores methods with): :func:`hole_psnr` and
:func:`hole_l1` over the hole pixels, :func:`hole_bbox_ssim` (scikit-image's SSIM on the hole's bounding box,
:func:`hole_bbox`) and :func:`hole_edge_f1` (do the lines that cross the hole get drawn?). :func:`psnr_from_mse` is
their one PSNR formula. :func:`line_coverage` asks whether a fill follows a line a user drew (lesson 10).

Used by the trainer's validation (:mod:`edgeconnect_lib.train`); lesson 07 compares models with them.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from .edges import canny_edges
from .errors import UsageError
from .images import rgb_to_gray

__all__ = ["psnr", "psnr_per_image", "ssim", "l1", "mae", "authors_mae", "checkerboard_ratio", "edge_precision_recall", "binary_precision_recall", "EdgeScores", "to_gray",
           "gaussian_window", "psnr_from_mse", "hole_psnr", "hole_l1", "hole_bbox", "hole_bbox_ssim", "hole_edge_f1",
           "edge_map_f1", "line_coverage", "LINE_TOLERANCE",
           "MIN_SSIM_SIDE", "EDGE_TOLERANCE"]

#: scikit-image's rgb2gray weights (ITU-R BT.709), as the authors' metrics script used.
GRAY_WEIGHTS = (0.2125, 0.7154, 0.0721)


def _as_batch(x, name: str) -> torch.Tensor:
    """``(H, W)``, ``(C, H, W)`` or ``(B, C, H, W)`` tensor/array -> float ``(B, C, H, W)``."""
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise UsageError(f"{name} must be a torch tensor or NumPy array, got {type(x).__name__}")
    if x.dim() == 2:
        x = x[None, None]
    elif x.dim() == 3:
        x = x[None]
    elif x.dim() != 4:
        raise UsageError(f"{name} must have shape (H, W), (C, H, W) or (B, C, H, W), got {tuple(x.shape)}")
    x = x.float() if x.dtype != torch.float64 else x
    if not torch.isfinite(x).all():
        raise UsageError(f"{name} contains NaN or infinite values")
    return x


def _pair(pred, target) -> tuple[torch.Tensor, torch.Tensor]:
    p, t = _as_batch(pred, "pred"), _as_batch(target, "target")
    if p.shape != t.shape:
        raise UsageError(f"pred and target must have the same shape, got {tuple(p.shape)} and {tuple(t.shape)}")
    return p, t.to(p.device, p.dtype)


def _reduce(values: torch.Tensor, reduction: str):
    if reduction == "mean":
        return float(values.mean())
    if reduction == "none":
        return values
    raise UsageError(f"reduction={reduction!r}: choose 'mean' or 'none'")


def to_gray(x: torch.Tensor) -> torch.Tensor:
    """RGB ``(B, 3, H, W)`` -> gray ``(B, 1, H, W)`` with scikit-image's weights; 1-channel input unchanged."""
    if x.shape[1] == 1:
        return x
    if x.shape[1] != 3:
        raise UsageError(f"to_gray expects 1 or 3 channels, got {x.shape[1]}")
    w = torch.tensor(GRAY_WEIGHTS, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(dim=1, keepdim=True)


# ----------------------------------------------------------------------------------------------
# PSNR and L1
# ----------------------------------------------------------------------------------------------
def psnr(pred, target, data_range: float = 1.0, reduction: str = "mean", eps: float = 1e-12):
    """Peak signal-to-noise ratio in dB, per image: ``PSNR = 10 log10(R^2 / MSE)``.

    Identical images would give +inf; the MSE is floored at ``eps`` (120 dB for R = 1).
    """
    p, t = _pair(pred, target)
    return _reduce(psnr_per_image(p, t, data_range, eps), reduction)


def psnr_per_image(pred: torch.Tensor, target: torch.Tensor, data_range: float = 1.0,
                   eps: float = 1e-12) -> torch.Tensor:
    """``(B,)`` PSNR in dB of each image of a batch, unchecked and on the device (no host sync): the formula of
    :func:`psnr`, for the training step's logs."""
    # MSE = mean (pred - target)^2 over C, H, W
    mse = ((pred - target) ** 2).flatten(1).mean(dim=1)
    # PSNR = 10 log10(R^2 / MSE)
    return 10.0 * torch.log10(data_range**2 / mse.clamp_min(eps))


def l1(pred, target, reduction: str = "mean"):
    """Mean absolute error per image: ``mean |pred - target|`` (the paper's "l1 (%)" x 100)."""
    p, t = _pair(pred, target)
    return _reduce((p - t).abs().flatten(1).mean(dim=1), reduction)


mae = l1


def authors_mae(pred, target, reduction: str = "mean", eps: float = 1e-12):
    """The authors' metrics-script "MAE": ``sum |gt - pred| / sum (gt + pred)`` per image (not a mean error)."""
    p, t = _pair(pred, target)
    return _reduce((t - p).abs().flatten(1).sum(1) / (t + p).flatten(1).sum(1).clamp_min(eps), reduction)


# ----------------------------------------------------------------------------------------------
# SSIM
# ----------------------------------------------------------------------------------------------
def checkerboard_ratio(pred, target, mask=None, reduction: str = "mean", eps: float = 1e-12):
    """Checkerboard energy of ``pred`` over that of ``target``: 1 = as much as the photo, > 1 = artefacts.

    The energy is the mean square response to the 2 x 2 kernel ``[[1, -1], [-1, 1]] / 2``, the pattern a
    stride-2 transposed convolution prints when its kernel overlaps unevenly (Odena et al. 2016, "Deconvolution
    and checkerboard artifacts"); the paper adds its style loss against exactly these artefacts (Sec. 3.2).
    ``mask`` (1 = hole, ``(B, 1, H, W)`` or ``(H, W)``): count only the 2 x 2 windows that lie entirely in the
    hole. Returns one ratio per image (``reduction="none"``) or their mean.
    """
    p, t = _pair(pred, target)
    kernel = torch.tensor([[1.0, -1.0], [-1.0, 1.0]], dtype=p.dtype).div(2)[None, None].repeat(p.shape[1], 1, 1, 1)
    rp = F.conv2d(p, kernel, groups=p.shape[1]).pow(2).mean(1, keepdim=True)  # (B, 1, H-1, W-1)
    rt = F.conv2d(t, kernel, groups=t.shape[1]).pow(2).mean(1, keepdim=True)
    if mask is None:
        w = torch.ones_like(rp)
    else:
        m = _as_batch(mask, "mask").to(p.dtype)
        if m.shape[0] != p.shape[0] or m.shape[1] != 1 or m.shape[2:] != p.shape[2:]:
            raise UsageError(f"mask must be (B, 1, H, W) or (H, W) matching pred {tuple(p.shape)}, got {tuple(m.shape)}")
        w = (-F.max_pool2d(-m, 2, stride=1) > 0.5).to(p.dtype)  # windows wholly inside the hole
    if (w.flatten(1).sum(1) == 0).any():
        raise UsageError("checkerboard_ratio: a mask has no 2 x 2 window inside the hole")
    ep = (rp * w).flatten(1).sum(1) / w.flatten(1).sum(1)
    et = (rt * w).flatten(1).sum(1) / w.flatten(1).sum(1)
    return _reduce(ep / (et + eps), reduction)


def gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Normalised 1-D Gaussian window of odd ``size`` (sum 1), as float64."""
    r = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(r**2) / (2 * sigma**2))
    return g / g.sum()


def _filter_valid(x: torch.Tensor, w1d: torch.Tensor) -> torch.Tensor:
    """Separable 2-D filtering with window ``w1d``, "valid" region only, per channel."""
    c = x.shape[1]
    k = w1d.to(x.dtype).to(x.device)
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def ssim(
    pred,
    target,
    data_range: float = 1.0,
    window_size: int = 11,
    sigma: float = 1.5,
    gaussian: bool = True,
    sample_covariance: bool = False,
    gray: bool = False,
    convention: str | None = None,
    k1: float = 0.01,
    k2: float = 0.03,
    reduction: str = "mean",
):
    """Structural similarity per image (Wang et al. 2004), averaged over channels and pixels.

    ``SSIM = (2 mu_x mu_y + C1)(2 s_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(s_x^2 + s_y^2 + C2))`` with
    ``C1 = (k1 R)^2``, ``C2 = (k2 R)^2``, local statistics weighted by the window.

    Defaults: Gaussian window 11 x 11, sigma 1.5, population covariances, per channel (see the module
    docstring). ``convention="authors"`` sets the EdgeConnect metrics script's choice: ``gray=True``,
    uniform window, ``window_size=51``, sample covariances; ``convention="gaussian"`` is the default.
    The image must be at least ``window_size`` pixels on each side.
    """
    if convention == "authors":
        gray, gaussian, window_size, sample_covariance = True, False, 51, True
    elif convention not in (None, "gaussian"):
        raise UsageError(f"convention={convention!r}: choose None, 'gaussian' or 'authors'")
    if window_size < 1 or window_size % 2 == 0:
        raise UsageError(f"window_size={window_size}: must be a positive odd number")
    p, t = _pair(pred, target)
    if gray:
        p, t = to_gray(p), to_gray(t)
    p, t = p.double(), t.double()
    h, w = p.shape[-2:]
    if min(h, w) < window_size:
        raise UsageError(f"ssim: images of {h}x{w} are smaller than the {window_size}x{window_size} window; "
                         "pass a smaller window_size")
    win = gaussian_window(window_size, sigma) if gaussian else torch.full((window_size,), 1.0 / window_size,
                                                                          dtype=torch.float64)
    # local means mu_x, mu_y and (co)variances under the window
    mu_x, mu_y = _filter_valid(p, win), _filter_valid(t, win)
    e_xx, e_yy, e_xy = _filter_valid(p * p, win), _filter_valid(t * t, win), _filter_valid(p * t, win)
    n = window_size**2
    scale = n / (n - 1) if sample_covariance else 1.0
    s_xx = scale * (e_xx - mu_x**2)
    s_yy = scale * (e_yy - mu_y**2)
    s_xy = scale * (e_xy - mu_x * mu_y)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    s_map = ((2 * mu_x * mu_y + c1) * (2 * s_xy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (s_xx + s_yy + c2))
    return _reduce(s_map.flatten(1).mean(dim=1).float(), reduction)


# ----------------------------------------------------------------------------------------------
# Edge maps
# ----------------------------------------------------------------------------------------------
class EdgeScores(NamedTuple):
    """Pixel-wise precision, recall and F1 of an edge map (floats, or ``(B,)`` tensors)."""

    precision: float | torch.Tensor
    recall: float | torch.Tensor
    f1: float | torch.Tensor


def binary_precision_recall(pred: torch.Tensor, true: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image precision and recall (float64, shape ``(B,)``) of boolean maps ``pred`` against ``true``.

    No checks and no host sync (the training step calls it every iteration). An image with nothing predicted
    scores precision 1 if it has nothing to find, else 0; likewise recall with nothing to find.
    """
    tp = (pred & true).flatten(1).sum(1).double()
    n_pred, n_true = pred.flatten(1).sum(1).double(), true.flatten(1).sum(1).double()
    precision = torch.where(n_pred > 0, tp / n_pred.clamp_min(1), (n_true == 0).double())
    recall = torch.where(n_true > 0, tp / n_true.clamp_min(1), (n_pred == 0).double())
    return precision, recall


def edge_precision_recall(pred, target, mask=None, threshold: float = 0.5, reduction: str = "mean",
                          eps: float = 1e-8) -> EdgeScores:
    """Precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2PR / (P + R), per image.

    ``pred`` is an edge probability map (thresholded at ``threshold``) or a binary map; ``target`` the
    ground-truth edges (non-zero = edge). With ``mask`` (1 = hole), only pixels in the hole count, which is
    what the edge generator is judged on (as the authors' ``EdgeAccuracy``). Exact pixel matches, no
    distance tolerance. An image with no predicted and no true edges scores 1 (nothing to find, nothing
    wrong), matching :func:`edgeconnect_lib.edges.edge_f1`.
    """
    p, t = _pair(pred, target)
    pb, tb = p > threshold, t > 0.5
    if mask is not None:
        m = _as_batch(mask, "mask").to(p.device) > 0.5
        if m.shape[-2:] != p.shape[-2:] or m.shape[0] != p.shape[0]:
            raise UsageError(f"mask must match pred's batch and size, got {tuple(m.shape)} vs {tuple(p.shape)}")
        pb, tb = pb & m, tb & m
    precision, recall = binary_precision_recall(pb, tb)
    f1 = torch.where(precision + recall > 0, 2 * precision * recall / (precision + recall).clamp_min(eps),
                     torch.zeros_like(precision))
    return EdgeScores(*(_reduce(v.float(), reduction) for v in (precision, recall, f1)))


# ----------------------------------------------------------------------------------------------
# Scores inside the hole (NumPy H x W x 3 images in [0, 1], H x W masks, non-zero = hole)
# ----------------------------------------------------------------------------------------------
#: SSIM's default window is 7 x 7: the hole's bounding box is padded to at least this size.
MIN_SSIM_SIDE = 7
#: Tolerance (pixels, Chebyshev distance) within which a Canny edge of a result matches one of the photo.
EDGE_TOLERANCE = 1


def _hole_pixels(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred, target = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    mask = np.asarray(mask) != 0
    if pred.shape != target.shape or pred.shape[:2] != mask.shape:
        raise UsageError(f"shapes differ: pred {pred.shape}, target {target.shape}, mask {mask.shape}")
    if not mask.any():
        raise UsageError("the mask has no hole pixel: nothing to score")
    return pred[mask], target[mask]


def psnr_from_mse(mse: float, data_range: float = 1.0) -> float:
    """``PSNR = 10 log10(R^2 / MSE)`` in dB of one mean squared error; ``inf`` when it is 0 (an exact result).
    The one PSNR formula of the NumPy metrics (:func:`hole_psnr`, ``evaluation.distance_profile``)."""
    return math.inf if mse == 0.0 else 10.0 * math.log10(data_range**2 / mse)


def hole_psnr(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """``10 log10(1 / MSE)`` over the hole pixels (all channels), data range 1; ``inf`` when exact."""
    p, t = _hole_pixels(pred, target, mask)
    return psnr_from_mse(float(np.mean((p - t) ** 2)))


def hole_l1(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """Mean absolute error over the hole pixels (all channels), in [0, 1]."""
    p, t = _hole_pixels(pred, target, mask)
    return float(np.mean(np.abs(p - t)))


def _padded_range(lo: int, hi: int, minimum: int, length: int) -> tuple[int, int]:
    """``[lo, hi)`` grown about its centre to at least ``minimum`` pixels, kept inside ``[0, length)``."""
    need = minimum - (hi - lo)
    if need > 0:
        lo -= need // 2
        hi += need - need // 2
        shift = max(0, -lo) - max(0, hi - length)
        lo, hi = lo + shift, hi + shift
    return max(0, lo), min(length, hi)


def hole_bbox(mask: np.ndarray, minimum: int = MIN_SSIM_SIDE) -> tuple[slice, slice]:
    """Row and column slices of the hole's bounding box, padded to at least ``minimum x minimum`` pixels
    inside the image."""
    mask = np.asarray(mask) != 0
    if not mask.any():
        raise UsageError("the mask has no hole pixel: nothing to score")
    height, width = mask.shape
    if height < minimum or width < minimum:
        raise UsageError(f"the image is {width} x {height}; SSIM needs at least {minimum} x {minimum} pixels")
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    r0, r1 = _padded_range(int(rows[0]), int(rows[-1]) + 1, minimum, height)
    c0, c1 = _padded_range(int(cols[0]), int(cols[-1]) + 1, minimum, width)
    return slice(r0, r1), slice(c0, c1)


def hole_bbox_ssim(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """SSIM (``skimage.metrics.structural_similarity``, 7 x 7 window, RGB, data range 1) on the hole's
    bounding box (:func:`hole_bbox`)."""
    from skimage.metrics import structural_similarity

    rows, cols = hole_bbox(mask)
    p = np.asarray(pred, np.float64)[rows, cols]
    t = np.asarray(target, np.float64)[rows, cols]
    return float(structural_similarity(p, t, channel_axis=-1, data_range=1.0))


def _within(edges: np.ndarray, tolerance: int) -> np.ndarray:
    """The pixels within ``tolerance`` px (Chebyshev) of an edge of the bool map ``edges``: its dilation by a
    square of side ``2 * tolerance + 1``."""
    import cv2

    return cv2.dilate(edges.astype(np.uint8), np.ones((2 * tolerance + 1,) * 2, np.uint8)) > 0


def edge_map_f1(drawn: np.ndarray, truth: np.ndarray, mask: np.ndarray, tolerance: int = EDGE_TOLERANCE) -> float:
    """F1 of a binary edge map ``drawn`` against the true edges ``truth``, hole pixels only (all (H, W)).

    An edge pixel of ``drawn`` in the hole is a true positive when an edge of ``truth`` lies within ``tolerance``
    px (Chebyshev), and an edge of ``truth`` in the hole is found when one of ``drawn`` lies that close.
    ``precision = TP / |drawn edges in hole|``, ``recall = found / |true edges in hole|``, ``F1 = 2PR / (P + R)``.
    A hole with no edge in either is 1 (nothing to draw, nothing drawn); edges in only one of them give 0. It scores
    an edge map itself, e.g. what G1 draws in the hole (``evaluate``'s G1 section, issue 18) against the Canny
    edges of a classical fill.
    """
    hole = np.asarray(mask) != 0
    drawn, truth = np.asarray(drawn) != 0, np.asarray(truth) != 0
    if drawn.shape != hole.shape or truth.shape != hole.shape:
        raise UsageError(f"shapes differ: drawn {drawn.shape}, truth {truth.shape}, mask {hole.shape}")
    if not hole.any():
        raise UsageError("the mask has no hole pixel: nothing to score")
    near_true, near_drawn = _within(truth, tolerance), _within(drawn, tolerance)
    drawn, wanted = drawn & hole, truth & hole
    if not drawn.any() and not wanted.any():
        return 1.0
    if not drawn.any() or not wanted.any():
        return 0.0
    precision = float((drawn & near_true).sum()) / float(drawn.sum())
    recall = float((wanted & near_drawn).sum()) / float(wanted.sum())
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def hole_edge_f1(pred: np.ndarray, target: np.ndarray, mask: np.ndarray, sigma: float = 2.0,
                 tolerance: int = EDGE_TOLERANCE) -> float:
    """Structure inside the hole: F1 of the Canny edges of ``pred`` against those of ``target``, hole pixels only.

    Canny (``edges.canny_edges``, ``sigma``, the labels' detector) runs on each whole gray image; the two edge maps
    are matched by :func:`edge_map_f1` (``tolerance`` px). A hole with no edge in either is 1 (nothing to draw,
    nothing drawn); edges in only one of them give 0. PSNR and SSIM reward a smooth fill; this measures whether the
    lines that cross the hole were drawn.
    """
    _hole_pixels(pred, target, mask)  # checks shapes and a non-empty hole
    e_pred = canny_edges(rgb_to_gray(np.clip(np.asarray(pred, np.float32), 0, 1)), sigma=sigma)
    e_true = canny_edges(rgb_to_gray(np.clip(np.asarray(target, np.float32), 0, 1)), sigma=sigma)
    return edge_map_f1(e_pred, e_true, mask, tolerance)


#: px: a drawn line's pixel counts as followed when a Canny edge of the fill lies this close (issue 18, lesson 10).
LINE_TOLERANCE = 2


def line_coverage(result: np.ndarray, line: np.ndarray, sigma: float = 2.0, tolerance: int = LINE_TOLERANCE) -> float:
    """Does a fill follow a line drawn through the hole? The share of the ``line`` pixels (H x W, bool) that lie
    within ``tolerance`` px (Chebyshev) of a Canny edge (``sigma``) of ``result`` (H x W x 3 in [0, 1]).

    1 when every drawn pixel has an edge of the fill next to it, 0 when the fill is flat there. Lesson 10 calls a
    line "followed" at a coverage of at least one half (issue 18); compare with the coverage of the same line by the
    fill made without it, since a fill may have an edge there anyway (``benchmarks/line_follow.py``).
    """
    line = np.asarray(line) != 0
    result = np.asarray(result, np.float32)
    if result.shape[:2] != line.shape:
        raise UsageError(f"line_coverage: the line is {line.shape}, the image {result.shape[:2]}")
    if not line.any():
        raise UsageError("line_coverage: the line has no pixel: nothing to follow")
    edges = canny_edges(rgb_to_gray(np.clip(result, 0, 1)), sigma=sigma)
    return float((_within(edges, tolerance) & line).sum() / line.sum())
