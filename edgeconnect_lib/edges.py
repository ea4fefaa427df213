"""Canny edge labels, as EdgeConnect computes them (Nazeri et al. 2019, Sec. 3.1 and 4.1).

The edge generator G1 is trained to draw the Canny edges ``C_gt`` of the
grayscale photo; the paper uses a Gaussian of ``sigma = 2`` and, at test time,
computes the edges of the known region only (the hole is masked out). The
authors' code calls ``skimage.feature.canny``; this module reproduces its steps
with vectorised NumPy and OpenCV so that the labels match it and are faster to
make (``benchmarks/bench_canny.py`` measures both):

1. :func:`smooth` -- Gaussian smoothing, truncated at 4 sigma, with zero padding
   renormalised by the smoothed valid region (so neither the image border nor a
   hole's border looks like a step);
2. :func:`gradients` -- Sobel derivatives and the gradient magnitude;
3. :func:`non_maximum_suppression` -- keep pixels that are a maximum along the
   gradient direction (neighbours interpolated linearly), above the low threshold;
4. :func:`hysteresis` -- keep the 8-connected chains of such pixels that reach
   the high threshold.

:func:`canny_edges` runs the four steps. ``mask`` follows the course's
convention: ``True`` (non-zero) = HOLE, the opposite of scikit-image's ``mask``
argument (``True`` = valid). Thresholds are absolute values of the gradient
magnitude, as scikit-image uses them for float images (default 0.1 / 0.2).

The lesson ``notebooks/01_canny_edge_labels.ipynb`` shows each step.
"""
from __future__ import annotations

from functools import lru_cache
from numbers import Real
from typing import Iterable

import cv2
import numpy as np

from .errors import UsageError

__all__ = [
    "TRUNCATE",
    "gaussian_kernel1d",
    "smooth",
    "edge_support",
    "gradients",
    "non_maximum_suppression",
    "hysteresis",
    "canny_edges",
    "skimage_canny_edges",
    "edge_density",
    "density_vs_sigma",
    "edge_f1",
]

#: The Gaussian is cut off at this many standard deviations (scikit-image / SciPy's default).
TRUNCATE = 4.0

# scikit-image adds the float type's epsilon to the smoothed valid mask before dividing by it.
_EPS32 = float(np.finfo(np.float32).eps)

# Candidates handled at once by non-maximum suppression (a speed knob only).
_CHUNK = 1 << 15


# ----------------------------------------------------------------------------------------------
# Input checks: every public function reports bad input by the parameter's name.
# ----------------------------------------------------------------------------------------------
def _check_gray(gray: np.ndarray, name: str = "gray") -> np.ndarray:
    """``gray`` as a float32 ``H x W`` array in [0, 1], or a ValueError saying what is wrong."""
    if not isinstance(gray, np.ndarray):
        raise UsageError(f"{name} must be a NumPy array (H x W float in [0, 1]), got {type(gray).__name__}")
    if gray.ndim != 2:
        raise UsageError(
            f"{name} must be a 2-D grayscale image H x W, got shape {gray.shape}; "
            "convert RGB with edgeconnect_lib.images.rgb_to_gray"
        )
    if gray.size == 0:
        raise UsageError(f"{name} is empty (shape {gray.shape})")
    if not np.issubdtype(gray.dtype, np.floating):
        raise UsageError(
            f"{name} must be a float image in [0, 1], got dtype {gray.dtype}; "
            "scale integer images first (e.g. gray / 255.0, or read them with edgeconnect_lib.images.load_image)"
        )
    if not np.all(np.isfinite(gray)):
        raise UsageError(f"{name} contains NaN or infinite values")
    lo, hi = float(gray.min()), float(gray.max())
    if lo < 0.0 or hi > 1.0:
        raise UsageError(f"{name} values must lie in [0, 1], got min {lo:.4g}, max {hi:.4g}")
    return np.ascontiguousarray(gray, dtype=np.float32)


def _check_sigma(sigma: float) -> float:
    if isinstance(sigma, bool) or not isinstance(sigma, Real):
        raise UsageError(f"sigma must be a positive number (the paper uses 2.0), got {sigma!r}")
    value = float(sigma)
    if not np.isfinite(value) or value <= 0.0:
        raise UsageError(f"sigma must be a positive number (the paper uses 2.0), got {sigma!r}")
    return value


