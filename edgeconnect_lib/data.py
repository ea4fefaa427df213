"""Training and evaluation samples for EdgeConnect: photo, grayscale, Canny edges and hole mask.

EdgeConnect (Nazeri et al. 2019, Sec. 3 and 4.1) learns from triples made on the fly from a
photo: the edge generator G1 sees the grayscale image, its Canny edges (``sigma = 2``) and a hole
mask; the image generator G2 sees the colour image, the edges and the mask. One item of
:class:`InpaintingDataset` is a :class:`Sample` holding all four as float tensors in [0, 1]:

``image`` ``(3, S, S)``, ``gray`` ``(1, S, S)``, ``edge`` ``(1, S, S)``, ``mask`` ``(1, S, S)`` (1 = hole).

``edge`` is the **full** edge map of the (cropped, resized) photo: the ground-truth label
``C_gt`` of G1. The models mask it themselves (G1's input is ``C_gt * (1 - M)``). The authors'
code instead computed the test-time edges with the hole left out (``canny(..., mask=~hole)``);
``edgeconnect_lib.edges.canny_edges(gray, mask=hole)`` gives those at inference.

Where the photos come from (:func:`list_image_files`): a folder (searched recursively), a glob
pattern, a text file list (``.txt`` / ``.flist``, one path per line, as distributed for Places2,
CelebA and Paris StreetView) or a Python list of paths.

Options follow the authors' configuration, with names instead of integer codes:

=====================  ==================================================================
``edge_mode``          ``"canny"`` (fixed ``sigma``; the authors' ``SIGMA: 2``),
                       ``"random_sigma"`` (an integer sigma in 1..4 per item, their ``SIGMA: 0``),
                       ``"none"`` (all-zero edges, their ``SIGMA: -1``),
                       ``"external"`` (edge files, e.g. HED, from ``edge_source``)
``mask_mode``          ``"block"`` (their "regular" 25% square), ``"half"``, ``"irregular"``
                       (hole ratio in ``hole_range``), ``"free_form"``, ``"external"`` (mask
                       files from ``mask_source``), ``"mix"`` (random kind, :data:`MIX_WEIGHTS`)
=====================  ==================================================================

``train=True`` gives random crops, flips and masks (a new draw at every call); ``train=False``
gives the same centre crop and the same mask for the same index on every run, so validation and
test numbers are comparable. Lesson ``notebooks/02_masks.ipynb`` draws a batch.
"""
from __future__ import annotations

import glob
import math
import os
import warnings
from numbers import Integral, Real
from pathlib import Path
from typing import NamedTuple, Sequence, Union

import cv2
import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset, get_worker_info

from . import edges as _edges
from . import masks as _masks
from .errors import InputError, UsageError
from .options import ON_ERROR_MODES, check_crop_fraction  # re-exported: the dataset checks its options there
from .images import IMAGE_EXTENSIONS, ImageReadError, load_image, rgb_to_gray

__all__ = [
    "EDGE_MODES",
    "MASK_MODES",
    "MIX_WEIGHTS",
    "RANDOM_SIGMAS",
    "TRAIN_CROP_FRACTION",
    "LIST_SUFFIXES",
    "Source",
    "Sample",
    "InpaintingDataset",
    "list_image_files",
    "ON_ERROR_MODES",
    "BadImage",
    "check_image_file",
    "scan_images",
    "center_square",
    "check_crop_fraction",
]

#: Edge label kinds (the authors' ``EDGE`` / ``SIGMA`` settings, by name).
EDGE_MODES: tuple[str, ...] = ("canny", "random_sigma", "none", "external")
#: Mask kinds (the authors' ``MASK`` setting, by name).
MASK_MODES: tuple[str, ...] = ("block", "half", "irregular", "free_form", "external", "mix")
#: How often ``mask_mode="mix"`` draws each generated kind.
MIX_WEIGHTS: dict[str, float] = {"irregular": 0.4, "free_form": 0.3, "block": 0.2, "half": 0.1}
#: ``edge_mode="random_sigma"`` draws sigma from these, as the authors' ``random.randint(1, 4)``.
RANDOM_SIGMAS: tuple[int, ...] = (1, 2, 3, 4)
#: Training crops are squares whose side is this fraction (uniform) of the photo's short side.
TRAIN_CROP_FRACTION: tuple[float, float] = (0.5, 1.0)
#: File endings read as lists of image paths.
LIST_SUFFIXES: tuple[str, ...] = (".txt", ".flist", ".lst")
#: What a dataset does with an unreadable photo (``on_error``): raise an error naming it, or skip it.
_GLOB_CHARS = set("*?[")

