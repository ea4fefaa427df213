"""Classical inpainting baselines: what a learned method must beat (EdgeConnect, Sec. 4.2 compares with such).

Each is a method ``(image, mask) -> composite``: ``image`` H x W x 3 float RGB in [0, 1], ``mask`` H x W (non-zero =
hole); the result keeps every known pixel exactly (:func:`composite_known`) and fills the hole:

* :func:`telea` - Telea's (2004) fast-marching method, OpenCV's ``cv2.inpaint(..., INPAINT_TELEA)``;
* :func:`ns` - Navier-Stokes inpainting (Bertalmio et al. 2001), ``cv2.inpaint(..., INPAINT_NS)``;
* :func:`pull_push` - pull-push interpolation (Gortler et al. 1996), :func:`edgeconnect_lib.prefill.pull_push_fill`;
* :func:`mean_fill` - the known region's mean colour: a method that scores below it has a bug.

:mod:`edgeconnect_lib.evaluation` scores them beside our pipeline (and re-exports them under the same names).
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from .errors import UsageError
from .prefill import pull_push_fill

__all__ = ["check_image_mask", "composite_known", "uint8_levels", "telea", "ns", "pull_push", "mean_fill"]


def check_image_mask(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``image`` as float32 H x W x 3 and ``mask`` as bool H x W (True = hole); a wrong shape is a usage error."""
    image = np.asarray(image, dtype=np.float32)
    mask = np.asarray(mask) != 0
    if image.ndim != 3 or image.shape[2] != 3:
        raise UsageError(f"image must be H x W x 3 (RGB in [0, 1]), got shape {image.shape}")
    if mask.shape != image.shape[:2]:
        raise UsageError(f"mask has shape {mask.shape}, the image {image.shape[:2]}: they must match")
    return image, mask


def composite_known(filled: np.ndarray, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``filled`` in the hole, ``image``'s own pixels (bit for bit) elsewhere, float32."""
    image, mask = check_image_mask(image, mask)
    return np.where(mask[..., None], np.asarray(filled, dtype=np.float32), image).astype(np.float32)


def uint8_levels(image: np.ndarray) -> np.ndarray:
    """Float RGB in [0, 1] -> uint8 levels, rounded to the nearest level (``np.rint``), as OpenCV reads them."""
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def _cv2_inpaint(image: np.ndarray, mask: np.ndarray, flag: int, radius: float) -> np.ndarray:
    image, mask = check_image_mask(image, mask)
    bgr = np.ascontiguousarray(uint8_levels(image)[..., ::-1])  # OpenCV works in BGR order
    filled = cv2.inpaint(bgr, mask.astype(np.uint8) * 255, radius, flag)
    rgb = filled[..., ::-1].astype(np.float32) / 255.0
    return composite_known(rgb, image, mask)


def telea(image: np.ndarray, mask: np.ndarray, radius: float = 3.0) -> np.ndarray:
    """Telea's (2004) fast-marching inpainting, ``cv2.inpaint(..., INPAINT_TELEA)`` on uint8, radius 3."""
    return _cv2_inpaint(image, mask, cv2.INPAINT_TELEA, radius)


def ns(image: np.ndarray, mask: np.ndarray, radius: float = 3.0) -> np.ndarray:
    """Navier-Stokes inpainting (Bertalmio et al. 2001), ``cv2.inpaint(..., INPAINT_NS)`` on uint8, radius 3."""
    return _cv2_inpaint(image, mask, cv2.INPAINT_NS, radius)


def pull_push(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Pull-push interpolation (Gortler et al. 1996): the smooth fill that the course's G2 starts from
    (:func:`edgeconnect_lib.prefill.pull_push_fill`, one image, fp32 on the CPU)."""
    image, mask = check_image_mask(image, mask)
    x = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32))[None]
    m = torch.from_numpy(mask.astype(np.float32))[None, None]
    filled = pull_push_fill(x, m)[0].numpy().transpose(1, 2, 0)
    return composite_known(filled, image, mask)


def mean_fill(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The hole filled with the mean colour of the known region (the floor any learned method must beat)."""
    image, mask = check_image_mask(image, mask)
    known = image[~mask]
    colour = known.mean(axis=0) if len(known) else np.full(3, 0.5, dtype=np.float32)
    return composite_known(np.broadcast_to(colour, image.shape), image, mask)
