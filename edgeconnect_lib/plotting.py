"""One plotting helper shared by every lesson, so that all figures look alike."""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["to_numpy_image", "show_images"]


def to_numpy_image(x) -> np.ndarray:
    """A tensor or array (``C x H x W``, ``H x W x C`` or ``H x W``) as an ``H x W [x 3]`` array for imshow."""
    if hasattr(x, "detach"):
        x = x.detach().float().cpu().numpy()
    x = np.asarray(x)
    if x.ndim == 4 and x.shape[0] == 1:
        x = x[0]
    if x.ndim == 3 and x.shape[0] in (1, 3) and x.shape[2] not in (1, 3):
        x = np.transpose(x, (1, 2, 0))
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[:, :, 0]
    if x.dtype == np.bool_:
        x = x.astype(np.float32)
    return x


def show_images(
    images: Sequence,
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    size: float = 2.6,
    cmap: str = "gray",
    suptitle: str | None = None,
):
    """Draw ``images`` in a grid (one row by default) and return the figure.

    Accepts NumPy arrays or torch tensors, RGB or single-channel; single-channel
    images use ``cmap`` with the range fixed to [0, 1] when their values lie there.
    """
    import matplotlib.pyplot as plt

    images = list(images)
    n = len(images)
    ncols = ncols or n
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = to_numpy_image(images[i])
        if img.ndim == 2:
            lo, hi = float(img.min()), float(img.max())
            vmin, vmax = (0.0, 1.0) if lo >= 0.0 and hi <= 1.0 else (lo, hi)
            ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        else:
            ax.imshow(np.clip(img, 0.0, 1.0), interpolation="nearest")
        if titles is not None and i < len(titles):
            ax.set_title(titles[i], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig
