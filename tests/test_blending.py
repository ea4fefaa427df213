"""Poisson seam correction (edgeconnect_lib.blending)."""
from __future__ import annotations

import numpy as np
import pytest

from edgeconnect_lib.blending import harmonic_correction, poisson_blend
from edgeconnect_lib.course_data import course_images
from edgeconnect_lib.data import center_square
from edgeconnect_lib.images import load_image


def _ramp(h: int = 32, w: int = 40) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([x / w, y / h, 0.5 + 0.2 * np.sin(x / 5)], axis=-1).astype(np.float32) * 0.8 + 0.1


def _hole(h: int = 32, w: int = 40) -> np.ndarray:
    m = np.zeros((h, w), bool)
    m[8:20, 10:30] = True
    return m


def test_a_constant_colour_offset_is_removed_exactly():
    """An output that is the photo plus a constant (a colour cast) is blended back to the photo itself."""
    image, mask = _ramp(), _hole()
    output = np.clip(image + np.array([0.1, -0.05, 0.08], np.float32), 0, 1)
    out = poisson_blend(output, image, mask)
    np.testing.assert_allclose(out, image, atol=1e-5)


def test_known_pixels_are_kept_and_values_stay_in_range():
    rng = np.random.default_rng(0)
    image, mask = _ramp(), _hole()
    output = rng.random(image.shape).astype(np.float32)
    out = poisson_blend(output, image, mask)
    assert out.dtype == np.float32 and out.shape == image.shape
    np.testing.assert_array_equal(out[~mask], image[~mask])
    assert out.min() >= 0 and out.max() <= 1


def test_the_correction_is_harmonic_and_zero_outside():
    """h matches the error on the known ring, is zero off the hole, and its 5-point Laplacian is 0 inside."""
    rng = np.random.default_rng(1)
    image, mask = _ramp(), _hole()
    output = image + 0.1 * rng.standard_normal(image.shape).astype(np.float32)
    h = harmonic_correction(output, image, mask)
    assert np.all(h[~mask] == 0)
    # the equation at each hole pixel, with h's boundary values taken as (image - output) on the ring
    full = np.where(mask[..., None], h, image - output)
    lap = (full[:-2, 1:-1] + full[2:, 1:-1] + full[1:-1, :-2] + full[1:-1, 2:] - 4 * full[1:-1, 1:-1])
    np.testing.assert_allclose(lap[mask[1:-1, 1:-1]], 0, atol=1e-9)


def test_blending_lowers_the_error_near_the_seam_on_a_real_photo():
    """A blurred copy of a real photo as the 'network output': blending brings the fill closer to the photo."""
    import cv2

    image = center_square(load_image(course_images("test")[0]), 128)
    mask = np.zeros((128, 128), bool)
    mask[40:70, 30:100] = True
    output = cv2.GaussianBlur(image, (0, 0), 3) * 0.9 + 0.05  # blurred and with a cast, as G2's output
    pasted = np.where(mask[..., None], output, image)
    blended = poisson_blend(output, image, mask)
    err = lambda x: float(np.abs(x - image)[mask].mean())  # noqa: E731
    assert err(blended) < 0.8 * err(pasted)


def test_bad_inputs_name_the_problem():
    image, mask = _ramp(), _hole()
    with pytest.raises(ValueError, match="InpaintResult.output"):
        poisson_blend(image[:10], image, mask)
    with pytest.raises(ValueError, match="mask has shape"):
        poisson_blend(image, image, mask[:10])
    bad = image.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        poisson_blend(bad, image, mask)


def test_a_hole_with_no_known_pixel_is_left_as_the_output():
    image = _ramp()
    mask = np.ones(image.shape[:2], bool)
    output = np.full_like(image, 0.3)
    np.testing.assert_allclose(poisson_blend(output, image, mask), output)
