"""Tests for edgeconnect_lib.checkpoints: the authors' file layout, and our network-only save/load.

The authors' networks are rebuilt here independently, as plain ``nn.Sequential`` stacks in their layer order
with PyTorch's legacy spectral-norm hook, filled with random weights, saved in their file format
(``{"iteration", "generator"}`` / ``{"discriminator"}``) and loaded into ours; the outputs must agree.
"""
from __future__ import annotations

import io
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn.utils import spectral_norm

from edgeconnect_lib.checkpoints import (
    AUTHORS_FILES,
    authors_state_dict,
    guess_kind,
    load_authors_checkpoint,
    load_authors_folder,
    load_network,
    paper_network,
    read_authors_checkpoint,
    save_authors_checkpoint,
    save_network,
)
from edgeconnect_lib.networks import (
    EdgeGenerator,
    InpaintGenerator,
    PatchDiscriminator,
    count_parameters,
    network_config,
)

# The layout of the authors' released checkpoints (shared/reference/authors_checkpoint_layout.json, read off
# their published network definitions): "[network] parameter count", then "key shape" lines.
AUTHORS_LAYOUT = """
[EdgeGenerator] 10761089
encoder.1.bias 64
encoder.1.weight_orig 64,3,7,7
encoder.1.weight_u 64
encoder.1.weight_v 147
encoder.4.bias 128
encoder.4.weight_orig 128,64,4,4
encoder.4.weight_u 128
encoder.4.weight_v 1024
encoder.7.bias 256
encoder.7.weight_orig 256,128,4,4
encoder.7.weight_u 256
encoder.7.weight_v 2048
middle.0.conv_block.1.weight_orig 256,256,3,3
middle.0.conv_block.1.weight_u 256
middle.0.conv_block.1.weight_v 2304
middle.0.conv_block.5.weight_orig 256,256,3,3
middle.0.conv_block.5.weight_u 256
middle.0.conv_block.5.weight_v 2304
middle.1.conv_block.1.weight_orig 256,256,3,3
middle.1.conv_block.1.weight_u 256
middle.1.conv_block.1.weight_v 2304
middle.1.conv_block.5.weight_orig 256,256,3,3
middle.1.conv_block.5.weight_u 256
middle.1.conv_block.5.weight_v 2304
middle.2.conv_block.1.weight_orig 256,256,3,3
middle.2.conv_block.1.weight_u 256
middle.2.conv_block.1.weight_v 2304
middle.2.conv_block.5.weight_orig 256,256,3,3
middle.2.conv_block.5.weight_u 256
middle.2.conv_block.5.weight_v 2304
middle.3.conv_block.1.weight_orig 256,256,3,3
middle.3.conv_block.1.weight_u 256
middle.3.conv_block.1.weight_v 2304
middle.3.conv_block.5.weight_orig 256,256,3,3
middle.3.conv_block.5.weight_u 256
middle.3.conv_block.5.weight_v 2304
middle.4.conv_block.1.weight_orig 256,256,3,3
middle.4.conv_block.1.weight_u 256
middle.4.conv_block.1.weight_v 2304
middle.4.conv_block.5.weight_orig 256,256,3,3
middle.4.conv_block.5.weight_u 256
middle.4.conv_block.5.weight_v 2304
middle.5.conv_block.1.weight_orig 256,256,3,3
middle.5.conv_block.1.weight_u 256
middle.5.conv_block.1.weight_v 2304
middle.5.conv_block.5.weight_orig 256,256,3,3
middle.5.conv_block.5.weight_u 256
middle.5.conv_block.5.weight_v 2304
middle.6.conv_block.1.weight_orig 256,256,3,3
middle.6.conv_block.1.weight_u 256
middle.6.conv_block.1.weight_v 2304
middle.6.conv_block.5.weight_orig 256,256,3,3
middle.6.conv_block.5.weight_u 256
middle.6.conv_block.5.weight_v 2304
middle.7.conv_block.1.weight_orig 256,256,3,3
middle.7.conv_block.1.weight_u 256
middle.7.conv_block.1.weight_v 2304
middle.7.conv_block.5.weight_orig 256,256,3,3
middle.7.conv_block.5.weight_u 256
middle.7.conv_block.5.weight_v 2304
decoder.0.bias 128
decoder.0.weight_orig 256,128,4,4
decoder.0.weight_u 128
decoder.0.weight_v 4096
decoder.3.bias 64
decoder.3.weight_orig 128,64,4,4
decoder.3.weight_u 64
decoder.3.weight_v 2048
decoder.7.weight 1,64,7,7
decoder.7.bias 1
[InpaintGenerator] 10774595
encoder.1.weight 64,4,7,7
encoder.1.bias 64
encoder.4.weight 128,64,4,4
encoder.4.bias 128
encoder.7.weight 256,128,4,4
encoder.7.bias 256
middle.0.conv_block.1.weight 256,256,3,3
middle.0.conv_block.1.bias 256
middle.0.conv_block.5.weight 256,256,3,3
middle.0.conv_block.5.bias 256
middle.1.conv_block.1.weight 256,256,3,3
middle.1.conv_block.1.bias 256
middle.1.conv_block.5.weight 256,256,3,3
middle.1.conv_block.5.bias 256
middle.2.conv_block.1.weight 256,256,3,3
middle.2.conv_block.1.bias 256
middle.2.conv_block.5.weight 256,256,3,3
middle.2.conv_block.5.bias 256
middle.3.conv_block.1.weight 256,256,3,3
middle.3.conv_block.1.bias 256
middle.3.conv_block.5.weight 256,256,3,3
middle.3.conv_block.5.bias 256
middle.4.conv_block.1.weight 256,256,3,3
middle.4.conv_block.1.bias 256
middle.4.conv_block.5.weight 256,256,3,3
middle.4.conv_block.5.bias 256
middle.5.conv_block.1.weight 256,256,3,3
middle.5.conv_block.1.bias 256
middle.5.conv_block.5.weight 256,256,3,3
middle.5.conv_block.5.bias 256
middle.6.conv_block.1.weight 256,256,3,3
middle.6.conv_block.1.bias 256
middle.6.conv_block.5.weight 256,256,3,3
middle.6.conv_block.5.bias 256
middle.7.conv_block.1.weight 256,256,3,3
middle.7.conv_block.1.bias 256
middle.7.conv_block.5.weight 256,256,3,3
middle.7.conv_block.5.bias 256
decoder.0.weight 256,128,4,4
decoder.0.bias 128
decoder.3.weight 128,64,4,4
decoder.3.bias 64
decoder.7.weight 3,64,7,7
decoder.7.bias 3
[Discriminator_edge] 2762752
conv1.0.weight_orig 64,2,4,4
conv1.0.weight_u 64
conv1.0.weight_v 32
features.0.weight_orig 64,2,4,4
features.0.weight_u 64
features.0.weight_v 32
conv2.0.weight_orig 128,64,4,4
conv2.0.weight_u 128
conv2.0.weight_v 1024
conv3.0.weight_orig 256,128,4,4
conv3.0.weight_u 256
conv3.0.weight_v 2048
conv4.0.weight_orig 512,256,4,4
conv4.0.weight_u 512
conv4.0.weight_v 4096
conv5.0.weight_orig 1,512,4,4
conv5.0.weight_u 1
conv5.0.weight_v 8192
[Discriminator_inpaint] 2763776
conv1.0.weight_orig 64,3,4,4
conv1.0.weight_u 64
conv1.0.weight_v 48
features.0.weight_orig 64,3,4,4
features.0.weight_u 64
features.0.weight_v 48
conv2.0.weight_orig 128,64,4,4
conv2.0.weight_u 128
conv2.0.weight_v 1024
conv3.0.weight_orig 256,128,4,4
conv3.0.weight_u 256
conv3.0.weight_v 2048
conv4.0.weight_orig 512,256,4,4
conv4.0.weight_u 512
conv4.0.weight_v 4096
conv5.0.weight_orig 1,512,4,4
conv5.0.weight_u 1
conv5.0.weight_v 8192
"""


