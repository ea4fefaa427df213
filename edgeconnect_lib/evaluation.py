"""Score inpainting methods per hole-ratio bucket, as in the EdgeConnect paper's quantitative comparison.

EdgeConnect (Nazeri et al. 2019, Sec. 4.1, Table 1) reports L1, SSIM, PSNR and FID of each method on
Liu et al.'s irregular masks, one row per hole-ratio bucket (10-20%, ..., 50-60%). This module rebuilds
that comparison for the course, *inside the hole*, where a method actually has to invent pixels:

* an **evaluation set** (:func:`make_eval_set`): every photo's centre square (the geometry of
  ``InpaintingDataset(train=False)``) with ``masks_per_bucket`` irregular holes per bucket of
  :data:`~edgeconnect_lib.masks.HOLE_BUCKETS`, each drawn from
  ``numpy.random.default_rng([seed, photo_index, bucket_index, k])``, so every run scores the same set;
* **methods**, each a callable ``(image, mask) -> image`` that returns the composite (known pixels kept
  exactly): the classical baselines of :mod:`edgeconnect_lib.baselines` (:func:`telea`, :func:`ns`,
  :func:`mean_fill`, re-exported here) and our pipeline, :func:`pipeline_method` (predicted, true or no edges);
* **scores** per item (:func:`score`), the in-hole metrics of :mod:`edgeconnect_lib.metrics` (re-exported here):
  PSNR over the hole pixels, SSIM (scikit-image) on the hole's bounding box, mean L1 over the hole pixels;
  :func:`score_methods` (also named ``evaluate``) -> rows, :func:`summarize` -> means per (method, bucket) plus an
  ``"all"`` bucket, :func:`to_markdown` / :func:`to_csv`, and :func:`wins`;
* **the edge maps alone** (:func:`score_edge_maps`): what G1 draws in the hole against the Canny edges of Telea's
  fill, the classical guess of the same lines, each scored against the photo's Canny edges; the command line adds
  this section whenever ``ours`` is evaluated;
* **FID** (Heusel et al. 2017, the paper's fourth metric) only when an Inception file is present locally:
  NVIDIA's TorchScript ``inception-2015-12-05.pt`` (StyleGAN2-ADA metrics) at ``inception_path=`` or
  ``$EDGECONNECT_INCEPTION``. Nothing is ever downloaded; without the file the result is labelled
  :data:`FID_SKIPPED`.

The command line (``python -m edgeconnect_lib evaluate ...``, or :func:`main`) prints the per-bucket table::

    python -m edgeconnect_lib evaluate --checkpoint data/checkpoints/edgeconnect.pt --photos test \\
        --size 256 --masks-per-bucket 2 --methods ours,ours_true_edges,telea,ns,mean
"""
from __future__ import annotations

import argparse
import csv
import io
import sys
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Sequence

import cv2
import numpy as np

from . import settings
from .baselines import check_image_mask, composite_known, mean_fill, ns, pull_push, telea, uint8_levels
from .blending import poisson_blend
from .cli_files import CliError, FileGuard, add_speed_arguments, describe_os_error, error_line, write_text
from .course_data import course_images, data_dir
from .data import center_square, list_image_files  # center_square: the evaluation view of InpaintingDataset
from .edges import canny_edges
from .errors import UsageError, is_usage_error
from .images import load_image, rgb_to_gray
from .masks import HOLE_BUCKETS, irregular_mask
from .metrics import (  # the in-hole metrics: re-exported here, where the lessons found them first
    EDGE_TOLERANCE,
    MIN_SSIM_SIDE,
    hole_bbox,
    hole_bbox_ssim,
    edge_map_f1,
    hole_edge_f1,
    hole_l1,
    hole_psnr,
    psnr_from_mse,
)
from .options import whole_number

__all__ = [
    "Bucket",
    "Method",
    "EvalItem",
    "FIDResult",
    "METRICS",
    "METHOD_NAMES",
    "CLASSICAL_ANCHORS",
    "compare_with_best",
    "best_classical_lines",
    "true_edges_gain",
    "TRUE_EDGE_BUCKETS",
    "EDGE_CHOICES",
    "FID_SKIPPED",
    "INCEPTION_ENV",
    "bucket_label",
    "center_square",
    "make_eval_set",
    "photo_paths",
    "composite_known",
    "telea",
    "ns",
    "pull_push",
    "mean_fill",
    "pipeline_method",
    "build_methods",
    "hole_psnr",
    "hole_l1",
    "hole_bbox",
    "hole_bbox_ssim",
    "hole_edge_f1",
    "score",
    "score_methods",
    "evaluate",
    "EDGE_MAP_METHODS",
    "G1_THRESHOLD",
    "score_edge_maps",
    "summarize",
    "DISTANCE_RINGS",
    "edge_distance",
    "distance_profile",
    "to_markdown",
    "to_csv",
    "wins",
    "verdict",
    "frechet_distance",
    "inception_path_from_env",
    "load_inception",
    "inception_features",
    "fid",
    "add_arguments",
    "run",
    "main",
]

Bucket = tuple[float, float]
#: A method: ``(image H x W x 3 float in [0, 1], mask H x W bool, True = hole) -> composite image``.
Method = Callable[[np.ndarray, np.ndarray], np.ndarray]

