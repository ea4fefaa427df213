"""Training InGAN on one photo (:class:`InGANTrainer`, the official code's loop), its checkpoints and their export."""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from ..checkpoints import EXPORT_KEYS, INGAN_FORMAT, export_weights, load_checkpoint
from ..errors import TrainingDiverged, UsageError
from ..fileio import atomic_save
from ..precision import Precision, spectral_norm_outside_autocast
from ..runs import RunFolder
from ..utils import describe_device, pick_device, seed_everything
from .config import MIN_OUTPUT_SIDE, InGANConfig
from .geometry import homography_from_corners
from .inference import InGAN
from .losses import discriminator_levels, ingan_losses
from .networks import InGANGenerator, MultiScaleDiscriminator, scale_weights
from .photo import image_to_tensor, prepare_image


class InGANResult(NamedTuple):
    """What :meth:`InGANTrainer.fit` returns: the trained model, the iteration reached, the last checkpoint,
    and the logged rows (``iteration``, losses, ``seconds``)."""

    model: "InGAN"
    iteration: int
    checkpoint: Path | None
    history: list[dict[str, float]]


class InGANTrainer:
    """Train InGAN on one photo (official code's loop, ``InGAN.train_one_iter``), with this course's habits.

    Each iteration draws a geometry ``T`` (output scales in the curriculum's range, sometimes a homography),
    makes ``fake = G(x; T)``, takes one discriminator step on ``x`` vs ``fake.detach()`` (``L_GAN``, Eq. 2,
    halved as in :func:`~edgeconnect_lib.losses.discriminator_loss`), then one generator step on
    :func:`ingan_losses` (Eq. 1) with a fresh D forward. Adam with ``beta1 = 0.5``; the learning rate decays
    linearly to 0 from ``lr_decay_start`` to ``iterations``.

    ``out_dir`` receives ``checkpoints/ckpt_NNNNNNNN.pt`` (atomic writes, the last ``keep_last`` kept; weights,
    optimisers, the photo as ``uint8``, the sampler's RNG state, the config), ``log.csv`` and ``config.json``.
    ``resume=True`` continues from the newest readable checkpoint (unreadable newer ones are skipped and
    named and renamed ``*.unreadable``); ``resume=PATH`` from that file (or that run folder's newest readable
    checkpoint); ``resume=CHECKPOINT`` from a checkpoint already read
    (:func:`read_resume_checkpoint`). An ``out_dir`` that holds checkpoints is refused unless the run resumes
    one of them (:meth:`~edgeconnect_lib.runs.RunFolder.check_fresh_or_resume`, as for
    :class:`~edgeconnect_lib.train.Trainer`), and an ``image`` given with a resume must be the run's photo
    (``ValueError``): two runs never mix in one folder. A NaN or infinite loss raises
    :class:`~edgeconnect_lib.errors.TrainingDiverged`
    (``last_checkpoint``: the last good one). Every random draw after the weights' seeded initialisation comes
    from one ``torch.Generator`` saved in the checkpoint, so on the CPU N iterations in one go and N/2 + resume
    + N/2 give the same weights (tested).
    """

    def __init__(self, cfg: InGANConfig, image: Any, out_dir: str | Path | None = None, *,
                 resume: bool | str | Path | dict = False, verbose: bool = True) -> None:
        self.cfg, self.verbose = cfg, verbose
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.device = pick_device(cfg.device)
        self.run_folder = RunFolder(self.out_dir, resume, cfg.keep_last, log=self._print)
        ckpt = self._resume_checkpoint()
        self.run_folder.check_fresh_or_resume(ckpt)  # two runs never mix in one folder
        if ckpt is not None:
            photo = ckpt["extra"]["image"].numpy().astype(np.float32) / 255.0
            self.image_name = str(ckpt["extra"].get("image_name", "image"))
            if image is not None:
                self._refuse_another_photo(ckpt, image)
        else:
            if image is None:
                raise UsageError("image: give the photo to train on (a path or an H x W x 3 array)")
            photo = prepare_image(image, cfg.image_size)
            self.image_name = Path(image).name if isinstance(image, (str, Path)) else "array"
        self.image = photo                                             # (h, w, 3) in [0, 1]
        self.input_size = tuple(photo.shape[:2])
        seed_everything(cfg.seed)
        self.G = InGANGenerator(cfg.base_channels, cfg.downsamples, cfg.residual_blocks,
                                cfg.generator_skips).to(self.device)
        self.D = MultiScaleDiscriminator(self.input_size, cfg.disc_channels, cfg.disc_scale_factor, cfg.disc_min_size,
                                         cfg.disc_max_scales, cfg.max_scale, cfg.disc_kind).to(self.device)
        # mixed precision (cfg.amp) and NHWC memory where they are faster (InGANConfig's docstring)
        self.precision = Precision(self.device, cfg.amp)
        if self.precision.dtype is not None:
            spectral_norm_outside_autocast(self.D, self.device.type)
        self.channels_last = bool(cfg.channels_last) and (self.device.type == "cuda" or self.precision.dtype is not None)
        if self.channels_last:
            self.G.to(memory_format=torch.channels_last)
            self.D.to(memory_format=torch.channels_last)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=cfg.disc_lr, betas=(cfg.beta1, cfg.beta2))
        self.rng = torch.Generator().manual_seed(cfg.seed)
        self.iteration, self.last_checkpoint, self._seconds_before = 0, None, 0.0
        self.resumed_from: str | None = None
        if ckpt is not None:
            self._restore(ckpt)

    # -- resume --------------------------------------------------------------------------------------------
    def _resume_checkpoint(self) -> dict | None:
        """The checkpoint to resume (:meth:`RunFolder.resume_checkpoint`), checked to be an InGAN one of the
        same network settings."""
        ckpt = self.run_folder.resume_checkpoint()
        if ckpt is None:
            if self.run_folder.resume is not False and self.out_dir is not None:
                self._print(f"resume: no checkpoint in {self.out_dir}: starting from iteration 0")
            return None
        if ckpt.get("format") != INGAN_FORMAT:
            raise UsageError(f"{ckpt.get('path')}: not an InGAN checkpoint (format {ckpt.get('format')!r}); give a "
                             "run folder or file written by 'ingan train'")
        must = ("base_channels", "downsamples", "residual_blocks", "generator_skips", "disc_channels", "image_size",
                "disc_scale_factor", "disc_min_size", "disc_max_scales", "max_scale", "disc_kind")
        # checkpoints from before these options had the skips and the course's discriminator
        old = {"generator_skips": True, "disc_kind": "course", **ckpt.get("config", {})}
        diff = [f"{k} {old.get(k)} -> {getattr(self.cfg, k)}" for k in must if k in old and old[k] != getattr(self.cfg, k)]
        if diff:
            raise UsageError(f"{ckpt.get('path')}: cannot resume with other network settings ({'; '.join(diff)}); "
                             "use the run's preset and sizes, or train into another output folder (out_dir=)")
        return ckpt

    def _refuse_another_photo(self, ckpt: dict, image: Any) -> None:
        """A photo given with a resume must be the run's own (as prepared for training, within one level)."""
        theirs = ckpt["extra"]["image"].numpy()
        ours = (prepare_image(image, self.cfg.image_size) * 255 + 0.5).astype(np.uint8)
        if ours.shape != theirs.shape or int(np.abs(ours.astype(np.int16) - theirs.astype(np.int16)).max()) > 1:
            shown = str(image) if isinstance(image, (str, Path)) else f"the {type(image).__name__} given as image"
            raise UsageError(f"image {shown} is not the photo of the run being resumed "
                             f"({ckpt['extra'].get('image_name', 'its photo')}, {ckpt.get('path')}): a resumed run "
                             "trains on its own photo; continue it without an image (image=None), or train "
                             "the new photo into another output folder (out_dir=)")

    def _restore(self, ckpt: dict) -> None:
        self.G.load_state_dict(ckpt["networks"]["G"])
        if "D" in ckpt["networks"]:  # a weights-only export keeps G alone: D starts afresh
            self.D.load_state_dict(ckpt["networks"]["D"])
        if "optimizers" in ckpt and "D" in ckpt["networks"]:
            self.opt_G.load_state_dict(ckpt["optimizers"]["G"])
            self.opt_D.load_state_dict(ckpt["optimizers"]["D"])
            for opt, lr in ((self.opt_G, self.cfg.lr), (self.opt_D, self.cfg.disc_lr)):
                for group in opt.param_groups:
                    group["initial_lr"] = lr
        if "rng" in ckpt:
            self.rng.set_state(ckpt["rng"])
        self.iteration = int(ckpt["iteration"])
        self._seconds_before = self.run_folder.seconds_before(ckpt)
        self.last_checkpoint = Path(ckpt["path"]) if "path" in ckpt else None
        self.resumed_from = ckpt.get("path")

    # -- one iteration -------------------------------------------------------------------------------------
    def lr_scale(self, iteration: int) -> float:
        """Linear decay to 0 from ``lr_decay_start`` to ``iterations`` (official ``LRPolicy``)."""
        start, end = self.cfg.lr_decay_start, self.cfg.iterations
        return 1.0 if end <= start else 1.0 - max(0.0, (iteration - start) / (end - start))

    def sample_geometry(self, iteration: int) -> tuple[tuple[int, int], torch.Tensor | None]:
        """A random output size (scales in the curriculum's range ``[1 - (1 - min) t, 1 + (max - 1) t]``,
        ``t`` = progress to ``curriculum_iterations``, height and width drawn apart) and, with probability
        ``homography_probability``, a random homography (corners moved by up to ``homography_magnitude`` t)."""
        cfg = self.cfg
        t = 1.0 if cfg.curriculum_iterations == 0 else min(1.0, (iteration + 1) / cfg.curriculum_iterations)
        lo, hi = 1.0 - (1.0 - cfg.min_scale) * t, 1.0 + (cfg.max_scale - 1.0) * t
        u = torch.rand(4, generator=self.rng, dtype=torch.float64)
        sy, sx = lo + (hi - lo) * float(u[0]), lo + (hi - lo) * float(u[1])
        h = max(MIN_OUTPUT_SIDE, round(self.input_size[0] * sy))
        w = max(MIN_OUTPUT_SIDE, round(self.input_size[1] * sx))
        shift = (torch.rand((4, 2), generator=self.rng, dtype=torch.float64) * 2 - 1) * cfg.homography_magnitude * t
        homography = None
        if float(u[2]) < cfg.homography_probability and cfg.homography_magnitude > 0:
            corners = torch.tensor([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=torch.float64) + shift
            homography = homography_from_corners(corners.tolist())
        return (h, w), homography

    def step(self) -> dict[str, float]:
        """One iteration: D step, then G step (Eq. 1-3); returns the losses as floats."""
        cfg, G, D = self.cfg, self.G, self.D
        for opt, lr in ((self.opt_G, cfg.lr), (self.opt_D, cfg.disc_lr)):
            for group in opt.param_groups:
                group["lr"] = lr * self.lr_scale(self.iteration)
        x = image_to_tensor(self.image, self.device)                                  # (1, 3, h, w) in [-1, 1]
        size, homography = self.sample_geometry(self.iteration)
        # de-quantisation noise (official code): the networks should not learn the 1/255 steps
        noise = lambda t: (torch.rand(t.shape, generator=self.rng) * 2 - 1).to(t.device) * cfg.input_noise * 2
        x_in = x + noise(x)
        G.train(); D.train()
        weights_real = scale_weights(D.num_scales(x.shape[-2:]), self.iteration, cfg.even_scales_iteration,
                                     cfg.scale_weights_sigma)
        weights_fake = scale_weights(D.num_scales(size), self.iteration, cfg.even_scales_iteration,
                                     cfg.scale_weights_sigma)
        with self.precision.autocast():   # the forward passes; D's score maps come back in fp32
            fake = G(x_in, size, homography).float()                              # G(x; T), (1, 3, H, W)
            # discriminator: L_GAN (Eq. 2) per level, on the photo and the detached output
            real_maps, fake_maps = D(x + noise(x)), D(fake.detach() + noise(fake))
            loss_D_stretch = self._stretch_negative_loss(x, size, homography, weights_fake, noise)
        # sum_k w_k (D_k(y) - 1)^2 and sum_k w_k D_k(G(x; T))^2; the photo and the output have different
        # sizes, hence different numbers of levels, so the two halves are weighted apart
        loss_D_real = discriminator_levels(real_maps, weights_real, real=True)
        loss_D_fake = discriminator_levels(fake_maps, weights_fake, real=False)
        loss_D = (loss_D_real + loss_D_fake) / 2   # halved, as losses.discriminator_loss
        if loss_D_stretch is not None:
            loss_D = loss_D + cfg.stretch_negatives * loss_D_stretch / 2
        self.opt_D.zero_grad(set_to_none=True)
        self.precision.backward_step(loss_D, self.opt_D)

        # generator: Eq. 1 with a fresh D forward (D's new weights), gradients to G only
        for p in D.parameters():
            p.requires_grad_(False)
        with self.precision.autocast():
            losses = ingan_losses(G, D, x_in, fake, self.input_size, homography, weights_fake,
                                  cfg.lambda_cycle, cfg.lambda_identity, target=x)
        self.opt_G.zero_grad(set_to_none=True)
        self.precision.backward_step(losses["loss_G"], self.opt_G)
        self.precision.update()
        for p in D.parameters():
            p.requires_grad_(True)
        self.iteration += 1
        row = {k: float(v.detach()) for k, v in losses.items()}
        row.update(loss_D=float(loss_D.detach()), loss_D_real=float(loss_D_real.detach()), loss_D_fake=float(loss_D_fake.detach()))
        if cfg.stretch_negatives > 0:
            # 0 on the iterations that skip the term (near-identity sizes, homographies): what it added to loss_D
            row["loss_D_stretch"] = 0.0 if loss_D_stretch is None else float(loss_D_stretch.detach())
        bad = [k for k, v in row.items() if not math.isfinite(v)]
        if bad:
            raise TrainingDiverged(bad[0], row[bad[0]], self.iteration, self.last_checkpoint)
        return row

    def _stretch_negative_loss(self, x: torch.Tensor, size: tuple[int, int], homography: torch.Tensor | None,
                               weights: torch.Tensor, noise) -> torch.Tensor | None:
        """``sum_k w_k D_k(resize(x, size))^2``: the photo stretched to the drawn size, scored as fake
        (``stretch_negatives``, not in the paper; see :class:`InGANConfig`). ``None`` when the term is off,
        for a homography, and for sizes within 5% of the photo's in both directions (there the stretch is
        nearly the photo itself, a real example)."""
        if self.cfg.stretch_negatives <= 0 or homography is not None:
            return None
        h, w = self.input_size
        if abs(size[0] / h - 1) < 0.05 and abs(size[1] / w - 1) < 0.05:
            return None
        stretched = F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=True).clamp(-1, 1)
        return discriminator_levels(self.D(stretched + noise(stretched)), weights, real=False)

    # -- files ---------------------------------------------------------------------------------------------
    def _print(self, msg: str) -> None:
        if self.verbose:
            print(msg, flush=True)

    def checkpoint_dict(self, seconds: float = 0.0) -> dict[str, Any]:
        """Everything a resume needs (and :func:`export_ingan` keeps the weights, the photo and the config of)."""
        return {
            "format": INGAN_FORMAT,
            "stage": "ingan",
            "iteration": self.iteration,
            "seconds": float(seconds),
            "config": self.cfg.to_dict(),
            "networks": {"G": self.G.state_dict(), "D": self.D.state_dict()},
            "network_configs": {"G": dict(self.G.config), "D": dict(self.D.config)},
            "optimizers": {"G": self.opt_G.state_dict(), "D": self.opt_D.state_dict()},
            "rng": self.rng.get_state(),
            "torch_version": str(torch.__version__),
            "extra": {"image": torch.from_numpy((self.image * 255 + 0.5).astype(np.uint8)),
                      "image_name": self.image_name, "device": describe_device(self.device)},
        }

    def save(self, seconds: float = 0.0) -> Path:
        """Write ``checkpoints/ckpt_NNNNNNNN.pt`` atomically and keep the last ``keep_last``."""
        if self.out_dir is None:
            raise UsageError("InGANTrainer.save: no out_dir was given")
        self.last_checkpoint = self.run_folder.save(self.checkpoint_dict(seconds), self.iteration,
                                                    last_good=self.last_checkpoint)
        return self.last_checkpoint

    def fit(self, iterations: int | None = None) -> InGANResult:
        """Train up to ``iterations`` in total (default ``cfg.iterations``); checkpoint every ``save_every``
        and at the end; log the losses averaged over ``log_every`` iterations."""
        from tqdm.auto import tqdm

        cfg = self.cfg
        total = cfg.iterations if iterations is None else int(iterations)
        if total < self.iteration:
            raise UsageError(f"iterations={total}: the run is already at iteration {self.iteration}")
        self.run_folder.write_config(cfg.to_dict())
        log = self.run_folder.csv_log("log.csv", self.iteration)
        self._print(f"InGAN on {self.image_name} ({self.input_size[1]}x{self.input_size[0]} px), device "
                    f"{describe_device(self.device)}, precision {self.precision.reason}"
                    f"{', channels-last' if self.channels_last else ''}, iterations {self.iteration} -> {total}"
                    + (f", resumed from {self.resumed_from}" if self.resumed_from else ""))
        t0 = time.perf_counter()
        history: list[dict[str, float]] = []
        acc: dict[str, float] = {}
        n = 0
        bar = tqdm(total=total, initial=self.iteration, disable=not (cfg.progress and self.verbose), desc="InGAN",
                   leave=False)
        try:
            while self.iteration < total:
                row = self.step()
                for k, v in row.items():
                    acc[k] = acc.get(k, 0.0) + v
                n += 1
                bar.update(1)
                if self.iteration % cfg.log_every == 0 or self.iteration == total:
                    seconds = self._seconds_before + time.perf_counter() - t0
                    entry = {"iteration": self.iteration, **{k: v / n for k, v in acc.items()}, "seconds": seconds}
                    history.append(entry)
                    if log is not None:
                        log.write(entry)
                    bar.set_postfix(loss_G=f"{entry['loss_G']:.3f}", loss_D=f"{entry['loss_D']:.3f}")
                    acc, n = {}, 0
                if self.out_dir is not None and (self.iteration % cfg.save_every == 0 or self.iteration == total):
                    self.save(self._seconds_before + time.perf_counter() - t0)
        finally:
            bar.close()
        return InGANResult(InGAN(self.G, self.image, self.cfg), self.iteration, self.last_checkpoint, history)