def parse_layout(text: str = AUTHORS_LAYOUT) -> dict[str, tuple[int, "OrderedDict[str, tuple[int, ...]]"]]:
    layout: dict = {}
    for line in text.strip().splitlines():
        if line.startswith("["):
            name, count = line[1:].split("] ")
            layout[name] = (int(count), OrderedDict())
        else:
            key, shape = line.split()
            layout[name][1][key] = tuple(int(s) for s in shape.split(","))
    return layout


# ----------------------------------------------------------------------------- the authors' networks, rebuilt


def _sn(layer: nn.Module, use: bool) -> nn.Module:
    return spectral_norm(layer) if use else layer


def _norm(ch: int) -> nn.Module:
    return nn.InstanceNorm2d(ch, track_running_stats=False)


class RefResnetBlock(nn.Module):
    def __init__(self, dim: int, dilation: int, use_sn: bool):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(dilation),
            _sn(nn.Conv2d(dim, dim, kernel_size=3, padding=0, dilation=dilation, bias=not use_sn), use_sn),
            _norm(dim),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            _sn(nn.Conv2d(dim, dim, kernel_size=3, padding=0, dilation=1, bias=not use_sn), use_sn),
            _norm(dim),
        )

    def forward(self, x):
        return x + self.conv_block(x)


