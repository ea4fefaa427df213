"""GPNN (Granot et al., CVPR 2022), the classical anchor beside InGAN: sizes, the photo back at its own size,
more coherent than bicubic on a photo of repeated elements, deterministic; its pieces; ``ingan retarget
--method gpnn``."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from edgeconnect_lib.__main__ import main
from edgeconnect_lib.course_data import data_dir
from edgeconnect_lib.ingan import bicubic_retarget, coherence, completeness, gpnn_retarget, prepare_image
from edgeconnect_lib.ingan.gpnn import (
    coarse_to_fine_field,
    count_levels,
    fold,
    local_normalised_nearest,
    normalised_nearest,
    unfold,
)

CUPS = data_dir() / "images" / "plasma_colorful_cups.jpg"


@pytest.fixture(scope="module")
def cups() -> np.ndarray:
    """The cups photo (many cups of one size) at 64 px on its longer side, 40x64, as the shipped InGAN's."""
    return prepare_image(CUPS, 64)


@pytest.mark.parametrize("size", [(40, 128), (80, 64), (40, 32), (23, 97), (9, 9)])
def test_output_has_the_size_asked_and_is_an_image(cups, size):
    out = gpnn_retarget(cups, size)
    assert out.shape == (*size, 3) and out.dtype == np.float32
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0


def test_the_photo_comes_back_at_its_own_size(cups):
    out = gpnn_retarget(cups, cups.shape[:2])
    assert np.abs(out - cups).mean() < 0.01


def test_two_x_wider_is_more_coherent_than_bicubic_and_deterministic(cups):
    size = (cups.shape[0], 2 * cups.shape[1])
    out = gpnn_retarget(cups, size, seed=1)
    bicubic = bicubic_retarget(cups, size)
    ours, theirs = coherence(out, cups), coherence(bicubic, cups)
    assert ours < 0.7 * theirs, (ours, theirs)
    assert completeness(out, cups) < completeness(bicubic, cups)
    assert np.array_equal(out, gpnn_retarget(cups, size, seed=1))
    assert not np.array_equal(out, gpnn_retarget(cups, size, seed=2))


def test_the_local_search_keeps_the_photo_and_the_gain(cups):
    """Levels past ``global_pairs`` search a window around the coarser match (the shortcut for large photos)."""
    size = (cups.shape[0], 2 * cups.shape[1])
    out = gpnn_retarget(cups, size, global_pairs=10**5)
    assert coherence(out, cups) < 0.7 * coherence(bicubic_retarget(cups, size), cups)
    assert np.abs(gpnn_retarget(cups, cups.shape[:2], global_pairs=10**5) - cups).mean() < 0.01


def test_unfold_and_fold_give_the_image_back():
    x = torch.rand(3, 12, 17)
    assert torch.allclose(fold(unfold(x, 7), (12, 17), 7), x, atol=1e-6)
    assert unfold(x, 7).shape == (6 * 11, 147)


def test_the_normalisation_spreads_queries_over_the_keys():
    """Two queries near key 0 and far from key 1: plain nearest neighbours take key 0 twice; with the
    completeness normalisation (Eq. 2) the query less close to key 0 goes to key 1, which no one else uses."""
    keys = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    queries = torch.tensor([[0.0, 0.0], [0.3, 0.0]])
    assert normalised_nearest(queries, keys, alpha=1e9).tolist() == [0, 0]       # alpha -> inf: plain NN
    assert normalised_nearest(queries, keys, alpha=1e-3).tolist() == [0, 1]


def test_local_search_matches_the_global_one_inside_the_window():
    torch.manual_seed(0)
    key_image = torch.rand(3, 20, 20)
    keys = unfold(key_image, 7)                                                   # 14 x 14 key grid
    queries = keys[[30, 100, 150]] + 0.01 * torch.randn(3, 147)
    field = torch.tensor([[[2, 2], [7, 2], [10, 10]]])                           # (1, 3, 2), windows hold the keys
    local = local_normalised_nearest(queries, key_image, field, patch=7, radius=3, alpha=1e9)
    assert local.tolist() == [30, 100, 150]
    assert normalised_nearest(queries, keys, alpha=1e9).tolist() == [30, 100, 150]


def test_the_coarse_match_lands_near_the_fine_one():
    """A coarse level matching every query to itself (the identity) gives each fine query its own position."""
    coarse_q, coarse_k, fine_q = (10, 20), (10, 20), (14, 28)
    identity = torch.arange(coarse_q[0] * coarse_q[1])
    field = coarse_to_fine_field(identity, coarse_q, coarse_k, fine_q, 7, 0.75)
    ys, xs = torch.meshgrid(torch.arange(14), torch.arange(28), indexing="ij")
    assert (field[..., 0] - ys).abs().max() <= 1 and (field[..., 1] - xs).abs().max() <= 1


def test_levels_stop_at_the_coarsest_side_and_the_patch():
    assert count_levels((40, 64), (40, 128), ratio=0.75, coarsest=21) == 3         # 40, 30, 22.5
    assert count_levels((256, 256), (7, 7)) == 1                                   # the output is one patch
    assert count_levels((256, 256), (9, 9)) == 3                                   # 9, 8, 7 px: still a patch
    assert count_levels((10, 10), (10, 10), coarsest=14) == 1


@pytest.mark.parametrize("kw, words", [(dict(size=(40, 1000)), "more than 8x"), (dict(size=(5, 40)), "at least 8"),
                                       (dict(size=(40, 64), ratio=1.5), "ratio")])
def test_bad_settings_are_refused(cups, kw, words):
    with pytest.raises(ValueError, match=words):
        gpnn_retarget(cups, **kw)


def test_cli_gpnn_writes_the_file_and_refuses_to_overwrite_the_photo(tmp_path, capsys):
    photo = tmp_path / "cups.png"
    Image.open(CUPS).convert("RGB").resize((64, 40)).save(photo)
    out = tmp_path / "wide.png"
    assert main(["ingan", "retarget", "--method", "gpnn", "--image", str(photo), "--size", "40x128", "--out", str(out),
                 "--bicubic", str(tmp_path / "b.png"), "--similarity"]) == 0
    assert Image.open(out).size == (128, 40) and Image.open(tmp_path / "b.png").size == (128, 40)
    text = capsys.readouterr().out
    assert "GPNN" in text and "coherence" in text

    before = photo.read_bytes()
    for argv, words in [
        (["--method", "gpnn", "--image", str(photo), "--size", "40x128", "--out", str(photo)],
         "is the input file of --image"),
        (["--method", "gpnn", "--image", str(tmp_path / ".." / tmp_path.name / "cups.png"), "--size", "40x128",
          "--out", str(photo)], "is the input file of --image"),
        (["--method", "gpnn", "--size", "40x128", "--out", str(out)], "needs --image"),
        (["--method", "gpnn", "--image", str(photo), "--homography", *"1 0 0 0 1 0 0 0 1".split(), "--out", str(out)],
         "--method ingan only"),
        (["--size", "40x128", "--out", str(out)], "needs --checkpoint"),
    ]:
        code = main(["ingan", "retarget", *argv])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and words in err[0], (argv, err)
    assert photo.read_bytes() == before
