"""Command line: ``python -m edgeconnect_lib ingan train|retarget`` (wired in ``__main__``); ``retarget --method
gpnn`` runs :func:`~edgeconnect_lib.ingan.gpnn.gpnn_retarget` on any photo, without training."""
from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from ..checkpoints import load_checkpoint, readable_checkpoint
from ..images import load_image
from ..utils import pick_device
from .config import INGAN_PRESETS, InGANConfig, check_output_size, get_ingan_config, parse_size
from .geometry import as_homography
from .gpnn import gpnn_retarget
from .inference import InGAN, bicubic_retarget, bicubic_warp
from .metrics import bidirectional_similarity, patch_distance
from .photo import prepare_image
from .trainer import InGANTrainer, export_ingan


def add_arguments(parser) -> None:
    """The ``ingan`` command group's options (``train`` and ``retarget``) on an ``argparse`` parser."""
    import argparse

    sub = parser.add_subparsers(dest="ingan_command", required=True, metavar="ACTION")
    t = sub.add_parser("train", help="train InGAN on one photo",
                       description="Train InGAN (Shocher et al. 2019) on one photo. Writes checkpoints/, log.csv and "
                                   "config.json under --out; --resume continues the run.")
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
                   help="any other InGANConfig field, e.g. --set lambda_identity=0")
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


def _config_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _write_png(image: np.ndarray, path: Path) -> Path:
    from PIL import Image

    from ..checkpoints import atomic_write

    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"--out {path}: {path.suffix!r} is not an image file extension; give e.g. out.png")
    im = Image.fromarray((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8))
    return atomic_write(path, lambda f: im.save(f, format=fmt))


def _train_command(args) -> int:
    overrides: dict[str, Any] = {}
    for item in args.overrides:
        if "=" not in item:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE, e.g. --set lambda_identity=0")
        key, text = item.split("=", 1)
        overrides[key.strip().replace("-", "_")] = _config_value(text)
    for name in ("iterations", "image_size", "seed", "device"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    if args.no_progress:
        overrides["progress"] = False
    base: dict[str, Any] | None = None
    if args.resume:
        if args.resume is True:
            ckpt, _ = readable_checkpoint(args.out)
        else:
            ckpt = load_checkpoint(args.resume)
        if ckpt is not None and args.preset is None:
            known = {f.name for f in fields(InGANConfig)}
            base = {k: v for k, v in ckpt.get("config", {}).items() if k in known}
    if base is not None:
        unknown = sorted(set(overrides) - set(base))
        if unknown:
            raise ValueError(f"unknown InGAN setting(s) {unknown}; known: {sorted(base)}")
        cfg = InGANConfig(**{**base, **overrides})
    else:
        cfg = get_ingan_config(args.preset or "cpu", **overrides)
    if args.image is None and not args.resume:
        raise ValueError("--image is required (the photo to learn), unless --resume continues a run")
    if args.image is None and args.resume is True and readable_checkpoint(args.out)[0] is None:
        raise ValueError(f"--resume: there is no checkpoint in {args.out} to continue; give --image to start a run")
    trainer = InGANTrainer(cfg, args.image, args.out, resume=args.resume)
    try:
        result = trainer.fit()
    except FloatingPointError as err:
        print(f"error: {err}", flush=True)
        return 1
    last = result.history[-1] if result.history else {}
    print(f"done: iteration {result.iteration}, checkpoint {result.checkpoint}"
          + (f", loss_G {last['loss_G']:.4f}, loss_D {last['loss_D']:.4f}, {last['seconds']:.0f} s" if last else ""),
          flush=True)
    if args.export is not None:
        print(f"weights-only copy: {export_ingan(result.checkpoint, args.export)}", flush=True)
    return 0


def _same_file(a: Path, b: Path) -> bool:
    """Whether paths ``a`` and ``b`` name one file (``b`` may not exist yet)."""
    try:
        return a.resolve() == b.resolve() or (b.exists() and a.exists() and a.samefile(b))
    except OSError:
        return False


def _retarget_photo(args) -> tuple[np.ndarray, InGAN | None]:
    """The photo to retarget (``H x W x 3`` in [0, 1]) and, for ``--method ingan``, the model."""
    if args.method == "ingan":
        if args.checkpoint is None:
            raise ValueError("--method ingan needs --checkpoint (a run folder or file of 'ingan train'); "
                             "or use --method gpnn --image PHOTO, which needs no training")
        if args.image is not None:
            raise ValueError("--image is for --method gpnn; --method ingan retargets its checkpoint's photo")
        model = InGAN.load(args.checkpoint, device=args.device)
        return model.image, model
    if args.homography is not None:
        raise ValueError("--homography works with --method ingan only; give --size for --method gpnn")
    if args.image is not None:
        photo = load_image(args.image)
        return (photo if args.image_size is None else prepare_image(photo, args.image_size)), None
    if args.checkpoint is not None:
        return InGAN.load(args.checkpoint, device="cpu").image, None
    raise ValueError("--method gpnn needs --image PHOTO (or --checkpoint, for its photo)")


def _refuse_overwriting_inputs(args) -> None:
    """An output (``--out``, ``--bicubic``) that names an input (``--image``, ``--checkpoint``) is refused."""
    for flag, out in (("--out", args.out), ("--bicubic", args.bicubic)):
        for what, given in (("the input photo (--image)", args.image), ("the --checkpoint", args.checkpoint)):
            if out is not None and given is not None and _same_file(Path(given), Path(out)):
                raise ValueError(f"{flag} {out} is {what}; give another file, e.g. {Path(out).stem}_retarget.png")


def _retarget_command(args) -> int:
    if args.size is None and args.homography is None:
        raise ValueError("give --size HxW, --homography with 9 numbers, or both")
    _refuse_overwriting_inputs(args)
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
    _write_png(out, args.out)
    print(f"{input_size[0]}x{input_size[1]} -> {size[0]}x{size[1]}"
          + (" (homography)" if homography is not None else "") + f" ({name}): {args.out}", flush=True)
    base = bicubic_retarget(photo, size) if homography is None else bicubic_warp(photo, homography, size)
    if args.bicubic is not None:
        _write_png(base, args.bicubic)
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
