"""Measures of a retarget against its photo: the patch distance (sliced Wasserstein distance of patches) and
the two directions of bidirectional similarity, coherence and completeness.

The "same DNA" claim of InGAN (Shocher et al., ICCV 2019) as numbers. Bidirectional similarity (Simakov, Caspi,
Shechtman and Irani, *Summarizing Visual Data Using Bidirectional Similarity*, CVPR 2008, Eq. 1) of an output
``T`` and a source ``S``:

    d(S, T) = 1/N_S sum_{P in S} min_{Q in T} D(P, Q)   (completeness: every source patch is found in T)
            + 1/N_T sum_{Q in T} min_{P in S} D(Q, P)   (coherence: no output patch is foreign to S)

A uniform stretch fails coherence (its elements have no source patch of their size); a crop fails completeness
(it leaves source patches out); a tiling of the photo scores about 0 in coherence, its seams aside.
"""
from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..errors import UsageError


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
            raise UsageError(f"patch_distance: {name} must be H x W x 3, got shape {img.shape}")
        if min(img.shape[:2]) < patch * 2 ** (levels - 1):
            raise UsageError(f"patch_distance: {name} is {img.shape[1]}x{img.shape[0]} px, too small for "
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
# Bidirectional similarity (Simakov et al. 2008): coherence and completeness
# ----------------------------------------------------------------------------------------------------------
#: Most query patches a direction of bidirectional similarity averages over (a seeded random subset beyond).
MAX_QUERY_PATCHES = 4096
#: Memory for one chunk of the query-by-key distance matrix, in bytes (float32).
CHUNK_BYTES = 1 << 27


class BidirectionalSimilarity(NamedTuple):
    """Both directions of bidirectional similarity (Simakov et al. 2008, Eq. 1), lower is better."""

    coherence: float
    completeness: float

    @property
    def total(self) -> float:
        """``d(S, T)``, the sum of the two terms (Eq. 1)."""
        return self.coherence + self.completeness


def image_patches(image: np.ndarray | torch.Tensor, patch: int = 7, device: str | torch.device = "cpu") -> torch.Tensor:
    """Every ``patch x patch`` window (stride 1) of an ``H x W x 3`` image as a row: ``(N, 3 * patch^2)`` float32
    on ``device``, ``N = (H - patch + 1) (W - patch + 1)``, rows in raster order (``F.unfold``'s)."""
    x = torch.as_tensor(np.asarray(image, np.float32) if not torch.is_tensor(image) else image, dtype=torch.float32)
    if x.ndim != 3 or x.shape[2] != 3:
        raise UsageError(f"image_patches: expected an H x W x 3 image, got shape {tuple(x.shape)}")
    if min(x.shape[:2]) < patch:
        raise UsageError(f"image_patches: the image is {x.shape[1]}x{x.shape[0]} px, smaller than a "
                         f"{patch}x{patch} patch")
    x = x.to(device).permute(2, 0, 1)[None]                                    # (1, 3, H, W)
    return F.unfold(x, patch)[0].T.contiguous()                                # (N, 3 p^2)


def squared_distances(queries: torch.Tensor, keys: torch.Tensor, keys_sq: torch.Tensor | None = None) -> torch.Tensor:
    """``||q - k||^2`` for every query row and key row, ``(Nq, Nk)``, by one matrix product
    (``|q|^2 + |k|^2 - 2 q.k``, clamped at 0; ``keys_sq`` = the keys' squared norms if already computed)."""
    kk = (keys * keys).sum(1) if keys_sq is None else keys_sq
    d = torch.addmm(kk[None], queries, keys.T, beta=1.0, alpha=-2.0)          # |k|^2 - 2 q.k, one pass
    return d.add_((queries * queries).sum(1, keepdim=True)).clamp_min_(0.0)


def query_chunks(num_queries: int, num_keys: int, chunk_bytes: int = CHUNK_BYTES) -> list[slice]:
    """Slices of the queries such that one chunk's float32 distance matrix to ``num_keys`` keys fits
    ``chunk_bytes``."""
    step = max(1, chunk_bytes // (4 * max(1, num_keys)))
    return [slice(i, min(i + step, num_queries)) for i in range(0, num_queries, step)]


def nearest_patches(queries: torch.Tensor, keys: torch.Tensor,
                    chunk_bytes: int = CHUNK_BYTES) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact nearest neighbour of every query row among the key rows (brute force, chunked matrix products):
    ``(distance, index)``, the distance the mean squared difference per value, ``||q - k||^2 / dim``, recomputed
    directly for the chosen key (so a patch that is also a key scores exactly 0)."""
    kk = (keys * keys).sum(1)
    index = torch.empty(queries.shape[0], dtype=torch.long, device=queries.device)
    for rows in query_chunks(queries.shape[0], keys.shape[0], chunk_bytes):
        index[rows] = squared_distances(queries[rows], keys, kk).argmin(1)
    distance = ((queries - keys[index]) ** 2).mean(1)
    return distance, index


def _check_pair(output: np.ndarray, source: np.ndarray, patch: int) -> None:
    for name, img in (("output", output), ("source", source)):
        shape = tuple(img.shape)
        if len(shape) != 3 or shape[2] != 3:
            raise UsageError(f"{name}: expected an H x W x 3 image in [0, 1], got shape {shape}")
        if min(shape[:2]) < patch:
            raise UsageError(f"{name} is {shape[1]}x{shape[0]} px: both sides must be at least the patch, {patch} px")


def nearest_distances(queries_image: np.ndarray, keys_image: np.ndarray, patch: int = 7,
                      max_patches: int | None = None, seed: int = 0,
                      device: str | torch.device = "cpu") -> torch.Tensor:
    """Per query-image patch (all of them, or a seeded random subset of ``max_patches`` when there are more),
    the distance to the nearest of all the key image's patches (:func:`nearest_patches`): what
    :func:`coherence` and :func:`completeness` average, and what a paired comparison of two outputs pairs."""
    queries = image_patches(queries_image, patch, device)
    keys = image_patches(keys_image, patch, device)
    if max_patches is not None and queries.shape[0] > max_patches:
        rng = torch.Generator().manual_seed(int(seed))
        keep = torch.randperm(queries.shape[0], generator=rng)[:max_patches].sort().values
        queries = queries[keep.to(queries.device)]
    distance, _ = nearest_patches(queries, keys)
    return distance


def _mean_nearest_distance(queries_image: np.ndarray, keys_image: np.ndarray, patch: int, max_patches: int,
                           seed: int, device: str | torch.device) -> float:
    """Mean of :func:`nearest_distances` over at most ``max_patches`` query patches."""
    return float(nearest_distances(queries_image, keys_image, patch, max_patches, seed, device).double().mean())


def coherence(output: np.ndarray, source: np.ndarray, patch: int = 7, max_patches: int = MAX_QUERY_PATCHES,
              seed: int = 0, device: str | torch.device = "cpu") -> float:
    """Coherence of ``output`` with ``source`` (Simakov et al. 2008, Eq. 1, second term): the mean over the
    output's ``patch x patch`` RGB patches of the squared distance to the nearest source patch, per value
    (images ``H x W x 3`` in [0, 1], sizes may differ), at the source's own scale. 0 when every output patch
    occurs in the source (a crop; a tiling, but for its seams); a stretched element has no close match.

    Nearest neighbours are exact (all source patches, chunked matrix products); when the output has more than
    ``max_patches`` patches, the mean is taken over a random subset of that many, drawn with ``seed`` (an
    unbiased estimate; a few percent of standard error at the default 4,096). Deterministic."""
    _check_pair(np.asarray(output), np.asarray(source), patch)
    return _mean_nearest_distance(output, source, patch, max_patches, seed, device)


def completeness(output: np.ndarray, source: np.ndarray, patch: int = 7, max_patches: int = MAX_QUERY_PATCHES,
                 seed: int = 0, device: str | torch.device = "cpu") -> float:
    """Completeness of ``output`` for ``source`` (Simakov et al. 2008, Eq. 1, first term): the mean over the
    source's ``patch x patch`` RGB patches of the squared distance to the nearest output patch, per value
    (images in [0, 1]). 0 when every source patch occurs in the output (the photo itself, a tiling); a crop
    leaves source patches out and scores more. Exact nearest neighbours; at most ``max_patches`` source patches
    (a seeded random subset), as :func:`coherence`."""
    _check_pair(np.asarray(output), np.asarray(source), patch)
    return _mean_nearest_distance(source, output, patch, max_patches, seed, device)


def bidirectional_similarity(output: np.ndarray, source: np.ndarray, patch: int = 7,
                             max_patches: int = MAX_QUERY_PATCHES, seed: int = 0,
                             device: str | torch.device = "cpu") -> BidirectionalSimilarity:
    """:func:`coherence` and :func:`completeness` of ``output`` against ``source`` together."""
    return BidirectionalSimilarity(coherence(output, source, patch, max_patches, seed, device),
                                   completeness(output, source, patch, max_patches, seed, device))