Source = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]]


# ----------------------------------------------------------------------------------------------
# Finding the photos
# ----------------------------------------------------------------------------------------------
def _is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def _images_in_folder(folder: Path) -> list[Path]:
    """Image files under ``folder`` (recursive, hidden files and folders skipped), sorted."""
    found = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and _is_image_name(path):
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def _images_in_list_file(list_file: Path) -> list[Path]:
    """Paths in a text file list: one per line; blank lines and ``#`` comments skipped.

    Relative paths are resolved against the list file's folder (not the working directory).
    """
    paths = []
    for line in list_file.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        path = Path(os.path.expanduser(line))
        paths.append(path if path.is_absolute() else list_file.parent / path)
    return paths


def list_image_files(source: Source) -> list[Path]:
    """The image files named by ``source``.

    ``source`` may be

    * a folder: every file under it (recursively) ending in one of ``IMAGE_EXTENSIONS``, sorted;
    * a glob pattern (``"photos/**/*.jpg"``, ``**`` recursive): matching image files, sorted;
    * a text file list (``.txt``, ``.flist``, ``.lst``): one path per line, as the file lists of
      Places2 / CelebA / Paris StreetView; relative paths are resolved against the list's folder,
      blank lines and lines starting with ``#`` are skipped, order is kept;
    * a single image file;
    * a Python list / tuple of paths (folders in it are expanded), order kept.

    Files in lists are not opened here: a missing or corrupt one is reported when it is loaded.
    An empty result raises ``ValueError`` naming the source and what was looked for; a path that
    does not exist (and is no glob pattern) raises ``FileNotFoundError``.
    """
    exts = ", ".join(IMAGE_EXTENSIONS)
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        path = Path(os.path.expanduser(text))
        if path.is_dir():
            files = _images_in_folder(path)
            what = f"image files ({exts}) in folder {path} and its subfolders"
        elif path.is_file():
            if path.suffix.lower() in LIST_SUFFIXES:
                files = _images_in_list_file(path)
                what = f"image paths (one per line) in list file {path}"
            elif _is_image_name(path):
                files = [path]
                what = "an image file"
            else:
                raise InputError(
                    f"source={text!r} is a file that is neither an image ({exts}) nor a list of paths "
                    f"({', '.join(LIST_SUFFIXES)}); give a folder, a glob pattern, a list file or a list of paths"
                )
        elif _GLOB_CHARS & set(text):
            matches = glob.glob(os.path.expanduser(text), recursive=True)
            files = sorted(Path(m) for m in matches if Path(m).is_file() and _is_image_name(Path(m)))
            what = f"image files ({exts}) matching the glob pattern {text!r}"
        else:
            raise FileNotFoundError(
                f"source={text!r}: no such folder or file, and not a glob pattern; check the path "
                "(a folder of photos, a glob like 'photos/*.jpg', or a .txt/.flist list of paths)"
            )
    elif isinstance(source, Sequence) and not isinstance(source, (bytes, bytearray)):
        files = []
        for i, item in enumerate(source):
            if not isinstance(item, (str, os.PathLike)):
                raise TypeError(f"source[{i}]={item!r}: every entry of a list source must be a path (str or Path)")
            item_path = Path(os.path.expanduser(os.fspath(item)))
            files.extend(_images_in_folder(item_path) if item_path.is_dir() else [item_path])
        what = "paths in the given list"
    else:
        raise TypeError(
            f"source must be a folder, glob pattern, list file (str or Path) or a list of paths, "
            f"got {type(source).__name__}"
        )
    if not files:
        raise InputError(f"no images found for source={source!r}: looked for {what}")
    return files