def _check_thresholds(low_threshold: float, high_threshold: float) -> tuple[float, float]:
    values = []
    for name, value in (("low_threshold", low_threshold), ("high_threshold", high_threshold)):
        if isinstance(value, bool) or not isinstance(value, Real):
            raise UsageError(f"{name} must be a number, got {value!r}")
        v = float(value)
        if not np.isfinite(v) or v < 0.0:
            raise UsageError(f"{name} must be a finite number >= 0, got {value!r}")
        values.append(v)
    low, high = values
    if low > high:
        raise UsageError(
            f"low_threshold ({low}) must not exceed high_threshold ({high}); the defaults are 0.1 and 0.2"
        )
    return low, high


def _as_bool_map(arr: np.ndarray, name: str, meaning: str) -> np.ndarray:
    """A boolean or finite numeric map as bool (non-zero = ``meaning``); clear errors otherwise."""
    if arr.dtype != np.bool_:
        if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
            raise UsageError(f"{name} must be boolean or numeric (non-zero = {meaning}), got dtype {arr.dtype}")
        if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
            raise UsageError(f"{name} contains NaN or infinite values")
        arr = arr != 0
    return arr


def _check_mask(mask: np.ndarray | None, shape: tuple[int, ...], name: str = "mask") -> np.ndarray | None:
    """``mask`` (True / non-zero = hole) as a bool array of ``shape``, or None."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.shape != tuple(shape):
        raise UsageError(
            f"{name} must have the image's shape {tuple(shape)} (True = hole), got {mask.shape}; "
            "use a single-channel H x W mask"
        )
    return _as_bool_map(mask, name, "hole")


# ----------------------------------------------------------------------------------------------
# Step 1: Gaussian smoothing that ignores the hole and the outside of the image.
# ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=32)
def _kernel(sigma: float, truncate: float) -> np.ndarray:
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    # g(x) = exp(-x^2 / (2 sigma^2)) / sum_x exp(-x^2 / (2 sigma^2)),  |x| <= round(truncate * sigma)
    g = np.exp(-0.5 * (x / sigma) ** 2)
    g /= g.sum()
    g.setflags(write=False)
    return g


def gaussian_kernel1d(sigma: float, truncate: float = TRUNCATE) -> np.ndarray:
    """The normalised 1-D Gaussian ``g(x) ∝ exp(-x² / 2σ²)`` for ``|x| <= int(truncate·σ + 0.5)``.

    The same taps as SciPy's ``gaussian_filter`` (which scikit-image's Canny uses).
    """
    return _kernel(_check_sigma(sigma), float(truncate)).copy()


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian of a float32 image with zero padding (SciPy's ``mode='constant'``)."""
    g = _kernel(sigma, TRUNCATE).astype(np.float32)
    return cv2.sepFilter2D(image, cv2.CV_32F, g, g, borderType=cv2.BORDER_CONSTANT)


