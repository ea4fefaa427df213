"""Reading images from disk as float arrays, and colour conversions.

Every image in the course is a ``float32`` NumPy array in [0, 1]: RGB images are
``H x W x 3``, grayscale images ``H x W``.
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import InputError, UsageError

__all__ = ["load_image", "rgb_to_gray", "to_uint8", "ImageReadError", "IMAGE_EXTENSIONS", "ImageInfo", "read_image_info",
           "GREY_MODES", "LOSSY_EXTENSIONS"]

#: File name endings treated as images when a folder is listed.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


#: Pillow modes of single-channel (grey) images, with or without alpha.
GREY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")

#: Output file endings whose encoding changes pixels (JPEG, WebP): a result written so gets a note.
LOSSY_EXTENSIONS = (".jpg", ".jpeg", ".webp")


def to_uint8(image: np.ndarray) -> np.ndarray:
    """A float image in [0, 1] as 8-bit levels, rounded to the nearest (values outside [0, 1] are clipped).

    A ``uint8`` array is already 8-bit levels: returned as it is (a copy), not read as values far above 1."""
    if isinstance(image, np.ndarray) and image.dtype == np.uint8:
        return image.copy()
    return (np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


class ImageReadError(InputError):
    """An image file could not be read (missing, unreadable or corrupt)."""


def _to_float(arr: np.ndarray) -> np.ndarray:
    """Scale an integer array to float32 in [0, 1] by its dtype's range."""
    if arr.dtype == np.bool_:
        return arr.astype(np.float32)
    if np.issubdtype(arr.dtype, np.integer):
        return (arr.astype(np.float32) / float(np.iinfo(arr.dtype).max)).clip(0.0, 1.0)
    return np.clip(arr.astype(np.float32), 0.0, 1.0)


class ImageInfo(NamedTuple):
    """What an image file's header says: ``size`` (width, height), Pillow ``mode``, ``grey`` (single-channel
    colour, e.g. ``L``, ``LA``, 16-bit grey) and ``alpha`` (an alpha channel or a transparent palette entry)."""

    size: tuple[int, int]
    mode: str
    grey: bool
    alpha: bool


def read_image_info(path: str | Path) -> ImageInfo:
    """The header of an image file (nothing decoded); :class:`ImageReadError` naming the file when unreadable."""
    path = Path(path)
    try:
        with Image.open(path) as im:
            mode, size, info = im.mode, im.size, dict(im.info)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ImageReadError(f"cannot read image {path}: {err} (is the file corrupt or not an image?)") from err
    alpha = mode in ("LA", "La", "PA", "RGBA", "RGBa") or "transparency" in info
    return ImageInfo(size, mode, mode in GREY_MODES, alpha)


def load_image(path: str | Path) -> np.ndarray:
    """Read ``path`` as an RGB float32 array ``H x W x 3`` in [0, 1].

    Greyscale, greyscale+alpha, RGBA, palette (``P``), 16-bit and 32-bit images are
    converted: alpha is composited on white, 16-bit values are scaled by 65535.
    Raises :class:`ImageReadError` naming the file when it is missing or corrupt.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"image file not found: {path} (check the path or the dataset folder)")
    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            if mode in ("P", "PA", "LA", "RGBA", "CMYK", "YCbCr", "LAB", "HSV", "1"):
                if mode in ("P", "PA") and "transparency" in im.info or mode in ("PA", "LA", "RGBA"):
                    rgba = im.convert("RGBA")
                    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                    im = Image.alpha_composite(white, rgba).convert("RGB")
                else:
                    im = im.convert("RGB")
                arr = np.asarray(im)
            elif mode in ("I;16", "I;16B", "I;16L", "I;16N"):
                arr = np.asarray(im, dtype=np.uint16)
            elif mode == "I":
                arr = np.asarray(im).astype(np.int64)
                arr = (arr.clip(0, 65535)).astype(np.uint16) if arr.max() > 255 else arr.clip(0, 255).astype(np.uint8)
            elif mode == "F":
                arr = np.asarray(im, dtype=np.float32)
                if arr.max() > 1.0:
                    arr = arr / 255.0
            else:
                arr = np.asarray(im.convert("RGB") if mode != "L" else im)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ImageReadError(f"cannot read image {path}: {err} (is the file corrupt or not an image?)") from err
    out = _to_float(np.asarray(arr))
    if out.ndim == 2:
        out = np.repeat(out[:, :, None], 3, axis=2)
    return np.ascontiguousarray(out[:, :, :3], dtype=np.float32)


def rgb_to_gray(rgb: np.ndarray) -> np.ndarray:
    """Luminance of an RGB float image (``H x W x 3`` -> ``H x W``).

    Uses the same weights as scikit-image's ``rgb2gray`` (ITU-R BT.709:
    0.2125 R + 0.7154 G + 0.0721 B), which the EdgeConnect authors used to
    make the grayscale input of the edge generator and of Canny.
    """
    rgb = np.asarray(rgb, dtype=np.float32)
    if rgb.ndim == 2:
        return rgb
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise UsageError(f"rgb_to_gray expects H x W x 3, got shape {rgb.shape}")
    return (rgb[..., 0] * 0.2125 + rgb[..., 1] * 0.7154 + rgb[..., 2] * 0.0721).astype(np.float32)
