"""The paper's ablations of the edge input: edges or not, how many edges, which detector.

EdgeConnect (Nazeri et al. 2019) argues that the edge map is what makes its second stage work, and tests that
claim three ways (Sec. 5 "Discussion and ablation study", and Sec. 4.2 for the upper bound):

* **edges vs no edges** -- the same image completion network ``G_inpaint`` with the true Canny edges of the
  photo (the upper bound of Sec. 4.2), with ``G_edge``'s predicted edges (the full model) and with no edges
  (an all-zero map: ``G_inpaint`` alone). The paper finds edges help, and true edges help most;
* **edge density** -- the Canny sigma sets how many edges the labels hold (small sigma: many edges, texture
  included; large sigma: few, only the main contours). The paper finds that both too many and too few edges
  hurt, with the best results around sigma 2, the value it trains with;
* **another detector** -- the paper swaps Canny for HED (Xie and Tu 2015), a learned detector.

This module measures these with the evaluation of :mod:`edgeconnect_lib.evaluation` (the same fixed set of
photos and irregular holes, scored inside the hole), adding only what an ablation needs:

* two classical detectors besides Canny, with the same smoothing and gradient code as our Canny
  (:mod:`edgeconnect_lib.edges`): :func:`sobel_edges` (thresholded Sobel magnitude, thinned: Canny without
  non-maximum suppression and hysteresis) and :func:`log_edges` (Marr and Hildreth's 1980 zero crossings of
  the Laplacian of Gaussian). HED and OpenCV's structured forests are not available here:
  :func:`unavailable_detectors` says why;
* :func:`edge_method`: an evaluation method (``(image, mask) -> composite``) that feeds the pipeline's
  ``G_inpaint`` the edge map of any edge source, a function ``(gray, mask) -> edges``;
* :func:`edge_ablation`, :func:`sigma_sweep`, :func:`compare_detectors`: quality and edge density per
  source; :func:`compare`, :func:`edges_verdict`, :func:`sweep_verdict`, :func:`detector_verdict`: verdicts by
  the course's one statistics rule (:mod:`edgeconnect_lib.bootstrap`: a paired bootstrap 95% interval, "better",
  "worse" or "no clear difference", no hand-picked margin); :func:`plot_sigma_sweep`.

The lesson ``notebooks/09_ablations.ipynb`` runs all three.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Sequence

import cv2
import numpy as np

from .baselines import composite_known
from .bootstrap import PairedComparison, compare_methods, format_comparison
from .edges import canny_edges, edge_density, edge_support, gradients, smooth
from .errors import UsageError
from .evaluation import HIGHER_IS_BETTER, METRICS, EvalItem, Method, pipeline_method, score_methods, summarize
from .images import rgb_to_gray

__all__ = [
    "EdgeSource",
    "DETECTORS",
    "sobel_edges",
    "log_edges",
    "detector",
    "unavailable_detectors",
    "edge_method",
    "mean_edge_density",
    "edge_ablation",
    "sigma_sweep",
    "compare_detectors",
    "hole_change",
    "compare",
    "edges_verdict",
    "sweep_verdict",
    "detector_verdict",
    "plot_sigma_sweep",
]

#: An edge source: ``(gray H x W float in [0, 1], mask H x W bool, True = hole) -> edges H x W`` (bool or
#: float in [0, 1]). The "true edge" sources of an ablation ignore the mask (ground truth everywhere, as the
#: paper's upper bound); a test-time source would use it.
EdgeSource = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _thin(binary: np.ndarray) -> np.ndarray:
    from skimage.morphology import thin

    return thin(binary) if binary.any() else binary


def sobel_edges(gray: np.ndarray, sigma: float = 2.0, threshold: float = 0.2,
                mask: np.ndarray | None = None) -> np.ndarray:
    """Gradient-magnitude edges: Gaussian smoothing, Sobel magnitude ``>= threshold``, thinned to 1 px.

    The first two steps of :func:`~edgeconnect_lib.edges.canny_edges` (the same :func:`smooth` and
    :func:`gradients`, so ``threshold`` is on the same scale as Canny's, whose high threshold is 0.2), then
    ``skimage.morphology.thin`` instead of non-maximum suppression and hysteresis. Where the magnitude is
    broad (a soft edge), thinning leaves a line in the middle of the band, not on the ridge of the gradient,
    and a band that is not simply connected leaves loops: what Canny's third and fourth steps avoid.
    ``mask`` (True = hole): no edge in the hole or on the pixels touching it. Returns bool ``H x W``.
    """
    smoothed = smooth(gray, sigma, mask)
    _, _, magnitude = gradients(smoothed)
    strong = (magnitude >= float(threshold)) & edge_support(smoothed.shape, mask)
    return _thin(strong)


def log_edges(gray: np.ndarray, sigma: float = 2.0, threshold: float = 0.1,
              mask: np.ndarray | None = None) -> np.ndarray:
    """Marr-Hildreth edges: zero crossings of the Laplacian of Gaussian where the gradient is strong.

    ``L = laplacian(smooth(gray, sigma))`` (the 3 x 3 kernel ``[[0, 1, 0], [1, -4, 1], [0, 1, 0]]``). Between two
    horizontal or vertical neighbours with ``L`` of opposite signs, the one with the smaller ``|L|`` (the one
    nearer the zero) is an edge pixel, if its Sobel gradient magnitude is ``>= threshold`` (on Canny's scale:
    0.1 is Canny's low threshold). Without that test every faint ripple of a flat region would give a
    crossing. Zero crossings form closed contours; the map is 1-2 px wide. ``mask`` as in
    :func:`sobel_edges`. Returns bool ``H x W``.
    """
    smoothed = smooth(gray, sigma, mask)
    lap = cv2.Laplacian(smoothed, cv2.CV_32F, ksize=1, borderType=cv2.BORDER_REFLECT)
    _, _, magnitude = gradients(smoothed)
    crossing = np.zeros(lap.shape, dtype=bool)
    for axis in (0, 1):  # neighbours below, then to the right
        here = lap[:-1, :] if axis == 0 else lap[:, :-1]
        there = lap[1:, :] if axis == 0 else lap[:, 1:]
        change = here * there < 0
        nearer_here = change & (np.abs(here) <= np.abs(there))
        nearer_there = change & ~nearer_here
        if axis == 0:
            crossing[:-1, :] |= nearer_here
            crossing[1:, :] |= nearer_there
        else:
            crossing[:, :-1] |= nearer_here
            crossing[:, 1:] |= nearer_there
    return crossing & (magnitude >= float(threshold)) & edge_support(smoothed.shape, mask)


#: The detectors :func:`detector` knows, each ``(gray, sigma, mask=None) -> bool edges`` with its own default
#: thresholds (Canny's are scikit-image's, 0.1 / 0.2, the paper's labels).
DETECTORS: dict[str, Callable[..., np.ndarray]] = {
    "canny": canny_edges,
    "sobel": sobel_edges,
    "log": log_edges,
}


def detector(name: str, sigma: float = 2.0, **thresholds: float) -> EdgeSource:
    """The edge source "detector ``name`` at ``sigma`` on the whole ground-truth gray image".

    Like the paper's true-edge upper bound (Sec. 4.2), the map covers the hole too: the source ignores the
    mask. ``thresholds`` go to the detector (e.g. ``high_threshold=0.3`` for Canny, ``threshold=0.3`` for Sobel).
    """
    if name not in DETECTORS:
        raise UsageError(f"detector {name!r}: choose one of {', '.join(DETECTORS)}")
    fn = DETECTORS[name]

    def source(gray: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return fn(gray, sigma, **thresholds)

    source.__name__ = f"{name}_sigma{sigma:g}"
    return source


def unavailable_detectors() -> dict[str, str]:
    """Detectors the paper (or OpenCV) offers that cannot run here, each with the reason."""
    reasons = {
        "hed": "HED (Xie and Tu 2015, the paper's alternative to Canny) is a VGG16 network trained on BSDS500: "
               "its weights are not shipped with the course and nothing is downloaded",
    }
    if not hasattr(cv2, "ximgproc"):
        reasons["structured_forest"] = ("OpenCV's structured-forest detector (cv2.ximgproc.createStructuredEdgeDetection, "
                                        "Dollar and Zitnick 2013) needs opencv-contrib-python and a trained model file "
                                        "(model.yml.gz); this environment has opencv-python-headless without contrib")
    else:
        reasons["structured_forest"] = ("cv2.ximgproc is installed, but the structured-forest model file (model.yml.gz) "
                                        "is not shipped with the course")
    return reasons


# ----------------------------------------------------------------------------------------------------------
# Edge sources as evaluation methods
# ----------------------------------------------------------------------------------------------------------
def edge_method(ec: Any, edges: str | EdgeSource) -> Method:
    """An evaluation method ``(image, mask) -> composite`` that feeds ``ec``'s ``G_inpaint`` the edges of ``edges``.

    ``edges`` is ``"predicted"``, ``"true"`` or ``"none"`` (:func:`~edgeconnect_lib.evaluation.pipeline_method`),
    or an :data:`EdgeSource`: then ``ec.inpaint(image, mask, edges=source(gray, mask))`` with ``gray`` the
    photo's gray image, so ``G_edge`` is skipped and ``G_inpaint`` sees exactly the source's map.
    """
    if isinstance(edges, str):
        return pipeline_method(ec, edges)
    if not callable(edges):
        raise TypeError(f"edges must be 'predicted', 'true', 'none' or a function (gray, mask) -> edges, got {edges!r}")
    source = edges

    def method(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        image = np.asarray(image, dtype=np.float32)
        mask = np.asarray(mask) != 0
        edge_map = np.asarray(source(rgb_to_gray(image), mask), dtype=np.float32)
        if edge_map.shape != mask.shape:
            raise UsageError(f"the edge source returned shape {edge_map.shape} for an image {mask.shape}")
        return composite_known(ec.inpaint(image, mask, edges=edge_map).image, image, mask)

    method.__name__ = f"edgeconnect_{getattr(source, '__name__', 'custom')}_edges"
    return method


def _unique_photos(eval_set: Sequence[EvalItem]) -> list[EvalItem]:
    """The first item of each photo (the items of a photo share its image), in order."""
    first: dict[str, EvalItem] = {}
    for item in eval_set:
        first.setdefault(item.name, item)
    return list(first.values())


def mean_edge_density(eval_set: Sequence[EvalItem], source: EdgeSource) -> float:
    """The mean edge density (:func:`~edgeconnect_lib.edges.edge_density`, whole image) of ``source``'s maps
    of the evaluation set's photos, each photo counted once (its first hole is passed as the mask)."""
    photos = _unique_photos(eval_set)
    if not photos:
        raise UsageError("mean_edge_density: the evaluation set is empty")
    return float(np.mean([edge_density(np.asarray(source(rgb_to_gray(item.image), item.mask)) > 0.5)
                          for item in photos]))


def edge_ablation(ec: Any, eval_set: Sequence[EvalItem],
                  sources: Mapping[str, str | EdgeSource]) -> list[dict[str, Any]]:
    """Score ``G_inpaint`` fed by each edge source on ``eval_set``: one dict per source, in order.

    A dict: ``name``, ``density`` (:func:`mean_edge_density`; ``None`` for the string sources, whose maps
    depend on the hole), ``n`` and the means over all items of ``psnr``, ``ssim``, ``l1``
    (:func:`~edgeconnect_lib.evaluation.score_methods` then :func:`~edgeconnect_lib.evaluation.summarize`),
    ``buckets``: the per-bucket summary rows of that source, and ``samples``: its per-sample rows (what the
    verdicts' paired bootstrap needs).
    """
    if not sources:
        raise UsageError("edge_ablation: no edge sources given")
    samples = score_methods({name: edge_method(ec, src) for name, src in sources.items()}, eval_set)
    summary = summarize(samples)
    rows = []
    for name, src in sources.items():
        mine = [s for s in summary if s["method"] == name]
        overall = next(s for s in mine if s["bucket"] == "all")
        rows.append({"name": name, "density": None if isinstance(src, str) else mean_edge_density(eval_set, src),
                     "n": overall["n"], **{m: overall[m] for m in METRICS},
                     "buckets": [s for s in mine if s["bucket"] != "all"],
                     "samples": [r for r in samples if r["method"] == name]})
    return rows


def sigma_sweep(ec: Any, eval_set: Sequence[EvalItem], sigmas: Iterable[float],
                detector_name: str = "canny") -> list[dict[str, Any]]:
    """The paper's edge-density ablation (Sec. 5): labels of ``detector_name`` at each sigma fed to ``G_inpaint``.

    Returns one dict per sigma, in order: ``sigma``, ``density``, ``n``, ``psnr``, ``ssim``, ``l1`` (and
    ``buckets``), as :func:`edge_ablation`.
    """
    sigmas = [float(s) for s in sigmas]
    if not sigmas:
        raise UsageError("sigma_sweep: give at least one sigma, e.g. [1, 2, 3]")
    if len(set(sigmas)) != len(sigmas):
        raise UsageError(f"sigma_sweep: a sigma is repeated in {sigmas}")
    rows = edge_ablation(ec, eval_set, {f"sigma {s:g}": detector(detector_name, s) for s in sigmas})
    return [{"sigma": s, **{k: v for k, v in row.items() if k != "name"}} for s, row in zip(sigmas, rows)]


def compare_detectors(ec: Any, eval_set: Sequence[EvalItem], names: Sequence[str] = tuple(DETECTORS),
                      sigma: float | None = None) -> list[dict[str, Any]]:
    """The paper's other-detector ablation (Sec. 5, HED there): each detector's labels at ``sigma``
    (default ``ec.sigma``, the training sigma) fed to ``G_inpaint``. One dict per detector: ``detector``,
    ``density``, ``n``, ``psnr``, ``ssim``, ``l1``, ``buckets``."""
    sigma = float(ec.sigma if sigma is None else sigma)
    rows = edge_ablation(ec, eval_set, {name: detector(name, sigma) for name in names})
    return [{"detector": row.pop("name"), **row} for row in rows]


def hole_change(outputs_a: Sequence[np.ndarray], outputs_b: Sequence[np.ndarray],
                eval_set: Sequence[EvalItem]) -> float:
    """How much two edge inputs change the fill: the mean over items of the mean absolute difference, inside
    the hole, between two methods' composites (``score_methods(..., outputs=...)``), in [0, 1].

    Near 0 means ``G_inpaint`` hardly reads its edge channel: then no edge ablation can show an effect.
    """
    if not (len(outputs_a) == len(outputs_b) == len(eval_set)) or not eval_set:
        raise UsageError(f"hole_change: {len(outputs_a)} and {len(outputs_b)} outputs for {len(eval_set)} items")
    return float(np.mean([np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))[item.mask].mean()
                          for a, b, item in zip(outputs_a, outputs_b, eval_set)]))


