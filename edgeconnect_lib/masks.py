"""Hole masks for inpainting: which pixels the network has to fill in.

Every mask in the course is a boolean NumPy array ``H x W`` with **True = hole**
(files on disk: 0 = known, 255 = hole). The kinds follow the EdgeConnect paper
(Nazeri et al. 2019, Sec. 4 "Experiments" and its training setup):

``block``
    the paper's "regular" mask: a rectangle of half the image's height and width
    (25% of the area) at a random place;
``half``
    the left or the right half of the image;
``free_form``
    DeepFill v2's random brush strokes (Yu et al. 2019, "Free-form image inpainting
    with gated convolution", supplementary algorithm), drawn with ``cv2.line`` and
    ``cv2.circle``;
``irregular``
    strokes and blobs standing in for Liu et al.'s (2018) irregular mask set, whose
    test split is bucketed by hole ratio, half of the masks touching the image border;
    :func:`irregular_mask` lands inside a requested ratio range (see :data:`HOLE_BUCKETS`)
    and touches or avoids the border on request.

Every random function takes a ``numpy.random.Generator`` (``np.random.default_rng(seed)``),
so a mask is reproducible from its seed. Lesson ``notebooks/02_masks.ipynb`` draws them all.
"""
from __future__ import annotations

import math
from numbers import Integral
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import InputError, UsageError
from .fileio import write_png

__all__ = [
    "HOLE_BUCKETS",
    "MASK_KINDS",
    "BORDER_MODES",
    "block_mask",
    "half_mask",
    "free_form_mask",
    "irregular_mask",
    "random_mask",
    "hole_ratio",
    "load_mask",
    "load_edge_map",
    "save_mask",
    "example_mask_specs",
    "write_example_masks",
]

#: Hole-ratio buckets of Liu et al.'s (2018) irregular test masks that EdgeConnect reports
#: results on (Table 1 of the paper): (0.1, 0.2], ..., (0.5, 0.6].
HOLE_BUCKETS: tuple[tuple[float, float], ...] = ((0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5), (0.5, 0.6))

#: The mask kinds :func:`random_mask` knows.
MASK_KINDS: tuple[str, ...] = ("block", "half", "free_form", "irregular")

#: Fraction of pixels that may be neither near 0 nor near the maximum before
#: :func:`load_mask` refuses a file as "not a mask" (e.g. a lossy JPEG).
MAX_GREY_FRACTION = 0.02


# ----------------------------------------------------------------------------------------------
# parameter checks
# ----------------------------------------------------------------------------------------------
def _check_size(height, width) -> tuple[int, int]:
    """Validate ``height`` and ``width`` as positive integers."""
    for name, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise TypeError(f"{name}={value!r}: must be a positive int (number of pixels)")
        if value <= 0:
            raise UsageError(f"{name}={value!r}: must be a positive int (number of pixels)")
    return int(height), int(width)


def _check_rng(rng) -> np.random.Generator:
    """Return ``rng`` if it is a ``numpy.random.Generator``; ``None`` gives a fresh one."""
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (Integral, np.integer)):
        raise TypeError(
            f"rng={rng!r} is an int seed; pass a generator instead: rng=np.random.default_rng({rng})"
        )
    raise TypeError(
        f"rng must be a numpy.random.Generator (e.g. np.random.default_rng(0)), got {type(rng).__name__}"
    )


def check_hole_range(hole_range) -> tuple[float, float]:
    """Validate ``hole_range=(lo, hi)`` with ``0 < lo < hi < 1``."""
    try:
        lo, hi = (float(v) for v in hole_range)
    except (TypeError, ValueError):
        raise UsageError(
            f"hole_range={hole_range!r}: must be a pair (lo, hi) of hole ratios with 0 < lo < hi < 1, "
            "e.g. (0.1, 0.2)"
        ) from None
    if not (0.0 < lo < hi < 1.0):
        raise UsageError(
            f"hole_range={hole_range!r}: need 0 < lo < hi < 1 (fractions of the image, not percent), "
            "e.g. (0.1, 0.2)"
        )
    return lo, hi


def hole_ratio(mask: np.ndarray) -> float:
    """Fraction of hole pixels in ``mask`` (``True`` / non-zero = hole), in [0, 1]."""
    mask = np.asarray(mask)
    if mask.size == 0:
        raise UsageError("hole_ratio: the mask is empty (0 pixels)")
    return float(np.count_nonzero(mask)) / float(mask.size)


