"""GPNN, the classical anchor beside InGAN: retargeting by patch nearest neighbours, no training.

Granot, Feinstein, Shocher, Bagon and Irani, *Drop the GAN: In Defense of Patches Nearest Neighbors as Single
Image Generative Models*, CVPR 2022 (Sec. 3, Fig. 2). Coarse to fine over a pyramid: at the coarsest level the
output starts as the source resized (bicubic) to the target's shape, plus Gaussian noise; at every level, a few
iterations of

1. take every ``7 x 7`` patch ``Q_i`` of the current output (stride 1),
2. find for each its nearest source patch by the *normalised* score (Sec. 3.2, Eq. 2)

       S(Q_i, K_j) = D(Q_i, K_j) / (alpha + min_l D(Q_l, K_j))

   (``D`` the mean squared difference per value; a key that some query already matches closely is cheap for
   every query, one that no query is near is favoured, so every source patch tends to be used: *completeness*;
   ``alpha = 0.005`` as in the paper),
3. replace every query by its match's sharp source patch (``V``) and fold, averaging overlapping patches;

then upscale (bicubic) to the next level. At the first iteration of a level the keys are the source blurred as
the upscaled output is (the coarser source level upscaled), the values the sharp source; later iterations
match against the sharp source (as the authors' code).

Settings: ``alpha = 0.005``, ``7 x 7`` patches and 10 iterations per level are the paper's. For retargeting
we take a finer pyramid than the paper's generation setting (ratio 0.85 instead of 3/4, the coarsest source
14 px on its shorter side) and strong noise on the start (std 0.75 in [0, 1] units, not clipped), as a public
re-implementation's retargeting script does (Efficient-GPNN, ratio 0.85, coarsest 14, noise 1.5 in [-1, 1]
units): with the paper's 3/4 and a little noise, the stretched start survives and elements come out stretched
(checked on the cups photo at 64 and 256 px). Retargeting to the input's own size still gives the photo back
exactly (tested): the normalised nearest neighbour of every noisy patch is its own.

Search: exact and global (chunked matrix products) while a level has at most ``global_pairs`` query-key pairs
(every level of a photo up to ~80 px retargeted to 2x); on larger levels a *local* search: each query is
compared with the source patches in a ``(2 radius + 1)^2`` window around its match from the coarser level (or
the previous iteration), with the same normalisation over the candidate pairs, ``local_iterations`` times. The
coarse levels place the elements, the fine ones refine them, so this keeps a 256 px photo to seconds on a CPU
(``benchmarks/README.md``); it is our shortcut, not the paper's (the authors use an approximate index, faiss, on a GPU
for large images).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import UsageError
from .config import check_output_size
from .metrics import query_chunks, squared_distances

#: Ratio between the sizes of neighbouring pyramid levels (paper: 3/4; 0.85 for retargeting, see above).
PYRAMID_RATIO = 0.85
#: Shorter side of the coarsest source level, px (paper: ~14-21 px).
COARSEST_SIDE = 14
#: Weight of the completeness normalisation, ``alpha`` of the paper's Eq. 2 (small: favour completeness).
ALPHA = 0.005
#: Largest number of query-key pairs a level searches exhaustively; beyond it the local search is used.
#: Std of the Gaussian noise on the coarsest start, in [0, 1] units (see above).
NOISE = 0.75
GLOBAL_PAIRS = 1 << 24


# ----------------------------------------------------------------------------------------------------------
# Images and patches, as (3, H, W) tensors in [0, 1]
# ----------------------------------------------------------------------------------------------------------
def resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bicubic resize of a ``(3, H, W)`` image to ``size`` (antialiased when shrinking), clipped to [0, 1]."""
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    shrink = size[0] < image.shape[-2] or size[1] < image.shape[-1]
    out = F.interpolate(image[None], size=size, mode="bicubic", align_corners=False, antialias=shrink)[0]
    return out.clamp_(0.0, 1.0)


def unfold(image: torch.Tensor, patch: int) -> torch.Tensor:
    """Every ``patch x patch`` window (stride 1) of a ``(3, H, W)`` image as a row: ``(N, 3 patch^2)``."""
    return F.unfold(image[None], patch)[0].T.contiguous()


def fold(rows: torch.Tensor, size: tuple[int, int], patch: int) -> torch.Tensor:
    """The inverse of :func:`unfold` where patches overlap: each pixel the mean of the patches covering it."""
    total = F.fold(rows.T[None], size, patch)[0]
    count = F.fold(torch.ones_like(rows[:, :1]).expand(-1, patch * patch).T[None], size, patch)[0]
    return total / count