# ----------------------------------------------------------------------------------------------------------
# Verdicts: the course's one statistics rule (edgeconnect_lib.bootstrap), no hand-picked margin
# ----------------------------------------------------------------------------------------------------------
_DIGITS = {"psnr": 2, "ssim": 3, "l1": 4}


def _per_sample(rows: Sequence[Mapping[str, Any]], who: str) -> list[Mapping[str, Any]]:
    rows = list(rows)
    if any(r.get("bucket") == "all" for r in rows) or any("photo" not in r for r in rows):
        raise UsageError(f"{who}: give the per-sample rows of score_methods() (or a sweep's 'samples'), not a summary: "
                         "the paired bootstrap needs one score per photo and hole")
    return rows


def compare(rows: Sequence[Mapping[str, Any]], method: str, baseline: str, metric: str = "psnr",
            seed: int = 0) -> dict[str, PairedComparison]:
    """``method`` against ``baseline`` on ``metric`` from per-sample rows, per bucket and ``"all"``: the paired
    bootstrap 95% interval of the mean difference and its verdict (:func:`~edgeconnect_lib.bootstrap.compare_methods`;
    L1 is lower-is-better; ``edge_f1`` needs rows scored with ``edge_f1=True``)."""
    if metric not in HIGHER_IS_BETTER:
        raise UsageError(f"metric {metric!r}: choose one of {', '.join(HIGHER_IS_BETTER)}")
    return compare_methods(_per_sample(rows, "compare"), method, baseline, metric,
                           higher_is_better=HIGHER_IS_BETTER[metric], seed=seed)


