"""Command line: ``python -m edgeconnect_lib ingan train|retarget`` (wired in ``__main__``); ``retarget --method
gpnn`` runs :func:`~edgeconnect_lib.ingan.gpnn.gpnn_retarget` on any photo, without training."""
from __future__ import annotations

import math
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from ..checkpoints import list_checkpoints
from ..cli_files import CliError, FileGuard, is_within, parse_overrides, write_image
from ..errors import TrainingDiverged, UsageError
from ..images import load_image
from ..utils import pick_device
from .config import INGAN_PRESETS, InGANConfig, check_output_size, get_ingan_config, parse_size
from .geometry import as_homography
from .gpnn import gpnn_retarget
from .inference import InGAN, bicubic_retarget, bicubic_warp
from .metrics import bidirectional_similarity, patch_distance
from .photo import prepare_image
from .trainer import InGANTrainer, export_ingan, read_resume_checkpoint


def add_arguments(parser) -> None:
    """The ``ingan`` command group's options (``train`` and ``retarget``) on an ``argparse`` parser."""
    import argparse

    sub = parser.add_subparsers(dest="ingan_command", required=True, metavar="ACTION")
    t = sub.add_parser("train", help="train InGAN on one photo",
                       description="Train InGAN (Shocher et al. 2019) on one photo. Writes checkpoints/, log.csv and "
                                   "config.json under --out; --resume continues the run (on its own photo). A --out "
                                   "that holds checkpoints is refused without --resume; an output (--out, --export) "
                                   "that names an input is refused before anything is written.")
    t.add_argument("--image", default=None, help="the photo to learn (not needed with --resume)")
    t.add_argument("--out", required=True, type=Path, help="run folder")
    t.add_argument("--preset", choices=tuple(INGAN_PRESETS), default=None,
                   help="named settings (default: cpu, or the resumed run's)")
    t.add_argument("--iterations", type=int, default=None, help="total iterations (default: the preset's)")
    t.add_argument("--image-size", type=int, default=None, help="longer side of the photo in training, px")
    t.add_argument("--seed", type=int, default=None)
    t.add_argument("--device", default=None, help="auto | cpu | cuda | cuda:N | mps (default auto)")
    t.add_argument("--resume", nargs="?", const=True, default=False, metavar="CHECKPOINT",
                   help="continue from the newest readable checkpoint in --out (or from CHECKPOINT)")
    t.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="any other InGANConfig field, e.g. --set lambda_identity=0; the value must have the "
                        "field's type (true/false, an integer, a finite number) and range; a key that an option "
                        "above also sets (iterations, seed, ...) must agree with it")
    t.add_argument("--export", type=Path, default=None,
                   help="also write a weights-only copy of the final checkpoint here (e.g. data/checkpoints/ingan_x.pt)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")

    r = sub.add_parser("retarget", help="paint a photo at another size: a trained InGAN, or GPNN (no training)",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="--method ingan (default): G(x; T) of a trained InGAN (--checkpoint). --method "
                                   "gpnn: patch nearest neighbours, coarse to fine (Granot et al., CVPR 2022), on "
                                   "any photo (--image, or the photo of --checkpoint), no training. --homography "
                                   "(InGAN only) takes 9 numbers (row by row) in normalised coordinates (x right, y "
                                   "down, the frame spans [-1, 1]) mapping the input to the output.")
    r.add_argument("--method", choices=("ingan", "gpnn"), default="ingan",
                   help="ingan: a trained generator (needs --checkpoint); gpnn: no training (needs --image or "
                        "--checkpoint for its photo)")
    r.add_argument("--checkpoint", default=None, help="an InGAN run folder or checkpoint file")
    r.add_argument("--image", default=None, help="--method gpnn: the photo to retarget")
    r.add_argument("--image-size", type=int, default=None,
                   help="--method gpnn with --image: resize the photo first so its longer side is this many px "
                        "(default: as it is; GPNN takes seconds at 256 px)")
    r.add_argument("--size", default=None, metavar="HxW", help="output height x width in pixels, e.g. 40x128")
    r.add_argument("--homography", type=float, nargs=9, default=None, metavar="H",
                   help="3x3 homography, 9 numbers, e.g. 1 0 0 0 1 0 0 0 1 (--method ingan)")
    r.add_argument("--seed", type=int, default=0, help="--method gpnn: the seed of its starting noise (default 0)")
    r.add_argument("--out", required=True, type=Path, help="output image file (.png, .jpg, ...)")
    r.add_argument("--bicubic", type=Path, default=None, help="also write the bicubic (cv2 INTER_CUBIC) baseline here")
    r.add_argument("--patch-distance", action="store_true",
                   help="print the patch distance (SWD, 7x7 patches, 3 levels) to the input, METHOD vs bicubic")
    r.add_argument("--similarity", action="store_true",
                   help="print coherence and completeness (bidirectional similarity, 7x7 patches) to the input, "
                        "METHOD vs bicubic")
    r.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")


def _train_config(args, ckpt: dict | None) -> InGANConfig:
    """The run's :class:`InGANConfig`: the preset (``--preset``, else the resumed run's settings, else ``cpu``),
    then ``--set`` (typed by :func:`~edgeconnect_lib.cli_files.parse_overrides`) and the options. A setting out
    of its range (the config's own checks) is a :class:`~edgeconnect_lib.errors.ConfigError`, a usage error."""
    given: dict[str, tuple[Any, str]] = {}
    for name in ("iterations", "image_size", "seed", "device"):
        if getattr(args, name) is not None:
            given[name] = (getattr(args, name), f"--{name.replace('_', '-')} {getattr(args, name)}")
    if args.no_progress:
        given["progress"] = (False, "--no-progress")
    overrides = {name: value for name, (value, _) in given.items()}
    overrides.update(parse_overrides(InGANConfig, args.overrides, given))
    known = {f.name for f in fields(InGANConfig)}
    if ckpt is not None and args.preset is None:
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise UsageError(f"unknown InGAN setting(s) {unknown}; known: {sorted(known)}")
        # a checkpoint from before the amp option was trained in fp32: it resumes in fp32
        base = {"amp": "off", **{k: v for k, v in ckpt.get("config", {}).items() if k in known}}
        return InGANConfig(**{**base, **overrides})  # its own checks raise a ConfigError: a usage error
    return get_ingan_config(args.preset or "cpu", **overrides)


def _train_files(args) -> None:
    """Refuse, before anything is read or written, an output (``--out``, ``--export``) that is an input
    (``--image``, ``--resume FILE``, by any name), the other output, or one of the run's own files."""
    guard = FileGuard()
    guard.add_input("--image", args.image)
    if args.resume is not True and args.resume is not False:  # a file, or a run folder (its checkpoints)
        resume = Path(args.resume)
        guard.add_inputs("--resume", list_checkpoints(resume) if resume.is_dir() else [resume])
    out = guard.add_output("--out", args.out)
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {args.out} is an existing file: --out is the run folder (checkpoints/, log.csv, "
                       "config.json); give a folder")
    if args.export is not None:
        export = guard.add_output("--export", args.export)
        if is_within(export, out / "checkpoints") or export in (out / "log.csv", out / "config.json"):
            raise CliError(f"--export {args.export} is inside the run folder's own files ({out}): the weights-only "
                           "copy would be taken for a checkpoint or replace the log; write it elsewhere, e.g. "
                           f"{out / 'ingan_weights.pt'}")
        if export.is_dir():
            raise CliError(f"--export {args.export} is an existing folder: give a file name, e.g. "
                           f"{export / 'ingan_weights.pt'}")


def _train_command(args) -> int:
    _train_files(args)
    if args.image is None and not args.resume:
        raise CliError("--image is required (the photo to learn), unless --resume continues a run")
    ckpt = None
    if args.resume:  # read once: its settings are the run's, and the trainer restores it
        ckpt = read_resume_checkpoint(args.resume, args.out)
        if ckpt is None:
            if args.image is None:
                raise CliError(f"--resume: there is no checkpoint in {args.out} to continue; give --image to start a "
                               "run")
            print(f"resume: no checkpoint in {args.out}: starting from iteration 0", flush=True)
    cfg = _train_config(args, ckpt)
    trainer = InGANTrainer(cfg, args.image, args.out, resume=ckpt if ckpt is not None else False)
    try:
        result = trainer.fit()
    except TrainingDiverged as err:  # the run diverged: the message names the last good checkpoint
        print(f"error: {err}", file=sys.stderr, flush=True)
        return 1
    last = result.history[-1] if result.history else {}
    print(f"done: iteration {result.iteration}, checkpoint {result.checkpoint}"
          + (f", loss_G {last['loss_G']:.4f}, loss_D {last['loss_D']:.4f}, {last['seconds']:.0f} s" if last else ""),
          flush=True)
    if args.export is not None:
        print(f"weights-only copy: {export_ingan(result.checkpoint, args.export)}", flush=True)
    return 0


