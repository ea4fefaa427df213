"""InGAN's geometry: homographies in normalised coordinates and the generator's transform layer.

Coordinates: x right, y down, the frame spans [-1, 1] whatever its size in pixels (Shocher et al., ICCV 2019,
Sec. 4: ``G(x; T)`` with ``T`` an output size and/or a 3x3 homography).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import UsageError


def identity_homography() -> torch.Tensor:
    """The 3x3 identity: with another output size, a pure resize (a frame that spans [-1, 1] still does)."""
    return torch.eye(3, dtype=torch.float64)


def scale_homography(sx: float, sy: float) -> torch.Tensor:
    """Zoom about the centre by ``sx`` horizontally and ``sy`` vertically (``> 1``: the content grows)."""
    return torch.tensor([[sx, 0.0, 0.0], [0.0, sy, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)


def homography_from_corners(corners: Sequence[Sequence[float]]) -> torch.Tensor:
    """The homography that moves the frame's corners ``(-1,-1), (1,-1), (1,1), (-1,1)`` (top-left, clockwise)
    to ``corners`` (4 points ``(x, y)``, normalised): the direct linear transform, 8 equations, h33 = 1."""
    src = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
    dst = np.asarray(corners, dtype=np.float64)
    if dst.shape != (4, 2) or not np.isfinite(dst).all():
        raise UsageError(f"corners={corners!r}: give 4 finite (x, y) points (top-left, top-right, bottom-right, "
                         "bottom-left) in normalised coordinates")
    a, b = [], []
    for (x, y), (u, v) in zip(src, dst):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y]); b.append(u)
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y]); b.append(v)
    try:
        h = np.linalg.solve(np.array(a), np.array(b))
    except np.linalg.LinAlgError:
        raise UsageError(f"corners={corners!r}: three of the points are on one line (no homography)") from None
    return torch.tensor(np.append(h, 1.0).reshape(3, 3), dtype=torch.float64)


def as_homography(matrix: Any, name: str = "homography") -> torch.Tensor:
    """A checked, normalised (``h33 = 1``) float64 3x3 homography from 9 numbers or a 3x3 array."""
    m = torch.as_tensor(np.asarray(matrix, dtype=np.float64)).reshape(-1) if not torch.is_tensor(matrix) \
        else matrix.detach().to(torch.float64).cpu().reshape(-1)
    if m.numel() != 9:
        raise UsageError(f"{name}: a homography is 9 numbers (a 3x3 matrix, row by row), got {m.numel()}")
    m = m.reshape(3, 3)
    if not torch.isfinite(m).all():
        raise UsageError(f"{name}: the matrix holds NaN or infinity")
    det = float(torch.linalg.det(m))
    if abs(det) < 1e-8:
        raise UsageError(f"{name}: the matrix is singular (determinant {det:.3g}); it has no inverse, so no cycle "
                         "back to the input; give an invertible one, e.g. 1 0 0 0 1 0 0 0 1")
    if abs(float(m[2, 2])) > 1e-12:
        m = m / m[2, 2]
    return m


def _project(h: torch.Tensor, pts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply ``h`` (3x3) to points ``(..., 2)``; returns the projected points and the homogeneous ``w``."""
    ones = torch.ones_like(pts[..., :1])
    p = torch.cat([pts, ones], dim=-1) @ h.T.to(pts.dtype)
    w = p[..., 2:3]
    safe = torch.where(w.abs() < 1e-8, torch.full_like(w, 1e-8), w)
    return p[..., :2] / safe, w


def _grid(height: int, width: int, device: torch.device, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Pixel centres of an ``height x width`` frame in normalised coordinates (``align_corners=False``): (H, W, 2)."""
    ys = (torch.arange(height, device=device, dtype=dtype) * 2 + 1) / height - 1
    xs = (torch.arange(width, device=device, dtype=dtype) * 2 + 1) / width - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy], dim=-1)


def valid_region(homography: torch.Tensor, height: int, width: int, device: torch.device) -> torch.Tensor:
    """``(1, 1, H, W)`` mask of the input pixels that ``homography`` maps inside the output frame: only they
    can come back through ``T^-1``, so the cycle loss (Eq. 3) is taken over them."""
    # float64 on the CPU (MPS has no float64), then to ``device``
    q, w = _project(homography.cpu(), _grid(height, width, torch.device("cpu"), torch.float64))
    inside = (q.abs() <= 1.0).all(dim=-1) & (w[..., 0] > 0)
    return inside.to(torch.float32)[None, None].to(device)


class GeometricTransform(nn.Module):
    """The geometric transform layer of InGAN's generator (paper Sec. 4, Fig. 4): resample a feature map to
    the output geometry ``T`` = (output size, homography ``H``).

    For every output position ``q`` (normalised, the frame spans [-1, 1] whatever its size) the layer reads
    the input at ``p = H^-1 q`` with bilinear ``grid_sample``; ``H = I`` is a resize to the output size
    (aspect ratio free). Positions mapped outside the input read its reflection (``padding_mode="reflection"``).
    """

    def forward(self, x: torch.Tensor, size: tuple[int, int], homography: torch.Tensor | None = None) -> torch.Tensor:
        h, w = size
        if homography is None:
            if (h, w) == tuple(x.shape[-2:]):
                return x
            # a pure resize: the same sampling positions as grid_sample with H = I, done by interpolate
            return F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
        inv = torch.linalg.inv(homography.detach().cpu().to(torch.float64))
        # p = H^-1 q, (H, W, 2): float64 on the CPU (MPS has no float64), then to the features' device and dtype
        p, _ = _project(inv.cpu(), _grid(h, w, torch.device("cpu"), torch.float64))
        # sampled in fp32 under autocast too: a bf16 position is off by up to half a pixel at 256 px
        grid = p.to(device=x.device, dtype=torch.float32).unsqueeze(0).expand(x.shape[0], -1, -1, -1)
        with torch.autocast(x.device.type, enabled=False):
            return F.grid_sample(x.float(), grid, mode="bilinear", padding_mode="reflection", align_corners=False)