def edges_verdict(rows: Sequence[Mapping[str, Any]], with_edges: str, without: str = "ours_no_edges",
                  seed: int = 0) -> str:
    """One line: does ``with_edges`` beat ``without``? ``rows``: the per-sample rows of
    :func:`~edgeconnect_lib.evaluation.score_methods` holding both methods.

    Prints the overall PSNR and SSIM differences with their paired bootstrap 95% intervals, counts the buckets
    whose PSNR interval lies above 0 ("better") or below ("worse"), and ends with the verdict: "edges help" when one
    metric is better and the other not worse, "edges hurt" the other way round, "mixed" when one is better and the
    other worse, else "no clear difference".
    """
    psnr = compare(rows, with_edges, without, "psnr", seed)
    ssim = compare(rows, with_edges, without, "ssim", seed)
    per = [c.verdict for b, c in psnr.items() if b != "all"]
    p, s = psnr["all"].verdict, ssim["all"].verdict
    verdicts = {p, s}
    if verdicts == {"better", "worse"}:
        overall = "mixed"
    elif "better" in verdicts:
        overall = "edges help"
    elif "worse" in verdicts:
        overall = "edges hurt"
    else:
        overall = "no clear difference"
    return (f"{with_edges} vs {without}: PSNR {format_comparison(psnr['all'], 'dB')}, SSIM "
            f"{format_comparison(ssim['all'], '', 3)}; PSNR better in {per.count('better')}/{len(per)} buckets, "
            f"worse in {per.count('worse')}/{len(per)} -> {overall}")


