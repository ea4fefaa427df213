"""The EdgeConnect authors' released checkpoint format (Nazeri et al. 2019, github.com/knazeri/edge-connect).

A released checkpoint folder (Places2, CelebA, Paris StreetView) holds ``EdgeModel_gen.pth`` /
``InpaintingModel_gen.pth`` (a dict ``{"iteration": int, "generator": state_dict}``) and ``EdgeModel_dis.pth`` /
``InpaintingModel_dis.pth`` (``{"discriminator": state_dict}``), written by ``torch.save`` of PyTorch 1.0.
:func:`load_authors_checkpoint` reads one of them with ``torch.load(..., weights_only=True)`` (which reads the
legacy non-zip format too) into our networks at the paper's size (:func:`paper_network`, from
:mod:`edgeconnect_lib.networks`), which then compute the same outputs as the authors' networks. It accepts state
dicts saved from ``nn.DataParallel`` (keys prefixed ``module.``), drops the duplicate ``features.0.*`` keys of the
authors' discriminator (their ``self.conv1 = self.features``), and lets PyTorch's spectral-norm load hook convert
files from older PyTorch versions. A file of the wrong kind raises a ``ValueError`` naming the file, the missing and
unexpected keys, the shape mismatches and the kind the file looks like (:func:`check_state_dict`).
:func:`save_authors_checkpoint` writes the same layout (atomically, :func:`edgeconnect_lib.fileio.atomic_save`).

Our own formats (the trainer's, the pipeline's, InGAN's, one network's) are :mod:`edgeconnect_lib.checkpoints`,
which re-exports these names.
"""
from __future__ import annotations

import os
import pickle
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import torch
from torch import nn

from .errors import UsageError
from .fileio import atomic_save
from .networks import EdgeGenerator, InpaintGenerator, PatchDiscriminator, network_config

__all__ = [
    "AUTHORS_FILES",
    "AuthorsCheckpoint",
    "paper_network",
    "read_authors_checkpoint",
    "load_authors_checkpoint",
    "load_authors_folder",
    "authors_state_dict",
    "save_authors_checkpoint",
    "guess_kind",
    "load_weights_file",
    "check_state_dict",
]

#: kind -> (file name in the authors' folder, key of the state dict inside the file)
AUTHORS_FILES: dict[str, tuple[str, str]] = {
    "edge_generator": ("EdgeModel_gen.pth", "generator"),
    "inpaint_generator": ("InpaintingModel_gen.pth", "generator"),
    "edge_discriminator": ("EdgeModel_dis.pth", "discriminator"),
    "inpaint_discriminator": ("InpaintingModel_dis.pth", "discriminator"),
}
_KIND_BY_FILE = {name: kind for kind, (name, _) in AUTHORS_FILES.items()}




def paper_network(kind: str, use_sigmoid: bool = False) -> nn.Module:
    """A fresh network of ``kind`` at the paper's size (the architecture of the authors' files).

    The authors' discriminators ended in a sigmoid for their default ``nsgan`` loss; ours return logits
    unless ``use_sigmoid=True`` (the weights are the same either way).
    """
    _check_kind(kind)
    if kind == "edge_generator":
        return EdgeGenerator(base_channels=64, residual_blocks=8, use_spectral_norm=True)
    if kind == "inpaint_generator":
        return InpaintGenerator(base_channels=64, residual_blocks=8)
    in_channels = 2 if kind == "edge_discriminator" else 3
    return PatchDiscriminator(in_channels, base_channels=64, use_spectral_norm=True, use_sigmoid=use_sigmoid)


def _check_kind(kind: str) -> None:
    if kind not in AUTHORS_FILES:
        raise UsageError(f"kind={kind!r}: choose one of {list(AUTHORS_FILES)}")


