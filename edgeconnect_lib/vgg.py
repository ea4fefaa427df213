"""VGG19 feature extractor for the perceptual and style losses (EdgeConnect, Sec. 3.2).

EdgeConnect's image-completion network G2 is trained with two losses measured on the activations
of a VGG19 network (Simonyan & Zisserman, 2015) pre-trained on ImageNet:

- the perceptual loss on ``relu1_1, relu2_1, relu3_1, relu4_1, relu5_1``;
- the style loss on Gram matrices of ``relu2_2, relu3_4, relu4_4, relu5_2``.

The network is defined here, without torchvision, but with the *same layer indices* as torchvision's
``vgg19().features`` so that torchvision's published weights file (``vgg19-dcbb9e9d.pth``, keys
``features.0.weight`` ... ``features.34.bias``) loads directly; its classifier keys are ignored.

:func:`load_vgg19` looks for those weights (explicit path, ``$EDGECONNECT_VGG19_WEIGHTS``, the torch hub
cache, a download when allowed and online) and otherwise falls back, with one warning, to seeded random
weights; the returned ``source`` string always says which weights are in use.

Lesson: ``notebooks/04_loss_terms.ipynb``.
"""
from __future__ import annotations

import socket
import threading
import warnings
from pathlib import Path

import torch
from torch import nn

from . import settings
from .errors import UsageError

__all__ = [
    "VGG19Features",
    "load_vgg19",
    "vgg19_hub_cache_path",
    "VGG19_URL",
    "VGG19_FILENAME",
    "VGG19_LAYER_INDEX",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "RANDOM_SEED",
]

#: torchvision's published ImageNet VGG19 weights (the file the EdgeConnect authors used via torchvision).
VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
VGG19_FILENAME = "vgg19-dcbb9e9d.pth"

#: ImageNet statistics of torchvision's pre-trained models (inputs in [0, 1]).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: Seed of the random fallback weights.
RANDOM_SEED = 0

#: Environment variables: a weights file to use, and a switch that forbids downloading.
ENV_WEIGHTS = settings.VGG19_WEIGHTS
ENV_OFFLINE = settings.OFFLINE

# torchvision's configuration "E" (VGG19): numbers are conv output channels, "M" a 2x2 max-pool.
_CFG_E = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")

# Block b, conv k -> "relub_k". Built from the config so the indices match torchvision's features.N.
def _layer_index() -> dict[str, int]:
    names: dict[str, int] = {}
    idx, block, conv = 0, 1, 0
    for v in _CFG_E:
        if v == "M":
            idx += 1  # the pool
            block, conv = block + 1, 0
        else:
            conv += 1
            names[f"relu{block}_{conv}"] = idx + 1  # conv at idx, its ReLU at idx + 1
            idx += 2
    return names


#: Activation name -> index of its ReLU in ``features`` (relu1_1 -> 1, ..., relu5_4 -> 35).
VGG19_LAYER_INDEX: dict[str, int] = _layer_index()


