"""Using a trained InGAN (:class:`InGAN`: load a checkpoint, retarget its photo) and the bicubic baselines."""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from ..checkpoints import INGAN_FORMAT, load_checkpoint
from ..errors import UsageError
from ..utils import pick_device
from .config import InGANConfig, check_output_size
from .geometry import as_homography
from .networks import InGANGenerator
from .photo import image_to_tensor, tensor_to_image


class InGAN:
    """A trained generator with the photo it learnt: ``retarget(size)``, ``retarget(homography=H)``."""

    def __init__(self, G: InGANGenerator, image: np.ndarray, cfg: InGANConfig | None = None) -> None:
        self.G, self.image, self.cfg = G, np.asarray(image, np.float32), cfg
        self.iteration = 0  # of the checkpoint it was loaded from (InGAN.load)
        self.device = next(G.parameters()).device

    @property
    def input_size(self) -> tuple[int, int]:
        return tuple(self.image.shape[:2])

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "auto") -> "InGAN":
        """From an InGAN checkpoint file or run folder (its newest checkpoint), ``map_location`` on ``device``."""
        dev = pick_device(device)
        ckpt = load_checkpoint(path, map_location="cpu")
        if ckpt.get("format") != INGAN_FORMAT or "image" not in ckpt.get("extra", {}):
            raise UsageError(f"{ckpt.get('path')}: not an InGAN checkpoint (format {ckpt.get('format')!r}); give a "
                             "file or run folder written by 'ingan train'")
        G = InGANGenerator(**ckpt["network_configs"]["G"])
        G.load_state_dict(ckpt["networks"]["G"])
        known = {f.name for f in fields(InGANConfig)}
        cfg = InGANConfig(**{**{k: v for k, v in ckpt["config"].items() if k in known}, "device": "cpu"})
        model = cls(G.to(dev).eval(), ckpt["extra"]["image"].numpy().astype(np.float32) / 255.0, cfg)
        model.iteration = int(ckpt["iteration"])
        return model

    @torch.no_grad()
    def retarget(self, size: tuple[int, int] | None = None, homography: Any = None,
                 image: np.ndarray | None = None) -> np.ndarray:
        """``G(x; T)`` as an ``H x W x 3`` array in [0, 1]: ``size`` = (height, width) (default the input's),
        ``homography`` = 9 numbers / 3x3 in normalised coordinates (input -> output), or both."""
        x = self.image if image is None else np.asarray(image, np.float32)
        size = check_output_size(size or x.shape[:2], x.shape[:2])
        h = None if homography is None else as_homography(homography)
        self.G.eval()
        return tensor_to_image(self.G(image_to_tensor(x, self.device), size, h))

    def reconstruction_error(self) -> float:
        """``mean |G(x; I) - x|`` in [0, 1] units: how well the identity transform gives the photo back."""
        return float(np.abs(self.retarget() - self.image).mean())


def bicubic_retarget(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The baseline: ``cv2.resize(..., INTER_CUBIC)`` of ``image`` (``H x W x 3``, [0, 1]) to ``size`` (h, w)."""
    h, w = check_output_size(size)
    return np.clip(cv2.resize(np.asarray(image, np.float32), (w, h), interpolation=cv2.INTER_CUBIC), 0, 1)


def bicubic_warp(image: np.ndarray, homography: Any, size: tuple[int, int] | None = None) -> np.ndarray:
    """The baseline for a homography: ``cv2.warpPerspective`` (bicubic, reflected border) of ``image`` by the
    same normalised homography the generator takes, to ``size`` (default the input's)."""
    hh, ww = image.shape[:2]
    h, w = check_output_size(size or (hh, ww))
    m = as_homography(homography).numpy()
    # pixel -> normalised: u = (2 px + 1) / W - 1, in the input and output frames
    to_norm_in = np.array([[2 / ww, 0, 1 / ww - 1], [0, 2 / hh, 1 / hh - 1], [0, 0, 1]])
    to_pix_out = np.linalg.inv(np.array([[2 / w, 0, 1 / w - 1], [0, 2 / h, 1 / h - 1], [0, 0, 1]]))
    pix = to_pix_out @ m @ to_norm_in
    out = cv2.warpPerspective(np.asarray(image, np.float32), pix, (w, h), flags=cv2.INTER_CUBIC,
                              borderMode=cv2.BORDER_REFLECT_101)
    return np.clip(out, 0, 1)