@dataclass
class AuthorsCheckpoint:
    """What one of the authors' files holds: its state dict (keys as in the file) and its iteration."""

    path: Path
    state_dict: "OrderedDict[str, torch.Tensor]"
    iteration: int | None
    entry: str | None  # "generator", "discriminator" or None for a bare state dict


def load_weights_file(path: Path, map_location: str | torch.device) -> object:
    """``torch.load`` with ``weights_only=True`` and errors that name the file (a ``ValueError`` for a file that
    cannot be read so: truncated, or holding objects that are not tensors or numbers)."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, AttributeError) as err:
        raise UsageError(
            f"{path}: could not be read as a PyTorch checkpoint with weights_only=True ({err}). Is it a "
            "complete .pth file of tensors (re-download it if it was cut short)?"
        ) from err


def read_authors_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> AuthorsCheckpoint:
    """Read one of the authors' ``.pth`` files (or a bare state dict) without building a network."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file not found: {path}")
    data = load_weights_file(path, map_location)
    if not isinstance(data, Mapping):
        raise UsageError(f"{path}: expected a dict, found {type(data).__name__}")
    for entry in ("generator", "discriminator"):
        if entry in data:
            sd = data[entry]
            if not isinstance(sd, Mapping):
                raise UsageError(f"{path}: data[{entry!r}] is a {type(sd).__name__}, not a state dict")
            iteration = data.get("iteration")
            return AuthorsCheckpoint(path, sd, int(iteration) if iteration is not None else None, entry)
    if data and all(isinstance(v, torch.Tensor) for v in data.values()):
        return AuthorsCheckpoint(path, data, None, None)  # a bare state dict
    raise UsageError(
        f"{path}: not in the authors' format: expected a dict with a 'generator' or 'discriminator' "
        f"state dict, found keys {sorted(map(str, data))[:10]}"
    )


def guess_kind(state_dict: Mapping[str, torch.Tensor]) -> str | None:
    """Which of the authors' networks a state dict (our keys or theirs) belongs to, or ``None``."""
    keys = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state_dict.items()}
    for first in ("conv1.0.weight_orig", "conv1.0.weight", "features.0.weight_orig"):
        if first in keys and keys[first].dim() == 4:
            return {2: "edge_discriminator", 3: "inpaint_discriminator"}.get(keys[first].shape[1])
    if "encoder.1.weight_orig" in keys and keys["encoder.1.weight_orig"].shape[1] == 3:
        return "edge_generator"
    if "encoder.1.weight" in keys and keys["encoder.1.weight"].dim() == 4:
        return {3: "edge_generator", 4: "inpaint_generator"}.get(keys["encoder.1.weight"].shape[1])
    return None


def _copy_state_dict(sd: Mapping[str, torch.Tensor]) -> "OrderedDict[str, torch.Tensor]":
    """Shallow copy that keeps the ``_metadata`` (spectral-norm versions) PyTorch's load hooks read."""
    out = OrderedDict(sd)
    metadata = getattr(sd, "_metadata", None)
    if metadata is not None:
        out._metadata = OrderedDict(metadata)  # type: ignore[attr-defined]
    return out


def _to_our_keys(sd: Mapping[str, torch.Tensor], path: Path | str) -> "OrderedDict[str, torch.Tensor]":
    """Authors' keys -> ours: strip ``module.`` (DataParallel), fold ``features.*`` into ``conv1.*``."""
    sd = _copy_state_dict(sd)
    # nn.DataParallel saves "module.encoder.1.bias"; its metadata keys carry the prefix too
    nn.modules.utils.consume_prefix_in_state_dict_if_present(sd, "module.")
    feature_keys = [k for k in sd if k.startswith("features.")]
    for key in feature_keys:
        twin = "conv1." + key[len("features."):]
        value = sd.pop(key)
        if twin not in sd:
            sd[twin] = value
        elif not torch.equal(sd[twin], value):
            raise UsageError(
                f"{path}: {key} and {twin} differ, but in the authors' discriminator they are the same layer "
                "(self.conv1 = self.features); the file looks corrupted"
            )
    return sd