# ----------------------------------------------------------------------------------------------
# Checking the photos up front
# ----------------------------------------------------------------------------------------------
class BadImage(NamedTuple):
    """A photo that cannot be used, and why (:func:`scan_images`)."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path} ({self.reason})"


def check_image_file(path: str | os.PathLike, min_side: int = 1) -> str | None:
    """Why ``path`` cannot be used as a photo, or ``None`` when it can; fast, for a scan before training.

    The size comes from the file's header; PNG files are verified (every chunk's CRC, no decoding), JPEG
    files decoded at 1/8 scale (PIL's draft mode: a truncated file fails), other formats decoded fully.
    ``min_side``: the shortest side accepted, in pixels.
    """
    path = Path(path)
    try:
        with Image.open(path) as im:
            width, height = im.size
            if im.format == "PNG":
                im.verify()
            else:
                if im.format == "JPEG":
                    im.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                im.load()
    except FileNotFoundError:
        return "missing file"
    except PermissionError as err:
        return f"cannot open it: {err.strerror or err}"
    except Exception as err:  # PIL: UnidentifiedImageError, truncated data (OSError), SyntaxError, bombs
        return f"cannot decode it: {str(err).splitlines()[0] if str(err) else type(err).__name__}"
    if min(width, height) < min_side:
        return f"{width}x{height} px, its short side is below the minimum of {min_side} px"
    return None


def scan_images(paths: Sequence[str | os.PathLike], min_side: int = 1) -> list[BadImage]:
    """Every file of ``paths`` that :func:`check_image_file` rejects, in order, with the reason."""
    bad = []
    for path in paths:
        reason = check_image_file(path, min_side)
        if reason is not None:
            bad.append(BadImage(Path(path), reason))
    return bad


# ----------------------------------------------------------------------------------------------
# One sample
# ----------------------------------------------------------------------------------------------
class Sample(NamedTuple):
    """One training / evaluation item; float32 tensors in [0, 1] (a batch adds a leading ``B``).

    * ``image``: colour photo ``I_gt``, ``(3, S, S)``;
    * ``gray``: its luminance ``I_gray`` (BT.709 weights, as ``skimage.color.rgb2gray``), ``(1, S, S)``;
    * ``edge``: its full Canny edge map ``C_gt`` (the label of G1; 1 = edge), ``(1, S, S)``;
    * ``mask``: the hole ``M`` (1 = missing pixel), ``(1, S, S)``.

    ``torch.utils.data.default_collate`` stacks a list of samples into one batched ``Sample``.
    """

    image: torch.Tensor
    gray: torch.Tensor
    edge: torch.Tensor
    mask: torch.Tensor

    def to(self, device: torch.device | str) -> "Sample":
        """The same sample with every tensor moved to ``device``."""
        return Sample(*(t.to(device) for t in self))


# ----------------------------------------------------------------------------------------------
# Geometry: one crop box, then the same resize and flip for the photo and its maps
# ----------------------------------------------------------------------------------------------
def _crop_box(height: int, width: int, train: bool, rng: np.random.Generator | None,
              crop_fraction: tuple[float, float] = TRAIN_CROP_FRACTION) -> tuple[int, int, int]:
    """``(top, left, side)`` of a square crop: random size (a fraction in ``crop_fraction`` of the short
    side) and place for training, else the whole centre square."""
    short = min(height, width)
    if train:
        lo, hi = crop_fraction
        side = max(1, int(round(rng.uniform(lo, hi) * short)))
        top = int(rng.integers(0, height - side + 1))
        left = int(rng.integers(0, width - side + 1))
    else:
        side = short
        top, left = (height - side) // 2, (width - side) // 2
    return top, left, side


def _resize_float(arr: np.ndarray, size: int) -> np.ndarray:
    """Resize a square float map to ``size x size``: area averaging to shrink, bilinear to enlarge."""
    if arr.shape[0] == size and arr.shape[1] == size:
        return arr
    interp = cv2.INTER_AREA if arr.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(arr, (size, size), interpolation=interp)


def center_square(image: np.ndarray, size: int) -> np.ndarray:
    """The evaluation view of a photo: its centre square (the short side), resized to ``size x size``,
    float32 in [0, 1], exactly as :class:`InpaintingDataset` with ``train=False`` crops its images."""
    image = np.asarray(image, dtype=np.float32)
    top, left, side = _crop_box(image.shape[0], image.shape[1], False, None)
    crop = _resize_float(image[top : top + side, left : left + side], size)
    return np.ascontiguousarray(np.clip(crop, 0.0, 1.0), dtype=np.float32)


def _resize_binary(arr: np.ndarray, size: int) -> np.ndarray:
    """Resize a square bool map: an output pixel is on when any input pixel under it is on
    (so one-pixel edges survive shrinking); nearest neighbour to enlarge."""
    if arr.shape[0] == size and arr.shape[1] == size:
        return arr
    if arr.shape[0] > size:
        return cv2.resize(arr.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA) > 1e-6
    return cv2.resize(arr.astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST) > 0


def _check_choice(name: str, value, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise UsageError(f"{name}={value!r}: unknown; choose one of {', '.join(repr(c) for c in choices)}")
    return value


# ----------------------------------------------------------------------------------------------
# The dataset
# ----------------------------------------------------------------------------------------------
class InpaintingDataset(Dataset):
    """Photos from ``source`` as :class:`Sample` items of ``size x size`` pixels.

    Parameters
    ----------
    source:
        a folder, glob pattern, ``.txt``/``.flist`` list file or list of paths (:func:`list_image_files`).
    size:
        side ``S`` of the square samples (paper: 256).
    train:
        ``True``: random square crop (a fraction :data:`TRAIN_CROP_FRACTION` of the short side at a
        random place), resize to ``size``, horizontal flip with probability 1/2, random mask, drawn
        anew at every call. ``False`` (validation / test): centre square crop resized to ``size``,
        no flip, and a mask that depends only on ``(seed, index)``: the same item on every run and
        in every instance.
    edge_mode, sigma, edge_source:
        see :data:`EDGE_MODES`. ``sigma`` is the Canny Gaussian of ``"canny"`` (paper: 2).
        ``"external"`` reads, for each photo, the file in ``edge_source`` (folder, glob or list)
        with the same stem (``cat.jpg`` -> ``cat.png``), resizes it to the photo, thresholds it
        at 0.5 and then crops / resizes / flips it exactly as the photo.
    mask_mode, hole_range, mask_source:
        see :data:`MASK_MODES`; ``hole_range = (lo, hi)`` is the hole-ratio bucket of
        ``"irregular"`` (and of ``"mix"``'s irregular masks). ``"external"`` reads mask files
        (PNG, non-zero = hole, :func:`edgeconnect_lib.masks.load_mask`) from ``mask_source``:
        a random file with random flips for training, file ``index % n_masks`` otherwise.
    seed:
        seeds every random draw. Training draws use a generator from ``(seed, index, number of
        items drawn so far by this copy of the dataset, DataLoader worker seed)``, so a run is
        reproducible under ``seed`` (and ``torch.manual_seed`` for DataLoader workers) while the
        same index gives new crops and masks at every epoch.
    on_error:
        ``"raise"``: an unreadable photo raises :class:`~edgeconnect_lib.images.ImageReadError`
        naming the file. ``"skip"``: it is recorded in :attr:`skipped` with a warning (once per
        file) and the next index is used instead (deterministically). With DataLoader workers,
        each worker keeps its own :attr:`skipped`.

    A photo whose short side is smaller than ``size`` is upscaled, with one warning for the first such file (per
    copy of the dataset: each DataLoader worker warns once); :attr:`small` lists every one met so far.
    """

    def __init__(
        self,
        source: Source,
        size: int = 256,
        train: bool = True,
        edge_mode: str = "canny",
        sigma: float = 2.0,
        edge_source: Source | None = None,
        mask_mode: str = "irregular",
        hole_range: tuple[float, float] = (0.1, 0.6),
        mask_source: Source | None = None,
        seed: int = 0,
        on_error: str = "raise",
        crop_fraction: tuple[float, float] = TRAIN_CROP_FRACTION,
    ) -> None:
        if isinstance(size, bool) or not isinstance(size, Integral) or size < 8:
            raise UsageError(f"size={size!r}: must be an int >= 8 (side of the square samples; paper: 256)")
        if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
            raise UsageError(f"seed={seed!r}: must be a non-negative int")
        self.edge_mode = _check_choice("edge_mode", edge_mode, EDGE_MODES)
        self.mask_mode = _check_choice("mask_mode", mask_mode, MASK_MODES)
        self.on_error = _check_choice("on_error", on_error, ON_ERROR_MODES)
        if edge_mode == "canny" and (
            isinstance(sigma, bool) or not isinstance(sigma, Real) or not math.isfinite(sigma) or sigma <= 0
        ):
            raise UsageError(
                f"sigma={sigma!r}: the Canny Gaussian must be a positive number (paper: 2); "
                "for a random sigma use edge_mode='random_sigma', for no edges edge_mode='none'"
            )
        if (edge_mode == "external") != (edge_source is not None):
            raise UsageError(
                "edge_source is used with edge_mode='external' only: "
                + ("give edge_source=<folder of edge maps>" if edge_source is None else f"got edge_mode={edge_mode!r}")
            )
        if (mask_mode == "external") != (mask_source is not None):
            raise UsageError(
                "mask_source is used with mask_mode='external' only: "
                + ("give mask_source=<folder of mask PNGs>" if mask_source is None else f"got mask_mode={mask_mode!r}")
            )
        self.hole_range = _masks.check_hole_range(hole_range)
        self.crop_fraction = check_crop_fraction(crop_fraction)

        self.source = source
        self.files: list[Path] = list_image_files(source)
        self.size = int(size)
        self.train = bool(train)
        self.sigma = float(sigma)
        self.seed = int(seed)
        self.edge_files: dict[str, Path] | None = None
        if edge_mode == "external":
            self.edge_files = self._match_edge_files(edge_source)
        self.mask_files: list[Path] | None = list_image_files(mask_source) if mask_mode == "external" else None

        #: Photos that could not be read and were skipped (``on_error="skip"``), each once.
        self.skipped: list[Path] = []
        #: Photos met so far whose short side is smaller than ``size`` (upscaled), each once.
        self.small: list[Path] = []
        self._draws = 0  # items drawn by this copy of the dataset (makes training draws differ per call)

    # -- bookkeeping ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.files)

    def __repr__(self) -> str:
        return (
            f"InpaintingDataset({len(self)} photos, size={self.size}, train={self.train}, "
            f"edge_mode={self.edge_mode!r}, mask_mode={self.mask_mode!r})"
        )

    def _match_edge_files(self, edge_source: Source) -> dict[str, Path]:
        """Map each photo's stem to its edge file; every photo needs one."""
        by_stem: dict[str, Path] = {}
        for path in list_image_files(edge_source):
            if path.stem in by_stem:
                raise UsageError(
                    f"edge_source={edge_source!r}: two edge files share the stem {path.stem!r} "
                    f"({by_stem[path.stem]} and {path}); edge files are matched to photos by stem"
                )
            by_stem[path.stem] = path
        missing = [p.name for p in self.files if p.stem not in by_stem]
        if missing:
            raise UsageError(
                f"edge_source={edge_source!r} has no edge file for {len(missing)} photo(s), e.g. {missing[:5]}; "
                "each photo needs an edge map with the same stem (cat.jpg -> cat.png)"
            )
        return by_stem

    def _rng(self, index: int) -> np.random.Generator:
        """The generator of one item: fixed by ``(seed, index)`` in evaluation, fresh per call in training."""
        if not self.train:
            return np.random.default_rng([self.seed, index])
        self._draws += 1
        info = get_worker_info()
        worker_seed = 0 if info is None else info.seed % (2**63)
        return np.random.default_rng([self.seed, index, self._draws, worker_seed])

    def preflight(self, min_side: int = 1) -> list[BadImage]:
        """Check every photo up front (:func:`scan_images`) instead of failing hours into a run.

        ``on_error="raise"``: any bad photo raises :class:`~edgeconnect_lib.images.ImageReadError` listing
        every bad file and why. ``on_error="skip"``: bad photos are removed from :attr:`files` and added to
        :attr:`skipped` (the caller reports them; no warning here). Returns the bad photos.
        """
        bad = scan_images(self.files, min_side)
        if not bad:
            return bad
        if self.on_error == "raise" or len(bad) == len(self.files):
            why = "none of the photos can be used" if len(bad) == len(self.files) else "fix or remove them"
            raise ImageReadError(
                f"{len(bad)} of the {len(self.files)} photos of source={self.source!r} cannot be used: "
                + "; ".join(str(b) for b in bad)
                + f". {why.capitalize()}"
                + (", or skip them with on_error='skip'" if self.on_error == "raise" else "")
            )
        dropped = {b.path for b in bad}
        self.files = [p for p in self.files if p not in dropped]
        self.skipped.extend(b.path for b in bad if b.path not in self.skipped)
        return bad

    # -- loading -------------------------------------------------------------------------------
    def __getitem__(self, index: int) -> Sample:
        if isinstance(index, bool) or not isinstance(index, (Integral, np.integer)):
            raise TypeError(f"index={index!r}: must be an int")
        n = len(self.files)
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of range for a dataset of {n} photos")
        index = int(index) % n
        rng = self._rng(index)
        for attempt in range(n):
            path = self.files[(index + attempt) % n]
            try:
                return self._make_sample(index, path, rng)
            except ImageReadError as err:
                if self.on_error == "raise":
                    raise
                if path not in self.skipped:
                    self.skipped.append(path)
                    warnings.warn(f"skipping unreadable image: {err}", stacklevel=2)
        raise ImageReadError(
            f"none of the {n} images of source={self.source!r} could be read (skipped: "
            f"{[str(p) for p in self.skipped[:5]]}...)"
        )

    def _make_sample(self, index: int, path: Path, rng: np.random.Generator) -> Sample:
        """Load ``path`` and build its sample; ``index`` fixes the evaluation mask."""
        rgb = load_image(path)  # H x W x 3 float32 in [0, 1]; raises ImageReadError naming the file
        height, width = rgb.shape[:2]
        if min(height, width) < self.size and path not in self.small:
            self.small.append(path)
            if len(self.small) == 1:  # one line for a folder with many small photos, not one per photo
                warnings.warn(
                    f"image {path} is {width} x {height}, smaller than size={self.size}: it is upscaled "
                    "(blurry samples); use larger photos or a smaller size (further smaller photos are upscaled "
                    "without another warning)",
                    stacklevel=3,
                )

        # geometry: one square crop, resized to size x size, maybe mirrored
        top, left, side = _crop_box(height, width, self.train, rng, self.crop_fraction)
        flip = self.train and bool(rng.random() < 0.5)
        image = _resize_float(rgb[top : top + side, left : left + side], self.size)
        image = np.clip(image, 0.0, 1.0)
        if flip:
            image = image[:, ::-1]
        gray = rgb_to_gray(image)

        edge = self._edge(gray, path, (height, width), (top, left, side), flip, rng)
        mask = self._mask(index, rng)
        return Sample(
            image=torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32)),
            gray=torch.from_numpy(np.ascontiguousarray(gray[None], dtype=np.float32)),
            edge=torch.from_numpy(np.ascontiguousarray(edge[None], dtype=np.float32)),
            mask=torch.from_numpy(np.ascontiguousarray(mask[None], dtype=np.float32)),
        )

    def _edge(
        self,
        gray: np.ndarray,
        path: Path,
        photo_shape: tuple[int, int],
        box: tuple[int, int, int],
        flip: bool,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """The full edge label C_gt of the sample's grayscale image (no hole masked out)."""
        if self.edge_mode == "none":  # the authors' SIGMA = -1: G2 without edges
            return np.zeros_like(gray, dtype=bool)
        if self.edge_mode == "canny":
            return _edges.canny_edges(gray, sigma=self.sigma)
        if self.edge_mode == "random_sigma":  # the authors' SIGMA = 0
            sigma = float(rng.choice(RANDOM_SIGMAS))
            return _edges.canny_edges(gray, sigma=sigma)
        # external edge file: to the photo's size, binarised, then the photo's crop / resize / flip
        edge_path = self.edge_files[path.stem]
        edge_map = rgb_to_gray(load_image(edge_path))
        height, width = photo_shape
        if edge_map.shape != (height, width):
            edge_map = cv2.resize(edge_map, (width, height), interpolation=cv2.INTER_LINEAR)
        top, left, side = box
        edge = _resize_binary(edge_map[top : top + side, left : left + side] >= 0.5, self.size)
        return edge[:, ::-1] if flip else edge

    def _mask(self, index: int, rng: np.random.Generator) -> np.ndarray:
        """The hole ``M`` (True = missing) of one sample."""
        size = self.size
        kind = self.mask_mode
        if kind == "mix":
            kinds = list(MIX_WEIGHTS)
            weights = np.array([MIX_WEIGHTS[k] for k in kinds])
            kind = kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))]
        if kind == "external":
            n = len(self.mask_files)
            pick = int(rng.integers(n)) if self.train else index % n
            mask = _masks.load_mask(self.mask_files[pick], size)
            if self.train:
                if rng.random() < 0.5:
                    mask = mask[:, ::-1]
                if rng.random() < 0.5:
                    mask = mask[::-1, :]
            return mask
        return _masks.random_mask(kind, size, size, rng, hole_range=self.hole_range)
