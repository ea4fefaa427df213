"""The ablations' detectors, sweeps, edge-source wrapper, verdicts and the lesson 09 solutions."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from edgeconnect_lib.ablations import (DETECTORS, compare_detectors, detector, detector_verdict,
                                       edge_ablation, edge_method, edges_verdict, hole_change, log_edges,
                                       mean_edge_density, sigma_sweep, sobel_edges, sweep_verdict,
                                       unavailable_detectors)
from edgeconnect_lib.course_data import course_images, data_dir
from edgeconnect_lib.edges import canny_edges, edge_density
from edgeconnect_lib.evaluation import make_eval_set, summarize
from edgeconnect_lib.images import load_image, rgb_to_gray
from edgeconnect_lib.models import EdgeConnect
from edgeconnect_lib.networks import EdgeGenerator, InpaintGenerator

SOLUTIONS = Path(__file__).resolve().parent.parent / "notebooks" / "solutions"


@pytest.fixture(scope="module")
def tiny_ec() -> EdgeConnect:
    import torch

    torch.manual_seed(0)
    return EdgeConnect(EdgeGenerator(base_channels=8, residual_blocks=1), InpaintGenerator(base_channels=8, residual_blocks=1))


@pytest.fixture(scope="module")
def eval_set():
    return make_eval_set(course_images("test")[:1], size=64, masks_per_bucket=1)


def _step(height: int = 40, width: int = 40, at: int = 20) -> np.ndarray:
    gray = np.zeros((height, width), np.float32)
    gray[:, at:] = 1.0
    return gray


# ----------------------------------------------------------------------------------------------------------
# Detectors on known images
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(DETECTORS))
def test_a_step_edge_gives_one_line_at_the_step(name):
    edges = DETECTORS[name](_step(at=20), 2.0)
    assert edges.dtype == bool and edges.shape == (40, 40)
    rows, cols = np.nonzero(edges)
    assert set(cols) <= {19, 20}, f"{name}: edge pixels off the step (columns {sorted(set(cols))})"
    middle = edges[8:32]
    assert middle.any(axis=1).all(), f"{name}: the line has gaps in the middle rows"
    assert middle.sum() <= 2 * len(middle), f"{name}: the line is wider than 2 px"


@pytest.mark.parametrize("name", list(DETECTORS))
def test_a_horizontal_step_gives_a_horizontal_line(name):
    edges = DETECTORS[name](_step(at=12).T.copy(), 1.5)
    assert set(np.nonzero(edges)[0]) <= {11, 12}


@pytest.mark.parametrize("name", list(DETECTORS))
@pytest.mark.parametrize("value", [0.0, 0.5, 1.0])
def test_a_flat_image_has_no_edges(name, value):
    edges = DETECTORS[name](np.full((32, 48), value, np.float32), 2.0)
    assert edges.dtype == bool and edges.shape == (32, 48) and not edges.any()


@pytest.mark.parametrize("fn", [sobel_edges, log_edges])
def test_no_edge_in_the_hole(fn):
    gray = rgb_to_gray(load_image(course_images("test")[0]))[:96, :96]
    hole = np.zeros(gray.shape, bool)
    hole[30:60, 30:60] = True
    assert fn(gray, 2.0).any()
    masked = fn(gray, 2.0, mask=hole)
    assert not masked[29:61, 29:61].any()


def test_thresholds_control_the_density():
    gray = rgb_to_gray(load_image(course_images("test")[0]))
    assert edge_density(sobel_edges(gray, 2.0, threshold=0.4)) < edge_density(sobel_edges(gray, 2.0, threshold=0.2))
    assert edge_density(log_edges(gray, 2.0, threshold=0.3)) < edge_density(log_edges(gray, 2.0, threshold=0.1))


def test_detector_source_ignores_the_mask_and_matches_the_function():
    gray = rgb_to_gray(load_image(course_images("test")[0]))[:80, :80]
    hole = np.ones(gray.shape, bool)
    np.testing.assert_array_equal(detector("canny", 1.5)(gray, hole), canny_edges(gray, 1.5))
    np.testing.assert_array_equal(detector("sobel", 2.0, threshold=0.3)(gray, hole), sobel_edges(gray, 2.0, 0.3))
    with pytest.raises(ValueError, match="choose one of"):
        detector("hed")


def test_unavailable_detectors_say_why():
    reasons = unavailable_detectors()
    assert "hed" in reasons and "structured_forest" in reasons
    assert "contrib" in reasons["structured_forest"] or "model file" in reasons["structured_forest"]


# ----------------------------------------------------------------------------------------------------------
# The edge-source wrapper feeds G_inpaint
# ----------------------------------------------------------------------------------------------------------
def test_edge_method_feeds_the_sources_map(tiny_ec, eval_set):
    item = eval_set[2]
    seen = []

    def source(gray, mask):
        seen.append((gray.shape, mask.sum()))
        return log_edges(gray, 1.0)

    out = edge_method(tiny_ec, source)(item.image, item.mask)
    assert seen == [((64, 64), item.mask.sum())]
    expected = tiny_ec.inpaint(item.image, item.mask, edges=log_edges(rgb_to_gray(item.image), 1.0)).image
    np.testing.assert_allclose(out[item.mask], expected[item.mask], atol=1e-6)
    np.testing.assert_array_equal(out[~item.mask], item.image[~item.mask])  # known pixels kept exactly
    no_edges = edge_method(tiny_ec, "none")(item.image, item.mask)
    assert np.abs(out - no_edges)[item.mask].mean() > 1e-4, "the edge map should change the fill"
    # "true" is the evaluation module's Canny at the pipeline's sigma: the same as the Canny source at that sigma
    np.testing.assert_allclose(edge_method(tiny_ec, "true")(item.image, item.mask),
                               edge_method(tiny_ec, detector("canny", tiny_ec.sigma))(item.image, item.mask), atol=1e-6)


def test_edge_method_checks_its_input(tiny_ec, eval_set):
    with pytest.raises(TypeError):
        edge_method(tiny_ec, 3)
    with pytest.raises(ValueError, match="edge source returned shape"):
        edge_method(tiny_ec, lambda gray, mask: np.zeros((3, 3)))(eval_set[0].image, eval_set[0].mask)


def test_hole_change_measures_the_difference_in_the_hole(eval_set):
    a = [item.image for item in eval_set]
    b = [np.where(item.mask[..., None], item.image + 0.1, item.image) for item in eval_set]
    assert hole_change(a, a, eval_set) == 0.0
    assert hole_change(a, b, eval_set) == pytest.approx(0.1, abs=1e-6)


# ----------------------------------------------------------------------------------------------------------
# Sweeps and comparisons
# ----------------------------------------------------------------------------------------------------------
def test_sigma_sweep_structure_and_density_falls_with_sigma(tiny_ec, eval_set):
    sweep = sigma_sweep(tiny_ec, eval_set, [1, 2, 3])
    assert [r["sigma"] for r in sweep] == [1.0, 2.0, 3.0]
    for r in sweep:
        assert set(r) == {"sigma", "density", "n", "psnr", "ssim", "l1", "buckets", "samples"}
        assert len(r["samples"]) == len(eval_set) and {x["method"] for x in r["samples"]} == {f"sigma {r['sigma']:g}"}
        assert r["n"] == len(eval_set) and np.isfinite(r["psnr"]) and 0 < r["ssim"] <= 1
        assert [b["bucket"] for b in r["buckets"]] == ["10-20%", "20-30%", "30-40%", "40-50%", "50-60%"]
    densities = [r["density"] for r in sweep]
    assert densities[0] > densities[1] > densities[2] > 0
    # density = the Canny labels' density of the photo (one photo here)
    assert densities[1] == pytest.approx(edge_density(canny_edges(rgb_to_gray(eval_set[0].image), 2.0)))
    with pytest.raises(ValueError, match="repeated"):
        sigma_sweep(tiny_ec, eval_set, [1, 1])


def test_density_falls_with_sigma_on_a_real_photo_for_every_detector():
    items = make_eval_set([load_image(sorted((data_dir() / "heldout").glob("*.jpg"))[0])], size=128, masks_per_bucket=1)
    for name in DETECTORS:
        d = [mean_edge_density(items, detector(name, s)) for s in (1.0, 2.0, 3.0, 4.0)]
        assert all(a > b for a, b in zip(d, d[1:])), f"{name}: {d}"


def test_compare_detectors_and_edge_ablation_agree(tiny_ec, eval_set):
    rows = compare_detectors(tiny_ec, eval_set[:2], names=("canny", "log"))
    assert [r["detector"] for r in rows] == ["canny", "log"]
    again = edge_ablation(tiny_ec, eval_set[:2], {"x": detector("log", tiny_ec.sigma), "none": "none"})
    assert again[0]["psnr"] == pytest.approx(rows[1]["psnr"]) and again[0]["density"] == pytest.approx(rows[1]["density"])
    assert again[1]["density"] is None


# ----------------------------------------------------------------------------------------------------------
# Verdicts
# ----------------------------------------------------------------------------------------------------------
def _samples(method, psnrs, ssims=None, seed=0):
    """Per-sample rows as evaluate() writes them: 10 photos x 2 buckets."""
    rows = []
    for i, p in enumerate(psnrs):
        rows.append({"method": method, "photo": f"p{i % 10}", "bucket": ("10-20%", "20-30%")[i // 10], "k": 0,
                     "hole_ratio": 0.15, "psnr": float(p), "ssim": float(0.5 if ssims is None else ssims[i]), "l1": 0.1})
    return rows


NOISE = np.random.default_rng(0).normal(0, 0.3, 20)  # the spread of per-sample scores around a method's mean


def test_edges_verdict_follows_the_bootstrap_rule():
    base = _samples("b", 20 + NOISE)
    help_ = _samples("a", 21 + NOISE + np.random.default_rng(1).normal(0, 0.1, 20), 0.6 + np.zeros(20))
    assert edges_verdict(help_ + base, "a", "b").endswith("-> edges help")
    assert "2/2 buckets" in edges_verdict(help_ + base, "a", "b") and "[95% CI" in edges_verdict(help_ + base, "a", "b")
    hurt = _samples("a", 19 + NOISE, 0.4 + np.zeros(20))
    assert edges_verdict(hurt + base, "a", "b").endswith("-> edges hurt")
    # the same means as "help" but noise larger than the gap: no clear difference
    noisy = _samples("a", 20 + np.random.default_rng(2).normal(0, 3, 20))
    assert edges_verdict(noisy + base, "a", "b").endswith("-> no clear difference")
    mixed = _samples("a", 21 + NOISE, 0.4 + np.zeros(20))
    assert edges_verdict(mixed + base, "a", "b").endswith("-> mixed")
    with pytest.raises(ValueError, match="per-sample rows"):
        edges_verdict(summarize(help_ + base), "a", "b")


def _sweep(psnrs, densities=None, independent=False):
    # independent=True: each sigma's scores get their own noise (the gaps between sigmas are then uncertain)
    sigmas = [1, 1.5, 2, 2.5, 3, 4][: len(psnrs)]
    densities = densities or [0.1 / s for s in sigmas]
    noise = [np.random.default_rng(10 + i).normal(0, 0.3, 20) if independent else NOISE for i in range(len(sigmas))]
    return [{"sigma": s, "density": d, "psnr": p, "ssim": 0.5, "l1": 0.1,
             "samples": _samples(f"sigma {s:g}", p + e)} for s, d, p, e in zip(sigmas, densities, psnrs, noise)]


def test_sweep_verdict_reads_the_shape():
    peak = sweep_verdict(_sweep([18, 19, 20, 19.8, 19, 18]))
    assert peak[0].startswith("edge density falls as sigma grows: yes")
    assert any("optimum inside the range" in line for line in peak) and peak[-1].endswith("among the best in PSNR")
    flat = sweep_verdict(_sweep([20, 20, 20, 20, 20, 20]))
    assert any("no clear effect of the edge density" in line for line in flat)
    dense = sweep_verdict(_sweep([21, 20, 19, 18, 17, 16]))
    assert any("dense end" in line for line in dense) and dense[-1].endswith("NOT among the best in PSNR")
    # a peak inside the range whose sparse end is not clearly below it (lesson 09's case): inconclusive
    unsure = sweep_verdict(_sweep([18, 19, 20, 20.4, 20.5, 20.45], independent=True))
    assert any("inconclusive" in line and "sigma 4" in line for line in unsure)
    assert "NO" in sweep_verdict(_sweep([20, 20], densities=[0.01, 0.02]))[0]
    with pytest.raises(ValueError, match="samples"):
        sweep_verdict([{k: v for k, v in r.items() if k != "samples"} for r in _sweep([18, 19, 20])])


def test_detector_verdict():
    rows = [{"detector": "canny", "density": 0.05, "psnr": 20.0, "samples": _samples("canny", 20 + NOISE)},
            {"detector": "log", "density": 0.1, "psnr": 21.0, "samples": _samples("log", 21 + NOISE)},
            {"detector": "sobel", "density": 0.025, "psnr": 20.0,
             "samples": _samples("sobel", 20 + NOISE[::-1])}]
    lines = detector_verdict(rows)
    assert lines[0] == "log - canny: PSNR +1.00 dB [95% CI +1.00, +1.00] -> better; edges x2.0 canny's density"
    assert lines[1].startswith("sobel - canny: PSNR +0.00 dB [95% CI -") and "-> no clear difference" in lines[1]
    assert lines[1].endswith("edges x0.5 canny's density")



# ----------------------------------------------------------------------------------------------------------
# The lesson's exercise solutions run (with the shipped checkpoint, at 64 px)
# ----------------------------------------------------------------------------------------------------------
def test_lesson_09_solutions(capsys):
    spec = importlib.util.spec_from_file_location("solutions09", SOLUTIONS / "09_ablations_solutions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    answers = module.main(size=64, photos=2)
    known, full = answers["known_only"], answers["true"]
    assert known["density"] < full["density"], "the known region's edges are a subset of the full map"
    densities = [r["density"] for r in answers["thresholds"]]
    assert all(a >= b for a, b in zip(densities, densities[1:])), "a higher Canny threshold keeps fewer edges"
    assert densities[0] > densities[-1]
    assert 0.4 < answers["dropped"]["density"] / full["density"] < 0.6, "half the edge pixels were dropped"
    assert answers["noisy"]["density"] > full["density"]
    for row in [known, full, answers["dropped"], answers["noisy"], *answers["thresholds"]]:
        assert np.isfinite(row["psnr"]) and 0 < row["ssim"] <= 1
    assert "high threshold" in capsys.readouterr().out


def test_compare_takes_edge_f1_from_rows_that_hold_it_and_refuses_an_unknown_metric():
    from edgeconnect_lib.ablations import compare

    rows = [{"method": m, "photo": "p", "bucket": "10-20%", "k": k, "psnr": 20.0, "edge_f1": v + 0.01 * k}
            for k in range(8) for m, v in (("ours_true_edges", 0.7), ("ours_no_edges", 0.3))]
    found = compare(rows, "ours_true_edges", "ours_no_edges", "edge_f1")
    assert found["all"].mean == pytest.approx(0.4) and found["all"].verdict == "better"
    with pytest.raises(ValueError, match="choose one of"):
        compare(rows, "ours_true_edges", "ours_no_edges", "fid")
