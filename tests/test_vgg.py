"""Tests for edgeconnect_lib.vgg: layer layout, normalisation, weight loading and the offline fallback."""
from __future__ import annotations

import socket
import warnings
from pathlib import Path

import pytest
import torch

from edgeconnect_lib import vgg as vgg_mod
from edgeconnect_lib.vgg import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    VGG19_FILENAME,
    VGG19_LAYER_INDEX,
    VGG19Features,
    load_vgg19,
    vgg19_hub_cache_path,
)

CONV_INDICES = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """Every test starts with an empty torch hub cache, no weights variable and the warning not yet given."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.delenv("EDGECONNECT_VGG19_WEIGHTS", raising=False)
    monkeypatch.delenv("EDGECONNECT_OFFLINE", raising=False)
    monkeypatch.setattr(vgg_mod, "_warned_random", False)


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory) -> Path:
    """A random VGG19 saved in torchvision's layout, with a classifier key torchvision's file also has."""
    torch.manual_seed(123)
    model = VGG19Features()
    state = dict(model.state_dict())
    state["classifier.0.weight"] = torch.zeros(2, 2)
    path = tmp_path_factory.mktemp("weights") / VGG19_FILENAME
    torch.save(state, path)
    return path


def _no_network(monkeypatch):
    """Make any network use fail the test."""

    def boom(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", boom)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", boom)


def test_layer_layout_matches_torchvision_keys():
    model = VGG19Features()
    keys = set(model.state_dict())
    expected = {f"features.{i}.{p}" for i in CONV_INDICES for p in ("weight", "bias")}
    assert keys == expected  # normalisation buffers are not saved
    assert model.state_dict()["features.34.weight"].shape == (512, 512, 3, 3)
    assert model.state_dict()["features.0.weight"].shape == (64, 3, 3, 3)
    assert VGG19_LAYER_INDEX["relu1_1"] == 1 and VGG19_LAYER_INDEX["relu2_2"] == 8
    assert VGG19_LAYER_INDEX["relu3_4"] == 17 and VGG19_LAYER_INDEX["relu4_4"] == 26
    assert VGG19_LAYER_INDEX["relu5_1"] == 29 and VGG19_LAYER_INDEX["relu5_4"] == 35
    assert len(VGG19_LAYER_INDEX) == 16


def test_forward_returns_requested_layers_with_shapes():
    model = VGG19Features()
    x = torch.rand(2, 3, 32, 32)
    out = model(x, ["relu5_1", "relu1_1", "relu2_2"])
    assert list(out) == ["relu5_1", "relu1_1", "relu2_2"]
    assert out["relu1_1"].shape == (2, 64, 32, 32)
    assert out["relu2_2"].shape == (2, 128, 16, 16)
    assert out["relu5_1"].shape == (2, 512, 2, 2)
    assert all((v >= 0).all() for v in out.values())  # ReLU outputs


def test_forward_stops_at_deepest_requested_layer():
    model = VGG19Features()
    called = []
    model.features[5].register_forward_hook(lambda *a: called.append(5))  # conv2_1
    model(torch.rand(1, 3, 16, 16), ["relu1_2"])
    assert called == []
    model(torch.rand(1, 3, 16, 16), ["relu2_1"])
    assert called == [5]


def test_imagenet_normalisation():
    torch.manual_seed(0)
    a = VGG19Features(layers=["relu1_1"])
    b = VGG19Features(layers=["relu1_1"], normalize_input=False)
    b.load_state_dict(a.state_dict())
    x = torch.rand(1, 3, 8, 8)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    assert IMAGENET_MEAN == (0.485, 0.456, 0.406) and IMAGENET_STD == (0.229, 0.224, 0.225)
    torch.testing.assert_close(a(x)["relu1_1"], b((x - mean) / std)["relu1_1"])
    assert not torch.allclose(a(x)["relu1_1"], b(x)["relu1_1"])


def test_frozen_eval_and_gradient_reaches_input():
    model = VGG19Features(layers=["relu2_1"])
    assert all(not p.requires_grad for p in model.parameters())
    model.train()
    assert not model.training
    x = torch.rand(1, 3, 16, 16, requires_grad=True)
    model(x)["relu2_1"].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_bad_layer_and_bad_input_give_clear_errors():
    with pytest.raises(ValueError, match="relu6_1"):
        VGG19Features(layers=["relu6_1"])
    model = VGG19Features(layers=["relu1_1"])
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        model(torch.rand(1, 1, 8, 8))
    with pytest.raises(ValueError, match="conv1_1"):
        model(torch.rand(1, 3, 8, 8), ["conv1_1"])


def test_load_from_local_file_gives_identical_outputs(monkeypatch, weights_file):
    _no_network(monkeypatch)
    reference = VGG19Features()
    state = torch.load(weights_file, weights_only=True)
    reference.load_state_dict({k: v for k, v in state.items() if k.startswith("features.")})
    model, source = load_vgg19(weights_file, layers=["relu1_1", "relu3_1"])
    assert str(weights_file) in source and "ImageNet" in source and "RANDOM" not in source
    x = torch.rand(1, 3, 16, 16)
    torch.testing.assert_close(model(x)["relu3_1"], reference(x, ["relu3_1"])["relu3_1"], rtol=0, atol=0)
    assert model.layers == ("relu1_1", "relu3_1")


def test_load_from_env_variable(monkeypatch, weights_file):
    _no_network(monkeypatch)
    monkeypatch.setenv("EDGECONNECT_VGG19_WEIGHTS", str(weights_file))
    _, source = load_vgg19()
    assert str(weights_file) in source


def test_load_from_fake_hub_cache(monkeypatch, tmp_path, weights_file):
    _no_network(monkeypatch)
    cache = vgg19_hub_cache_path()
    assert cache == tmp_path / "torch_home" / "hub" / "checkpoints" / VGG19_FILENAME  # honours TORCH_HOME
    cache.parent.mkdir(parents=True)
    cache.symlink_to(weights_file)
    model, source = load_vgg19(allow_download=False)
    assert str(cache) in source and "RANDOM" not in source
    torch.testing.assert_close(
        model.state_dict()["features.34.weight"], torch.load(weights_file, weights_only=True)["features.34.weight"]
    )


def test_missing_explicit_path_raises_naming_it(tmp_path, monkeypatch):
    missing = tmp_path / "nope" / "vgg19.pth"
    with pytest.raises(FileNotFoundError, match="nope"):
        load_vgg19(missing)
    monkeypatch.setenv("EDGECONNECT_VGG19_WEIGHTS", str(missing))
    with pytest.raises(FileNotFoundError, match="EDGECONNECT_VGG19_WEIGHTS"):
        load_vgg19()


def test_wrong_keys_shapes_or_garbage_give_clear_errors(tmp_path):
    wrong_keys = tmp_path / "wrong.pth"
    torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, wrong_keys)
    with pytest.raises(ValueError, match=r"missing keys .*features\.0\.bias"):
        load_vgg19(wrong_keys)
    state = {k: torch.zeros_like(v) for k, v in VGG19Features().state_dict().items()}
    state["features.0.weight"] = torch.zeros(64, 1, 3, 3)
    wrong_shape = tmp_path / "shape.pth"
    torch.save(state, wrong_shape)
    with pytest.raises(ValueError, match="wrong shapes"):
        load_vgg19(wrong_shape)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="garbage.pth") as err:
        load_vgg19(garbage)
    # the fix in one line, never PyTorch's advice to unpickle with weights_only=False
    msg = str(err.value)
    assert "delete it" in msg and "download vgg19" in msg and "weights_only" not in msg and "\n" not in msg
    # a pickle that weights_only refuses (arbitrary objects) gets the same advice
    unsafe = tmp_path / "unsafe.pth"
    torch.save({"features.0.weight": object()}, unsafe)
    with pytest.raises(ValueError, match="delete it") as err:
        load_vgg19(unsafe)
    assert "weights_only" not in str(err.value)


def test_fallback_is_random_deterministic_and_warns_once(monkeypatch):
    _no_network(monkeypatch)
    torch.manual_seed(1)
    with pytest.warns(UserWarning, match="RANDOM weights") as record:
        model_a, source = load_vgg19(allow_download=False)
    assert len([w for w in record if "RANDOM" in str(w.message)]) == 1
    assert "hub" in str(record[0].message) and VGG19_FILENAME in str(record[0].message)
    assert source.startswith("RANDOM weights (seed 0)")
    torch.manual_seed(2)  # the fallback does not depend on the global seed
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second warning would raise here
        model_b, source_b = load_vgg19(allow_download=False)
    assert source_b == source
    for (k, a), b in zip(model_a.state_dict().items(), model_b.state_dict().values()):
        assert torch.equal(a, b), k
    x = torch.rand(1, 3, 16, 16)
    out = model_a(x, ["relu2_1"])["relu2_1"]
    assert torch.isfinite(out).all() and out.abs().sum() > 0


def test_no_network_when_download_not_allowed_or_offline(monkeypatch):
    _no_network(monkeypatch)
    monkeypatch.setattr(vgg_mod, "_online", lambda *a, **k: pytest.fail("online check attempted"))
    with pytest.warns(UserWarning):
        _, source = load_vgg19(allow_download=False)
    assert "RANDOM" in source
    monkeypatch.setenv("EDGECONNECT_OFFLINE", "1")
    _, source = load_vgg19(allow_download=True)  # forced offline by the environment
    assert "RANDOM" in source


def test_offline_probe_failing_falls_back_without_download(monkeypatch):
    monkeypatch.setattr(vgg_mod, "_online", lambda *a, **k: False)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", lambda *a, **k: pytest.fail("download attempted"))
    with pytest.warns(UserWarning, match="download.pytorch.org"):
        _, source = load_vgg19(allow_download=True)
    assert "RANDOM" in source


def test_download_path_saves_into_hub_cache(monkeypatch, weights_file):
    calls = []

    def fake_download(url, model_dir=None, map_location=None, check_hash=False, weights_only=False, **kw):
        calls.append((url, check_hash, weights_only))
        target = Path(model_dir) / VGG19_FILENAME
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(weights_file.read_bytes())
        return torch.load(target, weights_only=True)

    monkeypatch.setattr(vgg_mod, "_online", lambda *a, **k: True)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", fake_download)
    _, source = load_vgg19(allow_download=True)
    assert calls == [(vgg_mod.VGG19_URL, True, True)]
    assert "downloaded" in source and str(vgg19_hub_cache_path()) in source


def test_online_probe_is_quick_and_false_for_unreachable_host():
    # ".invalid" never resolves (RFC 6761), so this needs no network and must return False.
    assert vgg_mod._online("host.invalid", timeout=1.0) is False
