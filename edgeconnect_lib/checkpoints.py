"""Network checkpoints: the EdgeConnect authors' released files, and a simple network-only format of ours.

**The authors' files.** A released checkpoint folder (Places2, CelebA, Paris StreetView) holds
``EdgeModel_gen.pth`` / ``InpaintingModel_gen.pth`` (a dict ``{"iteration": int, "generator": state_dict}``)
and ``EdgeModel_dis.pth`` / ``InpaintingModel_dis.pth`` (``{"discriminator": state_dict}``), written by
``torch.save`` of PyTorch 1.0. :func:`load_authors_checkpoint` reads one of them with
``torch.load(..., weights_only=True)`` (which reads the legacy non-zip format too) into our networks at the
paper's size (:mod:`edgeconnect_lib.networks`), which then compute the same outputs as the authors' networks.
It accepts state dicts saved from ``nn.DataParallel`` (keys prefixed ``module.``), drops the duplicate
``features.0.*`` keys of the authors' discriminator (their ``self.conv1 = self.features``), and lets PyTorch's
spectral-norm load hook convert files from older PyTorch versions. A file of the wrong kind raises a
``ValueError`` naming the file, the missing and unexpected keys, the shape mismatches and the kind the file
looks like.

**Our own files.** :func:`save_network` / :func:`load_network` store one network with its constructor
arguments, so it can be rebuilt without knowing its size. (The trainer's full checkpoints, with optimisers
and iteration counters, are written by :mod:`edgeconnect_lib.train`; reading and writing any checkpoint file
safely is here: :func:`atomic_save` (temporary file, fsync, rename), :func:`load_checkpoint`
(``weights_only=True``), :func:`list_checkpoints` / :func:`latest_checkpoint` of a run folder, and
:func:`export_weights`.) This module sits below ``models`` and ``train``: it imports only ``networks``.
"""
from __future__ import annotations

import errno
import os
import pickle
import re
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable, Mapping

import torch
from torch import nn

from .networks import (
    EdgeGenerator,
    InpaintGenerator,
    PatchDiscriminator,
    build_network,
    network_config,
)

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
    "save_network",
    "load_network",
    "CHECKPOINT_FORMAT",
    "atomic_write",
    "check_write_target",
    "atomic_save",
    "new_file_mode",
    "write_error",
    "LOW_SPACE_BYTES",
    "suppress_os_errors",
    "readable_checkpoint",
    "list_checkpoints",
    "latest_checkpoint",
    "load_checkpoint",
    "export_weights",
    "EXPORT_KEYS",
]

#: kind -> (file name in the authors' folder, key of the state dict inside the file)
AUTHORS_FILES: dict[str, tuple[str, str]] = {
    "edge_generator": ("EdgeModel_gen.pth", "generator"),
    "inpaint_generator": ("InpaintingModel_gen.pth", "generator"),
    "edge_discriminator": ("EdgeModel_dis.pth", "discriminator"),
    "inpaint_discriminator": ("InpaintingModel_dis.pth", "discriminator"),
}
_KIND_BY_FILE = {name: kind for kind, (name, _) in AUTHORS_FILES.items()}
_NETWORK_FORMAT = "edgeconnect_lib.network"
#: Format tag of the trainer's checkpoints (:func:`edgeconnect_lib.train.save_checkpoint`).
CHECKPOINT_FORMAT = "edgeconnect_lib.trainer/1"
_CKPT_RE = re.compile(r"^ckpt_(\d{8,})\.pt$")




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
        raise ValueError(f"kind={kind!r}: choose one of {list(AUTHORS_FILES)}")


@dataclass
class AuthorsCheckpoint:
    """What one of the authors' files holds: its state dict (keys as in the file) and its iteration."""

    path: Path
    state_dict: "OrderedDict[str, torch.Tensor]"
    iteration: int | None
    entry: str | None  # "generator", "discriminator" or None for a bare state dict