#: The scores of :func:`score`, and whether higher is better.
METRICS: dict[str, bool] = {"psnr": True, "ssim": True, "l1": False}
#: The structure measure, added to :data:`METRICS`' scores by ``evaluate(..., edge_f1=True)`` (the command line).
STRUCTURE_METRICS: dict[str, bool] = {"edge_f1": True}
#: Every measure a row of :func:`score_methods` can hold, and whether higher is better.
HIGHER_IS_BETTER: dict[str, bool] = {**METRICS, **STRUCTURE_METRICS}
_METRIC_TITLES = {"psnr": "PSNR (dB)", "ssim": "SSIM", "l1": "L1", "edge_f1": "edge F1"}
_UNITS = {"psnr": "dB"}

#: Method names the command line knows (see :func:`build_methods`).
METHOD_NAMES: tuple[str, ...] = ("ours", "ours_true_edges", "ours_no_edges", "telea", "ns", "pullpush", "mean",
                                   "ours_poisson")
#: The edge maps :func:`pipeline_method` can feed G_inpaint.
EDGE_CHOICES: tuple[str, ...] = ("predicted", "true", "none")

#: Environment variable naming the local Inception file for FID.
INCEPTION_ENV = settings.INCEPTION
#: The label of an FID that was not computed because no Inception file is present.
FID_SKIPPED = f"skipped: no Inception file (set {INCEPTION_ENV}=...)"
INCEPTION_SIZE = 299


class EvalItem(NamedTuple):
    """One photo with one hole: ``image`` (H, W, 3) float32 in [0, 1], ``mask`` (H, W) bool (True = hole),
    ``bucket`` the hole-ratio range it was drawn in, ``k`` its number within the bucket."""

    name: str
    bucket: Bucket
    image: np.ndarray
    mask: np.ndarray
    k: int = 0


class FIDResult(NamedTuple):
    """An FID value, or ``None`` with ``label`` saying why it was skipped."""

    value: float | None
    label: str


def bucket_label(bucket: Bucket | str) -> str:
    """``(0.1, 0.2)`` -> ``"10-20%"``; a string (e.g. ``"all"``) is returned as it is."""
    if isinstance(bucket, str):
        return bucket
    lo, hi = bucket
    return f"{round(lo * 100)}-{round(hi * 100)}%"


# ----------------------------------------------------------------------------------------------------------
# The evaluation set
# ----------------------------------------------------------------------------------------------------------
def _photo(photo: str | Path | np.ndarray, index: int) -> tuple[str, np.ndarray]:
    if isinstance(photo, np.ndarray):
        if photo.ndim != 3 or photo.shape[2] != 3:
            raise UsageError(f"photo {index}: an array must be H x W x 3 RGB in [0, 1], got shape {photo.shape}")
        return f"photo{index}", photo
    return Path(photo).name, load_image(photo)


def make_eval_set(
    photos: Sequence[str | Path | np.ndarray],
    size: int = 256,
    buckets: Sequence[Bucket] = HOLE_BUCKETS,
    masks_per_bucket: int = 2,
    seed: int = 0,
) -> list[EvalItem]:
    """The fixed evaluation set: ``len(photos) x len(buckets) x masks_per_bucket`` items.

    Each photo (a path, or an RGB array named ``photo<i>``) is reduced to its centre square at ``size``
    (:func:`center_square`); hole ``k`` of bucket ``b`` is ``irregular_mask(size, size, bucket, rng)`` with
    ``rng = numpy.random.default_rng([seed, photo_index, b, k])``, so the set is the same on every run and
    one photo's holes do not depend on the others. Order: photo, then bucket, then k.
    """
    size = whole_number("size", size, MIN_SSIM_SIDE)
    masks_per_bucket = whole_number("masks_per_bucket", masks_per_bucket)
    seed = whole_number("seed", seed, 0)
    if len(photos) == 0:
        raise UsageError("make_eval_set: no photos given")
    buckets = [tuple(float(v) for v in b) for b in buckets]
    items = []
    for p, photo in enumerate(photos):
        name, rgb = _photo(photo, p)
        image = center_square(rgb, size)
        for b, bucket in enumerate(buckets):
            for k in range(masks_per_bucket):
                rng = np.random.default_rng([seed, p, b, k])
                mask = irregular_mask(size, size, bucket, rng)
                items.append(EvalItem(name, bucket, image, mask, k))
    return items