def check_state_dict(module: nn.Module, sd: Mapping[str, torch.Tensor], path: Path | str, kind: str | None) -> None:
    """Raise a ValueError naming missing / unexpected keys and shape mismatches of ``sd`` (read from ``path``)
    for ``module``, before loading; the message says which of the authors' networks the keys fit, if any."""
    expected = module.state_dict()
    # Files from PyTorch < 1.1 store the normalised weight NAME.weight instead of NAME.weight_v;
    # the spectral-norm load hook converts them, so that pair is not an error.
    sn_prefixes = {k[: -len("weight_orig")] for k in expected if k.endswith("weight_orig")}
    legacy = {p + "weight" for p in sn_prefixes if p + "weight" in sd and p + "weight_v" not in sd}
    missing = [k for k in expected if k not in sd and not (k.endswith("weight_v") and k[:-2] in legacy)]
    unexpected = [k for k in sd if k not in expected and k not in legacy]
    mismatched = [
        f"{k}: file {tuple(sd[k].shape)} vs network {tuple(expected[k].shape)}"
        for k in expected
        if k in sd and isinstance(sd[k], torch.Tensor) and sd[k].shape != expected[k].shape
    ]
    if not (missing or unexpected or mismatched):
        return
    looks_like = guess_kind(sd)
    hint = f"\nThe file's keys and shapes fit kind={looks_like!r}." if looks_like else ""
    parts = [f"{path} does not fit {type(module).__name__}" + (f" (kind={kind!r})" if kind else "") + "."]

    def listing(title: str, items: list[str]) -> None:
        if items:
            more = f" ... and {len(items) - 8} more" if len(items) > 8 else ""
            parts.append(f"{title} ({len(items)}): {items[:8]}{more}")

    listing("missing keys", missing)
    listing("unexpected keys", unexpected)
    listing("shape mismatches", mismatched)
    raise UsageError("\n".join(parts) + hint)


def _resolve(path_or_folder: str | os.PathLike, kind: str | None) -> tuple[Path, str | None]:
    path = Path(path_or_folder)
    if path.is_dir():
        if kind is None:
            raise UsageError(f"{path} is a folder: pass kind= one of {list(AUTHORS_FILES)} to pick a file")
        _check_kind(kind)
        file = path / AUTHORS_FILES[kind][0]
        if not file.is_file():
            present = sorted(p.name for p in path.glob("*.pth"))
            raise FileNotFoundError(f"{file} not found; .pth files in {path}: {present}")
        return file, kind
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    if kind is None:
        kind = _KIND_BY_FILE.get(path.name)
    else:
        _check_kind(kind)
    return path, kind


def load_authors_checkpoint(
    path_or_folder: str | os.PathLike,
    kind: str | None = None,
    module: nn.Module | None = None,
    map_location: str | torch.device = "cpu",
) -> nn.Module:
    """Load one of the authors' files into our network; return it in eval mode.

    ``path_or_folder``: a ``.pth`` file, or a released checkpoint folder with ``kind`` choosing the file.
    ``kind``: ``"edge_generator"`` (``EdgeModel_gen.pth``), ``"inpaint_generator"``
    (``InpaintingModel_gen.pth``), ``"edge_discriminator"`` (``EdgeModel_dis.pth``) or
    ``"inpaint_discriminator"`` (``InpaintingModel_dis.pth``); guessed from the file name when omitted.
    ``module``: load into this network instead of a fresh paper-size one (its shapes must fit).
    The returned network is in eval mode: spectral norm then uses the stored ``weight_u`` / ``weight_v``
    as the authors' networks did at test time; call ``.train()`` to fine-tune.
    """
    path, kind = _resolve(path_or_folder, kind)
    checkpoint = read_authors_checkpoint(path, map_location=map_location)
    if module is None:
        if kind is None:
            kind = guess_kind(checkpoint.state_dict)
        if kind is None:
            raise UsageError(
                f"{path}: cannot tell which network this is from its name; pass kind= one of "
                f"{list(AUTHORS_FILES)} or module="
            )
        module = paper_network(kind)
    sd = _to_our_keys(checkpoint.state_dict, path)
    check_state_dict(module, sd, path, kind)
    module.load_state_dict(sd, strict=True)
    if map_location is not None:
        module.to(torch.device(map_location) if isinstance(map_location, str) else map_location)
    return module.eval()