def _torch_load(path: Path, map_location: str | torch.device) -> object:
    """``torch.load`` with ``weights_only=True`` and errors that name the file."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, AttributeError) as err:
        raise ValueError(
            f"{path}: could not be read as a PyTorch checkpoint with weights_only=True ({err}). Is it a "
            "complete .pth file of tensors (re-download it if it was cut short)?"
        ) from err


def read_authors_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> AuthorsCheckpoint:
    """Read one of the authors' ``.pth`` files (or a bare state dict) without building a network."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file not found: {path}")
    data = _torch_load(path, map_location)
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: expected a dict, found {type(data).__name__}")
    for entry in ("generator", "discriminator"):
        if entry in data:
            sd = data[entry]
            if not isinstance(sd, Mapping):
                raise ValueError(f"{path}: data[{entry!r}] is a {type(sd).__name__}, not a state dict")
            iteration = data.get("iteration")
            return AuthorsCheckpoint(path, sd, int(iteration) if iteration is not None else None, entry)
    if data and all(isinstance(v, torch.Tensor) for v in data.values()):
        return AuthorsCheckpoint(path, data, None, None)  # a bare state dict
    raise ValueError(
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
            raise ValueError(
                f"{path}: {key} and {twin} differ, but in the authors' discriminator they are the same layer "
                "(self.conv1 = self.features); the file looks corrupted"
            )
    return sd


def _check_keys(module: nn.Module, sd: Mapping[str, torch.Tensor], path: Path | str, kind: str | None) -> None:
    """Raise a ValueError naming missing / unexpected keys and shape mismatches, before loading."""
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
    raise ValueError("\n".join(parts) + hint)


def _resolve(path_or_folder: str | os.PathLike, kind: str | None) -> tuple[Path, str | None]:
    path = Path(path_or_folder)
    if path.is_dir():
        if kind is None:
            raise ValueError(f"{path} is a folder: pass kind= one of {list(AUTHORS_FILES)} to pick a file")
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
            raise ValueError(
                f"{path}: cannot tell which network this is from its name; pass kind= one of "
                f"{list(AUTHORS_FILES)} or module="
            )
        module = paper_network(kind)
    sd = _to_our_keys(checkpoint.state_dict, path)
    _check_keys(module, sd, path, kind)
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


def save_network(module: nn.Module, path: str | os.PathLike, **metadata: int | float | str | bool) -> Path:
    """Save one network with its constructor arguments (atomic write): ``load_network(path)`` rebuilds it.

    ``metadata`` (plain numbers / strings, e.g. ``iteration=1000``) is stored alongside.
    """
    for key, value in metadata.items():
        if not isinstance(value, (int, float, str, bool)):
            raise ValueError(f"save_network: metadata {key}={value!r} must be an int, float, str or bool")
    path = Path(path)
    obj = {
        "format": _NETWORK_FORMAT,
        "version": 1,
        "config": network_config(module),
        "state_dict": module.state_dict(),
        "metadata": dict(metadata),
    }
    atomic_save(obj, path)
    return path


def load_network(
    path: str | os.PathLike, module: nn.Module | None = None, map_location: str | torch.device = "cpu"
) -> nn.Module:
    """Load a file written by :func:`save_network`; return the network in eval mode.

    Without ``module`` the network is rebuilt from the stored constructor arguments; with it, the weights
    are loaded into ``module`` (whose configuration must match).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"network file not found: {path}")
    data = _torch_load(path, map_location)
    if not isinstance(data, Mapping) or data.get("format") != _NETWORK_FORMAT:
        hint = ""
        if isinstance(data, Mapping) and ("generator" in data or "discriminator" in data):
            hint = " It looks like one of the authors' files: use load_authors_checkpoint()."
        raise ValueError(f"{path}: not a file written by save_network().{hint}")
    config = dict(data["config"])
    if module is None:
        module = build_network(config, init=False)
    elif network_config(module) != config:
        raise ValueError(f"{path}: the file holds {config}, but the given module is {network_config(module)}")
    sd = data["state_dict"]
    _check_keys(module, sd, path, None)
    module.load_state_dict(sd, strict=True)
    if map_location is not None:
        module.to(torch.device(map_location) if isinstance(map_location, str) else map_location)
    return module.eval()


# ----------------------------------------------------------------------------------------------------------
# Checkpoint files of the trainer and the pipeline (atomic writes, safe reads)
# ----------------------------------------------------------------------------------------------------------
def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Write a file with ``write(f)`` so that ``path`` is always either the old file or the complete new one.

    Write to a temporary file in the same folder, flush and ``fsync`` it, ``os.replace`` it over ``path``
    (atomic on POSIX and Windows), then ``fsync`` the folder so the rename itself survives a power cut.
    The file gets the usual permissions of a new file (``0o666`` less the umask, e.g. ``0o644``), not the
    ``0o600`` of a temporary file.

    A failed write (disk full, read-only filesystem, no permission) leaves ``path`` as it was, removes the
    temporary file and raises an ``OSError`` whose ``filename`` is ``path`` and whose ``strerror`` says why
    (PyTorch's zip writer reports a full disk as ``RuntimeError: [enforce fail at inline_container.cc]``;
    that is translated too, see :func:`write_error`). Refused before anything is written
    (:func:`check_write_target`): a ``path`` that is a folder, one under a file, and an existing file that is
    read-only (no write permission: a rename would replace it silently, a plain ``open`` would refuse).
    """
    path = Path(path)
    check_write_target(path)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            os.chmod(tmp, new_file_mode())
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
    except (OSError, RuntimeError) as err:
        raise write_error(err, path) from err
    finally:
        if tmp is not None:
            with suppress_os_errors():
                os.unlink(tmp)
    if hasattr(os, "O_DIRECTORY"):
        with suppress_os_errors():
            dfd = os.open(path.parent, os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
    return path


def check_write_target(path: str | os.PathLike) -> Path:
    """Raise an ``OSError`` naming ``path`` (``filename``) and the cause when a file cannot be written there.

    ``IsADirectoryError``: ``path`` is a folder; ``NotADirectoryError``: a part of its folder is a file;
    ``PermissionError``: ``path`` exists and is read-only (no write bit, or no write access). Returns ``path``.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "it is a folder, not a file: give a file name", str(path))
    for parent in (path.parent, *path.parent.parents):
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, f"{parent} is a file, not a folder", str(path))
            break
    if path.is_file():
        mode = path.stat().st_mode
        if not mode & 0o222 or not os.access(path, os.W_OK):
            raise PermissionError(errno.EACCES, "the file is read-only (no write permission), so it is kept: make "
                                  "it writable (chmod u+w) or choose another name", str(path))
    return path


def atomic_save(obj: Any, path: Path, legacy_format: bool = False) -> Path:
    """``torch.save(obj)`` to ``path`` with :func:`atomic_write` (never a half-written checkpoint).

    ``legacy_format=True`` writes PyTorch's pre-1.6 non-zip format (as the authors' released files).
    """
    return atomic_write(path, lambda f: torch.save(obj, f, _use_new_zipfile_serialization=not legacy_format))


def new_file_mode() -> int:
    """Permissions of a newly created file here: ``0o666`` less the process's umask (``0o644`` for umask 022)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


#: Free bytes below which a failed write is put down to a full disk.
LOW_SPACE_BYTES = 64 * 2**20


def write_error(err: BaseException, path: Path) -> OSError:
    """The ``OSError`` (``errno``, cause, ``filename=path``) behind a failed write of ``path``.

    An ``OSError`` keeps its errno and cause. PyTorch's zip writer turns a failed ``write`` into a
    ``RuntimeError`` (``[enforce fail at inline_container.cc:...]``, ``file write failed``) that says nothing
    of the cause: it becomes ``ENOSPC`` when the message or the free space of the folder
    (``os.statvfs``, < :data:`LOW_SPACE_BYTES`) says the disk is full, else ``EIO`` with PyTorch's first line.
    """
    if isinstance(err, OSError) and err.errno is not None:
        return OSError(err.errno, err.strerror or os.strerror(err.errno), str(path))
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if "no space" in str(err).lower() or _free_bytes(path.parent) < LOW_SPACE_BYTES:
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    return OSError(errno.EIO, f"the write failed ({text})", str(path))


def _free_bytes(folder: Path) -> float:
    """Bytes free for this user in ``folder``'s filesystem (infinite when it cannot be asked)."""
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):
        return float("inf")
    return float(st.f_bavail * st.f_frsize)