def level_sizes(size: tuple[int, int], levels: int, ratio: float = PYRAMID_RATIO) -> list[tuple[int, int]]:
    """``size`` scaled by ``ratio^k`` for ``k = 0..levels-1`` (finest first), rounded."""
    return [(max(1, round(size[0] * ratio**k)), max(1, round(size[1] * ratio**k))) for k in range(levels)]


def count_levels(source: tuple[int, int], target: tuple[int, int], patch: int = 7, ratio: float = PYRAMID_RATIO,
                 coarsest: int = COARSEST_SIDE) -> int:
    """Pyramid levels: down by ``ratio`` until the source's shorter side would fall below ``coarsest`` px, and
    never so far that a side of the source or the output is smaller than a patch."""
    levels = 1 + max(0, int(math.floor(math.log(max(min(source), 1) / coarsest) / math.log(1 / ratio) + 1e-9)))
    while levels > 1 and min(*level_sizes(source, levels, ratio)[-1], *level_sizes(target, levels, ratio)[-1]) < patch:
        levels -= 1
    return levels


# ----------------------------------------------------------------------------------------------------------
# Nearest neighbours with the completeness normalisation (paper Eq. 2)
# ----------------------------------------------------------------------------------------------------------
def normalised_nearest(queries: torch.Tensor, keys: torch.Tensor, alpha: float = ALPHA) -> torch.Tensor:
    """For every query row, the key row minimising ``D(q, k) / (alpha + min_l D(q_l, k))`` over all keys
    (exact; ``D`` = mean squared difference per value). Two chunked passes: the keys' smallest distance to any
    query, then each query's best normalised score (``D / (alpha + min D)`` = ``||q - k||^2 / (alpha dim +
    min ||q_l - k||^2)``, so the sums of squares serve as they are)."""
    kk = (keys * keys).sum(1)
    chunks = query_chunks(queries.shape[0], keys.shape[0])
    key_min = torch.full((keys.shape[0],), float("inf"), device=keys.device)
    cached = []
    for rows in chunks:
        d = squared_distances(queries[rows], keys, kk)
        key_min = torch.minimum(key_min, d.min(0).values)
        if len(chunks) == 1:
            cached.append(d)
    index = torch.empty(queries.shape[0], dtype=torch.long, device=queries.device)
    scale = 1.0 / (alpha * queries.shape[1] + key_min)
    for rows in chunks:
        d = cached[0] if cached else squared_distances(queries[rows], keys, kk)
        index[rows] = d.mul_(scale).argmin(1)
    return index


def local_normalised_nearest(queries: torch.Tensor, key_image: torch.Tensor, field: torch.Tensor, patch: int = 7,
                             radius: int = 3, alpha: float = ALPHA, chunk: int = 8192) -> torch.Tensor:
    """:func:`normalised_nearest` restricted to a window: each query (a row of ``queries``, in raster order
    over the output's ``(Hq, Wq)`` patch grid) is compared with the key patches of ``key_image`` (``(3, H, W)``)
    whose positions lie in the ``(2 radius + 1)^2`` window around its current match ``field[i, j] = (y, x)``
    (windows at the border are moved inside); the normalisation ``min_l D(q_l, k)`` runs over the queries that
    have ``k`` in their window. Returns the key indices (raster order over the key grid).

    The dot products of a query with its window's keys are one grouped convolution of the query (as a
    ``3 x patch x patch`` kernel) over the ``(2 radius + patch)^2`` region of the key image: no copy of the
    window's patches is made, ``||q - k||^2 = |q|^2 + |k|^2 - 2 q.k``."""
    channels, hs, ws = key_image.shape
    hk, wk = hs - patch + 1, ws - patch + 1
    side, span = 2 * radius + 1, 2 * radius + patch
    if hk < side or wk < side:
        raise UsageError(f"local_normalised_nearest: the key grid {hk}x{wk} is smaller than the window {side}x{side}")
    dev = queries.device
    y0 = (field[..., 0].reshape(-1) - radius).clamp(0, hk - side)
    x0 = (field[..., 1].reshape(-1) - radius).clamp(0, wk - side)
    window = (torch.arange(side, device=dev)[:, None] * wk + torch.arange(side, device=dev)[None]).reshape(-1)
    cand = (y0 * wk + x0)[:, None] + window[None]                                # (Nq, side^2) key indices
    region = (torch.arange(span, device=dev)[:, None] * ws + torch.arange(span, device=dev)[None]).reshape(-1)
    flat = key_image.reshape(channels, -1)
    dot = torch.empty(cand.shape, device=dev)
    for i in range(0, queries.shape[0], chunk):
        rows = slice(i, min(i + chunk, queries.shape[0]))
        n = rows.stop - rows.start
        pixels = flat[:, (y0[rows] * ws + x0[rows])[:, None] + region[None]]     # (3, n, span^2)
        regions = pixels.permute(1, 0, 2).reshape(1, n * channels, span, span)
        kernels = queries[rows].reshape(n, channels, patch, patch)
        dot[rows] = F.conv2d(regions, kernels, groups=n).reshape(n, side * side)
    ones = torch.ones((1, channels, patch, patch), device=dev)
    kk = F.conv2d(key_image[None] ** 2, ones)[0, 0].reshape(-1)                   # |k|^2 on the key grid
    qq = (queries * queries).sum(1, keepdim=True)
    dist = ((qq + kk[cand] - 2.0 * dot) / queries.shape[1]).clamp_min_(0.0)
    key_min = torch.full((hk * wk,), float("inf"), device=dev)
    key_min = key_min.scatter_reduce(0, cand.reshape(-1), dist.reshape(-1), reduce="amin")
    best = (dist / (alpha + key_min[cand])).argmin(1)
    return cand.gather(1, best[:, None])[:, 0]