def _name(row: Mapping[str, Any]) -> str:
    return f"sigma {row['sigma']:g}"


def sweep_verdict(sweep: Sequence[Mapping[str, Any]], train_sigma: float = 2.0, seed: int = 0) -> list[str]:
    """Verdict lines for a :func:`sigma_sweep` (its rows keep their per-sample ``samples``): does density fall with
    sigma; which sigmas are as good as the best (their paired interval against the best contains 0); and the shape.

    The shape is "an optimum inside the range" only when the best sigma is inside and both ends are clearly worse
    (the paper: too many and too few edges both hurt); "best at the dense / sparse end" when the best is an end and
    the other end is clearly worse; "no clear effect" when no sigma is clearly worse than the best; otherwise
    "inconclusive" (e.g. a peak inside the range with an end that is not clearly below it).
    """
    if len(sweep) < 2:
        raise UsageError("sweep_verdict: a sweep needs at least two sigmas")
    rows = sorted(sweep, key=lambda r: r["sigma"])
    samples = [x for r in rows for x in _per_sample(r.get("samples", ()), "sweep_verdict")]
    if not samples:
        raise UsageError("sweep_verdict: the sweep rows hold no 'samples' (use sigma_sweep's rows)")
    densities = [r["density"] for r in rows]
    falling = all(b < a for a, b in zip(densities, densities[1:]))
    lines = [f"edge density falls as sigma grows: {'yes' if falling else 'NO'} "
             f"({densities[0]:.1%} at sigma {rows[0]['sigma']:g} -> {densities[-1]:.1%} at sigma {rows[-1]['sigma']:g})"]
    for metric in ("ssim", "psnr"):
        unit = "dB" if metric == "psnr" else ""
        best = max(rows, key=lambda r: r[metric])
        worst = min(rows, key=lambda r: r[metric])
        found = {r["sigma"]: compare(samples, _name(best), _name(r), metric, seed)["all"] for r in rows if r is not best}
        good = [r["sigma"] for r in rows if r is best or found[r["sigma"]].verdict == "no clear difference"]
        lines.append(f"{metric.upper()}: best at sigma {best['sigma']:g}; no clear difference from it: sigma "
                     f"{', '.join(f'{g:g}' for g in good)}; best - worst (sigma {worst['sigma']:g}) "
                     f"{format_comparison(found[worst['sigma']], unit, _DIGITS[metric])}" if worst is not best else
                     f"{metric.upper()}: all sigmas score the same")
    ends = (rows[0]["sigma"], rows[-1]["sigma"])
    if len(good) == len(rows):
        shape = "no clear effect of the edge density (no sigma is clearly below the best)"
    elif best["sigma"] not in ends and not set(ends) & set(good):
        shape = "an optimum inside the range: too many and too few edges both hurt (as in the paper)"
    elif best["sigma"] == ends[0] and ends[1] not in good:
        shape = "best at the dense end: more edges help here, too few hurt (the paper also saw too many hurt)"
    elif best["sigma"] == ends[1] and ends[0] not in good:
        shape = "best at the sparse end: fewer edges help here, too many hurt (the paper also saw too few hurt)"
    else:
        end = ", ".join(f"sigma {e:g}" for e in ends if e in good and e != best["sigma"])
        shape = (f"inconclusive: best at sigma {best['sigma']:g}, but {end} is not clearly below it: these samples "
                 "cannot tell whether an optimum lies inside the range")
    lines.append(f"shape (PSNR): {shape}")
    lines.append(f"the training sigma {train_sigma:g} is "
                 f"{'among the best' if train_sigma in good else 'NOT among the best'} in PSNR")
    return lines


