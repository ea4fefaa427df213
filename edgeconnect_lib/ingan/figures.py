"""Retargets drawn at one pixel scale: every image pixel the same size on the screen (lesson 11).

InGAN's claim (Shocher et al., ICCV 2019, Sec. 1 and Fig. 1) is about the *size* of the photo's elements: a
retarget to 2x the width should hold more cups of the same size, not the same cups stretched. A figure that
scales every image to fit its cell hides exactly that (a 40x128 output squeezed to the width of a 40x64 input
looks like a crop). :func:`pixel_scale_grid` places each image in an axes of ``scale`` screen pixels per image
pixel, so a cup of the input and a cup of an output can be compared by eye, and a stretched one shows.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import UsageError

__all__ = ["pixel_scale_grid"]


def _shape(image: np.ndarray | None, where: str) -> tuple[int, int]:
    if image is None:
        return 0, 0
    shape = np.shape(image)
    if len(shape) not in (2, 3) or (len(shape) == 3 and shape[2] not in (1, 3, 4)) or min(shape[:2]) < 1:
        raise UsageError(f"pixel_scale_grid: {where} must be an H x W (x 3) image, got shape {shape}")
    return int(shape[0]), int(shape[1])


def pixel_scale_grid(rows: Sequence[Sequence[np.ndarray | None]], col_titles: Sequence[str] = (),
                     row_titles: Sequence[str] = (), scale: float = 3.0, gap: int = 24, dpi: int = 100):
    """A matplotlib figure with ``rows`` of images (``H x W x 3`` in [0, 1], or ``H x W``; ``None`` leaves a
    cell empty), each drawn at ``scale`` figure pixels per image pixel with nearest-neighbour interpolation.

    Column ``j`` is as wide as its widest image, row ``i`` as tall as its tallest, plus ``gap`` figure pixels
    between cells (room for the titles); an image sits at the top left of its cell. ``col_titles`` go above
    the first row's cells, ``row_titles`` to the left of each row. At the figure's ``dpi`` (the default, 100,
    is what the lessons store) the saved PNG shows every image pixel as ``scale x scale`` pixels.
    """
    import matplotlib.pyplot as plt

    grid = [list(r) for r in rows]
    if not grid or not all(grid) or len({len(r) for r in grid}) != 1:
        raise UsageError("pixel_scale_grid: rows must be a non-empty list of equally long, non-empty rows")
    if scale <= 0 or gap < 0 or dpi <= 0:
        raise UsageError(f"pixel_scale_grid: need scale > 0, gap >= 0, dpi > 0 (got {scale}, {gap}, {dpi})")
    n_cols = len(grid[0])
    if (col_titles and len(col_titles) != n_cols) or (row_titles and len(row_titles) != len(grid)):
        raise UsageError(f"pixel_scale_grid: {len(col_titles)} column and {len(row_titles)} row titles for a "
                         f"{len(grid)} x {n_cols} grid")
    shapes = [[_shape(img, f"image [{i}][{j}]") for j, img in enumerate(r)] for i, r in enumerate(grid)]
    col_w = [max(shapes[i][j][1] for i in range(len(grid))) * scale for j in range(n_cols)]
    row_h = [max(s[0] for s in r) * scale for r in shapes]
    left = gap * 4 if row_titles else gap / 2
    width, height = left + sum(col_w) + gap * n_cols, sum(row_h) + gap * (len(grid) + 0.5)
    fig = plt.figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    top = height - gap
    for i, r in enumerate(grid):
        x = left
        for j, img in enumerate(r):
            h, w = shapes[i][j]
            if img is not None:
                # axes rectangle in figure fractions: w * scale by h * scale figure pixels, top-left aligned
                ax = fig.add_axes([x / width, (top - h * scale) / height, w * scale / width, h * scale / height])
                ax.imshow(np.clip(np.asarray(img, np.float32), 0, 1), interpolation="nearest",
                          cmap="gray" if np.ndim(img) == 2 else None, vmin=0, vmax=1, aspect="auto")
                ax.set_xticks([])
                ax.set_yticks([])
                title = col_titles[j] if col_titles and i == 0 else ""
                ax.set_title(f"{title}\n{w}x{h}" if title else f"{w}x{h}", fontsize=8)
                if row_titles and j == 0:
                    ax.set_ylabel(row_titles[i], fontsize=9)
            x += col_w[j] + gap
        top -= row_h[i] + gap
    return fig