# ----------------------------------------------------------------------------------------------------------
# Methods
# ----------------------------------------------------------------------------------------------------------
def pipeline_method(ec: Any, edges: str = "predicted", blend: bool = False) -> Method:
    """Our pipeline as a method: ``ec.inpaint(image, mask, edges=...)`` of an ``EdgeConnect``.

    ``edges``: ``"predicted"`` (G_edge draws the edges in the hole: the full EdgeConnect), ``"true"``
    (the full Canny map of the ground-truth gray image at ``ec.sigma``: the paper's upper bound, Sec. 4.2),
    ``"none"`` (an all-zero edge map: G_inpaint alone). ``blend=True`` replaces the plain paste of the output
    by :func:`edgeconnect_lib.blending.poisson_blend` (a post-processing step that is not in EdgeConnect).
    """
    if edges not in EDGE_CHOICES:
        raise UsageError(f"edges={edges!r}: choose one of {', '.join(EDGE_CHOICES)}")

    def method(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        image, mask = check_image_mask(image, mask)
        edge_map = None
        if edges == "true":
            edge_map = canny_edges(rgb_to_gray(image), sigma=ec.sigma).astype(np.float32)
        elif edges == "none":
            edge_map = np.zeros(mask.shape, dtype=np.float32)
        result = ec.inpaint(image, mask, edges=edge_map)
        if blend:
            return poisson_blend(result.output, image, mask)
        return composite_known(result.image, image, mask)

    method.__name__ = f"edgeconnect_{edges}_edges" + ("_poisson" if blend else "")
    return method


def build_methods(names: Iterable[str], ec: Any = None) -> dict[str, Method]:
    """Methods by name (:data:`METHOD_NAMES`); the ``ours*`` ones need the pipeline ``ec``."""
    fixed: dict[str, Method] = {"telea": telea, "ns": ns, "pullpush": pull_push, "mean": mean_fill}
    edges_of = {"ours": "predicted", "ours_true_edges": "true", "ours_no_edges": "none", "ours_poisson": "predicted"}
    methods: dict[str, Method] = {}
    for name in names:
        if name in fixed:
            methods[name] = fixed[name]
        elif name in edges_of:
            if ec is None:
                raise UsageError(f"method {name!r} needs an EdgeConnect pipeline (a checkpoint)")
            methods[name] = pipeline_method(ec, edges_of[name], blend=name.endswith("_poisson"))
        else:
            raise UsageError(f"unknown method {name!r}: choose from {', '.join(METHOD_NAMES)}")
    return methods


def score(pred: np.ndarray, target: np.ndarray, mask: np.ndarray, edge_f1: bool = False) -> dict[str, float]:
    """``{"psnr", "ssim", "l1"}`` of one result, all inside the hole; with ``edge_f1``, also ``"edge_f1"``
    (:func:`hole_edge_f1`)."""
    scores = {"psnr": hole_psnr(pred, target, mask), "ssim": hole_bbox_ssim(pred, target, mask),
              "l1": hole_l1(pred, target, mask)}
    if edge_f1:
        scores["edge_f1"] = hole_edge_f1(pred, target, mask)
    return scores


# ----------------------------------------------------------------------------------------------------------
# Evaluation, summary, tables
# ----------------------------------------------------------------------------------------------------------
def score_methods(
    methods: Mapping[str, Method],
    eval_set: Sequence[EvalItem],
    outputs: dict[str, list[np.ndarray]] | None = None,
    edge_f1: bool = False,
) -> list[dict[str, Any]]:
    """Run every method on every item; one row per (method, item).

    A row: ``method``, ``photo``, ``bucket`` (label, e.g. ``"10-20%"``), ``k``, ``hole_ratio``, ``psnr``,
    ``ssim``, ``l1`` (and ``edge_f1`` with ``edge_f1=True``). Pass a dict as ``outputs`` to keep each method's
    composites (in item order), e.g. for :func:`fid`.
    """
    if not methods:
        raise UsageError("score_methods: no methods given")
    rows = []
    for name, method in methods.items():
        kept = outputs.setdefault(name, []) if outputs is not None else None
        for item in eval_set:
            result = np.asarray(method(item.image, item.mask), dtype=np.float32)
            if result.shape != item.image.shape:
                raise UsageError(f"method {name!r} returned shape {result.shape} for an image {item.image.shape}")
            row = {"method": name, "photo": item.name, "bucket": bucket_label(item.bucket), "k": item.k,
                   "hole_ratio": float(item.mask.mean())}
            row.update(score(result, item.image, item.mask, edge_f1))
            rows.append(row)
            if kept is not None:
                kept.append(result)
    return rows


#: The name lessons 08 and 09 use (``train.evaluate`` is the trainer's validation, a different thing).
evaluate = score_methods


#: The edge maps :func:`score_edge_maps` scores: what G1 draws in the hole, and its classical anchor, the Canny
#: edges of OpenCV's Telea fill (issue 18: "G1's in-hole edge F1 beats Canny-of-Telea").
EDGE_MAP_METHODS: tuple[str, ...] = ("g1", "telea_canny")
#: G1's output is a probability; a pixel is an edge above this (the threshold of the authors' edge accuracy).
G1_THRESHOLD = 0.5


def score_edge_maps(ec: Any, eval_set: Sequence[EvalItem], threshold: float = G1_THRESHOLD) -> list[dict[str, Any]]:
    """Score the edge maps themselves, before G2 paints anything: one row per (method, item) of
    :data:`EDGE_MAP_METHODS`, with the keys of :func:`score_methods`' rows and ``edge_f1`` only.

    ``g1``: ``G_edge``'s probabilities in the hole above ``threshold`` (paper Eq. 1, what the pipeline hands G2);
    ``telea_canny``: Canny (sigma ``ec.sigma``) of Telea's fill, the edges a classical fill draws. Both are matched
    against the Canny edges of the photo at the same sigma by :func:`~edgeconnect_lib.metrics.edge_map_f1`
    (hole pixels, :data:`EDGE_TOLERANCE` px), the matching rule of the ``edge_f1`` of :func:`score`.
    """
    rows = []
    for item in eval_set:
        truth = canny_edges(rgb_to_gray(item.image), sigma=ec.sigma)
        drawn = ec.edge_map(item.image, item.mask) > threshold
        classical = canny_edges(rgb_to_gray(telea(item.image, item.mask)), sigma=ec.sigma)
        for name, edges in (("g1", drawn), ("telea_canny", classical)):
            rows.append({"method": name, "photo": item.name, "bucket": bucket_label(item.bucket), "k": item.k,
                         "hole_ratio": float(item.mask.mean()), "edge_f1": edge_map_f1(edges, truth, item.mask)})
    return rows


def _metrics_in(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The metrics every row holds, in the order of :data:`METRICS`, then :data:`STRUCTURE_METRICS` (the rows of
    :func:`score_edge_maps` hold ``edge_f1`` only)."""
    return [m for m in (*METRICS, *STRUCTURE_METRICS) if rows and all(m in r for r in rows)]


def summarize(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Means per (method, bucket), then per method over all rows (bucket ``"all"``).

    Returns one dict per (method, bucket): ``method``, ``bucket``, ``n``, ``psnr``, ``ssim``, ``l1``, in the
    order methods and buckets first appear in ``rows``.
    """
    methods = list(dict.fromkeys(r["method"] for r in rows))
    buckets = list(dict.fromkeys(r["bucket"] for r in rows)) + ["all"]
    summary = []
    for method in methods:
        mine = [r for r in rows if r["method"] == method]
        for bucket in buckets:
            group = mine if bucket == "all" else [r for r in mine if r["bucket"] == bucket]
            if not group:
                continue
            entry: dict[str, Any] = {"method": method, "bucket": bucket, "n": len(group)}
            entry.update({m: float(np.mean([r[m] for r in group])) for m in _metrics_in(group)})
            summary.append(entry)
    return summary


#: Rings of distance (pixels, inclusive) from the hole's edge for :func:`distance_profile`; ``None`` = no limit.
DISTANCE_RINGS: tuple[tuple[int, int | None], ...] = ((1, 2), (3, 4), (5, 8), (9, 16), (17, None))


def edge_distance(mask: np.ndarray) -> np.ndarray:
    """For each hole pixel, its Euclidean distance in pixels to the nearest known pixel (1 = next to the known
    region); 0 on known pixels. ``mask`` (H, W), non-zero = hole; a hole with no known pixel raises."""
    hole = np.asarray(mask) != 0
    if hole.all():
        raise UsageError("edge_distance: the mask has no known pixel, so no hole edge")
    return cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def distance_profile(
    outputs: Mapping[str, Sequence[np.ndarray]],
    eval_set: Sequence[EvalItem],
    rings: Sequence[tuple[int, int | None]] = DISTANCE_RINGS,
) -> list[dict[str, Any]]:
    """In-hole PSNR per ring of distance from the hole's edge: where in the hole a method wins or loses.

    ``outputs`` is what :func:`evaluate` keeps (method -> composites in ``eval_set`` order). For each method and
    ring ``(lo, hi)`` the squared errors of every hole pixel whose :func:`edge_distance` ``d`` (rounded to the
    nearest pixel) satisfies ``lo <= d <= hi`` are pooled over all items: ``PSNR = 10 log10(1 / MSE)``.
    Returns rows ``{"method", "ring" (e.g. "1-2 px", "17+ px"), "pixels", "psnr"}``; an empty ring is left out.
    """
    distances = [np.rint(edge_distance(item.mask)) for item in eval_set]
    # the hole pixels of each ring, per item: the same for every method
    ring_masks = [[(d >= lo) & (d <= (np.inf if hi is None else hi)) & item.mask for d, item in zip(distances, eval_set)]
                  for lo, hi in rings]
    rows = []
    for name, images in outputs.items():
        if len(images) != len(eval_set):
            raise UsageError(f"distance_profile: method {name!r} has {len(images)} outputs for {len(eval_set)} items")
        # squared error summed over the channels, (H, W) per item, computed once per method and item
        errors = [np.sum((np.asarray(out, np.float64) - np.asarray(item.image, np.float64)) ** 2, axis=-1)
                  for out, item in zip(images, eval_set)]
        for (lo, hi), masks in zip(rings, ring_masks):
            pixels = sum(int(m.sum()) for m in masks)
            if pixels:
                mse = sum(float(e[m].sum()) for e, m in zip(errors, masks)) / (3 * pixels)
                rows.append({"method": name, "ring": f"{lo}+ px" if hi is None else f"{lo}-{hi} px",
                             "pixels": pixels, "psnr": psnr_from_mse(mse)})
    return rows


def _grid(summary: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[str], dict[tuple[str, str], Mapping]]:
    methods = list(dict.fromkeys(s["method"] for s in summary))
    buckets = list(dict.fromkeys(s["bucket"] for s in summary))
    return methods, buckets, {(s["method"], s["bucket"]): s for s in summary}


def _fmt(metric: str, value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.2f}" if metric == "psnr" else f"{value:.3f}" if metric == "ssim" else f"{value:.4f}"


def to_markdown(summary: Sequence[Mapping[str, Any]], metrics: Sequence[str] | None = None) -> str:
    """A markdown table: one row per hole-ratio bucket, one column per (metric, method); ``metrics``: by default
    :data:`METRICS` and the structure metrics the summary holds."""
    metrics = _metrics_in(summary) if metrics is None else metrics
    methods, buckets, cell = _grid(summary)
    header = ["hole ratio", "n"] + [f"{_METRIC_TITLES[m]} {meth}" for m in metrics for meth in methods]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for b in buckets:
        n = next((cell[(meth, b)]["n"] for meth in methods if (meth, b) in cell), 0)
        values = [_fmt(m, cell[(meth, b)][m] if (meth, b) in cell else None) for m in metrics for meth in methods]
        lines.append("| " + " | ".join([b, str(n)] + values) + " |")
    return "\n".join(lines)


def to_csv(summary: Sequence[Mapping[str, Any]]) -> str:
    """CSV, one line per (method, bucket): ``method,bucket,n,psnr,ssim,l1`` (``,edge_f1`` when scored); a cell is
    empty where a method has no such score (the edge maps of :func:`score_edge_maps` have ``edge_f1`` only)."""
    metrics = [m for m in (*METRICS, *STRUCTURE_METRICS) if any(m in s for s in summary)]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["method", "bucket", "n", *metrics])
    for s in summary:
        writer.writerow([s["method"], s["bucket"], s["n"], *(f"{s[m]:.6g}" if m in s else "" for m in metrics)])
    return buf.getvalue()


def comparison_pairs(methods: Sequence[str]) -> list[tuple[str, str]]:
    """The comparisons the command line prints for the methods of a run: each of ours against each classical
    method (Telea, Navier-Stokes, pull-push), and G2 with true edges or G1's edges against no edges (the paper's
    ablation)."""
    ours = [m for m in methods if m.startswith("ours")]
    pairs = [(m, b) for m in ours if m != "ours_no_edges" for b in ("telea", "ns", "pullpush") if b in methods]
    pairs += [(m, "ours_no_edges") for m in ("ours_true_edges", "ours") if m in methods and "ours_no_edges" in methods]
    return pairs


def comparison_lines(rows: Sequence[Mapping[str, Any]], pairs: Sequence[tuple[str, str]] | None = None,
                     seed: int = 0) -> str:
    """The course's statistics rule (:mod:`edgeconnect_lib.bootstrap`) on per-sample rows of :func:`evaluate`:
    for each pair and metric, the mean difference per bucket with its paired bootstrap 95% interval and the
    verdict ("better", "worse", "no clear difference"); L1 is lower-is-better. One line per (pair, metric)."""
    from .bootstrap import compare_methods, format_comparison

    methods = list(dict.fromkeys(r["method"] for r in rows))
    pairs = comparison_pairs(methods) if pairs is None else pairs
    per_bucket: dict[str, int] = {}
    for r in rows:
        if r["method"] == methods[0]:
            per_bucket[r["bucket"]] = per_bucket.get(r["bucket"], 0) + 1
    if pairs and min(per_bucket.values()) < 2:
        return ("(no intervals: a bucket holds a single sample; use more photos or --masks-per-bucket 2 for the "
                "paired bootstrap)")
    lines = []
    for method, baseline in pairs:
        mine = [r for r in rows if r["method"] in (method, baseline)]
        for metric in _metrics_in(mine):
            higher = HIGHER_IS_BETTER[metric]
            found = compare_methods(mine, method, baseline, metric, higher_is_better=higher, seed=seed)
            digits = 2 if metric == "psnr" else 3 if metric in ("ssim", "edge_f1") else 4
            cells = [f"{bucket} {format_comparison(c, _UNITS.get(metric, ''), digits)}" for bucket, c in found.items()]
            lines.append(f"{method} - {baseline}, {_METRIC_TITLES[metric]}: " + "; ".join(cells))
    return "\n".join(lines)


#: The classical fills issue 18's criterion takes the better of, per bucket and measure.
CLASSICAL_ANCHORS: tuple[str, ...] = ("telea", "ns")


def compare_with_best(rows: Sequence[Mapping[str, Any]], method: str = "ours",
                      baselines: Sequence[str] = CLASSICAL_ANCHORS, metric: str = "psnr", seed: int = 0
                      ) -> dict[str, tuple[str, Any]]:
    """``method`` against the better of ``baselines`` in each bucket: ``{bucket: (baseline, comparison)}``, the
    buckets and ``"all"`` as :func:`~edgeconnect_lib.bootstrap.compare_methods` gives them.

    The baseline is the one with the best mean ``metric`` in that bucket (the highest, or the lowest for L1), so
    "better" means: better than every one of them there, by the course's one rule (paired bootstrap 95% interval
    that excludes 0). This is issue 18's "beats the better of Telea and Navier-Stokes".
    """
    from .bootstrap import compare_methods

    higher = HIGHER_IS_BETTER.get(metric)
    if higher is None:
        raise UsageError(f"compare_with_best: unknown metric {metric!r}; choose one of {', '.join(HIGHER_IS_BETTER)}")
    if not baselines:
        raise UsageError("compare_with_best: no baselines given")
    found = {b: compare_methods(rows, method, b, metric, higher_is_better=higher, seed=seed) for b in baselines}
    out = {}
    for bucket in found[baselines[0]]:
        # the best baseline is the one the method gains least over (the mean difference = the difference of means)
        gain = lambda b: found[b][bucket].mean  # noqa: E731
        best = min(baselines, key=gain) if higher else max(baselines, key=gain)
        out[bucket] = (best, found[best][bucket])
    return out


def best_classical_lines(rows: Sequence[Mapping[str, Any]], method: str = "ours",
                         baselines: Sequence[str] = CLASSICAL_ANCHORS, seed: int = 0) -> str:
    """One line per measure (PSNR, SSIM, edge F1 where the rows hold it): ``method`` against the better of
    ``baselines`` in each bucket (:func:`compare_with_best`), the baseline named in brackets."""
    from .bootstrap import format_comparison

    lines = []
    for metric in (m for m in ("psnr", "ssim", "edge_f1") if m in _metrics_in(rows)):
        found = compare_with_best(rows, method, baselines, metric, seed)
        digits = 2 if metric == "psnr" else 3
        cells = [f"{bucket} ({base}) {format_comparison(c, _UNITS.get(metric, ''), digits)}"
                 for bucket, (base, c) in found.items()]
        lines.append(f"{method} - better of {' / '.join(baselines)}, {_METRIC_TITLES[metric]}: " + "; ".join(cells))
    return "\n".join(lines)


#: The hole sizes issue 18 averages the true edges' gain over (20-60%: the buckets where the edges have room).
TRUE_EDGE_BUCKETS: tuple[str, ...] = ("20-30%", "30-40%", "40-50%", "50-60%")


def true_edges_gain(rows: Sequence[Mapping[str, Any]], buckets: Sequence[str] = TRUE_EDGE_BUCKETS, seed: int = 0):
    """``ours_true_edges - ours_no_edges`` in-hole PSNR over the holes of ``buckets`` pooled: the same G2 given the
    photo's own Canny edges or an empty edge map (the paper's ablation, Sec. 4.2), as a paired comparison."""
    from .bootstrap import compare_methods

    mine = [r for r in rows if r["method"] in ("ours_true_edges", "ours_no_edges") and r["bucket"] in buckets]
    if not mine:
        raise UsageError(f"true_edges_gain: no rows of ours_true_edges / ours_no_edges in {', '.join(buckets)}")
    return compare_methods(mine, "ours_true_edges", "ours_no_edges", "psnr", by=None, seed=seed)["all"]


def wins(summary: Sequence[Mapping[str, Any]], ours: str = "ours", baseline: str = "telea") -> dict[str, dict[str, bool]]:
    """Per bucket, whether ``ours`` beats ``baseline`` (strictly) on mean PSNR and on mean SSIM."""
    methods, buckets, cell = _grid(summary)
    for name in (ours, baseline):
        if name not in methods:
            raise UsageError(f"wins: no method {name!r} in the summary (methods: {', '.join(methods)})")
    return {b: {m: bool(cell[(ours, b)][m] > cell[(baseline, b)][m]) for m in ("psnr", "ssim")}
            for b in buckets if (ours, b) in cell and (baseline, b) in cell}


def verdict(summary: Sequence[Mapping[str, Any]], ours: str = "ours", baseline: str = "telea") -> str:
    """One line: in which buckets ``ours`` beats ``baseline`` on PSNR and SSIM."""
    won = {b: w for b, w in wins(summary, ours, baseline).items() if b != "all"}
    both = [b for b, w in won.items() if w["psnr"] and w["ssim"]]
    psnr = sum(w["psnr"] for w in won.values())
    ssim = sum(w["ssim"] for w in won.values())
    return (f"{ours} vs {baseline}: PSNR better in {psnr}/{len(won)} buckets, SSIM better in {ssim}/{len(won)}; "
            f"both in: {', '.join(both) if both else 'none'}")


# ----------------------------------------------------------------------------------------------------------
# FID (only with a local Inception file)
# ----------------------------------------------------------------------------------------------------------
def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
    """Fréchet distance of two Gaussians: ``|mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))`` (FID's formula,
    Heusel et al. 2017), with ``scipy.linalg.sqrtm``; a singular product is offset by ``eps * I``."""
    from scipy import linalg

    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise UsageError(f"shapes do not match: mu {mu1.shape} / {mu2.shape}, sigma {sigma1.shape} / {sigma2.shape}")
    diff = mu1 - mu2
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def inception_path_from_env(inception_path: str | Path | None = None) -> Path | None:
    """``inception_path``, else ``$EDGECONNECT_INCEPTION``, else ``None``."""
    return Path(inception_path) if inception_path is not None else settings.inception_file()


def load_inception(path: str | Path, device: str = "cpu") -> Any:
    """NVIDIA's TorchScript Inception-v3 (``inception-2015-12-05.pt``) from a local file, in eval mode."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Inception file not found: {path}")
    with warnings.catch_warnings():  # NVIDIA's file is TorchScript: torch.jit.load is the way to read it
        warnings.simplefilter("ignore", DeprecationWarning)
        model = torch.jit.load(str(path), map_location=device)
    model.eval()
    return model


def inception_features(model: Any, images: Sequence[np.ndarray], batch_size: int = 16,
                       device: str = "cpu") -> np.ndarray:
    """Features (N, D) of RGB float images: each resized (bilinear) to 299 x 299, uint8 NCHW, called as
    ``model(x, return_features=True)`` (2048 features for NVIDIA's Inception)."""
    import torch

    if len(images) == 0:
        raise UsageError("inception_features: no images")
    feats = []
    for start in range(0, len(images), batch_size):
        batch = [cv2.resize(uint8_levels(np.asarray(im, np.float32)), (INCEPTION_SIZE, INCEPTION_SIZE),
                            interpolation=cv2.INTER_LINEAR) for im in images[start: start + batch_size]]
        x = torch.from_numpy(np.stack(batch).transpose(0, 3, 1, 2).copy()).to(device)
        with torch.no_grad():
            feats.append(model(x, return_features=True).detach().cpu().double().numpy())
    return np.concatenate(feats).reshape(len(images), -1)


def _gaussian(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return features.mean(axis=0), np.atleast_2d(np.cov(features, rowvar=False))


def fid(real: Sequence[np.ndarray], fake: Sequence[np.ndarray], inception_path: str | Path | None = None,
        device: str = "cpu", model: Any = None) -> FIDResult:
    """FID between two image sets, or a skipped label when no Inception file is present (no download).

    The file is ``inception_path`` or ``$EDGECONNECT_INCEPTION``; ``model`` (already loaded) overrides both.
    """
    if model is None:
        path = inception_path_from_env(inception_path)
        if path is None:
            return FIDResult(None, FID_SKIPPED)
        if not path.is_file():
            return FIDResult(None, f"skipped: no Inception file at {path} (set {INCEPTION_ENV}=...)")
        model = load_inception(path, device)
    if min(len(real), len(fake)) < 2:
        raise UsageError("fid: each set needs at least 2 images")
    value = frechet_distance(*_gaussian(inception_features(model, real, device=device)),
                             *_gaussian(inception_features(model, fake, device=device)))
    return FIDResult(value, f"{value:.2f}")


# ----------------------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------------------
def photo_paths(photos: str) -> list[Path]:
    """The photos ``evaluate --photos`` names: ``test`` / ``val`` (the course splits), ``heldout`` (``data/heldout``) or
    a folder / glob / list (the benchmarks read theirs with it too)."""
    if photos in ("test", "val"):
        return course_images(photos)
    if photos == "train":
        raise UsageError("--photos train: the training photos are not an evaluation set; use test, val, heldout or DIR")
    source: str | Path = data_dir() / "heldout" if photos == "heldout" else photos
    if photos != "heldout" and not any(ch in photos for ch in "*?[") and not Path(photos).exists():
        raise FileNotFoundError(f"--photos {photos}: no such folder or file (use test, val, heldout or a folder)")
    return list_image_files(source)


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of the ``evaluate`` verb, added to ``parser`` (e.g. a subcommand's parser)."""
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="EdgeConnect checkpoint for the ours* methods (EdgeConnect.load; default: "
                             "data/checkpoints/edgeconnect.pt)")
    parser.add_argument("--photos", default="test",
                        help="test or val (course splits), heldout (data/heldout), or a folder / glob / .flist")
    parser.add_argument("--size", type=int, default=256, help="square size in pixels (default: 256)")
    parser.add_argument("--masks-per-bucket", type=int, default=2, help="holes per photo and bucket (default: 2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the holes (default: 0)")
    parser.add_argument("--methods", default="ours,ours_true_edges,telea,ns,mean",
                        help=f"comma-separated, from: {', '.join(METHOD_NAMES)}")
    parser.add_argument("--format", choices=("markdown", "csv"), default="markdown", help="table format")
    parser.add_argument("--out", type=Path, default=None,
                        help="also write the table to this file (.md, .csv or .txt; written atomically). It must not "
                             "be an input (the checkpoint, a photo, the Inception file); an existing file is "
                             "replaced only when it is a table an earlier evaluate wrote")
    parser.add_argument("--device", default="cpu", help="torch device of the pipeline (default: cpu)")
    add_speed_arguments(parser)
    parser.add_argument("--inception", type=Path, default=None,
                        help=f"local Inception TorchScript file for FID (default: ${INCEPTION_ENV}; else skipped)")
    return parser


def _methods_arg(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UsageError("--methods is empty: give e.g. ours,telea")
    unknown = [n for n in names if n not in METHOD_NAMES]
    if unknown:
        raise UsageError(f"--methods: unknown {', '.join(unknown)}; choose from {', '.join(METHOD_NAMES)}")
    if len(set(names)) != len(names):
        raise UsageError(f"--methods: a method is named twice in {text!r}")
    return names


def _load_pipeline(checkpoint: Path | None, device: str, amp: str = "off", compile: str = "off") -> Any:
    from .models import EdgeConnect

    path = checkpoint if checkpoint is not None else data_dir() / "checkpoints" / "edgeconnect.pt"
    if not Path(path).exists():
        raise FileNotFoundError(f"--checkpoint {path}: no such file or folder")
    return EdgeConnect.load(path, device=device, amp=amp).set_compile(compile)


def _fid_line(fids: Mapping[str, FIDResult]) -> str:
    labels = {m: r.label for m, r in fids.items()}
    if len(set(labels.values())) == 1 and all(r.value is None for r in fids.values()):
        return "FID: " + next(iter(labels.values()))
    return "FID: " + ", ".join(f"{m} {label}" for m, label in labels.items())


def _report(summary: list[dict[str, Any]], fids: Mapping[str, FIDResult], fmt: str,
            rows: Sequence[Mapping[str, Any]] = (), edge_rows: Sequence[Mapping[str, Any]] = ()) -> str:
    edge_summary = summarize(edge_rows) if edge_rows else []
    if fmt == "csv":
        return to_csv(summary + edge_summary)
    text = to_markdown(summary)
    compared = comparison_lines(rows) if rows else ""
    if compared:
        text += ("\n\nDifferences per bucket, paired over the same photos and holes, with paired bootstrap 95% "
                 "intervals (better / worse only when the interval excludes 0):\n" + compared)
        methods = {r["method"] for r in rows}
        if {"ours", *CLASSICAL_ANCHORS} <= methods:
            text += ("\n\nAgainst the better classical fill in each bucket (issue 18's criterion):\n"
                     + best_classical_lines(rows))
        if {"ours_true_edges", "ours_no_edges"} <= methods and {r["bucket"] for r in rows} & set(TRUE_EDGE_BUCKETS):
            from .bootstrap import format_comparison

            text += ("\n\nThe same G2 with the true edges against no edges, the 20-60% holes pooled: "
                     + format_comparison(true_edges_gain(rows), "dB"))
    if edge_rows:
        text += (f"\n\nThe edge maps alone, in the same holes: G1's (probability > {G1_THRESHOLD}) and the Canny edges "
                 "of Telea's fill, each against the photo's Canny edges (edge F1, "
                 f"{EDGE_TOLERANCE} px):\n\n" + to_markdown(edge_summary))
        compared = comparison_lines(edge_rows, [("g1", "telea_canny")])
        text += "\n\n" + compared
    return text + "\n\n" + _fid_line(fids) + "\n"


def run(args: argparse.Namespace) -> int:
    """Run the ``evaluate`` verb with parsed ``args``; print the table; return 0 (``ValueError`` /
    ``FileNotFoundError`` on bad arguments, which :func:`main` prints as one line)."""
    names = _methods_arg(args.methods)
    if args.size < 16 or args.size % 4:
        raise UsageError(f"--size {args.size}: must be a multiple of 4, at least 16")
    if args.masks_per_bucket < 1:
        raise UsageError(f"--masks-per-bucket {args.masks_per_bucket}: must be >= 1")
    if args.seed < 0:
        raise UsageError(f"--seed {args.seed}: must be >= 0")
    paths = photo_paths(args.photos)
    _check_out(args, paths)
    compile_setting = "off" if getattr(args, "no_compile", False) else "auto"
    ec = (_load_pipeline(args.checkpoint, args.device, args.amp, compile_setting)
          if any(n.startswith("ours") for n in names) else None)
    methods = build_methods(names, ec)
    eval_set = make_eval_set(paths, args.size, HOLE_BUCKETS, args.masks_per_bucket, args.seed)
    print(f"evaluating {', '.join(names)} on {len(paths)} photos ({args.photos}) x {len(HOLE_BUCKETS)} buckets x "
          f"{args.masks_per_bucket} holes at {args.size} px" + (f"; networks in {ec.precision.reason}" if ec else ""),
          file=sys.stderr, flush=True)
    path = inception_path_from_env(args.inception)
    model = load_inception(path, args.device) if path is not None and path.is_file() else None
    outputs: dict[str, list[np.ndarray]] | None = {} if model is not None else None
    rows = score_methods(methods, eval_set, outputs, edge_f1=True)
    edge_rows = score_edge_maps(ec, eval_set) if "ours" in names else []
    summary = summarize(rows)
    real = [item.image for item in eval_set]
    fids = {m: fid(real, outputs[m], model=model) if outputs is not None else fid(real, [], path)
            for m in names}
    text = _report(summary, fids, args.format, rows, edge_rows)
    print(text, end="")
    if args.format == "csv":
        print(_fid_line(fids), file=sys.stderr)
    if args.out is not None:
        write_text(args.out, text, "the table")
    return 0


#: File endings ``evaluate --out`` writes a table to.
TABLE_EXTENSIONS = (".md", ".csv", ".txt")


def _is_table(path: Path) -> bool:
    """Whether ``path`` holds a table that ``evaluate`` wrote (Markdown or CSV, by its first line)."""
    try:
        with open(path, encoding="utf-8") as f:
            first = f.readline()
    except (OSError, UnicodeDecodeError):
        return False
    return first.startswith("| hole ratio |") or first.startswith("method,bucket,")


def _check_out(args: argparse.Namespace, photos: Sequence[Path]) -> None:
    """Refuse, before any work, an ``--out`` that is an input or an existing file that is not an earlier table."""
    if args.out is None:
        return
    guard = FileGuard()
    checkpoint = args.checkpoint if args.checkpoint is not None else data_dir() / "checkpoints" / "edgeconnect.pt"
    guard.add_input("--checkpoint", checkpoint)
    guard.add_inputs("--photos", photos)
    if args.photos not in ("test", "val", "heldout") and Path(args.photos).is_file():
        guard.add_input("--photos", args.photos)
    guard.add_input("--inception", inception_path_from_env(args.inception))
    try:
        out = guard.add_output("--out", args.out)
    except CliError as err:
        raise UsageError(str(err)) from None
    if args.out.suffix.lower() not in TABLE_EXTENSIONS:
        raise UsageError(f"--out {args.out}: give a table file name ending in {', '.join(TABLE_EXTENSIONS)}")
    if out.is_dir():
        raise UsageError(f"--out {args.out} is a folder: give a file name (e.g. {args.out / 'table.md'})")
    if out.exists() and not _is_table(out):
        raise UsageError(f"--out {args.out} exists and is not a table evaluate wrote: it is kept; choose another "
                         "file name (or delete it first)")


def main(argv: Sequence[str] | None = None) -> int:
    """``evaluate`` as a program: parse ``argv``, run, return the exit status (2 = usage error, one line)."""
    parser = add_arguments(argparse.ArgumentParser(
        prog="python -m edgeconnect_lib evaluate", description=__doc__.splitlines()[0]))
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (ValueError, FileNotFoundError) as err:
        if isinstance(err, ValueError) and not is_usage_error(err):
            raise  # a bug, not a user's mistake: keep the traceback
        print(f"error: {error_line(err)}", file=sys.stderr)
        return 2
    except OSError as err:  # a failed write: the path, the cause and what to do
        print(f"error: {describe_os_error(err)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