class suppress_os_errors:
    """``with suppress_os_errors():`` ignores an ``OSError`` (best-effort clean-up), nothing else."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return exc[0] is not None and issubclass(exc[0], OSError)


def list_checkpoints(folder: str | Path) -> list[Path]:
    """Finished checkpoints ``ckpt_NNNNNNNN.pt`` in ``folder`` (or ``folder/checkpoints``), oldest first.

    Temporary files of an interrupted write (``.ckpt_*.tmp``) are never listed.
    """
    folder = Path(folder)
    if (folder / "checkpoints").is_dir():
        folder = folder / "checkpoints"
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _CKPT_RE.match(p.name)) and p.is_file()]
    return [p for _, p in sorted(found)]


def latest_checkpoint(folder: str | Path) -> Path | None:
    """The checkpoint with the highest iteration in ``folder`` (a run folder or its ``checkpoints/``)."""
    ckpts = list_checkpoints(folder)
    return ckpts[-1] if ckpts else None


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint with ``torch.load(..., weights_only=True)``; a folder means its latest checkpoint.

    Raises ``FileNotFoundError`` for a missing file or a folder without checkpoints, ``ValueError`` for a
    file that is not a checkpoint of this library.
    """
    path = Path(path)
    if path.is_dir():
        found = latest_checkpoint(path)
        if found is None:
            raise FileNotFoundError(f"no checkpoint (ckpt_*.pt) in folder {path}")
        path = found
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    _check_torch_file(path)
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # truncated file, pickle with foreign objects
        raise ValueError(f"cannot read checkpoint {path}: {_load_failure(err)}") from err
    if not isinstance(ckpt, dict) or "networks" not in ckpt:
        raise ValueError(f"{path} is not a checkpoint of edgeconnect_lib (no 'networks' entry); for the authors' "
                         "released files use edgeconnect_lib.checkpoints.load_authors_folder")
    ckpt["path"] = str(path)
    return ckpt


