"""Tests of edgeconnect_lib.data: file lists, samples, edge and mask modes, bad input."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from edgeconnect_lib import masks
from edgeconnect_lib.course_data import course_images
from edgeconnect_lib.data import (
    EDGE_MODES,
    MASK_MODES,
    RANDOM_SIGMAS,
    InpaintingDataset,
    Sample,
    list_image_files,
)
from edgeconnect_lib.edges import canny_edges
from edgeconnect_lib.images import ImageReadError

S = 48  # sample size used by most tests (small: fast)


def _photo(rng: np.random.Generator, h: int = 80, w: int = 100) -> np.ndarray:
    """A smooth random colour picture with some structure (uint8 H x W x 3)."""
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([np.sin(6 * x + rng.uniform(0, 6)), np.cos(5 * y + rng.uniform(0, 6)), x * y], axis=2)
    img = (base - base.min()) / (base.max() - base.min() + 1e-9)
    img[h // 4 : h // 2, w // 3 : w // 2] = rng.uniform(0, 1, 3)  # a block gives clear edges
    return (img * 255).astype(np.uint8)


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    for i in range(5):
        Image.fromarray(_photo(rng)).save(folder / f"p{i}.png")
    Image.fromarray(_photo(rng, 90, 70)).save(folder / "sub" / "q0.jpg", quality=95)
    return folder


def _same(a: Sample, b: Sample) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b))


# ----------------------------------------------------------------------------------------------
# list_image_files
# ----------------------------------------------------------------------------------------------
def test_folder_is_searched_recursively_and_sorted(photo_dir: Path) -> None:
    (photo_dir / "notes.md").write_text("not an image")
    (photo_dir / ".hidden").mkdir()
    Image.fromarray(_photo(np.random.default_rng(1))).save(photo_dir / ".hidden" / "x.png")
    files = list_image_files(photo_dir)
    assert [f.relative_to(photo_dir).as_posix() for f in files] == [
        "p0.png", "p1.png", "p2.png", "p3.png", "p4.png", "sub/q0.jpg"
    ]
    assert list_image_files(str(photo_dir)) == files


def test_glob_pattern(photo_dir: Path) -> None:
    assert [f.name for f in list_image_files(str(photo_dir / "p[0-2].png"))] == ["p0.png", "p1.png", "p2.png"]
    assert [f.name for f in list_image_files(str(photo_dir / "**" / "*.jpg"))] == ["q0.jpg"]


def test_list_file_resolves_relative_paths_against_its_folder(photo_dir: Path, tmp_path: Path, monkeypatch) -> None:
    lst = photo_dir / "train.flist"
    lst.write_text("# training photos\np3.png\n\nsub/q0.jpg\n" + str(photo_dir / "p0.png") + "\n")
    monkeypatch.chdir(tmp_path)  # the working directory must not matter
    files = list_image_files(lst)
    assert files == [photo_dir / "p3.png", photo_dir / "sub" / "q0.jpg", photo_dir / "p0.png"]
    assert all(f.is_file() for f in files)
    txt = photo_dir / "val.txt"
    txt.write_text("p1.png\n")
    assert list_image_files(txt) == [photo_dir / "p1.png"]


def test_python_list_and_single_file(photo_dir: Path) -> None:
    items = [photo_dir / "p2.png", str(photo_dir / "p1.png"), photo_dir / "sub"]
    assert list_image_files(items) == [photo_dir / "p2.png", photo_dir / "p1.png", photo_dir / "sub" / "q0.jpg"]
    assert list_image_files(photo_dir / "p4.png") == [photo_dir / "p4.png"]


def test_empty_and_missing_sources_give_clear_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no images found.*empty.*looked for image files"):
        list_image_files(empty)
    with pytest.raises(ValueError, match="no images found"):
        InpaintingDataset(empty)
    with pytest.raises(ValueError, match="matching the glob pattern"):
        list_image_files(str(tmp_path / "*.png"))
    (tmp_path / "empty.txt").write_text("# nothing\n\n")
    with pytest.raises(ValueError, match="list file"):
        list_image_files(tmp_path / "empty.txt")
    with pytest.raises(ValueError, match="no images found"):
        list_image_files([])
    with pytest.raises(FileNotFoundError, match="no such folder or file"):
        list_image_files(tmp_path / "nowhere")
    (tmp_path / "notes.md").write_text("hello")
    with pytest.raises(ValueError, match="neither an image"):
        list_image_files(tmp_path / "notes.md")
    with pytest.raises(TypeError, match="source"):
        list_image_files(42)


# ----------------------------------------------------------------------------------------------
# samples
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("train", [True, False])
def test_sample_shapes_dtypes_and_ranges(photo_dir: Path, train: bool) -> None:
    ds = InpaintingDataset(photo_dir, size=S, train=train)
    assert len(ds) == 6
    for i in range(len(ds)):
        s = ds[i]
        assert isinstance(s, Sample)
        assert [tuple(t.shape) for t in s] == [(3, S, S), (1, S, S), (1, S, S), (1, S, S)]
        assert all(t.dtype == torch.float32 for t in s)
        assert float(s.image.min()) >= 0.0 and float(s.image.max()) <= 1.0
        assert float(s.gray.min()) >= 0.0 and float(s.gray.max()) <= 1.0
        assert set(torch.unique(s.edge).tolist()) <= {0.0, 1.0}
        assert set(torch.unique(s.mask).tolist()) <= {0.0, 1.0}
        assert 0.0 < float(s.mask.mean()) < 1.0
        # gray is the BT.709 luminance of image
        lum = 0.2125 * s.image[0] + 0.7154 * s.image[1] + 0.0721 * s.image[2]
        assert torch.allclose(s.gray[0], lum, atol=1e-5)
    assert ds[-1] is not None
    with pytest.raises(IndexError):
        ds[len(ds)]


def test_eval_items_are_deterministic_across_calls_and_instances(photo_dir: Path) -> None:
    a = InpaintingDataset(photo_dir, size=S, train=False, mask_mode="mix", edge_mode="random_sigma", seed=3)
    b = InpaintingDataset(photo_dir, size=S, train=False, mask_mode="mix", edge_mode="random_sigma", seed=3)
    first = [a[i] for i in range(len(a))]
    assert all(_same(first[i], a[i]) for i in range(len(a)))  # same item twice
    assert all(_same(first[i], b[i]) for i in range(len(b)))  # across instances
    # the centre crop of a photo is the same whatever the seed; the mask is not
    c = InpaintingDataset(photo_dir, size=S, train=False, mask_mode="irregular", seed=4)
    assert torch.equal(c[0].image, first[0].image)
    assert not torch.equal(c[0].mask, a[0].mask)


def test_training_draws_are_reproducible_and_vary_with_seed_and_call(photo_dir: Path) -> None:
    a = InpaintingDataset(photo_dir, size=S, train=True, seed=0)
    b = InpaintingDataset(photo_dir, size=S, train=True, seed=0)
    c = InpaintingDataset(photo_dir, size=S, train=True, seed=1)
    seq_a = [a[i % 6] for i in range(8)]
    seq_b = [b[i % 6] for i in range(8)]
    seq_c = [c[i % 6] for i in range(8)]
    assert all(_same(x, y) for x, y in zip(seq_a, seq_b))  # same seed, same calls -> same samples
    assert not any(torch.equal(x.mask, y.mask) for x, y in zip(seq_a, seq_c))  # another seed -> other masks
    # the same index drawn again (next epoch) gets a new mask and (almost surely) a new crop
    assert not torch.equal(seq_a[0].mask, seq_a[6].mask)
    assert not torch.equal(seq_a[0].image, seq_a[6].image)


def test_training_flips_and_crops_vary(photo_dir: Path) -> None:
    ds = InpaintingDataset(photo_dir / "p0.png", size=S, train=True, seed=0)
    images = [ds[0].image for _ in range(12)]
    distinct = {tuple(np.round(im.numpy()[:, ::7, ::7].ravel(), 3)) for im in images}
    assert len(distinct) == 12


# ----------------------------------------------------------------------------------------------
# edge modes
# ----------------------------------------------------------------------------------------------
def test_edge_mode_canny_is_the_full_canny_map_of_the_sample(photo_dir: Path) -> None:
    for sigma in (1.0, 2.0):
        ds = InpaintingDataset(photo_dir, size=S, train=False, sigma=sigma)
        s = ds[1]
        expected = canny_edges(s.gray[0].numpy(), sigma=sigma)
        assert np.array_equal(s.edge[0].numpy() > 0, expected)
        assert s.edge.sum() > 0
    # the label is not masked: some edges lie inside the holes
    assert sum(float((ds[i].edge * ds[i].mask).sum()) for i in range(len(ds))) > 0


def test_edge_mode_random_sigma_uses_an_integer_sigma_in_1_to_4(photo_dir: Path) -> None:
    ds = InpaintingDataset(photo_dir, size=S, train=False, edge_mode="random_sigma")
    used = set()
    for i in range(len(ds)):
        s = ds[i]
        gray = s.gray[0].numpy()
        matches = [sg for sg in RANDOM_SIGMAS if np.array_equal(canny_edges(gray, sigma=sg), s.edge[0].numpy() > 0)]
        assert matches, f"item {i}: edges match no sigma in {RANDOM_SIGMAS}"
        used.add(matches[0])
    assert len(used) >= 2


def test_edge_mode_none_gives_zero_edges(photo_dir: Path) -> None:
    s = InpaintingDataset(photo_dir, size=S, edge_mode="none")[0]
    assert float(s.edge.abs().sum()) == 0.0


def _pattern(h: int, w: int) -> np.ndarray:
    """An asymmetric binary pattern of 20-px cells (so flips and crops show)."""
    cells = np.random.default_rng(5).random((h // 20 + 1, w // 20 + 1)) < 0.4
    return np.kron(cells, np.ones((20, 20), dtype=bool))[:h, :w]


def test_edge_mode_external_follows_the_photo_geometry(tmp_path: Path) -> None:
    photos, edge_dir = tmp_path / "photos", tmp_path / "edges"
    photos.mkdir()
    edge_dir.mkdir()
    for i in range(3):
        pat = _pattern(200, 240 + 20 * i)
        # the photo shows the pattern in white; its edge file marks the same cells
        Image.fromarray((pat * 255).astype(np.uint8)).convert("RGB").save(photos / f"im{i}.png")
        Image.fromarray((pat * 255).astype(np.uint8)).save(edge_dir / f"im{i}.png")
    for train in (False, True):
        ds = InpaintingDataset(photos, size=32, train=train, edge_mode="external", edge_source=edge_dir)
        for k in range(6):
            s = ds[k % 3]
            edge, gray = s.edge[0].numpy() > 0, s.gray[0].numpy()
            # shrinking: an edge pixel wherever any marked pixel falls under it
            assert np.all(edge[gray > 0.99]) and not np.any(edge[gray < 1e-3])
    # edge files of another size are resized to the photo first
    small = tmp_path / "edges_small"
    small.mkdir()
    for i in range(3):
        Image.open(edge_dir / f"im{i}.png").resize((120, 100), Image.NEAREST).save(small / f"im{i}.png")
    s = InpaintingDataset(photos, size=32, train=False, edge_mode="external", edge_source=small)[0]
    assert 0 < float(s.edge.mean()) < 1


def test_external_edges_need_a_file_per_photo(photo_dir: Path, tmp_path: Path) -> None:
    edge_dir = tmp_path / "edges"
    edge_dir.mkdir()
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(edge_dir / "p0.png")
    with pytest.raises(ValueError, match="no edge file for 5 photo"):
        InpaintingDataset(photo_dir, edge_mode="external", edge_source=edge_dir)
    with pytest.raises(ValueError, match="edge_source"):
        InpaintingDataset(photo_dir, edge_mode="external")
    with pytest.raises(ValueError, match="edge_source"):
        InpaintingDataset(photo_dir, edge_mode="canny", edge_source=edge_dir)


# ----------------------------------------------------------------------------------------------
# mask modes
# ----------------------------------------------------------------------------------------------
def test_generated_mask_modes(photo_dir: Path) -> None:
    ratio = lambda s: float(s.mask.mean())  # noqa: E731
    for train in (True, False):
        assert ratio(InpaintingDataset(photo_dir, size=S, train=train, mask_mode="block")[0]) == pytest.approx(0.25)
        assert ratio(InpaintingDataset(photo_dir, size=S, train=train, mask_mode="half")[1]) == pytest.approx(0.5)
        ds = InpaintingDataset(photo_dir, size=64, train=train, mask_mode="irregular", hole_range=(0.2, 0.3))
        assert all(0.2 <= ratio(ds[i]) <= 0.3 for i in range(len(ds)))
        assert 0 < ratio(InpaintingDataset(photo_dir, size=64, train=train, mask_mode="free_form")[2]) < 1
    mix = InpaintingDataset(photo_dir, size=S, train=False, mask_mode="mix")
    assert all(0 < ratio(mix[i]) < 1 for i in range(len(mix)))


def test_external_masks(photo_dir: Path, tmp_path: Path) -> None:
    mask_dir = tmp_path / "masks"
    rng = np.random.default_rng(0)
    files = [masks.save_mask(masks.irregular_mask(64, 64, (0.1, 0.3), rng=rng), mask_dir / f"m{i}.png") for i in range(2)]
    ds = InpaintingDataset(photo_dir, size=S, train=False, mask_mode="external", mask_source=mask_dir)
    for i in range(4):  # evaluation: mask file index % number of masks
        assert np.array_equal(ds[i].mask[0].numpy() > 0, masks.load_mask(sorted(files)[i % 2], S))
    train = InpaintingDataset(photo_dir, size=S, train=True, mask_mode="external", mask_source=str(mask_dir / "*.png"))
    ratios = {round(float(train[0].mask.mean()), 4) for _ in range(10)}
    assert ratios <= {round(float(masks.load_mask(f, S).mean()), 4) for f in files}
    with pytest.raises(ValueError, match="mask_source"):
        InpaintingDataset(photo_dir, mask_mode="external")


# ----------------------------------------------------------------------------------------------
# bad arguments
# ----------------------------------------------------------------------------------------------
def test_bad_modes_and_arguments_list_the_choices(photo_dir: Path) -> None:
    with pytest.raises(ValueError, match="edge_mode='sobel'.*'canny'.*'random_sigma'.*'none'.*'external'"):
        InpaintingDataset(photo_dir, edge_mode="sobel")
    with pytest.raises(ValueError, match="mask_mode=3.*'block'.*'irregular'.*'mix'"):
        InpaintingDataset(photo_dir, mask_mode=3)
    with pytest.raises(ValueError, match="on_error"):
        InpaintingDataset(photo_dir, on_error="ignore")
    for bad in [(0.6, 0.1), (0.0, 0.5), (10, 20), (0.1,), "abc", None]:
        with pytest.raises(ValueError, match="hole_range"):
            InpaintingDataset(photo_dir, hole_range=bad)
    for bad in [0, 4, 2.5, "256", True]:
        with pytest.raises(ValueError, match="size"):
            InpaintingDataset(photo_dir, size=bad)
    for bad in [0, -1.0, float("nan")]:
        with pytest.raises(ValueError, match="sigma"):
            InpaintingDataset(photo_dir, sigma=bad)
    assert set(EDGE_MODES) == {"canny", "random_sigma", "none", "external"}
    assert set(MASK_MODES) == {"block", "half", "irregular", "free_form", "external", "mix"}


# ----------------------------------------------------------------------------------------------
# file formats and bad files
# ----------------------------------------------------------------------------------------------
def test_greyscale_rgba_16bit_and_palette_files_are_converted(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rgb = _photo(rng, 64, 64)
    grey = rgb[..., 0]
    Image.fromarray(grey, mode="L").save(tmp_path / "a_grey.png")
    rgba = np.dstack([rgb, np.full((64, 64), 255, np.uint8)])
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "b_rgba.png")
    Image.fromarray((grey.astype(np.uint16) * 257)).save(tmp_path / "c_16bit.png")
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=32).save(tmp_path / "d_palette.png")
    ds = InpaintingDataset(tmp_path, size=64, train=False, mask_mode="block")
    names = [f.name for f in ds.files]
    assert names == ["a_grey.png", "b_rgba.png", "c_16bit.png", "d_palette.png"]
    grey_s, rgba_s, b16_s, pal_s = (ds[i] for i in range(4))
    expected_grey = torch.from_numpy(grey.astype(np.float32) / 255.0)
    for s in (grey_s, b16_s):  # one channel repeated into three, scaled by the dtype's range
        assert torch.allclose(s.image[0], s.image[1]) and torch.allclose(s.image[0], s.image[2])
        assert torch.allclose(s.image[0], expected_grey, atol=1e-4)
    assert torch.allclose(rgba_s.image, torch.from_numpy(rgb.astype(np.float32) / 255.0).permute(2, 0, 1), atol=1e-6)
    assert float((pal_s.image - rgba_s.image).abs().mean()) < 0.05  # 32-colour palette ~ the photo


def test_corrupt_file_raises_naming_it_or_is_skipped_and_counted(photo_dir: Path) -> None:
    bad = photo_dir / "p2.png"
    bad.write_bytes(b"this is not a png")
    ds = InpaintingDataset(photo_dir, size=S, train=False)
    with pytest.raises(ImageReadError, match="p2.png"):
        ds[2]
    skip = InpaintingDataset(photo_dir, size=S, train=False, on_error="skip")
    with pytest.warns(UserWarning, match="skipping unreadable image.*p2.png"):
        s = skip[2]
    # the next photo (index 3) is used instead, with index 2's crop and mask
    assert torch.equal(s.image, skip[3].image)
    assert skip.skipped == [bad]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once per file only
        items = [skip[i] for i in range(len(skip))]
    assert len(items) == 6 and skip.skipped == [bad]


def test_missing_listed_file_is_reported(photo_dir: Path) -> None:
    lst = photo_dir / "list.txt"
    lst.write_text("p0.png\ngone.png\n")
    ds = InpaintingDataset(lst, size=S)
    with pytest.raises(ImageReadError, match="gone.png"):
        ds[1]


def test_all_files_unreadable_in_skip_mode(tmp_path: Path) -> None:
    for i in range(2):
        (tmp_path / f"bad{i}.jpg").write_bytes(b"junk")
    ds = InpaintingDataset(tmp_path, size=S, on_error="skip")
    with pytest.warns(UserWarning), pytest.raises(ImageReadError, match="none of the 2 images"):
        ds[0]


def test_small_image_is_upscaled_with_one_warning(tmp_path: Path) -> None:
    Image.fromarray(_photo(np.random.default_rng(0), 20, 30)).save(tmp_path / "tiny.png")
    ds = InpaintingDataset(tmp_path, size=S, train=True)
    with pytest.warns(UserWarning, match="tiny.png is 30 x 20, smaller than size=48"):
        s = ds[0]
    assert s.image.shape == (3, S, S)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds[0]


def test_many_small_images_give_one_warning_and_are_all_listed(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for k in range(3):
        Image.fromarray(_photo(rng, 20 + k, 30)).save(tmp_path / f"tiny{k}.png")
    ds = InpaintingDataset(tmp_path, size=S, train=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(3):
            ds[i]
    assert len([w for w in caught if "smaller than size" in str(w.message)]) == 1
    assert sorted(p.name for p in ds.small) == ["tiny0.png", "tiny1.png", "tiny2.png"]


# ----------------------------------------------------------------------------------------------
# batching and the course photos
# ----------------------------------------------------------------------------------------------
def test_dataloader_collates_samples(photo_dir: Path) -> None:
    ds = InpaintingDataset(photo_dir, size=S, train=True)
    batch = next(iter(DataLoader(ds, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(0))))
    assert isinstance(batch, Sample)
    assert tuple(batch.image.shape) == (4, 3, S, S)
    assert tuple(batch.mask.shape) == (4, 1, S, S)
    moved = batch.to("cpu")
    assert isinstance(moved, Sample) and moved.edge.device.type == "cpu"


def test_course_photos_load(tmp_path: Path) -> None:
    val = course_images("val")
    ds = InpaintingDataset(val, size=64, train=False)
    assert len(ds) == len(val) >= 4
    s = ds[0]
    assert s.image.shape == (3, 64, 64) and float(s.edge.mean()) > 0.005


# ----------------------------------------------------------------------------------------------
# the scan before training (issue 12)
# ----------------------------------------------------------------------------------------------
def test_preflight_names_every_bad_photo_or_drops_them(photo_dir: Path) -> None:
    from edgeconnect_lib.data import check_image_file, scan_images

    good = sorted(photo_dir.rglob("*.*"))
    (photo_dir / "cut.png").write_bytes((photo_dir / "p0.png").read_bytes()[:100])  # truncated PNG
    jpg = (photo_dir / "sub" / "q0.jpg").read_bytes()
    (photo_dir / "cut.jpg").write_bytes(jpg[: len(jpg) // 2])  # truncated JPEG (header fine)
    (photo_dir / "junk.webp").write_bytes(b"junk")
    Image.fromarray(_photo(np.random.default_rng(1), 6, 30)).save(photo_dir / "thin.png")
    assert all(check_image_file(p, min_side=12) is None for p in good)
    bad = scan_images(sorted(photo_dir.rglob("*.*")), min_side=12)
    assert sorted(b.path.name for b in bad) == ["cut.jpg", "cut.png", "junk.webp", "thin.png"]
    assert "30x6 px" in next(b.reason for b in bad if b.path.name == "thin.png")
    ds = InpaintingDataset(photo_dir, size=S)
    with pytest.raises(ImageReadError, match=r"4 of the 10 photos.*cut\.jpg.*cut\.png.*junk\.webp.*thin\.png"):
        ds.preflight(min_side=12)
    skip = InpaintingDataset(photo_dir, size=S, on_error="skip")
    assert len(skip.preflight(min_side=12)) == 4
    assert len(skip) == 6 and sorted(p.name for p in skip.skipped) == ["cut.jpg", "cut.png", "junk.webp", "thin.png"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing bad is left to meet during training
        [skip[i] for i in range(len(skip))]


def test_crop_fraction_sets_the_scale_of_training_crops_and_is_checked(tmp_path):
    """crop_fraction=(lo, hi): training crops cover lo..hi of the short side; bad values name the parameter."""
    from edgeconnect_lib.config import get_config
    from edgeconnect_lib.data import _crop_box, center_square

    rng = np.random.default_rng(0)
    sides = [_crop_box(300, 400, True, rng, (0.35, 0.65))[2] for _ in range(200)]
    assert 0.35 * 300 - 1 <= min(sides) and max(sides) <= 0.65 * 300 + 1
    assert max(sides) - min(sides) > 50, "the crop size is drawn over the whole range"
    for bad in ((0.0, 0.5), (0.7, 0.5), (0.5, 1.5), "half"):
        with pytest.raises(ValueError, match="crop_fraction"):
            get_config("tiny", crop_fraction=bad)
    photo = np.random.default_rng(1).random((30, 50, 3)).astype(np.float32)
    assert center_square(photo, 30).tolist() == photo[:, 10:40].tolist(), "the centre square, unscaled at its size"
