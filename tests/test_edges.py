"""Tests for edgeconnect_lib.edges: Canny labels vs scikit-image, hole-aware edges, density, F1, errors."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import scipy.ndimage as ndi
from skimage.feature import canny as sk_canny

from edgeconnect_lib.course_data import course_images, course_masks
from edgeconnect_lib.edges import (
    canny_edges,
    density_vs_sigma,
    edge_density,
    edge_f1,
    edge_support,
    gaussian_kernel1d,
    gradients,
    hysteresis,
    non_maximum_suppression,
    skimage_canny_edges,
    smooth,
)
from edgeconnect_lib.images import load_image, rgb_to_gray
from edgeconnect_lib.masks import load_mask


@pytest.fixture(scope="module")
def photos() -> list[np.ndarray]:
    """Every shipped course photo as a float32 grayscale image at its stored size."""
    paths = course_images("all")
    assert len(paths) >= 30, "the course ships at least 30 photos"
    return [rgb_to_gray(load_image(p)) for p in paths]


@pytest.fixture(scope="module")
def photo(photos) -> np.ndarray:
    return photos[0]


def block_hole(shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    mask = np.zeros(shape, dtype=bool)
    mask[h // 4: h // 4 + h // 3, w // 3: w // 3 + w // 3] = True
    return mask


def ring_around(mask: np.ndarray, width: int = 1) -> np.ndarray:
    """Known pixels within ``width`` pixels (8-neighbourhood) of the hole."""
    grown = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=width).astype(bool)
    return grown & ~mask


# ------------------------------------------------------------------------------------------
# parity with scikit-image (the labels of the paper's code)
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sigma", [1.0, 2.0, 3.0])
def test_same_labels_as_skimage_on_course_photos(photos, sigma):
    f1 = np.array([edge_f1(canny_edges(g, sigma), sk_canny(g, sigma, 0.1, 0.2)) for g in photos])
    assert f1.mean() >= 0.95, f"mean F1 vs skimage at sigma={sigma}: {f1.mean():.4f}"
    assert f1.min() >= 0.9, f"worst photo F1 vs skimage at sigma={sigma}: {f1.min():.4f}"


@pytest.mark.parametrize("sigma", [1.0, 2.0, 3.0])
def test_same_masked_labels_as_skimage(photos, sigma):
    # Our mask is True = hole; skimage's is True = valid.
    f1 = []
    for g in photos[::4]:
        hole = block_hole(g.shape)
        f1.append(edge_f1(canny_edges(g, sigma, mask=hole), sk_canny(g, sigma, 0.1, 0.2, mask=~hole)))
    assert np.mean(f1) >= 0.95, f"mean masked F1 vs skimage at sigma={sigma}: {np.mean(f1):.4f}"


def test_other_thresholds_and_float64_input_match_skimage(photo):
    g64 = photo.astype(np.float64)
    ours = canny_edges(g64, 1.5, low_threshold=0.05, high_threshold=0.3)
    assert edge_f1(ours, sk_canny(g64, 1.5, 0.05, 0.3)) >= 0.95
    assert ours.dtype == np.bool_ and ours.shape == photo.shape


def test_skimage_wrapper_inverts_the_mask(photo):
    hole = block_hole(photo.shape)
    np.testing.assert_array_equal(skimage_canny_edges(photo, 2.0, hole), sk_canny(photo, 2.0, 0.1, 0.2, mask=~hole))
    np.testing.assert_array_equal(skimage_canny_edges(photo, 1.0), sk_canny(photo, 1.0, 0.1, 0.2))
    with pytest.raises(ValueError, match="mask.*shape"):
        skimage_canny_edges(photo, 2.0, hole[1:])


def test_canny_edges_is_the_four_steps(photo):
    hole = block_hole(photo.shape)
    smoothed = smooth(photo, 2.0, hole)
    grad_rows, grad_cols, magnitude = gradients(smoothed)
    thinned = non_maximum_suppression(grad_rows, grad_cols, magnitude, edge_support(photo.shape, hole), 0.1)
    by_steps = hysteresis(thinned, 0.2)
    np.testing.assert_array_equal(by_steps, canny_edges(photo, 2.0, hole))


def test_gaussian_kernel_matches_scipy():
    for sigma in (0.7, 2.0, 3.3):
        delta = np.zeros(101)
        delta[50] = 1.0
        taps = ndi.gaussian_filter1d(delta, sigma, truncate=4.0, mode="constant")
        k = gaussian_kernel1d(sigma)
        r = len(k) // 2
        assert r == int(4.0 * sigma + 0.5)
        np.testing.assert_allclose(k, taps[50 - r: 50 + r + 1], atol=1e-12)
        assert abs(k.sum() - 1.0) < 1e-12


def test_smooth_is_normalised_convolution(photo):
    g = photo.astype(np.float64)
    hole = block_hole(g.shape)
    valid = (~hole).astype(np.float64)
    # S = g * (V I) / (g * V)
    expected = ndi.gaussian_filter(g * valid, 2.0, mode="constant") / (
        ndi.gaussian_filter(valid, 2.0, mode="constant") + 1e-12
    )
    ours = smooth(photo, 2.0, hole)
    np.testing.assert_allclose(ours[~hole], expected[~hole], atol=1e-5)
    # Without a hole the image border is renormalised the same way: a constant image stays constant.
    flat = np.full((40, 50), 0.3, np.float32)
    np.testing.assert_allclose(smooth(flat, 3.0), 0.3, atol=1e-5)


def test_gradients_match_sobel(photo):
    s = smooth(photo, 2.0)
    grad_rows, grad_cols, magnitude = gradients(s)
    np.testing.assert_allclose(grad_rows, ndi.sobel(s.astype(np.float64), axis=0), atol=1e-5)
    np.testing.assert_allclose(grad_cols, ndi.sobel(s.astype(np.float64), axis=1), atol=1e-5)
    np.testing.assert_allclose(magnitude, np.hypot(grad_rows, grad_cols), rtol=1e-5, atol=1e-6)


def test_nms_keeps_a_one_pixel_ridge():
    # A vertical step: the gradient points along the columns, the ridge is one column wide.
    img = np.zeros((20, 20), np.float32)
    img[:, 10:] = 1.0
    grad_rows, grad_cols, magnitude = gradients(smooth(img, 1.0))
    thinned = non_maximum_suppression(grad_rows, grad_cols, magnitude, low_threshold=0.1)
    cols = np.nonzero(thinned[10])[0]
    assert len(cols) == 1 and cols[0] in (9, 10)
    assert thinned[0].sum() == 0 and thinned[-1].sum() == 0  # the outer ring is never an edge


def test_hysteresis_keeps_chains_that_reach_the_high_threshold():
    thinned = np.zeros((7, 9), np.float32)
    thinned[1, 1:4] = [0.15, 0.15, 0.25]  # weak chain with one strong pixel: kept
    thinned[2, 4] = 0.15                  # diagonal neighbour of (1, 3): 8-connected, kept
    thinned[5, 1:6] = 0.15                # weak only: dropped
    thinned[3, 7] = 0.3                   # a lone strong pixel: kept
    edges = hysteresis(thinned, 0.2)
    expected = np.zeros_like(edges)
    expected[1, 1:4] = True
    expected[2, 4] = True
    expected[3, 7] = True
    np.testing.assert_array_equal(edges, expected)
    assert not hysteresis(np.zeros((5, 5), np.float32), 0.2).any()


# ------------------------------------------------------------------------------------------
# test-time edges with a hole (mask True = hole)
# ------------------------------------------------------------------------------------------
def test_no_edges_in_or_next_to_the_hole(photos):
    rng = np.random.default_rng(0)
    for i, g in enumerate(photos[::3]):
        h, w = g.shape
        holes = [block_hole(g.shape), rng.random((h, w)) < 0.02]
        half = np.zeros((h, w), bool)
        half[:, : w // 2] = True
        holes.append(half)
        for hole in holes:
            edges = canny_edges(g, 2.0, mask=hole)
            assert not edges[hole].any(), f"photo {i}: edge inside the hole"
            assert not edges[ring_around(hole)].any(), f"photo {i}: edge on the hole's border"


def test_shipped_mask_files_give_no_edges_in_the_hole(photos):
    paths = course_masks()
    if not paths:
        pytest.skip("no mask files in data/masks")
    for path, g in zip(paths, photos):
        hole = load_mask(path, size=g.shape)
        edges = canny_edges(g, 2.0, mask=hole)
        assert not (edges & (hole | ring_around(hole))).any(), f"{path.name}: edge in or next to the hole"


def test_hole_border_does_not_invent_edges():
    # A gentle ramp has no edges. Filling a hole with black and running Canny invents its outline;
    # the hole-aware version finds nothing.
    ramp = np.tile(np.linspace(0.2, 0.8, 64, dtype=np.float32), (64, 1))
    hole = np.zeros(ramp.shape, bool)
    hole[20:40, 24:44] = True
    assert not canny_edges(ramp, 2.0).any()
    naive = canny_edges(np.where(hole, 0.0, ramp).astype(np.float32), 2.0)
    assert naive[ring_around(hole, 2)].sum() > 20  # the naive way draws the hole's outline
    assert not canny_edges(ramp, 2.0, mask=hole).any()


def test_edges_near_the_hole_are_no_denser_than_in_the_photo(photos):
    full_band, masked_band = [], []
    for g in photos[::2]:
        hole = block_hole(g.shape)
        band = ring_around(hole, 5) & ~ring_around(hole, 1)
        full_band.append(canny_edges(g, 2.0)[band].mean())
        masked_band.append(canny_edges(g, 2.0, mask=hole)[band].mean())
    assert np.mean(masked_band) <= 1.1 * np.mean(full_band)


def test_mask_dtypes_agree(photo):
    hole = block_hole(photo.shape)
    expected = canny_edges(photo, 2.0, mask=hole)
    np.testing.assert_array_equal(canny_edges(photo, 2.0, mask=hole.astype(np.uint8) * 255), expected)
    np.testing.assert_array_equal(canny_edges(photo, 2.0, mask=hole.astype(np.float32)), expected)
    assert not canny_edges(photo, 2.0, mask=np.ones(photo.shape, bool)).any()


# ------------------------------------------------------------------------------------------
# density, F1, determinism, small images
# ------------------------------------------------------------------------------------------
def test_density_falls_with_sigma(photos):
    sigmas = [0.5, 1.0, 2.0, 3.0, 4.0]
    dens = np.array([density_vs_sigma(g, sigmas) for g in photos[::2]])
    mean = dens.mean(axis=0)
    assert np.all(np.diff(mean) < 0), f"mean density over sigma {sigmas}: {mean}"
    # "monotone-ish" per photo: never more than a hair denser at a larger sigma
    assert np.diff(dens, axis=1).max() <= 0.002
    assert 0.0 < mean[-1] < mean[0] < 0.5


def test_edge_density_values():
    edges = np.zeros((4, 5), bool)
    edges[0, :] = True  # 5 of 20 pixels
    assert edge_density(edges) == pytest.approx(0.25)
    hole = np.zeros((4, 5), bool)
    hole[2:, :] = True  # 10 known pixels, 5 of them edges
    assert edge_density(edges, hole) == pytest.approx(0.5)
    assert edge_density(edges.astype(np.uint8)) == pytest.approx(0.25)


def test_edge_f1_values():
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    assert edge_f1(a, b) == 1.0  # two empty maps agree
    a[0, 0] = a[0, 1] = True
    b[0, 1] = b[0, 2] = True
    # TP = 1, FP = 1, FN = 1 -> 2 / 4
    assert edge_f1(a, b) == pytest.approx(0.5)
    assert edge_f1(a, a) == 1.0
    assert edge_f1(a, ~a) == 0.0


def test_deterministic_and_input_untouched(photo):
    before = photo.copy()
    hole = block_hole(photo.shape)
    a = canny_edges(photo, 2.0, mask=hole)
    b = canny_edges(photo, 2.0, mask=hole)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(photo, before)
    assert density_vs_sigma(photo, [1.0, 2.0]) == density_vs_sigma(photo, [1.0, 2.0])


@pytest.mark.parametrize("shape", [(1, 1), (2, 7), (3, 3), (5, 4)])
def test_tiny_images(shape):
    g = np.random.default_rng(0).random(shape).astype(np.float32)
    edges = canny_edges(g, 1.0)
    assert edges.shape == shape and edges.dtype == np.bool_
    assert not edges[0].any() and not edges[:, 0].any()


# ------------------------------------------------------------------------------------------
# bad input: a ValueError naming the parameter
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(gray=np.zeros((8, 8, 3), np.float32)), "gray.*2-D"),
        (dict(gray=np.zeros(8, np.float32)), "gray.*2-D"),
        (dict(gray=np.zeros((8, 8), np.uint8)), "gray.*float"),
        (dict(gray=[[0.0, 1.0]]), "gray.*NumPy"),
        (dict(gray=np.zeros((0, 8), np.float32)), "gray.*empty"),
        (dict(gray=np.full((8, 8), 255.0, np.float32)), r"gray.*\[0, 1\]"),
        (dict(gray=np.full((8, 8), -0.1, np.float32)), r"gray.*\[0, 1\]"),
        (dict(gray=np.full((8, 8), np.nan, np.float32)), "gray.*NaN"),
        (dict(gray=np.full((8, 8), np.inf, np.float32)), "gray.*NaN or infinite"),
        (dict(sigma=0.0), "sigma"),
        (dict(sigma=-1.0), "sigma"),
        (dict(sigma=float("nan")), "sigma"),
        (dict(sigma="2"), "sigma"),
        (dict(sigma=None), "sigma"),
        (dict(sigma=np.float32(1.5)), None),  # NumPy scalars are fine
        (dict(low_threshold=0.3, high_threshold=0.2), "low_threshold.*high_threshold"),
        (dict(low_threshold=-0.1), "low_threshold"),
        (dict(high_threshold=float("nan")), "high_threshold"),
        (dict(high_threshold="0.2"), "high_threshold"),
        (dict(mask=np.zeros((8, 9), bool)), "mask.*shape"),
        (dict(mask=np.zeros((8, 8, 3), bool)), "mask.*shape"),
        (dict(mask=np.full((8, 8), "x")), "mask.*dtype"),
    ],
)
def test_canny_edges_bad_input(kwargs, match):
    args = dict(gray=np.full((8, 8), 0.5, np.float32), sigma=1.0, mask=None, low_threshold=0.1, high_threshold=0.2)
    args.update(kwargs)
    if match is None:
        assert canny_edges(**args).shape == (8, 8)
        return
    with pytest.raises(ValueError, match=match):
        canny_edges(**args)


def test_helpers_bad_input():
    with pytest.raises(ValueError, match="pred.*target.*same shape"):
        edge_f1(np.zeros((4, 4), bool), np.zeros((4, 5), bool))
    with pytest.raises(ValueError, match="pred.*2-D"):
        edge_f1(np.zeros(4, bool), np.zeros(4, bool))
    with pytest.raises(ValueError, match="target.*NaN"):
        edge_f1(np.zeros((4, 4)), np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match="mask covers the whole image"):
        edge_density(np.zeros((4, 4), bool), np.ones((4, 4), bool))
    with pytest.raises(ValueError, match="mask.*shape"):
        edge_density(np.zeros((4, 4), bool), np.ones((3, 4), bool))
    with pytest.raises(ValueError, match="sigmas is empty"):
        density_vs_sigma(np.zeros((8, 8), np.float32), [])
    with pytest.raises(ValueError, match="sigma"):
        density_vs_sigma(np.zeros((8, 8), np.float32), [1.0, 0.0])
    with pytest.raises(ValueError, match="sigma"):
        gaussian_kernel1d(-1.0)
    with pytest.raises(ValueError, match="smoothed"):
        gradients(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="same shape"):
        non_maximum_suppression(np.zeros((4, 4)), np.zeros((4, 5)), np.zeros((4, 4)))
    with pytest.raises(ValueError, match="support"):
        non_maximum_suppression(np.zeros((4, 4)), np.zeros((4, 4)), np.zeros((4, 4)), np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="mask.*shape"):
        smooth(np.zeros((8, 8), np.float32), 1.0, np.zeros((4, 4), bool))