def _check_torch_file(path: Path) -> None:
    """A ``ValueError`` for a file that cannot be a PyTorch checkpoint (empty, or neither zip nor pickle)."""
    try:
        with path.open("rb") as f:
            head = f.read(4)
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(path)) from err
    if not head:
        raise ValueError(f"cannot read checkpoint {path}: the file is empty (0 bytes; an interrupted copy or "
                         "write?): give a complete checkpoint")
    if not (head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"):
        raise ValueError(f"{path} is not a PyTorch checkpoint (it starts with {head!r}, neither a zip archive nor a "
                         "pickle): give a .pt file written by torch.save, e.g. a run folder's checkpoints/ckpt_*.pt")


def _load_failure(err: BaseException) -> str:
    """Why ``torch.load`` failed, in one line: the whole "unsupported global" sentence when a pickle
    wanted to run code (refused by ``weights_only=True``), else PyTorch's first line."""
    text = " ".join(ln.strip() for ln in str(err).splitlines() if ln.strip())
    m = re.search(r"[^.:]*unsupported global.*?(?:\.(?=\s|$)|$)", text, flags=re.IGNORECASE)
    if m:
        return (f"{m.group(0).strip()} The file holds objects that are not tensors or numbers, and loading it "
                "could run arbitrary code, so it was refused (torch.load with weights_only=True). Use only "
                "checkpoints you trust; only if you do, load it yourself with torch.load(path, weights_only=False)")
    first = next((ln.strip() for ln in str(err).splitlines() if ln.strip()), type(err).__name__)
    return f"{first[:300]} (a truncated or corrupt file?)"


def readable_checkpoint(folder: str | Path, map_location: str | torch.device = "cpu"
                        ) -> tuple[dict[str, Any] | None, list[tuple[Path, str]]]:
    """The newest checkpoint of ``folder`` that can be read, and the newer ones that could not.

    Returns ``(checkpoint or None, [(path, why), ...])``: a truncated or corrupt latest file (a crash
    mid-copy, a full disk) does not block a resume from the one before it.
    """
    skipped: list[tuple[Path, str]] = []
    for path in reversed(list_checkpoints(folder)):
        try:
            return load_checkpoint(path, map_location=map_location), skipped
        except (ValueError, FileNotFoundError) as err:
            skipped.append((path, str(err)))
    return None, skipped


#: What :func:`export_weights` keeps of a full checkpoint: enough to load the networks and to say how they were made.
EXPORT_KEYS = ("format", "stage", "iteration", "config", "networks", "network_configs", "torch_version", "extra")


def export_weights(src: str | Path, dst: str | Path) -> Path:
    """Write the weights-only copy of checkpoint ``src`` (a file, or a run folder's latest) to ``dst``, atomically.

    Optimisers, the AMP scaler and the random-number states are dropped (a third of the size, and not needed
    to use or fine-tune the networks; only an exact resume needs them). This is how the course checkpoint in
    ``data/checkpoints/`` was made; the result loads with :func:`load_checkpoint`, ``load_or_train`` and
    ``EdgeConnect.load``.
    """
    ckpt = load_checkpoint(src)
    return atomic_save({k: ckpt[k] for k in EXPORT_KEYS if k in ckpt}, Path(dst))