class RefGenerator(nn.Module):
    """The authors' EdgeGenerator (edge=True) / InpaintGenerator (edge=False) at the paper's size."""

    def __init__(self, edge: bool):
        super().__init__()
        self.edge = edge
        sn = edge
        cin, cout = (3, 1) if edge else (4, 3)
        self.encoder = nn.Sequential(
            nn.ReflectionPad2d(3), _sn(nn.Conv2d(cin, 64, 7, padding=0), sn), _norm(64), nn.ReLU(True),
            _sn(nn.Conv2d(64, 128, 4, stride=2, padding=1), sn), _norm(128), nn.ReLU(True),
            _sn(nn.Conv2d(128, 256, 4, stride=2, padding=1), sn), _norm(256), nn.ReLU(True),
        )
        self.middle = nn.Sequential(*[RefResnetBlock(256, 2, sn) for _ in range(8)])
        self.decoder = nn.Sequential(
            _sn(nn.ConvTranspose2d(256, 128, 4, stride=2, padding=1), sn), _norm(128), nn.ReLU(True),
            _sn(nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1), sn), _norm(64), nn.ReLU(True),
            nn.ReflectionPad2d(3), nn.Conv2d(64, cout, 7, padding=0),
        )

    def forward(self, x):
        x = self.decoder(self.middle(self.encoder(x)))
        return torch.sigmoid(x) if self.edge else (torch.tanh(x) + 1) / 2


class RefDiscriminator(nn.Module):
    def __init__(self, in_channels: int, use_sigmoid: bool = True):
        super().__init__()
        self.use_sigmoid = use_sigmoid
        self.conv1 = self.features = nn.Sequential(
            spectral_norm(nn.Conv2d(in_channels, 64, 4, stride=2, padding=1, bias=False)), nn.LeakyReLU(0.2, True))
        self.conv2 = nn.Sequential(
            spectral_norm(nn.Conv2d(64, 128, 4, stride=2, padding=1, bias=False)), nn.LeakyReLU(0.2, True))
        self.conv3 = nn.Sequential(
            spectral_norm(nn.Conv2d(128, 256, 4, stride=2, padding=1, bias=False)), nn.LeakyReLU(0.2, True))
        self.conv4 = nn.Sequential(
            spectral_norm(nn.Conv2d(256, 512, 4, stride=1, padding=1, bias=False)), nn.LeakyReLU(0.2, True))
        self.conv5 = nn.Sequential(spectral_norm(nn.Conv2d(512, 1, 4, stride=1, padding=1, bias=False)))

    def forward(self, x):
        c1 = self.conv1(x)
        c2 = self.conv2(c1)
        c3 = self.conv3(c2)
        c4 = self.conv4(c3)
        c5 = self.conv5(c4)
        out = torch.sigmoid(c5) if self.use_sigmoid else c5
        return out, [c1, c2, c3, c4, c5]