class VGG19Features(nn.Module):
    """VGG19's convolutional part, returning named ReLU activations.

    ``forward(x, layers)`` takes images ``(B, 3, H, W)`` in [0, 1], normalises them with ImageNet's mean
    and std (``normalize_input=True``; the EdgeConnect authors fed [0, 1] images without normalising,
    set ``False`` to do the same) and returns ``{name: activation}`` for the requested ``layers``
    (default: the layers given at construction), running the network only up to the deepest one.

    The parameters are frozen (``requires_grad=False``) and the module always stays in eval mode.
    Layer indices match torchvision's ``vgg19().features``, so its state dict loads as is.
    """

    def __init__(self, layers: tuple[str, ...] | list[str] | None = None, normalize_input: bool = True) -> None:
        super().__init__()
        modules: list[nn.Module] = []
        in_ch = 3
        for v in _CFG_E:
            if v == "M":
                modules.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                modules += [nn.Conv2d(in_ch, int(v), kernel_size=3, padding=1), nn.ReLU(inplace=False)]
                in_ch = int(v)
        self.features = nn.Sequential(*modules)  # indices 0..36, convs at 0, 2, 5, ..., 34
        self.layers = tuple(layers) if layers is not None else tuple(VGG19_LAYER_INDEX)
        self._check_layers(self.layers)
        self.normalize_input = normalize_input
        # Buffers not saved in the state dict, so the state dict is exactly torchvision's layout.
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    @staticmethod
    def _check_layers(layers) -> None:
        unknown = [name for name in layers if name not in VGG19_LAYER_INDEX]
        if unknown or not layers:
            raise UsageError(
                f"layers={tuple(layers)!r}: unknown VGG19 activation(s) {unknown}; "
                f"choose from {list(VGG19_LAYER_INDEX)}"
            )

    def train(self, mode: bool = True) -> "VGG19Features":
        """Stay in eval mode: the loss network is a fixed measuring instrument."""
        return super().train(False)

    def forward(self, x: torch.Tensor, layers: tuple[str, ...] | list[str] | None = None) -> dict[str, torch.Tensor]:
        layers = self.layers if layers is None else tuple(layers)
        self._check_layers(layers)
        if x.dim() != 4 or x.shape[1] != 3:
            raise UsageError(f"VGG19Features expects images of shape (B, 3, H, W) in [0, 1], got {tuple(x.shape)}")
        if self.normalize_input:
            # x_hat = (x - mean) / std, ImageNet statistics
            x = (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        wanted = {VGG19_LAYER_INDEX[name]: name for name in layers}
        last = max(wanted)
        out: dict[str, torch.Tensor] = {}
        for i, module in enumerate(self.features):
            x = module(x)
            if i in wanted:
                out[wanted[i]] = x
            if i == last:  # stop at the deepest requested layer
                break
        return {name: out[name] for name in layers}


def vgg19_hub_cache_path() -> Path:
    """Where torchvision would cache the VGG19 weights: ``torch.hub.get_dir()/checkpoints/vgg19-dcbb9e9d.pth``.

    ``torch.hub.get_dir()`` honours ``$TORCH_HOME`` (then ``$XDG_CACHE_HOME/torch``, then ``~/.cache/torch``).
    """
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILENAME


def _online(host: str = "download.pytorch.org", port: int = 443, timeout: float = 2.5) -> bool:
    """True when a TCP connection to ``host`` opens within ``timeout`` seconds (name lookup included)."""
    result = {"ok": False}

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result["ok"] = True
        except OSError:
            pass

    # The name lookup ignores socket timeouts, so the probe runs in a thread we stop waiting for.
    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return result["ok"]


def _load_state_dict_file(path: Path, model: VGG19Features) -> None:
    """Load a torchvision-layout VGG19 state dict from ``path`` into ``model``, with clear errors."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # corrupt file, pickle with arbitrary objects, ...
        # one line with the fix; never PyTorch's advice to load with weights_only=False (that runs the file's code)
        raise UsageError(f"cannot read VGG19 weights from {path} ({type(err).__name__}): the file is damaged or not a "
                         "weights file; delete it and fetch it again with 'python -m edgeconnect_lib download "
                         "vgg19'") from err
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise UsageError(f"{path} does not hold a state dict (got {type(state).__name__})")
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    if missing:
        raise UsageError(
            f"{path} is not a torchvision VGG19 state dict: missing keys {missing[:6]}"
            f"{' ...' if len(missing) > 6 else ''} ({len(missing)} of {len(expected)}). Expected torchvision's "
            f"layout (features.0.weight ... features.34.bias), e.g. the file {VGG19_FILENAME} from {VGG19_URL}"
        )
    wrong = [f"{k}: {tuple(state[k].shape)} != {tuple(v.shape)}" for k, v in expected.items() if state[k].shape != v.shape]
    if wrong:
        raise UsageError(f"{path}: VGG19 weights with the wrong shapes: {wrong[:4]}")
    # Keys outside features.* (torchvision's classifier) are ignored.
    model.load_state_dict({k: state[k] for k in expected})


def _random_init(model: VGG19Features, seed: int = RANDOM_SEED) -> None:
    """Seeded Kaiming-normal weights (fan_out, as torchvision initialises VGG) and zero biases."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.features:
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu", generator=gen)
            nn.init.zeros_(m.bias)


_warned_random = False


def load_vgg19(
    weights: str | Path | None = None,
    device: str | torch.device = "cpu",
    allow_download: bool = True,
    layers: tuple[str, ...] | list[str] | None = None,
    normalize_input: bool = True,
) -> tuple[VGG19Features, str]:
    """A frozen :class:`VGG19Features` on ``device`` and a string saying which weights it holds.

    Resolution order:

    1. ``weights``, an explicit path (a missing file raises ``FileNotFoundError`` naming it);
    2. ``$EDGECONNECT_VGG19_WEIGHTS`` when set (same rule);
    3. torch hub's cache, :func:`vgg19_hub_cache_path` (honours ``$TORCH_HOME``);
    4. a download of torchvision's file into that cache, only when ``allow_download`` is true,
       ``$EDGECONNECT_OFFLINE`` is not set to 1/true/yes and ``download.pytorch.org`` answers within 2.5 s;
    5. otherwise seeded random weights (seed :data:`RANDOM_SEED`, Kaiming init), with one warning per
       process that lists the paths tried and how to provide the file.

    A file with the wrong keys or shapes raises ``ValueError`` naming the missing keys. Files are read
    with ``torch.load(..., weights_only=True)``.
    """
    model = VGG19Features(layers=layers, normalize_input=normalize_input)
    tried: list[str] = []

    candidates: list[tuple[Path, str]] = []
    if weights is not None and str(weights) != "":
        candidates.append((Path(weights).expanduser(), "weights argument"))
    env_path = settings.vgg19_weights()
    if env_path is not None:
        candidates.append((env_path, f"${ENV_WEIGHTS}"))
    for path, origin in candidates:  # explicit paths must exist
        if not path.is_file():
            raise FileNotFoundError(
                f"VGG19 weights file not found: {path} (from the {origin}). Give the path of torchvision's "
                f"{VGG19_FILENAME} ({VGG19_URL}), or leave it empty to look in the torch hub cache."
            )
        _load_state_dict_file(path, model)
        return model.to(device), f"ImageNet VGG19 weights from {path}"

    cache = vgg19_hub_cache_path()
    tried.append(str(cache))
    if cache.is_file():
        _load_state_dict_file(cache, model)
        return model.to(device), f"ImageNet VGG19 weights from {cache}"

    if allow_download and not settings.offline():
        tried.append(VGG19_URL)
        if _online():
            try:
                torch.hub.load_state_dict_from_url(
                    VGG19_URL, model_dir=str(cache.parent), map_location="cpu", check_hash=True, weights_only=True
                )
            except Exception:  # network dropped, hash mismatch, ...: fall through to the random weights
                pass
            if cache.is_file():
                _load_state_dict_file(cache, model)
                return model.to(device), f"ImageNet VGG19 weights downloaded to {cache}"

    _random_init(model)
    global _warned_random
    if not _warned_random:
        _warned_random = True
        warnings.warn(
            "ImageNet VGG19 weights not found (tried: " + ", ".join(tried) + "); using RANDOM weights "
            f"(seed {RANDOM_SEED}), so perceptual and style losses are only illustrative. To use the real "
            f"ones, put torchvision's {VGG19_FILENAME} ({VGG19_URL}) in {cache.parent}, or pass its path "
            f"(load_vgg19(weights=...)) or set ${ENV_WEIGHTS}.",
            UserWarning,
            stacklevel=2,
        )
    source = (
        f"RANDOM weights (seed {RANDOM_SEED}) - ImageNet VGG19 not found; perceptual/style losses are only illustrative"
    )
    return model.to(device), source
