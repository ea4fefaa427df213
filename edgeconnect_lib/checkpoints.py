"""The library's own checkpoint formats, in one place, and reading checkpoint files safely.

Every file of ours is a ``torch.save`` dict with a ``format`` tag, written atomically
(:func:`edgeconnect_lib.fileio.atomic_save`: temporary file, fsync, rename) and read with ``weights_only=True``:

* ``edgeconnect_lib.trainer/1`` (:data:`CHECKPOINT_FORMAT`): a training run's checkpoint
  (:func:`edgeconnect_lib.train.checkpoint_dict`): ``stage``, ``iteration``, ``seconds``, ``config``, ``networks``
  (state dicts by name: ``G_edge``, ``D_edge``, ``G_inpaint``, ``D_inpaint``), ``network_configs`` (their sizes),
  ``optimizers``, ``scaler``, ``rng``, ``torch_version``, ``extra``. :func:`export_weights` keeps the
  :data:`EXPORT_KEYS` of it (the course checkpoint in ``data/checkpoints/``);
* ``edgeconnect_lib.pipeline/1`` (:data:`PIPELINE_FORMAT`): the inference pipeline's two generators
  (:meth:`edgeconnect_lib.pipeline.EdgeConnect.save`): ``networks``, ``network_configs``, ``sigma``, ``metadata``;
* ``edgeconnect_lib.ingan/1`` (:data:`INGAN_FORMAT`): an InGAN run's checkpoint
  (:meth:`edgeconnect_lib.ingan.InGANTrainer.checkpoint_dict`): the trainer's entries for ``G`` and ``D``, with the
  photo in ``extra["image"]`` (uint8);
* ``edgeconnect_lib.network`` (:func:`save_network` / :func:`load_network`): one network with its constructor
  arguments, so it can be rebuilt without knowing its size.

:func:`load_checkpoint` reads a trainer-style checkpoint (a file, or a run folder's latest: :func:`list_checkpoints`,
:func:`latest_checkpoint`, :func:`readable_checkpoint` skipping a truncated one). The EdgeConnect authors' released
format is :mod:`edgeconnect_lib.authors_format` and the atomic writes :mod:`edgeconnect_lib.fileio`; their names
are re-exported here, where the lessons import them.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from .authors_format import __all__ as AUTHORS_FORMAT_NAMES
from .authors_format import (  # re-exported: lessons and tests import them from here
    AUTHORS_FILES,
    AuthorsCheckpoint,
    authors_state_dict,
    check_state_dict,
    guess_kind,
    load_authors_checkpoint,
    load_authors_folder,
    load_weights_file,
    paper_network,
    read_authors_checkpoint,
    save_authors_checkpoint,
)
from .errors import UsageError
from .fileio import (  # re-exported: their home was here
    LOW_SPACE_BYTES,
    atomic_save,
    atomic_write,
    check_write_target,
    new_file_mode,
    suppress_os_errors,
    write_error,
)
from .networks import build_network, network_config

__all__ = [
    *AUTHORS_FORMAT_NAMES,  # the authors' format (edgeconnect_lib.authors_format), re-exported
    "save_network",
    "load_network",
    "CHECKPOINT_FORMAT",
    "PIPELINE_FORMAT",
    "INGAN_FORMAT",
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
    "network_entries",
    "save_pipeline",
]

_NETWORK_FORMAT = "edgeconnect_lib.network"
#: Format tag of the trainer's checkpoints (:func:`edgeconnect_lib.train.save_checkpoint`).
CHECKPOINT_FORMAT = "edgeconnect_lib.trainer/1"
#: Format tag of the inference pipeline's file (:meth:`edgeconnect_lib.pipeline.EdgeConnect.save`).
PIPELINE_FORMAT = "edgeconnect_lib.pipeline/1"
#: Format tag of an InGAN run's checkpoints (:class:`edgeconnect_lib.ingan.InGANTrainer`).
INGAN_FORMAT = "edgeconnect_lib.ingan/1"
_CKPT_RE = re.compile(r"^ckpt_(\d{8,})\.pt$")


def save_network(module: nn.Module, path: str | os.PathLike, **metadata: int | float | str | bool) -> Path:
    """Save one network with its constructor arguments (atomic write): ``load_network(path)`` rebuilds it.

    ``metadata`` (plain numbers / strings, e.g. ``iteration=1000``) is stored alongside.
    """
    for key, value in metadata.items():
        if not isinstance(value, (int, float, str, bool)):
            raise UsageError(f"save_network: metadata {key}={value!r} must be an int, float, str or bool")
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
    data = load_weights_file(path, map_location)
    if not isinstance(data, Mapping) or data.get("format") != _NETWORK_FORMAT:
        hint = ""
        if isinstance(data, Mapping) and ("generator" in data or "discriminator" in data):
            hint = " It looks like one of the authors' files: use load_authors_checkpoint()."
        raise UsageError(f"{path}: not a file written by save_network().{hint}")
    config = dict(data["config"])
    if module is None:
        module = build_network(config, init=False)
    elif network_config(module) != config:
        raise UsageError(f"{path}: the file holds {config}, but the given module is {network_config(module)}")
    sd = data["state_dict"]
    check_state_dict(module, sd, path, None)
    module.load_state_dict(sd, strict=True)
    if map_location is not None:
        module.to(torch.device(map_location) if isinstance(map_location, str) else map_location)
    return module.eval()


# ----------------------------------------------------------------------------------------------------------
# Checkpoint files of the trainer and the pipeline (safe reads; the atomic writes are edgeconnect_lib.fileio's)
# ----------------------------------------------------------------------------------------------------------
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
        raise UsageError(f"cannot read checkpoint {path}: {_load_failure(err)}") from err
    if not isinstance(ckpt, dict) or "networks" not in ckpt:
        raise UsageError(f"{path} is not a checkpoint of edgeconnect_lib (no 'networks' entry); for the authors' "
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
        raise UsageError(f"cannot read checkpoint {path}: the file is empty (0 bytes; an interrupted copy or "
                         "write?): give a complete checkpoint")
    if not (head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"):
        raise UsageError(f"{path} is not a PyTorch checkpoint (it starts with {head!r}, neither a zip archive nor a "
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


def _as_float16(networks: Mapping[str, Mapping[str, torch.Tensor]]) -> dict[str, dict[str, torch.Tensor]]:
    """The state dicts ``networks`` with every float32 tensor stored as float16 (other dtypes as they are): how the
    course's checkpoints halve their size. Loading copies them back into float32 networks."""
    return {name: {key: (value.half() if value.dtype == torch.float32 else value) for key, value in state.items()}
            for name, state in networks.items()}