def randomise(net: nn.Module, seed: int) -> nn.Module:
    """Random weights, biases and spectral-norm vectors (zero biases would hide a bias that fails to load)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.05)
        for name, b in net.named_buffers():
            if name.endswith(("weight_u", "weight_v")):
                b.copy_(nn.functional.normalize(torch.randn(b.shape, generator=g), dim=0))
    # two training forwards = two power-iteration steps, so that sigma = u^T W v is not tiny by chance
    net.train()
    with torch.no_grad():
        for _ in range(2):
            net(torch.rand(1, first_conv(net).in_channels, 32, 32, generator=g))
    return net.eval()


def first_conv(net: nn.Module) -> nn.Conv2d:
    return next(m for m in net.modules() if isinstance(m, nn.Conv2d))


REF_BUILDERS = {
    "edge_generator": lambda: RefGenerator(edge=True),
    "inpaint_generator": lambda: RefGenerator(edge=False),
    "edge_discriminator": lambda: RefDiscriminator(2),
    "inpaint_discriminator": lambda: RefDiscriminator(3),
}
LAYOUT_NAMES = {
    "edge_generator": "EdgeGenerator",
    "inpaint_generator": "InpaintGenerator",
    "edge_discriminator": "Discriminator_edge",
    "inpaint_discriminator": "Discriminator_inpaint",
}
INPUT_CHANNELS = {"edge_generator": 3, "inpaint_generator": 4, "edge_discriminator": 2, "inpaint_discriminator": 3}


def write_authors_file(net: nn.Module, path: Path, legacy: bool, iteration: int = 1234) -> Path:
    sd = net.state_dict()
    obj = {"discriminator": sd} if isinstance(net, RefDiscriminator) else {"iteration": iteration, "generator": sd}
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    return path


def outputs(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        y = net(x)
    return y[0] if isinstance(y, tuple) else y


@pytest.fixture(scope="module")
def ref_nets():
    return {kind: randomise(build(), seed=i) for i, (kind, build) in enumerate(REF_BUILDERS.items())}


@pytest.fixture(scope="module")
def authors_folder(ref_nets, tmp_path_factory):
    """A folder like the authors' release: four files in PyTorch's legacy (non-zip) format, as torch 1.0 wrote."""
    folder = tmp_path_factory.mktemp("authors_legacy")
    for kind, net in ref_nets.items():
        write_authors_file(net, folder / AUTHORS_FILES[kind][0], legacy=True)
    return folder


# ----------------------------------------------------------------------------- layout


@pytest.mark.parametrize("kind", list(AUTHORS_FILES))
def test_layout_keys_shapes_and_counts(kind, ref_nets):
    count, layout = parse_layout()[LAYOUT_NAMES[kind]]
    ours = paper_network(kind)
    ours_sd = authors_state_dict(ours)
    assert list(ours_sd) == list(layout)  # same keys, same order
    assert {k: tuple(v.shape) for k, v in ours_sd.items()} == dict(layout)
    assert count_parameters(ours) == count
    # and the reference re-implementation used below has that layout too
    ref_sd = ref_nets[kind].state_dict()
    assert {k: tuple(v.shape) for k, v in ref_sd.items()} == dict(layout)
    assert sum(p.numel() for p in ref_nets[kind].parameters()) == count


# ----------------------------------------------------------------------------- loading the authors' files


@pytest.mark.parametrize("kind", list(AUTHORS_FILES))
def test_authors_files_load_with_the_same_outputs(kind, authors_folder, ref_nets):
    ours = load_authors_checkpoint(authors_folder, kind=kind)
    assert not ours.training
    x = torch.rand(1, INPUT_CHANNELS[kind], 32, 32, generator=torch.Generator().manual_seed(7))
    ref = ref_nets[kind]
    y_ref, y = outputs(ref, x), outputs(ours, x)
    if "discriminator" in kind:
        y_ref = torch.logit(y_ref.double()).float()  # the authors' D ended in a sigmoid, ours gives logits
        _, feats = ours(x)
        _, feats_ref = ref(x)
        assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(feats, feats_ref))
    assert y.shape == y_ref.shape
    assert torch.allclose(y, y_ref, atol=1e-5), (y - y_ref).abs().max()
    # a file loaded by path (kind from its name) gives the same network
    again = load_authors_checkpoint(authors_folder / AUTHORS_FILES[kind][0])
    assert torch.equal(outputs(again, x), y)


@pytest.mark.parametrize("kind", ["inpaint_generator", "edge_discriminator"])
def test_files_in_the_default_zip_format_load_too(kind, ref_nets, tmp_path):
    ref = ref_nets[kind]
    path = write_authors_file(ref, tmp_path / AUTHORS_FILES[kind][0], legacy=False)
    ours = load_authors_checkpoint(path)
    x = torch.rand(1, INPUT_CHANNELS[kind], 32, 32, generator=torch.Generator().manual_seed(3))
    y_ref = outputs(ref, x)
    if "discriminator" in kind:
        y_ref = torch.logit(y_ref.double()).float()
    assert torch.allclose(outputs(ours, x), y_ref, atol=1e-5)


def test_read_authors_checkpoint_and_guess_kind(authors_folder):
    gen = read_authors_checkpoint(authors_folder / "EdgeModel_gen.pth")
    assert gen.iteration == 1234 and gen.entry == "generator"
    dis = read_authors_checkpoint(authors_folder / "InpaintingModel_dis.pth")
    assert dis.iteration is None and dis.entry == "discriminator"
    for kind, (name, _) in AUTHORS_FILES.items():
        assert guess_kind(read_authors_checkpoint(authors_folder / name).state_dict) == kind


def test_load_authors_folder_loads_all_four(authors_folder):
    nets = load_authors_folder(authors_folder)
    assert set(nets) == set(AUTHORS_FILES)
    assert isinstance(nets["edge_generator"], EdgeGenerator)
    assert isinstance(nets["inpaint_generator"], InpaintGenerator)
    assert nets["edge_discriminator"].in_channels == 2 and nets["inpaint_discriminator"].in_channels == 3


def test_dataparallel_prefix_is_accepted(ref_nets, tmp_path):
    ref = ref_nets["edge_discriminator"]
    sd = nn.DataParallel(ref).state_dict()
    assert next(iter(sd)).startswith("module.")
    path = tmp_path / "EdgeModel_dis.pth"
    torch.save({"discriminator": sd}, path)
    ours = load_authors_checkpoint(path)
    x = torch.rand(1, 2, 64, 64)
    assert torch.allclose(outputs(ours, x), torch.logit(outputs(ref, x).double()).float(), atol=1e-5)


def test_spectral_norm_files_from_pytorch_before_1_1(tmp_path):
    # Files from PyTorch < 1.1 stored the normalised weight NAME.weight and no NAME.weight_v; PyTorch's
    # spectral-norm load hook rebuilds v (with a pseudo-inverse of W^T W: slow at the paper's size, so a
    # narrow discriminator is used here, loaded through module=).
    torch.manual_seed(0)
    src = PatchDiscriminator(3, base_channels=4)
    src.train()
    outputs(src, torch.rand(1, 3, 32, 32))
    src.eval()
    x = torch.rand(1, 3, 64, 64)
    expected = outputs(src, x)  # eval forward: weight = weight_orig / (u^T W v)
    old = OrderedDict()
    for key, value in src.state_dict().items():
        if key.endswith("weight_v"):
            old[key[: -len("_v")]] = src.get_submodule(key[: -len(".weight_v")]).weight.detach().clone()
        else:
            old[key] = value
    path = tmp_path / "InpaintingModel_dis.pth"
    torch.save({"discriminator": old}, path, _use_new_zipfile_serialization=False)
    ours = load_authors_checkpoint(path, module=PatchDiscriminator(3, base_channels=4))
    assert torch.allclose(outputs(ours, x), expected, atol=1e-5)


# ----------------------------------------------------------------------------- errors


def test_wrong_kind_names_missing_and_unexpected_keys(authors_folder):
    path = authors_folder / "EdgeModel_dis.pth"
    with pytest.raises(ValueError) as err:
        load_authors_checkpoint(path, kind="edge_generator")
    msg = str(err.value)
    assert str(path) in msg
    assert "missing keys" in msg and "encoder.1.weight_orig" in msg
    assert "unexpected keys" in msg and "conv1.0.weight_orig" in msg
    assert "edge_discriminator" in msg  # what the file looks like
    # same keys, other shapes: D1's file into D2
    with pytest.raises(ValueError, match=r"shape mismatches(.|\n)*conv1\.0\.weight_orig"):
        load_authors_checkpoint(path, kind="inpaint_discriminator")
    with pytest.raises(ValueError, match="missing keys"):
        load_authors_checkpoint(authors_folder / "EdgeModel_gen.pth", kind="inpaint_generator")


def test_file_and_folder_errors(tmp_path, authors_folder):
    with pytest.raises(ValueError, match="kind="):
        load_authors_checkpoint(authors_folder)
    with pytest.raises(ValueError, match="kind="):
        load_authors_checkpoint(authors_folder, kind="generator")
    with pytest.raises(FileNotFoundError, match="EdgeModel_gen.pth"):
        load_authors_checkpoint(tmp_path, kind="edge_generator")
    with pytest.raises(FileNotFoundError):
        load_authors_checkpoint(tmp_path / "nope.pth")
    garbage = tmp_path / "EdgeModel_gen.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="EdgeModel_gen.pth"):
        load_authors_checkpoint(garbage)
    other = tmp_path / "other.pth"
    torch.save({"optimizer": {"lr": 1e-4}}, other)
    with pytest.raises(ValueError, match="not in the authors' format"):
        load_authors_checkpoint(other, kind="edge_generator")


def test_weights_only_refuses_arbitrary_objects(tmp_path):
    path = tmp_path / "EdgeModel_gen.pth"
    torch.save({"iteration": 1, "generator": io.BytesIO(b"x")}, path)  # an object that is not a tensor
    with pytest.raises(ValueError, match="weights_only"):
        load_authors_checkpoint(path)


# ----------------------------------------------------------------------------- writing the authors' layout


@pytest.mark.parametrize("kind", ["edge_generator", "edge_discriminator"])
def test_our_networks_saved_in_the_authors_layout_load_into_theirs(kind, tmp_path):
    torch.manual_seed(0)
    ours = randomise(paper_network(kind), seed=11)
    path = save_authors_checkpoint(ours, tmp_path, iteration=42, legacy_format=True)
    assert path.name == AUTHORS_FILES[kind][0]
    data = torch.load(path, weights_only=True)
    ref = REF_BUILDERS[kind]()
    ref.load_state_dict(data[AUTHORS_FILES[kind][1]], strict=True)
    ref.eval()
    x = torch.rand(1, INPUT_CHANNELS[kind], 32, 32)
    y_ref = outputs(ref, x)
    if "discriminator" in kind:
        y_ref = torch.logit(y_ref.double()).float()
    else:
        assert data["iteration"] == 42
    assert torch.allclose(outputs(ours, x), y_ref, atol=1e-5)


# ----------------------------------------------------------------------------- our own network files


def test_save_and_load_network_round_trip(tmp_path):
    torch.manual_seed(0)
    nets = [
        (EdgeGenerator(base_channels=8, residual_blocks=2), torch.rand(1, 3, 32, 32)),
        (InpaintGenerator(base_channels=8, residual_blocks=1), torch.rand(1, 4, 32, 32)),
        (PatchDiscriminator(2, base_channels=8), torch.rand(1, 2, 32, 32)),
    ]
    for i, (net, x) in enumerate(nets):
        net.train()
        outputs(net, x)  # a training forward moves the spectral-norm vectors away from their init
        net.eval()
        path = save_network(net, tmp_path / f"net{i}.pt", iteration=100 + i)
        loaded = load_network(path)
        assert network_config(loaded) == network_config(net)
        assert torch.equal(outputs(loaded, x), outputs(net, x))
        sd, sd_loaded = net.state_dict(), loaded.state_dict()
        assert all(torch.equal(sd[k], sd_loaded[k]) for k in sd)
        into = type(net)(**{k: v for k, v in network_config(net).items() if k != "class"})
        assert torch.equal(outputs(load_network(path, module=into), x), outputs(net, x))
    assert torch.load(tmp_path / "net0.pt", weights_only=True)["metadata"] == {"iteration": 100}


def test_load_network_errors(tmp_path, authors_folder):
    path = save_network(EdgeGenerator(base_channels=8, residual_blocks=1), tmp_path / "g.pt")
    with pytest.raises(ValueError, match="given module"):
        load_network(path, module=EdgeGenerator(base_channels=16, residual_blocks=1))
    with pytest.raises(ValueError, match="load_authors_checkpoint"):
        load_network(authors_folder / "EdgeModel_dis.pth")
    with pytest.raises(FileNotFoundError):
        load_network(tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="metadata"):
        save_network(EdgeGenerator(base_channels=8, residual_blocks=1), tmp_path / "h.pt", cfg=[1, 2])


# ----------------------------------------------------------------------------- safe reads and writes (issue 12)
def test_a_file_that_is_not_a_checkpoint_or_runs_code_is_named_so(tmp_path):
    import os

    from edgeconnect_lib.checkpoints import load_checkpoint

    text = tmp_path / "notes.pt"
    text.write_text("hello world\n")
    with pytest.raises(ValueError, match="is not a PyTorch checkpoint"):
        load_checkpoint(text)
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(ValueError, match="the file is empty"):
        load_checkpoint(tmp_path / "empty.pt")

    class Evil:
        def __reduce__(self):
            return (os.system, ("true",))

    torch.save({"networks": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(ValueError) as info:
        load_checkpoint(tmp_path / "evil.pt")
    msg = str(info.value)
    assert "unsupported GLOBAL" in msg and ".system whose module" in msg  # the whole sentence, not cut
    assert "arbitrary code" in msg and "weights_only=False" in msg


def test_a_failed_write_becomes_an_oserror_naming_the_file_and_the_cause(tmp_path, monkeypatch):
    import errno

    from edgeconnect_lib import checkpoints as ckpt_mod
    from edgeconnect_lib import fileio as fileio_mod
    from edgeconnect_lib.checkpoints import atomic_save, write_error

    err = write_error(RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos"), tmp_path / "a.pt")
    assert err.errno == errno.EIO and "inline_container" in err.strerror and err.filename == str(tmp_path / "a.pt")
    monkeypatch.setattr(fileio_mod, "_free_bytes", lambda folder: 0.0)
    err = write_error(RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos"), tmp_path / "a.pt")
    assert err.errno == errno.ENOSPC and err.strerror == "No space left on device"
    monkeypatch.undo()

    def no_space(obj, f, *a, **k):
        f.write(b"part")
        raise OSError(errno.ENOSPC, "No space left on device")

    atomic_save({"x": torch.ones(1)}, tmp_path / "a.pt")
    monkeypatch.setattr(ckpt_mod.torch, "save", no_space)
    with pytest.raises(OSError) as info:
        atomic_save({"x": torch.zeros(1)}, tmp_path / "a.pt")
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / "a.pt")
    monkeypatch.undo()
    assert torch.load(tmp_path / "a.pt", weights_only=True)["x"].item() == 1.0
    assert [p.name for p in tmp_path.iterdir()] == ["a.pt"]


def test_shipped_checkpoints_fit_the_budget_and_the_campaign_ones_load():
    """data/checkpoints stays within 40 MB (issue 18), and the training campaign's half-precision checkpoints load
    into float32 resize-convolution networks that the trainer can continue (data/README.md)."""
    from edgeconnect_lib.checkpoints import load_checkpoint
    from edgeconnect_lib.pipeline import network_from_checkpoint

    folder = Path(__file__).resolve().parents[1] / "data" / "checkpoints"
    total = sum(p.stat().st_size for p in folder.rglob("*.pt"))
    assert total <= 40 * 2**20, f"data/checkpoints holds {total / 2**20:.1f} MiB, over the 40 MB budget"
    for name, net in (("edge_resize_corpus.pt", "G_edge"), ("stage3_grad_l1.pt", "G_inpaint"),
                      ("stage3_edge_grad.pt", "G_inpaint")):
        ckpt = load_checkpoint(folder / "campaign" / name)
        assert ckpt["extra"]["stored_as"] == "float16" and ckpt["config"]["upsample"] == "resize"
        g = network_from_checkpoint(ckpt, net)
        assert g.upsample == "resize" and all(p.dtype == torch.float32 for p in g.parameters())
    g2 = load_checkpoint(folder / "campaign" / "stage3_grad_l1.pt")
    assert g2["config"]["stage"] == "edge-inpaint" and network_from_checkpoint(g2, "G_inpaint").prefill
    assert g2["config"]["edge_prefill"]  # trained on the G1 of edge_resize_corpus.pt shown the pull-push fill's edges
    assert g2["config"]["grad_l1"] == 5.0  # the shipped stage 3 (data/README.md, stop 33)
    e = load_checkpoint(folder / "campaign" / "stage3_edge_grad.pt")  # its continuation with the edge term (stop 34)
    assert e["config"]["grad_l1"] == 5.0 and e["config"]["edge_grad_l1"] == 5.0 and "G_edge" not in e["networks"]
    # the shipped pipeline: float16 on disk, the campaign's networks, G1 shown the pull-push fill's edges
    shipped = load_checkpoint(folder / "edgeconnect.pt")
    assert shipped["metadata"]["stored_as"] == "float16"
    from edgeconnect_lib.models import EdgeConnect

    ec = EdgeConnect.load(folder / "edgeconnect.pt")
    assert ec.G_edge.prefill and ec.G_inpaint.prefill and ec.G_inpaint.upsample == "resize"


def test_save_authors_checkpoint_refuses_networks_the_authors_code_cannot_load(tmp_path):
    """A resize-convolution or pre-filled G2 has other keys or shapes than the authors' networks: refused."""
    from edgeconnect_lib.networks import InpaintGenerator, with_prefill

    resize = InpaintGenerator(base_channels=8, residual_blocks=1, upsample="resize")
    for net in (resize, with_prefill(resize)):
        with pytest.raises(ValueError, match="course options the authors' networks lack"):
            save_authors_checkpoint(net, tmp_path / "g.pth")
    assert not list(tmp_path.iterdir())