def _retarget_photo(args) -> tuple[np.ndarray, InGAN | None]:
    """The photo to retarget (``H x W x 3`` in [0, 1]) and, for ``--method ingan``, the model."""
    if args.method == "ingan":
        if args.checkpoint is None:
            raise UsageError("--method ingan needs --checkpoint (a run folder or file of 'ingan train'); "
                             "or use --method gpnn --image PHOTO, which needs no training")
        if args.image is not None:
            raise UsageError("--image is for --method gpnn; --method ingan retargets its checkpoint's photo")
        model = InGAN.load(args.checkpoint, device=args.device)
        return model.image, model
    if args.homography is not None:
        raise UsageError("--homography works with --method ingan only; give --size for --method gpnn")
    if args.image is not None:
        photo = load_image(args.image)
        return (photo if args.image_size is None else prepare_image(photo, args.image_size)), None
    if args.checkpoint is not None:
        return InGAN.load(args.checkpoint, device="cpu").image, None
    raise UsageError("--method gpnn needs --image PHOTO (or --checkpoint, for its photo)")


def _retarget_files(args) -> None:
    """Refuse, before any work, an output (``--out``, ``--bicubic``) that is an input (``--image``, the
    ``--checkpoint`` file, or the checkpoint a run folder gives), the other output (by any name: symlinks,
    ``..``), or a file ending Pillow cannot write."""
    guard = FileGuard()
    guard.add_input("--image", args.image)
    if args.checkpoint is not None:
        guard.add_input("--checkpoint", args.checkpoint)
        if Path(args.checkpoint).is_dir():
            guard.add_inputs("--checkpoint", list_checkpoints(args.checkpoint))
    for option, path in (("--out", args.out), ("--bicubic", args.bicubic)):
        if path is None:
            continue
        guard.add_output(option, path)
        if Path(path).suffix.lower() not in _image_endings():
            raise CliError(f"{option} {path}: {Path(path).suffix or 'no ending'!r} is not an image file ending; "
                           f"give e.g. {Path(path).with_suffix('.png').name}")
        if Path(path).is_dir():
            raise CliError(f"{option} {path} is an existing folder: give an image file name, e.g. "
                           f"{Path(path) / 'retarget.png'}")


def _image_endings() -> set[str]:
    from PIL import Image

    return {ending.lower() for ending in Image.registered_extensions()}


def _retarget_command(args) -> int:
    if args.size is None and args.homography is None:
        raise UsageError("give --size HxW, --homography with 9 numbers, or both")
    _retarget_files(args)
    photo, model = _retarget_photo(args)
    input_size = tuple(photo.shape[:2])
    size = check_output_size(parse_size(args.size) if args.size else input_size, input_size, name="--size")
    homography = None if args.homography is None else as_homography(args.homography, "--homography")
    if model is not None:
        out = model.retarget(size, homography)
        name = "InGAN"
    else:
        device = pick_device(args.device)
        out = gpnn_retarget(photo, size, seed=args.seed, device=device)
        name = "GPNN"
    write_image(out, args.out)
    print(f"{input_size[0]}x{input_size[1]} -> {size[0]}x{size[1]}"
          + (" (homography)" if homography is not None else "") + f" ({name}): {args.out}", flush=True)
    base = bicubic_retarget(photo, size) if homography is None else bicubic_warp(photo, homography, size)
    if args.bicubic is not None:
        write_image(base, args.bicubic)
        print(f"bicubic: {args.bicubic}", flush=True)
    if args.patch_distance:
        short = min(min(input_size), min(size))
        levels = max(1, min(3, int(math.floor(math.log2(max(short, 7) / 7))) + 1))
        ours = patch_distance(photo, out, levels=levels)
        theirs = patch_distance(photo, base, levels=levels)
        print(f"patch distance to the input (SWD, 7x7, {levels} levels; lower = same DNA): {name} {ours.mean:.4f}, "
              f"bicubic {theirs.mean:.4f}", flush=True)
    if args.similarity:
        ours, theirs = bidirectional_similarity(out, photo), bidirectional_similarity(base, photo)
        print(f"coherence / completeness to the input (7x7 patches, lower = better): {name} {ours.coherence:.4f} / "
              f"{ours.completeness:.4f}, bicubic {theirs.coherence:.4f} / {theirs.completeness:.4f}", flush=True)
    return 0


def run(args) -> int:
    """Run ``python -m edgeconnect_lib ingan ...`` (``args`` from :func:`add_arguments`)."""
    if args.ingan_command == "train":
        return _train_command(args)
    return _retarget_command(args)