def read_resume_checkpoint(resume: bool | str | Path, out_dir: str | Path | None = None,
                           log: Any = print) -> dict | None:
    """The checkpoint a resume starts from, read once: ``resume=True`` -> the newest readable checkpoint of
    ``out_dir`` (newer, unreadable ones are named through ``log``; ``None`` when the folder holds none; a
    ``ValueError`` when it holds some but none can be read); a file or run folder -> its (newest) checkpoint.
    Pass the result to :class:`InGANTrainer` as ``resume=`` so it is not read again."""
    return RunFolder(out_dir, resume, log=log).resume_checkpoint()


def export_ingan(src: str | Path, dst: str | Path, discriminator: bool = False) -> Path:
    """The weights-only copy of an InGAN checkpoint (a file or a run folder's latest), written atomically: the
    generator, the photo and the config (the keys :data:`~edgeconnect_lib.checkpoints.EXPORT_KEYS` of
    :func:`~edgeconnect_lib.checkpoints.export_weights`), without the optimisers and the RNG state; the
    discriminator only with ``discriminator=True`` (retargeting needs G alone; D is 60% of the file)."""
    ckpt = load_checkpoint(src)
    if ckpt.get("format") != INGAN_FORMAT:
        raise UsageError(f"{ckpt.get('path')}: not an InGAN checkpoint (format {ckpt.get('format')!r})")
    if discriminator:
        return export_weights(ckpt["path"], dst)
    out = {k: ckpt[k] for k in EXPORT_KEYS if k in ckpt}
    out["networks"] = {"G": ckpt["networks"]["G"]}
    out["network_configs"] = {"G": ckpt["network_configs"]["G"]}
    return atomic_save(out, Path(dst))
