"""Pull-push fill: a fast classical fill of the hole, computed on any device (the course's G2 starts from it).

Pull-push interpolation (Gortler, Grzeszczuk, Szeliski and Cohen, "The Lumigraph", SIGGRAPH 1996, Sec. 3.3):

* **pull**: build a pyramid by 2x2 averaging, each pixel weighted by how much known data it holds. With
  ``x_0 = I * (1 - M)`` and weight ``w_0 = 1 - M``, level ``k + 1`` is
  ``w_{k+1} = min(1, sum_4 w_k)``, ``x_{k+1} = w_{k+1} * (sum_4 x_k) / (sum_4 w_k)`` (a weighted mean, whose
  confidence saturates at one known pixel's worth);
* **push**: from the coarsest level down, every pixel keeps its own value in proportion to its weight and takes
  the rest from the coarser fill, upsampled bilinearly: ``f_k = x_k + (1 - w_k) * up(f_{k+1})``.

Known pixels (weight 1) keep their value; a hole pixel gets a smooth blend of the known pixels around it, nearer
ones counting more. It is a membrane-like fill in the family of Telea's and Navier-Stokes' diffusions, computed in
a handful of tensor operations (about 4 ms for a 256 px image on one CPU core, against 20 ms for OpenCV's Telea),
so the trainer can run it on every batch on the CPU or the GPU. On the 60 val holes at 256 px it scores 18.62 dB
in-hole PSNR against Telea's 17.96 (``benchmarks/README.md``), so it is also reported as a classical method of its
own (:func:`edgeconnect_lib.baselines.pull_push`, ``evaluate --methods pullpush``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .errors import UsageError

__all__ = ["pull_push_fill"]


def pull_push_fill(images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """The pull-push fill of the holes of a batch: ``(B, C, H, W)`` images, ``(B, 1, H, W)`` masks (1 = hole)
    -> ``(B, C, H, W)``, the known pixels unchanged and the hole filled (module docstring). An image with no
    known pixel is filled with mid-grey 0.5. Runs in fp32 on the images' device; no gradient is needed."""
    if images.dim() != 4 or masks.dim() != 4 or masks.shape[1] != 1 or masks.shape[-2:] != images.shape[-2:] \
            or masks.shape[0] != images.shape[0]:
        raise UsageError(f"pull_push_fill: expected (B, C, H, W) images and (B, 1, H, W) masks, got "
                         f"{tuple(images.shape)} and {tuple(masks.shape)}")
    with torch.no_grad():
        x_known = images.float()
        w = 1.0 - masks.float()
        x = x_known * w
        levels = []
        while True:
            levels.append((x, w))
            if min(x.shape[-2:]) <= 1:
                break
            # pull: weighted 2x2 means; sums = 4 * average (ceil_mode averages over the window's valid pixels)
            xs = F.avg_pool2d(x, 2, ceil_mode=True)
            ws = F.avg_pool2d(w, 2, ceil_mode=True)
            w_next = (4 * ws).clamp(max=1.0)
            x = w_next * xs / ws.clamp_min(1e-12)
            w = w_next
        x, w = levels[-1]
        fill = torch.where(w > 0, x / w.clamp_min(1e-12), torch.full_like(x, 0.5))
        for x, w in reversed(levels[:-1]):  # push: the coarser fill where a pixel's own data is missing
            up = F.interpolate(fill, size=x.shape[-2:], mode="bilinear", align_corners=False)
            fill = x + (1.0 - w) * up
        fill = torch.where(masks > 0.5, fill, x_known)  # known pixels exactly as given
    return fill.to(images.dtype)

