"""One plotting helper shared by every lesson, so that all figures look alike."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .errors import UsageError

__all__ = ["to_numpy_image", "show_images", "plot_differences"]


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


def plot_differences(comparisons: Mapping[str, Mapping[str, Any]], baseline: str, ylabel: str = "PSNR difference (dB)",
                     title: str = "", ax: Any = None):
    """Bars of each method's mean difference to ``baseline`` per bucket, with their 95% intervals, and a line at 0.

    ``comparisons``: method -> bucket -> a paired comparison (anything with ``mean``, ``low``, ``high``, e.g.
    :func:`edgeconnect_lib.bootstrap.compare_methods`' output). A bar whose interval crosses the zero line is "no
    clear difference" by the course's rule; one wholly above (below) is better (worse) than ``baseline``. Drawing
    differences instead of the scores themselves shows the gap that the verdicts talk about, where bars from 0 would
    hide a 0.3 dB gap under 20 dB of bar. Draws into ``ax`` (a new figure when None); returns the figure.
    """
    import matplotlib.pyplot as plt

    if not comparisons:
        raise UsageError("plot_differences: no comparisons given")
    methods = list(comparisons)
    buckets = list(dict.fromkeys(b for found in comparisons.values() for b in found))
    missing = [(m, b) for m in methods for b in buckets if b not in comparisons[m]]
    if missing:
        raise UsageError(f"plot_differences: no comparison for {missing[0][0]!r} in bucket {missing[0][1]!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.0, 1.1 * len(buckets) + 1.5), 3.0))
    width = 0.8 / len(methods)
    x = np.arange(len(buckets))
    for j, method in enumerate(methods):
        found = [comparisons[method][b] for b in buckets]
        mean = np.array([float(c.mean) for c in found])
        err = np.array([[m - float(c.low) for m, c in zip(mean, found)], [float(c.high) - m for m, c in zip(mean, found)]])
        ax.bar(x + (j - (len(methods) - 1) / 2) * width, mean, width=width, yerr=err, capsize=3,
               label=f"{method} - {baseline}")
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xticks(x, buckets)
    ax.set_xlabel("hole ratio")
    ax.set_ylabel(ylabel)
    ax.set_title(title or f"difference to {baseline}, with 95% intervals", fontsize=10)
    ax.legend(fontsize=7)
    ax.figure.tight_layout()
    return ax.figure
