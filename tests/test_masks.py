"""Tests for edgeconnect_lib.masks: hole masks (True = hole) and mask files."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from edgeconnect_lib.masks import (
    HOLE_BUCKETS,
    MASK_KINDS,
    block_mask,
    example_mask_specs,
    free_form_mask,
    half_mask,
    hole_ratio,
    irregular_mask,
    load_mask,
    random_mask,
    save_mask,
    write_example_masks,
)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def touches_border(mask: np.ndarray) -> bool:
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


# ------------------------------------------------------------------------------------------
# irregular masks: the hole-ratio buckets
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bucket", HOLE_BUCKETS)
def test_irregular_ratio_lands_in_bucket_128(bucket):
    lo, hi = bucket
    g = rng(1)
    ratios = np.array([hole_ratio(irregular_mask(128, 128, bucket, g)) for _ in range(200)])
    hit_rate = np.mean((ratios >= lo) & (ratios <= hi))
    assert hit_rate >= 0.95, f"bucket {bucket}: only {hit_rate:.1%} inside"
    # the ratios spread over the bucket instead of piling up at one end
    assert ratios.max() - ratios.min() > 0.5 * (hi - lo)


@pytest.mark.parametrize("shape", [(256, 256), (64, 64), (64, 96), (160, 96)])
def test_irregular_ratio_other_sizes(shape):
    g = rng(2)
    for lo, hi in HOLE_BUCKETS:
        for _ in range(5):
            m = irregular_mask(*shape, (lo, hi), g)
            assert m.shape == shape and m.dtype == bool
            assert lo <= hole_ratio(m) <= hi


def test_irregular_narrow_range_and_small_mask():
    m = irregular_mask(16, 16, (0.30, 0.32), rng(3))
    assert 0.30 <= hole_ratio(m) <= 0.32
    with pytest.raises(ValueError, match="no pixel count"):
        irregular_mask(4, 4, (0.30, 0.31), rng(3))


def test_irregular_border_modes():
    g = rng(4)
    either = [touches_border(irregular_mask(96, 96, (0.1, 0.2), g)) for _ in range(60)]
    # "either" (default): about half touch the image border, like Liu et al.'s test set
    assert 15 <= sum(either) <= 45
    for bucket in HOLE_BUCKETS:
        for _ in range(4):
            t = irregular_mask(64, 80, bucket, g, border="touch")
            a = irregular_mask(64, 80, bucket, g, border="avoid")
            assert touches_border(t) and not touches_border(a)
            assert bucket[0] < hole_ratio(t) <= bucket[1] and bucket[0] < hole_ratio(a) <= bucket[1]
    assert 0.1 < hole_ratio(irregular_mask(64, 64, (0.1, 0.2), g, border="any")) <= 0.2
    with pytest.raises(ValueError, match="border"):
        irregular_mask(64, 64, (0.1, 0.2), g, border="inside")
    with pytest.raises(ValueError, match="avoid"):
        irregular_mask(4, 4, (0.5, 0.6), g, border="avoid")


@pytest.mark.parametrize("border", ["touch", "avoid"])
def test_irregular_fallback_grows_to_target(monkeypatch, border):
    # if no shape ever adds pixels, the hole is grown pixel by pixel and still lands in range
    import edgeconnect_lib.masks as masks

    monkeypatch.setattr(masks, "_draw_stroke", lambda *a: None)
    monkeypatch.setattr(masks, "_draw_blob", lambda *a: None)
    monkeypatch.setattr(masks, "MAX_SHAPE_DRAWS", 50)
    m = masks.irregular_mask(32, 32, (0.3, 0.4), rng(16), border=border)
    assert 0.3 < hole_ratio(m) <= 0.4
    assert touches_border(m) == (border == "touch")


def test_irregular_default_rng_and_range():
    m = irregular_mask(64, 64)
    assert m.shape == (64, 64) and 0.1 <= hole_ratio(m) <= 0.6


# ------------------------------------------------------------------------------------------
# block, half, free-form
# ------------------------------------------------------------------------------------------
def test_block_is_a_quarter_and_a_rectangle():
    g = rng(5)
    positions = set()
    for _ in range(20):
        m = block_mask(128, 128, g)
        assert m.dtype == bool and m.shape == (128, 128)
        assert hole_ratio(m) == 0.25
        ys, xs = np.nonzero(m)
        assert ys.max() - ys.min() + 1 == 64 and xs.max() - xs.min() + 1 == 64
        positions.add((ys.min(), xs.min()))
    assert len(positions) > 10  # random placement
    assert hole_ratio(block_mask(64, 96, g)) == 0.25


def test_half_is_left_or_right_half():
    g = rng(6)
    sides = set()
    for _ in range(20):
        m = half_mask(64, 128, g)
        assert hole_ratio(m) == 0.5
        if m[:, :64].all() and not m[:, 64:].any():
            sides.add("left")
        elif m[:, 64:].all() and not m[:, :64].any():
            sides.add("right")
        else:
            pytest.fail("half mask is neither the left nor the right half")
    assert sides == {"left", "right"}


@pytest.mark.parametrize("shape", [(256, 256), (64, 64), (96, 160)])
def test_free_form_within_bounds(shape):
    g = rng(7)
    ratios = []
    for _ in range(30):
        m = free_form_mask(*shape, g)
        assert m.shape == shape and m.dtype == bool and m.flags["C_CONTIGUOUS"]
        ratios.append(hole_ratio(m))
    ratios = np.array(ratios)
    assert ratios.min() > 0.0
    assert ratios.max() < 0.8
    # 1-3 strokes of a brush 12-40 px wide at 256 px cover a few to a few tens of percent
    assert 0.03 < ratios.mean() < 0.4


def test_free_form_brush_scales_with_size():
    # the same random draws at 64 px and 256 px cover about the same fraction
    small = np.mean([hole_ratio(free_form_mask(64, 64, rng(s))) for s in range(20)])
    big = np.mean([hole_ratio(free_form_mask(256, 256, rng(s))) for s in range(20)])
    assert abs(small - big) < 0.05


# ------------------------------------------------------------------------------------------
# determinism, variety, dispatch
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", MASK_KINDS)
def test_same_seed_same_mask_different_seed_different_mask(kind):
    a = random_mask(kind, 96, 96, rng(11), hole_range=(0.2, 0.3))
    b = random_mask(kind, 96, 96, rng(11), hole_range=(0.2, 0.3))
    assert a.dtype == bool and a.shape == (96, 96)
    assert np.array_equal(a, b)
    others = [random_mask(kind, 96, 96, rng(s), hole_range=(0.2, 0.3)) for s in range(12, 20)]
    assert any(not np.array_equal(a, o) for o in others)


def test_irregular_variety():
    masks = [irregular_mask(64, 64, (0.3, 0.4), rng(s)) for s in range(10)]
    distinct = {m.tobytes() for m in masks}
    assert len(distinct) == 10


def test_random_mask_unknown_kind_lists_choices():
    with pytest.raises(ValueError, match="free_form"):
        random_mask("regular", 64, 64, rng())
    with pytest.raises(ValueError, match="irregular"):
        random_mask(3, 64, 64, rng())


# ------------------------------------------------------------------------------------------
# parameter errors
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [(0.2, 0.1), (0.0, 0.5), (0.5, 1.0), (10, 20), (0.3, 0.3), (0.1,), "0.1-0.2", None])
def test_bad_hole_range(bad):
    with pytest.raises(ValueError, match="hole_range"):
        irregular_mask(64, 64, bad, rng())


@pytest.mark.parametrize("fn", [block_mask, half_mask, free_form_mask])
def test_int_seed_instead_of_rng(fn):
    with pytest.raises(TypeError, match=r"default_rng\(0\)"):
        fn(64, 64, 0)


def test_int_seed_instead_of_rng_irregular():
    with pytest.raises(TypeError, match=r"default_rng\(42\)"):
        irregular_mask(64, 64, (0.1, 0.2), 42)
    with pytest.raises(TypeError, match="Generator"):
        irregular_mask(64, 64, (0.1, 0.2), np.random.RandomState(0))


@pytest.mark.parametrize("h, w", [(0, 64), (64, -1), (64.0, 64), (True, 64), ("64", 64)])
def test_bad_size(h, w):
    with pytest.raises((ValueError, TypeError), match="height|width"):
        block_mask(h, w, rng())
    with pytest.raises((ValueError, TypeError), match="height|width"):
        irregular_mask(h, w, (0.1, 0.2), rng())


def test_hole_ratio():
    m = np.zeros((10, 10), bool)
    m[:3] = True
    assert hole_ratio(m) == 0.3
    assert hole_ratio(m.astype(np.uint8) * 255) == 0.3
    with pytest.raises(ValueError):
        hole_ratio(np.zeros((0, 5)))


# ------------------------------------------------------------------------------------------
# mask files
# ------------------------------------------------------------------------------------------
def test_save_load_round_trip(tmp_path):
    m = irregular_mask(80, 120, (0.2, 0.3), rng(8))
    path = save_mask(m, tmp_path / "m.png")
    raw = np.asarray(Image.open(path))
    assert raw.dtype == np.uint8 and set(np.unique(raw)) == {0, 255}
    back = load_mask(path)
    assert back.dtype == bool and np.array_equal(back, m)


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "I;16"])
def test_load_accepts_modes(tmp_path, mode):
    m = block_mask(32, 48, rng(9))
    u8 = m.astype(np.uint8) * 255
    if mode == "1":
        im = Image.fromarray(u8).convert("1")
    elif mode == "P":
        im = Image.fromarray(u8).convert("P")
    elif mode == "RGB":
        im = Image.fromarray(np.stack([u8] * 3, axis=2))
    elif mode == "I;16":
        im = Image.fromarray(m.astype(np.uint16) * 65535)
    else:
        im = Image.fromarray(u8)
    path = tmp_path / f"m_{mode.replace(';', '')}.png"
    im.save(path)
    assert np.array_equal(load_mask(path), m)


def test_load_zero_one_mask_and_bmp(tmp_path):
    # masks saved as 0/1 (non-zero = hole, as in the authors' code)
    m = half_mask(20, 30, rng(10))
    Image.fromarray(m.astype(np.uint8)).save(tmp_path / "m.bmp")
    assert np.array_equal(load_mask(tmp_path / "m.bmp"), m)


def test_load_opaque_rgba_ok_transparent_rejected(tmp_path):
    m = block_mask(32, 32, rng(12))
    u8 = m.astype(np.uint8) * 255
    alpha = np.full_like(u8, 255)
    Image.fromarray(np.stack([u8, u8, u8, alpha], axis=2)).save(tmp_path / "opaque.png")
    assert np.array_equal(load_mask(tmp_path / "opaque.png"), m)
    alpha[:4] = 0
    Image.fromarray(np.stack([u8, u8, u8, alpha], axis=2)).save(tmp_path / "transparent.png")
    with pytest.raises(ValueError, match="transparent.png.*transparency"):
        load_mask(tmp_path / "transparent.png")


def test_load_resize_nearest_stays_binary(tmp_path):
    m = irregular_mask(256, 256, (0.3, 0.4), rng(13))
    path = save_mask(m, tmp_path / "m.png")
    small = load_mask(path, size=64)
    assert small.shape == (64, 64) and small.dtype == bool
    # nearest neighbour: every output pixel is one of the input pixels
    assert np.array_equal(small, m[2::4, 2::4])
    rect = load_mask(path, size=(100, 50))
    assert rect.shape == (100, 50)
    assert load_mask(path, size=None).shape == (256, 256)
    with pytest.raises(ValueError, match="size"):
        load_mask(path, size=0)
    with pytest.raises(ValueError, match="size"):
        load_mask(path, size=(64, 64, 3))


def test_load_rejects_lossy_jpeg(tmp_path):
    m = irregular_mask(128, 128, (0.4, 0.5), rng(14))
    path = tmp_path / "mask.jpg"
    Image.fromarray(m.astype(np.uint8) * 255).save(path, quality=20)
    with pytest.raises(ValueError, match=r"mask\.jpg.*save masks losslessly as PNG, 0 = known, 255 = hole"):
        load_mask(path)


def test_load_rejects_photo_like_noise(tmp_path):
    noise = rng(15).integers(0, 256, size=(64, 64), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "noise.png")
    with pytest.raises(ValueError, match="noise.png.*not a binary mask"):
        load_mask(tmp_path / "noise.png")


def test_load_rejects_colour_image(tmp_path):
    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[..., 0] = 255  # red: channels differ
    Image.fromarray(rgb).save(tmp_path / "red.png")
    with pytest.raises(ValueError, match="red.png.*channels differ"):
        load_mask(tmp_path / "red.png")


def test_load_missing_and_corrupt(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.png"):
        load_mask(tmp_path / "nope.png")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="bad.png"):
        load_mask(tmp_path / "bad.png")


def test_save_mask_refuses_jpeg(tmp_path):
    with pytest.raises(ValueError, match="png"):
        save_mask(np.zeros((4, 4), bool), tmp_path / "m.jpg")


# ------------------------------------------------------------------------------------------
# the shipped example masks
# ------------------------------------------------------------------------------------------
def test_write_example_masks_is_reproducible(tmp_path):
    a = write_example_masks(tmp_path / "a", size=64, seed=0, per_bucket=1, free_form=1)
    b = write_example_masks(tmp_path / "b", size=64, seed=0, per_bucket=1, free_form=1)
    assert [p.name for p in a] == [name for name, _, _ in example_mask_specs(1, 1)]
    for pa, pb in zip(a, b):
        assert np.array_equal(load_mask(pa), load_mask(pb))


def test_shipped_masks():
    from edgeconnect_lib.course_data import course_masks

    paths = {p.name: p for p in course_masks()}
    for name, kind, hole_range in example_mask_specs():
        assert name in paths, f"data/masks/{name} is missing (python -m edgeconnect_lib.masks --out data/masks)"
        m = load_mask(paths[name])
        assert m.shape == (256, 256)
        r = hole_ratio(m)
        if kind == "irregular":
            assert hole_range[0] < r <= hole_range[1]
        elif kind == "block":
            assert r == 0.25
        elif kind == "half":
            assert r == 0.5
        else:
            assert 0 < r < 0.8