def coarse_to_fine_field(index: torch.Tensor, coarse_query_grid: tuple[int, int], coarse_key_grid: tuple[int, int],
                         query_grid: tuple[int, int], patch: int, ratio: float) -> torch.Tensor:
    """The matches of a coarser level (``index`` into its key grid, one per query of ``coarse_query_grid``) as
    source positions ``(y, x)`` for the queries of this level's ``query_grid``: each query takes the match of
    the coarse query it sits in, keeps its offset from that query, and the pair's offset grows by ``1 / ratio``.
    Returns ``(Hq, Wq, 2)`` (unclamped; :func:`local_normalised_nearest` moves windows inside)."""
    half = patch // 2
    hq, wq = query_grid
    ch, cw = coarse_query_grid
    qy = torch.arange(hq, device=index.device)
    qx = torch.arange(wq, device=index.device)
    cy = (((qy + half + 0.5) * ratio - 0.5).round().long() - half).clamp(0, ch - 1)       # coarse query row
    cx = (((qx + half + 0.5) * ratio - 0.5).round().long() - half).clamp(0, cw - 1)
    match = index.reshape(ch, cw)[cy[:, None], cx[None, :]]                                 # (Hq, Wq)
    my, mx = match // coarse_key_grid[1], match % coarse_key_grid[1]
    y = qy[:, None] + ((my - cy[:, None]).double() / ratio).round().long()
    x = qx[None, :] + ((mx - cx[None, :]).double() / ratio).round().long()
    return torch.stack([y, x], dim=-1)


# ----------------------------------------------------------------------------------------------------------
# GPNN
# ----------------------------------------------------------------------------------------------------------
def _grid(size: tuple[int, int], patch: int) -> tuple[int, int]:
    return size[0] - patch + 1, size[1] - patch + 1


