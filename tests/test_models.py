"""models.py: the training steps of the four stages and the inference pipeline, at tiny sizes."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from edgeconnect_lib.config import get_config
from edgeconnect_lib.models import (
    EdgeConnect,
    EdgeModel,
    InpaintModel,
    JointModel,
    NonFiniteLossError,
    Precision,
    build_model,
    edge_outputs,
    mask_edge_input,
    prefill_edges,
)
from edgeconnect_lib.networks import EdgeGenerator, InpaintGenerator


def _batch(b: int = 2, s: int = 32, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(b, 3, s, s, generator=g)
    gray = images.mean(1, keepdim=True)
    edges = (torch.rand(b, 1, s, s, generator=g) > 0.8).float()
    masks = torch.zeros(b, 1, s, s)
    masks[:, :, s // 4: s // 2, s // 4: 3 * s // 4] = 1
    return images, gray, edges, masks


def _cfg(stage: str, **kw):
    # no VGG19 in most tests (speed); one test below runs it
    return get_config("tiny", stage=stage, perceptual=0.0, style=0.0, **kw)


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


def _changed(before, module) -> bool:
    return any(not torch.equal(a, b) for a, b in zip(before, module.parameters()))


def test_edge_model_step_updates_both_networks_and_reports_floats():
    torch.manual_seed(0)
    model = EdgeModel(_cfg("edge")).setup("cpu")
    g0, d0 = _params(model.G_edge), _params(model.D_edge)
    out = model.train_step(_batch())
    assert {"loss_D", "loss_G", "loss_G_adv", "loss_G_fm", "precision", "recall"} <= set(out)
    assert all(isinstance(v, float) and np.isfinite(v) for v in out.values())
    assert out["loss_G"] == pytest.approx(out["loss_G_adv"] + out["loss_G_fm"], rel=1e-5)
    assert _changed(g0, model.G_edge) and _changed(d0, model.D_edge)
    # the generator's pass through D must leave D's parameters trainable for the next step
    assert all(p.requires_grad for p in model.D_edge.parameters())


def test_discriminator_sees_gray_and_edges():
    model = EdgeModel(_cfg("edge")).setup("cpu")
    assert model.D_edge.in_channels == 2
    seen = []
    model.D_edge.register_forward_hook(lambda m, inp, out: seen.append(inp[0].shape[1]))
    model.train_step(_batch())
    assert seen and all(c == 2 for c in seen)


def test_edge_input_masks_gray_and_edges():
    images, gray, edges, masks = _batch()
    x = mask_edge_input(gray, edges, masks)
    hole = masks.bool().expand_as(gray)
    assert torch.all(x[:, 0][hole[:, 0]] == 1)  # hole painted white in the gray channel
    assert torch.all(x[:, 1][hole[:, 0]] == 0)  # no edges given in the hole
    assert torch.equal(x[:, 2:3], masks)


def test_inpaint_model_step_with_vgg_losses():
    torch.manual_seed(0)
    model = InpaintModel(get_config("tiny", stage="inpaint")).setup("cpu")  # paper loss weights: VGG19 runs
    g0 = _params(model.G_inpaint)
    out = model.train_step(_batch())
    for k in ("loss_D", "loss_G_l1", "loss_G_adv", "loss_G_perc", "loss_G_style", "psnr", "mae"):
        assert np.isfinite(out[k])
    assert out["loss_G_perc"] > 0 and out["loss_G_style"] > 0
    assert _changed(g0, model.G_inpaint)
    # VGG19 is an instrument, not part of the model's state
    assert not any(k.startswith("perceptual_style") for k in model.state_dict())


def test_edge_inpaint_stage_keeps_the_edge_model_frozen():
    torch.manual_seed(0)
    edge = EdgeGenerator(8, 1)
    e0 = _params(edge)
    model = build_model(_cfg("edge-inpaint"), edge).setup("cpu")
    g0 = _params(model.G_inpaint)
    model.train_step(_batch())
    assert not _changed(e0, model.G_edge) and _changed(g0, model.G_inpaint)
    assert not model.G_edge.training  # eval mode: no spectral-norm power iteration



@pytest.mark.parametrize("share", [0.0, 1.0])
def test_edge_grad_l1_is_scored_on_the_edges_g2_was_given(share, monkeypatch):
    import edgeconnect_lib.models as models_module

    torch.manual_seed(0)
    model = build_model(_cfg("edge-inpaint", true_edge_share=share, edge_grad_l1=2.0), EdgeGenerator(8, 1)).setup("cpu")
    seen = {}
    objective = models_module.inpaint_generator_objective

    def spy(*args, **kwargs):
        seen["edges"] = args[-1]
        return objective(*args, **kwargs)

    monkeypatch.setattr(models_module, "inpaint_generator_objective", spy)
    batch = _batch()
    out = model.train_step(batch)
    assert np.isfinite(out["loss_G_edge_grad"]) and out["loss_G_edge_grad"] >= 0
    x = model._batch(batch)
    # the true edges (share 1), or G1's guess in the hole (share 0): never the true edges there
    assert torch.equal(seen["edges"], x.edges) == (share == 1.0)

@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_true_edge_share_gives_training_samples_the_true_edges_and_validation_g1s(share):
    torch.manual_seed(0)
    model = build_model(_cfg("edge-inpaint", true_edge_share=share), EdgeGenerator(8, 1)).setup("cpu")
    x = model._batch(_batch(b=64))
    model.eval()
    g1 = model.edges_for(x)
    assert not torch.equal(g1, x.edges)  # G1's soft guess in the hole
    model.train()
    mixed = model.edges_for(x)
    is_true = [torch.equal(m, t) for m, t in zip(mixed, x.edges)]
    is_g1 = [torch.equal(m, g) for m, g in zip(mixed, g1)]
    assert all(a != b for a, b in zip(is_true, is_g1))  # each sample gets one map or the other, whole
    assert {0.0: sum(is_true) == 0, 1.0: sum(is_true) == 64, 0.5: 16 < sum(is_true) < 48}[share]
    model.eval()
    assert torch.equal(model.edges_for(x), g1)  # validation: G1's edges only, as the pipeline


@pytest.mark.parametrize("kw,match", [({"true_edge_share": 1.5}, "in \\[0, 1\\]"),
                                      ({"true_edge_share": 0.5, "stage": "inpaint"}, "stage 'edge-inpaint' only")])
def test_true_edge_share_is_checked(kw, match):
    with pytest.raises(ValueError, match=match):
        get_config("tiny", **{"stage": "edge-inpaint", **kw})


def test_edge_inpaint_needs_an_edge_model():
    with pytest.raises(ValueError, match="edge"):
        build_model(_cfg("edge-inpaint"))


def test_joint_stage_trains_both_generators_without_d_edge():
    torch.manual_seed(0)
    model = JointModel(_cfg("joint")).setup("cpu")
    assert not hasattr(model, "D_edge")
    assert set(model.optimizers) == {"G_edge", "G_inpaint", "D_inpaint"}
    assert model.lr() == pytest.approx(get_config("tiny").joint_lr)
    e0, g0 = _params(model.G_edge), _params(model.G_inpaint)
    out = model.train_step(_batch())
    assert "precision" in out and "psnr" in out
    assert _changed(e0, model.G_edge) and _changed(g0, model.G_inpaint)


def test_same_seed_same_losses():
    def run():
        torch.manual_seed(3)
        m = EdgeModel(_cfg("edge")).setup("cpu")
        return [m.train_step(_batch(seed=i)) for i in range(2)]

    assert run() == run()


def test_non_finite_loss_is_named():
    model = InpaintModel(_cfg("inpaint")).setup("cpu")
    images, gray, edges, masks = _batch()
    images[0, 0, 0, 0] = float("nan")
    with pytest.raises(NonFiniteLossError, match="loss_"):
        model.train_step((images, gray, edges, masks))


def test_bf16_autocast_step_runs_on_cpu():
    torch.manual_seed(0)
    model = EdgeModel(_cfg("edge")).setup("cpu", amp="bf16")
    assert model.precision.dtype == torch.bfloat16
    assert np.isfinite(model.train_step(_batch())["loss_G"])


def test_spectral_norm_runs_outside_autocast():
    # CUDA autocast casts torch.mv but not torch.dot: the legacy hook must run in float32
    from edgeconnect_lib.precision import _SpectralNormInFullPrecision

    model = EdgeModel(_cfg("edge")).setup("cpu", amp="bf16")
    hooks = [h for m in model.D_edge.modules() for h in m._forward_pre_hooks.values()]
    assert hooks and all(isinstance(h, _SpectralNormInFullPrecision) for h in hooks)
    seen = []
    conv = model.D_edge.conv1[0]
    hook = next(iter(conv._forward_pre_hooks.values()))
    original = hook.hook.compute_weight
    hook.hook.compute_weight = lambda *a, **k: (seen.append(torch.is_autocast_enabled("cpu")), original(*a, **k))[1]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        model.D_edge(torch.rand(1, 2, 32, 32))
    assert seen == [False] and conv.weight.dtype == torch.float32
    # the checkpoint layout is unchanged
    assert "conv1.0.weight_orig" in model.D_edge.state_dict()


def test_precision_choices():
    from edgeconnect_lib.utils import cpu_has_native_bf16

    auto = Precision(torch.device("cpu"), "auto")
    # auto: bf16 autocast only where the CPU runs it natively (emulated bf16 is slower than fp32), said why
    assert auto.mode == ("bf16" if cpu_has_native_bf16() else "off")
    assert "native bf16" in auto.reason
    assert Precision(torch.device("cpu"), "off").reason == "off"
    with pytest.raises(ValueError, match="CUDA"):
        Precision(torch.device("cpu"), "fp16")


def test_bad_batch_is_a_clear_error():
    model = EdgeModel(_cfg("edge")).setup("cpu")
    images, gray, edges, masks = _batch()
    with pytest.raises(ValueError, match="gray"):
        model.train_step((images, images, edges, masks))


@pytest.mark.parametrize("h,w", [(37, 50), (32, 32), (9, 13)])
def test_pipeline_any_size_keeps_known_pixels(h, w):
    torch.manual_seed(0)
    pipe = EdgeConnect(EdgeGenerator(8, 1), InpaintGenerator(8, 1))
    rng = np.random.default_rng(0)
    image = rng.random((h, w, 3)).astype(np.float32)
    mask = np.zeros((h, w), bool)
    mask[h // 4: h // 2 + 1, w // 4: w // 2 + 1] = True
    res = pipe.inpaint(image, mask)
    assert res.image.shape == (h, w, 3) and res.edges.shape == (h, w)
    assert np.allclose(res.image[~mask], image[~mask], atol=1e-6)  # known pixels untouched
    assert not np.allclose(res.image[mask], image[mask])  # the hole is painted
    assert not res.canny[mask].any()  # test-time Canny ignores the hole
    assert np.array_equal(res.edges[~mask] > 0.5, res.canny[~mask])  # Canny kept outside the hole


def test_pipeline_uses_given_edges_and_checks_sizes():
    pipe = EdgeConnect(EdgeGenerator(8, 1), InpaintGenerator(8, 1))
    image = np.full((20, 24, 3), 0.5, np.float32)
    mask = np.zeros((20, 24), bool)
    mask[5:10, 5:10] = True
    edges = np.zeros((20, 24), np.float32)
    edges[7, :] = 1
    assert np.array_equal(pipe.inpaint(image, mask, edges=edges).edges, edges)
    with pytest.raises(ValueError, match="mask"):
        pipe.inpaint(image, mask[:10])


def test_prepare_is_the_pipelines_input_padded_and_cropped_back():
    """pipeline.prepare: Canny of the known region, the bottom / right padded by reflection to a multiple of 4."""
    import edgeconnect_lib.models as models
    from edgeconnect_lib import pipeline
    from edgeconnect_lib.edges import canny_edges
    from edgeconnect_lib.images import rgb_to_gray

    assert models.EdgeConnect is pipeline.EdgeConnect and models.prepare is pipeline.prepare  # one home, re-exported
    rng = np.random.default_rng(2)
    image = rng.random((37, 50, 3)).astype(np.float32)
    hole = np.zeros((37, 50), bool)
    hole[10:20, 12:30] = True
    x = pipeline.prepare(image, hole, sigma=1.5)
    assert x.images.shape == (1, 3, 40, 52) and x.masks.shape == x.canny.shape == (1, 1, 40, 52) and x.edges is None
    assert x.size == (37, 50) and np.array_equal(x.canny_map, canny_edges(rgb_to_gray(image), 1.5, mask=hole))
    assert np.array_equal(x.crop(x.images), image) and np.array_equal(x.crop(x.masks)[..., 0], hole)
    # reflection: row 37 repeats row 35, column 50 repeats column 48 (the edge row / column is not doubled)
    assert torch.equal(x.images[0, :, 37, :50], x.images[0, :, 35, :50])
    assert torch.equal(x.images[0, :, :37, 50], x.images[0, :, :37, 48])
    gray = x.crop(x.gray)[..., 0]
    assert np.allclose(gray, rgb_to_gray(image), atol=1e-6)
    edges = rng.random((37, 50)) > 0.9
    assert np.array_equal(pipeline.prepare(image, hole, edges).crop(pipeline.prepare(image, hole, edges).edges)[..., 0],
                          edges.astype(np.float32))
    tiny = pipeline.prepare(image[:9, :13], hole[:9, :13])
    assert tiny.images.shape[-2:] == (16, 16)  # too small to reflect: replicated up to the minimum
    with pytest.raises(ValueError, match="H x W x 3"):
        pipeline.prepare(image[..., :2], hole)
    with pytest.raises(ValueError, match="edges has shape"):
        pipeline.prepare(image, hole, edges[:10])


def test_pipeline_save_load_roundtrip(tmp_path):
    torch.manual_seed(0)
    pipe = EdgeConnect(EdgeGenerator(8, 1), InpaintGenerator(8, 1))
    path = pipe.save(tmp_path / "pipe.pt", note="x")
    saved = torch.load(path, weights_only=True)
    assert saved["format"] == "edgeconnect_lib.pipeline/1" and saved["metadata"] == {"note": "x"}
    assert set(saved["networks"]) == set(saved["network_configs"]) == {"G_edge", "G_inpaint"}
    again = EdgeConnect.load(path)
    image = np.random.default_rng(1).random((24, 24, 3)).astype(np.float32)
    mask = np.zeros((24, 24), bool)
    mask[4:12, 4:12] = True
    assert np.array_equal(pipe.inpaint(image, mask).image, again.inpaint(image, mask).image)


def test_pipeline_saved_in_half_precision_is_half_the_size_and_gives_nearly_the_same_fill(tmp_path):
    torch.manual_seed(0)
    pipe = EdgeConnect(EdgeGenerator(8, 1), InpaintGenerator(8, 1))
    full, half = pipe.save(tmp_path / "full.pt"), pipe.save(tmp_path / "half.pt", half=True)
    saved = torch.load(half, weights_only=True)
    assert saved["metadata"] == {"stored_as": "float16"}
    assert all(v.dtype == torch.float16 for v in saved["networks"]["G_inpaint"].values() if v.is_floating_point())
    assert half.stat().st_size < 0.6 * full.stat().st_size
    again = EdgeConnect.load(half)
    assert next(again.G_inpaint.parameters()).dtype == torch.float32  # loaded back into float32 networks
    image = np.random.default_rng(1).random((24, 24, 3)).astype(np.float32)
    mask = np.zeros((24, 24), bool)
    mask[4:12, 4:12] = True
    a, b = pipe.inpaint(image, mask).image, again.inpaint(image, mask).image
    assert np.array_equal(a[~mask], b[~mask]) and 0 < np.abs(a - b).max() < 2 / 255


def test_pipeline_from_trained_models_shares_the_generators():
    edge, inpaint = EdgeModel(_cfg("edge")), InpaintModel(_cfg("inpaint"))
    pipe = EdgeConnect.from_models(edge, inpaint)
    assert pipe.G_edge is edge.G_edge and pipe.G_inpaint is inpaint.G_inpaint
    with pytest.raises(ValueError, match="G_inpaint"):
        EdgeConnect.from_models(edge)


def test_instance_norm_hides_the_overall_colour_and_the_colour_reference_restores_it():
    """G2 after its first InstanceNorm cannot see an overall brightness shift of its input (lesson 08's diagnosis);
    with ``colour_reference`` the output follows the shift exactly (before clamping)."""
    from edgeconnect_lib.models import inpaint_outputs, known_mean_colour

    torch.manual_seed(0)
    images = torch.rand(2, 3, 32, 32) * 0.5 + 0.25
    masks = torch.zeros(2, 1, 32, 32)
    masks[..., 8:20, 8:24] = 1
    edges = torch.zeros(2, 1, 32, 32)
    plain = InpaintGenerator(base_channels=8, residual_blocks=1).eval()
    ref = InpaintGenerator(base_channels=8, residual_blocks=1, colour_reference=True).eval()
    ref.load_state_dict(plain.state_dict())  # same weights: the flag is not a weight
    with torch.no_grad():
        for shift in (-0.1, 0.1):
            d_plain = inpaint_outputs(plain, images + shift, edges, masks) - inpaint_outputs(plain, images, edges, masks)
            d_ref = inpaint_outputs(ref, images + shift, edges, masks) - inpaint_outputs(ref, images, edges, masks)
            assert float((d_ref - shift).abs().median()) < 1e-4  # equivariant (except where the clamp bites)
            assert float(d_plain.mean().abs()) < abs(shift) / 2  # the plain G2 moves far less than the input
    mu = known_mean_colour(images, masks)
    assert mu.shape == (2, 3, 1, 1)
    assert torch.allclose(mu[:, :, 0, 0], (images * (1 - masks)).sum((2, 3)) / (1 - masks).sum((2, 3)))
    assert torch.equal(known_mean_colour(images, torch.ones(2, 1, 32, 32)), torch.full((2, 3, 1, 1), 0.5))


def test_colour_reference_travels_with_the_network_config():
    from edgeconnect_lib.networks import build_network, network_config

    g = InpaintGenerator(base_channels=8, residual_blocks=1, colour_reference=True)
    assert build_network(network_config(g)).colour_reference is True
    old = {"class": "InpaintGenerator", "base_channels": 8, "residual_blocks": 1}  # checkpoints made before the flag
    assert build_network(old).colour_reference is False
    model = build_model(get_config("tiny", stage="inpaint", colour_reference=True))
    assert model.G_inpaint.colour_reference is True
    with pytest.raises(ValueError, match="colour_reference"):
        InpaintGenerator(base_channels=8, residual_blocks=1, colour_reference="yes")


def test_edgeconnect_from_authors_folder_runs_the_paper_networks(tmp_path):
    """The authors' release layout (random weights here): the pipeline loads it, at the paper's sizes, and inpaints."""
    from edgeconnect_lib.checkpoints import save_authors_checkpoint

    torch.manual_seed(0)
    g_edge, g_inpaint = EdgeGenerator(), InpaintGenerator()  # paper sizes: 64 channels, 8 residual blocks
    with pytest.raises(FileNotFoundError, match="EdgeModel_gen.pth / InpaintingModel_gen.pth.*download places2"):
        EdgeConnect.from_authors(tmp_path)
    save_authors_checkpoint(g_edge, tmp_path)
    save_authors_checkpoint(g_inpaint, tmp_path)
    ec = EdgeConnect.from_authors(tmp_path)
    assert ec.G_inpaint.colour_reference is False
    for ours, theirs in ((ec.G_edge, g_edge), (ec.G_inpaint, g_inpaint)):
        for (k, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
            assert torch.equal(a, b), k
    rng = np.random.default_rng(0)
    image = rng.random((48, 48, 3), dtype=np.float32)
    mask = np.zeros((48, 48), bool)
    mask[10:30, 12:40] = True
    result = ec.inpaint(image, mask)
    assert result.image.shape == image.shape and np.isfinite(result.image).all()
    np.testing.assert_array_equal(result.image[~mask], image[~mask])


# ------------------------------------------------------------------------------------------------------------
# The optimised paths (bf16 autocast) against the eager fp32 ones: equal within bf16's tolerance
# ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stage", ["edge", "inpaint"])
def test_bf16_train_step_matches_fp32_within_bf16_tolerance(stage):
    """Same initial weights and batch: one step's losses in bf16 autocast are the fp32 ones up to bf16 rounding
    (8 significant bits: ~0.4% per operation), and the weights move by the same update."""
    cfg = get_config("cpu", stage=stage)  # the real cpu-preset networks (16 channels, 2 blocks) at 64 px
    torch.manual_seed(0)
    fp32 = build_model(cfg).setup("cpu", amp="off")
    bf16 = build_model(cfg).setup("cpu", amp="bf16")
    bf16.load_state_dict(fp32.state_dict())
    batch = _batch(4, 64)
    a, b = fp32.train_step(batch), bf16.train_step(batch)
    for name in a:
        if name.startswith("loss"):
            assert b[name] == pytest.approx(a[name], rel=0.03, abs=1e-3), name
    G = "G_edge" if stage == "edge" else "G_inpaint"
    w_a = torch.cat([p.flatten() for p in getattr(fp32, G).parameters()])
    w_b = torch.cat([p.flatten() for p in getattr(bf16, G).parameters()])
    assert (w_a - w_b).abs().max() < 2 * cfg.lr  # Adam moves each weight by at most ~lr per step


def test_bf16_pipeline_matches_fp32_on_a_real_photo():
    """The shipped pipeline on a test photo: bf16 inference (the CLI's default on a CPU with native bf16) gives the
    fp32 result within a few 8-bit levels, known pixels untouched."""
    from edgeconnect_lib.course_data import course_images, data_dir
    from edgeconnect_lib.evaluation import make_eval_set

    item = make_eval_set(course_images("test")[:1], size=128, masks_per_bucket=1)[2]
    ckpt = data_dir() / "checkpoints" / "edgeconnect.pt"
    fp32 = EdgeConnect.load(ckpt).inpaint(item.image, item.mask)
    pipeline = EdgeConnect.load(ckpt, amp="bf16")
    assert pipeline.amp == "bf16" and pipeline.G_edge.encoder[1].weight.dtype == torch.float32
    bf16 = pipeline.inpaint(item.image, item.mask)
    hole = item.mask
    assert np.array_equal(bf16.image[~hole], fp32.image[~hole])
    diff = np.abs(bf16.image[hole] - fp32.image[hole])
    psnr = 10 * np.log10(1.0 / np.mean(diff ** 2))
    assert diff.max() > 0  # the bf16 path did run
    assert psnr > 35.0 and np.mean(diff) < 2 / 255, (psnr, np.mean(diff) * 255)
    # the edges G_edge draws: the same pixels but for a few at the 0.5 threshold
    changed = np.mean((bf16.edges[hole] > 0.5) != (fp32.edges[hole] > 0.5))
    assert changed < 0.02, changed


def test_prefill_edges_continue_a_step_across_the_hole_and_g1_sees_them():
    gray = torch.full((1, 1, 32, 32), 0.2)
    gray[..., 16:] = 0.8  # a vertical step between columns 15 and 16
    masks = torch.zeros(1, 1, 32, 32)
    masks[..., 12:20, 4:28] = 1  # a band across the step
    hint = prefill_edges(gray, masks)
    assert hint.shape == gray.shape and hint.dtype == gray.dtype
    assert hint[masks == 0].sum() == 0  # the hint lives in the hole only
    columns = set(hint[0, 0].nonzero()[:, 1].tolist())
    assert columns and columns <= {15, 16}  # the step is continued through the hole, nothing else is drawn
    torch.manual_seed(0)
    G = EdgeGenerator(8, 1, prefill=True).eval()
    edges = (gray > 0.5).float()
    with torch.no_grad():
        shown = edge_outputs(G, gray, edges, masks)
        assert torch.equal(shown, G(mask_edge_input(gray, edges, masks, hint)))
        assert not torch.equal(shown, G(mask_edge_input(gray, edges, masks)))
        assert torch.equal(edge_outputs(G, gray, edges, masks, prefill=False), G(mask_edge_input(gray, edges, masks)))


def test_edge_prefill_is_kept_by_the_pipeline_file_and_checked(tmp_path):
    pipe = EdgeConnect(EdgeGenerator(8, 1, prefill=True), InpaintGenerator(8, 1))
    assert EdgeConnect.load(pipe.save(tmp_path / "p.pt")).G_edge.prefill
    assert not EdgeConnect(EdgeGenerator(8, 1), InpaintGenerator(8, 1)).G_edge.prefill
    with pytest.raises(ValueError, match="prefill='yes'"):
        EdgeGenerator(8, 1, prefill="yes")
    with pytest.raises(ValueError, match="edge_prefill"):
        get_config("tiny", edge_prefill="yes")
    assert build_model(_cfg("edge", edge_prefill=True)).G_edge.prefill