def load_authors_folder(
    folder: str | os.PathLike, map_location: str | torch.device = "cpu"
) -> dict[str, nn.Module]:
    """Load every one of the four authors' files present in ``folder``: ``{kind: network}``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"checkpoint folder not found: {folder}")
    found = {k: folder / name for k, (name, _) in AUTHORS_FILES.items() if (folder / name).is_file()}
    if not found:
        raise FileNotFoundError(
            f"{folder} holds none of {[n for n, _ in AUTHORS_FILES.values()]} (the authors' file names)"
        )
    return {k: load_authors_checkpoint(p, kind=k, map_location=map_location) for k, p in found.items()}


def authors_state_dict(module: nn.Module) -> "OrderedDict[str, torch.Tensor]":
    """Our state dict in the authors' key layout (adds the discriminator's ``features.0.*`` duplicates)."""
    sd = module.state_dict()
    if not isinstance(module, PatchDiscriminator):
        return sd
    # The authors wrote self.conv1 = self.features = nn.Sequential(...): the same tensors under two names,
    # conv1.0.* then features.0.*, before conv2.0.*
    conv1 = [(k, v) for k, v in sd.items() if k.startswith("conv1.")]
    out: OrderedDict[str, torch.Tensor] = OrderedDict()
    for key, value in sd.items():
        out[key] = value
        if key == conv1[-1][0]:
            for k1, v1 in conv1:
                out["features." + k1[len("conv1."):]] = v1
    metadata = getattr(sd, "_metadata", None)
    if metadata is not None:
        metadata = OrderedDict(metadata)
        for k, v in list(metadata.items()):
            if k == "conv1" or k.startswith("conv1."):
                metadata["features" + k[len("conv1"):]] = v
        out._metadata = metadata  # type: ignore[attr-defined]
    return out


def save_authors_checkpoint(
    module: nn.Module, path: str | os.PathLike, iteration: int = 0, legacy_format: bool = False
) -> Path:
    """Write ``module`` in the authors' file layout, so their code (and ours) can load it.

    Generators become ``{"iteration": iteration, "generator": state_dict}``, discriminators
    ``{"discriminator": state_dict}``. ``legacy_format=True`` writes PyTorch's pre-1.6 non-zip format.
    If ``path`` is a folder, the authors' file name for the network is used.
    """
    path = Path(path)
    config = network_config(module)
    if config.get("upsample", "transpose") != "transpose" or config.get("prefill"):
        raise UsageError(f"save_authors_checkpoint: this {config['class']} has course options the authors' networks "
                         f"lack (upsample={config.get('upsample', 'transpose')!r}, prefill={config.get('prefill', False)}); "
                         "their code could not load it: keep it in the course's format (checkpoints.export_weights)")
    if path.is_dir():
        if config["class"] == "EdgeGenerator":
            kind = "edge_generator"
        elif config["class"] == "InpaintGenerator":
            kind = "inpaint_generator"
        else:
            kind = "edge_discriminator" if config["in_channels"] == 2 else "inpaint_discriminator"
        path = path / AUTHORS_FILES[kind][0]
    sd = authors_state_dict(module)
    if isinstance(module, PatchDiscriminator):
        obj: dict = {"discriminator": sd}
    else:
        obj = {"iteration": int(iteration), "generator": sd}
    atomic_save(obj, path, legacy_format=legacy_format)
    return path