def _as_image_tensor(image: Any, device: torch.device) -> torch.Tensor:
    arr = np.asarray(image, dtype=np.float32)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise UsageError(f"image: expected an H x W x 3 RGB array in [0, 1], got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise UsageError("image: the array holds NaN or infinity")
    return torch.from_numpy(np.ascontiguousarray(np.clip(arr, 0, 1).transpose(2, 0, 1))).to(device)


def replace_patches(output: torch.Tensor, source: torch.Tensor, key_image: torch.Tensor, iterations: int,
                    patch: int = 7, alpha: float = ALPHA, field: torch.Tensor | None = None,
                    radius: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """``iterations`` steps of GPNN at one level (paper Sec. 3, Fig. 2): the patches of ``output`` (``(3, H, W)``)
    are the queries; each is matched (normalised, Eq. 2) against the patches of ``key_image`` in the first step
    and of ``source`` after, replaced by the ``source`` patch at the match's position and folded (overlaps
    averaged). With ``field`` (``(Hq, Wq, 2)`` source positions) the search is local, around ``field``, and
    follows the matches from step to step. Returns the new output and the last matches (key indices)."""
    values = unfold(source, patch)                                                    # V: the sharp source
    key_grid = _grid(tuple(source.shape[-2:]), patch)
    query_grid = _grid(tuple(output.shape[-2:]), patch)
    index = None
    for _ in range(iterations):
        queries = unfold(output, patch)
        if field is not None:
            index = local_normalised_nearest(queries, key_image, field, patch, radius, alpha)
            field = torch.stack([index // key_grid[1], index % key_grid[1]], -1).reshape(*query_grid, 2)
        else:
            index = normalised_nearest(queries, unfold(key_image, patch), alpha)
        output = fold(values[index], tuple(output.shape[-2:]), patch)
        key_image = source
    return output, index


def gpnn_retarget(image: np.ndarray, size: tuple[int, int], *, patch: int = 7, ratio: float = PYRAMID_RATIO,
                  coarsest: int = COARSEST_SIDE, iterations: int = 10, alpha: float = ALPHA, noise: float = NOISE,
                  seed: int = 0, global_pairs: int = GLOBAL_PAIRS, radius: int = 3, local_iterations: int = 3,
                  device: str | torch.device = "cpu") -> np.ndarray:
    """GPNN retargeting (Granot et al., CVPR 2022) of ``image`` (``H x W x 3`` in [0, 1]) to ``size`` =
    (height, width): an ``height x width x 3`` float32 array in [0, 1], made of the photo's patches.

    ``patch`` x ``patch`` patches; a pyramid with ``ratio`` down to a source of ``coarsest`` px on its shorter
    side; ``iterations`` nearest-neighbour steps per level; ``alpha`` of the completeness normalisation (Eq. 2);
    Gaussian ``noise`` (std, [0, 1] units) on the coarsest start, drawn with ``seed`` (the same seed gives the
    same output). Levels with more than ``global_pairs`` query-key pairs search a window of ``radius`` px around
    the coarser match (see the module's docstring). Runs on ``device`` (the CPU by default).
    """
    dev = torch.device(device)
    source = _as_image_tensor(image, dev)
    size = check_output_size(size, tuple(source.shape[-2:]))
    if min(source.shape[-2:]) < patch or min(size) < patch:
        raise UsageError(f"gpnn_retarget: the photo ({source.shape[-1]}x{source.shape[-2]} px) and the output "
                         f"({size[1]}x{size[0]} px) need sides of at least the patch, {patch} px")
    if not (0.0 < ratio < 1.0) or iterations < 1 or alpha <= 0 or noise < 0 or radius < 1:
        raise UsageError(f"gpnn_retarget: need 0 < ratio < 1, iterations >= 1, alpha > 0, noise >= 0, radius >= 1 "
                         f"(got ratio={ratio}, iterations={iterations}, alpha={alpha}, noise={noise}, radius={radius})")
    levels = count_levels(tuple(source.shape[-2:]), size, patch, ratio, coarsest)
    src_sizes = level_sizes(tuple(source.shape[-2:]), levels, ratio)
    out_sizes = level_sizes(size, levels, ratio)
    sources = [resize(source, s) for s in src_sizes]                                  # finest first

    rng = torch.Generator().manual_seed(int(seed))
    start = resize(sources[-1], out_sizes[-1])                                        # the source, reshaped
    output = start + noise * torch.randn(start.shape, generator=rng).to(dev)          # not clipped: a query
    index, prev_grids = None, None
    for k in reversed(range(levels)):
        if k == levels - 1:
            key_image = sources[k]
        else:                                                                          # K: as blurred as Q
            output = resize(output, out_sizes[k])
            key_image = resize(sources[k + 1], src_sizes[k])
        query_grid, key_grid = _grid(out_sizes[k], patch), _grid(src_sizes[k], patch)
        local = (index is not None and min(key_grid) >= 2 * radius + 1
                 and query_grid[0] * query_grid[1] * key_grid[0] * key_grid[1] > global_pairs)
        field = coarse_to_fine_field(index, *prev_grids, query_grid, patch, ratio) if local else None
        output, index = replace_patches(output, sources[k], key_image, local_iterations if local else iterations,
                                        patch, alpha, field, radius)
        prev_grids = (query_grid, key_grid)
    return output.permute(1, 2, 0).cpu().numpy().astype(np.float32)