#: What :func:`export_weights` keeps of a full checkpoint: enough to load the networks and to say how they were made.
EXPORT_KEYS = ("format", "stage", "iteration", "config", "networks", "network_configs", "torch_version", "extra")


def export_weights(src: str | Path, dst: str | Path, half: bool = False) -> Path:
    """Write the weights-only copy of checkpoint ``src`` (a file, or a run folder's latest) to ``dst``, atomically.

    Optimisers, the AMP scaler and the random-number states are dropped (a third of the size, and not needed
    to use or fine-tune the networks; only an exact resume needs them). This is how the course checkpoint in
    ``data/checkpoints/`` was made; the result loads with :func:`load_checkpoint`, ``load_or_train`` and
    ``EdgeConnect.load``. ``half=True`` stores the networks' float32 tensors as float16 (half the size again; loading
    copies them back into the float32 networks, so a weight moves by at most float16's rounding, a relative 2^-11:
    how the campaign's checkpoints fit the 40 MB of ``data/checkpoints``).
    """
    ckpt = load_checkpoint(src)
    out = {k: ckpt[k] for k in EXPORT_KEYS if k in ckpt}
    if half:
        out["networks"] = _as_float16(ckpt["networks"])
        out["extra"] = {**out.get("extra", {}), "stored_as": "float16"}
    return atomic_save(out, Path(dst))


def network_entries(networks: Mapping[str, nn.Module]) -> dict[str, dict[str, Any]]:
    """The ``networks`` (state dicts) and ``network_configs`` (constructor arguments,
    :func:`~edgeconnect_lib.networks.network_config`) entries of a trainer or pipeline checkpoint, by network name:
    what :func:`edgeconnect_lib.pipeline.network_from_checkpoint` rebuilds a network from."""
    return {"networks": {n: m.state_dict() for n, m in networks.items()},
            "network_configs": {n: network_config(m) for n, m in networks.items()}}


def save_pipeline(path: str | os.PathLike, networks: Mapping[str, nn.Module], sigma: float, half: bool = False,
                  **metadata: Any) -> Path:
    """Write the inference pipeline's file (``edgeconnect_lib.pipeline/1``, :data:`PIPELINE_FORMAT`) atomically:
    ``networks`` (``G_edge``, ``G_inpaint``), their ``network_configs``, Canny's ``sigma`` and ``metadata``.
    :meth:`edgeconnect_lib.pipeline.EdgeConnect.load` reads it (with :func:`load_checkpoint`). ``half=True`` stores
    the float32 weights as float16, as :func:`export_weights` does (half the size; loading copies them back into
    float32 networks)."""
    entries = network_entries(networks)
    if half:
        entries["networks"] = _as_float16(entries["networks"])
        metadata = {**metadata, "stored_as": "float16"}
    obj = {"format": PIPELINE_FORMAT, **entries, "sigma": float(sigma), "metadata": dict(metadata)}
    return atomic_save(obj, Path(path))
