"""edgeconnect_lib.prefill: the pull-push fill (Gortler et al. 1996), the classical fill the course's G2 corrects."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from edgeconnect_lib import evaluation as ev
from edgeconnect_lib.baselines import mean_fill, pull_push
from edgeconnect_lib.errors import UsageError
from edgeconnect_lib.images import load_image
from edgeconnect_lib.masks import irregular_mask
from edgeconnect_lib.prefill import pull_push_fill


def _hole(h: int = 37, w: int = 45) -> torch.Tensor:
    m = torch.zeros(1, 1, h, w)
    m[..., 10:25, 12:30] = 1.0
    return m


def test_known_pixels_are_kept_exactly_and_a_constant_image_is_filled_with_its_constant():
    torch.manual_seed(0)
    images = torch.rand(2, 3, 37, 45)
    masks = _hole().expand(2, 1, 37, 45).clone()
    filled = pull_push_fill(images, masks)
    assert filled.shape == images.shape and filled.dtype == images.dtype
    assert torch.equal(filled[masks.expand_as(images) == 0], images[masks.expand_as(images) == 0])
    const = torch.full((1, 3, 37, 45), 0.3)
    const[:, 1] = 0.7
    out = pull_push_fill(const, _hole())
    torch.testing.assert_close(out, const, atol=1e-6, rtol=0)


def test_a_hole_in_a_smooth_ramp_is_filled_close_to_the_ramp_and_far_better_than_its_mean():
    h, w = 48, 64
    yy, xx = torch.meshgrid(torch.arange(h) / h, torch.arange(w) / w, indexing="ij")
    ramp = torch.stack((xx, yy, 0.5 * (xx + yy)))[None]
    masks = torch.zeros(1, 1, h, w)
    masks[..., 16:32, 20:44] = 1.0
    inside = masks.bool().expand_as(ramp)
    err = (pull_push_fill(ramp, masks) - ramp).abs()[inside].mean()
    err_mean = (ramp[inside].mean() - ramp[inside]).abs().mean()   # a flat fill at the hole's true mean
    assert err < 0.03 and err < 0.25 * err_mean


def test_no_known_pixel_gives_mid_grey_and_bad_shapes_are_refused():
    out = pull_push_fill(torch.rand(1, 3, 8, 8), torch.ones(1, 1, 8, 8))
    torch.testing.assert_close(out, torch.full((1, 3, 8, 8), 0.5))
    with pytest.raises(UsageError, match="pull_push_fill"):
        pull_push_fill(torch.rand(1, 3, 8, 8), torch.ones(1, 3, 8, 8))
    with pytest.raises(UsageError, match="pull_push_fill"):
        pull_push_fill(torch.rand(3, 8, 8), torch.ones(1, 8, 8))


def test_the_numpy_method_beats_the_mean_fill_on_a_real_photo_and_is_listed_by_evaluate():
    photo = ev.center_square(load_image("data/images/mate_leaf.jpg"), 128)
    mask = irregular_mask(128, 128, (0.2, 0.3), np.random.default_rng(0))
    out = pull_push(photo, mask)
    assert out.shape == photo.shape and out.dtype == np.float32
    np.testing.assert_array_equal(out[~mask], photo[~mask])
    assert ev.hole_psnr(out, photo, mask) > ev.hole_psnr(mean_fill(photo, mask), photo, mask) + 3.0
    assert "pullpush" in ev.METHOD_NAMES and ev.build_methods(["pullpush"])["pullpush"] is pull_push
    assert ("ours", "pullpush") in ev.comparison_pairs(["ours", "telea", "pullpush"])