@lru_cache(maxsize=32)
def _blur_of_ones_1d(n: int, sigma: float) -> np.ndarray:
    """(g * 1)(x) along one axis of length ``n``: the share of the kernel that lies inside the image."""
    g = _kernel(sigma, TRUNCATE)
    out = np.convolve(np.ones(n), g, mode="full")[len(g) // 2: len(g) // 2 + n]
    out.setflags(write=False)
    return out


def smooth(gray: np.ndarray, sigma: float = 2.0, mask: np.ndarray | None = None) -> np.ndarray:
    """Gaussian-smoothed ``gray`` using only known pixels (normalised convolution).

    With ``V`` the valid region (1 inside the image and outside the hole, 0 elsewhere)::

        S = (g_σ * (V · I)) / (g_σ * V + ε)

    so pixels near the image border or the hole are averages of the known pixels
    only, and the hole's border does not become a step (an edge that is not in
    the photo). Inside a large hole ``S`` is 0. This is scikit-image's
    ``canny`` preprocessing (zero padding, renormalised by the smoothed mask).
    ``mask``: True = hole. Returns float32 ``H x W``.
    """
    gray = _check_gray(gray)
    sigma = _check_sigma(sigma)
    mask = _check_mask(mask, gray.shape)
    return _smooth(gray, sigma, mask)


@lru_cache(maxsize=16)
def _bleed_without_hole(shape: tuple[int, int], sigma: float) -> np.ndarray:
    """g * V + eps for V = 1 on the whole image: separable, an outer product of two 1-D profiles."""
    rows = _blur_of_ones_1d(shape[0], sigma)
    cols = _blur_of_ones_1d(shape[1], sigma)
    bleed = np.outer(rows, cols).astype(np.float32) + np.float32(_EPS32)
    bleed.setflags(write=False)
    return bleed


def _smooth(gray: np.ndarray, sigma: float, mask: np.ndarray | None) -> np.ndarray:
    if mask is None:
        bleed = _bleed_without_hole(gray.shape, sigma)
        numerator = _blur(gray, sigma)
    else:
        valid = (~mask).astype(np.float32)
        bleed = _blur(valid, sigma)
        bleed += np.float32(_EPS32)
        numerator = _blur(gray * valid, sigma)
    # S = (g * (V I)) / (g * V + eps)
    numerator /= bleed
    return numerator


def edge_support(shape: tuple[int, int], mask: np.ndarray | None = None) -> np.ndarray:
    """Where an edge may be drawn: the valid region eroded by one pixel (3 x 3), as bool ``H x W``.

    A pixel touching the hole (or the image border) has a gradient computed partly
    from unknown values, so it is never an edge: ``edges[mask]`` and the ring
    around the hole are always False. (scikit-image erodes its valid mask the same way.)
    """
    h, w = int(shape[0]), int(shape[1])
    mask = _check_mask(mask, (h, w))
    support = np.zeros((h, w), dtype=bool)
    if h < 3 or w < 3:
        return support
    if mask is None:
        support[1:-1, 1:-1] = True
        return support
    valid = (~mask).astype(np.uint8)
    # Erosion with a zero border: the outermost pixels are never edges either.
    eroded = cv2.erode(valid, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    support[1:-1, 1:-1] = eroded[1:-1, 1:-1].astype(bool)
    return support


# ----------------------------------------------------------------------------------------------
# Step 2: Sobel gradients.
# ----------------------------------------------------------------------------------------------
def gradients(smoothed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sobel derivatives of ``smoothed`` along rows and columns, and the gradient magnitude.

    ``G_r = K_r ⋆ S``, ``G_c = K_c ⋆ S`` with the 3 x 3 Sobel kernels
    (``[-1, 0, 1]`` across, ``[1, 2, 1]`` along), and ``|G| = sqrt(G_r² + G_c²)``.
    Borders are mirrored (``d c b a | a b c d``). Returns float32 ``(grad_rows, grad_cols, magnitude)``.
    """
    smoothed = np.asarray(smoothed)
    if smoothed.ndim != 2 or not np.issubdtype(smoothed.dtype, np.floating):
        raise UsageError(f"smoothed must be a 2-D float array, got shape {smoothed.shape}, dtype {smoothed.dtype}")
    s = np.ascontiguousarray(smoothed, dtype=np.float32)
    # d/drow: [-1, 0, 1] down the rows, [1, 2, 1] across; d/dcol: the transpose.
    grad_rows = cv2.Sobel(s, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT)
    grad_cols = cv2.Sobel(s, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT)
    # |G| = sqrt(G_r^2 + G_c^2)
    magnitude = cv2.magnitude(grad_rows, grad_cols)
    return grad_rows, grad_cols, magnitude


# ----------------------------------------------------------------------------------------------
# Step 3: non-maximum suppression along the gradient, with linear interpolation.
# ----------------------------------------------------------------------------------------------
def non_maximum_suppression(
    grad_rows: np.ndarray,
    grad_cols: np.ndarray,
    magnitude: np.ndarray,
    support: np.ndarray | None = None,
    low_threshold: float = 0.1,
) -> np.ndarray:
    """Thin the gradient magnitude to one-pixel-wide ridges.

    A pixel ``p`` with ``|G(p)| >= low_threshold`` (and inside ``support``) is kept
    when it is not smaller than the magnitude at the two points ``p ± d`` one step
    along the gradient direction. Those points fall between pixels; their magnitude
    is interpolated linearly between the axis neighbour ``a`` and the diagonal
    neighbour ``b`` around the gradient's direction:

        |G(p + d)| ≈ w·|G(p + b)| + (1 − w)·|G(p + a)|,   w = min(|G_r|, |G_c|) / max(|G_r|, |G_c|)

    Returns float32 ``H x W``: the magnitude at kept pixels, 0 elsewhere.
    ``support`` defaults to every pixel but the outermost ring (see :func:`edge_support`).
    """
    grad_rows = np.asarray(grad_rows, dtype=np.float32)
    grad_cols = np.asarray(grad_cols, dtype=np.float32)
    magnitude = np.ascontiguousarray(magnitude, dtype=np.float32)
    h, width = magnitude.shape
    if grad_rows.shape != (h, width) or grad_cols.shape != (h, width):
        raise UsageError(
            f"grad_rows {grad_rows.shape}, grad_cols {grad_cols.shape} and magnitude {magnitude.shape} "
            "must have the same shape"
        )
    if support is None:
        support = edge_support((h, width))
    elif support.shape != (h, width):
        raise UsageError(f"support must have shape {(h, width)}, got {support.shape}")
    else:
        # Neighbours are read one pixel away: the outermost ring can never be tested.
        support = support.copy()
        support[[0, -1], :] = False
        support[:, [0, -1]] = False
    low = max(float(low_threshold), 1e-14)  # a zero threshold must not keep flat pixels

    out = np.zeros((h, width), dtype=np.float32)
    # Only candidates (strong enough, inside the support) are examined: flat indices p.
    candidates = np.flatnonzero(support & (magnitude >= low))
    flat = (grad_rows.ravel(), grad_cols.ravel(), magnitude.ravel(), out.ravel())
    # In chunks: small temporaries stay in cache and are not re-allocated from the OS each time.
    for start in range(0, candidates.size, _CHUNK):
        _nms_at(candidates[start:start + _CHUNK], width, *flat)
    return out


def _nms_at(p: np.ndarray, width: int, flat_rows: np.ndarray, flat_cols: np.ndarray,
            flat_mag: np.ndarray, flat_out: np.ndarray) -> None:
    """Non-maximum suppression at the flat indices ``p`` (never on the outer ring); writes ``flat_out``."""
    gr = np.take(flat_rows, p)
    gc = np.take(flat_cols, p)
    m = np.take(flat_mag, p)
    abs_r, abs_c = np.abs(gr), np.abs(gc)
    # w = min(|G_r|, |G_c|) / max(|G_r|, |G_c|)  (max > 0 since |G| >= low > 0)
    weight = np.minimum(abs_r, abs_c)
    weight /= np.maximum(abs_r, abs_c)
    # Step to the next row, taken downwards when both components have the same sign ("> 0"
    # against "<= 0": the gradient points down-right or up-left), upwards otherwise.
    row_step = np.where((gr > 0) == (gc > 0), width, -width)
    # Diagonal neighbour b = one row step and one column to the right (flat offset).
    diag = row_step + 1
    # Axis neighbour a = the row step when the gradient is mostly vertical, else one column right.
    axis = np.where(abs_r > abs_c, row_step, 1)
    # |G(p + d)| ~ w |G(p + b)| + (1 - w) |G(p + a)|, and the same at p - d on the other side.
    other = 1.0 - weight
    ahead = np.take(flat_mag, p + diag) * weight + np.take(flat_mag, p + axis) * other
    behind = np.take(flat_mag, p - diag) * weight + np.take(flat_mag, p - axis) * other
    keep = (ahead <= m) & (behind <= m)
    flat_out[p[keep]] = m[keep]


# ----------------------------------------------------------------------------------------------
# Step 4: hysteresis (double threshold and edge tracking).
# ----------------------------------------------------------------------------------------------
def hysteresis(thinned: np.ndarray, high_threshold: float = 0.2) -> np.ndarray:
    """Keep the 8-connected chains of thinned pixels that contain a strong pixel.

    ``thinned`` is the output of :func:`non_maximum_suppression` (already cut at the
    low threshold: non-zero = weak or strong); a chain is kept when one of its
    pixels has ``|G| >= high_threshold``. Returns bool ``H x W``.
    """
    thinned = np.asarray(thinned)
    edges = np.zeros(thinned.shape, dtype=bool)
    weak = np.flatnonzero(thinned > 0)
    if weak.size == 0:
        return edges
    # Label the 8-connected chains of weak (and strong) pixels.
    count, labels = cv2.connectedComponents((thinned > 0).view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    chain = np.take(labels.ravel(), weak)
    strong = np.take(thinned.ravel(), weak) >= max(float(high_threshold), 1e-14)
    # good[k] = chain k holds at least one strong pixel.
    good = np.bincount(chain[strong], minlength=count) > 0
    edges.ravel()[weak[np.take(good, chain)]] = True
    return edges


# ----------------------------------------------------------------------------------------------
# All four steps.
# ----------------------------------------------------------------------------------------------
def canny_edges(
    gray: np.ndarray,
    sigma: float = 2.0,
    mask: np.ndarray | None = None,
    low_threshold: float = 0.1,
    high_threshold: float = 0.2,
) -> np.ndarray:
    """Canny edges of a grayscale float image in [0, 1], as bool ``H x W``.

    Matches ``skimage.feature.canny(gray, sigma, low_threshold, high_threshold,
    mask=~mask)``, the labels of the EdgeConnect paper (sigma 2, Sec. 4.1).
    ``mask`` (True = hole) gives the test-time edges of the known region only:
    smoothing ignores the hole, and no edge is drawn in it or on the pixels
    touching it (``edges[mask]`` is all False).
    """
    gray = _check_gray(gray)
    sigma = _check_sigma(sigma)
    low, high = _check_thresholds(low_threshold, high_threshold)
    mask = _check_mask(mask, gray.shape)

    smoothed = _smooth(gray, sigma, mask)                                # step 1
    grad_rows, grad_cols, magnitude = gradients(smoothed)                # step 2
    support = edge_support(gray.shape, mask)
    thinned = non_maximum_suppression(grad_rows, grad_cols, magnitude, support, low)  # step 3
    return hysteresis(thinned, high)                                     # step 4


def skimage_canny_edges(
    gray: np.ndarray,
    sigma: float = 2.0,
    mask: np.ndarray | None = None,
    low_threshold: float = 0.1,
    high_threshold: float = 0.2,
) -> np.ndarray:
    """The reference :func:`canny_edges` matches: ``skimage.feature.canny`` with the course's mask convention.

    ``mask`` is True = hole here, and is handed to scikit-image inverted (its ``mask`` is True =
    valid). Needs scikit-image, a development dependency (``pip install scikit-image``).
    """
    try:
        from skimage.feature import canny
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "skimage_canny_edges needs scikit-image: pip install scikit-image (or pip install -e .[dev])"
        ) from err
    gray = _check_gray(gray)
    sigma = _check_sigma(sigma)
    low, high = _check_thresholds(low_threshold, high_threshold)
    mask = _check_mask(mask, gray.shape)
    valid = None if mask is None else ~mask
    return canny(gray, sigma, low, high, mask=valid)


# ----------------------------------------------------------------------------------------------
# Edge density (for the sigma ablation) and pixel F1 (for comparing edge maps).
# ----------------------------------------------------------------------------------------------
def _check_edges(edges: np.ndarray, name: str) -> np.ndarray:
    edges = np.asarray(edges)
    if edges.ndim != 2:
        raise UsageError(f"{name} must be a 2-D edge map H x W, got shape {edges.shape}")
    return _as_bool_map(edges, name, "edge")


def edge_density(edges: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Fraction of pixels that are edges; with ``mask`` (True = hole), of the known pixels only."""
    edges = _check_edges(edges, "edges")
    mask = _check_mask(mask, edges.shape)
    if mask is None:
        return float(edges.mean())
    known = ~mask
    n = int(known.sum())
    if n == 0:
        raise UsageError("mask covers the whole image: there are no known pixels to count edges on")
    return float(edges[known].sum()) / n


def density_vs_sigma(
    gray: np.ndarray,
    sigmas: Iterable[float],
    mask: np.ndarray | None = None,
    low_threshold: float = 0.1,
    high_threshold: float = 0.2,
) -> list[float]:
    """Edge density of :func:`canny_edges` at each ``sigma`` (larger sigma: fewer, smoother edges)."""
    sigmas = list(sigmas)
    if not sigmas:
        raise UsageError("sigmas is empty: give at least one sigma, e.g. [1.0, 2.0, 3.0]")
    return [
        edge_density(canny_edges(gray, s, mask, low_threshold, high_threshold), mask) for s in sigmas
    ]


def edge_f1(pred: np.ndarray, target: np.ndarray) -> float:
    """Pixel-wise F1 of edge map ``pred`` against ``target``: ``2TP / (2TP + FP + FN)``.

    Exact pixel matches only (no distance tolerance). Two empty maps agree: F1 = 1.
    """
    pred = _check_edges(pred, "pred")
    target = _check_edges(target, "target")
    if pred.shape != target.shape:
        raise UsageError(f"pred {pred.shape} and target {target.shape} must have the same shape")
    tp = int(np.count_nonzero(pred & target))
    wrong = int(np.count_nonzero(pred ^ target))  # FP + FN
    if tp == 0 and wrong == 0:
        return 1.0
    return 2.0 * tp / (2.0 * tp + wrong)
