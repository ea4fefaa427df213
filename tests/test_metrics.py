"""metrics.py: PSNR / SSIM checked against scikit-image, L1, the authors' MAE, edge precision / recall."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from edgeconnect_lib.metrics import authors_mae, edge_precision_recall, l1, psnr, ssim, to_gray

skm = pytest.importorskip("skimage.metrics")
from skimage.color import rgb2gray  # noqa: E402


def _pair(seed: int = 0, size: int = 64):
    rng = np.random.default_rng(seed)
    a = rng.random((size, size, 3)).astype(np.float32)
    b = np.clip(a + 0.1 * rng.standard_normal(a.shape), 0, 1).astype(np.float32)
    chw = lambda x: torch.from_numpy(x).permute(2, 0, 1)  # noqa: E731
    return a, b, chw(a), chw(b)


def test_psnr_matches_skimage():
    a, b, ta, tb = _pair()
    assert psnr(tb, ta) == pytest.approx(skm.peak_signal_noise_ratio(a, b, data_range=1.0), abs=1e-4)


def test_psnr_identical_images_is_finite_and_large():
    _, _, ta, _ = _pair()
    value = psnr(ta, ta)
    assert np.isfinite(value) and value >= 100


def test_ssim_gaussian_convention_matches_skimage():
    a, b, ta, tb = _pair(1)
    ref = skm.structural_similarity(a, b, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                    use_sample_covariance=False, channel_axis=2)
    assert ssim(tb, ta) == pytest.approx(ref, abs=1e-5)


def test_ssim_authors_convention_matches_skimage_gray_window_51():
    a, b, ta, tb = _pair(2)
    ref = skm.structural_similarity(rgb2gray(a), rgb2gray(b), data_range=1.0, win_size=51)
    assert ssim(tb, ta, convention="authors") == pytest.approx(ref, abs=1e-5)


def test_ssim_is_one_for_identical_and_per_image_shape():
    _, b, _, tb = _pair(3)
    batch = torch.stack([tb, tb.flip(-1)])
    values = ssim(batch, batch, reduction="none")
    assert values.shape == (2,) and torch.allclose(values, torch.ones(2), atol=1e-6)


def test_ssim_window_larger_than_image_is_a_clear_error():
    _, _, ta, tb = _pair(size=16)
    with pytest.raises(ValueError, match="window"):
        ssim(ta, tb, convention="authors")


def test_l1_and_authors_mae():
    x = torch.full((1, 3, 4, 4), 0.5)
    y = torch.full((1, 3, 4, 4), 0.25)
    assert l1(x, y) == pytest.approx(0.25)
    # sum |gt - pred| / sum (gt + pred) = 0.25 / 0.75
    assert authors_mae(x, y) == pytest.approx(1 / 3)


def test_to_gray_uses_skimage_weights():
    a, _, ta, _ = _pair(4)
    assert np.allclose(to_gray(ta[None])[0, 0].numpy(), rgb2gray(a), atol=1e-6)


def test_edge_precision_recall_counts():
    target = torch.zeros(1, 1, 4, 4)
    target[0, 0, 0, :] = 1  # 4 true edge pixels
    pred = torch.zeros(1, 1, 4, 4)
    pred[0, 0, 0, :2] = 0.9  # 2 hits
    pred[0, 0, 3, 0] = 0.8  # 1 false positive
    pred[0, 0, 2, 2] = 0.4  # below the threshold
    s = edge_precision_recall(pred, target)
    assert s.precision == pytest.approx(2 / 3) and s.recall == pytest.approx(0.5)
    assert s.f1 == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))


def test_edge_precision_recall_inside_mask_only():
    target = torch.ones(1, 1, 4, 4)
    pred = torch.zeros(1, 1, 4, 4)
    pred[..., :2] = 1  # correct on the left half only
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., :2] = 1
    s = edge_precision_recall(pred, target, mask=mask)
    assert s.precision == pytest.approx(1.0) and s.recall == pytest.approx(1.0)


def test_empty_edge_maps_score_one():
    z = torch.zeros(1, 1, 8, 8)
    assert edge_precision_recall(z, z).f1 == pytest.approx(1.0)


def test_bad_inputs_give_clear_errors():
    with pytest.raises(ValueError, match="same shape"):
        psnr(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 9))
    with pytest.raises(ValueError, match="NaN"):
        l1(torch.full((1, 1, 4, 4), float("nan")), torch.zeros(1, 1, 4, 4))
    with pytest.raises(ValueError, match="reduction"):
        l1(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4), reduction="sum")


def test_checkerboard_ratio_sees_the_transposed_conv_pattern():
    from edgeconnect_lib.metrics import checkerboard_ratio

    g = torch.Generator().manual_seed(0)
    photo = torch.nn.functional.avg_pool2d(torch.rand(1, 3, 68, 68, generator=g), 5, stride=1)  # smooth, (1, 3, 64, 64)
    yy, xx = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")
    board = ((yy + xx) % 2).float()[None, None] * 0.1
    assert abs(checkerboard_ratio(photo, photo) - 1.0) < 1e-4
    assert checkerboard_ratio(photo + board, photo) > 10  # a checkerboard of amplitude 0.1 on a smooth photo
    assert checkerboard_ratio(torch.nn.functional.avg_pool2d(photo, 3, 1, 1), photo) < 1  # blur removes it
    hole = torch.zeros(1, 1, 64, 64)
    hole[..., 16:48, 16:48] = 1
    only_in_hole = photo + board * hole
    assert checkerboard_ratio(only_in_hole, photo, hole) > checkerboard_ratio(only_in_hole, photo)
    with pytest.raises(ValueError, match="no 2 x 2 window"):
        checkerboard_ratio(photo, photo, torch.zeros(1, 1, 64, 64))
