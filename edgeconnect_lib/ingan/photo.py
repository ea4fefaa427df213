"""The training photo (:func:`prepare_image`) and its tensor form, ``[0, 1]`` arrays <-> ``[-1, 1]`` tensors."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from ..errors import UsageError
from ..images import load_image
from .config import MIN_OUTPUT_SIDE


def prepare_image(image: Any, image_size: int) -> np.ndarray:
    """The training photo: an ``H x W x 3`` float array in [0, 1] (or a path) resized (area) so that its
    longer side is ``image_size`` px, quantised to 8 bits (the checkpoint stores it as ``uint8``)."""
    arr = load_image(image) if isinstance(image, (str, Path)) else np.asarray(image, dtype=np.float32)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise UsageError(f"image: expected an H x W x 3 RGB array, got shape {arr.shape}")
    h, w = arr.shape[:2]
    if min(h, w) < MIN_OUTPUT_SIDE:
        raise UsageError(f"image: {w}x{h} px is too small; its shorter side must be at least {MIN_OUTPUT_SIDE} px")
    s = image_size / max(h, w)
    nh, nw = max(MIN_OUTPUT_SIDE, round(h * s)), max(MIN_OUTPUT_SIDE, round(w * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    arr = cv2.resize(np.clip(arr, 0, 1), (nw, nh), interpolation=interp) if (nh, nw) != (h, w) else arr
    return (np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8).astype(np.float32) / 255.0


def image_to_tensor(image: np.ndarray, device: torch.device) -> torch.Tensor:
    """``H x W x 3`` in [0, 1] -> ``(1, 3, H, W)`` in [-1, 1] on ``device``."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float()[None].to(device) * 2 - 1


def tensor_to_image(x: torch.Tensor) -> np.ndarray:
    """``(1, 3, H, W)`` in [-1, 1] -> ``H x W x 3`` float32 in [0, 1]."""
    return ((x[0].detach().float().cpu().clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy().astype(np.float32)

