"""Lesson 11's figures: every image drawn at the same number of screen pixels per image pixel."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from edgeconnect_lib.ingan.figures import pixel_scale_grid  # noqa: E402


def _axes_pixels(fig):
    fig.canvas.draw()
    return [(round(ax.get_window_extent().width), round(ax.get_window_extent().height)) for ax in fig.axes]


def test_each_image_gets_scale_pixels_per_pixel():
    photo, wide, tall = np.zeros((40, 64, 3)), np.ones((40, 128, 3)), np.full((80, 64), 0.5)
    fig = pixel_scale_grid([[photo, wide], [tall, None]], ["input", "2x wider"], ["a", "b"], scale=3)
    # three axes (None leaves its cell empty), each exactly 3 figure pixels per image pixel
    assert _axes_pixels(fig) == [(192, 120), (384, 120), (192, 240)]
    assert fig.axes[1].get_title() == "2x wider\n128x40" and fig.axes[2].get_title() == "64x80"
    plt.close(fig)


def test_the_wider_image_is_drawn_wider_not_squeezed():
    fig = pixel_scale_grid([[np.zeros((10, 20, 3))], [np.zeros((10, 40, 3))]], scale=2)
    (w0, h0), (w1, h1) = _axes_pixels(fig)
    assert (w1, h1) == (2 * w0, h0)
    plt.close(fig)


@pytest.mark.parametrize("rows, match", [
    ([], "non-empty"),
    ([[np.zeros((4, 4, 3))], [np.zeros((4, 4, 3)), None]], "equally long"),
    ([[np.zeros((4, 4, 5))]], r"image \[0\]\[0\] must be an H x W"),
])
def test_bad_input_gets_one_clear_error(rows, match):
    with pytest.raises(ValueError, match=match):
        pixel_scale_grid(rows)


def test_titles_must_match_the_grid():
    with pytest.raises(ValueError, match="1 column and 0 row titles for a 1 x 2 grid"):
        pixel_scale_grid([[np.zeros((4, 4, 3)), np.zeros((4, 4, 3))]], col_titles=["only one"])
