"""InGAN (lesson 11): output geometry, the transform layer, losses, training/resume, the patch distance, the CLI."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from edgeconnect_lib.__main__ import main
from edgeconnect_lib.checkpoints import list_checkpoints, load_checkpoint
from edgeconnect_lib.course_data import data_dir
from edgeconnect_lib.ingan import (
    INGAN_FORMAT,
    GeometricTransform,
    InGAN,
    InGANGenerator,
    InGANTrainer,
    MultiScaleDiscriminator,
    as_homography,
    bicubic_retarget,
    bicubic_warp,
    check_output_size,
    get_ingan_config,
    homography_from_corners,
    parse_size,
    patch_distance,
    prepare_image,
    scale_weights,
    valid_region,
)

REPO = Path(__file__).resolve().parents[1]
PHOTO = data_dir() / "images" / "plasma_colorful_cups.jpg"


@pytest.fixture(scope="module")
def square_photo() -> np.ndarray:
    """A real 32x32 photo: the centre square of the cups photo."""
    img = np.asarray(Image.open(PHOTO).convert("RGB"), dtype=np.float32) / 255.0
    h, w = img.shape[:2]
    s = min(h, w)
    return prepare_image(img[(h - s) // 2:(h + s) // 2, (w - s) // 2:(w + s) // 2], 32)


def _tiny(**kw):
    return get_ingan_config("tiny", progress=False, device="cpu", **kw)


# ---------------------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(32, 32), (17, 33), (40, 128), (9, 8), (64, 31), (31, 13)])
def test_generator_paints_any_output_size(size):
    torch.manual_seed(0)
    G = InGANGenerator(base_channels=4, downsamples=3, residual_blocks=1)
    x = torch.rand(1, 3, 32, 24) * 2 - 1
    if min(size) < 9:  # 3 halvings leave a 1 px map
        with pytest.raises(ValueError, match="halves the image 3 times, so every side must be at least 9 px"):
            G(x, size)
        G = InGANGenerator(base_channels=4, downsamples=2, residual_blocks=1)
    y = G(x, size)
    assert y.shape == (1, 3, *size)
    assert y.abs().max() <= 1.0  # tanh


def test_homography_output_and_identity_equals_resize():
    torch.manual_seed(0)
    G = InGANGenerator(base_channels=4, downsamples=2, residual_blocks=1).eval()
    x = torch.rand(1, 3, 20, 30) * 2 - 1
    keystone = homography_from_corners([[-0.7, -1], [0.7, -1], [1, 1], [-1, 1]])
    y = G(x, (25, 41), keystone)
    assert y.shape == (1, 3, 25, 41)
    with torch.no_grad():
        # H = I through grid_sample samples exactly where a bilinear resize does
        a, b = G(x, (27, 45), torch.eye(3, dtype=torch.float64)), G(x, (27, 45))
    assert torch.allclose(a, b, atol=1e-5)
    assert not torch.allclose(G(x, (25, 41)), y, atol=1e-3)  # the warp does change the picture


def test_transform_layer_moves_content_as_the_homography_says():
    """H maps input -> output: a shift of +4 px (normalised 8/W) moves column c to column c + 4."""
    f = torch.rand(1, 2, 10, 16)
    shift = torch.tensor([[1, 0, 8 / 16], [0, 1, 0], [0, 0, 1]], dtype=torch.float64)
    out = GeometricTransform()(f, (10, 16), shift)
    assert torch.allclose(out[..., 4:], f[..., :-4], atol=1e-5)
    # zoom by 2 about the centre: the output's centre 2x2 block is the input's centre pixel area
    zoom = GeometricTransform()(f, (10, 16), torch.diag(torch.tensor([2.0, 2.0, 1.0], dtype=torch.float64)))
    assert torch.allclose(zoom[..., 4:6, 6:10].mean(), f[..., 4:6, 6:10].mean(), atol=0.2)
    # the cycle mask: a zoom by 2 keeps only the input's central half in frame
    keep = valid_region(torch.diag(torch.tensor([2.0, 2.0, 1.0], dtype=torch.float64)), 8, 8, torch.device("cpu"))
    assert keep.sum() == 16 and keep[0, 0, 2:6, 2:6].all()


def test_homography_from_corners_and_bicubic_warp():
    corners = [[-0.8, -1.0], [0.9, -0.9], [1.0, 1.0], [-1.0, 0.8]]
    h = homography_from_corners(corners)
    src = torch.tensor([[-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]], dtype=torch.float64)
    p = src @ h.T
    assert torch.allclose(p[:, :2] / p[:, 2:], torch.tensor(corners, dtype=torch.float64), atol=1e-9)
    img = np.random.default_rng(0).random((20, 30, 3)).astype(np.float32)
    assert np.abs(bicubic_warp(img, np.eye(3)) - img).max() < 1e-4
    assert bicubic_retarget(img, (21, 61)).shape == (21, 61, 3)
    with pytest.raises(ValueError, match="singular"):
        as_homography([1, 0, 0, 0, 0, 0, 0, 0, 1])
    with pytest.raises(ValueError, match="9 numbers"):
        as_homography([1, 0, 0])


@pytest.mark.parametrize("size, words", [
    ((0, 10), "height must be positive"), ((10, -3), "width must be positive"), ((4, 10), "at least 8"),
    ((10, 5000), "above 4096"), ((10.5, 10), "whole number"), ((10,), "height, width"),
])
def test_bad_sizes_are_clear_errors(size, words):
    with pytest.raises(ValueError, match=words) as err:
        check_output_size(size, name="size")
    assert "size=" in str(err.value) or "size " in str(err.value)


def test_sizes_beyond_8x_the_input_and_bad_settings_are_refused(square_photo):
    G = InGANGenerator(base_channels=4, downsamples=1, residual_blocks=1)
    model = InGAN(G, square_photo)
    with pytest.raises(ValueError, match=r"more than 8x the input's 32 px: give at most 256"):
        model.retarget((32, 300))
    assert parse_size("17x45") == (17, 45)
    for text in ("17", "axb", "1x2x3"):
        with pytest.raises(ValueError, match="--size"):
            parse_size(text)
    with pytest.raises(ValueError, match="image_size"):
        get_ingan_config("cpu", image_size=0)
    with pytest.raises(ValueError, match="min_scale"):
        get_ingan_config("cpu", min_scale=1.5)
    with pytest.raises(ValueError, match="unknown InGAN setting"):
        get_ingan_config("cpu", colour="red")
    with pytest.raises(ValueError, match="preset"):
        get_ingan_config("huge")


def test_discriminator_levels_and_scale_weights():
    D = MultiScaleDiscriminator((40, 64), channels=4, scale_factor=1.4, min_size=13, max_output_scale=2.0)
    assert len(D.levels) == 6  # 80 px / 1.4^5 >= 13
    maps = D(torch.rand(1, 3, 40, 64))
    assert len(maps) == D.num_scales((40, 64)) == 4  # 40 / 1.4^3 = 14.6 >= 13 > 40 / 1.4^4
    assert [m.shape[-1] for m in maps] == sorted((m.shape[-1] for m in maps), reverse=True)
    early, late = scale_weights(4, 0, 100), scale_weights(4, 100, 100)
    assert torch.isclose(early.sum(), torch.tensor(1.0)) and early[-1] > early[0]  # coarse first
    assert torch.allclose(late, torch.full((4,), 0.25))


def test_the_shallow_discriminator_scores_7px_patches_and_a_run_cannot_switch_it_on_resume(tmp_path, square_photo):
    """``disc_kind="shallow"``: three unpadded 3x3 convs per scale, so each score sees a 7x7 patch (a pixel
    reaches the 7x7 scores around it, no other) and the map is 6 px smaller."""
    torch.manual_seed(0)
    D = MultiScaleDiscriminator((40, 64), channels=4, kind="shallow").eval()  # eval: spectral norm frozen
    x = torch.rand(1, 3, 40, 64)
    score = D(x)[0]
    assert score.shape[-2:] == (34, 58) and D.config["kind"] == "shallow"
    y = x.clone()
    y[..., 20, 30] += 1.0                        # one pixel: it reaches the 7x7 scores whose patches hold it
    changed = (D(y)[0] - score).abs()[0, 0] > 0
    rows, cols = torch.nonzero(changed, as_tuple=True)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (14, 20, 24, 30) and changed.sum() == 49
    assert get_ingan_config().disc_kind == "course"
    with pytest.raises(ValueError, match="disc_kind"):
        get_ingan_config(disc_kind="patchgan")
    InGANTrainer(_tiny(iterations=10, save_every=10), square_photo, tmp_path / "run", verbose=False).fit()
    with pytest.raises(ValueError, match="disc_kind course -> shallow"):
        InGANTrainer(_tiny(iterations=20, save_every=10, disc_kind="shallow"), None, tmp_path / "run",
                     resume=True, verbose=False)


# ---------------------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------------------
def test_identity_transform_reproduces_the_photo_after_training(square_photo):
    trainer = InGANTrainer(_tiny(iterations=120, lambda_identity=1.0), square_photo, verbose=False)
    before = InGAN(trainer.G, trainer.image).reconstruction_error()
    result = trainer.fit()
    after = result.model.reconstruction_error()
    assert result.iteration == 120 and len(result.history) == 120 // 5
    assert after < 0.5 * before, (before, after)
    assert after < 0.1
    assert {"loss_G_adv", "loss_G_cycle", "loss_G_identity", "loss_D"} <= set(result.history[-1])


def test_stretch_negatives_teach_the_discriminator_that_a_stretch_is_fake(square_photo):
    """``stretch_negatives`` (not in the paper): D scores the photo resized to the drawn size as fake; the
    term is skipped for near-identity sizes and homographies, and logged. Whether it keeps elements' size is
    measured by benchmarks/ingan_table.py, not here."""
    trainer = InGANTrainer(_tiny(stretch_negatives=1.0, curriculum_iterations=0), square_photo, verbose=False)
    plain = InGANTrainer(_tiny(curriculum_iterations=0), square_photo, verbose=False)
    # the first D step: the same photo, G, D and draws with and without the term; loss_D differs by w * term / 2
    with_term, without = trainer.step(), plain.step()
    assert with_term["loss_D_stretch"] > 0 and "loss_D_stretch" not in without
    assert with_term["loss_D"] - without["loss_D"] == pytest.approx(with_term["loss_D_stretch"] / 2, rel=1e-4)
    assert with_term["loss_D_real"] == without["loss_D_real"]
    x = torch.from_numpy(square_photo).permute(2, 0, 1)[None] * 2 - 1
    noise = lambda t: torch.zeros_like(t)  # noqa: E731
    weights = scale_weights(trainer.D.num_scales((32, 64)), 0, 1)
    assert trainer._stretch_negative_loss(x, (32, 33), None, weights, noise) is None     # within 5%: the photo
    h = homography_from_corners([[-1, -1], [1, -1.1], [1, 1.1], [-1, 1]])
    assert trainer._stretch_negative_loss(x, (32, 64), h, weights, noise) is None       # a warp: not a stretch
    assert float(trainer._stretch_negative_loss(x, (32, 64), None, weights, noise)) > 0
    assert get_ingan_config("cpu").stretch_negatives == 0 == get_ingan_config("paper").stretch_negatives


def test_generator_without_skips_paints_any_size_and_its_checkpoint_keeps_the_choice(tmp_path, square_photo):
    """``generator_skips=False`` (not the official network, issue 19's experiment): no U-net additions, so the
    output changes when the full-resolution features change only through the bottleneck; saved and reloaded
    as such, and a resume with skips on is refused."""
    torch.manual_seed(0)
    with_skips, without = InGANGenerator(8, 2, 1), InGANGenerator(8, 2, 1, skips=False)
    without.load_state_dict(with_skips.state_dict())
    x = torch.rand(1, 3, 32, 40) * 2 - 1
    assert without(x, (24, 64)).shape == (1, 3, 24, 64)
    assert not torch.allclose(with_skips(x), without(x))       # same weights: only the skips differ
    InGANTrainer(_tiny(iterations=4, save_every=4, generator_skips=False), square_photo, tmp_path / "run",
                 verbose=False).fit()
    model = InGAN.load(tmp_path / "run")
    assert model.G.skips is False and model.retarget((32, 64)).shape == (32, 64, 3)
    with pytest.raises(ValueError, match="generator_skips False -> True"):
        InGANTrainer(_tiny(iterations=8, generator_skips=True), None, tmp_path / "run", resume=True, verbose=False)
    # the cpu preset is issue 19's recipe without the additions; the paper preset keeps the official U-net
    assert get_ingan_config("cpu").generator_skips is False and get_ingan_config("paper").generator_skips is True


def test_a_checkpoint_from_before_the_skips_option_resumes_only_with_skips(tmp_path, square_photo):
    """Checkpoints written before ``generator_skips`` existed hold no such key; their generator had the skips,
    so a resume under the new default (no skips) is refused rather than loading U-net weights into another net."""
    InGANTrainer(_tiny(iterations=4, save_every=4, generator_skips=True), square_photo, tmp_path / "run",
                 verbose=False).fit()
    ckpt_path = next((tmp_path / "run" / "checkpoints").glob("*.pt"))
    ckpt = torch.load(ckpt_path, weights_only=False)
    del ckpt["config"]["generator_skips"]
    torch.save(ckpt, ckpt_path)
    with pytest.raises(ValueError, match="generator_skips True -> False"):
        InGANTrainer(_tiny(iterations=8), None, tmp_path / "run", resume=True, verbose=False)
    resumed = InGANTrainer(_tiny(iterations=8, generator_skips=True), None, tmp_path / "run", resume=True,
                           verbose=False)
    assert resumed.iteration == 4 and resumed.G.skips is True


def test_bf16_step_matches_the_fp32_step_within_bf16_tolerance(square_photo):
    """``amp="bf16"`` (the ``auto`` choice on a CPU with native bf16, with NHWC memory): the same seed's first
    iteration gives the fp32 one's losses and output within bf16's rounding, and the weights stay fp32."""
    trainers = {amp: InGANTrainer(_tiny(amp=amp, iterations=1), square_photo, verbose=False) for amp in ("off", "bf16")}
    rows = {amp: t.step() for amp, t in trainers.items()}
    assert trainers["bf16"].channels_last and not trainers["off"].channels_last
    for key in ("loss_G_adv", "loss_G_cycle", "loss_D"):
        assert rows["bf16"][key] == pytest.approx(rows["off"][key], rel=0.03), key
    assert all(p.dtype == torch.float32 for p in trainers["bf16"].G.parameters())
    x = torch.from_numpy(square_photo).permute(2, 0, 1)[None] * 2 - 1
    with torch.no_grad():
        out = {amp: t.G(x, (24, 48)) for amp, t in trainers.items()}  # fp32 inference on both
        with trainers["bf16"].precision.autocast():
            half = trainers["bf16"].G(x, (24, 48)).float()
    assert (out["bf16"] - out["off"]).abs().max() < 0.05           # one step apart: nearly the same weights
    assert 0 < (half - out["bf16"]).abs().max() < 0.05             # bf16 rounding, no more
    with pytest.raises(ValueError, match="amp='fp8'"):
        _tiny(amp="fp8")


def test_the_transform_samples_in_fp32_under_autocast():
    """A bf16 sampling grid would misplace positions by up to half a pixel: the layer samples in fp32."""
    x = torch.rand(1, 4, 64, 96)
    h = homography_from_corners([[-1, -1], [1, -0.9], [0.95, 1], [-1, 1]])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = GeometricTransform()(x.to(torch.bfloat16), (80, 120), h)
    assert y.dtype == torch.float32
    reference = GeometricTransform()(x.to(torch.bfloat16).float(), (80, 120), h)
    assert torch.equal(y, reference)


def test_a_checkpoint_from_before_the_amp_option_resumes_in_fp32(tmp_path, square_photo, capsys):
    """``ingan train --resume`` of a run whose config has no ``amp`` key (trained in fp32) keeps fp32."""
    InGANTrainer(_tiny(amp="off", iterations=4, save_every=4), square_photo, tmp_path / "run", verbose=False).fit()
    ckpt_path = next((tmp_path / "run" / "checkpoints").glob("*.pt"))
    ckpt = torch.load(ckpt_path, weights_only=False)
    del ckpt["config"]["amp"]
    torch.save(ckpt, ckpt_path)
    assert main(["ingan", "train", "--out", str(tmp_path / "run"), "--resume", "--iterations", "6",
                 "--no-progress"]) == 0
    assert "precision off" in capsys.readouterr().out
    assert load_checkpoint(tmp_path / "run")["config"]["amp"] == "off"


def test_resume_continues_from_the_saved_iteration_exactly(tmp_path, square_photo):
    cfg = _tiny(iterations=16, save_every=8, log_every=4)
    whole = InGANTrainer(cfg, square_photo, tmp_path / "whole", verbose=False)
    whole.fit()
    first = InGANTrainer(cfg, square_photo, tmp_path / "split", verbose=False)
    first.fit(8)
    assert [p.name for p in list_checkpoints(tmp_path / "split")] == ["ckpt_00000008.pt"]
    resumed = InGANTrainer(cfg, None, tmp_path / "split", resume=True, verbose=False)
    assert resumed.iteration == 8 and resumed.resumed_from.endswith("ckpt_00000008.pt")
    resumed.fit()
    for a, b in zip(whole.G.state_dict().values(), resumed.G.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6)
    log = (tmp_path / "split" / "log.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in log[1:]] == ["4", "8", "12", "16"]
    ckpt = load_checkpoint(tmp_path / "split")
    assert ckpt["format"] == INGAN_FORMAT and ckpt["iteration"] == 16 and ckpt["extra"]["image"].dtype == torch.uint8


def test_same_seed_same_weights_other_seed_not(square_photo):
    runs = [InGANTrainer(_tiny(iterations=4, seed=s), square_photo, verbose=False) for s in (0, 0, 1)]
    for r in runs:
        r.fit()
    w = [torch.cat([p.flatten() for p in r.G.parameters()]) for r in runs]
    assert torch.equal(w[0], w[1]) and not torch.allclose(w[0], w[2])


# ---------------------------------------------------------------------------------------------------------
# The "same DNA" measure
# ---------------------------------------------------------------------------------------------------------
def test_patch_distance_known_cases():
    img = prepare_image(PHOTO, 64)
    rng = np.random.default_rng(0)
    same = patch_distance(img, img)
    assert same.mean < 1e-9 and len(same.levels) == 3
    noised = patch_distance(img, np.clip(img + rng.normal(0, 0.1, img.shape), 0, 1).astype(np.float32))
    shuffled = rng.permutation(img.reshape(-1, 3)).reshape(img.shape)
    scrambled = patch_distance(img, shuffled)
    assert noised.mean > 0.005
    assert noised.levels[0] > noised.levels[2]  # the pyramid's blur averages pixel noise away
    assert scrambled.mean > 3 * noised.mean  # the colours are kept, the patches are not
    stretched = patch_distance(img, bicubic_retarget(img, (img.shape[0], 2 * img.shape[1])))
    assert noised.mean < stretched.mean < scrambled.mean  # sizes may differ
    assert patch_distance(img, shuffled, seed=1).mean == pytest.approx(scrambled.mean, rel=0.2)  # other directions
    with pytest.raises(ValueError, match="too small"):
        patch_distance(img[:20, :20], img)


# ---------------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------------
def test_cli_train_resume_retarget(tmp_path, capsys):
    photo = tmp_path / "cups.png"
    Image.open(PHOTO).convert("RGB").resize((48, 30)).save(photo)
    run = tmp_path / "run"
    assert main(["ingan", "train", "--image", str(photo), "--out", str(run), "--preset", "tiny", "--iterations", "6",
                 "--no-progress", "--set", "save_every=3"]) == 0
    assert main(["ingan", "train", "--out", str(run), "--iterations", "9", "--resume", "--no-progress",
                 "--export", str(tmp_path / "w.pt")]) == 0
    out = capsys.readouterr().out
    assert "resumed from" in out and "iteration 9" in out
    w = load_checkpoint(tmp_path / "w.pt")
    assert "optimizers" not in w and w["iteration"] == 9 and w["config"]["image_size"] == 32
    assert set(w["networks"]) == {"G"} and w["extra"]["image"].shape == (20, 32, 3)

    assert main(["ingan", "retarget", "--checkpoint", str(run), "--size", "17x45", "--out", str(tmp_path / "o.png"),
                 "--bicubic", str(tmp_path / "b.png"), "--patch-distance"]) == 0
    assert Image.open(tmp_path / "o.png").size == (45, 17) and Image.open(tmp_path / "b.png").size == (45, 17)
    assert "InGAN" in capsys.readouterr().out
    assert main(["ingan", "retarget", "--checkpoint", str(tmp_path / "w.pt"), "--homography", "1", "0.1", "0", "0",
                 "1", "0", "0", "0", "1", "--out", str(tmp_path / "h.png")]) == 0
    assert Image.open(tmp_path / "h.png").size == (32, 20)

    for argv, words in [
        (["--size", "0x45"], "height must be positive"),
        (["--size", "20x4000"], "more than 8x"),
        (["--size", "wide"], "HEIGHTxWIDTH"),
        ([], "give --size"),
        (["--homography", "0", "0", "0", "0", "0", "0", "0", "0", "0", "--size", "20x20"], "singular"),
    ]:
        code = main(["ingan", "retarget", "--checkpoint", str(run), "--out", str(tmp_path / "x.png"), *argv])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and words in err[0], (argv, err)
    assert main(["ingan", "retarget", "--checkpoint", str(tmp_path / "nothing"), "--size", "8x8",
                 "--out", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert main(["ingan", "train", "--out", str(tmp_path / "empty"), "--resume"]) == 2
    assert "no checkpoint" in capsys.readouterr().err


def test_shipped_checkpoint_retargets():
    path = data_dir() / "checkpoints" / "ingan_plasma_colorful_cups.pt"
    if not path.is_file():
        pytest.skip("the shipped InGAN checkpoint is not there yet")
    model = InGAN.load(path, device="cpu")
    assert path.stat().st_size < 2**20  # G and the photo only
    wide = model.retarget((model.input_size[0], 2 * model.input_size[1]))
    assert wide.shape == (model.input_size[0], 2 * model.input_size[1], 3)
    assert model.reconstruction_error() < 0.08


# ---------------------------------------------------------------------------------------------------------
# Lesson 11's exercise solutions
# ---------------------------------------------------------------------------------------------------------
def test_lesson_11_solutions(capsys):
    spec = importlib.util.spec_from_file_location("sol11", REPO / "notebooks" / "solutions" / "11_ingan_solutions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    answers = module.main(iterations=30)
    assert answers["identity_error"] < answers["untrained_identity_error"]
    assert answers["patch_size_order"] == sorted(answers["patch_size_order"])  # more noise, further apart
    h, w = InGAN.load(data_dir() / "checkpoints" / "ingan_plasma_colorful_cups.pt", device="cpu").input_size
    assert answers["homography_shape"] == (h // 2, 3 * w // 4, 3)  # half height, 3/4 width of the shipped photo
    assert "exercise" in capsys.readouterr().out
