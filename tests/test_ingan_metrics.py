"""InGAN's retargeting measures: coherence and completeness (bidirectional similarity, Simakov et al. 2008) on
cases whose answer is known: the photo itself, a tiling, a crop, a bicubic stretch."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from edgeconnect_lib.course_data import data_dir
from edgeconnect_lib.ingan import (
    bicubic_retarget,
    bidirectional_similarity,
    coherence,
    completeness,
    image_patches,
    nearest_patches,
    prepare_image,
)

PHOTOS = data_dir() / "images"


@pytest.fixture(scope="module", params=["plasma_colorful_cups.jpg", "lomiri_brushes.jpg"])
def photo(request) -> np.ndarray:
    """A real photo at 64 px on its longer side (the shipped InGAN checkpoint's size)."""
    return prepare_image(PHOTOS / request.param, 64)


def test_a_photo_scores_zero_to_itself(photo):
    assert coherence(photo, photo) == 0.0
    assert completeness(photo, photo) == 0.0


def test_a_tiling_is_coherent_and_complete_a_stretch_is_not(photo):
    h, w = photo.shape[:2]
    tiling = np.tile(photo, (1, 2, 1))                       # 2x wider: the photo twice, one seam
    stretch = bicubic_retarget(photo, (h, 2 * w))            # 2x wider: every element twice as wide
    assert completeness(tiling, photo) == 0.0                # every photo patch is in the tiling
    tiled, stretched = coherence(tiling, photo), coherence(stretch, photo)
    assert tiled < 0.3 * stretched, (tiled, stretched)       # only the seam's patches are new
    assert stretched > 1e-3


def test_a_crop_is_coherent_but_not_complete(photo):
    h, w = photo.shape[:2]
    crop = photo[:, : w // 2]
    assert coherence(crop, photo) == 0.0                     # every crop patch is a photo patch
    assert completeness(crop, photo) > 1e-3 > completeness(photo, photo)
    both = bidirectional_similarity(crop, photo)
    assert both.coherence == 0.0 and both.total == pytest.approx(completeness(crop, photo))


def test_the_measure_is_a_mean_squared_difference_per_value():
    """A flat grey against a flat white: every patch is 0.5 away in every value, so both directions are 0.25."""
    grey, white = np.full((10, 12, 3), 0.5, np.float32), np.ones((9, 9, 3), np.float32)
    assert coherence(grey, white) == pytest.approx(0.25)
    assert completeness(grey, white) == pytest.approx(0.25)
    assert image_patches(grey, 7).shape == (4 * 6, 3 * 49)


def test_nearest_patches_is_exact_across_chunks():
    torch.manual_seed(0)
    queries, keys = torch.rand(300, 12), torch.rand(500, 12)
    dist, index = nearest_patches(queries, keys, chunk_bytes=4 * 500 * 7)   # 7 queries per chunk
    full = torch.cdist(queries.double(), keys.double()) ** 2 / 12
    assert torch.equal(index, full.argmin(1))
    assert torch.allclose(dist.double(), full.min(1).values, atol=1e-6)


def test_a_subset_of_patches_is_seeded_and_close_to_all_of_them(photo):
    h, w = photo.shape[:2]
    stretch = bicubic_retarget(photo, (h, 2 * w))
    exact = coherence(stretch, photo, max_patches=10**9)
    a, b = coherence(stretch, photo, max_patches=1000, seed=3), coherence(stretch, photo, max_patches=1000, seed=3)
    assert a == b
    assert a == pytest.approx(exact, rel=0.15)


@pytest.mark.parametrize("output, source, match", [
    (np.zeros((6, 20, 3)), np.zeros((20, 20, 3)), "at least the patch"),
    (np.zeros((20, 20)), np.zeros((20, 20, 3)), "H x W x 3"),
])
def test_images_too_small_or_not_rgb_are_refused(output, source, match):
    with pytest.raises(ValueError, match=match):
        coherence(output, source)