# ----------------------------------------------------------------------------------------------
# the paper's simple masks
# ----------------------------------------------------------------------------------------------
def block_mask(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """The paper's "regular" mask: a block of ``height//2 x width//2`` (25% of the area) at a random place.

    For a square image this is a square whose side is half the image side, as in the
    EdgeConnect paper; the block always lies fully inside the image.
    """
    height, width = _check_size(height, width)
    rng = _check_rng(rng)
    bh, bw = max(1, height // 2), max(1, width // 2)
    top = int(rng.integers(0, height - bh + 1))
    left = int(rng.integers(0, width - bw + 1))
    mask = np.zeros((height, width), dtype=bool)
    mask[top : top + bh, left : left + bw] = True
    return mask


def half_mask(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """The left or the right half of the image (chosen at random), ``width//2`` columns wide."""
    height, width = _check_size(height, width)
    rng = _check_rng(rng)
    half = max(1, width // 2)
    mask = np.zeros((height, width), dtype=bool)
    if rng.random() < 0.5:
        mask[:, :half] = True  # left half
    else:
        mask[:, width - half :] = True  # right half
    return mask


# ----------------------------------------------------------------------------------------------
# DeepFill v2 free-form strokes
# ----------------------------------------------------------------------------------------------
def free_form_mask(
    height: int,
    width: int,
    rng: np.random.Generator,
    max_strokes: int = 3,
    min_vertices: int = 4,
    max_vertices: int = 11,
    min_brush: float = 12.0,
    max_brush: float = 40.0,
    reference_size: int = 256,
) -> np.ndarray:
    """DeepFill v2 free-form brush strokes (Yu et al. 2019, supplementary material).

    For each of 1..``max_strokes`` strokes: a random start point, ``min_vertices``..``max_vertices``
    vertices; the direction of each step alternates around ``2*pi/5`` (each stroke draws
    ``angle_min = 2*pi/5 - U(0, 2*pi/15)``, ``angle_max = 2*pi/5 + U(0, 2*pi/15)``, each direction is
    ``U(angle_min, angle_max)`` and every second one is mirrored as ``2*pi - angle``: a zigzag), step lengths ``~ N(r, r/2)`` clipped to ``[0, 2r]`` with
    ``r = sqrt(H^2 + W^2) / 8``, a brush width ``U(min_brush, max_brush)``, a disc at every vertex, and
    a random left-right and up-down flip of the whole mask.

    The brush widths are the paper's pixels at ``reference_size`` (DeepFill trained on 256 x 256
    crops); for other sizes they are scaled by ``min(H, W) / reference_size`` so that a 64 x 64
    mask looks like a shrunken 256 x 256 one instead of being covered by a 40 px brush.
    """
    height, width = _check_size(height, width)
    rng = _check_rng(rng)
    if not (isinstance(max_strokes, Integral) and max_strokes >= 1):
        raise UsageError(f"max_strokes={max_strokes!r}: must be an int >= 1")
    if not (isinstance(min_vertices, Integral) and isinstance(max_vertices, Integral) and 1 <= min_vertices <= max_vertices):
        raise UsageError(
            f"min_vertices={min_vertices!r}, max_vertices={max_vertices!r}: need ints with 1 <= min <= max"
        )
    if not (0 < min_brush <= max_brush):
        raise UsageError(f"min_brush={min_brush!r}, max_brush={max_brush!r}: need 0 < min_brush <= max_brush")
    if not (isinstance(reference_size, Integral) and reference_size > 0):
        raise UsageError(f"reference_size={reference_size!r}: must be a positive int")

    mean_angle = 2.0 * math.pi / 5.0
    angle_range = 2.0 * math.pi / 15.0
    # r = sqrt(H^2 + W^2) / 8, the mean step between vertices
    r = math.sqrt(height**2 + width**2) / 8.0
    brush_scale = min(height, width) / float(reference_size)

    canvas = np.zeros((height, width), dtype=np.uint8)
    for _ in range(int(rng.integers(1, max_strokes + 1))):
        n_vertices = int(rng.integers(min_vertices, max_vertices + 1))
        angle_min = mean_angle - rng.uniform(0.0, angle_range)
        angle_max = mean_angle + rng.uniform(0.0, angle_range)
        # alternate the turning direction: 2*pi - a, a, 2*pi - a, ...
        angles = [
            2.0 * math.pi - rng.uniform(angle_min, angle_max) if i % 2 == 0 else rng.uniform(angle_min, angle_max)
            for i in range(n_vertices)
        ]
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        vertices = [(x, y)]
        for angle in angles:
            # step ~ N(r, r/2), clipped to [0, 2r]
            step = float(np.clip(rng.normal(r, r / 2.0), 0.0, 2.0 * r))
            x = int(np.clip(x + step * math.cos(angle), 0, width - 1))
            y = int(np.clip(y + step * math.sin(angle), 0, height - 1))
            vertices.append((x, y))
        brush = max(1, int(round(rng.uniform(min_brush, max_brush) * brush_scale)))
        for p, q in zip(vertices[:-1], vertices[1:]):
            cv2.line(canvas, p, q, color=255, thickness=brush)
        for v in vertices:
            cv2.circle(canvas, v, radius=max(1, brush // 2), color=255, thickness=-1)
    mask = canvas > 0
    # random flips, so that the zigzags run in every direction (the intent of DeepFill's code)
    if rng.random() < 0.5:
        mask = mask[:, ::-1]
    if rng.random() < 0.5:
        mask = mask[::-1, :]
    return np.ascontiguousarray(mask)


# ----------------------------------------------------------------------------------------------
# irregular masks with a controlled hole ratio
# ----------------------------------------------------------------------------------------------
def _start_point(shape: tuple[int, int], rng: np.random.Generator, where: str) -> tuple[float, float]:
    """Where a new shape starts: ``anywhere`` (a margin outside the image included), ``inside`` or ``edge``."""
    h, w = shape
    if where == "inside":
        return rng.uniform(0.15 * w, 0.85 * w), rng.uniform(0.15 * h, 0.85 * h)
    if where == "edge":  # a random point on the image's outline
        side = int(rng.integers(0, 4))
        t = rng.uniform(0.0, 1.0)
        return [(t * (w - 1), 0.0), (t * (w - 1), h - 1.0), (0.0, t * (h - 1)), (w - 1.0, t * (h - 1))][side]
    return rng.uniform(-0.1 * w, 1.1 * w), rng.uniform(-0.1 * h, 1.1 * h)


def _draw_stroke(canvas: np.ndarray, rng: np.random.Generator, scale: float, start: tuple[float, float]) -> None:
    """A thick random-walk polyline with round joints (an occlusion streak); may leave the image."""
    h, w = canvas.shape
    side = math.sqrt(h * w)
    x, y = start
    angle = rng.uniform(0.0, 2.0 * math.pi)
    thickness = max(1, int(round(side * scale * rng.uniform(0.02, 0.07))))
    points = [(x, y)]
    for _ in range(int(rng.integers(2, 7))):
        angle += rng.normal(0.0, 0.9)  # wander
        step = side * scale * rng.uniform(0.06, 0.22)
        x, y = x + step * math.cos(angle), y + step * math.sin(angle)
        points.append((x, y))
    pts = [(int(round(px)), int(round(py))) for px, py in points]
    for p, q in zip(pts[:-1], pts[1:]):
        cv2.line(canvas, p, q, color=255, thickness=thickness, lineType=cv2.LINE_8)
    for p in pts:
        cv2.circle(canvas, p, radius=max(1, thickness // 2), color=255, thickness=-1)


def _draw_blob(canvas: np.ndarray, rng: np.random.Generator, scale: float, start: tuple[float, float]) -> None:
    """A lumpy blob (a dis-occlusion region) centred on ``start``: a wobbly ellipse that may leave the image."""
    h, w = canvas.shape
    side = math.sqrt(h * w)
    cx, cy = start
    radius = side * scale * rng.uniform(0.03, 0.1)
    theta = np.linspace(0.0, 2.0 * math.pi, 48, endpoint=False)
    # r(theta) = R * (1 + sum_k a_k cos(k theta + phi_k)), k = 2..6: a lumpy outline
    wobble = np.ones_like(theta)
    for k in range(2, 7):
        wobble += rng.uniform(0.0, 0.7 / k) * np.cos(k * theta + rng.uniform(0.0, 2.0 * math.pi))
    radii = radius * np.clip(wobble, 0.25, None)
    # stretch into an ellipse at a random orientation
    stretch, tilt = rng.uniform(1.0, 2.5), rng.uniform(0.0, math.pi)
    ex, ey = radii * np.cos(theta) * stretch, radii * np.sin(theta)
    xs = cx + ex * math.cos(tilt) - ey * math.sin(tilt)
    ys = cy + ex * math.sin(tilt) + ey * math.cos(tilt)
    poly = np.stack([xs, ys], axis=1).round().astype(np.int32)
    cv2.fillPoly(canvas, [poly], color=255)


def _touches_border(mask: np.ndarray) -> bool:
    """Whether any hole pixel lies in the image's outermost rows or columns."""
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def _grow_to(mask: np.ndarray, target_count: int, rng: np.random.Generator, allowed: np.ndarray) -> np.ndarray:
    """Add ``allowed`` pixels next to the hole (random order, ring by ring) until it holds ``target_count`` pixels."""
    mask = mask.copy()
    kernel = np.ones((3, 3), np.uint8)
    while np.count_nonzero(mask) < target_count:
        need = target_count - int(np.count_nonzero(mask))
        if not mask.any():  # nothing to grow from: seed one random allowed pixel
            ys, xs = np.nonzero(allowed)
            k = int(rng.integers(0, len(ys)))
            mask[ys[k], xs[k]] = True
            continue
        ring = cv2.dilate(mask.astype(np.uint8), kernel).astype(bool) & ~mask & allowed
        ys, xs = np.nonzero(ring)
        pick = rng.permutation(len(ys))[:need]
        mask[ys[pick], xs[pick]] = True
    return mask


#: Shapes :func:`irregular_mask` draws at most before it grows the hole pixel by pixel instead.
MAX_SHAPE_DRAWS = 2000

#: Choices for ``irregular_mask(border=...)``.
BORDER_MODES: tuple[str, ...] = ("either", "touch", "avoid", "any")


def irregular_mask(
    height: int,
    width: int,
    hole_range: tuple[float, float] = (0.1, 0.6),
    rng: np.random.Generator | None = None,
    border: str = "either",
) -> np.ndarray:
    """Strokes and blobs whose hole ratio lands in ``hole_range = (lo, hi)``.

    Stands in for Liu et al.'s (2018) irregular masks (used by EdgeConnect, Sec. 4), whose test
    set is bucketed by hole ratio (:data:`HOLE_BUCKETS`), with as many masks touching the image
    border as not. A target ratio is drawn uniformly in ``(lo, hi]``; random thick strokes
    (streaks) and lumpy blobs are added until the hole reaches the target. A shape that would
    push the ratio above ``hi`` (or far above the target) is thrown away and drawn again smaller, so
    the result always lies in ``(lo, hi]``, spread over the whole range; if small shapes keep
    failing, the hole is grown pixel by pixel along its edge to the target.

    ``border``: ``"touch"`` - the hole reaches the image border (the first shapes start on it);
    ``"avoid"`` - it keeps one pixel off every border (shapes that reach it are thrown away);
    ``"either"`` (default) - touch or avoid with probability 1/2 each, like Liu et al.'s test set;
    ``"any"`` - no constraint (shapes start anywhere; then almost every mask touches the border).

    ``rng=None`` uses a fresh ``np.random.default_rng()`` (not reproducible).
    """
    height, width = _check_size(height, width)
    lo, hi = check_hole_range(hole_range)
    rng = _check_rng(rng)
    if border not in BORDER_MODES:
        raise UsageError(f"border={border!r}: choose one of {', '.join(BORDER_MODES)}")
    if border == "either":
        border = "touch" if rng.random() < 0.5 else "avoid"
    if border == "avoid" and (height < 3 or width < 3):
        raise UsageError(f"border='avoid' needs a mask of at least 3 x 3 pixels, got {height} x {width}")

    # pixels a hole may use: all, or all but the outermost frame
    allowed = np.ones((height, width), dtype=bool)
    if border == "avoid":
        allowed[0, :] = allowed[-1, :] = allowed[:, 0] = allowed[:, -1] = False
    n_pixels = height * width
    # hole pixel counts with lo < count / N <= hi
    lo_count, hi_count = math.floor(lo * n_pixels) + 1, min(math.floor(hi * n_pixels), int(allowed.sum()))
    if lo_count > hi_count:
        raise UsageError(
            f"hole_range={hole_range!r}: no pixel count fits in it for a {height} x {width} mask"
            + (" whose border must stay known (border='avoid')" if border == "avoid" else "")
            + "; widen the range or use a bigger mask"
        )
    # aim for a random ratio in the range, so masks spread over the whole bucket
    target_count = int(rng.integers(lo_count, hi_count + 1))
    # a shape may overshoot the target a little (a fifth of the range), never past hi
    cap_count = min(hi_count, target_count + (hi_count - lo_count) // 5)
    # bigger holes are made of bigger shapes
    base = 0.8 + 2.0 * (target_count / n_pixels)

    canvas = np.zeros((height, width), dtype=np.uint8)
    count, scale, failures, misses = 0, base, 0, 0
    touching = False
    for _ in range(MAX_SHAPE_DRAWS):
        if count >= target_count or failures >= 80:
            break
        where = {"touch": "anywhere" if touching else "edge", "avoid": "inside"}.get(border, "anywhere")
        start = _start_point(canvas.shape, rng, where)
        candidate = canvas.copy()
        if rng.random() < 0.6:
            _draw_stroke(candidate, rng, scale, start)
        else:
            _draw_blob(candidate, rng, scale, start)
        new_count = int(np.count_nonzero(candidate))
        if new_count > cap_count:  # overshoot: throw the shape away and try a smaller one
            scale *= 0.75
            failures += 1
        elif border == "avoid" and _touches_border(candidate):
            # reached a border to avoid: throw it away; shrink only after several misses in a row
            misses += 1
            if misses % 8 == 0:
                scale *= 0.85
                failures += 1
        elif new_count > count:
            canvas, count = candidate, new_count
            touching = touching or _touches_border(candidate)
            failures = misses = 0
    mask = canvas > 0
    if count < target_count:
        if border == "touch" and not _touches_border(mask):  # put one hole pixel on the border first
            frame = np.zeros_like(mask)
            frame[0, :] = frame[-1, :] = frame[:, 0] = frame[:, -1] = True
            ys, xs = np.nonzero(frame & ~mask)
            k = int(rng.integers(0, len(ys)))
            mask[ys[k], xs[k]] = True
        mask = _grow_to(mask, target_count, rng, allowed)
    return mask


# ----------------------------------------------------------------------------------------------
# one entry point by name
# ----------------------------------------------------------------------------------------------
def random_mask(
    kind: str,
    height: int,
    width: int,
    rng: np.random.Generator,
    hole_range: tuple[float, float] = (0.1, 0.6),
) -> np.ndarray:
    """A random mask of ``kind`` (one of :data:`MASK_KINDS`); ``hole_range`` is used by ``irregular`` only."""
    if kind == "block":
        return block_mask(height, width, rng)
    if kind == "half":
        return half_mask(height, width, rng)
    if kind == "free_form":
        return free_form_mask(height, width, rng)
    if kind == "irregular":
        return irregular_mask(height, width, hole_range=hole_range, rng=_check_rng(rng))
    raise UsageError(f"kind={kind!r}: unknown mask kind; choose one of {', '.join(MASK_KINDS)}")


# ----------------------------------------------------------------------------------------------
# mask files
# ----------------------------------------------------------------------------------------------
_SAVE_HINT = "save masks losslessly as PNG, 0 = known, 255 = hole"
_EDGE_HINT = "save edge maps losslessly as single-channel PNG, 0 = no edge, 255 = edge"


def _check_target_size(size) -> tuple[int, int] | None:
    """``None`` -> keep, ``int`` -> square, ``(h, w)`` -> as given."""
    if size is None:
        return None
    if isinstance(size, Integral) and not isinstance(size, bool):
        if size <= 0:
            raise UsageError(f"size={size!r}: must be a positive int, a pair (height, width) or None")
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 2:
        try:
            return _check_size(size[0], size[1])
        except (TypeError, ValueError):
            pass
    raise UsageError(f"size={size!r}: must be a positive int, a pair (height, width) or None")


def load_mask(path: str | Path, size: int | tuple[int, int] | None = None) -> np.ndarray:
    """Read a mask file as a bool array ``H x W`` (True = hole), resized with nearest neighbour to ``size``.

    Accepted files: any format Pillow reads (PNG, BMP, TIFF, ...) in mode ``1``, ``L``, ``I;16``,
    ``P`` or ``RGB``/``RGBA`` whose three colour channels are equal. A non-zero pixel is a hole,
    as in the EdgeConnect authors' code, for a true binary file (0 and one other value);
    precisely, a pixel is a hole when it is above half the file's maximum value, so that the
    rare stray grey pixel of an almost-binary file is rounded to the nearer side.

    Refused, with a ``ValueError`` naming the file:

    * files that are not binary: more than 2% of the pixels neither near 0 nor near the maximum
      (a lossy JPEG, a photo);
    * colour files whose channels differ (a colour image, not a mask);
    * files with transparency (alpha < 255 anywhere): whether the hole is the transparent or the
      painted part is ambiguous, so flatten the mask first. A fully opaque alpha channel is
      ignored (the authors' code dropped it too).

    ``size``: ``None`` keeps the file's size, an ``int`` gives a square, ``(height, width)`` a
    rectangle. A missing file raises ``FileNotFoundError``.
    """
    return _load_binary_map(path, size, "mask", "hole", _SAVE_HINT)


def load_edge_map(path: str | Path) -> np.ndarray:
    """Read an edge map file as a bool array ``H x W`` (True = edge): the one meaning of "edge" of the command line
    (``inpaint --edges``, ``--save-edges``) and the editor (:func:`edgeconnect_lib.editor.load_edges` /
    ``save_edges``).

    The rules of :func:`load_mask`: a single-channel (or grey) binary file whose non-zero pixels are the edges
    (precisely: above half the file's maximum, so 0/1, 0/100 and 0/255 files all work; ``save_edges`` and
    ``--save-edges`` write 0 / 255); refused with a ``ValueError`` naming the file: a colour image, a photo or
    lossy JPEG (more than 2% grey pixels), transparency, an unreadable file. A missing file raises
    ``FileNotFoundError``.
    """
    return _load_binary_map(path, None, "edge map", "edge", _EDGE_HINT)


def _load_binary_map(path: str | Path, size, what: str, meaning: str, hint: str) -> np.ndarray:
    """The reader behind :func:`load_mask` and :func:`load_edge_map` (``what``: the file's kind in messages)."""
    path = Path(path)
    target = _check_target_size(size)
    if not path.is_file():
        # e.g. "check the path; masks are PNGs, 0 = known, 255 = hole" (the format, not how to save it)
        kinds = "masks are PNGs, 0 = known, 255 = hole" if what == "mask" else f"{what}s are PNGs, 255 = {meaning}"
        raise FileNotFoundError(f"{what} file not found: {path} (check the path; {kinds})")
    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            if mode == "P":
                im = im.convert("RGBA") if "transparency" in im.info else im.convert("RGB")
                mode = im.mode
            elif mode == "PA":
                im = im.convert("RGBA")
                mode = "RGBA"
            elif mode == "1":
                im = im.convert("L")
                mode = "L"
            elif mode not in ("L", "LA", "RGB", "RGBA", "I", "I;16", "I;16B", "I;16L", "I;16N"):
                raise InputError(f"{what} file {path} has image mode {mode!r}, which is not a {what}; {hint}")
            arr = np.asarray(im)
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise InputError(f"cannot read {what} file {path}: {err}; {hint}") from err

    if arr.ndim == 3:
        n_channels = arr.shape[2]
        if n_channels in (2, 4):  # LA / RGBA: the last channel is alpha
            alpha = arr[..., -1]
            if np.any(alpha < np.iinfo(arr.dtype).max):
                raise InputError(
                    f"{what} file {path} has transparency (an alpha channel below 255): it is ambiguous whether "
                    f"the {meaning} is the transparent or the painted part; flatten it and {hint}"
                )
            arr = arr[..., :-1]
            n_channels -= 1
        if n_channels == 3:
            if not (np.array_equal(arr[..., 0], arr[..., 1]) and np.array_equal(arr[..., 0], arr[..., 2])):
                raise InputError(
                    f"{what} file {path} is a colour image (its 3 channels differ), not a {what}; {hint}"
                )
        arr = arr[..., 0]
    if arr.ndim != 2:
        raise InputError(f"{what} file {path} has shape {arr.shape}, expected a single-channel image; {hint}")

    values = arr.astype(np.int64)
    vmax = int(values.max())
    if vmax > 0:
        # "near 0" / "near max": within 10% of the file's maximum value
        tol = 0.1 * vmax
        grey = np.count_nonzero((values > tol) & (values < vmax - tol))
        if grey > MAX_GREY_FRACTION * values.size:
            raise InputError(
                f"{what} file {path} is not a binary {what}: {100.0 * grey / values.size:.1f}% of its pixels are "
                f"grey (neither near 0 nor near {vmax}; a lossy JPEG?); {hint}"
            )
    mask = values * 2 > vmax  # hole / edge = above half the maximum (= non-zero for a binary file)

    if target is not None and target != mask.shape:
        th, tw = target
        img = Image.fromarray(mask.astype(np.uint8) * 255)
        mask = np.asarray(img.resize((tw, th), resample=Image.Resampling.NEAREST)) > 0
    return np.ascontiguousarray(mask, dtype=bool)


def save_mask(mask: np.ndarray, path: str | Path) -> Path:
    """Write ``mask`` (True / non-zero = hole) as a lossless 8-bit PNG, atomically (:func:`~edgeconnect_lib.fileio.write_png`):
    0 = known, 255 = hole."""
    path = Path(path)
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise UsageError(f"save_mask: mask must be H x W, got shape {mask.shape}")
    if path.suffix.lower() != ".png":
        raise UsageError(f"save_mask: {path} should end in .png ({_SAVE_HINT})")
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_png((mask != 0).astype(np.uint8) * 255, path, "mask")  # atomic: the one image writer


# ----------------------------------------------------------------------------------------------
# the example masks shipped in data/masks
# ----------------------------------------------------------------------------------------------
def example_mask_specs(per_bucket: int = 2, free_form: int = 2) -> list[tuple[str, str, tuple[float, float] | None]]:
    """File names and kinds of the example masks: ``(file name, kind, hole_range or None)``, in order.

    ``per_bucket`` irregular masks per bucket of :data:`HOLE_BUCKETS` (``irregular_10-20_0.png``, ...),
    then ``free_form`` free-form masks, one block and one half mask.
    """
    specs: list[tuple[str, str, tuple[float, float] | None]] = []
    for lo, hi in HOLE_BUCKETS:
        for i in range(per_bucket):
            specs.append((f"irregular_{round(lo * 100):02d}-{round(hi * 100):02d}_{i}.png", "irregular", (lo, hi)))
    for i in range(free_form):
        specs.append((f"free_form_{i}.png", "free_form", None))
    specs.append(("block_0.png", "block", None))
    specs.append(("half_0.png", "half", None))
    return specs


def write_example_masks(
    folder: str | Path, size: int = 256, seed: int = 0, per_bucket: int = 2, free_form: int = 2
) -> list[Path]:
    """Write the example masks of :func:`example_mask_specs` as ``size x size`` PNGs into ``folder``.

    Mask number ``k`` (in the order of the specs) is drawn with ``np.random.default_rng([seed, k])``,
    so each file is reproducible on its own. This is how ``data/masks/`` was made:
    ``python -m edgeconnect_lib.masks --out data/masks --size 256 --seed 0``.
    """
    folder = Path(folder)
    paths = []
    for k, (name, kind, hole_range) in enumerate(example_mask_specs(per_bucket, free_form)):
        rng = np.random.default_rng([seed, k])
        if kind == "irregular":
            mask = irregular_mask(size, size, hole_range=hole_range, rng=rng)
        else:
            mask = random_mask(kind, size, size, rng)
        paths.append(save_mask(mask, folder / name))
    return paths


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m edgeconnect_lib.masks --out data/masks``: write the example masks and list them."""
    import argparse

    parser = argparse.ArgumentParser(description="Write the course's example hole masks (PNG, 0 = known, 255 = hole).")
    parser.add_argument("--out", default="data/masks", help="output folder (default: data/masks)")
    parser.add_argument("--size", type=int, default=256, help="side of the square masks in pixels (default: 256)")
    parser.add_argument("--seed", type=int, default=0, help="seed; mask k uses np.random.default_rng([seed, k])")
    parser.add_argument("--per-bucket", type=int, default=2, help="irregular masks per hole-ratio bucket (default: 2)")
    parser.add_argument("--free-form", type=int, default=2, help="number of free-form masks (default: 2)")
    args = parser.parse_args(argv)
    for path in write_example_masks(args.out, args.size, args.seed, args.per_bucket, args.free_form):
        print(f"{path}  hole ratio {hole_ratio(load_mask(path)):.3f}")


if __name__ == "__main__":
    main()