def detector_verdict(rows: Sequence[Mapping[str, Any]], reference: str = "canny", seed: int = 0) -> list[str]:
    """Verdict lines for :func:`compare_detectors` (its rows keep their per-sample ``samples``): each detector
    against ``reference`` (the training detector) on in-hole PSNR by the paired bootstrap rule, and its edge
    density relative to the reference's."""
    by = {r["detector"]: r for r in rows}
    if reference not in by:
        raise UsageError(f"detector_verdict: no {reference!r} row among {', '.join(by)}")
    samples = [x for r in rows for x in _per_sample(r.get("samples", ()), "detector_verdict")]
    ref = by[reference]
    lines = []
    for name, r in by.items():
        if name == reference:
            continue
        c = compare(samples, name, reference, "psnr", seed)["all"]
        ratio = r["density"] / ref["density"] if ref["density"] else float("inf")
        lines.append(f"{name} - {reference}: PSNR {format_comparison(c, 'dB')}; edges x{ratio:.1f} {reference}'s density")
    return lines


def plot_sigma_sweep(sweep: Sequence[Mapping[str, Any]], train_sigma: float = 2.0, title: str = "",
                     min_span_db: float = 2.0, min_span_ssim: float = 0.05):
    """One figure: edge density (left axis) and in-hole PSNR and SSIM (right axes) against sigma; the
    training sigma marked. The PSNR and SSIM axes span at least ``min_span_db`` / ``min_span_ssim``, so that a
    difference of a few hundredths does not fill the plot. Returns the figure."""
    import matplotlib.pyplot as plt

    def at_least(ax: Any, values: list[float], span: float) -> None:
        lo, hi = min(values), max(values)
        pad = max(0.0, span - (hi - lo)) / 2 + 0.05 * span
        ax.set_ylim(lo - pad, hi + pad)

    rows = sorted(sweep, key=lambda r: r["sigma"])
    sigmas = [r["sigma"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.plot(sigmas, [100 * r["density"] for r in rows], "o-", color="black", label="edge density (%)")
    ax.set_xlabel("Canny sigma")
    ax.set_ylabel("edge density of the labels (%)")
    ax.axvline(train_sigma, color="grey", ls=":", lw=1, label=f"training sigma ({train_sigma:g})")
    psnr_ax = ax.twinx()
    psnr_ax.plot(sigmas, [r["psnr"] for r in rows], "s-", color="tab:blue", label="in-hole PSNR (dB)")
    psnr_ax.set_ylabel("in-hole PSNR (dB)", color="tab:blue")
    at_least(psnr_ax, [r["psnr"] for r in rows], min_span_db)
    ssim_ax = ax.twinx()
    ssim_ax.spines["right"].set_position(("axes", 1.15))
    ssim_ax.plot(sigmas, [r["ssim"] for r in rows], "^-", color="tab:orange", label="SSIM (hole box)")
    ssim_ax.set_ylabel("SSIM, hole bounding box", color="tab:orange")
    at_least(ssim_ax, [r["ssim"] for r in rows], min_span_ssim)
    handles = sum((a.get_legend_handles_labels()[0] for a in (ax, psnr_ax, ssim_ax)), [])
    fig.legend(handles, [h.get_label() for h in handles], fontsize=8, loc="lower center", ncol=4)
    ax.set_title(title or "Edge density and inpainting quality vs the Canny sigma", fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig
