"""One training loop for EdgeConnect's four stages, with checkpoints that lose nothing.

Stages (the authors' MODEL 1-4, by name; paper Sec. 4.1):

``"edge"``          G_edge + D_edge on masked Canny edges;
``"inpaint"``       G_inpaint + D_inpaint on ground-truth Canny edges;
``"edge-inpaint"``  G_inpaint + D_inpaint on a frozen, trained G_edge's edges (``edge_checkpoint``);
``"joint"``         D_edge dropped, G_edge + G_inpaint trained end to end (paper: lr 1e-6).

Usage::

    from edgeconnect_lib.config import get_config
    from edgeconnect_lib.train import Trainer
    result = Trainer(get_config("cpu", stage="edge"), data="course", out_dir="runs/edge").fit()
    result.model, result.iteration, result.checkpoint, result.val   # trained model, where it is, metrics

or from a shell: ``python -m edgeconnect_lib train --stage edge --preset cpu --data course --out runs/edge``.

What a run writes under ``out_dir``: ``checkpoints/ckpt_00000100.pt`` (the last ``keep_last``),
``log.csv`` (losses averaged over ``log_every`` iterations), ``val.csv`` (validation metrics),
``samples/iter_00000100.png`` (input | edges | output | ground truth), ``config.json``, and TensorBoard
events in ``tb/`` when ``tensorboard`` is installed.

The run folder's lifecycle (the guard against a folder holding another run, resume, save-and-prune,
``config.json``, the CSV logs) is :class:`edgeconnect_lib.runs.RunFolder`, shared with InGAN's trainer; a
folder that holds checkpoints is refused unless the run resumes one of them. Checkpoints are written atomically (a temporary file in the same folder, ``fsync``, ``os.replace``), hold
the weights of every network (G and D), the optimisers, the loss scaler, the iteration, the RNG states
(Python, NumPy, torch, CUDA) and the configuration as a plain dict, and are read with
``torch.load(..., weights_only=True)``. Training data are drawn from ``(seed, epoch, index)`` only, so
``--resume`` continues the same run: N iterations in one go or N/2 + resume + N/2 give the same weights on
the CPU (tested). A resume skips a truncated or corrupt latest checkpoint for the newest readable one
(and says so), continues ``log.csv``'s ``seconds`` from the checkpoint's, and prints which settings changed.
A failed checkpoint write (disk full, read-only filesystem) raises ``OSError`` naming the file and the cause,
and leaves the earlier checkpoints as they were. Before training, every photo is checked (readable,
decodable, short side >= :func:`min_photo_side`): a bad one is an error naming all of them, or, with
``on_error="skip"``, is dropped and listed.

Multi-GPU / multi-node: launch with ``torchrun`` (``torchrun --nproc_per_node 4 -m edgeconnect_lib train
...``). The trainer reads ``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK``, joins the process group (NCCL on CUDA,
Gloo on CPU), wraps the trained networks in ``DistributedDataParallel``, splits the data with a
``DistributedSampler`` (``batch_size`` is per process) and lets rank 0 alone write logs and checkpoints. At
the end it checks that every rank holds the same weights.
"""
from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, NamedTuple, Sequence

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from .config import TrainConfig
from .data import InpaintingDataset
from .errors import TrainingDiverged, UsageError  # TrainingDiverged: re-exported, the one divergence type
from .fileio import write_image
from .images import to_uint8
from .metrics import edge_precision_recall, l1 as l1_metric, psnr as psnr_metric, ssim as ssim_metric
from .checkpoints import (
    CHECKPOINT_FORMAT,
    atomic_save,
    export_weights,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    network_entries,
    suppress_os_errors,
)
from .models import (
    NonFiniteLossError,
    build_model,
    composite,
    edge_outputs,
    inpaint_outputs,
    network_from_checkpoint,
    to_batch,
)
from .runs import UNREADABLE_SUFFIX, CsvLog, RunFolder  # noqa: F401  (CsvLog, UNREADABLE_SUFFIX: public names here too)
from .utils import describe_device, pick_device, seed_everything

__all__ = [
    "Trainer",
    "CsvLog",
    "TrainResult",
    "TrainingDiverged",
    "atomic_save",
    "save_checkpoint",
    "load_checkpoint",
    "export_weights",
    "latest_checkpoint",
    "list_checkpoints",
    "resolve_data",
    "evaluate",
    "load_or_train",
    "LoadOrTrain",
    "CHECKPOINT_FORMAT",
]

#: Config fields that must match a checkpoint to resume from it (the networks' shapes and the stage).
RESUME_MUST_MATCH = ("stage", "base_channels", "residual_blocks", "disc_channels", "edge_spectral_norm", "edge_prefill")
#: Config fields whose change on a resume is not worth a notice.
RESUME_QUIET = ("progress",)


def min_photo_side(image_size: int) -> int:
    """The shortest photo side the pre-flight scan accepts for ``image_size`` crops: a quarter of it (at
    least 8 px); smaller photos would be upscaled more than 4x. Photos below ``image_size`` are upscaled
    with a warning."""
    return max(8, int(image_size) // 4)


def _rng_state() -> dict[str, Any]:
    """Python, NumPy, torch (and CUDA) RNG states, as types ``weights_only`` loading accepts."""
    np_state = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": {"key": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = state["numpy"]
    np.random.set_state(("MT19937", n["key"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached_gaussian"]))
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        with suppress_os_errors():
            torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def save_checkpoint(model, iteration: int, cfg: TrainConfig, path: str | Path, extra: dict | None = None,
                    seconds: float = 0.0) -> Path:
    """Write a full training checkpoint of ``model`` (see the module docstring) atomically to ``path``;
    ``seconds`` is the run's training time so far (``log.csv`` continues from it after a resume)."""
    return atomic_save(checkpoint_dict(model, iteration, cfg, extra, seconds), Path(path))


def checkpoint_dict(model, iteration: int, cfg: TrainConfig, extra: dict | None = None,
                    seconds: float = 0.0) -> dict[str, Any]:
    """Everything a resume needs (what :func:`save_checkpoint` writes: the format ``edgeconnect_lib.trainer/1``,
    :data:`~edgeconnect_lib.checkpoints.CHECKPOINT_FORMAT`)."""
    nets = model.networks()
    return {
        "format": CHECKPOINT_FORMAT,
        "stage": cfg.stage,
        "iteration": int(iteration),
        "seconds": float(seconds),
        "config": cfg.to_dict(),
        **network_entries(nets),
        "optimizers": {n: o.state_dict() for n, o in model.optimizers.items()},
        "scaler": model.precision.scaler.state_dict() if model.precision.scaler is not None else None,
        "rng": _rng_state(),
        "torch_version": str(torch.__version__),
        "extra": dict(extra or {}),
    }


def _load_networks(model: nn.Module, ckpt: dict, names: Sequence[str] | None = None) -> list[str]:
    """Load the networks of ``ckpt`` that ``model`` has (or just ``names``); clear error on a size mismatch."""
    loaded = []
    for name, module in model.networks().items():
        if names is not None and name not in names:
            continue
        if name not in ckpt["networks"]:
            continue
        try:
            module.load_state_dict(ckpt["networks"][name])
        except RuntimeError as err:
            have = ckpt.get("network_configs", {}).get(name, {})
            raise UsageError(f"{ckpt.get('path', 'checkpoint')}: {name} does not fit this model (checkpoint sizes "
                             f"{have}); use the same preset / base_channels / residual_blocks as the run that wrote it "
                             f"({str(err).splitlines()[0][:120]})") from err
        loaded.append(name)
    return loaded


# ----------------------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------------------
def resolve_data(data: Any, val_data: Any = None) -> tuple[Any, Any]:
    """``(train_source, val_source)`` from what the user gave.

    ``"course"`` means the course photos' ``train`` split, validated on the ``val`` split. Anything else
    (folder, glob, list file, list of paths: :func:`edgeconnect_lib.data.list_image_files`) is the training
    source; its validation source is ``val_data``, or, when none is given, the training photos themselves
    (evaluated with fixed centre crops and masks).
    """
    if isinstance(data, str) and data == "course":
        from .course_data import course_images

        return course_images("train"), (course_images("val") if val_data is None else val_data)
    return data, (data if val_data is None else val_data)


class _EpochDataset(InpaintingDataset):
    """Training dataset whose random draws depend only on ``(seed, epoch, index)``.

    The sampler yields ``(epoch, index)`` pairs; crops, flips and masks then do not depend on the DataLoader
    worker, the process or how many items were drawn before, which makes a resumed run identical to an
    uninterrupted one.
    """

    _epoch = 0

    def __getitem__(self, key):
        if isinstance(key, tuple):
            self._epoch, key = key
        return super().__getitem__(key)

    def _rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, 1 + int(self._epoch), int(index)])


class _EpochBatches:
    """Batches of ``(epoch, index)`` from a (distributed) sampler, starting ``skip`` batches into ``epoch``."""

    def __init__(self, sampler: DistributedSampler, batch_size: int, epoch: int, skip: int = 0) -> None:
        self.sampler, self.batch_size, self.epoch, self.skip = sampler, batch_size, epoch, skip

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        self.sampler.set_epoch(self.epoch)
        indices = list(self.sampler)
        n = len(indices) // self.batch_size
        for b in range(self.skip, n):
            yield [(self.epoch, i) for i in indices[b * self.batch_size:(b + 1) * self.batch_size]]

    def __len__(self) -> int:
        return max(0, len(self.sampler) // self.batch_size - self.skip)


# ----------------------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------------------
@torch.no_grad()
def _stage_outputs(model: nn.Module, stage: str, x) -> dict[str, torch.Tensor]:
    """Eval-mode outputs of a trained model (a training model or an ``EdgeConnect`` pipeline) for a batch: edges
    (and images) as the stage produces them."""
    # the Canny sigma of edge_prefill's hint: a training model's config, a pipeline's own, else the paper's 2
    sigma = model.cfg.sigma if hasattr(model, "cfg") else getattr(model, "sigma", 2.0)
    if stage == "edge":
        edges_pred = edge_outputs(model.G_edge, x.gray, x.edges, x.masks, sigma)
        return {"edges_pred": edges_pred, "edges_used": composite(edges_pred, x.edges, x.masks)}
    if hasattr(model, "G_edge"):
        edges_pred = edge_outputs(model.G_edge, x.gray, x.edges, x.masks, sigma)
        edges = composite(edges_pred, x.edges, x.masks)
    else:
        edges_pred = edges = x.edges
    outputs = inpaint_outputs(model.G_inpaint, x.images, edges, x.masks)
    return {"edges_pred": edges_pred, "edges_used": edges, "outputs": outputs,
            "merged": composite(outputs, x.images, x.masks)}


@torch.no_grad()
def evaluate(model: nn.Module, dataset: Dataset, stage: str | None = None, batch_size: int = 8,
             limit: int | None = None, device: torch.device | str | None = None) -> dict[str, float]:
    """Validation metrics of ``model`` on ``dataset`` (use ``train=False`` for fixed crops and masks).

    Stage ``edge``: precision / recall / F1 of ``G_edge``'s edges (> 0.5) in the hole. Other stages: PSNR,
    SSIM (11x11 Gaussian window, sigma 1.5, RGB: :func:`edgeconnect_lib.metrics.ssim`) and L1 of the
    composite against the photo, plus edge precision / recall when a G_edge is involved.
    """
    stage = stage or getattr(model, "stage", None) or "inpaint"
    device = torch.device(device) if device is not None else next(model.parameters()).device
    n = len(dataset) if limit is None else min(limit, len(dataset))
    was_training = model.training
    model.eval()
    sums: dict[str, float] = {}
    try:
        for start in range(0, n, batch_size):
            items = [dataset[i] for i in range(start, min(n, start + batch_size))]
            x = to_batch(tuple(torch.stack(t) for t in zip(*items)), device)
            out = _stage_outputs(model, stage, x)
            per_image: dict[str, torch.Tensor] = {}
            if stage == "edge" or stage == "joint" or "G_edge" in dict(model.named_children()):
                s = edge_precision_recall(out["edges_pred"].float(), x.edges, x.masks, reduction="none")
                per_image.update(precision=s.precision, recall=s.recall, f1=s.f1)
            if stage != "edge":
                merged = out["merged"].float().clamp(0, 1)
                per_image.update(psnr=psnr_metric(merged, x.images, reduction="none"),
                                 ssim=ssim_metric(merged, x.images, reduction="none"),
                                 l1=l1_metric(merged, x.images, reduction="none"))
            for k, v in per_image.items():
                sums[k] = sums.get(k, 0.0) + float(v.sum())
    finally:
        model.train(was_training)
    return {k: v / max(n, 1) for k, v in sums.items()}


def _sample_grid(model: nn.Module, stage: str, x, path: Path, rows: int = 4) -> Path:
    """PNG grid, one row per image: masked input | input edges | predicted edges | output | ground truth.
    Written atomically by the library's image writer (:func:`edgeconnect_lib.fileio.write_image`)."""
    was_training = model.training
    model.eval()
    try:
        out = _stage_outputs(model, stage, x)
    finally:
        model.train(was_training)
    b = min(rows, x.images.shape[0])
    rgb = lambda t: t[:b].float().clamp(0, 1).expand(-1, 3, -1, -1).cpu()  # noqa: E731
    # edges drawn black on white, as in the paper's figures
    if stage == "edge":
        cols = [x.gray * (1 - x.masks) + x.masks, 1 - x.edges * (1 - x.masks), 1 - out["edges_pred"],
                1 - out["edges_used"], 1 - x.edges]
    else:
        cols = [x.images * (1 - x.masks) + x.masks, 1 - x.edges * (1 - x.masks), 1 - out["edges_used"],
                out["merged"], x.images]
    grid = torch.cat([torch.cat(list(rgb(c)), dim=1) for c in cols], dim=2)  # (3, b*H, 5*W)
    write_image(to_uint8(grid.permute(1, 2, 0).numpy()), path, what="sample grid")
    return path


def _tensorboard(folder: Path):
    """A TensorBoard ``SummaryWriter`` when ``tensorboard`` is installed, else ``None`` (optional)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except Exception:  # tensorboard not installed: CSV only
        return None
    return SummaryWriter(str(folder))


# ----------------------------------------------------------------------------------------------------------
# Distributed
# ----------------------------------------------------------------------------------------------------------
@dataclass
class _Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    owns_group: bool = False

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def _init_distributed(device_name: str) -> tuple[_Dist, str]:
    """Join the process group when launched by ``torchrun`` (``WORLD_SIZE`` > 1); pick this rank's device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _Dist(), device_name
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and device_name in ("auto", "cuda") or device_name.startswith("cuda")
    if use_cuda:
        torch.cuda.set_device(local_rank)
        device_name = f"cuda:{local_rank}"
    elif device_name == "auto":
        device_name = "cpu"
    owns = False
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
        owns = True
    return _Dist(dist.get_rank(), dist.get_world_size(), local_rank, owns), device_name


def _check_replicas_equal(model: nn.Module, d: _Dist) -> bool:
    """True when every rank holds exactly rank 0's parameters and buffers (spectral norm's u, v included)."""
    tensors = [t.detach() for m in model.networks().values() for t in list(m.parameters()) + list(m.buffers())]
    flat = torch.cat([t.reshape(-1).float() for t in tensors]) if tensors else torch.zeros(1)
    ref = flat.clone()
    dist.broadcast(ref, src=0)
    same = torch.tensor([1.0 if torch.equal(ref, flat) else 0.0], device=flat.device)
    dist.all_reduce(same, op=dist.ReduceOp.MIN)
    return bool(same.item() == 1.0)


# ----------------------------------------------------------------------------------------------------------
# The trainer
# ----------------------------------------------------------------------------------------------------------
class TrainResult(NamedTuple):
    """What :meth:`Trainer.fit` returns."""

    model: nn.Module            # the trained model (EdgeModel / InpaintModel / JointModel)
    iteration: int              # iterations done in total
    checkpoint: Path | None     # the last checkpoint written
    val: dict[str, float]       # the last validation metrics
    history: list[dict]         # the rows of log.csv written by this call
    seconds: float              # wall time of this call


class Trainer:
    """Train one stage of EdgeConnect (see the module docstring).

    Parameters: ``cfg`` (a :class:`~edgeconnect_lib.config.TrainConfig`; ``cfg.stage`` picks the stage),
    ``data`` (``"course"``, a folder, glob, list file or list of paths), ``out_dir`` (logs and checkpoints),
    ``val_data`` (validation photos; default: see :func:`resolve_data`), ``edge_checkpoint`` (G_edge for
    ``edge-inpaint`` and ``joint``), ``inpaint_checkpoint`` (G_inpaint + D_inpaint to start ``joint`` from),
    ``resume`` (``True``: the newest readable checkpoint in ``out_dir`` if there is one, newer unreadable ones
    reported and renamed ``*.unreadable``; or a checkpoint file or run folder; changed settings such as ``lr``
    are listed in a notice and used), photos are scanned before training (``cfg.on_error``),
    ``verbose`` (print status lines: start, validation, DDP check).
    """

    def __init__(self, cfg: TrainConfig, data: Any = "course", out_dir: str | Path = "runs/train", *,
                 val_data: Any = None, edge_checkpoint: str | Path | None = None,
                 inpaint_checkpoint: str | Path | None = None, resume: bool | str | Path = False,
                 verbose: bool = True) -> None:
        if not isinstance(cfg, TrainConfig):
            raise TypeError(f"cfg must be a TrainConfig (get_config('cpu', ...)), got {type(cfg).__name__}")
        self.cfg = cfg
        self.verbose = verbose
        self.out_dir = Path(out_dir)
        self.dist, device_name = _init_distributed(cfg.device)
        self.device = pick_device(device_name)
        # same seed -> same run on the CPU; on CUDA, autotuned kernels unless cudnn_benchmark=False
        seed_everything(cfg.seed, deterministic=not (self.device.type == "cuda" and cfg.cudnn_benchmark))
        if self.device.type == "cuda" and cfg.cudnn_benchmark:
            torch.use_deterministic_algorithms(False)
            torch.backends.cudnn.benchmark = True
        self.log_lines: list[str] = []

        # -- data ---------------------------------------------------------------------------------------
        train_src, val_src = resolve_data(data, val_data)
        common = dict(size=cfg.image_size, sigma=cfg.sigma, mask_mode=cfg.mask_mode, hole_range=tuple(cfg.hole_range),
                      on_error=cfg.on_error)
        self.train_set = _EpochDataset(train_src, train=True, seed=cfg.seed, crop_fraction=tuple(cfg.crop_fraction),
                                       **common)
        self.val_set = InpaintingDataset(val_src, train=False, seed=cfg.seed + 1, **common) if cfg.val_images else None
        self._preflight()
        self.sampler = DistributedSampler(self.train_set, num_replicas=self.dist.world, rank=self.dist.rank,
                                          shuffle=True, seed=cfg.seed, drop_last=True)
        self.batches_per_epoch = len(self.sampler) // cfg.batch_size
        if self.batches_per_epoch == 0:
            raise UsageError(f"the training data has {len(self.train_set)} photos, fewer than batch_size="
                             f"{cfg.batch_size} x {self.dist.world} process(es): add photos or lower batch_size")

        # -- model ---------------------------------------------------------------------------------------
        edge_model = None
        if edge_checkpoint is not None:
            ck = load_checkpoint(edge_checkpoint)
            if "G_edge" not in ck["networks"]:
                raise UsageError(f"edge_checkpoint {edge_checkpoint} holds no G_edge (networks: {sorted(ck['networks'])})")
            edge_model = network_from_checkpoint(ck, "G_edge")
            if edge_model.prefill and not cfg.edge_prefill:
                raise UsageError(f"edge_checkpoint {edge_checkpoint}: its G_edge was trained with edge_prefill (it "
                                 "expects the pull-push fill's edges in the hole) but the config has "
                                 "edge_prefill=false; add --set edge_prefill=true")
            edge_model.prefill = cfg.edge_prefill  # no weight changes: G1 is shown the hint from now on (networks.EdgeGenerator)
        elif cfg.stage == "edge-inpaint":
            raise UsageError("stage 'edge-inpaint' needs a trained edge model: pass edge_checkpoint= (a run "
                             "folder or checkpoint of an 'edge' run)")
        self.model = build_model(cfg, edge_model)
        if inpaint_checkpoint is not None:
            loaded = _load_networks(self.model, load_checkpoint(inpaint_checkpoint), ("G_inpaint", "D_inpaint"))
            if "G_inpaint" not in loaded:
                raise UsageError(f"inpaint_checkpoint {inpaint_checkpoint} holds no G_inpaint")
        self.model.setup(self.device, cfg.amp, cfg.channels_last, cfg.compile)
        self.iteration = 0
        self.last_checkpoint: Path | None = None
        self.last_val: dict[str, float] = {}
        self._resumed_from: Path | None = None

        self._elapsed_before = 0.0          # training seconds of the run before this Trainer (resume)
        self._fit_t0: float | None = None

        # -- resume (the run folder: runs.RunFolder) -----------------------------------------------------------
        self.run_folder = RunFolder(self.out_dir, resume or False, cfg.keep_last, main=self.dist.main,
                                    log=self._print, map_location=self.device)
        ckpt = self.run_folder.resume_checkpoint()
        self.run_folder.check_fresh_or_resume(ckpt)  # a folder holding another run is refused
        if ckpt is not None:
            self._restore(ckpt)
            self._resumed_from = Path(ckpt["path"])
        if self.dist.enabled:
            self.model.distribute([self.device.index] if self.device.type == "cuda" else None)

    # -- checks before training ---------------------------------------------------------------------------
    def _preflight(self) -> None:
        """Scan the training and validation photos now (readable, decodable, big enough), not hours in.

        ``cfg.on_error="raise"``: a ``ValueError`` naming every bad file; ``"skip"``: they are dropped and
        listed in a status line (``train_set.skipped``).
        """
        min_side = min_photo_side(self.cfg.image_size)
        for what, dataset in (("training", self.train_set), ("validation", self.val_set)):
            if dataset is None:
                continue
            bad = dataset.preflight(min_side)
            if bad:
                self._print(f"skipped {len(bad)} {what} photo(s) that cannot be used (on_error='skip'): "
                            + "; ".join(str(b) for b in bad))

    # -- resume ------------------------------------------------------------------------------------------
    def _notice_changed_settings(self, ckpt: dict) -> None:
        """Print which settings (lr, betas, loss weights, ...) differ from the checkpoint's: the new ones apply."""
        # a key the checkpoint's config lacks (written before that setting existed) had its default value
        old = {**TrainConfig().to_dict(), **ckpt.get("config", {})} if ckpt.get("config") else {}
        new = self.cfg.to_dict()
        changed = [f"{k} {old[k]!r} -> {new[k]!r}" for k in new
                   if k in old and old[k] != new[k] and k not in RESUME_MUST_MATCH and k not in RESUME_QUIET]
        if changed:
            self._print(f"notice: resuming {ckpt['path']} with settings that differ from the checkpoint's (the new "
                        f"values are used): {', '.join(changed)}")

    def _restore(self, ckpt: dict) -> None:
        old = ckpt.get("config", {})
        diff = [f"{k}: checkpoint {old.get(k)!r} vs now {getattr(self.cfg, k)!r}"
                for k in RESUME_MUST_MATCH if k in old and old[k] != getattr(self.cfg, k)]
        if diff:
            raise UsageError(f"cannot resume from {ckpt['path']}: the configuration differs ({'; '.join(diff)}); "
                             "use the same stage and preset as the run that wrote it")
        self._notice_changed_settings(ckpt)
        _load_networks(self.model, ckpt)
        for name, opt in self.model.optimizers.items():
            if name in ckpt.get("optimizers", {}):
                opt.load_state_dict(ckpt["optimizers"][name])
                for group in opt.param_groups:  # the saved betas would silently win over a changed config
                    group["betas"] = (self.cfg.beta1, self.cfg.beta2)
        if ckpt.get("scaler") is not None and self.model.precision.scaler is not None:
            self.model.precision.scaler.load_state_dict(ckpt["scaler"])
        if "rng" in ckpt:
            _set_rng_state(ckpt["rng"])
        self.iteration = int(ckpt["iteration"])
        self.last_checkpoint = Path(ckpt["path"])
        self._elapsed_before = self.run_folder.seconds_before(ckpt)

    # -- helpers -----------------------------------------------------------------------------------------
    def lr_scale(self, iteration: int) -> float:
        """``lr_gamma ** (number of milestones passed)``: the paper's 1e-4 -> 1e-5 -> 1e-6 steps."""
        return self.cfg.lr_gamma ** sum(1 for m in self.cfg.lr_milestones if iteration >= m)

    def _print(self, msg: str) -> None:
        """A status line (rank 0): kept in ``self.log_lines``, printed when ``verbose``."""
        if self.dist.main:
            self.log_lines.append(msg)
            if self.verbose:
                from tqdm.auto import tqdm

                tqdm.write(msg) if self.cfg.progress else print(msg, flush=True)

    def _batches(self) -> Iterator[Any]:
        """Batches from the current iteration on, epoch after epoch."""
        epoch, skip = divmod(self.iteration, self.batches_per_epoch)
        while True:
            loader = DataLoader(self.train_set, batch_sampler=_EpochBatches(self.sampler, self.cfg.batch_size, epoch, skip),
                                num_workers=self.cfg.num_workers, pin_memory=self.device.type == "cuda",
                                persistent_workers=False)
            yield from loader
            epoch, skip = epoch + 1, 0

    def _val_batch(self, n: int = 4):
        items = [self.val_set[i] for i in range(min(n, len(self.val_set)))]
        return to_batch(tuple(torch.stack(t) for t in zip(*items)), self.device)

    def elapsed(self) -> float:
        """Training seconds of the whole run so far (a resumed run continues from its checkpoint's time)."""
        running = time.perf_counter() - self._fit_t0 if self._fit_t0 is not None else 0.0
        return self._elapsed_before + running

    def save(self) -> Path:
        """Write a checkpoint of the current state (rank 0 only) and prune to the last ``keep_last``.

        A failed write (disk full, read-only, permission) raises ``OSError`` naming the file and the cause;
        the earlier checkpoints are left as they were (nothing is pruned).
        """
        obj = checkpoint_dict(self.model, self.iteration, self.cfg, seconds=self.elapsed(),
                              extra={"val": dict(self.last_val), "device": describe_device(self.device)}
                              ) if self.dist.main else {}
        self.last_checkpoint = self.run_folder.save(obj, self.iteration, last_good=self.last_checkpoint)
        return self.last_checkpoint

    def validate(self) -> dict[str, float]:
        """Validation metrics on the first ``val_images`` validation photos (rank 0)."""
        if self.val_set is None or not self.dist.main:
            return {}
        self.last_val = evaluate(self.model, self.val_set, self.cfg.stage, batch_size=self.cfg.batch_size,
                                 limit=self.cfg.val_images, device=self.device)
        return self.last_val

    # -- the loop -----------------------------------------------------------------------------------------
    def fit(self, iterations: int | None = None) -> TrainResult:
        """Train up to ``iterations`` (default ``cfg.iterations``) in total; return a :class:`TrainResult`."""
        from tqdm.auto import tqdm

        cfg, model, d = self.cfg, self.model, self.dist
        total = cfg.iterations if iterations is None else int(iterations)
        t0 = self._fit_t0 = time.perf_counter()
        history: list[dict] = []
        main = d.main
        self.run_folder.write_config(cfg.to_dict())
        resumed = self._resumed_from is not None
        train_log = self.run_folder.csv_log("log.csv", self.iteration)
        val_log = self.run_folder.csv_log("val.csv", self.iteration)
        tb = _tensorboard(self.out_dir / "tb") if main else None
        self._print(f"stage {cfg.stage}: {len(self.train_set)} training photos, {cfg.image_size} px, batch "
                    f"{cfg.batch_size} x {d.world}, device {describe_device(self.device)}, precision "
                    f"{model.precision.reason}, {model.compile_plan.reason}" + (f", resumed from {self._resumed_from} at iteration {self.iteration}"
                                                 if resumed else ""))
        vgg = getattr(model, "perceptual_style", None)
        if vgg is not None:
            self._print(f"VGG19 for the perceptual/style losses: {vgg.source}")
        bar = tqdm(total=total, initial=min(self.iteration, total), disable=not (cfg.progress and main),
                   desc=cfg.stage, dynamic_ncols=True, leave=True)
        window: dict[str, list[float]] = {}
        batches = self._batches()
        try:
            while self.iteration < total:
                model.set_lr(self.lr_scale(self.iteration))
                batch = next(batches)
                try:
                    logs, bad = model.train_step(batch), None
                except NonFiniteLossError as err:
                    logs, bad = {}, (err.name, err.value)
                if d.enabled:  # every rank stops together when one diverges
                    flag = torch.tensor([0.0 if bad is None else 1.0], device=self.device)
                    dist.all_reduce(flag)
                    if flag.item() > 0 and bad is None:
                        bad = ("a loss on another rank", float("nan"))
                if bad is not None:
                    raise TrainingDiverged(bad[0], bad[1], self.iteration + 1, self.last_checkpoint)
                self.iteration += 1
                it = self.iteration
                for k, v in logs.items():
                    window.setdefault(k, []).append(v)
                bar.update(1)
                bar.set_postfix({k: f"{v:.3g}" for k, v in logs.items() if k in ("loss_D", "loss_G", "precision", "psnr")},
                                refresh=False)
                last = it == total
                if main and (it % cfg.log_every == 0 or last):
                    row = {"iteration": it, "lr": model.lr(), "seconds": round(self.elapsed(), 3),
                           **{k: float(np.mean(v)) for k, v in window.items()}}
                    train_log.write(row)
                    history.append(row)
                    if tb is not None:
                        for k, v in row.items():
                            if k not in ("iteration", "seconds"):
                                tb.add_scalar(f"train/{k}", v, it)
                    window = {}
                if main and self.val_set is not None and (it % cfg.val_every == 0 or last):
                    val = self.validate()
                    val_log.write({"iteration": it, **val})
                    if tb is not None:
                        for k, v in val.items():
                            tb.add_scalar(f"val/{k}", v, it)
                    self._print(f"iteration {it}: " + ", ".join(f"{k} {v:.4g}" for k, v in val.items()))
                if main and self.val_set is not None and (it % cfg.sample_every == 0 or last):
                    _sample_grid(model, cfg.stage, self._val_batch(), self.out_dir / "samples" / f"iter_{it:08d}.png")
                if it % cfg.save_every == 0 or last:
                    self.save()
            if d.enabled:
                same = _check_replicas_equal(model, d)
                self._print(f"DDP check: weights and buffers identical on all {d.world} ranks: {same}")
                if not same:
                    raise RuntimeError("DDP replicas diverged: the ranks hold different weights")
        finally:
            self._elapsed_before, self._fit_t0 = self.elapsed(), None
            bar.close()
            if tb is not None:
                tb.close()
            if d.enabled:
                model.undistribute()
            if d.owns_group and dist.is_initialized():
                dist.barrier()
                dist.destroy_process_group()
        return TrainResult(model, self.iteration, self.last_checkpoint, dict(self.last_val), history,
                           time.perf_counter() - t0)


# ----------------------------------------------------------------------------------------------------------
# Load or train (for the lessons)
# ----------------------------------------------------------------------------------------------------------
class LoadOrTrain(NamedTuple):
    """What :func:`load_or_train` returns: the same model either way, and how it was obtained."""

    model: nn.Module
    trained: bool          # True: trained now; False: loaded from ``checkpoint``
    seconds: float
    checkpoint: Path
    message: str


def load_or_train(cfg: TrainConfig, checkpoint: str | Path, data: Any = "course", *,
                  edge_checkpoint: str | Path | None = None, inpaint_checkpoint: str | Path | None = None,
                  out_dir: str | Path | None = None, device: str | None = None) -> LoadOrTrain:
    """Load ``checkpoint`` when it exists, else train ``cfg`` and save the result there (UvA-tutorial style).

    Either way returns the trainable model of ``cfg.stage`` (eval mode, on ``device`` or ``cfg.device``)
    with its weights; the model's sizes come from the checkpoint when loading. ``out_dir`` (default: a folder
    next to ``checkpoint``) keeps the training run's logs and samples.
    """
    checkpoint = Path(checkpoint)
    t0 = time.perf_counter()
    dev = pick_device(device or cfg.device)
    if checkpoint.exists():
        ckpt = load_checkpoint(checkpoint)
        saved = TrainConfig.from_dict(ckpt["config"]) if "config" in ckpt else cfg
        edge = network_from_checkpoint(ckpt, "G_edge") if saved.stage == "edge-inpaint" and "G_edge" in ckpt["networks"] else None
        model = build_model(saved, edge)
        _load_networks(model, ckpt)
        model.setup(dev, "off", False)
        model.eval()
        secs = time.perf_counter() - t0
        return LoadOrTrain(model, False, secs, checkpoint,
                           f"loaded {checkpoint.name} ({saved.stage}, iteration {ckpt.get('iteration', '?')}) in {secs:.1f} s")
    run_dir = Path(out_dir) if out_dir is not None else checkpoint.with_name(checkpoint.stem + "_run")
    cfg = cfg.replace(device=str(dev)) if device else cfg
    result = Trainer(cfg, data, run_dir, edge_checkpoint=edge_checkpoint, inpaint_checkpoint=inpaint_checkpoint).fit()
    save_checkpoint(result.model, result.iteration, cfg, checkpoint, extra={"val": result.val})
    result.model.eval()
    secs = time.perf_counter() - t0
    return LoadOrTrain(result.model, True, secs, checkpoint,
                       f"trained {cfg.stage} for {result.iteration} iterations in {secs:.0f} s; saved {checkpoint}")
