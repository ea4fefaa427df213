"""edgeconnect_lib.evaluation: the per-bucket comparison of inpainting methods (paper Sec. 4.1, Table 1)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from edgeconnect_lib import evaluation as ev
from edgeconnect_lib.course_data import course_images
from edgeconnect_lib.data import InpaintingDataset
from edgeconnect_lib.masks import HOLE_BUCKETS, hole_ratio
from edgeconnect_lib.models import EdgeConnect
from edgeconnect_lib.networks import EdgeGenerator, InpaintGenerator


def _photo(h: int = 40, w: int = 56, seed: int = 0) -> np.ndarray:
    """A smooth colour image with some structure (gradients and a bar), float32 in [0, 1]."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([xx / w, yy / h, 0.5 + 0.3 * np.sin(xx / 5.0)], axis=-1)
    img[h // 3: h // 3 + 4] = (0.9, 0.2, 0.1)
    rng = np.random.default_rng(seed)
    return np.clip(img + rng.normal(0, 0.01, img.shape), 0, 1).astype(np.float32)


def _block(shape=(32, 32), top=8, left=10, h=10, w=12) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[top: top + h, left: left + w] = True
    return mask


@pytest.fixture(scope="module")
def tiny_set():
    return ev.make_eval_set([_photo(), _photo(48, 36, 1)], size=32, masks_per_bucket=1)


@pytest.fixture(scope="module")
def tiny_pipeline():
    torch.manual_seed(0)
    return EdgeConnect(EdgeGenerator(8, 1), InpaintGenerator(8, 1))


# -- scores ---------------------------------------------------------------------------------------------
def test_known_value_psnr_and_l1_inside_the_hole():
    target = np.zeros((16, 16, 3), np.float32)
    pred = target.copy()
    mask = _block((16, 16), 4, 4, 4, 4)
    pred[mask] = 0.1
    pred[~mask] = 0.7  # errors outside the hole must not count
    assert ev.hole_psnr(pred, target, mask) == pytest.approx(20.0)  # MSE 0.01
    assert ev.hole_l1(pred, target, mask) == pytest.approx(0.1)
    assert ev.hole_psnr(target, target, mask) == math.inf


def test_scores_reject_an_empty_hole():
    img = np.zeros((16, 16, 3), np.float32)
    with pytest.raises(ValueError, match="no hole"):
        ev.score(img, img, np.zeros((16, 16), bool))


def test_ssim_of_an_identical_image_is_one_and_the_box_is_padded():
    img = _photo(32, 32)
    mask = np.zeros((32, 32), bool)
    mask[0, 31] = True  # a one-pixel hole in a corner: the box grows to 7 x 7 inside the image
    rows, cols = ev.hole_bbox(mask)
    assert (rows.stop - rows.start, cols.stop - cols.start) == (7, 7)
    assert rows.start == 0 and cols.stop == 32
    assert ev.hole_bbox_ssim(img, img, mask) == pytest.approx(1.0)
    worse = img.copy()
    worse[rows, cols] = 0.5
    assert ev.hole_bbox_ssim(worse, img, mask) < 0.9


def test_hole_bbox_is_tight_when_big_enough():
    rows, cols = ev.hole_bbox(_block((32, 32), 8, 10, 10, 12))
    assert (rows.start, rows.stop, cols.start, cols.stop) == (8, 18, 10, 22)


# -- evaluation set -------------------------------------------------------------------------------------
def test_make_eval_set_is_deterministic_and_each_mask_in_its_bucket(tiny_set):
    again = ev.make_eval_set([_photo(), _photo(48, 36, 1)], size=32, masks_per_bucket=1)
    assert len(tiny_set) == 2 * len(HOLE_BUCKETS)
    for a, b in zip(tiny_set, again):
        assert (a.name, a.bucket, a.k) == (b.name, b.bucket, b.k)
        np.testing.assert_array_equal(a.mask, b.mask)
        np.testing.assert_array_equal(a.image, b.image)
        lo, hi = a.bucket
        assert lo < hole_ratio(a.mask) <= hi
        assert a.image.shape == (32, 32, 3) and a.image.dtype == np.float32 and a.mask.dtype == bool
    other_seed = ev.make_eval_set([_photo()], size=32, masks_per_bucket=1, seed=1)
    assert not np.array_equal(other_seed[0].mask, tiny_set[0].mask)


def test_masks_follow_the_documented_rng():
    from edgeconnect_lib.masks import irregular_mask

    items = ev.make_eval_set([_photo(), _photo()], size=32, masks_per_bucket=2, seed=3)
    item = items[1 * len(HOLE_BUCKETS) * 2 + 2 * 2 + 1]  # photo 1, bucket 2, k 1
    assert item.bucket == HOLE_BUCKETS[2] and item.k == 1
    expected = irregular_mask(32, 32, HOLE_BUCKETS[2], np.random.default_rng([3, 1, 2, 1]))
    np.testing.assert_array_equal(item.mask, expected)


def test_center_square_matches_the_evaluation_dataset():
    path = course_images("test")[0]
    ds = InpaintingDataset([path], size=48, train=False, mask_mode="block")
    items = ev.make_eval_set([path], size=48, masks_per_bucket=1)
    np.testing.assert_allclose(items[0].image, ds[0].image.permute(1, 2, 0).numpy(), atol=1e-6)
    assert items[0].name == path.name


def test_make_eval_set_rejects_bad_arguments():
    with pytest.raises(ValueError, match="no photos"):
        ev.make_eval_set([])
    with pytest.raises(ValueError, match="masks_per_bucket"):
        ev.make_eval_set([_photo()], size=32, masks_per_bucket=0)


# -- methods --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["telea", "ns", "mean", "ours", "ours_true_edges", "ours_no_edges", "ours_poisson"])
def test_every_method_keeps_the_known_pixels(name, tiny_set, tiny_pipeline):
    method = ev.build_methods([name], tiny_pipeline)[name]
    item = tiny_set[3]
    out = method(item.image, item.mask)
    assert out.shape == item.image.shape and out.dtype == np.float32
    np.testing.assert_array_equal(out[~item.mask], item.image[~item.mask])
    assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


def test_opencv_methods_keep_the_colour_order():
    """A pure red image with a hole stays red (RGB/BGR swapped would give blue)."""
    img = np.zeros((24, 24, 3), np.float32)
    img[..., 0] = 1.0
    mask = _block((24, 24), 8, 8, 6, 6)
    for method in (ev.telea, ev.ns, ev.mean_fill):
        out = method(img, mask)
        np.testing.assert_allclose(out[mask], np.tile([1.0, 0.0, 0.0], (mask.sum(), 1)), atol=1 / 255)


def test_telea_beats_mean_on_a_smooth_image():
    img = _photo(32, 32)
    mask = _block((32, 32), 10, 10, 8, 8)
    assert ev.hole_psnr(ev.telea(img, mask), img, mask) > ev.hole_psnr(ev.mean_fill(img, mask), img, mask)


def test_pipeline_method_edges(tiny_pipeline, monkeypatch):
    seen = {}
    real = tiny_pipeline.inpaint

    def spy(image, mask, edges=None):
        seen["edges"] = edges
        return real(image, mask, edges=edges)

    monkeypatch.setattr(tiny_pipeline, "inpaint", spy)
    img, mask = _photo(32, 32), _block()
    ev.pipeline_method(tiny_pipeline, "predicted")(img, mask)
    assert seen["edges"] is None
    ev.pipeline_method(tiny_pipeline, "none")(img, mask)
    assert not seen["edges"].any()
    ev.pipeline_method(tiny_pipeline, "true")(img, mask)
    assert seen["edges"].shape == (32, 32) and seen["edges"][mask].any()  # edges inside the hole too
    with pytest.raises(ValueError, match="edges="):
        ev.pipeline_method(tiny_pipeline, "canny")


def test_build_methods_errors():
    with pytest.raises(ValueError, match="needs an EdgeConnect"):
        ev.build_methods(["ours"])
    with pytest.raises(ValueError, match="unknown method"):
        ev.build_methods(["deepfill"])


# -- evaluate, summary, tables --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rows(tiny_set):
    return ev.evaluate({"telea": ev.telea, "mean": ev.mean_fill}, tiny_set)


def test_evaluate_rows(rows, tiny_set):
    assert len(rows) == 2 * len(tiny_set)
    assert set(rows[0]) == {"method", "photo", "bucket", "k", "hole_ratio", "psnr", "ssim", "l1"}
    assert rows[0]["bucket"] == "10-20%" and rows[0]["photo"] == "photo0"
    outputs = {}
    again = ev.evaluate({"telea": ev.telea}, tiny_set, outputs)
    assert again == rows[: len(tiny_set)]  # deterministic
    assert len(outputs["telea"]) == len(tiny_set)


def test_summary_markdown_and_csv_shape(rows):
    summary = ev.summarize(rows)
    assert len(summary) == 2 * (len(HOLE_BUCKETS) + 1)
    assert [s["bucket"] for s in summary[:6]] == [ev.bucket_label(b) for b in HOLE_BUCKETS] + ["all"]
    assert summary[5]["n"] == len(rows) // 2
    telea_all = [r["psnr"] for r in rows if r["method"] == "telea"]
    assert summary[5]["psnr"] == pytest.approx(np.mean(telea_all))
    md = ev.to_markdown(summary).splitlines()
    assert len(md) == 2 + len(HOLE_BUCKETS) + 1
    assert md[0].count("|") == 2 + 2 * 3 + 1 and "PSNR (dB) telea" in md[0] and "L1 mean" in md[0]
    assert md[-1].startswith("| all | 10 |")
    lines = ev.to_csv(summary).strip().splitlines()
    assert lines[0] == "method,bucket,n,psnr,ssim,l1" and len(lines) == 1 + len(summary)
    assert lines[1].startswith("telea,10-20%,2,")


def test_wins():
    summary = [
        {"method": "ours", "bucket": "10-20%", "n": 1, "psnr": 25.0, "ssim": 0.80, "l1": 0.1},
        {"method": "telea", "bucket": "10-20%", "n": 1, "psnr": 24.0, "ssim": 0.90, "l1": 0.1},
        {"method": "ours", "bucket": "all", "n": 1, "psnr": 20.0, "ssim": 0.95, "l1": 0.1},
        {"method": "telea", "bucket": "all", "n": 1, "psnr": 21.0, "ssim": 0.90, "l1": 0.1},
    ]
    assert ev.wins(summary) == {"10-20%": {"psnr": True, "ssim": False}, "all": {"psnr": False, "ssim": True}}
    assert "PSNR better in 1/1" in ev.verdict(summary)
    with pytest.raises(ValueError, match="no method 'ns'"):
        ev.wins(summary, baseline="ns")


# -- FID ------------------------------------------------------------------------------------------------
def test_frechet_distance_of_known_gaussians():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 4))
    cov = np.cov(a, rowvar=False)
    assert ev.frechet_distance(a.mean(0), cov, a.mean(0), cov) == pytest.approx(0.0, abs=1e-6)
    # 1-D: (mu1 - mu2)^2 + (s1 - s2)^2
    assert ev.frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([3.0]), np.array([[9.0]])) \
        == pytest.approx(4.0 + 1.0)
    # diagonal 2-D: sum over dimensions
    d = ev.frechet_distance(np.zeros(2), np.diag([1.0, 4.0]), np.ones(2), np.diag([4.0, 16.0]))
    assert d == pytest.approx(2.0 + 1.0 + 4.0)
    with pytest.raises(ValueError, match="shapes"):
        ev.frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(3))


def test_fid_is_skipped_without_an_inception_file(monkeypatch, tmp_path):
    monkeypatch.delenv(ev.INCEPTION_ENV, raising=False)
    images = [_photo(32, 32)] * 3
    assert ev.fid(images, images) == ev.FIDResult(None, ev.FID_SKIPPED)
    assert ev.FID_SKIPPED == "skipped: no Inception file (set EDGECONNECT_INCEPTION=...)"
    monkeypatch.setenv(ev.INCEPTION_ENV, str(tmp_path / "missing.pt"))
    result = ev.fid(images, images)
    assert result.value is None and result.label.startswith("skipped: no Inception file at")


class _TinyInception(torch.nn.Module):
    """The call signature of NVIDIA's TorchScript Inception: uint8 NCHW in, features out."""

    def forward(self, x: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        assert x.dtype == torch.uint8 and x.shape[2] == 299 and x.shape[3] == 299
        f = x.float() / 255.0
        feats = torch.cat([f.mean(dim=(2, 3)), f.std(dim=(2, 3))], dim=1)
        return feats if return_features else feats.sum(dim=1, keepdim=True)


def test_inception_loader_and_fid_with_a_tiny_scripted_module(tmp_path, monkeypatch):
    path = tmp_path / "inception-2015-12-05.pt"
    with warnings.catch_warnings():  # torch.jit is deprecated, but NVIDIA's Inception file is TorchScript
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(_TinyInception()).save(str(path))
    model = ev.load_inception(path)
    images = [_photo(32, 32, s) for s in range(4)]
    feats = ev.inception_features(model, images, batch_size=3)
    assert feats.shape == (4, 6)
    monkeypatch.setenv(ev.INCEPTION_ENV, str(path))
    same = ev.fid(images, images)
    assert same.value == pytest.approx(0.0, abs=1e-6) and same.label == f"{same.value:.2f}"
    dark = [im * 0.3 for im in images]
    assert ev.fid(images, dark, inception_path=path).value > 0.01
    with pytest.raises(FileNotFoundError):
        ev.load_inception(tmp_path / "none.pt")


# -- command line ---------------------------------------------------------------------------------------
def test_main_prints_a_table_on_the_course_test_photos(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv(ev.INCEPTION_ENV, raising=False)
    out = tmp_path / "table.md"
    assert ev.main(["--photos", "test", "--size", "64", "--masks-per-bucket", "1",
                    "--methods", "telea,mean", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].startswith("| hole ratio | n | PSNR (dB) telea | PSNR (dB) mean |")
    assert lines[2].startswith("| 10-20% | 6 |") and lines[7].startswith("| all | 30 |")
    assert ev.FID_SKIPPED in text
    assert out.read_text() == text


def test_main_csv_with_the_pipeline(capsys, tmp_path, tiny_pipeline):
    ckpt = tiny_pipeline.save(tmp_path / "tiny.pt")
    photos = tmp_path / "photos"
    photos.mkdir()
    from PIL import Image

    Image.fromarray((_photo(40, 40) * 255).astype(np.uint8)).save(photos / "a.png")
    assert ev.main(["--photos", str(photos), "--checkpoint", str(ckpt), "--size", "32",
                    "--masks-per-bucket", "1", "--methods", "ours,ours_true_edges,ns", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "method,bucket,n,psnr,ssim,l1,edge_f1"
    assert len(lines) == 1 + 5 * (len(HOLE_BUCKETS) + 1)  # with "ours": G1's edge map and Canny of Telea's too
    assert {line.split(",")[0] for line in lines[1:]} == {"ours", "ours_true_edges", "ns", "g1", "telea_canny"}
    g1 = [line.split(",") for line in lines[1:] if line.startswith("g1,")]
    assert all(cells[3:6] == ["", "", ""] and 0 <= float(cells[6]) <= 1 for cells in g1)  # edge F1 only


def test_report_says_the_better_classical_fill_and_the_true_edges_gain(capsys, tmp_path, tiny_pipeline):
    """The markdown report prints issue 18's two criteria: ours against the better of Telea and NS per bucket and
    measure, and the true edges against none over the 20-60% holes, each with its interval."""
    ckpt = tiny_pipeline.save(tmp_path / "tiny.pt")
    photos = tmp_path / "photos"
    photos.mkdir()
    from PIL import Image

    Image.fromarray((_photo(40, 40) * 255).astype(np.uint8)).save(photos / "a.png")
    assert ev.main(["--photos", str(photos), "--checkpoint", str(ckpt), "--size", "32", "--masks-per-bucket", "2",
                    "--methods", "ours,ours_true_edges,ours_no_edges,telea,ns"]) == 0
    text = capsys.readouterr().out
    best = text.split("Against the better classical fill in each bucket")[1]
    for title in ("PSNR (dB)", "SSIM", "edge F1"):
        line = next(x for x in best.splitlines() if x.startswith(f"ours - better of telea / ns, {title}: "))
        assert line.count("95% CI") == len(HOLE_BUCKETS) + 1 and ("(telea)" in line or "(ns)" in line)
    assert "true edges against no edges, the 20-60% holes pooled: " in text


def test_true_edges_gain_pools_the_20_to_60_percent_holes():
    rows = [{"method": m, "photo": "p", "bucket": b, "k": k, "psnr": v + (2.0 if b == "10-20%" else 0.0)}
            for b in ("10-20%", "20-30%", "50-60%") for k in range(6)
            for m, v in (("ours_true_edges", 21.0 + 0.1 * k), ("ours_no_edges", 20.0 + 0.1 * k))]
    c = ev.true_edges_gain(rows)
    assert c.n == 12 and c.mean == pytest.approx(1.0) and c.verdict == "better"  # 10-20% is left out
    with pytest.raises(ValueError, match="no rows"):
        ev.true_edges_gain([r for r in rows if r["bucket"] == "10-20%"])


@pytest.mark.parametrize("argv, message", [
    (["--methods", "telea,deepfill"], "unknown deepfill"),
    (["--methods", ","], "--methods is empty"),
    (["--photos", "/no/such/folder", "--methods", "telea"], "no such folder"),
    (["--photos", "train", "--methods", "telea"], "not an evaluation set"),
    (["--size", "30", "--methods", "telea"], "multiple of 4"),
    (["--masks-per-bucket", "0", "--methods", "telea"], "--masks-per-bucket"),
    (["--checkpoint", "/no/such.pt", "--methods", "ours", "--size", "32"], "--checkpoint"),
])
def test_main_bad_arguments_give_one_line(argv, message, capsys):
    assert ev.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and message in err[-1]


def test_add_arguments_attaches_as_a_subcommand():
    import argparse

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    ev.add_arguments(sub.add_parser("evaluate"))
    args = parser.parse_args(["evaluate", "--photos", "heldout", "--format", "csv"])
    assert (args.photos, args.format, args.size, args.masks_per_bucket) == ("heldout", "csv", 256, 2)
    assert callable(ev.run)


def test_edge_distance_and_distance_profile_locate_the_error():
    from edgeconnect_lib.evaluation import EvalItem, distance_profile, edge_distance

    mask = np.zeros((20, 20), bool)
    mask[4:16, 4:16] = True
    dist = edge_distance(mask)
    assert dist[4, 10] == 1 and dist[~mask].max() == 0 and dist.max() == 6
    image = np.full((20, 20, 3), 0.5, np.float32)
    item = EvalItem("flat", (0.1, 0.2), image, mask)
    seam_wrong = image.copy()
    seam_wrong[(np.rint(dist) >= 1) & (np.rint(dist) <= 2)] = 0.6  # wrong by 0.1 next to the edge only
    rows = distance_profile({"seam": [seam_wrong], "exact": [image]}, [item], rings=((1, 2), (3, None)))
    got = {(r["method"], r["ring"]): r["psnr"] for r in rows}
    assert got[("seam", "1-2 px")] == pytest.approx(20.0)
    assert got[("seam", "3+ px")] == math.inf and got[("exact", "1-2 px")] == math.inf
    with pytest.raises(ValueError, match="no known pixel"):
        edge_distance(np.ones((4, 4), bool))
    with pytest.raises(ValueError, match="2 outputs for 1 items"):
        distance_profile({"x": [image, image]}, [item])


# ------------------------------------------------------------------------------------------------------------
# In-hole edge F1 and the bootstrap comparisons of the command line
# ------------------------------------------------------------------------------------------------------------
def _striped(size: int = 64, period: int = 16) -> np.ndarray:
    x = np.zeros((size, size, 3), np.float32)
    for start in range(0, size, period):
        x[:, start:start + period // 2] = 1.0  # vertical bars: strong vertical edges
    return x


def test_hole_edge_f1_known_cases():
    from edgeconnect_lib.evaluation import hole_edge_f1

    photo = _striped()
    hole = np.zeros((64, 64), bool)
    hole[16:48, 16:48] = True
    assert hole_edge_f1(photo, photo, hole) == 1.0  # the photo itself
    flat = photo.copy()
    flat[hole] = 0.5  # a smooth fill: no line is drawn inside (only the hole's outline, a seam, has edges)
    assert hole_edge_f1(flat, photo, hole) < 0.5
    shifted = np.roll(photo, 1, axis=1)  # every line 1 px off: within the tolerance
    assert hole_edge_f1(shifted, photo, hole) > 0.9
    far = np.roll(photo, 4, axis=1)  # 4 px off: not the same lines
    assert hole_edge_f1(far, photo, hole) < 0.2
    grey = np.full_like(photo, 0.3)
    assert hole_edge_f1(grey, grey, hole) == 1.0  # nothing to draw, nothing drawn


def test_cli_table_has_edge_f1_and_bootstrap_intervals(capsys):
    from edgeconnect_lib.evaluation import comparison_lines, evaluate, make_eval_set, summarize, telea, ns, mean_fill, to_markdown

    items = make_eval_set(course_images("test")[:3], size=64, masks_per_bucket=1)
    rows = evaluate({"telea": telea, "ns": ns, "mean": mean_fill}, items, edge_f1=True)
    assert all(0.0 <= r["edge_f1"] <= 1.0 for r in rows)
    table = to_markdown(summarize(rows))
    assert "edge F1 telea" in table
    text = comparison_lines(rows, [("telea", "mean")])
    assert text.count("\n") == 3  # one line per metric: PSNR, SSIM, L1, edge F1
    assert "telea - mean, PSNR (dB): 10-20% " in text and "95% CI" in text
    assert any(v in text for v in ("-> better", "-> worse", "-> no clear difference"))
    # a bucket of one sample has no interval: said, not an error
    one = evaluate({"telea": telea, "mean": mean_fill}, items[:5])
    assert "no intervals" in comparison_lines(one, [("telea", "mean")])


def test_edge_map_f1_known_cases():
    from edgeconnect_lib.metrics import edge_map_f1

    truth = np.zeros((32, 32), bool)
    truth[:, 10] = True  # one vertical line
    hole = np.zeros((32, 32), bool)
    hole[8:24, 4:20] = True
    none = np.zeros_like(truth)
    assert edge_map_f1(truth, truth, hole) == 1.0
    assert edge_map_f1(np.roll(truth, 1, axis=1), truth, hole) == 1.0  # 1 px off: within the tolerance
    assert edge_map_f1(np.roll(truth, 3, axis=1), truth, hole) == 0.0  # 3 px off: another line
    assert edge_map_f1(none, truth, hole) == 0.0 and edge_map_f1(truth, none, hole) == 0.0
    assert edge_map_f1(none, none, hole) == 1.0  # nothing to draw, nothing drawn
    half = truth.copy()
    half[16:] = False  # the top half of the line: precision 1; 9 of the 16 hole pixels of the line lie within 1 px
    assert edge_map_f1(half, truth, hole) == pytest.approx(2 * (9 / 16) / (1 + 9 / 16))
    outside = np.roll(truth, 12, axis=1)  # column 22: a wrong line, but outside the hole, so not scored
    assert edge_map_f1(truth | outside, truth, hole) == 1.0
    with pytest.raises(ValueError, match="no hole"):
        edge_map_f1(truth, truth, np.zeros_like(hole))


def test_compare_with_best_takes_the_better_baseline_in_each_bucket():
    from edgeconnect_lib.evaluation import compare_with_best

    rng = np.random.default_rng(0)
    rows = []
    for bucket, (telea, ns) in {"10-20%": (20.0, 21.0), "20-30%": (19.0, 18.0)}.items():
        for k in range(12):
            noise = rng.normal(0, 0.01)
            for method, value in (("ours", 20.5 + noise), ("telea", telea), ("ns", ns)):
                rows.append({"method": method, "photo": "p", "bucket": bucket, "k": k, "psnr": value,
                             "l1": 1.0 / value})
    found = compare_with_best(rows, "ours", ("telea", "ns"), "psnr")
    assert found["10-20%"][0] == "ns" and found["10-20%"][1].verdict == "worse"  # NS is the better one there
    assert found["20-30%"][0] == "telea" and found["20-30%"][1].verdict == "better"
    assert set(found) == {"10-20%", "20-30%", "all"}
    low = compare_with_best(rows, "ours", ("telea", "ns"), "l1")  # lower is better: the best has the lowest L1
    assert low["10-20%"][0] == "ns" and low["10-20%"][1].verdict == "worse"
    with pytest.raises(ValueError, match="unknown metric"):
        compare_with_best(rows, metric="fid")


def test_line_coverage_known_cases():
    """Lesson 10's measure: a fill with a step along the drawn line covers it; a flat fill does not; 3 px off does
    not count, 2 px does."""
    from edgeconnect_lib.metrics import line_coverage

    line = np.zeros((48, 48), bool)
    line[8:40, 24] = True  # a vertical line drawn in the hole
    step = np.zeros((48, 48, 3), np.float32)
    step[:, 24:] = 1.0  # a fill with a vertical edge there
    assert line_coverage(step, line) == 1.0
    assert line_coverage(np.full((48, 48, 3), 0.5, np.float32), line) == 0.0
    assert line_coverage(np.roll(step, 2, axis=1), line) == 1.0  # 2 px off: within the tolerance
    assert line_coverage(np.roll(step, 5, axis=1), line) == 0.0  # 5 px off: another line
    half = np.full((48, 48, 3), 0.5, np.float32)
    half[:24, 24:] = 1.0  # the edge runs along the top half of the line only
    assert 0.4 < line_coverage(half, line) < 0.7
    with pytest.raises(ValueError, match="no pixel"):
        line_coverage(step, np.zeros_like(line))


def test_score_edge_maps_scores_g1_and_canny_of_telea(tiny_set, tiny_pipeline, monkeypatch):
    from edgeconnect_lib.edges import canny_edges

    rows = ev.score_edge_maps(tiny_pipeline, tiny_set)
    assert [r["method"] for r in rows] == ["g1", "telea_canny"] * len(tiny_set)
    assert all(set(r) == {"method", "photo", "bucket", "k", "hole_ratio", "edge_f1"} for r in rows)
    # Canny of Telea's fill scores what evaluate's edge F1 gives the Telea method itself
    telea_rows = [r for r in rows if r["method"] == "telea_canny"]
    for r, item in zip(telea_rows, tiny_set):
        assert r["edge_f1"] == pytest.approx(ev.hole_edge_f1(ev.telea(item.image, item.mask), item.image, item.mask))
    # a G1 that draws exactly the photo's edges scores 1 in every hole
    monkeypatch.setattr(tiny_pipeline, "predict_edges", lambda gray, canny, masks: torch.from_numpy(
        canny_edges(gray[0, 0].numpy(), sigma=tiny_pipeline.sigma).astype(np.float32))[None, None])
    perfect = ev.score_edge_maps(tiny_pipeline, tiny_set)
    assert all(r["edge_f1"] == 1.0 for r in perfect if r["method"] == "g1")
    summary = ev.summarize(rows)
    assert {s["method"] for s in summary} == {"g1", "telea_canny"} and all(set(s) == {"method", "bucket", "n", "edge_f1"}
                                                                             for s in summary)
